use std::collections::HashMap;
use std::net::IpAddr;

use crate::diagnostic::Severity;
use crate::model::services::{
    LBIPAM_CROSS_NS, LBIPAM_IPS, LBIPAM_SHARING_KEY, ServiceView, address_entries,
};
use crate::model::{FluxId, Instance, Repository};
use crate::rules::{Ctx, Rule};
use crate::yaml::Span;

pub static RULE: Rule = Rule {
    id: "cilium/lbipam-ip-in-pool",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "a LoadBalancer IP requested from Cilium LB IPAM lies in no CiliumLoadBalancerIPPool, or two Services request one IP without sharing it",
    page: include_str!("../../../lints/cilium/lbipam-ip-in-pool.md"),
    check: Some(check),
};

/// A contiguous range of addresses of one pool block.
struct Block {
    lo: u128,
    hi: u128,
    v6: bool,
    /// First and last address are not allocatable (`allowFirstLastIPs: "No"`, a `cidr`).
    no_first_last: bool,
    pool: usize,
}

#[derive(Default)]
struct ClusterPools {
    blocks: Vec<Block>,
    /// A pool block that cannot be read (an unresolved variable): membership unknown.
    unknown: bool,
    names: Vec<String>,
}

/// One requested address of one Service instance.
struct Request {
    view: usize,
    cluster: Option<FluxId>,
    namespace: Option<String>,
    ip: IpAddr,
    written: String,
    span: Span,
    sharing_key: Option<String>,
    cross_ns: Option<String>,
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Findings are placed on requests of the files reported on: without one,
    // none is wanted.
    if repo.focused() {
        let views = repo.service_views_in(|f| repo.wants(f));
        let mut requests = Vec::new();
        for (vi, view) in views.iter().enumerate() {
            for inst in repo.instances(view.object) {
                requests_of(repo, vi, view, inst, &mut requests);
            }
        }
        if requests.is_empty() {
            return;
        }
    }
    let pools = pools(repo);
    if pools.is_empty() {
        return; // the pools live outside the repository
    }
    let views = repo.service_views();
    let mut requests = Vec::new();
    for (vi, view) in views.iter().enumerate() {
        for inst in repo.instances(view.object) {
            requests_of(repo, vi, view, inst, &mut requests);
        }
    }

    let mut seen = std::collections::HashSet::new();
    // Membership: against the pools of the Service's cluster (all pools when unknown).
    for r in &requests {
        let Some(groups) = scope(&pools, r.cluster) else {
            continue;
        };
        if groups.is_empty() || groups.iter().any(|g| g.unknown) {
            continue;
        }
        let (value, v6) = to_u128(r.ip);
        let mut edge = None;
        let mut inside = false;
        for g in &groups {
            for b in g.blocks.iter().filter(|b| b.v6 == v6) {
                if value < b.lo || value > b.hi {
                    continue;
                }
                if b.no_first_last && (value == b.lo || value == b.hi) && b.hi > b.lo + 1 {
                    edge.get_or_insert(b.pool);
                } else {
                    inside = true;
                }
            }
        }
        if inside {
            continue;
        }
        let view = &views[r.view];
        if !repo.wants(view.file) || !seen.insert((view.file, r.span, 0u8)) {
            continue;
        }
        // A pool applied by several builds is named once.
        let names: Vec<String> = groups
            .iter()
            .flat_map(|g| g.names.iter().map(|n| format!("`{n}`")))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let message = if edge.is_some() {
            format!(
                "{} is the first or last address of a pool block whose pool sets `allowFirstLastIPs: \"No\"`: Cilium LB IPAM never assigns it, and the Service stays at `EXTERNAL-IP <pending>`",
                r.written
            )
        } else {
            format!(
                "{} lies in no CiliumLoadBalancerIPPool of the repository ({}): Cilium LB IPAM assigns only addresses of its pools, and the Service stays at `EXTERNAL-IP <pending>`",
                r.written,
                names.join(", ")
            )
        };
        ctx.report(view.file, r.span, message)
                .help("request an address inside a pool block (`cidr`, or `start`..`stop`), or add a block that holds it to a pool");
    }

