use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::names::takes_affixes;
use crate::model::{FluxId, Instance, ObjectId, Repository, parent_dir, recreated_whole, under};
use crate::rules::{Ctx, Rule};
use crate::yaml::Span;

pub static RULE: Rule = Rule {
    id: "flux/one-owner-per-object",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "two Flux Kustomizations apply the same object (group, kind, namespace, name), so they fight over it and pruning one deletes it",
    page: include_str!("../../../lints/flux/one-owner-per-object.md"),
    check: Some(check),
};

/// (cluster, group, kind, namespace, name) of an applied object.
type Key<'r> = (
    Option<FluxId>,
    &'r str,
    &'r str,
    Option<&'r str>,
    Cow<'r, str>,
);

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Findings are placed on the objects of a key with several owners: a key
    // is wanted only with an object of a file reported on, whose group, kind
    // and namespace it has.
    let places: Option<FxHashSet<Place>> = repo.focused().then(|| {
        repo.instances
            .iter()
            .filter(|i| i.flux.is_some() && i.name.is_some())
            .filter(|i| repo.wants(repo.objects[i.object].file))
            .filter_map(|i| place(repo, i))
            .collect()
    });
    if places.as_ref().is_some_and(|p| p.is_empty()) {
        return;
    }
    let renaming = renaming_dirs(repo);
    let spec: Vec<FluxSpec> = (0..repo.flux.len())
        .map(|f| FluxSpec::new(repo, f))
        .collect();
    // The key of each instance an owner applies, in instance order.
    let key = |i: usize| {
        let inst = &repo.instances[i];
        let (Some(f), Some(name)) = (inst.flux, &inst.name) else {
            return None;
        };
        if let Some(places) = &places
            && !place(repo, inst).is_some_and(|p| places.contains(&p))
        {
            return None;
        }
        // A Flux Kustomization whose build holds its own definition is no
        // second owner of itself.
        if repo.flux_of(inst.object) == Some(f) {
            return None;
        }
        let o = &repo.objects[inst.object];
        let (_, _, namespace) = place(repo, inst)?;
        let name = final_name(repo, &spec[f], f, inst.object, name, &renaming)?;
        let key: Key = (
            repo.cluster_of(inst),
            o.group(),
            o.kind.as_str(),
            namespace,
            name,
        );
        Some(key)
    };
    // Nearly every key has one owner. Keys are hashed first, and sorted by
    // their hash: only instances whose hash another shares are compared by
    // their whole key, so no table of every key is held.
    let mut hashed: Vec<(u64, u32)> = (0..repo.instances.len())
        .filter_map(|i| Some((FxBuildHasher.hash_one(key(i)?), i as u32)))
        .collect();
    hashed.sort_unstable();
    let mut owners: FxHashMap<Key, Owners> = FxHashMap::default();
    let mut more: Vec<Vec<(FluxId, ObjectId)>> = Vec::new();
    for run in hashed
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
    {
        for &(_, i) in run {
            let inst = &repo.instances[i as usize];
            let (Some(key), Some(f)) = (key(i as usize), inst.flux) else {
                continue;
            };
            match owners.entry(key) {
                Entry::Vacant(e) => {
                    e.insert(Owners {
                        first: (f, inst.object),
                        more: None,
                    });
                }
                Entry::Occupied(mut e) => {
                    let owners = e.get_mut();
                    let m = *owners.more.get_or_insert_with(|| {
                        more.push(Vec::new());
                        more.len() - 1
                    });
                    more[m].push((f, inst.object));
                }
            }
        }
    }
    let mut shared: Vec<(Key, BTreeMap<FluxId, BTreeSet<ObjectId>>)> = owners
        .into_iter()
        .filter_map(|(key, owners)| {
            let extra = &more[owners.more?];
            let first = owners.first;
            if extra.iter().all(|&(f, _)| f == first.0) {
                return None;
            }
            let mut map: BTreeMap<FluxId, BTreeSet<ObjectId>> = BTreeMap::new();
            for &(f, o) in std::iter::once(&first).chain(extra) {
                map.entry(f).or_default().insert(o);
            }
            Some((key, map))
        })
        .collect();
    shared.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (key, by) in shared {
        let objects: BTreeSet<ObjectId> = by.values().flatten().copied().collect();
        for &o in &objects {
            ctx.push(report(repo, &key, &by, o));
        }
    }
}

