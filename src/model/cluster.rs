//! Facts about the cluster that the repository as a whole reveals.

use std::net::IpAddr;

use super::Repository;
use crate::diagnostic::FileId;
use crate::yaml::{NodeRef, Span};

/// Why the model believes the cluster is dual-stack.
#[derive(Debug, Clone)]
pub struct DualStack {
    pub reason: String,
    pub at: Option<(FileId, Span)>,
}

#[derive(Debug, Clone, Default)]
pub struct ClusterFacts {
    /// `Some` when the cluster is dual-stack.
    pub dual_stack: Option<DualStack>,
}

/// The IP family of an address, a CIDR or a `start`/`stop` bound. An
/// IPv4-mapped IPv6 address (`::ffff:192.168.3.0`) is IPv4 space.
pub fn family(text: &str) -> Option<u8> {
    let addr = text.trim().split('/').next()?;
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(_) => Some(4),
        IpAddr::V6(a) if a.to_ipv4_mapped().is_some() => Some(4),
        IpAddr::V6(_) => Some(6),
    }
}

fn dual_policy(policy: Option<NodeRef>) -> bool {
    matches!(
        policy.and_then(|p| p.as_str()),
        Some("RequireDualStack" | "PreferDualStack")
    )
}

pub(super) fn facts(repo: &Repository, configured: Option<bool>) -> ClusterFacts {
    let dual_stack = match configured {
        Some(true) => Some(DualStack {
            reason: "the configuration sets `cluster.dual_stack: true`".into(),
            at: None,
        }),
        Some(false) => None,
        // Pools that hold one family outweigh a Service's dual-stack policy
        // (PreferDualStack is valid on a single-stack cluster too).
        None => match pool_families(repo) {
            (Some(_), Some((file, span))) => Some(DualStack {
                reason:
                    "the repository's CiliumLoadBalancerIPPools hold both IPv4 and IPv6 addresses"
                        .into(),
                at: Some((file, span)),
            }),
            (None, None) => from_services(repo),
            _ => None,
        },
    };
    ClusterFacts { dual_stack }
}

type At = (FileId, Span);

/// The first IPv4 and the first IPv6 address or range of the repository's pools.
fn pool_families(repo: &Repository) -> (Option<At>, Option<At>) {
    let mut v4 = None;
    let mut v6 = None;
    for (id, obj) in repo.of_kind("CiliumLoadBalancerIPPool") {
        if obj.group() != "cilium.io" {
            continue;
        }
        let node = repo.object_node(id);
        let blocks = node
            .path(&["spec", "blocks"])
            .into_iter()
            .flat_map(|b| b.items());
        let cidrs = node
            .path(&["spec", "cidrs"])
            .into_iter()
            .flat_map(|b| b.items());
        for block in blocks.chain(cidrs) {
            for key in ["cidr", "start", "stop"] {
                let Some(value) = block.get(key) else {
                    continue;
                };
                let slot = match value.as_str().and_then(family) {
                    Some(4) => &mut v4,
                    Some(6) => &mut v6,
                    _ => continue,
                };
                slot.get_or_insert((obj.file, value.span()));
            }
        }
    }
    (v4, v6)
}

fn from_services(repo: &Repository) -> Option<DualStack> {
    let found = |file, span| {
        Some(DualStack {
            reason: "a Service asks for a dual-stack ipFamilyPolicy".into(),
            at: Some((file, span)),
        })
    };
    for (id, obj) in repo.of_kind("Service") {
        let policy = repo.object_node(id).path(&["spec", "ipFamilyPolicy"]);
        if obj.group().is_empty() && dual_policy(policy) {
            return found(obj.file, policy?.span());
        }
    }
    for hr in &repo.helm_releases {
        let Some(values) = hr.values else { continue };
        let file = repo.objects[hr.object].file;
        let services = repo.node(file, values).get("service");
        for (_, svc) in services.iter().flat_map(|s| s.entries()) {
            let policy = svc.get("ipFamilyPolicy");
            if dual_policy(policy) {
                return found(file, policy?.span());
            }
        }
    }
    None
}
