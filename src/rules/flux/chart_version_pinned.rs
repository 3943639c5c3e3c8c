use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{Ctx, Rule};
use crate::yaml::NodeRef;

pub static RULE: Rule = Rule {
    id: "flux/chart-version-pinned",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: false,
    summary: "a Helm chart whose version floats: no version, `*`, a range, or an OCIRepository without a fixed tag or digest",
    page: include_str!("../../../lints/flux/chart-version-pinned.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for (id, obj) in ctx.objects("helm.toolkit.fluxcd.io", "HelmRelease") {
        let Some((chart_key, chart_spec)) = repo
            .object_node(id)
            .get("spec")
            .and_then(|s| s.entry("chart"))
            .and_then(|(k, c)| Some((k, c.get("spec")?)))
        else {
            continue;
        };
        let name = chart_spec.str_at(&["chart"]).unwrap_or("the chart");
        if let Some(d) = chart_version(chart_spec, chart_key, name, "spec.chart.spec", obj.file) {
            ctx.push(d);
        }
    }
    for (id, obj) in ctx.objects("source.toolkit.fluxcd.io", "HelmChart") {
        let node = repo.object_node(id);
        let Some((spec_key, spec)) = node.entry("spec") else {
            continue;
        };
        let name = spec.str_at(&["chart"]).unwrap_or("the chart");
        if let Some(d) = chart_version(spec, spec_key, name, "spec", obj.file) {
            ctx.push(d);
        }
    }
    for (id, obj) in ctx.objects("source.toolkit.fluxcd.io", "OCIRepository") {
        let node = repo.object_node(id);
        let Some((spec_key, spec)) = node.entry("spec") else {
            continue;
        };
        let url = spec.str_at(&["url"]).unwrap_or("");
        if has_var(url) {
            continue;
        }
        if let Some(d) = oci_ref(spec, spec_key, url, obj.file) {
            ctx.push(d);
        }
    }
}

/// `version` of a chart template (`spec.chart.spec` of a HelmRelease, or the
/// `spec` of a HelmChart). Only a HelmRepository source resolves versions:
/// with a GitRepository or Bucket the field is ignored.
fn chart_version(
    spec: NodeRef,
    key: NodeRef,
    chart: &str,
    at: &str,
    file: crate::diagnostic::FileId,
) -> Option<Diagnostic> {
    let kind = spec.str_at(&["sourceRef", "kind"])?;
    if kind != "HelmRepository" {
        return None;
    }
    let help = "pin the exact chart version (`version: 1.2.3`) and let Renovate or Dependabot propose upgrades";
    let Some(version) = spec.get("version") else {
        return Some(
            Diagnostic::new(
                RULE.id,
                Severity::Warning,
                file,
                key.span(),
                format!("`{at}` has no `version`: Flux defaults it to `*` and installs whatever version of {chart} is newest at each reconcile"),
            )
            .help(help),
        );
    };
    let text = version.as_str()?.trim();
    if has_var(text) || is_exact(text) {
        return None;
    }
    let what = if text == "*" || text.is_empty() {
        "`*`, any version".to_string()
    } else if is_range(text) {
        format!("the range `{text}`")
    } else {
        return None;
    };
    Some(
        Diagnostic::new(
            RULE.id,
            Severity::Warning,
            file,
            version.span(),
            format!("the version of {chart} is {what}: Flux upgrades the release on its own whenever a newer matching chart is published, unreviewed"),
        )
        .help(help),
    )
}

/// An OCIRepository's `spec.ref`: `digest` wins over `semver`, which wins
/// over `tag`; without any, source-controller follows the `latest` tag.
fn oci_ref(
    spec: NodeRef,
    spec_key: NodeRef,
    url: &str,
    file: crate::diagnostic::FileId,
) -> Option<Diagnostic> {
    let help = "pin `ref.tag` to a version (`tag: 1.2.3`) or `ref.digest` to a digest, and let Renovate propose upgrades";
    let r = spec.get("ref");
    let digest = r.and_then(|r| r.str_at(&["digest"]));
    if digest.is_some() {
        return None;
    }
    if let Some(semver) = r.and_then(|r| r.get("semver")) {
        let text = semver.as_str()?.trim();
        if has_var(text) || is_exact(text) || !(text == "*" || is_range(text)) {
            return None;
        }
        return Some(
            Diagnostic::new(
                RULE.id,
                Severity::Warning,
                file,
                semver.span(),
                format!("`ref.semver: {text}` is a range: source-controller pulls the newest matching artifact of `{url}` on its own, unreviewed"),
            )
            .help(help),
        );
    }
    if let Some(tag) = r.and_then(|r| r.get("tag")) {
        let text = tag.as_str()?.trim();
        if text != "latest" {
            return None;
        }
        return Some(
            Diagnostic::new(
                RULE.id,
                Severity::Warning,
                file,
                tag.span(),
                format!("`ref.tag: latest` floats: `{url}` changes under the same tag and Flux deploys whatever was pushed last"),
            )
            .help(help),
        );
    }
    let (span, what) = match r.and_then(|_| spec.entry("ref")) {
        Some((k, _)) => (k.span(), "a `ref` with no `tag`, `semver` or `digest`"),
        None => (spec_key.span(), "no `ref`"),
    };
    Some(
        Diagnostic::new(
            RULE.id,
            Severity::Warning,
            file,
            span,
            format!("the OCIRepository for `{url}` has {what}: source-controller follows the `latest` tag, so whatever is pushed last is deployed"),
        )
        .help(help),
    )
}

/// A value a template fills: Flux's `${VAR}`, flux-operator's `<< inputs.x >>`.
fn has_var(s: &str) -> bool {
    s.contains("${") || s.contains("<<")
}

/// An exact semantic version: `1.2.3`, `v1.2.3`, `=1.2.3`, with an optional
/// pre-release and build (`1.2.3-rc.1+b5`).
fn is_exact(s: &str) -> bool {
    let s = s.strip_prefix('=').unwrap_or(s).trim();
    let s = s.strip_prefix('v').unwrap_or(s);
    let core = s.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && s[core.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-+.".contains(&b))
}

/// A Masterminds semver constraint that matches more than one version:
/// operators, wildcards, several clauses, or a partial version (`1.2` means `1.2.x`).
fn is_range(s: &str) -> bool {
    if s.contains(['*', '^', '~', '<', '>', '|', ',', ' ', '!']) {
        return true;
    }
    let s = s.strip_prefix('=').unwrap_or(s);
    let s = s.strip_prefix('v').unwrap_or(s);
    let parts: Vec<&str> = s.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            matches!(*p, "x" | "X") || (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
        && (parts.len() < 3 || parts.iter().any(|p| matches!(*p, "x" | "X")))
}

#[cfg(test)]
mod tests {
    use super::{is_exact, is_range};

    #[test]
    fn exact_and_ranges() {
        for s in ["1.2.3", "v1.2.3", "=1.2.3", "1.2.3-rc.1", "0.1.0+build.5"] {
            assert!(is_exact(s), "{s}");
        }
        for s in [
            ">=1.0.0",
            "1.x",
            "^1",
            "~1.2",
            "1.2",
            "1",
            "*",
            "1.2.x",
            ">=1.0.0 <2.0.0",
            "1.0 - 2.0",
        ] {
            assert!(!is_exact(s) && is_range(s), "{s}");
        }
        assert!(!is_range("latest"));
    }
}
