//! Every fixture case is a small repository: `fixtures/<family>/<name>/<case>/`
//! with `expected.txt` in the compact format. Only the rule the directory is
//! named after runs. `fires-*` cases must report that rule; `silent-*` cases
//! must report nothing. `fixtures/sample-repo` runs every rule.
//!
//! `GITOPS_LINT_BLESS=1 cargo test --test fixtures` rewrites the expected files;
//! `GITOPS_LINT_FIXTURE=text` limits the run to cases whose path contains it.

use std::fs;
use std::path::{Path, PathBuf};

use gitops_lint::render::{Format, RenderOptions, render};
use gitops_lint::{Options, run};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn lint(dir: &Path, select: Vec<String>) -> String {
    let report = run(&Options {
        paths: vec![dir.to_path_buf()],
        select,
        threads: Some(1),
        ..Options::default()
    })
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    render(&report, Format::Compact, &RenderOptions { color: false })
}

/// Compares with `expected.txt`, or rewrites it when blessing. Returns a
/// failure message.
fn compare(case: &Path, actual: &str) -> Option<String> {
    let path = case.join("expected.txt");
    if std::env::var_os("GITOPS_LINT_BLESS").is_some() {
        fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "{}\n--- expected\n{expected}--- actual\n{actual}",
            case.display()
        )
    })
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// (rule id, case directory) for every rule fixture.
pub fn cases() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for family in sorted_dirs(&fixtures()) {
        let fam = family.file_name().unwrap().to_string_lossy().to_string();
        if fam == "sample-repo" {
            continue;
        }
        for rule in sorted_dirs(&family) {
            let id = format!("{fam}/{}", rule.file_name().unwrap().to_string_lossy());
            for case in sorted_dirs(&rule) {
                out.push((id.clone(), case));
            }
        }
    }
    out
}

#[test]
fn rule_fixtures() {
    let mut failures = Vec::new();
    let cases = cases();
    assert!(!cases.is_empty());
    let only = std::env::var("GITOPS_LINT_FIXTURE").unwrap_or_default();
    for (id, case) in cases {
        if !case.to_string_lossy().contains(&only) {
            continue;
        }
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        // Suppressions are about other rules' findings: those cases run every rule.
        let select = if id == "lint/unused-suppression" {
            Vec::new()
        } else {
            vec![id.clone()]
        };
        let actual = lint(&case, select);
        if name.starts_with("fires-") {
            if !actual.lines().any(|l| l.contains(&format!("[{id}]"))) {
                failures.push(format!(
                    "{}: a fires- case that reports nothing for {id}",
                    case.display()
                ));
            }
        } else if name.starts_with("silent-") {
            if !actual.is_empty() {
                failures.push(format!(
                    "{}: a silent- case that reports:\n{actual}",
                    case.display()
                ));
            }
        } else {
            failures.push(format!(
                "{}: case names start with fires- or silent-",
                case.display()
            ));
        }
        failures.extend(compare(&case, &actual));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn sample_repo() {
    let dir = fixtures().join("sample-repo");
    let actual = lint(&dir, Vec::new());
    if let Some(f) = compare(&dir, &actual) {
        panic!("{f}");
    }
}
