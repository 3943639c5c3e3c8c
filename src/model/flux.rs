//! The effective spec of what a Flux Kustomization applies: the `spec.patches`
//! it carries (as written, or as the `spec.patches` of the Flux Kustomization
//! that builds it rewrite them) and what they write into each object.
//!
//! Flux applies `spec.patches` to every object the build produces, selected by
//! `target` (group, version, kind, name and namespace as anchored regular
//! expressions, label and annotation selectors), or, without a target, by the
//! patch's own kind and name. A strategic-merge patch of a custom resource is
//! a JSON merge patch: maps merge, lists and scalars are replaced. A JSON 6902
//! patch is a list of operations on JSON pointers (api-facts: Flux, kustomize).

use crate::diagnostic::FileId;
use crate::yaml::{NodeId, NodeRef, Yaml};

use super::{FluxId, Instance, Object, Repository};

/// Where a node lives: in a file of the repository, or in a patch the model
/// parsed from a `patch: |` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    File(FileId),
    Patch(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub doc: Doc,
    pub node: NodeId,
}

/// One entry of the `spec.patches` a Flux Kustomization applies.
#[derive(Debug, Clone)]
pub struct FluxPatch {
    /// The entry itself (`patch`, `target`).
    pub entry: At,
    /// The parsed patch (a mapping for strategic merge, a list for JSON 6902);
    /// `None` when it cannot be read.
    pub body: Option<At>,
    /// Whether this entry is certainly in the list the controller applies
    /// (false when a parent's patch that may not select it wrote the list).
    pub sure: bool,
}

/// Whether a patch selects an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selects {
    Yes,
    No,
    /// A regular expression or selector the model does not evaluate.
    Maybe,
}

