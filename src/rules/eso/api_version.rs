use crate::diagnostic::{Diagnostic, Edit, Severity};
use crate::rules::{Ctx, Rule};
use crate::yaml::Span;

pub static RULE: Rule = Rule {
    id: "eso/api-version",
    severity: Severity::Error,
    enabled: true,
    needs_repository: false,
    summary: "an External Secrets kind on `external-secrets.io/v1beta1` or older, which ESO no longer serves",
    page: include_str!("../../../lints/eso/api-version.md"),
    check: Some(check),
};

/// The kinds that moved to `external-secrets.io/v1` (PushSecret and
/// ClusterPushSecret stay on v1alpha1, their only version).
const MOVED: &[&str] = &[
    "ClusterExternalSecret",
    "ClusterSecretStore",
    "ExternalSecret",
    "SecretStore",
];

/// ESO introduced `external-secrets.io/v1` in v0.16.0 and stopped serving
/// v1beta1 in v0.17.0 (api-facts §3).
const V1_INTRODUCED: (u64, u64, u64) = (0, 16, 0);
const V1BETA1_UNSERVED: (u64, u64, u64) = (0, 17, 0);

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Findings are the objects': none is wanted of a file not reported on.
    let old: Vec<_> = MOVED
        .iter()
        .flat_map(|kind| repo.of_kind(kind).map(move |(id, obj)| (kind, id, obj)))
        .filter_map(|(kind, id, obj)| match obj.api_version.split_once('/') {
            Some(("external-secrets.io", v)) if v == "v1beta1" || v == "v1alpha1" => {
                Some((kind, id, obj, v))
            }
            _ => None,
        })
        .filter(|(_, _, obj, _)| repo.wants(obj.file))
        .collect();
    if old.is_empty() {
        return;
    }
    let installed = repo.installed_version("external-secrets");
    // Before v0.16 there is no v1 to move to: the old versions are current.
    if installed.is_some_and(|v| v < V1_INTRODUCED) {
        return;
    }
    let served = installed.is_some_and(|v| v < V1BETA1_UNSERVED);
    for (kind, id, obj, version) in old {
        let node = repo.object_node(id);
        let Some(value) = node.get("apiVersion") else {
            continue;
        };
        let why = if version == "v1beta1" {
            "ESO serves only `external-secrets.io/v1` since v0.17 (v1beta1 is kept in the CRD but `served: false`)"
        } else {
            "ESO dropped v1alpha1 before v0.16 and serves only `external-secrets.io/v1` since v0.17"
        };
        let (severity, message) = match installed {
            // v0.16 serves v1beta1 still, deprecated.
            Some((a, b, c)) if served && version == "v1beta1" => (
                Severity::Warning,
                format!(
                    "{kind} on `external-secrets.io/v1beta1`: the repository installs ESO {a}.{b}.{c}, which serves it deprecated; {why}, so the upgrade to v0.17 breaks this object"
                ),
            ),
            _ => (
                RULE.severity,
                format!(
                    "{kind} on `external-secrets.io/{version}`: {why}, so the API server rejects this object"
                ),
            ),
        };
        let mut d = Diagnostic::new(RULE.id, severity, obj.file, value.span(), message);
        if version == "v1beta1" {
            // v1 has the v1beta1 schema: the version is all that changes.
            d = d.help(
                "write `apiVersion: external-secrets.io/v1`; nothing else changes from v1beta1",
            );
            // Only the version is replaced, so quoting stays as written.
            let text = &repo.files[obj.file].text();
            let span = value.span();
            let written = &text[span.start as usize..span.end as usize];
            if let Some(at) = written.find("/v1beta1") {
                let start = span.start as usize + at + 1;
                let edit = Edit {
                    span: Span::new(start, start + "v1beta1".len()),
                    replacement: "v1".into(),
                };
                d = d.fix("use external-secrets.io/v1", vec![edit]);
            }
        } else {
            d = d.help("move to `external-secrets.io/v1`; v1alpha1's `dataFrom` entries become `dataFrom: [{extract: {key: ...}}]`");
        }
        ctx.push(d);
    }
}
