use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{Ctx, Rule};
use crate::source::Unreadable;
use crate::yaml::Span;

pub static RULE: Rule = Rule {
    id: "yaml/syntax",
    severity: Severity::Error,
    enabled: true,
    needs_repository: false,
    summary: "the file is not valid YAML (or not UTF-8 text)",
    page: include_str!("../../../lints/yaml/syntax.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for (id, file) in repo.files.iter().enumerate() {
        if let Some(Unreadable::NotText { offset, message }) = file.unreadable.as_deref() {
            let at = Span::new(*offset as usize, *offset as usize);
            ctx.push(
                Diagnostic::new(RULE.id, RULE.severity, id, at, message.clone())
                    .help("save the file as UTF-8 text; nothing in it was linted"),
            );
        }
        for err in &file.yaml.errors {
            let pos = file.position(err.offset);
            let at = Span::new(err.offset as usize, err.offset as usize);
            ctx.push(
                Diagnostic::new(
                    RULE.id,
                    RULE.severity,
                    id,
                    at,
                    format!("invalid YAML: {} at line {} column {}", err.message, pos.line, pos.column),
                )
                .help("the document holding this error was not linted; later documents (after the next `---`) were"),
            );
        }
    }
}