/// What one patch (or the object itself) writes at a path.
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    /// The value at the path.
    Node(NodeRef<'a>),
    /// One key of the mapping at the path (`add /spec/postBuild/substitute/KEY`).
    Key(&'a str, NodeRef<'a>),
    /// One item appended to the list at the path (`add /spec/.../-`).
    Item(NodeRef<'a>),
    /// The path is removed.
    Remove,
    /// Something that cannot be followed here changes the path.
    Unknown,
}

/// The effective value at a path after every patch.
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    Absent,
    /// The value as written in the object itself.
    Own(NodeRef<'a>),
    /// A patch sets it (to this value when one node holds it).
    Patched(Option<NodeRef<'a>>),
    /// A patch may or may not set it.
    Unknown,
}

impl Field<'_> {
    /// The field is (or may be) there: nothing to report as missing.
    pub fn may_be_present(&self) -> bool {
        !matches!(self, Field::Absent)
    }
}

impl Repository {
    /// A node wherever it lives.
    pub fn at(&self, at: At) -> NodeRef<'_> {
        match at.doc {
            Doc::File(f) => self.files[f].yaml.node(at.node),
            Doc::Patch(p) => self.patch_docs[p as usize].node(at.node),
        }
    }

    /// The `spec.patches` Flux Kustomization `f` applies to what it builds.
    pub fn flux_patches(&self, f: FluxId) -> &[FluxPatch] {
        self.flux_patches.get(f).map_or(&[][..], |v| &v[..])
    }

    /// Every write to `path` of an object as the build of `inst` applies it,
    /// in order: the value written in the object first, then each patch of
    /// the Flux Kustomization that applies it (and of the ones above it, for
    /// patches that rewrite patches).
    pub fn writes(&self, inst: &Instance, path: &[&str]) -> Vec<(Write<'_>, bool)> {
        self.writes_by(inst, path)
            .into_iter()
            .map(|(w, sure, _)| (w, sure))
            .collect()
    }

    /// `writes`, each with the patch that makes it: its index in
    /// `flux_patches(inst.flux)`, `None` for the value written in the object.
    pub fn writes_by(
        &self,
        inst: &Instance,
        path: &[&str],
    ) -> Vec<(Write<'_>, bool, Option<usize>)> {
        let obj = &self.objects[inst.object];
        let node = self.object_node(inst.object);
        let mut out = Vec::new();
        if let Some(v) = node.path(path) {
            out.push((Write::Node(v), true, None));
        }
        let Some(f) = inst.flux else { return out };
        for (i, p) in self.flux_patches(f).iter().enumerate() {
            let body = p.body.map(|b| self.at(b));
            let selected = self.selection(p, node, obj);
            if selected == Selects::No {
                continue;
            }
            let sure = p.sure && selected == Selects::Yes;
            let mut these = Vec::new();
            match body {
                None => these.push((Write::Unknown, false)),
                Some(b) if b.is_map() => {
                    if let Some(v) = b.path(path) {
                        these.push((Write::Node(v), sure));
                    } else if path
                        .iter()
                        .enumerate()
                        .any(|(i, _)| b.path(&path[..i]).is_some_and(|n| !n.is_map()))
                    {
                        these.push((Write::Remove, sure));
                    }
                }
                Some(b) => json_writes(b, path, sure, &mut these),
            }
            out.extend(these.into_iter().map(|(w, s)| (w, s, Some(i))));
        }
        out
    }

    /// Whether a patch of Flux Kustomization `f` selects an object: `Some(true)`
    /// surely, `Some(false)` maybe (a selector not evaluated here), `None` not.
    pub fn patch_selects(&self, f: FluxId, patch: usize, object: super::ObjectId) -> Option<bool> {
        let p = self.flux_patches(f).get(patch)?;
        match self.selection(p, self.object_node(object), &self.objects[object]) {
            Selects::Yes => Some(p.sure),
            Selects::Maybe => Some(false),
            Selects::No => None,
        }
    }

    /// Where a patch entry is written, when it lies in a file of the
    /// repository (a patch another patch writes lives in that patch's text).
    pub fn patch_site(&self, f: FluxId, patch: usize) -> Option<(FileId, crate::yaml::Span)> {
        let p = self.flux_patches(f).get(patch)?;
        match p.entry.doc {
            Doc::File(file) => Some((file, self.at(p.entry).span())),
            Doc::Patch(_) => None,
        }
    }

    /// Whether a patch of Flux Kustomization `f` selects (or may select) an object.
    pub fn patched_by(&self, f: FluxId, object: super::ObjectId) -> bool {
        let obj = &self.objects[object];
        let node = self.object_node(object);
        self.flux_patches(f)
            .iter()
            .any(|p| self.selection(p, node, obj) != Selects::No)
    }

    /// Whether patch `p` selects `obj` (`node` is the object as written).
    fn selection(&self, p: &FluxPatch, node: NodeRef, obj: &Object) -> Selects {
        match (self.at(p.entry).get("target"), p.body.map(|b| self.at(b))) {
            (Some(t), _) => selects(t, node, obj),
            (None, Some(b)) if b.is_map() => selects_by_body(b, obj),
            (None, _) => Selects::Maybe,
        }
    }

    /// The effective value at `path` of an object as `inst`'s build applies it.
    pub fn field(&self, inst: &Instance, path: &[&str]) -> Field<'_> {
        // Most builds patch nothing: the value as written.
        if inst.flux.is_none_or(|f| self.flux_patches(f).is_empty()) {
            return self
                .object_node(inst.object)
                .path(path)
                .map_or(Field::Absent, Field::Own);
        }
        let mut field = Field::Absent;
        // The first write is the object's own value, when it has one.
        let mut own = self.object_node(inst.object).path(path).is_some();
        for (w, sure) in self.writes(inst, path) {
            let next = match w {
                Write::Node(n) if own => Field::Own(n),
                Write::Node(n) => Field::Patched(Some(n)),
                Write::Key(..) | Write::Item(_) => match field {
                    Field::Unknown => Field::Unknown,
                    _ => Field::Patched(None),
                },
                Write::Remove => Field::Absent,
                Write::Unknown => Field::Unknown,
            };
            own = false;
            field = match (sure, field, next) {
                (true, _, next) => next,
                // A patch that may not apply: the value is one or the other.
                (false, Field::Absent, Field::Absent) => Field::Absent,
                (false, _, _) => Field::Unknown,
            };
        }
        field
    }

    /// The effective value at `path` of Flux Kustomization `f` as the build
    /// that applies it patches it (as written when nothing builds it).
    pub fn flux_field(&self, f: FluxId, path: &[&str]) -> Field<'_> {
        let object = self.flux[f].object;
        let mut result: Option<Field> = None;
        for inst in self.instances(object) {
            let here = self.field(inst, path);
            result = Some(match result {
                None => here,
                Some(Field::Absent) if matches!(here, Field::Absent) => Field::Absent,
                Some(Field::Own(a)) if matches!(here, Field::Own(_)) => Field::Own(a),
                Some(prev) if matches!(here, Field::Absent) && !matches!(prev, Field::Absent) => {
                    Field::Unknown
                }
                Some(_) => here,
            });
        }
        result.unwrap_or(Field::Absent)
    }
}

