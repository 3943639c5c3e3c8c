use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;
use crate::rules::Rule;
use crate::schema::FindingKind;

pub static RULE: Rule = Rule {
    id: "schema/unknown-kind",
    severity: Severity::Info,
    enabled: false,
    summary: "an object whose apiVersion and kind have no known schema, so it is not validated",
    page: include_str!("../../../lints/schema/unknown-kind.md"),
    check: Some(check),
};

fn check(repo: &Repository, out: &mut Vec<Diagnostic>) {
    super::report(repo, &RULE, FindingKind::UnknownKind, out);
}
