use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Field, Instance, ObjectId, Repository, closest, distance};
use crate::rules::{Ctx, Rule};

use super::helpers::{compatible, same_ns};
use crate::yaml::Span;

pub static RULE: Rule = Rule {
    id: "flux/depends-on-resolves",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "a Flux `dependsOn` entry names no Kustomization or HelmRelease in the namespace it means, or dependencies form a cycle",
    page: include_str!("../../../lints/flux/depends-on-resolves.md"),
    check: Some(check),
};

/// The Flux kinds whose `dependsOn` names objects of the same kind.
const KINDS: [(&str, &str); 2] = [
    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
    ("helm.toolkit.fluxcd.io", "HelmRelease"),
];

/// One Flux object as a build produces it.
struct Node<'r> {
    object: ObjectId,
    kind: usize,
    instance: &'r Instance,
    name: Option<&'r str>,
    namespace: Option<&'r str>,
    cluster: Option<usize>,
}

fn label(ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// A finding for an entry that names nothing: (file, span, message, help).
type Unresolved = (usize, Span, String, String);

/// What the graph is built from.
struct Table<'r> {
    repo: &'r Repository,
    nodes: Vec<Node<'r>>,
    by_name: HashMap<(usize, &'r str), Vec<usize>>,
    unseen: [Vec<Option<&'r str>>; 2],
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Every finding is placed on a Kustomization or HelmRelease (a cycle, on
    // one of its members): without one in the files reported on, none is wanted.
    if !KINDS
        .iter()
        .any(|(group, kind)| ctx.objects(group, kind).next().is_some())
    {
        return;
    }
    let mut nodes: Vec<Node> = Vec::new();
    // Objects another tool makes, or whose names we cannot read: a name found
    // nowhere may be one of them, in their namespace (`None`: any namespace).
    let mut unseen: [Vec<Option<&str>>; 2] = [Vec::new(), Vec::new()];
    let templates = repo
        .of_kind("ResourceSet")
        .any(|(_, o)| o.group() == "fluxcd.controlplane.io");
    for (k, (group, kind)) in KINDS.iter().enumerate() {
        if templates {
            unseen[k].push(None);
        }
        for (id, obj) in repo.of_kind(kind) {
            if obj.group() != *group {
                continue;
            }
            for inst in repo.local_instances(id) {
                if inst.name.is_none() {
                    unseen[k].push(
                        inst.namespace
                            .as_deref()
                            .or(obj.namespace.as_deref().filter(|n| !n.contains("${"))),
                    );
                }
                let cluster = repo.cluster_of(inst);
                nodes.push(Node {
                    object: id,
                    kind: k,
                    instance: inst,
                    name: inst.name.as_deref(),
                    namespace: inst
                        .namespace
                        .as_deref()
                        .or(obj.namespace.as_deref().filter(|n| !n.contains("${"))),
                    cluster,
                });
            }
        }
    }
    let mut by_name: HashMap<(usize, &str), Vec<usize>> = HashMap::default();
    for (i, n) in nodes.iter().enumerate() {
        if let Some(name) = n.name {
            by_name.entry((n.kind, name)).or_default().push(i);
        }
    }
    let table = Table {
        repo,
        nodes,
        by_name,
        unseen,
    };
    let nodes = &table.nodes;
    let n = nodes.len();
    // The entries of the nodes a node of a file reported on reaches: a cycle
    // through a node of such a file has its other members among them.
    let mut edges: Vec<Vec<(usize, Span)>> = vec![Vec::new(); n];
    let mut findings: Vec<Vec<Unresolved>> = vec![Vec::new(); n];
    let mut done = vec![false; n];
    let mut work: Vec<usize> = (0..n)
        .filter(|&i| repo.wants(repo.objects[nodes[i].object].file))
        .collect();
    while let Some(r) = work.pop() {
        if done[r] {
            continue;
        }
        done[r] = true;
        (edges[r], findings[r]) = resolve(&table, r);
        work.extend(edges[r].iter().map(|&(t, _)| t).filter(|&t| !done[t]));
    }
    let mut reported: HashSet<(usize, Span)> = HashSet::default();
    for (file, span, message, help) in findings.into_iter().flatten() {
        if reported.insert((file, span)) {
            ctx.report(file, span, message).help(help);
        }
    }
    let complete = done.iter().all(|&d| d);
    let found = match cycles(repo, nodes, &edges, reported.clone(), complete) {
        Some(found) => found,
        None => {
            // Two cycles report at one place: which comes first depends on
            // the whole graph's order.
            for r in (0..n).filter(|&r| !done[r]) {
                edges[r] = resolve(&table, r).0;
            }
            cycles(repo, nodes, &edges, reported, true).expect("the whole graph")
        }
    };
    for d in found {
        ctx.push(d);
    }
}

/// The nodes the `dependsOn` entries of node `r` name, and findings for the
/// entries that name none (only when its file is reported on).
fn resolve(table: &Table, r: usize) -> (Vec<(usize, Span)>, Vec<Unresolved>) {
    let Table {
        repo,
        nodes,
        by_name,
        unseen,
    } = table;
    let node = &nodes[r];
    let mut edges = Vec::new();
    let mut findings = Vec::new();
    let obj = &repo.objects[node.object];
    let Some(list) = repo.object_node(node.object).path(&["spec", "dependsOn"]) else {
        return (edges, findings);
    };
    let kind = KINDS[node.kind].1;
    // A patch of the build may write the list: what Flux reads is not this.
    if !matches!(
        repo.field(node.instance, &["spec", "dependsOn"]),
        Field::Own(_)
    ) {
        return (edges, findings);
    }
    for item in list.items() {
        let Some(name_node) = item.get("name") else {
            continue;
        };
        let Some(name) = name_node
            .as_str()
            .and_then(|n| repo.render(node.instance, n))
        else {
            continue;
        };
        let ns_node = item.get("namespace");
        let explicit = match ns_node.and_then(|n| n.as_str()) {
            Some(ns) => match repo.render(node.instance, ns) {
                Some(ns) => Some(ns),
                None => continue,
            },
            None => None,
        };
        let wanted_ns = explicit.as_deref().or(node.namespace);
        let candidates: Vec<usize> = by_name
            .get(&(node.kind, name.as_str()))
            .into_iter()
            .flatten()
            .copied()
            .filter(|&c| compatible(node.cluster, nodes[c].cluster))
            .collect();
        let found: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&c| same_ns(wanted_ns, nodes[c].namespace))
            .collect();
        if !found.is_empty() {
            edges.extend(found.into_iter().map(|c| (c, name_node.span())));
            continue;
        }
        // The graph needs every edge; a finding, only its own file.
        if !repo.wants(obj.file) {
            continue;
        }
        let what = format!("{kind} `{}`", label(wanted_ns, &name));
        let whose = if explicit.is_some() {
            String::new()
        } else {
            format!(" (no `namespace`, so the {kind}'s own)")
        };
        let (span, message, help) = if let Some(&c) = candidates.first() {
            let ns = nodes[c].namespace.unwrap_or_default();
            let span = ns_node.map_or(name_node.span(), |n| n.span());
            (
                span,
                format!(
                    "`dependsOn` names {what}{whose}, which does not exist: `{name}` is in namespace `{ns}`, so this {kind} never becomes ready (DependencyNotReady)"
                ),
                if explicit.is_some() {
                    format!("did you mean `namespace: {ns}`?")
                } else {
                    format!("did you mean `namespace: {ns}`? add it to the entry")
                },
            )
        } else {
            // The nearest name among the nodes that fit, ties to the name
            // whose first node that fits comes first (as `closest` over the
            // nodes in order): each name is compared once, not once a node.
            let near = |in_ns: bool| {
                let fits = |c: usize| {
                    compatible(node.cluster, nodes[c].cluster)
                        && (!in_ns || same_ns(wanted_ns, nodes[c].namespace))
                };
                let mut best: Option<(usize, usize, &str)> = None;
                for (&(kind, n), members) in by_name {
                    if kind != node.kind || closest(&name, [n]).is_none() {
                        continue;
                    }
                    let Some(&first) = members.iter().find(|&&c| fits(c)) else {
                        continue;
                    };
                    let d = distance(&name, n);
                    if best.is_none_or(|(bd, bf, _)| (d, first) < (bd, bf)) {
                        best = Some((d, first, n));
                    }
                }
                best.map(|(_, _, n)| {
                    let c = by_name[&(node.kind, n)]
                        .iter()
                        .find(|&&c| !in_ns || same_ns(wanted_ns, nodes[c].namespace))
                        .copied()
                        .unwrap_or(by_name[&(node.kind, n)][0]);
                    (n, nodes[c].namespace)
                })
            };
            match near(true).or_else(|| near(false)) {
                Some((n, ns)) => {
                    let meant = if same_ns(wanted_ns, ns) {
                        format!("`name: {n}`")
                    } else {
                        format!("`name: {n}` in `namespace: {}`", ns.unwrap_or_default())
                    };
                    (
                        name_node.span(),
                        format!(
                            "`dependsOn` names {what}{whose}, which is not defined in the repository, so this {kind} never becomes ready (DependencyNotReady)"
                        ),
                        format!("did you mean {meant}?"),
                    )
                }
                None if unseen[node.kind]
                    .iter()
                    .any(|ns| ns.is_none() || same_ns(wanted_ns, *ns))
                    || (node.kind == 0 && name == "flux-system") =>
                {
                    continue;
                }
                None => (
                    name_node.span(),
                    format!(
                        "`dependsOn` names {what}{whose}, which is not defined in the repository, so this {kind} never becomes ready (DependencyNotReady)"
                    ),
                    format!(
                        "name an existing {kind} (and its `namespace` when it is not this one's), or remove the entry"
                    ),
                ),
            }
        };
        findings.push((obj.file, span, message, help));
    }
    (edges, findings)
}

/// A finding for each dependency cycle, on its first member in path order,
/// unless `reported` has one at that place. With part of the graph only
/// (`complete` false: nodes no entry was read of have no edges), `None` when
/// two cycles meet at one place, where the first of the whole graph's order
/// is the one reported.
fn cycles(
    repo: &Repository,
    nodes: &[Node],
    edges: &[Vec<(usize, Span)>],
    mut reported: HashSet<(usize, Span)>,
    complete: bool,
) -> Option<Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut places: HashSet<(usize, Span)> = HashSet::default();
    for scc in strongly_connected(edges) {
        let self_loop = scc.len() == 1 && edges[scc[0]].iter().any(|&(t, _)| t == scc[0]);
        if scc.len() < 2 && !self_loop {
            continue;
        }
        let members: HashSet<usize> = scc.iter().copied().collect();
        let first = *scc
            .iter()
            .min_by_key(|&&n| (nodes[n].object, nodes[n].instance.namespace.clone()))
            .unwrap();
        // The shortest way round from the first member back to it.
        let mut prev: HashMap<usize, (usize, Span)> = HashMap::default();
        let mut queue = std::collections::VecDeque::from([first]);
        let mut back: Option<(usize, Span)> = None;
        'bfs: while let Some(n) = queue.pop_front() {
            for &(t, span) in &edges[n] {
                if !members.contains(&t) {
                    continue;
                }
                if t == first {
                    back = Some((n, span));
                    break 'bfs;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(t) {
                    e.insert((n, span));
                    queue.push_back(t);
                }
            }
        }
        let Some((last, last_span)) = back else {
            continue;
        };
        let mut path = vec![(last, last_span)];
        let mut n = last;
        while n != first {
            let (p, span) = prev[&n];
            path.push((p, span));
            n = p;
        }
        path.reverse();
        // path[i] = (member, span of its entry naming the next member)
        let name_of = |n: usize| label(nodes[n].namespace, nodes[n].name.unwrap_or_default());
        let mut ring: Vec<String> = path
            .iter()
            .map(|&(n, _)| format!("`{}`", name_of(n)))
            .collect();
        ring.push(format!("`{}`", name_of(first)));
        let kind = KINDS[nodes[first].kind].1;
        let file = repo.objects[nodes[first].object].file;
        let span = path[0].1;
        if !complete && !places.insert((file, span)) {
            return None;
        }
        if !reported.insert((file, span)) {
            continue;
        }
        let message = if path.len() == 1 {
            format!(
                "`dependsOn` names the {kind} `{}` itself: it waits for its own readiness and never reconciles",
                name_of(first)
            )
        } else {
            format!(
                "`dependsOn` forms a cycle: {}: each waits for the next to be ready, so none of these {kind}s ever reconciles",
                ring.join(" → ")
            )
        };
        let mut d =
            Diagnostic::new(RULE.id, RULE.severity, file, span, message).help(if path.len() == 1 {
                "remove the entry"
            } else {
                "remove one of the dependencies in the cycle"
            });
        for &(n, span) in &path[1..] {
            d = d.related(
                repo.objects[nodes[n].object].file,
                span,
                format!("`{}` depends on the next member here", name_of(n)),
            );
        }
        out.push(d);
    }
    Some(out)
}

