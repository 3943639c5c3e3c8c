//! One renderer per output format. Renderers read the report; they never
//! change it.

mod compact;
mod github;
mod human;
mod json;
mod sarif;

use crate::diagnostic::Severity;
use crate::run::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Compact,
    Json,
    Sarif,
    Github,
}

pub struct RenderOptions {
    pub color: bool,
}

/// What a column counts in the `compact`, `json` and `github` formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Columns {
    /// Characters (Unicode scalar values): the default.
    #[default]
    Chars,
    /// Bytes of UTF-8, as Vim's and Emacs's error formats count them.
    Bytes,
}

pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    render_columns(report, format, opts, Columns::Chars)
}

/// `render`, with columns counted in `columns` (SARIF declares its own unit,
/// and the human format draws the line, so both keep characters).
pub fn render_columns(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    columns: Columns,
) -> String {
    match format {
        Format::Human => human::render(report, opts),
        Format::Compact => compact::render(report, columns),
        Format::Json => json::render(report, columns),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report, columns),
    }
}

/// `render_columns`, written to `out`. The compact and JSON formats are
/// written as they are made, so the output of a large report is never
/// whole in memory.
pub fn write_columns(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    columns: Columns,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Compact => compact::write(report, columns, out),
        Format::Json => json::write(report, columns, out),
        _ => out.write_all(render_columns(report, format, opts, columns).as_bytes()),
    }
}

/// The 1-based line and column of a byte offset, the column in `columns`.
pub(crate) fn position(
    file: &crate::source::SourceFile,
    offset: u32,
    columns: Columns,
) -> crate::source::Position {
    let mut pos = file.position(offset);
    if columns == Columns::Bytes {
        let start = file.line_start(pos.line) as usize;
        let mut end = (offset as usize).min(file.text().len());
        while !file.text().is_char_boundary(end) {
            end -= 1;
        }
        pos.column = end - start + 1;
    }
    pos
}

pub(crate) fn count(report: &Report, severity: Severity) -> usize {
    report
        .diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .count()
}
