//! Schema validation findings; the validation itself runs once, in the model
//! (`crate::schema`), and each rule reports its kind of finding.

pub mod invalid_value;
pub mod unknown_field;
pub mod unknown_kind;

use crate::diagnostic::Diagnostic;
use crate::model::Repository;
use crate::rules::{Ctx, Rule};
use crate::schema::{Finding, FindingKind};

fn report(repo: &Repository, rule: &Rule, kind: FindingKind, ctx: &mut Ctx) {
    for f in ctx.schema.findings.iter().filter(|f| f.kind == kind) {
        ctx.push(diagnostic(repo, rule, f));
    }
}

fn diagnostic(repo: &Repository, rule: &Rule, f: &Finding) -> Diagnostic {
    let _ = repo;
    let mut d = Diagnostic::new(rule.id, rule.severity, f.file, f.span, f.message.clone());
    if let Some(h) = &f.help {
        d = d.help(h.clone());
    }
    d
}