/// Tarjan's algorithm, iterative.
fn strongly_connected(edges: &[Vec<(usize, Span)>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some(&(v, i)) = work.last() {
            if index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&(w, _)) = edges[v].get(i) {
                if let Some(top) = work.last_mut() {
                    top.1 += 1;
                }
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut scc = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(scc);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::model::{ModelSettings, Repository};
    use crate::source::SourceFile;

    fn ks(name: &str, namespace: &str, depends_on: Option<&str>) -> String {
        let mut doc = format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  interval: 1h\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        );
        if let Some(d) = depends_on {
            doc.push_str(&format!("  dependsOn:\n    - name: {d}\n"));
        }
        doc
    }

    /// A file of one Flux Kustomization: path, name, namespace, and the name
    /// it depends on.
    type File = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    );

    /// The help of the one finding of this rule on `files`.
    fn help(files: &[File]) -> String {
        let sources = files
            .iter()
            .map(|&(path, name, ns, on)| {
                SourceFile::from_bytes(path.into(), ks(name, ns, on).into())
            })
            .collect();
        let repo = Repository::new("/repo".into(), sources, &ModelSettings::default());
        let found: Vec<_> = crate::run::check_repository(&repo)
            .into_iter()
            .filter(|d| d.rule == super::RULE.id)
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        found[0].help.clone().unwrap_or_default()
    }

    #[test]
    fn the_nearest_name_goes_to_the_first_node_that_fits() {
        let cases: [(&[File], &str); 3] = [
            // Two names one edit away: the one whose node comes first wins.
            (
                &[
                    ("a.yaml", "app-c", "flux-system", None),
                    ("b.yaml", "app-a", "flux-system", None),
                    ("c.yaml", "web", "flux-system", Some("app-b")),
                ],
                "app-c",
            ),
            // `app-a` comes first, but in another namespace; in the namespace
            // the entry means, `app-c` comes before it.
            (
                &[
                    ("a.yaml", "app-a", "other", None),
                    ("b.yaml", "app-c", "flux-system", None),
                    ("c.yaml", "app-a", "flux-system", None),
                    ("d.yaml", "web", "flux-system", Some("app-b")),
                ],
                "app-c",
            ),
            // Nearer wins over first.
            (
                &[
                    ("a.yaml", "app-bcd", "flux-system", None),
                    ("b.yaml", "app-bc", "flux-system", None),
                    ("c.yaml", "web", "flux-system", Some("app-bcde")),
                ],
                "app-bcd",
            ),
        ];
        for (files, meant) in cases {
            assert_eq!(help(files), format!("did you mean `name: {meant}`?"));
        }
    }
}
