use crate::diagnostic::Severity;
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "flux/deprecated-api",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: false,
    summary: "a Flux object on an apiVersion that Flux has removed or deprecated, with the version to use instead",
    page: include_str!("../../../lints/flux/deprecated-api.md"),
    check: Some(check),
};

/// The served version of each Flux kind (facts §1.8).
const CURRENT: &[(&str, &str, &str)] = &[
    ("kustomize.toolkit.fluxcd.io", "Kustomization", "v1"),
    ("helm.toolkit.fluxcd.io", "HelmRelease", "v2"),
    ("source.toolkit.fluxcd.io", "GitRepository", "v1"),
    ("source.toolkit.fluxcd.io", "OCIRepository", "v1"),
    ("source.toolkit.fluxcd.io", "HelmRepository", "v1"),
    ("source.toolkit.fluxcd.io", "HelmChart", "v1"),
    ("source.toolkit.fluxcd.io", "Bucket", "v1"),
    ("source.toolkit.fluxcd.io", "ExternalArtifact", "v1"),
    ("notification.toolkit.fluxcd.io", "Alert", "v1beta3"),
    ("notification.toolkit.fluxcd.io", "Provider", "v1beta3"),
    ("notification.toolkit.fluxcd.io", "Receiver", "v1"),
    ("image.toolkit.fluxcd.io", "ImageRepository", "v1"),
    ("image.toolkit.fluxcd.io", "ImagePolicy", "v1"),
    ("image.toolkit.fluxcd.io", "ImageUpdateAutomation", "v1"),
];

enum Status {
    /// Removed in this Flux minor version, by this controller release.
    Removed(&'static str, &'static str),
    /// Still served, deprecated since this Flux minor version.
    Deprecated(&'static str),
}

/// Versions Flux has retired, per group (facts §1.8; image group from the
/// image-reflector-controller 1.0.0 changelog).
const RETIRED: &[(&str, &str, Status)] = &[
    (
        "kustomize.toolkit.fluxcd.io",
        "v1beta1",
        Status::Removed("2.7", "kustomize-controller 1.7.0"),
    ),
    (
        "kustomize.toolkit.fluxcd.io",
        "v1beta2",
        Status::Removed("2.8", "kustomize-controller 1.8.0"),
    ),
    (
        "helm.toolkit.fluxcd.io",
        "v2beta1",
        Status::Removed("2.7", "helm-controller 1.4.0"),
    ),
    (
        "helm.toolkit.fluxcd.io",
        "v2beta2",
        Status::Removed("2.8", "helm-controller 1.5.0"),
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1beta1",
        Status::Removed("2.7", "source-controller 1.7.0"),
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1beta2",
        Status::Removed("2.8", "source-controller 1.8.0"),
    ),
    (
        "notification.toolkit.fluxcd.io",
        "v1beta1",
        Status::Removed("2.7", "notification-controller 1.7.0"),
    ),
    (
        "notification.toolkit.fluxcd.io",
        "v1beta2",
        Status::Removed("2.9", "notification-controller 1.9.0"),
    ),
    (
        "image.toolkit.fluxcd.io",
        "v1beta1",
        Status::Removed("2.7", "image-reflector-controller 1.0.0"),
    ),
    (
        "image.toolkit.fluxcd.io",
        "v1beta2",
        Status::Deprecated("2.7"),
    ),
];

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for (id, obj) in repo.objects.iter().enumerate() {
        // The finding is the object's: none is wanted of a file not reported on.
        if !ctx.wants(obj.file) {
            continue;
        }
        let Some((group, version)) = obj.api_version.rsplit_once('/') else {
            continue;
        };
        if !group.ends_with(".toolkit.fluxcd.io") {
            continue;
        }
        let Some(&(_, kind, current)) = CURRENT
            .iter()
            .find(|(g, k, _)| *g == group && *k == obj.kind)
        else {
            continue;
        };
        if version == current {
            continue;
        }
        let replacement = format!("{group}/{current}");
        let retired = RETIRED
            .iter()
            .find(|(g, v, _)| *g == group && *v == version)
            .map(|(_, _, s)| s);
        let message = match retired {
            Some(Status::Removed(flux, controller)) => format!(
                "`{}` was removed in Flux {flux} ({controller}): a cluster on Flux {flux} or later does not serve it and rejects this {kind}; the current version is `{replacement}`",
                obj.api_version
            ),
            Some(Status::Deprecated(flux)) => format!(
                "`{}` is deprecated since Flux {flux}, when `{replacement}` became the current version of {kind}: it is still served, but will be removed",
                obj.api_version
            ),
            None => format!(
                "Flux does not serve {kind} at `{}`: the current version is `{replacement}`",
                obj.api_version
            ),
        };
        let node = repo.object_node(id);
        let span = node
            .get("apiVersion")
            .map_or_else(|| repo.kind_span(id), |v| v.span());
        ctx.report(obj.file, span, message).help(format!(
                "write `apiVersion: {replacement}` and check the spec against that version (`flux migrate -f <dir>` rewrites the files; run `flux migrate` on the cluster before upgrading the CRDs)"
            ));
    }
}
