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
        || kind.contains("Clusterwide")
}

/// (group, kind) -> cluster-scoped, from the repository's CRDs.
pub(super) fn crd_scopes(repo: &Repository) -> HashMap<(String, String), bool> {
    let mut out = HashMap::default();
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
        out.entry((group.to_string(), kind.to_string()))
            .or_insert(scope == "Cluster");
    }
    out
}

impl Repository {
    /// Whether an object's kind is cluster-scoped.
    pub fn cluster_scoped(&self, obj: &Object) -> bool {
        if !self.crd_scopes.is_empty()
            && let Some(&c) = self
                .crd_scopes
                .get(&(obj.group().to_string(), obj.kind.clone()))
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
