use std::fmt::Write;

use crate::run::Report;

/// `path:line:col: severity[rule-id] message`, one finding a line.
pub fn render(report: &Report, columns: super::Columns) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let file = &report.repo.files[d.file];
        let pos = super::position(file, d.span.start, columns);
        let _ = writeln!(
            out,
            "{}:{}:{}: {}[{}] {}",
            file.path,
            pos.line,
            pos.column,
            d.severity.as_str(),
            d.rule,
            d.message
        );
    }
    out
}
