//! kustomize `kustomization.yaml` files and the paths they name.

use crate::diagnostic::FileId;
use crate::yaml::{NodeId, NodeRef, Span};

use super::{FluxId, KustomizeId};

/// A path written in a kustomization or a Flux Kustomization.
#[derive(Debug, Clone)]
pub struct PathEntry {
    pub text: String,
    pub span: Span,
    /// Normalised path relative to the root; `None` for remote references and
    /// paths that leave the root.
    pub resolved: Option<String>,
}

/// A kustomize `Kustomization` or `Component` file.
#[derive(Debug)]
pub struct Kustomize {
    pub file: FileId,
    pub root: NodeId,
    pub dir: String,
    pub component: bool,
    pub namespace: Option<String>,
    pub resources: Vec<PathEntry>,
    pub components: Vec<PathEntry>,
}

/// Who included a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Includer {
    Kustomize(KustomizeId),
    Flux(FluxId),
}

pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether a document is kustomize's own configuration (not a manifest).
pub fn is_kustomize_config(file_name: &str, doc: NodeRef) -> bool {
    match doc.str_at(&["apiVersion"]) {
        Some(api) => api.starts_with("kustomize.config.k8s.io/"),
        None => FILE_NAMES.contains(&file_name) && doc.is_map(),
    }
}

fn is_remote(p: &str) -> bool {
    p.contains("://") || p.starts_with("github.com/") || p.starts_with("git@")
}

/// Joins `rel` onto the directory `dir` (both relative to the root) and
/// removes `.` and `..`. `None` when the result would leave the root, or `rel`
/// is remote or absolute.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    if is_remote(rel) || rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

pub fn path_entries(list: Option<NodeRef>, dir: &str) -> Vec<PathEntry> {
    let Some(list) = list else {
        return Vec::new();
    };
    list.items()
        .filter_map(|item| {
            let text = item.as_str()?;
            Some(PathEntry {
                text: text.to_string(),
                span: item.span(),
                resolved: join(dir, text),
            })
        })
        .collect()
}

pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn joins_and_stays_inside_the_root() {
        assert_eq!(join("a/b", "../c").as_deref(), Some("a/c"));
        assert_eq!(join("a", "./x.yaml").as_deref(), Some("a/x.yaml"));
        assert_eq!(
            join("", "./kubernetes/apps").as_deref(),
            Some("kubernetes/apps")
        );
        assert_eq!(join("a", "../../etc/passwd"), None);
        assert_eq!(join("a", "/etc/passwd"), None);
        assert_eq!(join("a", "https://github.com/x/y"), None);
    }
}
