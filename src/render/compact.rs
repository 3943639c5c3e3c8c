use std::fmt::Write;

use rayon::prelude::*;

use crate::run::Report;

/// Findings a rendering task takes at once.
const CHUNK: usize = 512;

/// Chunks a window of `write` holds at once.
const WINDOW: usize = 8;

/// `path:line:col: severity[rule-id] message`, one finding a line. Chunks of
/// findings are written in parallel (a line and column costs a look at the
/// file's line starts) and joined in order.
pub fn render(report: &Report, columns: super::Columns) -> String {
    let chunks: Vec<String> = report
        .diagnostics
        .par_chunks(CHUNK)
        .map(|chunk| lines(report, chunk, columns))
        .collect();
    chunks.concat()
}

/// `render`, written to `out` a window of chunks at a time: the output of a
/// large report is never whole in memory.
pub fn write(
    report: &Report,
    columns: super::Columns,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    for window in report.diagnostics.chunks(CHUNK * WINDOW) {
        let chunks: Vec<String> = window
            .par_chunks(CHUNK)
            .map(|chunk| lines(report, chunk, columns))
            .collect();
        for chunk in &chunks {
            out.write_all(chunk.as_bytes())?;
        }
    }
    Ok(())
}

fn lines(
    report: &Report,
    chunk: &[crate::diagnostic::Diagnostic],
    columns: super::Columns,
) -> String {
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
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Diagnostic, Severity};
    use crate::model::Repository;
    use crate::run::Report;
    use crate::source::SourceFile;
    use crate::yaml::Span;

    #[test]
    fn findings_in_many_chunks_come_out_in_order() {
        // More findings than a window of `write` holds.
        let n = super::CHUNK * super::WINDOW + 700;
        let mut text = String::new();
        let mut starts = Vec::new();
        for i in 0..n {
            starts.push(text.len());
            text.push_str(&format!("k{i}: v\n"));
        }
        let files = vec![
            SourceFile::from_bytes("a.yaml".into(), text.clone().into_bytes()),
            SourceFile::from_bytes("b.yaml".into(), "é: 1\n".as_bytes().to_vec()),
        ];
        let repo = Repository::new("/r".into(), files, &Default::default());
        let mut diagnostics: Vec<Diagnostic> = starts
            .iter()
            .enumerate()
            .map(|(i, &at)| {
                Diagnostic::new(
                    "yaml/syntax",
                    Severity::Error,
                    0,
                    Span::new(at, at + 1),
                    format!("m{i}"),
                )
            })
            .collect();
        diagnostics.push(Diagnostic::new(
            "yaml/syntax",
            Severity::Warning,
            1,
            Span::new(3, 4),
            "last",
        ));
        let report = Report {
            repo,
            diagnostics,
            elapsed: Default::default(),
        };
        let out = super::render(&report, crate::render::Columns::Chars);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), n + 1);
        for (i, line) in lines[..n].iter().enumerate() {
            assert_eq!(
                *line,
                format!("a.yaml:{}:1: error[yaml/syntax] m{i}", i + 1)
            );
        }
        assert_eq!(lines[n], "b.yaml:1:3: warning[yaml/syntax] last");
        assert_eq!(
            super::render(&report, crate::render::Columns::Bytes)
                .lines()
                .last(),
            Some("b.yaml:1:4: warning[yaml/syntax] last")
        );
        // Written a window at a time, the same bytes.
        let mut written = Vec::new();
        super::write(&report, crate::render::Columns::Chars, &mut written).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), out);
    }
}
