use crate::diagnostic::{Diagnostic, Edit, Severity};
use crate::model::Repository;
use crate::rules::Rule;
use crate::yaml::Span;

pub static RULE: Rule = Rule {
    id: "eso/api-version",
    severity: Severity::Error,
    enabled: true,
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

fn check(repo: &Repository, out: &mut Vec<Diagnostic>) {
    for kind in MOVED {
        for (id, obj) in repo.of_kind(kind) {
            let version = match obj.api_version.split_once('/') {
                Some(("external-secrets.io", v)) if v == "v1beta1" || v == "v1alpha1" => v,
                _ => continue,
            };
            let node = repo.object_node(id);
            let Some(value) = node.get("apiVersion") else {
                continue;
            };
            let why = if version == "v1beta1" {
                "ESO serves only `external-secrets.io/v1` since v0.17 (v1beta1 is kept in the CRD but `served: false`)"
            } else {
                "ESO dropped v1alpha1 before v0.16 and serves only `external-secrets.io/v1` since v0.17"
            };
            let mut d = Diagnostic::new(
                RULE.id,
                RULE.severity,
                obj.file,
                value.span(),
                format!(
                    "{kind} on `external-secrets.io/{version}`: {why}, so the API server rejects this object"
                ),
            );
            if version == "v1beta1" {
                // v1 has the v1beta1 schema: the version is all that changes.
                d = d.help(
                    "write `apiVersion: external-secrets.io/v1`; nothing else changes from v1beta1",
                );
                // Only the version is replaced, so quoting stays as written.
                let text = &repo.files[obj.file].text;
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
            out.push(d);
        }
    }
}
