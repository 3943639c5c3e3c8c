use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    id: "workload/rwo-single-replica-recreate",
    severity: Severity::Error,
    enabled: true,
    summary: "TODO",
    page: include_str!("../../../lints/workload/rwo-single-replica-recreate.md"),
    check: Some(check),
};

fn check(_repo: &Repository, _out: &mut Vec<Diagnostic>) {}
