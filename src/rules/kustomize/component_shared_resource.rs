use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::recreated_whole;
use crate::model::subst::has_vars;
use crate::model::{
    FluxId, Includer, Instance, Kustomize, KustomizeId, ObjectId, PathEntry, Repository,
};
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "kustomize/component-shared-resource",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "a Component holds a fixed-name resource that several including kustomizations build into the same namespace",
    page: include_str!("../../../lints/kustomize/component-shared-resource.md"),
    check: Some(check),
};

/// Where the copies of one object land.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Cluster,
    Namespace(String),
    Unknown,
}

/// One fixed-name object of an entry that several includers produce in one place.
struct Clash {
    severity: Severity,
    /// Identical copies of a kind a prune does not lose, each applied by a
    /// Flux Kustomization of its own.
    identical: bool,
    object: ObjectId,
    /// The name the builds give it.
    built: String,
    /// The places that clash, each with the includers that land there.
    places: Vec<(Place, BTreeSet<Includer>)>,
    /// Other places (namespaces, clusters) where copies clash too.
    elsewhere: usize,
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    let wanted = |k: &Kustomize| k.component && repo.wants(k.file);
    if !repo.kustomizations.iter().any(wanted) {
        return;
    }
    let mut from_component: HashMap<KustomizeId, HashMap<ObjectId, Vec<&Instance>>> =
        HashMap::new();
    // The objects each `resources` entry of a component brings in.
    let mut by_entry: HashMap<(KustomizeId, u32), BTreeSet<ObjectId>> = HashMap::new();
    for inst in &repo.instances {
        if let Some((cid, _)) = inst.component {
            from_component
                .entry(cid)
                .or_default()
                .entry(inst.object)
                .or_default()
                .push(inst);
            by_entry
                .entry((cid, inst.component_entry))
                .or_default()
                .insert(inst.object);
        }
    }
    for (cid, comp) in repo.kustomizations.iter().enumerate() {
        if !wanted(comp) {
            continue;
        }
        let Some(instances) = from_component.get(&cid) else {
            continue;
        };
        let given = given_namespaces(repo, instances);
        for (i, entry) in comp.resources.iter().enumerate() {
            let Some(objects) = by_entry.get(&(cid, i as u32)) else {
                continue;
            };
            let clashes: Vec<Clash> = objects
                .iter()
                .filter_map(|&o| clash(repo, cid, instances, &given, o))
                .collect();
            let Some(worst) = clashes.iter().map(|c| c.severity).max() else {
                continue;
            };
            let Some(first) = clashes.iter().find(|c| c.severity == worst) else {
                continue;
            };
            ctx.push(report(repo, cid, entry, first, clashes.len() - 1));
        }
    }
}

/// The instances a component's builds produce, by object.
type ComponentInstances<'r> = HashMap<ObjectId, Vec<&'r Instance>>;

/// The namespace each build of a component (includer, Flux Kustomization)
/// gives a namespaced object that sets none of its own.
type Given = HashMap<(Includer, Option<FluxId>), (ObjectId, String)>;

fn given_namespaces(repo: &Repository, all: &ComponentInstances) -> Given {
    let mut given = Given::new();
    for (&o, instances) in all {
        let obj = &repo.objects[o];
        if obj.namespace.is_some() || repo.cluster_scoped(obj) {
            continue;
        }
        for inst in instances {
            let (Some((_, by)), Some(ns)) = (inst.component, &inst.namespace) else {
                continue;
            };
            let slot = given.entry((by, inst.flux)).or_insert((o, ns.to_string()));
            if o < slot.0 {
                *slot = (o, ns.to_string());
            }
        }
    }
    given
}

/// The namespace a build of the component gives its objects, which becomes
/// the name of a `kind: Namespace` among them: read from a namespaced sibling
/// that sets no namespace of its own in the same build, else from the Flux
/// `targetNamespace`, the including kustomization's `namespace:` or the
/// component's own. `None` when no build sets one.
fn namespace_given(
    repo: &Repository,
    cid: KustomizeId,
    given: &Given,
    inst: &Instance,
    by: Includer,
) -> Option<String> {
    if let Some((_, ns)) = given.get(&(by, inst.flux)) {
        return Some(ns.clone());
    }
    let flux_target = inst
        .flux
        .and_then(|f| repo.flux[f].target_namespace.as_deref());
    let includer_ns = match by {
        Includer::Kustomize(k) => repo.kustomizations[k].namespace.as_deref(),
        Includer::Flux(f) => repo.flux[f]
            .path
            .as_deref()
            .and_then(|p| repo.kustomize_in(p))
            .and_then(|k| k.namespace.as_deref()),
    };
    let ns = flux_target
        .or(includer_ns)
        .or(repo.kustomizations[cid].namespace.as_deref())?;
    repo.render(inst, ns)
}

