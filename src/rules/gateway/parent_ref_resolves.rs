use std::collections::{HashMap, HashSet};

use crate::diagnostic::{Diagnostic, FileId, Severity};
use crate::model::{FluxId, Instance, ObjectId, Repository, closest};
use crate::rules::{Ctx, Rule};
use crate::yaml::{NodeRef, Span};

pub static RULE: Rule = Rule {
    id: "gateway/parent-ref-resolves",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "a route's `parentRefs` entry names no Gateway of the repository, or no listener of that Gateway",
    page: include_str!("../../../lints/gateway/parent-ref-resolves.md"),
    check: Some(check),
};

const GROUP: &str = "gateway.networking.k8s.io";
const ROUTES: [&str; 5] = ["HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"];

/// One Gateway as a build produces it.
struct Gw {
    object: ObjectId,
    cluster: Option<FluxId>,
    namespace: Option<String>,
    name: String,
    /// Listener names, `None` when one cannot be resolved.
    listeners: Option<Vec<String>>,
}

/// A place holding `parentRefs`: a route manifest or a chart's `route.<name>`.
struct RouteView<'a> {
    file: FileId,
    object: ObjectId,
    parent_refs: NodeRef<'a>,
    target_namespace: Option<&'a str>,
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Findings are the routes': none is wanted of a file not reported on.
    let views = routes(repo);
    if views.is_empty() {
        return;
    }
    let mut gateways = Vec::new();
    for (id, obj) in repo.of_kind("Gateway") {
        if obj.group() != GROUP {
            continue;
        }
        let node = repo.object_node(id);
        for inst in repo.instances(id) {
            let Some(name) = inst.name.as_deref().map(str::to_string) else {
                continue;
            };
            let listeners = node
                .path(&["spec", "listeners"])
                .into_iter()
                .flat_map(|l| l.items())
                .map(|l| l.str_at(&["name"]).and_then(|n| repo.render(inst, n)))
                .collect();
            gateways.push(Gw {
                object: id,
                cluster: repo.cluster_of(inst),
                namespace: inst.namespace.as_deref().map(str::to_string),
                name,
                listeners,
            });
        }
    }
    if gateways.is_empty() {
        return; // the Gateways are installed outside the repository
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, g) in gateways.iter().enumerate() {
        by_name.entry(g.name.as_str()).or_default().push(i);
    }

    // The clusters that have Gateways of their own.
    let mut clusters: Vec<FluxId> = gateways.iter().filter_map(|g| g.cluster).collect();
    clusters.sort_unstable();
    clusters.dedup();
    let mut seen = HashSet::new();
    for view in views {
        for inst in repo.instances(view.object) {
            let route_ns = match view.target_namespace {
                Some(t) => repo.render(inst, t),
                None => inst.namespace.as_deref().map(str::to_string),
            };
            for entry in view.parent_refs.items() {
                let gws = Gateways {
                    all: &gateways,
                    by_name: &by_name,
                    clusters: &clusters,
                };
                if let Some(d) = check_ref(repo, &gws, &view, inst, &route_ns, entry)
                    && seen.insert((d.file, d.span))
                {
                    ctx.push(d);
                }
            }
        }
    }
}

/// Whether a route of `cluster` is compared with Gateway `g`: the Gateways of
/// its own cluster and those no Flux Kustomization applies. A cluster with no
/// Gateway of its own (a Kustomization nothing applies is a cluster of its own)
/// is compared with every Gateway when the repository's Gateways belong to one
/// cluster only (`wide`); a route no Flux Kustomization applies, with every Gateway.
fn same_cluster(g: &Gw, cluster: Option<FluxId>, wide: bool) -> bool {
    g.cluster.is_none() || cluster.is_none() || g.cluster == cluster || wide
}

/// The repository's Gateways: all of them, by name, and the clusters that
/// have some (sorted).
struct Gateways<'g> {
    all: &'g [Gw],
    by_name: &'g HashMap<&'g str, Vec<usize>>,
    clusters: &'g [FluxId],
}

