//! `--fix` and `--diff` on copies of the fixtures, and on the command line.
//!
//! The convention: in a fixture case (`fixtures/<family>/<name>/<case>/`, and
//! `fixtures/sample-repo/`), a file `<path>.fixed` beside `<path>` holds the
//! exact content `<path>` must have after `--fix` (with the rules the fixture
//! harness runs for that case). The walker reads only `.yaml`/`.yml`, so the
//! `.fixed` files are never linted. For every case whose findings carry fixes,
//! on a copy of the case:
//!
//! - every file the fixes change has its `.fixed` file, equal byte for byte,
//!   and every `.fixed` file belongs to a file the fixes change;
//! - every other file is byte-identical;
//! - linting the fixed copy again reports exactly the findings that were not
//!   fixed (so no fixed finding comes back, and no new one appears);
//! - a second `--fix` changes nothing.
//!
//! `GITOPS_LINT_BLESS=1 GITOPS_LINT_FIXTURE=<case path part> cargo test --test fix`
//! rewrites the `.fixed` files of the matching cases. Read the diff.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gitops_lint::diagnostic::Diagnostic;
use gitops_lint::{Options, Report, fix, run};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
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

/// (rules to run, case directory), as the fixture harness runs them.
fn cases() -> Vec<(Vec<String>, PathBuf)> {
    let mut out = vec![(Vec::new(), fixtures().join("sample-repo"))];
    for family in sorted_dirs(&fixtures()) {
        let fam = family.file_name().unwrap().to_string_lossy().to_string();
        if fam == "sample-repo" {
            continue;
        }
        for rule in sorted_dirs(&family) {
            let id = format!("{fam}/{}", rule.file_name().unwrap().to_string_lossy());
            // Suppressions are about other rules' findings: those cases run every rule.
            let select = if id == "lint/unused-suppression" {
                Vec::new()
            } else {
                vec![id]
            };
            for case in sorted_dirs(&rule) {
                out.push((select.clone(), case));
            }
        }
    }
    out
}

fn lint(dir: &Path, select: &[String]) -> Report {
    run(&Options {
        paths: vec![dir.to_path_buf()],
        select: select.to_vec(),
        threads: Some(1),
        ..Options::default()
    })
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Every file under `dir` (links as links), by relative path.
fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().to_string();
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let t = e.file_type().unwrap();
        if t.is_dir() {
            walk(&e.path(), &rel, out);
        } else {
            out.push(rel);
        }
    }
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out
}

