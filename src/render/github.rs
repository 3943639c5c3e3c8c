//! GitHub Actions workflow commands: one annotation a finding,
//! `::error file=PATH,line=L,col=C,endLine=L,endColumn=C,title=RULE-ID::MESSAGE`.
//!
//! Paths are relative to the linted root; GitHub resolves them against the
//! checkout, so run `gitops-lint check . --format github` from its root.

use std::fmt::Write;

use crate::diagnostic::Severity;
use crate::run::Report;

/// Escapes a command's message, as `escapeData` in `@actions/core` does.
pub(crate) fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value, as `escapeProperty` in `@actions/core` does:
/// the message's escapes, and `:` and `,`, which end a value.
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report, columns: super::Columns) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let file = &report.repo.files[d.file];
        let (start, end) = (
            super::position(file, d.span.start, columns),
            super::position(file, d.span.end, columns),
        );
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let _ = write!(
            out,
            "::{command} file={},line={}",
            escape_property(&file.path),
            start.line
        );
        // GitHub takes columns only for a region on one line. The end column
        // is exclusive, as in the JSON output and SARIF.
        if start.line == end.line {
            let _ = write!(
                out,
                ",col={},endLine={},endColumn={}",
                start.column, end.line, end.column
            );
        } else {
            let _ = write!(out, ",endLine={}", end.line);
        }
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(
            out,
            ",title={}::{}",
            escape_property(d.rule),
            escape_data(&message)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_and_line_breaks_only() {
        assert_eq!(
            escape_data("100% sure:\r\nyes, no"),
            "100%25 sure:%0D%0Ayes, no"
        );
        // `%` first: an escape is never escaped twice.
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(escape_data("`a`: ünïcode"), "`a`: ünïcode");
    }

    #[test]
    fn properties_also_escape_colon_and_comma() {
        assert_eq!(
            escape_property("dir:a,b/50%\nx.yaml"),
            "dir%3Aa%2Cb/50%25%0Ax.yaml"
        );
        assert_eq!(
            escape_property("flux/no-retry-interval"),
            "flux/no-retry-interval"
        );
    }
}