/// JSON 6902 operations on `path`.
fn json_writes<'a>(ops: NodeRef<'a>, path: &[&str], sure: bool, out: &mut Vec<(Write<'a>, bool)>) {
    for op in ops.items() {
        let Some(pointer) = op.str_at(&["path"]) else {
            continue;
        };
        let segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let kind = op.str_at(&["op"]).unwrap_or("");
        let value = op.get("value");
        let from_touches = op.str_at(&["from"]).is_some_and(|from| {
            let from: Vec<&str> = from.split('/').skip(1).collect();
            prefix_of(&from, path) || prefix_of(path, &from)
        });
        if kind == "move" && from_touches {
            out.push((Write::Unknown, false));
            continue;
        }
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        // The operation writes the path or a map above it.
        if prefix_of(&seg, path) {
            let rest = &path[seg.len()..];
            let w = match (kind, value) {
                ("add" | "replace", Some(v)) if rest.is_empty() => Write::Node(v),
                ("add" | "replace", Some(v)) => match v.path(rest) {
                    Some(n) => Write::Node(n),
                    None => Write::Remove,
                },
                ("remove", _) => Write::Remove,
                ("test", _) => continue,
                _ => Write::Unknown,
            };
            out.push((w, sure && !matches!(w, Write::Unknown)));
        } else if prefix_of(path, &seg) {
            // The operation writes inside the value at the path.
            let w = match (kind, value, &seg[path.len()..]) {
                ("add" | "replace", Some(v), [key]) if *key == "-" => Write::Item(v),
                ("add" | "replace", Some(v), [_]) => {
                    // The key lives in the patch text: read it back from there.
                    match op.get("path").and_then(|p| p.as_str()) {
                        Some(p) => match p.rsplit('/').next() {
                            Some(k) if !k.contains('~') => Write::Key(k, v),
                            _ => Write::Unknown,
                        },
                        None => Write::Unknown,
                    }
                }
                ("test", _, _) => continue,
                _ => Write::Unknown,
            };
            out.push((w, sure && !matches!(w, Write::Unknown)));
        } else if kind == "copy" && from_touches {
            out.push((Write::Unknown, false));
        }
    }
}

