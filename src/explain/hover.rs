//! The short form of an explanation, for an editor's hover on an object's
//! `kind` or `metadata.name`.

use std::fmt::Write;

use super::{Ctx, label, object_report};
use crate::diagnostic::FileId;
use crate::model::Repository;

/// Markdown for the object whose `kind` or `metadata.name` value holds the
/// byte `offset` of `file`: what deploys it, under which name and namespace,
/// in which cluster, with which variables (those its text reads). `None`
/// when no such value is there.
pub fn hover(repo: &Repository, file: FileId, offset: u32) -> Option<String> {
    let object = repo.objects_in(file).find(|&o| {
        let node = repo.object_node(o);
        [node.get("kind"), node.path(&["metadata", "name"])]
            .into_iter()
            .flatten()
            .any(|n| n.span().start <= offset && offset <= n.span().end)
    })?;
    let ctx = Ctx {
        repo,
        dependencies: std::cell::OnceCell::new(),
    };
    let report = object_report(&ctx, object);
    let mut out = format!(
        "**{}** `{}`\n",
        report.kind,
        label(report.namespace.as_deref(), report.name.as_deref())
    );
    if !report.deployed {
        let why = repo
            .why_not_deployed(file)
            .map(|w| super::reason(repo, w, &mut Vec::new()).message)
            .unwrap_or_else(|| "no build of a sync root produces it".into());
        let _ = write!(out, "\nNot deployed: {why}\n");
    }
    for b in &report.builds {
        out.push('\n');
        match &b.flux {
            Some(f) => {
                let _ = write!(
                    out,
                    "Deployed by Flux Kustomization `{}` ({}:{})",
                    label(f.namespace.as_deref(), f.name.as_deref()),
                    f.path,
                    f.line
                );
            }
            None => out.push_str("Built by kustomize alone"),
        }
        if let Some(c) = &b.cluster {
            let _ = write!(
                out,
                ", cluster `{}`",
                label(c.namespace.as_deref(), c.name.as_deref())
            );
        }
        if !b.applied {
            out.push_str(" (not applied)");
        }
        out.push_str("\n\n");
        let _ = writeln!(
            out,
            "- name: `{}`",
            b.name.as_deref().unwrap_or("(unknown)")
        );
        let _ = writeln!(
            out,
            "- namespace: `{}`",
            b.namespace.as_deref().unwrap_or("(none)")
        );
        for v in b.variables.iter().filter(|v| v.used) {
            let value = v
                .value
                .as_deref()
                .map_or_else(|| "unknown".to_string(), |v| format!("`{v}`"));
            let from = v.from.as_deref().map_or(String::new(), |f| format!(" {f}"));
            let _ = writeln!(out, "- `${{{}}}` = {value} ({}{from})", v.name, v.source);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::hover;
    use crate::model::{ModelSettings, Repository};
    use crate::source::SourceFile;

    fn repo(files: &[(&str, &str)]) -> Repository {
        let mut files: Vec<SourceFile> = files
            .iter()
            .map(|(p, t)| SourceFile::from_bytes(p.to_string(), t.as_bytes().to_vec()))
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Repository::new("/repo".into(), files, &ModelSettings::default())
    }

    const ROOT: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./cluster\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
    const APPS: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./apps\n  targetNamespace: web\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  postBuild:\n    substitute:\n      DOMAIN: example.org\n      UNUSED: x\n";
    const CM: &str =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site\ndata:\n  host: www.${DOMAIN}\n";

    fn sample() -> Repository {
        repo(&[
            ("cluster/flux-system/ks.yaml", ROOT),
            ("cluster/apps.yaml", APPS),
            ("apps/cm.yaml", CM),
            (
                "old/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
            ),
            ("old/cm.yaml", CM),
        ])
    }

    #[test]
    fn on_the_name_it_says_who_deploys_and_with_what() {
        let r = sample();
        let file = r.file_id("apps/cm.yaml").unwrap();
        let offset = CM.find("site").unwrap() as u32 + 1;
        let text = hover(&r, file, offset).expect("a hover on the name");
        assert!(text.starts_with("**ConfigMap** `site`"), "{text}");
        assert!(
            text.contains("Flux Kustomization `flux-system/apps` (cluster/apps.yaml:2)"),
            "{text}"
        );
        assert!(text.contains("cluster `flux-system/flux-system`"), "{text}");
        assert!(text.contains("- namespace: `web`"), "{text}");
        assert!(
            text.contains("- `${DOMAIN}` = `example.org` (substitute)"),
            "{text}"
        );
        // Only the variables the object reads.
        assert!(!text.contains("UNUSED"), "{text}");
        // On `kind` too, and nowhere else.
        let kind = CM.find("ConfigMap").unwrap() as u32;
        assert_eq!(hover(&r, file, kind).as_deref(), Some(text.as_str()));
        assert_eq!(hover(&r, file, CM.find("host").unwrap() as u32), None);
    }

    #[test]
    fn on_a_file_nothing_deploys_it_says_why() {
        let r = sample();
        let file = r.file_id("old/cm.yaml").unwrap();
        let text = hover(&r, file, CM.find("site").unwrap() as u32).unwrap();
        assert!(text.contains("Not deployed:"), "{text}");
    }
}