/// How the builds place one object of the component; `None` when no place
/// gets it from two includers.
fn clash(
    repo: &Repository,
    cid: KustomizeId,
    all: &ComponentInstances,
    given: &Given,
    object: ObjectId,
) -> Option<Clash> {
    let o = &repo.objects[object];
    let name = o.name.as_deref()?;
    if has_vars(name) {
        return None;
    }
    // (cluster, place, name as the build leaves it) -> includers
    let mut places: BTreeMap<(Option<FluxId>, Place, String), BTreeSet<Includer>> = BTreeMap::new();
    // The Flux Kustomizations that apply each includer's copy.
    let mut applied_by: BTreeMap<Includer, BTreeSet<Option<FluxId>>> = BTreeMap::new();
    // The kustomizations built as roots that reach each includer's copy.
    let mut roots_of: BTreeMap<Includer, BTreeSet<Option<KustomizeId>>> = BTreeMap::new();
    let instances = all.get(&object).map_or(&[][..], |v| &v[..]);
    // An includer a Flux Kustomization applies is also built on its own by the
    // model (without Flux's namespace and variables): keep the Flux builds.
    let applied: BTreeSet<Includer> = instances
        .iter()
        .filter(|i| i.flux.is_some())
        .filter_map(|i| i.component.map(|(_, by)| by))
        .collect();
    for inst in instances {
        let Some((_, by)) = inst.component else {
            continue;
        };
        if inst.flux.is_none() && applied.contains(&by) {
            continue;
        }
        applied_by.entry(by).or_default().insert(inst.flux);
        roots_of.entry(by).or_default().insert(inst.root);
        let (place, built) = if o.kind == "Namespace" {
            // kustomize's namespace transformer renames Namespace objects.
            match namespace_given(repo, cid, given, inst, by) {
                Some(ns) => (Place::Cluster, ns),
                None => match repo.built_name(inst, by, &o.kind, name) {
                    // Patched to a name of its own: a Namespace is cluster-scoped.
                    Some(n) if n != name => (Place::Cluster, n),
                    Some(n) => (Place::Unknown, n),
                    None => continue,
                },
            }
        } else {
            // A patch renames it to a name not seen here: stay silent for it.
            let Some(final_name) = repo.built_name(inst, by, &o.kind, name) else {
                continue;
            };
            let place = match &inst.namespace {
                _ if repo.cluster_scoped(o) => Place::Cluster,
                Some(ns) => Place::Namespace(ns.to_string()),
                None => Place::Unknown,
            };
            (place, final_name)
        };
        places
            .entry((repo.cluster_of(inst), place, built))
            .or_default()
            .insert(by);
    }
    // Alternatives: each copy in a build of its own that no Flux
    // Kustomization applies (`overlays/stable`, `overlays/latest`), one or
    // the other applied, never both together.
    let alternatives = |by: &BTreeSet<Includer>| {
        let mut roots = BTreeSet::new();
        by.iter().all(|b| {
            applied_by
                .get(b)
                .is_some_and(|fs| fs.iter().all(Option::is_none))
                && roots_of.get(b).is_some_and(|rs| {
                    rs.len() == 1 && rs.iter().all(|r| r.is_some_and(|r| roots.insert(r)))
                })
        })
    };
    let mut clashing = places.iter().filter(|((_, place, _), by)| {
        *place != Place::Unknown && by.len() >= 2 && !alternatives(by)
    });
    if let Some(((_, place, built), by)) = clashing.next() {
        // Each copy applied by a Flux Kustomization of its own, of a kind a
        // prune does not lose, as written: no build fails, nothing is lost.
        let mut owners = BTreeSet::new();
        let separate = by.iter().all(|b| match applied_by.get(b) {
            Some(fs) if fs.len() == 1 => fs.iter().all(|f| f.is_some_and(|f| owners.insert(f))),
            _ => false,
        });
        let text = {
            let span = repo.object_node(object).span();
            &repo.files[o.file].text()[span.start as usize..span.end as usize]
        };
        let identical = separate && recreated_whole(&o.kind) && !has_vars(text);
        return Some(Clash {
            severity: if identical {
                Severity::Warning
            } else {
                Severity::Error
            },
            identical,
            object,
            built: built.clone(),
            places: vec![(place.clone(), by.clone())],
            elsewhere: clashing.count(),
        });
    }
    // Copies whose namespace the build leaves open may land beside any other
    // copy of the same name in the same cluster.
    for ((cluster, place, name), unknown) in &places {
        if *place != Place::Unknown {
            continue;
        }
        let mut with: Vec<(Place, BTreeSet<Includer>)> = vec![(Place::Unknown, unknown.clone())];
        let mut all: BTreeSet<Includer> = unknown.clone();
        for ((other_cluster, other, other_name), by) in &places {
            if *other != Place::Unknown && other_cluster == cluster && other_name == name {
                all.extend(by.iter().copied());
                with.push((other.clone(), by.clone()));
            }
        }
        if all.len() >= 2 {
            return Some(Clash {
                severity: Severity::Warning,
                identical: false,
                object,
                built: name.clone(),
                places: with,
                elsewhere: 0,
            });
        }
    }
    None
}

