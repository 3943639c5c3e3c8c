//! Flux HelmReleases, with bjw-s app-template recognised through its chart source.

use super::{ObjectId, Repository};
use crate::yaml::NodeId;

#[derive(Debug)]
pub struct HelmRelease {
    pub object: ObjectId,
    /// `spec.values`, when written inline.
    pub values: Option<NodeId>,
    /// The chart is bjw-s app-template (whose Deployment strategy defaults to Recreate).
    pub app_template: bool,
}

fn is_app_template_url(url: &str) -> bool {
    url.trim_end_matches('/').rsplit('/').next() == Some("app-template")
}

pub(super) fn helm_releases(repo: &Repository) -> Vec<HelmRelease> {
    let mut oci_by_name: rustc_hash::FxHashMap<&str, Vec<super::ObjectId>> = Default::default();
    for (id, o) in repo.of_kind("OCIRepository") {
        if let Some(name) = o.name.as_deref() {
            oci_by_name.entry(name).or_default().push(id);
        }
    }
    repo.of_kind("HelmRelease")
        .filter(|(_, o)| o.group() == "helm.toolkit.fluxcd.io")
        .map(|(id, o)| {
            let node = repo.object_node(id);
            let spec = node.get("spec");
            let app_template = spec.is_some_and(|spec| {
                if spec.str_at(&["chart", "spec", "chart"]) == Some("app-template") {
                    return true;
                }
                let Some(chart_ref) = spec.get("chartRef") else {
                    return false;
                };
                if chart_ref.str_at(&["kind"]) != Some("OCIRepository") {
                    return false;
                }
                let name = chart_ref.str_at(&["name"]);
                let ns = chart_ref.str_at(&["namespace"]).or(o.namespace.as_deref());
                // By name; prefer a source in the release's namespace when several exist.
                let candidates: Vec<_> = name
                    .and_then(|n| oci_by_name.get(n))
                    .into_iter()
                    .flatten()
                    .map(|&i| (i, &repo.objects[i]))
                    .collect();
                let chosen = candidates
                    .iter()
                    .find(|(_, s)| ns.is_some() && s.namespace.as_deref() == ns)
                    .or(candidates.first());
                chosen.is_some_and(|(sid, _)| {
                    repo.object_node(*sid)
                        .str_at(&["spec", "url"])
                        .is_some_and(is_app_template_url)
                })
            });
            HelmRelease {
                object: id,
                values: spec.and_then(|s| s.get("values")).map(|v| v.id()),
                app_template,
            }
        })
        .collect()
}
