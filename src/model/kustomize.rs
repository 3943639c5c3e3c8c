//! kustomize `kustomization.yaml` files and the paths they name.

use crate::diagnostic::FileId;
use crate::shared::Text;
use crate::yaml::{NodeId, NodeRef, Span};

use super::{FluxId, KustomizeId};

/// A path written in a kustomization or a Flux Kustomization.
#[derive(Debug, Clone)]
pub struct PathEntry {
    /// As written (a view of the file's text where it is written as is).
    pub text: Text,
    pub span: Span,
    /// Normalised path relative to the root; `None` for remote references and
    /// paths that leave the root. Packed (see `crate::shared`): there are
    /// many, and they live as long as the model.
    pub resolved: Option<Text>,
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

/// Whether a document is kustomize's own configuration (not a manifest),
/// given its `apiVersion`.
pub(super) fn is_kustomize_config(file_name: &str, doc: NodeRef, api: Option<&str>) -> bool {
    match api {
        Some(api) => api.starts_with("kustomize.config.k8s.io/"),
        None => FILE_NAMES.contains(&file_name) && doc.is_map(),
    }
}

fn is_remote(p: &str) -> bool {
    p.as_bytes().windows(3).any(|w| w == b"://")
        || p.starts_with("github.com/")
        || p.starts_with("git@")
}

/// Joins `rel` onto the directory `dir` (both relative to the root) and
/// removes `.` and `..`. `None` when the result would leave the root, or `rel`
/// is remote or absolute.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    if is_remote(rel) || rel.starts_with('/') {
        return None;
    }
    // Segments are never empty: the path is empty, or segments joined by '/'.
    let mut out = String::with_capacity(dir.len() + rel.len() + 1);
    let push = |out: &mut String, part: &str| {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(part);
    };
    let clean = |p: &str| {
        let b = p.as_bytes();
        b.first() != Some(&b'/') && b.last() != Some(&b'/') && !b.windows(2).any(|w| w == b"//")
    };
    // A directory without empty segments (the common case) is taken whole.
    if clean(dir) {
        out.push_str(dir);
    } else {
        for part in dir.split('/').filter(|p| !p.is_empty()) {
            push(&mut out, part);
        }
    }
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.is_empty() {
                    return None;
                }
                out.truncate(out.rfind('/').unwrap_or(0));
            }
            p => push(&mut out, p),
        }
    }
    Some(out)
}

pub fn path_entries(list: Option<NodeRef>, dir: &str) -> Vec<PathEntry> {
    let Some(list) = list else {
        return Vec::new();
    };
    list.items()
        .filter_map(|item| {
            let text = item.as_str()?;
            Some(PathEntry {
                text: item.text_view(text),
                span: item.span(),
                resolved: join(dir, text).map(|p| Text::pack(&p)),
            })
        })
        .collect()
}

pub fn parent_dir(path: &str) -> &str {
    memchr::memrchr(b'/', path.as_bytes()).map_or("", |i| &path[..i])
}

/// The last segment of a path.
pub(super) fn file_name(path: &str) -> &str {
    memchr::memrchr(b'/', path.as_bytes()).map_or(path, |i| &path[i + 1..])
}

// ---------------------------------------------------------------------------
// Where a build's includer names a component.

impl super::Repository {
    /// Where an includer names the component: its `components:` entry (or the
    /// entry naming a component that includes this one), else its name.
    pub fn includer_site(&self, by: Includer, comp_dir: &str) -> (FileId, Span, String) {
        let repo = self;
        match by {
            Includer::Flux(f) => {
                let fk = &repo.flux[f];
                let obj = &repo.objects[fk.object];
                let who = format!("Flux Kustomization `{}`", obj.name.as_deref().unwrap_or(""));
                let span = self
                    .find_entry(&fk.components, comp_dir)
                    .unwrap_or_else(|| {
                        let node = repo.object_node(fk.object);
                        node.path(&["metadata", "name"])
                            .map_or_else(|| repo.kind_span(fk.object), |n| n.span())
                    });
                (obj.file, span, who)
            }
            Includer::Kustomize(k) => {
                let kz = &repo.kustomizations[k];
                let node = repo.node(kz.file, kz.root);
                let span = self
                    .find_entry(&kz.components, comp_dir)
                    .or_else(|| node.key_span("components"))
                    .unwrap_or_else(|| node.span());
                (kz.file, span, "this kustomization".to_string())
            }
        }
    }

    fn find_entry(&self, entries: &[PathEntry], comp_dir: &str) -> Option<Span> {
        entries
            .iter()
            .find(|e| e.resolved.as_deref() == Some(comp_dir))
            .or_else(|| {
                entries.iter().find(|e| {
                    e.resolved
                        .as_deref()
                        .is_some_and(|d| self.includes(d, comp_dir, 0))
                })
            })
            .map(|e| e.span)
    }

    /// Whether the component in `dir` includes the component in `target`, at any depth.
    pub fn includes(&self, dir: &str, target: &str, depth: usize) -> bool {
        if depth > 16 {
            return false;
        }
        let Some(k) = self.kustomize_in(dir).filter(|k| k.component) else {
            return false;
        };
        k.components.iter().any(|c| {
            c.resolved
                .as_deref()
                .is_some_and(|d| d == target || self.includes(d, target, depth + 1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{file_name, join, parent_dir};

    #[test]
    fn parent_dirs_and_file_names() {
        assert_eq!(
            (parent_dir("a/b/c.yaml"), file_name("a/b/c.yaml")),
            ("a/b", "c.yaml")
        );
        assert_eq!((parent_dir("c.yaml"), file_name("c.yaml")), ("", "c.yaml"));
        assert_eq!((parent_dir("a/"), file_name("a/")), ("a", ""));
        assert_eq!((parent_dir(""), file_name("")), ("", ""));
    }

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
        assert_eq!(join("a//b/", "c/./d//e/..").as_deref(), Some("a/b/c/d"));
        assert_eq!(join("a", "..").as_deref(), Some(""));
        assert_eq!(join("", "x/../../y"), None);
        assert_eq!(join("a/b", "../../c").as_deref(), Some("c"));
    }
}