fn check_ref(
    repo: &Repository,
    gws: &Gateways,
    view: &RouteView,
    inst: &Instance,
    route_ns: &Option<String>,
    entry: NodeRef,
) -> Option<Diagnostic> {
    let render = |key: &str| -> Option<Option<String>> {
        entry
            .get(key)
            .and_then(|v| v.as_str())
            .map(|s| repo.render(inst, s))
    };
    // A Service (mesh routing) or a ListenerSet is not checked here.
    if let Some(kind) = render("kind")
        && kind? != "Gateway"
    {
        return None;
    }
    if let Some(group) = render("group")
        && group? != GROUP
    {
        return None;
    }
    let name_node = entry.get("name")?;
    let name = repo.render(inst, name_node.as_str()?)?;
    let (namespace, ns_node) = match entry.get("namespace") {
        Some(n) => (repo.render(inst, n.as_str()?)?, Some(n)),
        None => (route_ns.clone()?, None),
    };
    let gateways = gws.all;
    let cluster = repo.cluster_of(inst);
    let own = cluster.is_some_and(|c| gws.clusters.binary_search(&c).is_ok());
    if !own && cluster.is_some() && gws.clusters.len() > 1 {
        return None; // which cluster's Gateways it means cannot be told
    }
    let wide = !own;
    let in_cluster = || gateways.iter().filter(|g| same_cluster(g, cluster, wide));
    // None: this cluster's Gateways are installed elsewhere.
    in_cluster().next()?;
    let named: Vec<&Gw> = gws
        .by_name
        .get(name.as_str())
        .into_iter()
        .flatten()
        .map(|&i| &gateways[i])
        .filter(|g| same_cluster(g, cluster, wide))
        .collect();
    // Gateways whose namespace is unknown match any namespace.
    let exact: Vec<&Gw> = named
        .iter()
        .copied()
        .filter(|g| g.namespace.is_none() || g.namespace.as_deref() == Some(namespace.as_str()))
        .collect();
    if exact.is_empty() {
        let elsewhere: Vec<&str> = named
            .iter()
            .filter_map(|g| g.namespace.as_deref())
            .collect();
        let (span, message, help) = if let Some(other) = elsewhere.first() {
            let place = ns_node.map_or(name_node.span(), |n| n.span());
            let message = match ns_node {
                Some(_) => format!(
                    "no Gateway `{name}` exists in namespace `{namespace}`; the repository defines `{name}` in namespace `{other}`, so the route is never attached and its traffic is not routed"
                ),
                None => format!(
                    "this parentRef has no `namespace`, so it means Gateway `{name}` in the route's own namespace `{namespace}`, where none exists; `{name}` is in namespace `{other}`, so the route is never attached"
                ),
            };
            (
                place,
                message,
                format!("did you mean `namespace: {other}`?"),
            )
        } else {
            let in_cluster: Vec<&Gw> = in_cluster().collect();
            let names: Vec<&str> = in_cluster
                .iter()
                .filter(|g| {
                    g.namespace.is_none() || g.namespace.as_deref() == Some(namespace.as_str())
                })
                .map(|g| g.name.as_str())
                .collect();
            let all: Vec<&str> = in_cluster.iter().map(|g| g.name.as_str()).collect();
            let suggestion = closest(&name, names.iter().copied())
                .or_else(|| closest(&name, all.iter().copied()));
            let help = match suggestion {
                Some(s) => {
                    let ns = in_cluster
                        .iter()
                        .find(|g| g.name == s)
                        .and_then(|g| g.namespace.clone());
                    match ns {
                        Some(ns) if ns != namespace => {
                            format!("did you mean Gateway `{s}` (namespace `{ns}`)?")
                        }
                        _ => format!("did you mean `{s}`?"),
                    }
                }
                None => {
                    let mut all = all.clone();
                    all.sort_unstable();
                    all.dedup();
                    format!(
                        "name one of the repository's Gateways: {}",
                        all.iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            };
            (
                name_node.span(),
                format!(
                    "no Gateway `{name}` exists in namespace `{namespace}` in this repository, so the route is never attached and its traffic is not routed"
                ),
                help,
            )
        };
        return Some(
            Diagnostic::new(RULE.id, Severity::Error, view.file, span, message).help(help),
        );
    }

    // sectionName: a listener of the Gateway.
    let section_node = entry.get("sectionName")?;
    let section = repo.render(inst, section_node.as_str()?)?;
    let mut listeners: Vec<&str> = Vec::new();
    for g in &exact {
        let Some(l) = &g.listeners else { return None };
        if l.contains(&section) {
            return None;
        }
        listeners.extend(l.iter().map(String::as_str));
    }
    listeners.sort_unstable();
    listeners.dedup();
    let help = match closest(&section, listeners.iter().copied()) {
        Some(s) => format!("did you mean `sectionName: {s}`?"),
        None => format!(
            "name one of its listeners: {}",
            listeners
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let gw = exact[0];
    let at = &repo.objects[gw.object];
    Some(
        Diagnostic::new(
            RULE.id,
            Severity::Error,
            view.file,
            section_node.span(),
            format!(
                "Gateway `{name}` has no listener named `{section}`, so the route is not attached to it and its traffic is not routed"
            ),
        )
        .help(help)
        .related(at.file, gateway_span(repo, gw.object), "the Gateway's listeners are here"),
    )
}

fn gateway_span(repo: &Repository, id: ObjectId) -> Span {
    let node = repo.object_node(id);
    node.path(&["spec"])
        .and_then(|s| s.key_span("listeners"))
        .unwrap_or_else(|| repo.kind_span(id))
}

/// Route manifests, and `route.<name>.parentRefs` of HelmRelease values, of
/// the files reported on.
fn routes(repo: &Repository) -> Vec<RouteView<'_>> {
    let mut views = Vec::new();
    for kind in ROUTES {
        for (id, obj) in repo.of_kind(kind) {
            if obj.group() != GROUP || !repo.wants(obj.file) {
                continue;
            }
            let Some(refs) = repo.object_node(id).path(&["spec", "parentRefs"]) else {
                continue;
            };
            views.push(RouteView {
                file: obj.file,
                object: id,
                parent_refs: refs,
                target_namespace: None,
            });
        }
    }
    for hr in &repo.helm_releases {
        let Some(values) = hr.values else { continue };
        let file = repo.objects[hr.object].file;
        if !repo.wants(file) {
            continue;
        }
        let Some(route) = repo.node(file, values).get("route").filter(|r| r.is_map()) else {
            continue;
        };
        let target = repo
            .object_node(hr.object)
            .str_at(&["spec", "targetNamespace"]);
        for (_, block) in route.entries() {
            if !block.is_map() || block.get("enabled").and_then(|e| e.as_bool()) == Some(false) {
                continue;
            }
            let Some(refs) = block.get("parentRefs").filter(|r| r.is_seq()) else {
                continue;
            };
            views.push(RouteView {
                file,
                object: hr.object,
                parent_refs: refs,
                target_namespace: target,
            });
        }
    }
    views
}
