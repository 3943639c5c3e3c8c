use crate::diagnostic::Severity;
use crate::rules::{Ctx, Rule};
use crate::schema::FindingKind;

pub static RULE: Rule = Rule {
    id: "schema/unknown-field",
    severity: Severity::Error,
    enabled: true,
    needs_repository: false,
    summary: "a key the schema of its kind does not define (with the closest field it may have meant)",
    page: include_str!("../../../lints/schema/unknown-field.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    super::report(repo, &RULE, FindingKind::UnknownField, ctx);
}