fn report(
    repo: &Repository,
    cid: KustomizeId,
    entry: &PathEntry,
    clash: &Clash,
    others: usize,
) -> Diagnostic {
    let comp = &repo.kustomizations[cid];
    let o = &repo.objects[clash.object];
    let raw = o.name.as_deref().unwrap_or("");
    let what = if clash.built == raw {
        format!("{} `{raw}`", o.kind)
    } else {
        format!("{} `{raw}` (built as `{}`)", o.kind, clash.built)
    };
    let more = match others {
        0 => String::new(),
        1 => "; so does 1 other fixed-name object of this entry".to_string(),
        n => format!("; so do {n} other fixed-name objects of this entry"),
    };
    let includers: BTreeSet<Includer> = clash
        .places
        .iter()
        .flat_map(|(_, by)| by.iter().copied())
        .collect();
    let n = includers.len();
    let more = match clash.elsewhere {
        0 => more,
        1 => format!(" (copies clash in 1 more namespace or cluster too){more}"),
        k => format!(" (copies clash in {k} more namespaces or clusters too){more}"),
    };
    let message = match (clash.severity, clash.places.first()) {
        (_, Some((Place::Namespace(ns), by))) if clash.identical => format!(
            "{what} has a fixed name, and {} Flux Kustomizations apply identical copies of it in namespace `{ns}` through this Component: they do not fight over its fields, but its ownership labels flip on every reconcile, and when one stops declaring it its prune deletes the object the others still declare until they reconcile again{more}",
            by.len()
        ),
        _ if clash.identical => format!(
            "{what} is cluster-scoped with a fixed name, and {n} Flux Kustomizations apply identical copies of it through this Component: they do not fight over its fields, but its ownership labels flip on every reconcile, and when one stops declaring it its prune deletes the object the others still declare until they reconcile again{more}"
        ),
        (Severity::Error, Some((Place::Namespace(ns), by))) => format!(
            "{what} has a fixed name, and {} kustomizations that include this Component build it into namespace `{ns}`: each adds its own copy of the one object, so the build fails or their Flux Kustomizations fight over it{more}",
            by.len()
        ),
        (Severity::Error, _) => format!(
            "{what} is cluster-scoped with a fixed name, and {n} kustomizations include this Component: each adds its own copy of the one object, so the build fails or their Flux Kustomizations fight over it{more}"
        ),
        _ => format!(
            "{what} has a fixed name, and {n} kustomizations include this Component without a namespace that can be determined: if two build it into one namespace, they produce the same object and fight over it{more}"
        ),
    };
    let help = if o.kind == "Namespace" {
        format!(
            "give each including kustomization its own `namespace:` (kustomize names the Namespace after it), or move `{}` out of the component to one place that applies it once",
            entry.text
        )
    } else {
        format!(
            "keep only per-app resources in a component: move `{}` to one kustomization that applies it once, or template its name per app (for example `${{APP}}-{raw}`)",
            entry.text
        )
    };
    let mut d = Diagnostic::new(RULE.id, clash.severity, comp.file, entry.span, message).help(help);
    let mut seen = BTreeSet::new();
    for (place, by) in &clash.places {
        for &b in by {
            if !seen.insert(b) {
                continue;
            }
            let into = match place {
                Place::Cluster => "(cluster-scoped: one object for the whole cluster)".to_string(),
                Place::Namespace(ns) => format!("into namespace `{ns}`"),
                Place::Unknown => "into a namespace that cannot be determined".to_string(),
            };
            let (file, span, who) = repo.includer_site(b, &comp.dir);
            d = d.related(
                file,
                span,
                format!("{who} includes the component and builds {what} {into}"),
            );
        }
    }
    d
}
