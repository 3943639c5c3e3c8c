//! Findings made by the suppression pass (`crate::suppress`), after the rules.

use crate::diagnostic::Severity;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    id: "lint/unused-suppression",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: false,
    summary: "a `# gitops-lint:` suppression comment suppresses nothing",
    page: include_str!("../../../lints/lint/unused-suppression.md"),
    check: None,
};
