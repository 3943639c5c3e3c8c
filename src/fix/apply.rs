//! Applying a report's fixes (`--fix`, `--diff`).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use crate::diagnostic::{Edit, FileId};
use crate::run::Report;
use crate::yaml::Span;

/// What applying the fixes does to one file.
#[derive(Debug)]
pub struct FileFix {
    pub file: FileId,
    /// Relative to the root, with `/` separators.
    pub path: String,
    /// The text after the fixes.
    pub fixed: String,
    /// Indices into the report's diagnostics whose fixes `fixed` holds.
    pub diagnostics: Vec<usize>,
}

/// The fixes of a report, file by file (in path order).
#[derive(Debug, Default)]
pub struct Plan {
    pub files: Vec<FileFix>,
}

/// What writing a plan did.
#[derive(Debug, Default)]
pub struct Written {
    /// Indices into the report's diagnostics that were fixed on disk.
    pub fixed: Vec<usize>,
    /// Files written, relative to the root.
    pub files: Vec<String>,
    /// Files left alone, with why.
    pub failed: Vec<(String, String)>,
}

fn overlaps(a: Span, b: Span) -> bool {
    (a.start < b.end && b.start < a.end) || a.start == b.start
}

/// Applies non-overlapping edits to `text`.
pub fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut edits: Vec<&Edit> = edits.iter().collect();
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for e in edits {
        out.push_str(&text[last..e.span.start as usize]);
        out.push_str(&e.replacement);
        last = e.span.end as usize;
    }
    out.push_str(&text[last..]);
    out
}

/// Whether a fix's edits fit `text` and one another.
pub(super) fn valid(text: &str, edits: &[Edit]) -> bool {
    !edits.is_empty()
        && edits.iter().all(|e| {
            let (s, t) = (e.span.start as usize, e.span.end as usize);
            s <= t && t <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(t)
        })
        && edits
            .iter()
            .enumerate()
            .all(|(i, a)| edits[i + 1..].iter().all(|b| !overlaps(a.span, b.span)))
}

/// Collects the fixes of every finding, file by file. A fix whose edits
/// overlap an earlier fix's (in report order) is left out: that finding stays
/// reported, and a second `--fix` may take it. A fix made of edits already
/// taken counts as applied.
pub fn plan(report: &Report) -> Plan {
    let repo = &report.repo;
    let mut by_file: BTreeMap<FileId, (Vec<Edit>, Vec<usize>)> = BTreeMap::new();
    for (i, d) in report.diagnostics.iter().enumerate() {
        let Some(fix) = &d.fix else { continue };
        let file = &repo.files[d.file];
        if file.unreadable.is_some() || !valid(file.text(), &fix.edits) {
            continue;
        }
        let (taken, which) = by_file.entry(d.file).or_default();
        // The same edits as fixes already taken (two findings, one cure): fixed too.
        if fix.edits.iter().all(|e| taken.contains(e)) {
            which.push(i);
            continue;
        }
        if fix
            .edits
            .iter()
            .any(|e| taken.iter().any(|t| overlaps(e.span, t.span)))
        {
            continue;
        }
        taken.extend(fix.edits.iter().cloned());
        which.push(i);
    }
    let files = by_file
        .into_iter()
        .filter_map(|(file, (edits, diagnostics))| {
            let source = &repo.files[file];
            let fixed = apply_edits(source.text(), &edits);
            (*fixed != **source.text()).then(|| FileFix {
                file,
                path: source.path.to_string(),
                fixed,
                diagnostics,
            })
        })
        .collect();
    Plan { files }
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// How many findings the plan fixes.
    pub fn findings(&self) -> usize {
        self.files.iter().map(|f| f.diagnostics.len()).sum()
    }

    /// A unified diff (`a/` and `b/` paths relative to the root, as `git
    /// apply` reads them) of what writing the plan changes.
    pub fn diff(&self, report: &Report) -> String {
        let mut out = String::new();
        for f in &self.files {
            let old = report.repo.files[f.file].text();
            let diff = similar::TextDiff::from_lines(old.as_str(), f.fixed.as_str());
            out.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{}", f.path), &format!("b/{}", f.path))
                    .to_string(),
            );
        }
        out
    }

    /// Writes every fixed file, atomically (a temporary file in the same
    /// directory, renamed over it, with the file's permissions). A file whose
    /// content on disk is no longer the text the report was made from is not
    /// touched.
    pub fn write(&self, report: &Report) -> Written {
        let mut written = Written::default();
        for f in &self.files {
            let source = &report.repo.files[f.file];
            let path = report.repo.root.join(&f.path);
            match write_if_unchanged(&path, source.text().as_bytes(), f.fixed.as_bytes()) {
                Ok(()) => {
                    written.fixed.extend(&f.diagnostics);
                    written.files.push(f.path.clone());
                }
                Err(why) => written.failed.push((f.path.clone(), why)),
            }
        }
        written.fixed.sort_unstable();
        written
    }
}

/// Replaces the file at `path` (a link is followed: its target is replaced)
/// with `new`, when it still holds `old`.
pub fn write_if_unchanged(path: &Path, old: &[u8], new: &[u8]) -> Result<(), String> {
    let real = path
        .canonicalize()
        .map_err(|e| format!("cannot resolve the path: {e}"))?;
    let on_disk = fs::read(&real).map_err(|e| format!("cannot read it again: {e}"))?;
    if on_disk != old {
        return Err("changed on disk since it was read; not fixed".to_string());
    }
    let meta = fs::metadata(&real).map_err(|e| e.to_string())?;
    let dir = real.parent().ok_or("no parent directory")?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".gitops-lint-fix-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file beside it: {e}"))?;
    tmp.write_all(new)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| format!("cannot write the temporary file: {e}"))?;
    fs::set_permissions(tmp.path(), meta.permissions())
        .map_err(|e| format!("cannot keep the file's permissions: {e}"))?;
    tmp.persist(&real)
        .map_err(|e| format!("cannot replace it: {}", e.error))?;
    Ok(())
}
