use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashSet as HashSet;

use crate::diagnostic::{Diagnostic, FileId, Severity};
use crate::model::subst::{self, ParseError, Problem};
use crate::model::{FluxId, ObjectId, Repository, closest};
use crate::rules::{Ctx, Rule};
use crate::yaml::Span;

pub static RULE: Rule = Rule {
    id: "flux/undefined-substitution",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "a `${VAR}` that the Flux Kustomization building the object does not define (or cannot parse): since Flux 2.9 the reconcile fails",
    page: include_str!("../../../lints/flux/undefined-substitution.md"),
    check: Some(check),
};

/// The Flux Kustomizations whose variables are all known: an undefined
/// name is a finding. Those nothing applies, that substitute nothing, or
/// that may read variables from a source not readable here are left alone.
fn checked(repo: &Repository, f: FluxId) -> bool {
    let fk = &repo.flux[f];
    fk.applied && fk.vars.active && !fk.vars.open
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for f in 0..repo.flux.len() {
        if repo.flux[f].applied && repo.flux[f].vars.active {
            invalid_names(repo, f, ctx);
        }
    }
    let mut cache: Vec<Option<Vec<Found>>> = Vec::new();
    cache.resize_with(repo.objects.len(), || None);
    let mut findings: BTreeMap<(FileId, u32), Finding> = BTreeMap::new();
    for inst in &repo.instances {
        let Some(f) = inst.flux else { continue };
        if !checked(repo, f) || !repo.wants(repo.objects[inst.object].file) {
            continue;
        }
        let vars = &repo.flux[f].vars;
        let found = cache[inst.object].get_or_insert_with(|| scan_object(repo, inst.object));
        for item in found.iter() {
            let missing = match &item.problem {
                Problem::Undefined(name) => !vars.defines(name),
                Problem::Parse(_) => true,
            };
            if !missing {
                continue;
            }
            let file = repo.objects[inst.object].file;
            findings
                .entry((file, item.span.start))
                .or_insert_with(|| Finding {
                    span: item.span,
                    expr: item.expr.clone(),
                    problem: item.problem.clone(),
                    flux: BTreeSet::new(),
                })
                .flux
                .insert(f);
        }
    }
    for ((file, _), finding) in findings {
        ctx.push(report(repo, file, finding));
    }
}

/// An invalid variable name fails every substitution of the Kustomization.
fn invalid_names(repo: &Repository, f: FluxId, ctx: &mut Ctx) {
    let object = repo.flux[f].object;
    let obj = &repo.objects[object];
    let fk_name = obj.name.as_deref().unwrap_or("");
    let mut seen = HashSet::default();
    for (key, file, span) in repo.flux[f].vars.invalid() {
        if !seen.insert((*file, span.start)) || !repo.wants(*file) {
            continue;
        }
        let here = *file == obj.file;
        let mut d = ctx.finding(*file,
            *span,
            format!(
                "`{key}` is not a valid substitution variable name (letters, digits and `_`, not starting with a digit): Flux Kustomization `{fk_name}` fails every substitution with \"'{key}' var name is invalid\""
            ),
        )
        .help(if here {
            "rename the variable (for example with `_` instead of `-` or `.`)".to_string()
        } else {
            format!("rename the key, or stop reading this object in `postBuild.substituteFrom` of `{fk_name}`")
        });
        if !here {
            d = d.related(
                obj.file,
                flux_site(repo, f),
                format!("Flux Kustomization `{fk_name}` reads it"),
            );
        }
        ctx.push(d);
    }
}

/// Where a Flux Kustomization's variables are defined: `spec.postBuild`, or its name.
fn flux_site(repo: &Repository, f: FluxId) -> Span {
    let node = repo.object_node(repo.flux[f].object);
    node.get("spec")
        .and_then(|s| s.key_span("postBuild"))
        .or_else(|| node.path(&["metadata", "name"]).map(|n| n.span()))
        .unwrap_or_else(|| repo.kind_span(repo.flux[f].object))
}

/// One problem found in a scalar, with its place in the file.
struct Found {
    span: Span,
    expr: String,
    problem: Problem,
}

struct Finding {
    span: Span,
    expr: String,
    problem: Problem,
    flux: BTreeSet<FluxId>,
}

