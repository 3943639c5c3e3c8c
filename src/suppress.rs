//! `# gitops-lint:` comments, applied after the rules. Rules never see them.

use crate::diagnostic::{Diagnostic, FileId};
use crate::model::Repository;
use crate::rules::{self, unused_rule};
use crate::source::SourceFile;
use crate::yaml::Span;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

const MARKER: &str = "gitops-lint:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Findings that start on this 1-based line.
    Line(usize),
    File,
}

#[derive(Debug)]
struct Directive {
    file: FileId,
    scope: Scope,
    rule: String,
    /// Where the rule id is written, for the unused-suppression finding.
    span: Span,
    used: bool,
}

/// Removes suppressed findings and adds `lint/unused-suppression` for every
/// directive that suppressed nothing; keeps only the findings of the files in
/// the model's focus. `ran` tells whether a rule ran: a
/// directive for a rule that did not run is not reported as unused.
pub fn apply(
    repo: &Repository,
    diagnostics: Vec<Diagnostic>,
    ran: &dyn Fn(&str) -> bool,
) -> Vec<Diagnostic> {
    let mut diagnostics = diagnostics;
    diagnostics.retain(|d| repo.wants(d.file));
    // Files are looked through for the marker in parallel; directives come
    // out in file order.
    let mut directives: Vec<Directive> = repo
        .files
        .par_iter()
        .enumerate()
        .filter(|(id, file)| {
            repo.wants(*id)
                && memchr::memmem::find(file.text().as_bytes(), MARKER.as_bytes()).is_some()
        })
        .flat_map_iter(|(id, file)| {
            let mut out = Vec::new();
            scan(id, file, &mut out);
            out
        })
        .collect();
    if directives.is_empty() {
        return diagnostics;
    }
    // The directives of each file and rule; a finding's line is computed
    // only when some directive could suppress it.
    let mut by_rule: HashMap<(FileId, &str), Vec<usize>> = HashMap::default();
    for (i, dir) in directives.iter().enumerate() {
        by_rule
            .entry((dir.file, dir.rule.as_str()))
            .or_default()
            .push(i);
    }
    let mut used = vec![false; directives.len()];
    let mut kept = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let mut suppressed = false;
        if let Some(ids) = by_rule.get(&(d.file, d.rule)) {
            let line = repo.files[d.file].position(d.span.start).line;
            for &i in ids {
                let dir = &directives[i];
                if dir.scope == Scope::File || dir.scope == Scope::Line(line) {
                    used[i] = true;
                    suppressed = true;
                }
            }
        }
        if !suppressed {
            kept.push(d);
        }
    }
    drop(by_rule);
    for (dir, used) in directives.iter_mut().zip(used) {
        dir.used = used;
    }
    let unused = unused_rule();
    if ran(unused.id) {
        for dir in directives.iter().filter(|d| !d.used) {
            let known = rules::find(&dir.rule).is_some();
            if known && !ran(&dir.rule) {
                continue;
            }
            let message = if known {
                format!("this suppression of `{}` suppresses nothing", dir.rule)
            } else {
                format!("unknown rule id `{}` in a suppression comment", dir.rule)
            };
            kept.push(
                Diagnostic::new(unused.id, unused.severity, dir.file, dir.span, message)
                    .help("remove the comment, or move it to the line the finding is on"),
            );
        }
    }
    kept
}

fn scan(file_id: FileId, file: &SourceFile, out: &mut Vec<Directive>) {
    let lines = file.line_count();
    for line in 1..=lines {
        let text = file.line_text(line);
        let Some(at) = comment_marker(text) else {
            continue;
        };
        let rest = &text[at + MARKER.len()..];
        let trimmed = rest.trim_start();
        let (scope, ids) = if let Some(ids) = trimmed.strip_prefix("disable-next-line=") {
            (Scope::Line(next_content_line(file, line)), ids)
        } else if let Some(ids) = trimmed.strip_prefix("disable-file=") {
            (Scope::File, ids)
        } else if let Some(ids) = trimmed.strip_prefix("disable=") {
            (Scope::Line(line), ids)
        } else {
            continue;
        };
        let list = ids.split_whitespace().next().unwrap_or("");
        // Where the list starts in the file (after any space following `=`).
        let ids_start = file.line_start(line) as usize + (text.len() - ids.trim_start().len());
        let mut offset = 0;
        for id in list.split(',') {
            if !id.is_empty() {
                out.push(Directive {
                    file: file_id,
                    scope,
                    rule: id.to_string(),
                    span: Span::new(ids_start + offset, ids_start + offset + id.len()),
                    used: false,
                });
            }
            offset += id.len() + 1;
        }
    }
}

