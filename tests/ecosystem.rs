//! The ecosystem check: the linter over every real repository in
//! `../shared/corpora`, compared with the committed ledger
//! `tests/ecosystem.ledger`. Every error and warning is a line of the ledger;
//! every error carries a verdict (`true`, with the reason it is a real
//! breakage). A change in findings fails until the ledger is updated, so each
//! change of behaviour on real repositories is seen and judged in review.
//!
//! `GITOPS_LINT_BLESS=1 cargo test --test ecosystem` rewrites the ledger,
//! keeping the verdicts of findings that stay; a new error comes in as
//! `unjudged` and fails until someone judges it. Skipped (with a message)
//! where `../shared/corpora` is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const LEDGER: &str = "tests/ecosystem.ledger";
const HEADER: &str = "# repository\tseverity\trule\tpath:line:column\tverdict\treason\n";

/// (repository, severity, rule, place)
type Key = (String, String, String, String);

fn corpora() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    dir.is_dir().then_some(dir)
}

fn findings(corpora: &Path) -> Vec<Key> {
    let mut repos: Vec<PathBuf> = std::fs::read_dir(corpora)
        .expect("the corpora directory is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    let mut out = Vec::new();
    let mut seen: BTreeMap<Key, usize> = BTreeMap::new();
    for repo in repos {
        let name = repo.file_name().unwrap().to_string_lossy().to_string();
        let run = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
            .args(["check", "--format", "compact", "--no-color", "--no-cache"])
            .arg(&repo)
            .output()
            .expect("the linter runs");
        assert!(
            run.status.code().is_some_and(|c| c <= 1),
            "{name}: the run failed: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        for line in String::from_utf8_lossy(&run.stdout).lines() {
            // path:line:col: severity[rule] message
            let Some((place, rest)) = line.split_once(": ") else {
                continue;
            };
            let Some((severity, rest)) = rest.split_once('[') else {
                continue;
            };
            let Some((rule, _)) = rest.split_once(']') else {
                continue;
            };
            if severity == "error" || severity == "warning" {
                let key = (
                    name.clone(),
                    severity.to_string(),
                    rule.to_string(),
                    place.to_string(),
                );
                // Several findings of one rule at one place: `place (2)`, ...
                let n = seen.entry(key.clone()).or_default();
                *n += 1;
                let mut key = key;
                if *n > 1 {
                    key.3 = format!("{} ({n})", key.3);
                }
                out.push(key);
            }
        }
    }
    out
}

fn read_ledger(path: &Path) -> BTreeMap<Key, (String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(6, '\t').collect();
            assert!(
                f.len() >= 5,
                "{LEDGER}: a line needs five tab-separated fields: {l}"
            );
            (
                (f[0].into(), f[1].into(), f[2].into(), f[3].into()),
                (f[4].into(), f.get(5).copied().unwrap_or("").into()),
            )
        })
        .collect()
}

fn write_ledger(path: &Path, entries: &BTreeMap<Key, (String, String)>) {
    let mut text = String::from(HEADER);
    for ((repo, severity, rule, place), (verdict, reason)) in entries {
        text.push_str(&format!(
            "{repo}\t{severity}\t{rule}\t{place}\t{verdict}\t{reason}\n"
        ));
    }
    std::fs::write(path, text).expect("the ledger is writable");
}

#[test]
fn every_finding_on_the_real_repositories_is_in_the_ledger() {
    let Some(corpora) = corpora() else {
        eprintln!("skipped: ../shared/corpora is absent, so the ecosystem check does not run");
        return;
    };
    let ledger_path = Path::new(env!("CARGO_MANIFEST_DIR")).join(LEDGER);
    let ledger = read_ledger(&ledger_path);
    let actual = findings(&corpora);
    if std::env::var_os("GITOPS_LINT_BLESS").is_some() {
        let blessed: BTreeMap<Key, (String, String)> = actual
            .iter()
            .map(|k| {
                let kept = ledger.get(k).cloned().unwrap_or_else(|| {
                    let verdict = if k.1 == "error" { "unjudged" } else { "-" };
                    (verdict.to_string(), String::new())
                });
                (k.clone(), kept)
            })
            .collect();
        write_ledger(&ledger_path, &blessed);
    }
    let ledger = read_ledger(&ledger_path);
    let show = |k: &Key| format!("{} {} [{}] {}", k.0, k.1, k.2, k.3);
    let mut problems = Vec::new();
    for k in &actual {
        if !ledger.contains_key(k) {
            problems.push(format!("new finding, not in the ledger: {}", show(k)));
        }
    }
    for k in ledger.keys() {
        if !actual.contains(k) {
            problems.push(format!("in the ledger, no longer found: {}", show(k)));
        }
    }
    for (k, (verdict, reason)) in &ledger {
        if k.1 != "error" {
            continue;
        }
        match verdict.as_str() {
            "true" if !reason.trim().is_empty() => {}
            "true" => problems.push(format!("an error without a reason: {}", show(k))),
            "false" => problems.push(format!(
                "an error judged false (fix the rule or the model): {}",
                show(k)
            )),
            v => problems.push(format!("an error not judged ({v}): {}", show(k))),
        }
    }
    assert!(
        problems.is_empty(),
        "the findings on ../shared/corpora differ from {LEDGER} ({} problems; review them, then GITOPS_LINT_BLESS=1 cargo test --test ecosystem and judge every new error):\n{}",
        problems.len(),
        problems.join("\n")
    );
    let errors = actual.iter().filter(|k| k.1 == "error").count();
    eprintln!(
        "ecosystem: {} findings on the real repositories ({errors} errors, each judged true)",
        actual.len()
    );
}
