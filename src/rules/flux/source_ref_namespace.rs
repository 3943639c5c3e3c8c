use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::diagnostic::Severity;
use crate::model::{Field, ObjectId, closest};
use crate::rules::{Ctx, Rule};

use super::helpers::{compatible, same_ns};

pub static RULE: Rule = Rule {
    id: "flux/source-ref-namespace",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "a Flux Kustomization or HelmRelease references a source that is not in the namespace the reference means",
    page: include_str!("../../../lints/flux/source-ref-namespace.md"),
    check: Some(check),
};

const SOURCE_KINDS: [&str; 4] = ["GitRepository", "OCIRepository", "HelmRepository", "Bucket"];

/// A source as a build produces it.
struct Source<'r> {
    object: ObjectId,
    namespace: Option<&'r str>,
    cluster: Option<usize>,
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Findings are the referrers' of the files reported on.
    let referrers: Vec<_> = repo
        .of_kind("Kustomization")
        .filter(|(_, o)| o.group() == "kustomize.toolkit.fluxcd.io")
        .map(|(id, _)| (id, &["spec", "sourceRef"][..]))
        .chain(
            repo.of_kind("HelmRelease")
                .filter(|(_, o)| o.group() == "helm.toolkit.fluxcd.io")
                .flat_map(|(id, _)| {
                    [
                        (id, &["spec", "chart", "spec", "sourceRef"][..]),
                        (id, &["spec", "chartRef"][..]),
                    ]
                }),
        )
        .filter(|&(id, _)| repo.wants(repo.objects[id].file))
        .collect();
    if referrers.is_empty() {
        return;
    }
    let mut sources: HashMap<(&str, &str), Vec<Source>> = HashMap::default();
    // Kinds with a source whose name we cannot read: a reference to a name
    // found nowhere may mean it.
    let mut unseen: HashSet<&str> = HashSet::default();
    if repo
        .of_kind("ResourceSet")
        .any(|(_, o)| o.group() == "fluxcd.controlplane.io")
    {
        unseen.extend(SOURCE_KINDS);
    }
    for kind in SOURCE_KINDS {
        for (id, obj) in repo.of_kind(kind) {
            if obj.group() != "source.toolkit.fluxcd.io" {
                continue;
            }
            for inst in repo.local_instances(id) {
                let Some(name) = inst.name.as_deref() else {
                    unseen.insert(kind);
                    continue;
                };
                sources.entry((kind, name)).or_default().push(Source {
                    object: id,
                    namespace: inst.namespace.as_deref(),
                    cluster: repo.cluster_of(inst),
                });
            }
        }
    }
    let mut names: HashMap<&str, Vec<&str>> = HashMap::default();
    for &(kind, name) in sources.keys() {
        names.entry(kind).or_default().push(name);
    }
    for v in names.values_mut() {
        v.sort_unstable();
    }
    let mut reported = HashSet::default();
    for (id, at) in referrers {
        let obj = &repo.objects[id];
        let root = repo.object_node(id);
        let Some(reference) = root.path(at) else {
            continue;
        };
        let Some(kind) = reference
            .str_at(&["kind"])
            .and_then(|k| SOURCE_KINDS.iter().copied().find(|s| *s == k))
        else {
            continue;
        };
        let Some(name_node) = reference.get("name") else {
            continue;
        };
        let referrer = &obj.kind;
        for inst in repo.local_instances(id) {
            // A patch of the build may write the reference: what Flux reads is not this.
            if !matches!(repo.field(inst, at), Field::Own(_)) {
                continue;
            }
            let Some(name) = name_node.as_str().and_then(|n| repo.render(inst, n)) else {
                continue;
            };
            let ns_node = reference.get("namespace");
            let explicit = match ns_node.and_then(|n| n.as_str()) {
                Some(ns) => match repo.render(inst, ns) {
                    Some(ns) => Some(ns),
                    None => continue,
                },
                None => None,
            };
            let own = inst
                .namespace
                .as_deref()
                .or(obj.namespace.as_deref().filter(|n| !n.contains("${")));
            let wanted = explicit.as_deref().or(own);
            let cluster = repo.cluster_of(inst);
            let candidates: Vec<&Source> = sources
                .get(&(kind, name.as_str()))
                .into_iter()
                .flatten()
                .filter(|s| compatible(cluster, s.cluster))
                .collect();
            if candidates.iter().any(|s| same_ns(wanted, s.namespace)) {
                continue;
            }
            let key = at
                .split_last()
                .and_then(|(last, parents)| root.path(parents)?.key_span(last))
                .unwrap_or(reference.span());
            let diagnostic = if let Some(s) = candidates.first() {
                let ns = s.namespace.unwrap_or_default();
                let wanted = wanted.unwrap_or_default();
                let src = &repo.objects[s.object];
                let d = match ns_node {
                    None => ctx.finding(obj.file,
                        key,
                        format!("the {referrer} references {kind} `{name}` without `namespace`, so Flux looks for it in `{wanted}` (the {referrer}'s own namespace), but it is defined in `{ns}`: the reconcile fails with \"{kind} '{wanted}/{name}' not found\""),
                    )
                    .help(format!("add `namespace: {ns}` to the reference")),
                    Some(ns_node) => ctx.finding(obj.file,
                        ns_node.span(),
                        format!("no {kind} `{name}` is defined in namespace `{wanted}`: the reconcile fails with \"{kind} '{wanted}/{name}' not found\""),
                    )
                    .help(format!("did you mean `namespace: {ns}`? {kind} `{name}` is defined there")),
                };
                d.related(
                    src.file,
                    repo.kind_span(s.object),
                    format!("{kind} `{name}` in `{ns}`"),
                )
            } else {
                // Not defined here at all: bootstrapped outside Git, unless
                // it is a near miss of one that is.
                if name == "flux-system" || unseen.contains(kind) {
                    continue;
                }
                let near = names.get(kind).and_then(|n| {
                    closest(
                        &name,
                        n.iter().copied().filter(|c| {
                            sources[&(kind, *c)].iter().any(|s| {
                                compatible(cluster, s.cluster) && same_ns(wanted, s.namespace)
                            })
                        }),
                    )
                });
                let Some(near) = near else { continue };
                ctx.finding(obj.file,
                    name_node.span(),
                    format!("no {kind} `{name}` is defined in the repository, but `{near}` is: the reconcile fails with \"{kind} '{}/{name}' not found\"", wanted.unwrap_or_default()),
                )
                .help(format!("did you mean `name: {near}`?"))
            };
            if reported.insert((diagnostic.file, diagnostic.span)) {
                ctx.push(diagnostic);
            }
        }
    }
}
