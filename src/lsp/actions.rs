//! Code actions: a finding's fix, a comment that disables its rule for the
//! line, and every safe fix of a file at once.

use std::collections::{BTreeSet, HashMap};

use lsp_types as lsp;

use crate::rules;
use crate::yaml::Span;

use super::conversion::{Finding, nth_line, utf16_len};

/// The edit that adds `# gitops-lint: disable-next-line=RULE` above `line`
/// (0-based), indented like that line; when the line above is already such a
/// comment, the rule is added to its list instead.
pub fn disable_edit(text: &str, line: u32, rule: &str) -> lsp::TextEdit {
    const DIRECTIVE: &str = "# gitops-lint: disable-next-line=";
    if line > 0
        && let Some((above, _)) = nth_line(text, line - 1)
    {
        let trimmed = above.trim_start();
        if let Some(ids) = trimmed.strip_prefix(DIRECTIVE) {
            let ids_start = above.len() - ids.len();
            let ids_end = ids_start + ids.find(char::is_whitespace).unwrap_or(ids.len());
            if ids_end > ids_start {
                let at = lsp::Position::new(line - 1, utf16_len(&above[..ids_end]));
                return lsp::TextEdit::new(lsp::Range::new(at, at), format!(",{rule}"));
            }
        }
    }
    let (body, newline) = nth_line(text, line).unwrap_or(("", ""));
    let indent = &body[..body.len() - body.trim_start_matches([' ', '\t']).len()];
    let newline = match newline {
        "" if text.contains("\r\n") => "\r\n",
        "" => "\n",
        other => other,
    };
    let at = lsp::Position::new(line, 0);
    lsp::TextEdit::new(
        lsp::Range::new(at, at),
        format!("{indent}{DIRECTIVE}{rule}{newline}"),
    )
}

/// Findings a `# gitops-lint:` comment cannot silence: the suppression pass's own,
/// and files that were never read.
pub fn suppressible(rule: &str) -> bool {
    rule != rules::unused_rule().id && rule != rules::lint::skipped_file::RULE.id
}

pub fn kind_wanted(kind: &lsp::CodeActionKind, only: Option<&Vec<lsp::CodeActionKind>>) -> bool {
    only.is_none_or(|only| {
        only.iter().any(|o| {
            kind.as_str() == o.as_str()
                || kind
                    .as_str()
                    .strip_prefix(o.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    })
}

/// Whether a finding is on one of the lines of the requested range: editors
/// ask with the cursor's position, which may lie anywhere on the line.
fn on_lines(finding: &lsp::Range, asked: &lsp::Range) -> bool {
    finding.start.line <= asked.end.line && asked.start.line <= finding.end.line
}

/// The code actions for the findings of a document (`text`, `findings`) on
/// the lines of the requested range.
pub fn code_actions(
    params: &lsp::CodeActionParams,
    text: &str,
    findings: &[Finding],
) -> Vec<lsp::CodeActionOrCommand> {
    let uri = &params.text_document.uri;
    let only = params.context.only.as_ref();
    let mut actions = Vec::new();
    let edit = |edits: Vec<lsp::TextEdit>| lsp::WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..Default::default()
    };
    let quickfix = lsp::CodeActionKind::QUICKFIX;
    let mut disabled: BTreeSet<(u32, &str)> = BTreeSet::new();
    for f in findings
        .iter()
        .filter(|f| on_lines(&f.diagnostic.range, &params.range))
    {
        if let Some((title, edits)) = &f.fix
            && kind_wanted(&quickfix, only)
        {
            actions.push(lsp::CodeAction {
                title: title.clone(),
                kind: Some(quickfix.clone()),
                diagnostics: Some(vec![f.diagnostic.clone()]),
                edit: Some(edit(edits.iter().map(|(_, e)| e.clone()).collect())),
                is_preferred: Some(true),
                ..Default::default()
            });
        }
        let line = f.diagnostic.range.start.line;
        if suppressible(f.rule) && kind_wanted(&quickfix, only) && disabled.insert((line, f.rule)) {
            actions.push(lsp::CodeAction {
                title: format!("Disable {} for this line", f.rule),
                kind: Some(quickfix.clone()),
                diagnostics: Some(vec![f.diagnostic.clone()]),
                edit: Some(edit(vec![disable_edit(text, line, f.rule)])),
                ..Default::default()
            });
        }
    }
    // Every safe fix in the file at once (editors run it on save when asked to).
    let fix_all = lsp::CodeActionKind::SOURCE_FIX_ALL;
    if kind_wanted(&fix_all, only) {
        let mut edits: Vec<&(Span, lsp::TextEdit)> = findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .flat_map(|(_, e)| e)
            .collect();
        edits.sort_by_key(|(s, _)| (s.start, s.end));
        let mut kept: Vec<lsp::TextEdit> = Vec::new();
        let mut end = 0;
        for (i, (span, e)) in edits.iter().enumerate() {
            // Overlapping fixes: the first one wins; the rest wait for the next run.
            if i > 0 && span.start < end {
                continue;
            }
            end = span.end;
            kept.push(e.clone());
        }
        if !kept.is_empty() {
            actions.push(lsp::CodeAction {
                title: "Apply every gitops-lint fix".to_string(),
                kind: Some(fix_all),
                edit: Some(edit(kept)),
                ..Default::default()
            });
        }
    }
    actions
        .into_iter()
        .map(lsp::CodeActionOrCommand::CodeAction)
        .collect()
}
