use std::fmt::Write;

use rayon::prelude::*;

use crate::run::Report;

/// Findings a rendering task takes at once.
const CHUNK: usize = 512;

/// `path:line:col: severity[rule-id] message`, one finding a line. Chunks of
/// findings are written in parallel (a line and column costs a look at the
/// file's line starts) and joined in order.
pub fn render(report: &Report, columns: super::Columns) -> String {
    let chunks: Vec<String> = report
        .diagnostics
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut out = String::new();
            for d in chunk {
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
        })
        .collect();
    chunks.concat()
}
