use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    id: "eso/no-password-generator-for-sso",
    severity: Severity::Error,
    enabled: true,
    summary: "TODO",
    page: include_str!("../../../lints/eso/no-password-generator-for-sso.md"),
    check: Some(check),
};

fn check(_repo: &Repository, _out: &mut Vec<Diagnostic>) {}