/// (group, kind, namespace) of an applied object.
type Place<'r> = (&'r str, &'r str, Option<&'r str>);

/// Where an instance lands, as far as a key tells without its name; `None`
/// for a namespaced object whose namespace the build leaves open (an
/// unknown place).
fn place<'r>(repo: &'r Repository, inst: &'r Instance) -> Option<Place<'r>> {
    let o = &repo.objects[inst.object];
    let namespace = if repo.cluster_scoped(o) {
        None
    } else {
        Some(inst.namespace.as_deref()?)
    };
    Some((o.group(), o.kind.as_str(), namespace))
}

/// Who applies a key: the first (Flux Kustomization, object), and the index
/// in `more` of the others, for the few keys that have them.
struct Owners {
    first: (FluxId, ObjectId),
    more: Option<usize>,
}

/// What a Flux Kustomization's own spec does to the names it applies.
struct FluxSpec<'r> {
    /// Its `spec.patches` may rename objects.
    renames: bool,
    prefix: &'r str,
    suffix: &'r str,
}

impl<'r> FluxSpec<'r> {
    fn new(repo: &'r Repository, f: FluxId) -> Self {
        let spec = repo.object_node(repo.flux[f].object).get("spec");
        let patches = spec.and_then(|s| s.get("patches"));
        // A patch that renames is rare; one that sets a name in its body may.
        let renames = patches.is_some_and(|p| {
            p.items()
                .any(|p| p.str_at(&["patch"]).is_some_and(|t| t.contains("name")))
        }) && patches.into_iter().flat_map(|p| p.items()).any(|p| {
            p.str_at(&["patch"])
                .is_some_and(|t| t.contains("/metadata/name"))
                || p.path(&["options", "allowNameChange"]).is_some()
        });
        FluxSpec {
            renames,
            prefix: spec.and_then(|s| s.str_at(&["namePrefix"])).unwrap_or(""),
            suffix: spec.and_then(|s| s.str_at(&["nameSuffix"])).unwrap_or(""),
        }
    }
}

/// Directories of kustomizations that may rename what they build
/// (`namePrefix`, `nameSuffix`, or patches that touch `metadata.name`).
fn renaming_dirs(repo: &Repository) -> Vec<&str> {
    repo.kustomizations
        .iter()
        .filter(|k| {
            let node = repo.node(k.file, k.root);
            node.get("namePrefix").is_some()
                || node.get("nameSuffix").is_some()
                || ["patches", "patchesJson6902", "patchesStrategicMerge"]
                    .iter()
                    .filter_map(|p| node.get(p))
                    .flat_map(|p| p.items())
                    .any(|p| {
                        p.str_at(&["patch"]).is_some_and(|t| {
                            t.contains("/metadata/name") || t.contains("allowNameChange")
                        }) || p.path(&["options", "allowNameChange"]).is_some()
                            || p.str_at(&["path"]).is_some()
                    })
        })
        .map(|k| k.dir.as_str())
        .collect()
}

/// The name the Flux Kustomization applies: its own `namePrefix`/`nameSuffix`
/// added. `None` when a kustomization of its tree, or its `spec.patches`, may
/// rename the object in a way this rule does not follow.
fn final_name<'r>(
    repo: &Repository,
    spec: &FluxSpec,
    f: FluxId,
    object: ObjectId,
    name: &'r str,
    renaming: &[&str],
) -> Option<Cow<'r, str>> {
    if !renaming.is_empty() {
        let file_dir = parent_dir(&repo.files[repo.objects[object].file].path);
        let root = repo.flux[f].path.as_deref().unwrap_or("");
        if renaming
            .iter()
            .any(|d| under(file_dir, d) || under(d, root))
        {
            return None;
        }
    }
    if spec.renames {
        return None;
    }
    if !takes_affixes(&repo.objects[object].kind) {
        return Some(Cow::Borrowed(name));
    }
    if spec.prefix.is_empty() && spec.suffix.is_empty() {
        return Some(Cow::Borrowed(name));
    }
    Some(Cow::Owned(format!("{}{name}{}", spec.prefix, spec.suffix)))
}

