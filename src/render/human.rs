//! miette reports: the source snippet with the offending key underlined.

use std::fmt::{self, Write};

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use super::{RenderOptions, count};
use crate::diagnostic::{Diagnostic, Severity};
use crate::run::Report;
use crate::source::SourceFile;

/// A finding (or one of its related places) adapted to miette.
struct Shown<'a> {
    message: String,
    code: Option<&'a str>,
    severity: Severity,
    help: Option<&'a str>,
    source: Src<'a>,
    labels: Vec<LabeledSpan>,
    related: Vec<Shown<'a>>,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.code.map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

fn span(s: crate::yaml::Span) -> SourceSpan {
    SourceSpan::new((s.start as usize).into(), (s.end - s.start) as usize)
}

/// A file's text under its name (miette's `NamedSource` wants owned, 'static text).
struct Src<'a> {
    name: &'a str,
    text: &'a str,
}

impl SourceCode for Src<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let c = self.text.read_span(span, before, after)?;
        Ok(Box::new(
            MietteSpanContents::new_named(
                self.name.to_string(),
                c.data(),
                *c.span(),
                c.line(),
                c.column(),
                c.line_count(),
            )
            .with_language("yaml"),
        ))
    }
}

fn source(file: &SourceFile) -> Src<'_> {
    Src {
        name: &file.path,
        text: file.text(),
    }
}

fn shown<'a>(report: &'a Report, d: &'a Diagnostic) -> Shown<'a> {
    let files = &report.repo.files;
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some("here".to_string()),
        span(d.span),
    )];
    let mut related = Vec::new();
    for r in &d.related {
        if r.file == d.file {
            labels.push(LabeledSpan::new_with_span(
                Some(r.message.clone()),
                span(r.span),
            ));
        } else {
            related.push(Shown {
                message: format!("{}: {}", files[r.file].path, r.message),
                code: None,
                severity: Severity::Info,
                help: None,
                source: source(&files[r.file]),
                labels: vec![LabeledSpan::new_with_span(
                    Some(r.message.clone()),
                    span(r.span),
                )],
                related: Vec::new(),
            });
        }
    }
    Shown {
        message: d.message.clone(),
        code: Some(d.rule),
        severity: d.severity,
        help: d.help.as_deref(),
        source: source(&files[d.file]),
        labels,
        related,
    }
}

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_links(false);
    let mut out = String::new();
    for d in &report.diagnostics {
        let _ = handler.render_report(&mut out, &shown(report, d));
        out.push('\n');
    }
    let errors = count(report, Severity::Error);
    let warnings = count(report, Severity::Warning);
    let infos = count(report, Severity::Info);
    let _ = writeln!(
        out,
        "{} error{}, {} warning{}, {} info in {} files ({} documents), {} ms",
        errors,
        if errors == 1 { "" } else { "s" },
        warnings,
        if warnings == 1 { "" } else { "s" },
        infos,
        report.repo.files.len(),
        report.repo.documents(),
        report.elapsed.as_millis()
    );
    out
}