/// Every variable reference and parse error in an object's keys and values.
fn scan_object(repo: &Repository, id: ObjectId) -> Vec<Found> {
    let obj = &repo.objects[id];
    let file = &repo.files[obj.file];
    let root = repo.object_node(id);
    let span = root.span();
    let text = &file.text()[span.start as usize..span.end as usize];
    if !text.contains("${") || subst::disabled(root) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut seen = HashSet::default();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if !seen.insert(node.id()) {
            continue;
        }
        if node.is_map() {
            for (k, v) in node.entries() {
                stack.push(v);
                stack.push(k);
            }
        } else if node.is_seq() {
            stack.extend(node.items());
        } else if let Some(s) = node.scalar() {
            if !s.text.contains("${") {
                continue;
            }
            let items = subst::references(s.text);
            let span = node.span();
            let raw = file
                .text()
                .get(span.start as usize..span.end as usize)
                .unwrap_or("");
            for item in items {
                let expr = s.text[item.start..item.end].to_string();
                let at = locate(s.text, raw, item.start, &expr)
                    .map(|off| {
                        Span::new(
                            span.start as usize + off,
                            span.start as usize + off + expr.len(),
                        )
                    })
                    .unwrap_or(span);
                out.push(Found {
                    span: at,
                    expr,
                    problem: item.problem,
                });
            }
        }
    }
    out
}

/// The offset in the source text of the expression at `start` of the value:
/// the same occurrence of the same text, when the source holds as many.
fn locate(value: &str, raw: &str, start: usize, expr: &str) -> Option<usize> {
    if expr.is_empty() {
        return None;
    }
    let in_value: Vec<usize> = value.match_indices(expr).map(|(i, _)| i).collect();
    let in_raw: Vec<usize> = raw.match_indices(expr).map(|(i, _)| i).collect();
    if in_value.len() != in_raw.len() {
        return None;
    }
    let k = in_value.iter().position(|&i| i == start)?;
    in_raw.get(k).copied()
}

fn flux_name(repo: &Repository, f: FluxId) -> &str {
    repo.objects[repo.flux[f].object]
        .name
        .as_deref()
        .unwrap_or("")
}

fn report(repo: &Repository, file: FileId, finding: Finding) -> Diagnostic {
    let names: Vec<String> = finding
        .flux
        .iter()
        .map(|&f| format!("`{}`", flux_name(repo, f)))
        .collect();
    let (who, builds, defines) = match names.len() {
        1 => (
            format!("Flux Kustomization {}", names[0]),
            "builds",
            "defines",
        ),
        _ => (
            format!("Flux Kustomizations {}", names.join(", ")),
            "build",
            "define",
        ),
    };
    let expr = &finding.expr;
    let (message, help) = match &finding.problem {
        Problem::Undefined(name) => {
            let defined = finding.flux.iter().flat_map(|&f| repo.flux[f].vars.names());
            let near = closest(name, defined.collect::<BTreeSet<_>>());
            let mut help = match near {
                Some(n) => format!("did you mean `{n}`? Otherwise "),
                None => String::new(),
            };
            help.push_str(&format!(
                "define `{name}` in `postBuild.substitute` (or a `substituteFrom` source), give it a default (`${{{name}:=value}}`), or write `$${{{name}}}` to keep it literal (for example in a script)"
            ));
            (
                format!(
                    "`{expr}` has no value: {who} that {builds} this object {defines} no `{name}`, and since Flux 2.9 a variable without a default fails the whole reconcile (before, it silently became an empty string)"
                ),
                help,
            )
        }
        Problem::Parse(e) => {
            let why = match e {
                ParseError::Dash => {
                    "`-` without `:` is not a default operator in Flux (its parser stops at the dash: \"missing closing brace\")"
                }
                ParseError::BadName => {
                    "a variable name holds only letters, digits and `_`, followed by `}` or an operator (Flux: \"missing closing brace\" / \"bad substitution\")"
                }
                ParseError::NoName => {
                    "there is no variable name after `${` (Flux: \"unable to parse variable name\")"
                }
                ParseError::Unclosed => {
                    "the `${` is never closed (Flux: \"missing closing brace\")"
                }
            };
            let help = match e {
                ParseError::Dash => {
                    "write the default as `${VAR:-default}` or `${VAR:=default}`; if the text is meant literally, escape it as `$${`"
                }
                _ => {
                    "if the text is meant literally (a shell or template expression), escape it as `$${...}`; otherwise fix the expression"
                }
            };
            (
                format!(
                    "Flux cannot parse `{expr}`: {why}; the substitution of {who} fails for this whole object"
                ),
                help.to_string(),
            )
        }
    };
    let mut d = Diagnostic::new(RULE.id, Severity::Error, file, finding.span, message).help(help);
    for &f in &finding.flux {
        d = d.related(
            repo.objects[repo.flux[f].object].file,
            flux_site(repo, f),
            format!(
                "Flux Kustomization `{}` builds this object and substitutes its variables",
                flux_name(repo, f)
            ),
        );
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_inside_quotes() {
        assert_eq!(locate("a ${X}", "\"a ${X}\"", 2, "${X}"), Some(3));
        assert_eq!(locate("${X} ${X}", "'${X} ${X}'", 5, "${X}"), Some(6));
    }
}
