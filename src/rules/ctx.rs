//! What a rule sees: the model, the findings it reports, and the run's focus.
//!
//! `ctx.report(file, span, message)` makes a finding of the running rule at
//! its default severity; `.severity(..)`, `.help(..)`, `.related(..)` and
//! `.fix(..)` refine it. `ctx.objects(group, kind)` lists the objects whose
//! findings the run wants (an editor's open files, `check FILE`); indexes that
//! other files feed are built from `ctx.repo` directly.

use crate::diagnostic::{Diagnostic, Edit, FileId, Severity};
use crate::model::{Object, ObjectId, Repository};
use crate::rules::Rule;
use crate::schema::SchemaReport;
use crate::yaml::Span;

pub struct Ctx<'a> {
    /// Every fact of the model.
    pub repo: &'a Repository,
    /// Schema validation of the documents (empty when no schema rule runs).
    pub schema: &'a SchemaReport,
    rule: &'static Rule,
    out: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    pub fn new(repo: &'a Repository, schema: &'a SchemaReport, rule: &'static Rule) -> Self {
        Ctx {
            repo,
            schema,
            rule,
            out: Vec::new(),
        }
    }

    /// The findings reported so far.
    pub fn into_findings(self) -> Vec<Diagnostic> {
        self.out
    }

    /// Whether the run reports findings in `file`.
    pub fn wants(&self, file: FileId) -> bool {
        self.repo.wants(file)
    }

    /// The objects of `group`/`kind` (an empty group is the core API group)
    /// in the files the run reports on.
    pub fn objects(
        &self,
        group: &'a str,
        kind: &'a str,
    ) -> impl Iterator<Item = (ObjectId, &'a Object)> + use<'a> {
        let repo = self.repo;
        repo.of_kind(kind)
            .filter(move |(_, o)| o.group() == group && repo.wants(o.file))
    }

    /// A finding of this rule at its default severity, not yet reported
    /// (for code that decides later whether to report it).
    pub fn finding(&self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.rule.id, self.rule.severity, file, span, message)
    }

    /// Reports a finding of this rule at its default severity.
    pub fn report(&mut self, file: FileId, span: Span, message: impl Into<String>) -> Reported<'_> {
        let d = self.finding(file, span, message);
        self.out.push(d);
        Reported(self.out.last_mut().expect("just pushed"))
    }

    /// Reports a finding made earlier (see [`Ctx::finding`]).
    pub fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }
}

/// A reported finding, refined in place.
pub struct Reported<'c>(&'c mut Diagnostic);

impl Reported<'_> {
    pub fn severity(self, severity: Severity) -> Self {
        self.0.severity = severity;
        self
    }

    pub fn help(self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into());
        self
    }

    pub fn related(self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.0.add_related(file, span, message);
        self
    }

    pub fn fix(self, message: impl Into<String>, edits: Vec<Edit>) -> Self {
        self.0.fix = Some(Box::new(crate::diagnostic::Fix {
            message: message.into(),
            edits,
        }));
        self
    }

    /// Fixes only when an edit could be made.
    pub fn fix_opt(self, message: impl Into<String>, edits: Option<Vec<Edit>>) -> Self {
        match edits {
            Some(edits) => self.fix(message, edits),
            None => self,
        }
    }
}
