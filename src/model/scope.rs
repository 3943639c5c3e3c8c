//! Whether a kind is cluster-scoped (kustomize then sets no namespace on it,
//! and two of them with one name are one object in the whole cluster). The
//! CustomResourceDefinitions of the repository say so (`spec.scope`); else a
//! list of the common kinds, and the `Cluster*` naming convention.

use rustc_hash::FxHashMap as HashMap;

use super::{Object, Repository};

/// Cluster-scoped kinds, sorted: Kubernetes' own and the common custom ones.
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "Bundle",
    "CSIDriver",
    "CSINode",
    "CiliumBGPAdvertisement",
    "CiliumBGPClusterConfig",
    "CiliumBGPNodeConfig",
    "CiliumBGPNodeConfigOverride",
    "CiliumBGPPeerConfig",
    "CiliumBGPPeeringPolicy",
    "CiliumCIDRGroup",
    "CiliumClusterwideEnvoyConfig",
    "CiliumClusterwideNetworkPolicy",
    "CiliumExternalWorkload",
    "CiliumIdentity",
    "CiliumL2AnnouncementPolicy",
    "CiliumLoadBalancerIPPool",
    "CiliumNode",
    "CiliumPodIPPool",
    "ClusterExternalSecret",
    "ClusterGenerator",
    "ClusterIssuer",
    "ClusterPolicy",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterSecretStore",
    "CustomResourceDefinition",
    "GatewayClass",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeSnapshotClass",
    "VolumeSnapshotContent",
];

/// The scope a kind has without a CRD of the repository to say: the list
/// above, or the `Cluster*` / `*Clusterwide*` naming convention (a
/// `ClusterIssuer`, not a `Cluster`).
pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.binary_search(&kind).is_ok()
        || kind
            .strip_prefix("Cluster")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        || kind
            .match_indices('C')
            .any(|(i, _)| kind[i..].starts_with("Clusterwide"))
}

/// kind -> (group, cluster-scoped) for each group, from the repository's
/// CRDs (the first CRD of a group and kind says).
pub(super) fn crd_scopes(repo: &Repository) -> HashMap<String, Vec<(String, bool)>> {
    let mut out: HashMap<String, Vec<(String, bool)>> = HashMap::default();
    for (id, obj) in repo.of_kind("CustomResourceDefinition") {
        if obj.group() != "apiextensions.k8s.io" {
            continue;
        }
        let spec = repo.object_node(id).get("spec");
        let (Some(group), Some(kind), Some(scope)) = (
            spec.and_then(|s| s.str_at(&["group"])),
            spec.and_then(|s| s.str_at(&["names", "kind"])),
            spec.and_then(|s| s.str_at(&["scope"])),
        ) else {
            continue;
        };
        let groups = out.entry(kind.to_string()).or_default();
        if !groups.iter().any(|(g, _)| g == group) {
            groups.push((group.to_string(), scope == "Cluster"));
        }
    }
    out
}

impl Repository {
    /// Whether an object's kind is cluster-scoped.
    pub fn cluster_scoped(&self, obj: &Object) -> bool {
        if !self.crd_scopes.is_empty()
            && let Some(&(_, c)) = self
                .crd_scopes
                .get(obj.kind.as_str())
                .and_then(|groups| groups.iter().find(|(g, _)| g == obj.group()))
        {
            return c;
        }
        is_cluster_scoped(&obj.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_the_convention_holds() {
        assert!(CLUSTER_SCOPED.windows(2).all(|w| w[0] < w[1]));
        assert!(is_cluster_scoped("ClusterIssuer") && is_cluster_scoped("Bundle"));
        assert!(is_cluster_scoped("CiliumClusterwideNetworkPolicy"));
        assert!(!is_cluster_scoped("Cluster") && !is_cluster_scoped("Deployment"));
    }
}
