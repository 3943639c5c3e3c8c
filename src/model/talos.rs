//! Talos Linux configuration found in the repository: full machine configs,
//! machine-config patches and talhelper `talconfig.yaml` files.

use crate::diagnostic::FileId;
use crate::source::SourceFile;
use crate::yaml::{NodeId, NodeRef, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalosSource {
    /// `version: v1alpha1` with `machine:`.
    MachineConfig,
    /// A strategic-merge patch: `machine:` or `cluster:` without `version`, or
    /// only multi-document Talos kinds.
    Patch,
    /// talhelper's `talconfig.yaml`.
    Talconfig,
}

#[derive(Debug)]
pub struct TalosConfig {
    pub file: FileId,
    pub source: TalosSource,
    /// The v1alpha1 (or talconfig) document; `None` for a file of multi-document kinds only.
    pub root: Option<NodeId>,
    /// The multi-document Talos kinds of the same file (`apiVersion: v1alpha1` + `kind`).
    pub documents: Vec<NodeId>,
}

/// Whether a document is one of Talos' multi-document kinds.
pub fn is_talos_document(doc: NodeRef) -> bool {
    doc.str_at(&["apiVersion"]) == Some("v1alpha1") && doc.str_at(&["kind"]).is_some()
}

/// `is_talos_document`, given the document's `apiVersion` and `kind`.
pub(super) fn is_talos_kind(api_version: Option<&str>, kind: Option<&str>) -> bool {
    api_version == Some("v1alpha1") && kind.is_some()
}

/// A document with its `apiVersion` and `kind`, read once.
#[derive(Clone, Copy)]
pub(super) struct Doc<'a> {
    pub node: NodeRef<'a>,
    pub api_version: Option<&'a str>,
    pub kind: Option<&'a str>,
}

/// talhelper requires `clusterName`, `endpoint` and `nodes` (other tools'
/// node lists, such as topf's, use other keys).
fn is_talconfig(doc: NodeRef) -> bool {
    doc.get("nodes").is_some_and(|n| n.is_seq())
        && doc.get("clusterName").is_some()
        && doc.get("endpoint").is_some()
}

fn is_machine_section(doc: NodeRef) -> bool {
    doc.get("apiVersion").is_none()
        && doc.get("kind").is_none()
        && (doc.get("machine").is_some_and(|m| m.is_map())
            || doc.get("cluster").is_some_and(|m| m.is_map()))
}

/// talhelper's variables (`talenv.yaml`, `talenv.sops.yaml`) and secrets
/// (`talsecret.yaml`) files: never a talconfig, whatever keys they hold.
fn talhelper_data(path: &str) -> bool {
    let name = super::kustomize::file_name(path);
    name.starts_with("talenv.") || name.starts_with("talsecret.")
}

/// The Talos configuration a file holds, given its documents.
pub(super) fn classify_docs(
    file: FileId,
    source: &SourceFile,
    docs: &[Doc],
) -> Option<TalosConfig> {
    if talhelper_data(&source.path) {
        return None;
    }
    let mut root = None;
    let mut kind = None;
    let mut documents = Vec::new();
    for d in docs {
        let doc = d.node;
        if is_talos_kind(d.api_version, d.kind) {
            documents.push(doc.id());
        } else if root.is_none() && is_talconfig(doc) {
            root = Some(doc.id());
            kind = Some(TalosSource::Talconfig);
        } else if root.is_none()
            // A string apiVersion or kind is there: no machine section.
            && d.api_version.is_none()
            && d.kind.is_none()
            && is_machine_section(doc)
        {
            root = Some(doc.id());
            kind = Some(
                if doc.str_at(&["version"]) == Some("v1alpha1") && doc.get("machine").is_some() {
                    TalosSource::MachineConfig
                } else {
                    TalosSource::Patch
                },
            );
        }
    }
    let source = match kind {
        Some(k) => k,
        None if !documents.is_empty() => TalosSource::Patch,
        None => return None,
    };
    Some(TalosConfig {
        file,
        source,
        root,
        documents,
    })
}