    // Sharing: one address requested by two Services of one cluster.
    let mut by_ip: HashMap<(Option<FluxId>, IpAddr), Vec<usize>> = HashMap::new();
    for (i, r) in requests.iter().enumerate() {
        by_ip.entry((r.cluster, r.ip)).or_default().push(i);
    }
    let mut keys: Vec<_> = by_ip.keys().copied().collect();
    keys.sort();
    for key in keys {
        let list = &by_ip[&key];
        for (n, &b) in list.iter().enumerate() {
            let rb = &requests[b];
            if !repo.wants(views[rb.view].file) {
                continue;
            }
            let Some(&a) = list[..n].iter().find(|&&a| {
                let ra = &requests[a];
                ra.view != rb.view && !shares(ra, rb)
            }) else {
                continue;
            };
            let ra = &requests[a];
            let vb = &views[rb.view];
            let va = &views[ra.view];
            if !seen.insert((vb.file, rb.span, 1u8)) {
                continue;
            }
            let why = match (&ra.sharing_key, &rb.sharing_key) {
                (Some(x), Some(y)) if x == y => format!(
                    "they share the key `{x}`, but they are in different namespaces (`{}`, `{}`) and do not both allow it with `lbipam.cilium.io/sharing-cross-namespace`",
                    ra.namespace.as_deref().unwrap_or("?"),
                    rb.namespace.as_deref().unwrap_or("?")
                ),
                (Some(x), Some(y)) => format!("their sharing keys differ (`{x}`, `{y}`)"),
                _ => "they do not both carry the same `lbipam.cilium.io/sharing-key`".to_string(),
            };
            ctx.report(vb.file,
                    rb.span,
                    format!(
                        "{} is also requested by {} ({}): {why}, so Cilium LB IPAM gives the address to one of them and leaves the other at `EXTERNAL-IP <pending>`",
                        rb.written,
                        va.what(),
                        repo.files[va.file].path
                    ),
                )
                .help("give each Service its own address, or set the same `lbipam.cilium.io/sharing-key` on both (and `lbipam.cilium.io/sharing-cross-namespace` on both when their namespaces differ); their ports must not overlap")
                .related(va.file, ra.span, "the same address is requested here");
        }
    }
}

/// The pools a Service of `cluster` is compared with: its cluster's own and
/// those no Flux Kustomization applies. A cluster with no pools of its own (a
/// Kustomization nothing applies is a cluster of its own) uses every pool when
/// the pools of the repository belong to one cluster only; with several, it
/// cannot be told which, and the Service is not checked. A Service that no
/// Flux Kustomization applies is compared with every pool.
fn scope(
    pools: &HashMap<Option<FluxId>, ClusterPools>,
    cluster: Option<FluxId>,
) -> Option<Vec<&ClusterPools>> {
    let owned = |c: &Option<FluxId>| {
        pools
            .get(c)
            .is_some_and(|g| !g.names.is_empty() || g.unknown)
    };
    let all = || pools.values().collect::<Vec<_>>();
    if cluster.is_none() || owned(&cluster) {
        return Some(match cluster {
            None => all(),
            Some(_) => pools
                .get(&cluster)
                .into_iter()
                .chain(pools.get(&None))
                .collect(),
        });
    }
    let clusters = pools.keys().filter(|c| c.is_some() && owned(c)).count();
    (clusters <= 1).then(all)
}

fn shares(a: &Request, b: &Request) -> bool {
    let (Some(ka), Some(kb)) = (&a.sharing_key, &b.sharing_key) else {
        return false;
    };
    if ka != kb {
        return false;
    }
    if a.namespace == b.namespace {
        return true;
    }
    let allows = |r: &Request, other: &Option<String>| {
        r.cross_ns.as_deref().is_some_and(|list| {
            list.split(',')
                .map(str::trim)
                .any(|n| n == "*" || Some(n) == other.as_deref())
        })
    };
    allows(a, &b.namespace) && allows(b, &a.namespace)
}

fn to_u128(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(a) => (u32::from(a) as u128, false),
        IpAddr::V6(a) => (u128::from(a), true),
    }
}

