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

pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    match format {
        Format::Human => human::render(report, opts),
        Format::Compact => compact::render(report),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
    }
}

pub(crate) fn count(report: &Report, severity: Severity) -> usize {
    report
        .diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .count()
}
