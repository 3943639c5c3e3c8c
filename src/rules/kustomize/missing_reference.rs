use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::OnceCell;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Kustomize, Repository, closest, join, parent_dir};
use crate::rules::Rule;
use crate::yaml::NodeRef;

pub static RULE: Rule = Rule {
    id: "kustomize/missing-reference",
    severity: Severity::Error,
    enabled: true,
    summary: "a kustomization's `resources`, `components` or patch path names no file or directory, or a directory without a kustomization file",
    page: include_str!("../../../lints/kustomize/missing-reference.md"),
    check: Some(check),
};

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// A manifest or a directory with a kustomization (`resources`).
    Resource,
    /// A directory with a kustomization (`components`).
    Directory,
    /// A file (patches, replacements).
    File,
}

fn check(repo: &Repository, out: &mut Vec<Diagnostic>) {
    let index = PathIndex::new(repo);
    for k in repo.kustomizations.iter().filter(|k| repo.wants(k.file)) {
        let doc = repo.node(k.file, k.root);
        for list in ["resources", "bases"] {
            for item in doc.get(list).into_iter().flat_map(|l| l.items()) {
                check_entry(repo, &index, k, item, list, Want::Resource, out);
            }
        }
        for item in doc.get("components").into_iter().flat_map(|l| l.items()) {
            check_entry(repo, &index, k, item, "components", Want::Directory, out);
        }
        for list in ["patches", "patchesJson6902", "replacements"] {
            for item in doc.get(list).into_iter().flat_map(|l| l.items()) {
                if let Some(path) = item.get("path") {
                    check_entry(repo, &index, k, path, list, Want::File, out);
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
                    out,
                );
            }
        }
    }
}

