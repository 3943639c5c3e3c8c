//! Services read once: every Service manifest, every Service block of
//! HelmRelease values (app-template's `service.<name>`, other charts' single
//! `service:`), and the Service a Gateway's `spec.infrastructure.annotations`
//! are copied to; with what Cilium LB IPAM reads of them.

use super::{Instance, ObjectId, Repository};
use crate::diagnostic::FileId;
use crate::model::subst::split_commas;
use crate::yaml::{NodeRef, Span};

/// The annotation LB IPAM reads for requested addresses, then its older
/// alias (the new key wins when both are set).
pub const LBIPAM_IPS: [&str; 2] = ["lbipam.cilium.io/ips", "io.cilium/lb-ipam-ips"];
pub const LBIPAM_SHARING_KEY: [&str; 2] = [
    "lbipam.cilium.io/sharing-key",
    "io.cilium/lb-ipam-sharing-key",
];
pub const LBIPAM_CROSS_NS: [&str; 2] = [
    "lbipam.cilium.io/sharing-cross-namespace",
    "io.cilium/lb-ipam-sharing-cross-namespace",
];
/// `loadBalancerClass` values LB IPAM serves; a Service of any other class is ignored by it.
pub const CILIUM_CLASSES: [&str; 2] = ["io.cilium/bgp-control-plane", "io.cilium/l2-announcer"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceSource {
    Manifest,
    /// A Service block of HelmRelease values.
    ChartValues,
    /// The Service a Gateway's controller makes.
    Gateway,
}

/// One Service as written.
pub struct ServiceView<'r> {
    pub file: FileId,
    pub object: ObjectId,
    pub annotations: Option<NodeRef<'r>>,
    /// The node holding `type`, `ipFamilyPolicy`, `ipFamilies`,
    /// `loadBalancerIP`, `loadBalancerClass` (`None` for a Gateway, or a
    /// manifest without `spec`).
    pub spec: Option<NodeRef<'r>>,
    /// The HelmRelease's `spec.targetNamespace`, for Services of chart values.
    pub target_namespace: Option<&'r str>,
    pub source: ServiceSource,
}

impl Repository {
    /// Every Service manifest (core v1), Gateway and Service block of
    /// HelmRelease values, in that order.
    pub fn service_views(&self) -> Vec<ServiceView<'_>> {
        self.service_views_in(|_| true)
    }

    /// [`Repository::service_views`] of the files `keep` accepts.
    pub fn service_views_in(&self, keep: impl Fn(FileId) -> bool) -> Vec<ServiceView<'_>> {
        let mut views = Vec::new();
        for (id, obj) in self.of_kind("Service") {
            if !obj.group().is_empty() || !keep(obj.file) {
                continue;
            }
            let node = self.object_node(id);
            views.push(ServiceView {
                file: obj.file,
                object: id,
                annotations: node.path(&["metadata", "annotations"]),
                spec: node.get("spec"),
                target_namespace: None,
                source: ServiceSource::Manifest,
            });
        }
        for (id, obj) in self.of_kind("Gateway") {
            if obj.group() != "gateway.networking.k8s.io" || !keep(obj.file) {
                continue;
            }
            let node = self.object_node(id);
            views.push(ServiceView {
                file: obj.file,
                object: id,
                annotations: node.path(&["spec", "infrastructure", "annotations"]),
                spec: None,
                target_namespace: None,
                source: ServiceSource::Gateway,
            });
        }
        for hr in &self.helm_releases {
            let Some(values) = hr.values else { continue };
            let file = self.objects[hr.object].file;
            if !keep(file) {
                continue;
            }
            let Some(service) = self
                .node(file, values)
                .get("service")
                .filter(|s| s.is_map())
            else {
                continue;
            };
            let blocks: Vec<NodeRef> = if hr.app_template {
                // bjw-s app-template: `service.<name>.{type, annotations, ipFamilyPolicy, ...}`.
                service
                    .entries()
                    .map(|(_, v)| v)
                    .filter(|v| v.is_map())
                    .collect()
            } else if service.get("type").and_then(|t| t.as_str()).is_some() {
                // Other charts: a single `service:` block, recognised by its `type`.
                vec![service]
            } else {
                Vec::new()
            };
            let target_namespace = self
                .object_node(hr.object)
                .str_at(&["spec", "targetNamespace"]);
            for block in blocks {
                if block.get("enabled").and_then(|e| e.as_bool()) == Some(false) {
                    continue;
                }
                views.push(ServiceView {
                    file,
                    object: hr.object,
                    annotations: block.get("annotations"),
                    spec: Some(block),
                    target_namespace,
                    source: ServiceSource::ChartValues,
                });
            }
        }
        views
    }
}

impl<'r> ServiceView<'r> {
    /// How a finding names it.
    pub fn what(&self) -> &'static str {
        match self.source {
            ServiceSource::Manifest => "the Service",
            ServiceSource::ChartValues => "a Service of the HelmRelease",
            ServiceSource::Gateway => "the Gateway's Service",
        }
    }

    /// Whether LB IPAM assigns its address in this build: a Gateway's
    /// Service, or `type: LoadBalancer` (not written: ClusterIP) with no
    /// `loadBalancerClass` or one LB IPAM serves. A type or class that does
    /// not render is not served.
    pub fn lbipam_serves(&self, repo: &Repository, inst: &Instance) -> bool {
        if self.source == ServiceSource::Gateway {
            return true;
        }
        let text_of = |key: &str| {
            self.spec
                .and_then(|s| s.get(key))
                .and_then(|n| n.as_str())
                .map(|s| repo.render(inst, s))
        };
        let load_balancer = match text_of("type") {
            None => false,
            Some(t) => t.as_deref() == Some("LoadBalancer"),
        };
        load_balancer
            && match text_of("loadBalancerClass") {
                None => true,
                Some(Some(class)) => CILIUM_CLASSES.contains(&class.as_str()),
                Some(None) => false,
            }
    }

    /// The first of `keys` among its annotations: (key name, key, value).
    pub fn annotation(
        &self,
        keys: &[&'static str; 2],
    ) -> Option<(&'static str, NodeRef<'r>, NodeRef<'r>)> {
        let a = self.annotations?;
        keys.iter()
            .find_map(|k| a.entry(k).map(|(key, value)| (*k, key, value)))
    }
}

/// The comma-separated entries of a requested-address value (commas inside
/// `${...}` do not split), each trimmed, with its span in the file (inside
/// the quotes of a quoted scalar; an empty entry at its comma).
pub fn address_entries(file_text: &str, value: NodeRef) -> Vec<(String, Span)> {
    let Some(decoded) = value.as_str() else {
        return Vec::new();
    };
    let span = value.span();
    let source = file_text
        .get(span.start as usize..span.end as usize)
        .unwrap_or("");
    let mut cursor = 0usize;
    let mut out = Vec::new();
    for segment in split_commas(decoded) {
        let trimmed = segment.trim();
        let found = if trimmed.is_empty() {
            source[cursor..].find(',').map(|i| (cursor + i, 1))
        } else {
            source[cursor..]
                .find(trimmed)
                .map(|i| (cursor + i, trimmed.len()))
        };
        let entry_span = match found {
            Some((at, len)) => {
                cursor = at + len;
                let start = span.start as usize + at;
                Span::new(start, start + len)
            }
            None => span,
        };
        out.push((trimmed.to_string(), entry_span));
    }
    out
}
