use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;
use crate::rules::Rule;
use crate::schema::FindingKind;

pub static RULE: Rule = Rule {
    id: "schema/invalid-value",
    severity: Severity::Error,
    enabled: true,
    summary: "a value of the wrong type, outside its enum or pattern, or a required field missing",
    page: include_str!("../../../lints/schema/invalid-value.md"),
    check: Some(check),
};

fn check(repo: &Repository, out: &mut Vec<Diagnostic>) {
    super::report(repo, &RULE, FindingKind::InvalidValue, out);
}
