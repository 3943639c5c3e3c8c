use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    id: "kustomize/component-shared-resource",
    severity: Severity::Error,
    enabled: true,
    summary: "TODO",
    page: include_str!("../../../lints/kustomize/component-shared-resource.md"),
    check: Some(check),
};

fn check(_repo: &Repository, _out: &mut Vec<Diagnostic>) {}