/// Copies a case (not its `.fixed` files); links are copied as links.
fn copy_case(from: &Path, to: &Path) {
    for rel in files(from) {
        if rel.ends_with(".fixed") {
            continue;
        }
        let (src, dst) = (from.join(&rel), to.join(&rel));
        fs::create_dir_all(dst.parent().unwrap()).unwrap();
        if fs::symlink_metadata(&src).unwrap().file_type().is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

fn read(path: &Path) -> Option<Vec<u8>> {
    if fs::symlink_metadata(path).ok()?.file_type().is_symlink() {
        return Some(
            fs::read_link(path)
                .ok()?
                .to_string_lossy()
                .as_bytes()
                .to_vec(),
        );
    }
    fs::read(path).ok()
}

/// Findings as position-free keys (positions move when lines are added or removed).
fn keys<'a>(report: &Report, ds: impl Iterator<Item = &'a Diagnostic>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for d in ds {
        let key = format!(
            "{} {}[{}] {}",
            report.repo.files[d.file].path,
            d.severity.as_str(),
            d.rule,
            d.message
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

fn bless() -> bool {
    std::env::var_os("GITOPS_LINT_BLESS").is_some()
}

/// Checks one case; returns failure messages.
fn check_case(select: &[String], case: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let expected: Vec<String> = files(case)
        .into_iter()
        .filter(|f| f.ends_with(".fixed"))
        .collect();
    let before = lint(case, select);
    if !before.diagnostics.iter().any(|d| d.fix.is_some()) {
        for f in &expected {
            if bless() {
                fs::remove_file(case.join(f)).unwrap();
            } else {
                failures.push(format!(
                    "{}: {f}: no finding here has a fix",
                    case.display()
                ));
            }
        }
        return failures;
    }

    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path();
    copy_case(case, copy);
    let report = lint(copy, select);
    let plan = fix::plan(&report);
    let written = plan.write(&report);
    assert!(
        written.failed.is_empty(),
        "{}: {:?}",
        case.display(),
        written.failed
    );
    let changed: Vec<&str> = plan.files.iter().map(|f| f.path.as_str()).collect();

    // Changed files against their `.fixed` files; the rest unchanged.
    for rel in files(case) {
        if rel.ends_with(".fixed") {
            let of = rel.trim_end_matches(".fixed");
            if !changed.contains(&of) {
                if bless() {
                    fs::remove_file(case.join(&rel)).unwrap();
                } else {
                    failures.push(format!(
                        "{}: {rel}: the fixes do not change {of}",
                        case.display()
                    ));
                }
            }
            continue;
        }
        let after = read(&copy.join(&rel));
        if changed.contains(&rel.as_str()) {
            let want_path = case.join(format!("{rel}.fixed"));
            if bless() {
                fs::write(&want_path, after.unwrap()).unwrap();
                continue;
            }
            match fs::read(&want_path) {
                Err(_) => failures.push(format!(
                    "{}: the fixes change {rel}, but there is no {rel}.fixed",
                    case.display()
                )),
                Ok(want) if Some(&want) != after.as_ref() => failures.push(format!(
                    "{}: {rel} after --fix differs from {rel}.fixed\n--- expected\n{}--- actual\n{}",
                    case.display(),
                    String::from_utf8_lossy(&want),
                    String::from_utf8_lossy(&after.unwrap_or_default())
                )),
                Ok(_) => {}
            }
        } else if after != read(&case.join(&rel)) {
            failures.push(format!("{}: {rel} changed, but has no fix", case.display()));
        }
    }

    // Linting again: exactly what was not fixed remains.
    let again = lint(copy, select);
    let kept = keys(
        &report,
        report
            .diagnostics
            .iter()
            .enumerate()
            .filter(|(i, _)| written.fixed.binary_search(i).is_err())
            .map(|(_, d)| d),
    );
    let now = keys(&again, again.diagnostics.iter());
    if kept != now {
        failures.push(format!(
            "{}: after --fix, expected the findings not fixed:\n{kept:#?}\nbut linting again gives:\n{now:#?}",
            case.display()
        ));
    }

    // A second --fix changes nothing.
    let second = fix::plan(&again);
    if !second.is_empty() {
        failures.push(format!(
            "{}: a second --fix would change:\n{}",
            case.display(),
            second.diff(&again)
        ));
    }
    failures
}

#[test]
fn fixes_on_copies_of_the_fixtures_match_their_fixed_files() {
    let only = std::env::var("GITOPS_LINT_FIXTURE").unwrap_or_default();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (select, case) in cases() {
        if !case.to_string_lossy().contains(&only) {
            continue;
        }
        let has_fixed = files(&case).iter().any(|f| f.ends_with(".fixed"));
        failures.extend(check_case(&select, &case));
        checked += usize::from(has_fixed);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    if only.is_empty() && !bless() {
        // Every fix the rules make has a fixture that proves it.
        assert!(checked >= 3, "only {checked} cases with .fixed files");
        for dir in [
            "flux/no-retry-interval",
            "talos/worker-dhcp-explicit",
            "workload/rwo-single-replica-recreate",
        ] {
            let any = files(&fixtures().join(dir))
                .iter()
                .any(|f| f.ends_with(".fixed"));
            assert!(any, "{dir}: no case with a .fixed file");
        }
    }
}

// ---------------------------------------------------------------------------
// The command line.

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

/// A throwaway repository from (path, content) pairs.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    dir
}

const BAD_HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  interval: 1h   # hourly\n  retryInterval: 2m # no\n  chartRef: {kind: OCIRepository, name: a}\n";
const FIXED_HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  interval: 1h   # hourly\n  chartRef: {kind: OCIRepository, name: a}\n";
/// A finding without a fix (a strategy retryInterval), beside the fixable one.
const UNFIXABLE_HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: b\nspec:\n  interval: 1h\n  install:\n    strategy:\n      name: RemediateOnFailure\n      retryInterval: 1m\n";

#[test]
fn diff_prints_the_fixes_and_writes_nothing() {
    let dir = repo(&[("hr.yaml", BAD_HR), ("other.yaml", UNFIXABLE_HR)]);
    let o = bin()
        .args(["check", "--diff"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "a diff to apply exits 1");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(
        out,
        "--- a/hr.yaml\n+++ b/hr.yaml\n@@ -4,5 +4,4 @@\n   name: a\n spec:\n   interval: 1h   # hourly\n-  retryInterval: 2m # no\n   chartRef: {kind: OCIRepository, name: a}\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "would fix 1 finding in 1 file\n"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("hr.yaml")).unwrap(),
        BAD_HR
    );
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no file added"
    );

    // Nothing to fix: no diff, exit 0.
    let clean = repo(&[("hr.yaml", FIXED_HR)]);
    let o = bin()
        .args(["check", "--diff"])
        .arg(clean.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    assert!(o.stdout.is_empty());
}

#[test]
fn fix_writes_and_reports_what_remains() {
    let dir = repo(&[("hr.yaml", BAD_HR), ("other.yaml", UNFIXABLE_HR)]);
    let o = bin()
        .args(["check", "--fix", "--format", "compact"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "fixed 1 finding in 1 file\n"
    );
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with("other.yaml:10:7: error[flux/no-retry-interval]"),
        "{out}"
    );
    assert_eq!(
        code(&o),
        1,
        "the finding that remains decides the exit status"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("hr.yaml")).unwrap(),
        FIXED_HR
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("other.yaml")).unwrap(),
        UNFIXABLE_HR
    );

    // Once everything fixable is fixed and the rest is ignored: exit 0.
    let o = bin()
        .args(["check", "--fix", "--fail-on", "error", "--ignore", "flux/"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "fixed 0 findings in 0 files\n"
    );
}

#[test]
fn fix_and_diff_refuse_standard_input_and_each_other() {
    let dir = repo(&[("hr.yaml", BAD_HR)]);
    for flag in ["--fix", "--diff"] {
        let o = bin()
            .current_dir(dir.path())
            .args(["check", "-", "--stdin-filename", "hr.yaml", flag])
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{flag}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("do not read `-`"));
    }
    let o = bin()
        .args(["check", "--fix", "--diff"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert_eq!(
        fs::read_to_string(dir.path().join("hr.yaml")).unwrap(),
        BAD_HR
    );
}

#[test]
fn a_file_changed_since_it_was_read_is_left_alone() {
    let dir = repo(&[("hr.yaml", BAD_HR), ("b/hr.yaml", BAD_HR)]);
    let report = lint(dir.path(), &[]);
    let plan = fix::plan(&report);
    assert_eq!(plan.files.len(), 2);
    let edited = BAD_HR.replace("1h", "2h");
    fs::write(dir.path().join("hr.yaml"), &edited).unwrap();
    let written = plan.write(&report);
    assert_eq!(written.files, ["b/hr.yaml"]);
    assert_eq!(written.failed.len(), 1);
    assert_eq!(written.failed[0].0, "hr.yaml");
    assert!(written.failed[0].1.contains("changed on disk"));
    assert_eq!(
        fs::read_to_string(dir.path().join("hr.yaml")).unwrap(),
        edited
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("b/hr.yaml")).unwrap(),
        FIXED_HR
    );
    // The finding in the file left alone is not counted as fixed.
    let fixed: Vec<&str> = written
        .fixed
        .iter()
        .map(|&i| report.repo.files[report.diagnostics[i].file].path.as_str())
        .collect();
    assert_eq!(fixed, ["b/hr.yaml"]);
}

#[test]
fn overlapping_fixes_take_the_first_and_keep_the_rest_reported() {
    use gitops_lint::diagnostic::Edit;
    use gitops_lint::yaml::Span;
    let dir = repo(&[("hr.yaml", BAD_HR)]);
    let mut report = lint(dir.path(), &[]);
    assert_eq!(report.diagnostics.len(), 1);
    // A second finding whose fix overlaps the first one's.
    let mut other = report.diagnostics[0].clone();
    let first = other.fix.as_ref().unwrap().edits[0].span;
    other.fix.as_mut().unwrap().edits = vec![Edit {
        span: Span::new(first.start as usize + 2, first.end as usize + 3),
        replacement: "x".into(),
    }];
    report.diagnostics.push(other);
    // And one whose fix is the first one's again: the same cure, so fixed too.
    let same = report.diagnostics[0].clone();
    report.diagnostics.push(same);
    let plan = fix::plan(&report);
    assert_eq!(plan.findings(), 2);
    assert_eq!(plan.files[0].diagnostics, [0, 2]);
    assert_eq!(plan.files[0].fixed, FIXED_HR);
}