/// The enabled pools, grouped by the cluster that applies them.
fn pools(repo: &Repository) -> HashMap<Option<FluxId>, ClusterPools> {
    let mut out: HashMap<Option<FluxId>, ClusterPools> = HashMap::new();
    for (id, obj) in repo.of_kind("CiliumLoadBalancerIPPool") {
        if obj.group() != "cilium.io" {
            continue;
        }
        let node = repo.object_node(id);
        let Some(spec) = node.get("spec") else {
            continue;
        };
        let no_first_last = spec
            .get("allowFirstLastIPs")
            .and_then(|v| v.as_str())
            .is_some_and(|v| v.eq_ignore_ascii_case("no"));
        for inst in repo.instances(id) {
            let group = out.entry(repo.cluster_of(inst)).or_default();
            let disabled = spec.get("disabled");
            match disabled.and_then(|d| d.as_bool()) {
                Some(true) => continue,
                Some(false) => {}
                None if disabled.and_then(|d| d.as_str()).is_some() => {
                    group.unknown = true; // `${VAR}`: cannot tell
                    continue;
                }
                None => {}
            }
            let pool = group.names.len();
            group.names.push(
                inst.name
                    .as_deref()
                    .or(obj.name.as_deref())
                    .unwrap_or_default()
                    .to_string(),
            );
            let blocks = spec.get("blocks").into_iter().flat_map(|b| b.items());
            let cidrs = spec.get("cidrs").into_iter().flat_map(|b| b.items());
            for block in blocks.chain(cidrs) {
                let text = |k: &str| {
                    block
                        .get(k)
                        .and_then(|v| v.as_str())
                        .map(|s| repo.render(inst, s))
                };
                let range = match (text("cidr"), text("start"), text("stop")) {
                    (Some(Some(c)), _, _) => parse_cidr(&c).map(|(lo, hi, v6)| (lo, hi, v6, true)),
                    (Some(None), _, _) | (None, Some(None), _) | (None, _, Some(None)) => None,
                    (None, Some(Some(s)), stop) => {
                        let start = s.trim().parse::<IpAddr>().ok().map(to_u128);
                        let stop = match stop {
                            Some(Some(e)) => e.trim().parse::<IpAddr>().ok().map(to_u128),
                            _ => start,
                        };
                        match (start, stop) {
                            (Some((lo, a)), Some((hi, b))) if a == b && lo <= hi => {
                                Some((lo, hi, a, false))
                            }
                            _ => None,
                        }
                    }
                    (None, None, _) => continue,
                };
                match range {
                    Some((lo, hi, v6, is_cidr)) => group.blocks.push(Block {
                        lo,
                        hi,
                        v6,
                        no_first_last: no_first_last && is_cidr,
                        pool,
                    }),
                    None => group.unknown = true,
                }
            }
        }
    }
    out
}

fn parse_cidr(text: &str) -> Option<(u128, u128, bool)> {
    let (addr, len) = text.trim().split_once('/')?;
    let (value, v6) = to_u128(addr.parse::<IpAddr>().ok()?);
    let bits = if v6 { 128 } else { 32 };
    let len: u32 = len.parse().ok().filter(|&l| l <= bits)?;
    let host = if len == bits {
        0
    } else {
        (1u128 << (bits - len)) - 1
    };
    let lo = value & !host;
    Some((lo, lo | host, v6))
}

fn requests_of(
    repo: &Repository,
    vi: usize,
    view: &ServiceView,
    inst: &Instance,
    out: &mut Vec<Request>,
) {
    if !view.lbipam_serves(repo, inst) {
        return;
    }
    let annotation = |keys: &[&'static str; 2]| view.annotation(keys).map(|(k, _, v)| (k, v));
    let sharing_key = match annotation(&LBIPAM_SHARING_KEY).and_then(|(_, v)| v.as_str()) {
        Some(k) => match repo.render(inst, k) {
            Some(k) => Some(k.trim().to_string()).filter(|k| !k.is_empty()),
            None => return, // cannot tell whom it shares with
        },
        None => None,
    };
    let cross_ns = annotation(&LBIPAM_CROSS_NS)
        .and_then(|(_, v)| v.as_str())
        .and_then(|v| repo.render(inst, v));
    let namespace = match view.target_namespace {
        Some(t) => repo.render(inst, t),
        None => inst.namespace.as_deref().map(str::to_string),
    };

    let file_text = &repo.files[view.file].text();
    let mut values = Vec::new();
    if let Some(v) = view.spec.and_then(|s| s.get("loadBalancerIP")) {
        values.push(v);
    }
    if let Some((_, v)) = annotation(&LBIPAM_IPS) {
        values.push(v);
    }
    for value in values {
        for (written, span) in address_entries(file_text, value) {
            if written.is_empty() {
                continue;
            }
            let Some(rendered) = repo.render(inst, &written) else {
                continue;
            };
            for part in rendered.split(',') {
                let Ok(ip) = part.trim().parse::<IpAddr>() else {
                    continue; // not an address: lbipam-dual-stack reports it
                };
                out.push(Request {
                    view: vi,
                    cluster: repo.cluster_of(inst),
                    namespace: namespace.clone(),
                    ip,
                    written: if written == part.trim() {
                        format!("`{written}`")
                    } else {
                        format!("`{written}` (rendered `{}`)", part.trim())
                    },
                    span,
                    sharing_key: sharing_key.clone(),
                    cross_ns: cross_ns.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_ranges() {
        assert_eq!(
            parse_cidr("10.0.0.0/24"),
            Some((0x0a00_0000, 0x0a00_00ff, false))
        );
        assert_eq!(
            parse_cidr("10.0.0.7/32"),
            Some((0x0a00_0007, 0x0a00_0007, false))
        );
        assert!(parse_cidr("fd00::/64").is_some_and(|(_, _, v6)| v6));
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_cidr("10.0.0.0"), None);
    }
}
