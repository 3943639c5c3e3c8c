use crate::diagnostic::Severity;
use crate::rules::{Ctx, Rule};
use crate::schema::FindingKind;

pub static RULE: Rule = Rule {
    id: "schema/unknown-kind",
    severity: Severity::Info,
    enabled: false,
    needs_repository: false,
    summary: "an object whose apiVersion and kind have no known schema, so it is not validated",
    page: include_str!("../../../lints/schema/unknown-kind.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    super::report(repo, &RULE, FindingKind::UnknownKind, ctx);
}