// ---------------------------------------------------------------------------
// talhelper's effective node configuration.

/// One node of a talhelper `talconfig.yaml` (`nodes:` items with `hostname`,
/// other tools' node lists left out), with what talhelper applies to it.
pub struct TalhelperNode<'r> {
    pub config: &'r TalosConfig,
    pub node: NodeRef<'r>,
    pub hostname_key: NodeRef<'r>,
    pub hostname: NodeRef<'r>,
    /// `controlPlane:` as written.
    pub control_plane: Option<(NodeRef<'r>, NodeRef<'r>)>,
    /// `controlPlane` absent, `false` or empty.
    pub worker: bool,
    /// `talosVersion` is 1.12 or later: talhelper writes multi-document configs.
    pub multidoc: bool,
    /// `networkInterfaces` (key, list): the node's own when not empty, else
    /// its role group's (`worker:`/`controlPlane:`).
    pub interfaces: Option<(NodeRef<'r>, NodeRef<'r>)>,
    /// The patches talhelper applies, in order: global, the role group's
    /// (unless the node sets `overridePatches`), the node's own.
    pub patches: Vec<TalhelperPatch<'r>>,
}

/// One entry of a talhelper `patches:` list.
pub enum TalhelperPatch<'r> {
    /// `@path`, found: the file it names.
    File { entry: NodeRef<'r>, file: FileId },
    /// `@path` that names no file, relative to the talconfig's directory or
    /// to the repository root (`path` as resolved against the talconfig's
    /// directory).
    Missing { entry: NodeRef<'r>, path: String },
    /// An inline patch: YAML in a string.
    Inline { entry: NodeRef<'r>, text: &'r str },
    /// What cannot be read here: a templated path, a value that is not a
    /// string, or a `patches:` that is not a sequence.
    Unknown { at: NodeRef<'r> },
}

/// `v1.12.6` -> (1, 12).
pub fn talos_minor(v: &str) -> Option<(u32, u32)> {
    let v = v.trim().trim_start_matches('v');
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((major, minor))
}

/// A value that a template or substitution fills in later.
pub fn templated(s: &str) -> bool {
    s.contains("${") || s.contains("{{")
}

impl super::Repository {
    /// Every talhelper node of every `talconfig.yaml`, in file order.
    pub fn talhelper_nodes(&self) -> Vec<TalhelperNode<'_>> {
        let mut out = Vec::new();
        for t in self
            .talos
            .iter()
            .filter(|t| t.source == TalosSource::Talconfig)
        {
            let Some(root) = t.root else { continue };
            let doc = self.node(t.file, root);
            let Some(nodes) = doc.get("nodes") else {
                continue;
            };
            let dir = super::parent_dir(&self.files[t.file].path);
            let multidoc = doc
                .str_at(&["talosVersion"])
                .and_then(talos_minor)
                .is_some_and(|(major, minor)| major > 1 || (major == 1 && minor >= 12));
            for node in nodes.items() {
                // talhelper requires `hostname`; other tools' `nodes:` lists
                // (topf's `host`/`role`) are not talhelper nodes.
                let Some((hostname_key, hostname)) = node.entry("hostname") else {
                    continue;
                };
                if node.get("role").is_some() {
                    continue;
                }
                let control_plane = node.entry("controlPlane");
                let worker = match control_plane {
                    None => true,
                    Some((_, v)) => v.as_bool() == Some(false) || v.is_null(),
                };
                let group = doc.get(if worker { "worker" } else { "controlPlane" });
                let own = node
                    .entry("networkInterfaces")
                    .filter(|(_, v)| v.items().next().is_some());
                let interfaces = own.or_else(|| group.and_then(|g| g.entry("networkInterfaces")));
                let override_group =
                    node.get("overridePatches").and_then(|v| v.as_bool()) == Some(true);
                let lists = [
                    doc.get("patches"),
                    group
                        .and_then(|g| g.get("patches"))
                        .filter(|_| !override_group),
                    node.get("patches"),
                ];
                let mut patches = Vec::new();
                for list in lists.into_iter().flatten() {
                    if !list.is_seq() {
                        patches.push(TalhelperPatch::Unknown { at: list });
                        continue;
                    }
                    for entry in list.items() {
                        if let Some(p) = self.talhelper_patch(dir, entry) {
                            patches.push(p);
                        }
                    }
                }
                out.push(TalhelperNode {
                    config: t,
                    node,
                    hostname_key,
                    hostname,
                    control_plane,
                    worker,
                    multidoc,
                    interfaces,
                    patches,
                });
            }
        }
        out
    }

    fn talhelper_patch<'r>(&'r self, dir: &str, entry: NodeRef<'r>) -> Option<TalhelperPatch<'r>> {
        let Some(text) = entry.as_str() else {
            // talhelper reads only strings here; an empty entry is nothing.
            return (!entry.is_null()).then_some(TalhelperPatch::Unknown { at: entry });
        };
        let Some(rel) = text.trim().strip_prefix('@') else {
            return Some(TalhelperPatch::Inline { entry, text });
        };
        if templated(rel) {
            return Some(TalhelperPatch::Unknown { at: entry });
        }
        let Some(path) = super::join(dir, rel) else {
            return Some(TalhelperPatch::Unknown { at: entry });
        };
        // talhelper resolves the path from where it runs: the talconfig's
        // directory as a rule, the repository root for some.
        for p in [Some(path.clone()), super::join("", rel)]
            .into_iter()
            .flatten()
        {
            if let Some(file) = self.file_id(&p) {
                return Some(TalhelperPatch::File { entry, file });
            }
            if self.root.join(&p).exists() {
                return Some(TalhelperPatch::Unknown { at: entry });
            }
        }
        Some(TalhelperPatch::Missing { entry, path })
    }
}

/// For a literal block scalar (`|`, `|-`, `|+`) at `span` of `source`, the
/// byte offset in the file of each line of its value `value`: (offset in the
/// value, offset in the file). `None` when the value cannot be found line by
/// line in the file (folded or quoted strings).
pub fn inline_lines(source: &str, span: Span, value: &str) -> Option<Vec<(usize, usize)>> {
    let start = span.start as usize;
    let rest = source.get(start..)?;
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let mut file_at = if rest.starts_with('|') {
        start + rest.find('\n')? + 1
    } else if source[line_start..start].bytes().all(|b| b == b' ') {
        // The span starts at the content, on its first line.
        line_start
    } else {
        return None;
    };
    let mut out = Vec::new();
    let mut value_at = 0;
    let mut indent = None;
    for line in value.split_inclusive('\n') {
        let content = line.trim_end_matches('\n');
        let file_line_end = source[file_at..]
            .find('\n')
            .map_or(source.len(), |i| file_at + i);
        let file_line = &source[file_at..file_line_end];
        if content.is_empty() {
            out.push((value_at, file_at));
        } else {
            let ind = *indent
                .get_or_insert_with(|| file_line.len() - file_line.trim_start_matches(' ').len());
            if file_line.get(ind..)? != content {
                return None;
            }
            out.push((value_at, file_at + ind));
        }
        value_at += line.len();
        file_at = (file_line_end + 1).min(source.len());
    }
    Some(out)
}

/// A span of a value parsed from a block scalar, mapped into the file with
/// the lines of [`inline_lines`].
pub fn map_inline(lines: &[(usize, usize)], s: Span) -> Option<Span> {
    let (start, end) = (s.start as usize, s.end as usize);
    let i = lines.partition_point(|&(v, _)| v <= start).checked_sub(1)?;
    let (v, f) = lines[i];
    // Spans inside one line map whole; longer ones keep their start.
    let len = end - start;
    let line_len = lines.get(i + 1).map_or(usize::MAX, |&(nv, _)| nv - v);
    let len = if start - v + len <= line_len { len } else { 0 };
    Some(Span::new(f + start - v, f + start - v + len))
}
