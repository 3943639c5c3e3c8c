use serde::Serialize;

use super::count;
use crate::diagnostic::Severity;
use crate::run::Report;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    root: String,
    diagnostics: Vec<Item<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Item<'a> {
    rule: &'a str,
    severity: &'a str,
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<RelatedItem<'a>>,
}

#[derive(Serialize)]
struct RelatedItem<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    documents: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    elapsed_ms: u128,
}

pub fn render(report: &Report, columns: super::Columns) -> String {
    let mut out = Vec::new();
    let _ = write(report, columns, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// `render`, written to `out` as it is made.
pub fn write(
    report: &Report,
    columns: super::Columns,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &output(report, columns))
        .map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

fn output(report: &Report, columns: super::Columns) -> Output<'_> {
    let repo = &report.repo;
    let diagnostics = report
        .diagnostics
        .iter()
        .map(|d| {
            let file = &repo.files[d.file];
            let (start, end) = (
                super::position(file, d.span.start, columns),
                super::position(file, d.span.end, columns),
            );
            Item {
                rule: d.rule,
                severity: d.severity.as_str(),
                path: &file.path,
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                message: &d.message,
                help: d.help.as_deref(),
                related: d
                    .related
                    .iter()
                    .map(|r| {
                        let f = &repo.files[r.file];
                        let p = super::position(f, r.span.start, columns);
                        RelatedItem {
                            path: &f.path,
                            line: p.line,
                            column: p.column,
                            message: &r.message,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Output {
        version: 1,
        root: repo.root.display().to_string(),
        diagnostics,
        summary: Summary {
            files: repo.files.len(),
            documents: repo.documents(),
            errors: count(report, Severity::Error),
            warnings: count(report, Severity::Warning),
            infos: count(report, Severity::Info),
            elapsed_ms: report.elapsed.as_millis(),
        },
    }
}
