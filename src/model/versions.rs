//! The versions of the controllers a repository installs, where it shows
//! them: the chart of a HelmRelease (`spec.chart.spec.version`), the tag of
//! an OCIRepository of the chart, or a helmfile release. Rules that depend
//! on what a controller serves (the API versions of a CRD) ask here.

use super::Classified;

/// A `major.minor.patch` version.
pub type Version = (u64, u64, u64);

/// Reads `v0.16.2`, `0.16.2`, `0.16` (and a `@sha256:` digest after it).
pub fn parse_version(text: &str) -> Option<Version> {
    let text = text.trim().split('@').next()?.trim_start_matches('v');
    let mut parts = text.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

impl Classified {
    /// The lowest version of `chart` the repository installs (`None`: not shown).
    pub fn installed_version(&self, chart: &str) -> Option<Version> {
        let is_chart = |url: &str| url.trim_end_matches('/').rsplit('/').next() == Some(chart);
        let mut found: Vec<Version> = Vec::new();
        for (id, obj) in self.of_kind("OCIRepository") {
            if obj.group() != "source.toolkit.fluxcd.io" {
                continue;
            }
            let spec = self.object_node(id).get("spec");
            if spec.and_then(|s| s.str_at(&["url"])).is_some_and(is_chart)
                && let Some(v) = spec
                    .and_then(|s| s.str_at(&["ref", "tag"]))
                    .and_then(parse_version)
            {
                found.push(v);
            }
        }
        for (id, obj) in self.of_kind("HelmRelease") {
            if obj.group() != "helm.toolkit.fluxcd.io" {
                continue;
            }
            let chart_spec = self.object_node(id).path(&["spec", "chart", "spec"]);
            if chart_spec.and_then(|s| s.str_at(&["chart"])) == Some(chart)
                && let Some(v) = chart_spec
                    .and_then(|s| s.str_at(&["version"]))
                    .and_then(parse_version)
            {
                found.push(v);
            }
        }
        // helmfile: `releases: [{chart: repo/name, version: x}]`.
        for file in &self.files {
            if !file.path.contains("helmfile") || !file.text().contains(chart) {
                continue;
            }
            for doc in file.yaml.documents() {
                for release in doc.get("releases").into_iter().flat_map(|r| r.items()) {
                    if release.str_at(&["chart"]).is_some_and(is_chart)
                        && let Some(v) = release.str_at(&["version"]).and_then(parse_version)
                    {
                        found.push(v);
                    }
                }
            }
        }
        found.into_iter().min()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions() {
        assert_eq!(parse_version("v0.16.2"), Some((0, 16, 2)));
        assert_eq!(parse_version("0.17"), Some((0, 17, 0)));
        assert_eq!(parse_version("1.0.0@sha256:abc"), Some((1, 0, 0)));
        assert_eq!(parse_version("latest"), None);
        assert_eq!(parse_version(">=0.16"), None);
    }
}
