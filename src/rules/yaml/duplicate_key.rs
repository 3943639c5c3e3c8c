use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "yaml/duplicate-key",
    severity: Severity::Error,
    enabled: true,
    needs_repository: false,
    summary: "a mapping repeats a key; the later value silently wins",
    page: include_str!("../../../lints/yaml/duplicate-key.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for (id, file) in repo.files.iter().enumerate() {
        for dup in &file.yaml.duplicate_keys {
            let key = &file.text()[dup.repeat.start as usize..dup.repeat.end as usize];
            let first = file.position(dup.first.start);
            ctx.push(
                Diagnostic::new(
                    RULE.id,
                    RULE.severity,
                    id,
                    dup.repeat,
                    format!("key `{key}` repeats the key at line {}; this later value replaces the first one", first.line),
                )
                .help("remove one of the two keys, or merge their values")
                .related(id, dup.first, "first defined here"),
            );
        }
    }
}
