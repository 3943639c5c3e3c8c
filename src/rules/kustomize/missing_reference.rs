use crate::diagnostic::Severity;
use crate::model::{Kustomize, PathIndex, Repository, join, relative};
use crate::rules::{Ctx, Rule};
use crate::yaml::NodeRef;

pub static RULE: Rule = Rule {
    id: "kustomize/missing-reference",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "a kustomization's `resources`, `components` or patch path names no file or directory, or a directory without a kustomization file",
    page: include_str!("../../../lints/kustomize/missing-reference.md"),
    check: Some(check),
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// A manifest or a directory with a kustomization (`resources`).
    Resource,
    /// A directory with a kustomization (`components`).
    Directory,
    /// A file (patches, replacements).
    File,
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    let index = PathIndex::new(repo);
    for k in repo.kustomizations.iter().filter(|k| repo.wants(k.file)) {
        let doc = repo.node(k.file, k.root);
        for list in ["resources", "bases"] {
            for item in doc.get(list).into_iter().flat_map(|l| l.items()) {
                check_entry(repo, &index, k, item, list, Want::Resource, ctx);
            }
        }
        for item in doc.get("components").into_iter().flat_map(|l| l.items()) {
            check_entry(repo, &index, k, item, "components", Want::Directory, ctx);
        }
        for list in ["patches", "patchesJson6902", "replacements"] {
            for item in doc.get(list).into_iter().flat_map(|l| l.items()) {
                if let Some(path) = item.get("path") {
                    check_entry(repo, &index, k, path, list, Want::File, ctx);
                }
            }
        }
        for item in doc
            .get("patchesStrategicMerge")
            .into_iter()
            .flat_map(|l| l.items())
        {
            // Entries may also be inline patches.
            if item
                .as_str()
                .is_some_and(|s| !s.contains('\n') && !s.contains(": "))
            {
                check_entry(
                    repo,
                    &index,
                    k,
                    item,
                    "patchesStrategicMerge",
                    Want::File,
                    ctx,
                );
            }
        }
    }
}

/// Whether a path holds `${`, `{{` or `<<` (one scan for the three).
fn templated(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr3_iter(b'$', b'{', b'<', b).any(|i| {
        matches!(
            (b[i], b.get(i + 1)),
            (b'$', Some(b'{')) | (b'{', Some(b'{')) | (b'<', Some(b'<'))
        )
    })
}

fn check_entry(
    repo: &Repository,
    index: &PathIndex,
    k: &Kustomize,
    item: NodeRef,
    list: &str,
    want: Want,
    ctx: &mut Ctx,
) {
    let Some(text) = item.as_str() else { return };
    let text = text.trim();
    // Templated (Flux Operator inputs, Go templates, variables) or remote: not ours to read.
    if text.is_empty() || templated(text) || is_remote(text) {
        return;
    }
    let Some(target) = join(&k.dir, text) else {
        ctx.report(k.file,
                item.span(),
                format!("`{text}` points outside the repository; not read: Flux builds from the repository's own files, so the build cannot find it"),
            )
            .help("keep what the kustomization builds inside the repository and reference it with a relative path");
        return;
    };
    let problem = if index.is_file(&target) {
        match want {
            Want::Directory => Some(format!(
                "`{text}` in `{list}` is a file, but a component is a directory with a kustomization.yaml (`kind: Component`)"
            )),
            _ => None,
        }
    } else if repo.is_dir(&target) {
        match want {
            Want::File => Some(format!(
                "`{text}` in `{list}` is a directory, but kustomize reads a file there"
            )),
            _ if index.has_kustomization(&target) => None,
            _ => Some(format!(
                "`{text}` in `{list}` is a directory without a kustomization.yaml: kustomize cannot build it (\"unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization'\")"
            )),
        }
    } else if !could_be_seen(&target) {
        // Only YAML files are read: a `.json` resource may well exist.
        None
    } else {
        Some(format!(
            "`{text}` in `{list}` names no file or directory: the kustomize build fails (\"no such file or directory\"), and with it every Flux Kustomization that builds this directory"
        ))
    };
    let Some(message) = problem else { return };
    let want_dir = match want {
        Want::Directory => true,
        Want::File => false,
        Want::Resource => !looks_like_file(&target),
    };
    let suggestion = index.suggest(&target, |p| {
        if want_dir {
            index.has_kustomization(p)
        } else {
            index.is_file(p)
        }
    });
    let help = match suggestion {
        Some(s) => format!("did you mean `{}`?", relative(&k.dir, &s, text)),
        None if repo.is_dir(&target) && want != Want::File => {
            "add a kustomization.yaml that lists the directory's manifests, or list the manifest files themselves".to_string()
        }
        None => "fix the path, or remove the entry".to_string(),
    };
    ctx.report(k.file, item.span(), message).help(help);
}

fn is_remote(p: &str) -> bool {
    if p.contains("://") || p.starts_with("git@") || p.contains("?ref=") || p.contains("?version=")
    {
        return true;
    }
    // `github.com/org/repo//path`, `gitlab.com/...`: a host name as the first segment.
    let first = p.split('/').next().unwrap_or("");
    p.contains('/')
        && first.contains('.')
        && first != "."
        && first != ".."
        && first
            .rsplit('.')
            .next()
            .is_some_and(|tld| ["com", "org", "io", "net", "dev"].contains(&tld))
}

fn extension(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|_| !name.starts_with('.'))
}

fn looks_like_file(path: &str) -> bool {
    matches!(extension(path), Some("yaml" | "yml" | "json"))
}

/// Whether the model would hold this path if it existed: YAML files and
/// directories. Other files (`.json`, templates) are not read.
fn could_be_seen(path: &str) -> bool {
    match extension(path) {
        None => true,
        Some(e) => matches!(e, "yaml" | "yml"),
    }
}

#[cfg(test)]
mod tests {
    use super::is_remote;

    #[test]
    fn remote_references() {
        assert!(is_remote("https://github.com/x/y"));
        assert!(is_remote(
            "github.com/kubernetes-sigs/kustomize/examples?ref=v1"
        ));
        assert!(is_remote("gitlab.com/org/repo//deploy"));
        assert!(!is_remote("./app.yaml"));
        assert!(!is_remote("../common/config.yaml"));
        assert!(!is_remote("foo.bar/kustomization"));
    }

    #[test]
    fn templated_paths_are_told_by_their_markers() {
        for text in [
            "${CLUSTER}/apps",
            "apps/{{ .name }}",
            "<< inputs.path >>",
            "a/$${X}",
            "x{{",
        ] {
            assert!(super::templated(text), "{text}");
        }
        for text in [
            "apps/a", "a$b", "{a}", "<a", "$", "a{", "<", "$ {", "{ {", "< <",
        ] {
            assert!(!super::templated(text), "{text}");
        }
    }
}
