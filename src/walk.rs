//! Root discovery and the parallel walk: every YAML file under the root is
//! read and parsed inside the same parallel task.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::GlobSet;
use ignore::{WalkBuilder, WalkState};

use crate::source::SourceFile;

/// Files larger than this are not parsed; a finding says so.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The nearest ancestor of `start` (itself included) that holds
/// `.gitops-lint.yaml` or `.git`; `start` itself when there is none.
pub fn discover_root(start: &Path) -> PathBuf {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join(".gitops-lint.yaml").exists() || d.join(".git").exists() {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    start.to_path_buf()
}

pub struct WalkOptions<'a> {
    pub exclude: &'a GlobSet,
    /// Relative path -> content that replaces the file on disk (editor buffers).
    pub overrides: &'a HashMap<String, String>,
    pub threads: usize,
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Relative path with `/` separators.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = String::new();
    for (i, c) in rel.components().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&c.as_os_str().to_string_lossy());
    }
    out
}

/// Walks `root` (which must be canonical) and returns every YAML file read and
/// parsed, sorted by path.
pub fn walk(root: &Path, opts: &WalkOptions) -> Vec<SourceFile> {
    let found: Mutex<Vec<SourceFile>> = Mutex::new(Vec::new());
    let skipped: Arc<Mutex<Vec<SourceFile>>> = Arc::default();
    let filter_root = root.to_path_buf();
    let filter_skipped = Arc::clone(&skipped);
    let filter_exclude = opts.exclude.clone();
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .follow_links(true)
        .require_git(false)
        .threads(opts.threads)
        .filter_entry(move |entry| {
            let path = entry.path();
            if entry.depth() == 0 {
                return true;
            }
            let name = entry.file_name();
            if name == ".git" {
                return false;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let rel = relative(&filter_root, path);
            // An excluded directory is not entered, and an excluded link not reported.
            if filter_exclude.is_match(&rel) || (is_dir && filter_exclude.is_match(format!("{rel}/"))) {
                return false;
            }
            // Helm chart templates are Go templates, not YAML.
            if is_dir && name == "templates" && path.parent().is_some_and(|p| p.join("Chart.yaml").exists()) {
                return false;
            }
            if entry.path_is_symlink() {
                match path.canonicalize() {
                    Ok(target) if target.starts_with(&filter_root) => {}
                    Ok(_) => {
                        if is_dir || is_yaml(path) {
                            let written = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
                            let why = format!("symbolic link to `{written}` points outside the repository root; not read");
                            filter_skipped.lock().unwrap().push(SourceFile::skipped(rel, why));
                        }
                        return false;
                    }
                    Err(e) => {
                        if is_yaml(path) {
                            filter_skipped.lock().unwrap().push(SourceFile::skipped(rel, format!("cannot follow symbolic link: {e}")));
                        }
                        return false;
                    }
                }
            }
            true
        })
        .build_parallel();

    walker.run(|| {
        let found = &found;
        let skipped = &skipped;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    // Loops and unreadable directories: say so and go on.
                    let (path, msg) = describe_walk_error(root, &err);
                    skipped.lock().unwrap().push(SourceFile::skipped(path, msg));
                    return WalkState::Continue;
                }
            };
            let path = entry.path();
            if !entry.file_type().is_some_and(|t| t.is_file()) || !is_yaml(path) {
                return WalkState::Continue;
            }
            let rel = relative(root, path);
            let file = read_one(path, rel, opts.overrides);
            found.lock().unwrap().push(file);
            WalkState::Continue
        })
    });

    let mut files = found.into_inner().unwrap();
    files.extend(std::mem::take(&mut *skipped.lock().unwrap()));
    // Editor buffers for files not yet on disk.
    for (rel, text) in opts.overrides {
        if !files.iter().any(|f| &f.path == rel) {
            files.push(SourceFile::from_bytes(
                rel.clone(),
                text.clone().into_bytes(),
            ));
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    files
}

fn read_one(path: &Path, rel: String, overrides: &HashMap<String, String>) -> SourceFile {
    if let Some(text) = overrides.get(&rel) {
        return SourceFile::from_bytes(rel, text.clone().into_bytes());
    }
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            return SourceFile::skipped(
                rel,
                format!(
                    "file is {} bytes, over the {} byte limit; not parsed",
                    m.len(),
                    MAX_FILE_BYTES
                ),
            );
        }
        Err(e) => return SourceFile::skipped(rel, format!("cannot read file: {e}")),
        Ok(_) => {}
    }
    match std::fs::read(path) {
        Ok(bytes) => SourceFile::from_bytes(rel, bytes),
        Err(e) => SourceFile::skipped(rel, format!("cannot read file: {e}")),
    }
}

fn describe_walk_error(root: &Path, err: &ignore::Error) -> (String, String) {
    fn loop_of(err: &ignore::Error) -> Option<(&Path, &Path)> {
        match err {
            ignore::Error::Loop { ancestor, child } => Some((ancestor, child)),
            ignore::Error::WithPath { err, .. }
            | ignore::Error::WithDepth { err, .. }
            | ignore::Error::WithLineNumber { err, .. } => loop_of(err),
            _ => None,
        }
    }
    if let Some((ancestor, child)) = loop_of(err) {
        let ancestor = match relative(root, ancestor) {
            a if a.is_empty() => ".".to_string(),
            a => a,
        };
        return (
            relative(root, child),
            format!(
                "symbolic link loop: this link leads back to its ancestor directory `{ancestor}`; not followed"
            ),
        );
    }
    fn path_of(err: &ignore::Error) -> Option<&Path> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::Loop { child, .. } => Some(child),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Partial(errs) => errs.first().and_then(path_of),
            _ => None,
        }
    }
    let path = path_of(err).map_or_else(String::new, |p| relative(root, p));
    (path, format!("cannot read: {err}"))
}
