use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;
use crate::rules::Rule;
use crate::schema::FindingKind;

pub static RULE: Rule = Rule {
    id: "schema/unknown-field",
    severity: Severity::Error,
    enabled: true,
    summary: "a key the schema of its kind does not define (with the closest field it may have meant)",
    page: include_str!("../../../lints/schema/unknown-field.md"),
    check: Some(check),
};

fn check(repo: &Repository, out: &mut Vec<Diagnostic>) {
    super::report(repo, &RULE, FindingKind::UnknownField, out);
}
