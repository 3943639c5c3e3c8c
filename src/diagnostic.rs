//! Findings are data: a rule, a severity, a file and a byte span. Line and
//! column are computed by the renderers.

use crate::yaml::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// Index of a file in `Repository::files`.
pub type FileId = usize;

/// A place in a file, with what it has to do with the finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// A byte-range replacement in the file a finding is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

/// A safe, mechanical fix: what it does and the edits that do it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub message: String,
    pub edits: Vec<Edit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    pub file: FileId,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    pub related: Vec<Related>,
    /// Boxed: most findings have none.
    pub fix: Option<Box<Fix>>,
}

impl Diagnostic {
    pub fn new(
        rule: &'static str,
        severity: Severity,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            rule,
            severity,
            file,
            span,
            message: message.into(),
            help: None,
            related: Vec::new(),
            fix: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn fix(mut self, message: impl Into<String>, edits: Vec<Edit>) -> Self {
        self.fix = Some(Box::new(Fix {
            message: message.into(),
            edits,
        }));
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Adds a related place; the same place with the same words is kept once.
    pub fn related(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.add_related(file, span, message);
        self
    }

    /// [`Diagnostic::related`] in place.
    pub fn add_related(&mut self, file: FileId, span: Span, message: impl Into<String>) {
        let message = message.into();
        if !self
            .related
            .iter()
            .any(|r| r.file == file && r.span == span && r.message == message)
        {
            self.related.push(Related {
                file,
                span,
                message,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_related_place_is_kept_once() {
        let d = Diagnostic::new("x/y", Severity::Error, 0, Span::new(0, 1), "m")
            .related(1, Span::new(2, 3), "applies it")
            .related(1, Span::new(2, 3), "applies it")
            .related(1, Span::new(2, 3), "includes it")
            .related(2, Span::new(2, 3), "applies it");
        assert_eq!(d.related.len(), 3);
    }
}
