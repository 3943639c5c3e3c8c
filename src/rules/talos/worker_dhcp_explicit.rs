use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    id: "talos/worker-dhcp-explicit",
    severity: Severity::Error,
    enabled: true,
    summary: "TODO",
    page: include_str!("../../../lints/talos/worker-dhcp-explicit.md"),
    check: Some(check),
};

fn check(_repo: &Repository, _out: &mut Vec<Diagnostic>) {}