/// Byte index of `gitops-lint:` when it follows a `#` that starts a comment.
fn comment_marker(line: &str) -> Option<usize> {
    let at = line.find(MARKER)?;
    let hash = line[..at].rfind('#')?;
    let before_ok = hash == 0 || line[..hash].ends_with([' ', '\t']);
    (before_ok && line[hash + 1..at].trim().is_empty()).then_some(at)
}

/// The first line after `line` that holds more than a comment.
fn next_content_line(file: &SourceFile, line: usize) -> usize {
    (line + 1..=file.line_count())
        .find(|&l| {
            let t = file.line_text(l).trim_start();
            !t.is_empty() && !t.starts_with('#')
        })
        .unwrap_or(line + 1)
}

#[cfg(test)]
mod tests {
    use super::apply;
    use crate::diagnostic::{Diagnostic, Severity};
    use crate::model::Repository;
    use crate::source::SourceFile;
    use crate::yaml::Span;

    const RETRY: &str = "flux/no-retry-interval";
    const DUPLICATE: &str = "yaml/duplicate-key";

    fn at(file: usize, offset: usize, rule: &'static str) -> Diagnostic {
        Diagnostic::new(
            rule,
            Severity::Error,
            file,
            Span::new(offset, offset + 1),
            rule,
        )
    }

    #[test]
    fn a_directive_suppresses_its_rule_on_its_line_in_its_file_only() {
        let a = "x: 1 # gitops-lint: disable=flux/no-retry-interval\ny: 2\n";
        let b = "x: 1\n";
        let c = "# gitops-lint: disable-file=yaml/duplicate-key\nx: 1\n";
        let files = [("a.yaml", a), ("b.yaml", b), ("c.yaml", c)]
            .map(|(p, t)| SourceFile::from_bytes(p.into(), t.as_bytes().to_vec()));
        let repo = Repository::new("/r".into(), files.into(), &Default::default());
        let line2 = a.find("y:").unwrap();
        let kept = apply(
            &repo,
            vec![
                at(0, 0, RETRY),     // suppressed: its rule, its line, its file
                at(0, 3, RETRY),     // suppressed: the same line
                at(0, line2, RETRY), // kept: another line
                at(0, 0, DUPLICATE), // kept: another rule
                at(1, 0, RETRY),     // kept: another file, the same line
                at(2, 0, DUPLICATE), // suppressed: the whole file
                at(2, 47, DUPLICATE),
            ],
            &|_| true,
        );
        let kept: Vec<(usize, u32, &str)> = kept
            .iter()
            .map(|d| (d.file, d.span.start, d.rule))
            .collect();
        assert_eq!(
            kept,
            [(0, line2 as u32, RETRY), (0, 0, DUPLICATE), (1, 0, RETRY)]
        );
    }

    #[test]
    fn a_directive_that_suppresses_nothing_is_reported_once_its_rule_ran() {
        let a = "x: 1 # gitops-lint: disable=flux/no-retry-interval,yaml/duplicate-key\n";
        let files = vec![SourceFile::from_bytes(
            "a.yaml".into(),
            a.as_bytes().to_vec(),
        )];
        let repo = Repository::new("/r".into(), files, &Default::default());
        let kept = apply(&repo, vec![at(0, 0, RETRY)], &|_| true);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].rule, super::unused_rule().id);
        assert_eq!(
            kept[0].message,
            "this suppression of `yaml/duplicate-key` suppresses nothing"
        );
        let start = a.find("yaml/").unwrap();
        assert_eq!(kept[0].span, Span::new(start, start + DUPLICATE.len()));
        // Not when the rule did not run.
        let kept = apply(&repo, vec![at(0, 0, RETRY)], &|id| id != DUPLICATE);
        assert!(kept.is_empty());
    }
}
