use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, FileId, Severity};
use crate::model::Repository;
use crate::model::subst::quoted_default;
use crate::rules::{Ctx, Rule};
use crate::schema::{FindingKind, Missing};
use crate::yaml::Span;

pub static RULE: Rule = Rule {
    id: "schema/invalid-value",
    severity: Severity::Error,
    enabled: true,
    needs_repository: false,
    summary: "a value of the wrong type, outside its enum or pattern, or a required field missing",
    page: include_str!("../../../lints/schema/invalid-value.md"),
    check: Some(check),
};

/// What a label value that is not a string does in an object Flux applies.
const DROPPED_LABELS: &str = ": kustomize-controller reads an object's labels as strings, and when one is not it sets only its own labels, so this label (and the object's other labels) never reach the cluster; the apply itself succeeds";

fn missing_message(whole: &str, fields: &[&str], origin: &str) -> String {
    match fields {
        [one] => format!("{whole} is missing the required field `{one}` (by {origin})"),
        _ => format!(
            "{whole} is missing the required fields {} (by {origin})",
            fields
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Missing fields of one mapping make one finding.
    let mut missing: BTreeMap<(FileId, Span, &str), (&Missing, Vec<&str>)> = BTreeMap::new();
    for f in ctx.schema.findings.iter() {
        if f.kind != FindingKind::InvalidValue {
            continue;
        }
        match &f.missing {
            None if f.non_string_label && applied_by_flux(repo, f.file, f.span) => {
                let mut d = super::diagnostic(repo, &RULE, f);
                d.severity = Severity::Warning;
                d.message.push_str(DROPPED_LABELS);
                ctx.push(d);
            }
            None => {
                let mut d = super::diagnostic(repo, &RULE, f);
                let written = repo.files[f.file]
                    .text()
                    .get(f.span.start as usize..f.span.end as usize)
                    .unwrap_or("");
                if let Some((name, default)) = quoted_default(written) {
                    let bare = &default[1..default.len() - 1];
                    let help = format!(
                        "the default {default} of `${{{name}}}` keeps its quotes: Flux's envsubst takes a default as written up to `}}`, so where `{name}` is not set the value is {default} with the quotes; write `${{{name}:={bare}}}`"
                    );
                    d.help = Some(match d.help.take() {
                        Some(h) => format!("{help}; {h}"),
                        None => help,
                    });
                }
                ctx.push(d)
            }
            Some(m) if written_by_build(repo, f.file, m) => {}
            Some(m) => missing
                .entry((f.file, f.span, m.whole.as_str()))
                .or_insert_with(|| (m, Vec::new()))
                .1
                .push(m.field.as_str()),
        }
    }
    for ((file, span, whole), (m, fields)) in missing {
        let message = missing_message(whole, &fields, &m.origin);
        ctx.push(Diagnostic::new(RULE.id, RULE.severity, file, span, message));
    }
}

/// The build that applies the object writes the field: the `spec.patches`
/// of the Flux Kustomization that applies it set it (or may).
fn written_by_build(repo: &Repository, file: FileId, m: &Missing) -> bool {
    let Some(parent) = &m.parent else {
        return false;
    };
    let Some(object) = repo
        .objects_in(file)
        .find(|&o| repo.objects[o].root == m.document)
    else {
        return false;
    };
    let path: Vec<&str> = parent
        .iter()
        .map(String::as_str)
        .chain([m.field.as_str()])
        .collect();
    repo.local_instances(object)
        .any(|i| repo.field(i, &path).may_be_present())
}

/// Whether a Flux Kustomization applies the object holding `span`.
fn applied_by_flux(repo: &Repository, file: FileId, span: Span) -> bool {
    repo.objects_in(file)
        .find(|&o| {
            let s = repo.object_node(o).span();
            s.start <= span.start && span.end <= s.end
        })
        .is_some_and(|o| repo.local_instances(o).any(|i| i.flux.is_some()))
}