fn prefix_of(a: &[&str], b: &[&str]) -> bool {
    a.len() <= b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A patch without `target` selects the objects of its own kind and name.
fn selects_by_body(body: NodeRef, obj: &Object) -> Selects {
    let kind = body.str_at(&["kind"]);
    let name = body.str_at(&["metadata", "name"]);
    if kind.is_some_and(|k| k != obj.kind) {
        return Selects::No;
    }
    match (name, obj.name.as_deref()) {
        (Some(a), Some(b)) if a == b => Selects::Yes,
        (Some(_), Some(_)) => Selects::No,
        _ => Selects::Maybe,
    }
}

/// Whether a patch `target` selects an object (`node` is the object as written).
pub fn selects(target: NodeRef, node: NodeRef, obj: &Object) -> Selects {
    let version = obj.api_version.rsplit('/').next().unwrap_or("");
    let regex = |s: &str| s.chars().any(|c| "*.+?[](){}|^$\\".contains(c));
    let mut sure = true;
    for (key, have) in [
        ("group", Some(obj.group())),
        ("version", Some(version)),
        ("kind", Some(obj.kind.as_str())),
        ("name", obj.name.as_deref()),
        ("namespace", obj.namespace.as_deref()),
    ] {
        let Some(want) = target.str_at(&[key]) else {
            continue;
        };
        // kustomize matches these as anchored regular expressions.
        if Some(want) == have {
            continue;
        }
        if regex(want) || have.is_none_or(super::subst::has_vars) {
            sure = false;
        } else {
            return Selects::No;
        }
    }
    for (key, meta) in [
        ("labelSelector", "labels"),
        ("annotationSelector", "annotations"),
    ] {
        let Some(sel) = target.str_at(&[key]) else {
            continue;
        };
        let values = node.path(&["metadata", meta]);
        match label_selector(sel, |k| values.and_then(|m| m.str_at(&[k]))) {
            Some(true) => {}
            Some(false) => return Selects::No,
            None => sure = false,
        }
    }
    if sure { Selects::Yes } else { Selects::Maybe }
}

/// Evaluates a Kubernetes label selector (`a=b`, `a!=b`, `a in (x,y)`,
/// `a notin (x)`, `a`, `!a`); `None` when it cannot be read.
pub fn label_selector<'a>(sel: &str, get: impl Fn(&str) -> Option<&'a str>) -> Option<bool> {
    // Split on commas outside parentheses.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in sel.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&sel[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&sel[start..]);
    let mut all = true;
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let ok = if let Some(key) = part.strip_prefix('!') {
            get(key.trim()).is_none()
        } else if let Some((k, v)) = part.split_once("!=") {
            get(k.trim()) != Some(v.trim())
        } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            get(k.trim()) == Some(v.trim())
        } else if let Some((k, set)) = set_op(part, " notin ") {
            get(k).is_none_or(|v| !set.contains(&v))
        } else if let Some((k, set)) = set_op(part, " in ") {
            get(k).is_some_and(|v| set.contains(&v))
        } else if part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            get(part).is_some()
        } else {
            return None;
        };
        all &= ok;
    }
    Some(all)
}

fn set_op<'s>(part: &'s str, op: &str) -> Option<(&'s str, Vec<&'s str>)> {
    let (k, rest) = part.split_once(op)?;
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some((k.trim(), inner.split(',').map(str::trim).collect()))
}

/// The `spec.patches` each Flux Kustomization applies, parents first: its own
/// list, unless the Flux Kustomization that builds it writes the list. Inline
/// patches are parsed into `docs`.
pub(super) fn compute(
    repo: &Repository,
    parents: &[Option<FluxId>],
) -> (Vec<Yaml>, Vec<Vec<FluxPatch>>) {
    let n = repo.flux.len();
    // Depth below the outermost Flux Kustomization, to go parents first.
    let depth: Vec<usize> = (0..n)
        .map(|f| {
            let mut d = 0;
            let mut at = f;
            while let Some(p) = parents[at] {
                if d >= 64 || p == f {
                    break;
                }
                d += 1;
                at = p;
            }
            d
        })
        .collect();
    let mut order: Vec<FluxId> = (0..n).collect();
    order.sort_by_key(|&f| depth[f]);
    let mut state = State {
        docs: Vec::new(),
        patches: vec![Vec::new(); n],
    };
    for f in order {
        let list = state.effective_list(repo, f, parents[f]);
        state.patches[f] = list;
    }
    (state.docs, state.patches)
}

struct State {
    docs: Vec<Yaml>,
    patches: Vec<Vec<FluxPatch>>,
}

impl State {
    /// A node of a file, or of a patch parsed so far (`repo.patch_docs` is
    /// not filled yet).
    fn read<'s>(&'s self, repo: &'s Repository, at: At) -> NodeRef<'s> {
        match at.doc {
            Doc::Patch(p) => self.docs[p as usize].node(at.node),
            Doc::File(f) => repo.files[f].yaml.node(at.node),
        }
    }

    /// The `patch` text of an entry parsed; `None` when it has none.
    fn parse_entry(&mut self, text: Option<&str>) -> Option<At> {
        let text = text?;
        let yaml = crate::yaml::parse(text);
        if !yaml.errors.is_empty() || yaml.docs.is_empty() {
            return None;
        }
        let root = yaml.docs[0].root;
        self.docs.push(yaml);
        Some(At {
            doc: Doc::Patch((self.docs.len() - 1) as u32),
            node: root,
        })
    }