fn check_entry(
    repo: &Repository,
    index: &PathIndex,
    k: &Kustomize,
    item: NodeRef,
    list: &str,
    want: Want,
    out: &mut Vec<Diagnostic>,
) {
    let Some(text) = item.as_str() else { return };
    let text = text.trim();
    // Templated (Flux Operator inputs, Go templates, variables) or remote: not ours to read.
    if text.is_empty()
        || text.contains("${")
        || text.contains("{{")
        || text.contains("<<")
        || is_remote(text)
    {
        return;
    }
    let Some(target) = join(&k.dir, text) else {
        out.push(
            Diagnostic::new(
                RULE.id,
                Severity::Error,
                k.file,
                item.span(),
                format!("`{text}` points outside the repository; not read: Flux builds from the repository's own files, so the build cannot find it"),
            )
            .help("keep what the kustomization builds inside the repository and reference it with a relative path"),
        );
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
    out.push(Diagnostic::new(RULE.id, Severity::Error, k.file, item.span(), message).help(help));
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

/// `target` written relative to `from_dir`, in the style of `written`
/// (a leading `./` is kept).
pub(crate) fn relative(from_dir: &str, target: &str, written: &str) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|s| !s.is_empty()).collect();
    let to: Vec<&str> = target.split('/').filter(|s| !s.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    let joined = parts.join("/");
    if written.starts_with("./") && !joined.starts_with("..") {
        format!("./{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// Files and directories of the repository, and (built on first use) the
/// indexes that find the path a missing one was probably meant to be.
pub(crate) struct PathIndex<'r> {
    repo: &'r Repository,
    /// Every directory that holds a file (and its ancestors), sorted; built on first use.
    dirs: OnceCell<Vec<&'r str>>,
    suggest: OnceCell<Suggest>,
}

#[derive(Default)]
struct Suggest {
    /// Parent directory -> paths directly in it.
    children: HashMap<String, Vec<String>>,
    /// Path with one segment replaced by `\0` -> paths.
    wild: HashMap<String, Vec<String>>,
    /// Path with one (not the last) segment removed -> paths.
    shorter: HashMap<String, Vec<String>>,
}

impl<'r> PathIndex<'r> {
    pub(crate) fn new(repo: &'r Repository) -> Self {
        PathIndex {
            repo,
            dirs: OnceCell::new(),
            suggest: OnceCell::new(),
        }
    }

    fn dirs(&self) -> &[&'r str] {
        self.dirs.get_or_init(|| {
            let mut dirs: HashSet<&str> = HashSet::default();
            for f in &self.repo.files {
                let mut d = parent_dir(&f.path);
                while !d.is_empty() && dirs.insert(d) {
                    d = parent_dir(d);
                }
            }
            let mut dirs: Vec<&str> = dirs.into_iter().collect();
            dirs.sort();
            dirs
        })
    }

    pub(crate) fn is_file(&self, path: &str) -> bool {
        self.repo.file_id(path).is_some()
    }

    pub(crate) fn has_kustomization(&self, dir: &str) -> bool {
        let mut p = String::with_capacity(dir.len() + 20);
        KUSTOMIZATION_FILES.iter().any(|f| {
            p.clear();
            if !dir.is_empty() {
                p.push_str(dir);
                p.push('/');
            }
            p.push_str(f);
            self.is_file(&p)
        })
    }

    fn index(&self) -> &Suggest {
        self.suggest.get_or_init(|| {
            let mut s = Suggest::default();
            let mut all: Vec<&str> = self.repo.files.iter().map(|f| f.path.as_str()).collect();
            all.sort_unstable();
            all.dedup();
            all.extend(self.dirs().iter().copied());
            all.sort_unstable();
            for p in all {
                s.children
                    .entry(parent_dir(p).to_string())
                    .or_default()
                    .push(p.to_string());
                let segs: Vec<&str> = p.split('/').collect();
                for i in 0..segs.len() {
                    let mut w = segs.clone();
                    w[i] = "\0";
                    s.wild.entry(w.join("/")).or_default().push(p.to_string());
                    if i + 1 < segs.len() {
                        let mut d = segs.clone();
                        d.remove(i);
                        s.shorter
                            .entry(d.join("/"))
                            .or_default()
                            .push(p.to_string());
                    }
                }
            }
            s
        })
    }

    /// The path `wanted` (which does not exist) was probably meant to be,
    /// among the paths `fits` accepts: a near name beside it, a near name one
    /// directory up the path, one directory too many or too few, or (when
    /// there is only one) the same path through another directory.
    pub(crate) fn suggest(&self, wanted: &str, fits: impl Fn(&str) -> bool) -> Option<String> {
        let s = self.index();
        let segs: Vec<&str> = wanted.split('/').collect();
        let n = segs.len();
        let siblings = s.children.get(parent_dir(wanted)).into_iter().flatten();
        if let Some(c) = closest(wanted, siblings.map(String::as_str).filter(|p| fits(p))) {
            return Some(c.to_string());
        }
        let mut near: Option<(usize, &str)> = None;
        let mut far: Vec<&str> = Vec::new();
        for i in 0..n {
            let mut w = segs.clone();
            w[i] = "\0";
            for c in s.wild.get(&w.join("/")).into_iter().flatten() {
                if c == wanted || !fits(c) {
                    continue;
                }
                let other = c.split('/').nth(i).unwrap_or("");
                if closest(segs[i], [other]).is_some() {
                    let d = strsim::levenshtein(segs[i], other);
                    if near.is_none_or(|(bd, _)| d < bd) {
                        near = Some((d, c));
                    }
                } else if i + 1 < n {
                    far.push(c);
                }
            }
        }
        if let Some((_, c)) = near {
            return Some(c.to_string());
        }
        for i in 0..n.saturating_sub(1) {
            let mut d = segs.clone();
            d.remove(i);
            let c = d.join("/");
            if (self.is_file(&c) || self.dirs().binary_search(&c.as_str()).is_ok()) && fits(&c) {
                return Some(c);
            }
        }
        if let Some(c) = s
            .shorter
            .get(wanted)
            .into_iter()
            .flatten()
            .find(|c| fits(c))
        {
            return Some(c.clone());
        }
        far.sort_unstable();
        far.dedup();
        match far[..] {
            [only] => Some(only.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_remote, relative};

    #[test]
    fn relative_paths_keep_the_written_style() {
        assert_eq!(relative("a/b", "a/b/c.yaml", "./x.yaml"), "./c.yaml");
        assert_eq!(relative("a/b", "a/b/c.yaml", "x.yaml"), "c.yaml");
        assert_eq!(relative("a/b", "a/c/d", "./x"), "../c/d");
        assert_eq!(relative("", "a", "./x"), "./a");
    }

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
}
