use std::fmt::Write;

use crate::run::Report;

/// `path:line:col: severity[rule-id] message`, one finding a line.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let file = &report.repo.files[d.file];
        let pos = file.position(d.span.start);
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