    fn entries_of(&mut self, repo: &Repository, list: At, sure: bool) -> Vec<FluxPatch> {
        let items: Vec<(At, Option<String>)> = self
            .read(repo, list)
            .items()
            .map(|i| {
                let at = At {
                    doc: list.doc,
                    node: i.id(),
                };
                (at, i.str_at(&["patch"]).map(str::to_string))
            })
            .collect();
        items
            .into_iter()
            .map(|(entry, text)| FluxPatch {
                entry,
                body: self.parse_entry(text.as_deref()),
                sure,
            })
            .collect()
    }

    fn effective_list(
        &mut self,
        repo: &Repository,
        f: FluxId,
        parent: Option<FluxId>,
    ) -> Vec<FluxPatch> {
        let parent_patches = parent.map_or(&[][..], |p| &self.patches[p][..]);
        if !repo.flux[f].writes_patches && parent_patches.is_empty() {
            return Vec::new();
        }
        let object = repo.flux[f].object;
        let obj = &repo.objects[object];
        let node = repo.object_node(object);
        let mut list = match node.path(&["spec", "patches"]) {
            Some(l) => self.entries_of(
                repo,
                At {
                    doc: Doc::File(obj.file),
                    node: l.id(),
                },
                true,
            ),
            None => Vec::new(),
        };
        let Some(p) = parent else { return list };
        let parent_patches = self.patches[p].clone();
        for pp in parent_patches {
            let target = self.read(repo, pp.entry).get("target").map(|t| t.id());
            let body = pp.body;
            let selected = match (target, body) {
                (Some(t), _) => selects(
                    self.read(
                        repo,
                        At {
                            doc: pp.entry.doc,
                            node: t,
                        },
                    ),
                    node,
                    obj,
                ),
                (None, Some(b)) if self.read(repo, b).is_map() => {
                    selects_by_body(self.read(repo, b), obj)
                }
                (None, _) => Selects::Maybe,
            };
            if selected == Selects::No {
                continue;
            }
            let sure = pp.sure && selected == Selects::Yes;
            let Some(b) = body else {
                list.iter_mut().for_each(|e| e.sure = false);
                continue;
            };
            // What the parent's patch writes at `spec.patches`, as
            // (node, appended item?, sure); a node of `None` is a change not followed.
            let writes: Vec<(Option<NodeId>, bool, bool)> = {
                let bnode = self.read(repo, b);
                let mut writes = Vec::new();
                if bnode.is_map() {
                    if let Some(l) = bnode.path(&["spec", "patches"]) {
                        writes.push((Write::Node(l), sure));
                    }
                } else {
                    json_writes(bnode, &["spec", "patches"], sure, &mut writes);
                }
                writes
                    .iter()
                    .map(|(w, s)| match w {
                        Write::Node(n) => (Some(n.id()), false, *s),
                        Write::Item(n) => (Some(n.id()), true, *s),
                        _ => (None, false, false),
                    })
                    .collect()
            };
            for (id, item, s) in writes {
                let Some(node) = id else {
                    list.iter_mut().for_each(|e| e.sure = false);
                    continue;
                };
                let at = At { doc: b.doc, node };
                let new = if item {
                    let text = self.read(repo, at).str_at(&["patch"]).map(str::to_string);
                    vec![FluxPatch {
                        entry: at,
                        body: self.parse_entry(text.as_deref()),
                        sure: s,
                    }]
                } else {
                    self.entries_of(repo, at, s)
                };
                if item {
                    list.extend(new);
                } else if s {
                    list = new;
                } else {
                    list.iter_mut().for_each(|e| e.sure = false);
                    list.extend(new);
                }
            }
        }
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        let labels = |k: &str| (k == "a").then_some("x");
        assert_eq!(label_selector("a=x", labels), Some(true));
        assert_eq!(label_selector("a notin (true)", labels), Some(true));
        assert_eq!(label_selector("b in (x)", labels), Some(false));
        assert_eq!(label_selector("!b,a", labels), Some(true));
        assert_eq!(label_selector("a~x", labels), None);
    }
}