fn name_span(repo: &Repository, o: ObjectId) -> Span {
    repo.object_node(o)
        .path(&["metadata", "name"])
        .map_or_else(|| repo.kind_span(o), |n| n.span())
}

fn flux_name(repo: &Repository, f: FluxId) -> &str {
    repo.objects[repo.flux[f].object]
        .name
        .as_deref()
        .unwrap_or("")
}

fn report(
    repo: &Repository,
    key: &Key<'_>,
    by: &BTreeMap<FluxId, BTreeSet<ObjectId>>,
    object: ObjectId,
) -> Diagnostic {
    let (_, group, kind, namespace, name) = key;
    let gk = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    let place = match namespace {
        Some(ns) => format!("`{ns}/{name}`"),
        None => format!("`{name}` (cluster-scoped)"),
    };
    let names: Vec<String> = by
        .keys()
        .map(|&f| format!("`{}`", flux_name(repo, f)))
        .collect();
    let list = match names.len() {
        2 => format!("{} and {}", names[0], names[1]),
        _ => names.join(", "),
    };
    let o = &repo.objects[object];
    let n = by.len();
    let (severity, message) = if identical(repo, by) {
        (
            Severity::Warning,
            format!(
                "{gk} {place} is applied by {n} Flux Kustomizations ({list}) in identical copies: they do not fight over its fields, but its ownership labels flip on every reconcile, and when one of them stops declaring it (the app removed, the Kustomization deleted) its prune deletes the object the others still declare until they reconcile again"
            ),
        )
    } else {
        (
            Severity::Error,
            format!(
                "{gk} {place} is applied by {n} Flux Kustomizations ({list}): each overwrites the other's changes on every reconcile, and pruning or deleting one removes the object the other still declares"
            ),
        )
    };
    let mut d = Diagnostic::new(RULE.id, severity, o.file, name_span(repo, object), message)
    .help("let exactly one Flux Kustomization build this object: move it to a shared Kustomization that the others `dependsOn`, or give each copy its own name or namespace");
    for (&f, objects) in by {
        let fk = &repo.flux[f];
        let node = repo.object_node(fk.object);
        let site = node
            .get("spec")
            .and_then(|s| s.get("path"))
            .map(|n| n.span())
            .or_else(|| node.path(&["metadata", "name"]).map(|n| n.span()))
            .unwrap_or_else(|| repo.kind_span(fk.object));
        let from: Vec<&str> = objects
            .iter()
            .map(|&x| repo.files[repo.objects[x].file].path.as_str())
            .collect();
        d = d.related(
            repo.objects[fk.object].file,
            site,
            format!(
                "Flux Kustomization `{}` applies it (from {})",
                flux_name(repo, f),
                from.join(", ")
            ),
        );
        for &x in objects {
            if x != object {
                d = d.related(
                    repo.objects[x].file,
                    name_span(repo, x),
                    format!("the copy `{}` applies", flux_name(repo, f)),
                );
            }
        }
    }
    d
}

/// Whether every owner applies the same object, of a kind a prune does not
/// lose: the same text, with each owner's variables substituted (Flux
/// substitutes the rendered text), and no owner's `spec.patches` selecting it.
fn identical(repo: &Repository, by: &BTreeMap<FluxId, BTreeSet<ObjectId>>) -> bool {
    let recreated = by
        .values()
        .flatten()
        .all(|&o| recreated_whole(&repo.objects[o].kind));
    if !recreated {
        return false;
    }
    let text = |o: ObjectId| {
        let obj = &repo.objects[o];
        let span = repo.object_node(o).span();
        repo.files[obj.file].text()[span.start as usize..span.end as usize].trim_end()
    };
    let mut first: Option<String> = None;
    for (&f, objects) in by {
        for &o in objects {
            if repo.patched_by(f, o) {
                return false;
            }
            let vars = &repo.flux[f].vars;
            let rendered = if vars.active {
                match vars.render(text(o)) {
                    Some(r) => r,
                    None => return false,
                }
            } else {
                text(o).to_string()
            };
            match &first {
                None => first = Some(rendered),
                Some(t) if *t != rendered => return false,
                Some(_) => {}
            }
        }
    }
    true
}
