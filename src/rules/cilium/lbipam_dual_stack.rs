use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    id: "cilium/lbipam-dual-stack",
    severity: Severity::Error,
    enabled: true,
    summary: "TODO",
    page: include_str!("../../../lints/cilium/lbipam-dual-stack.md"),
    check: Some(check),
};

fn check(_repo: &Repository, _out: &mut Vec<Diagnostic>) {}
