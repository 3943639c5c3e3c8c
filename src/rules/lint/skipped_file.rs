use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{Ctx, Rule};
use crate::source::Unreadable;
use crate::yaml::Span;

pub static RULE: Rule = Rule {
    id: "lint/skipped-file",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: false,
    summary: "a YAML file could not be read: too large, unreadable, not a regular file, gone while being read, or a link out of the root or in a loop; or an ignore file was not safe to read",
    page: include_str!("../../../lints/lint/skipped-file.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for (id, file) in repo.files.iter().enumerate() {
        if let Some(Unreadable::Skipped(why)) = file.unreadable.as_deref() {
            ctx.push(
                Diagnostic::new(RULE.id, RULE.severity, id, Span::default(), why.clone())
                    .help("nothing in this file was linted; exclude it in `.gitops-lint.yaml` if that is intended"),
            );
        }
    }
}
