//! `gitops-lint explain` on small repositories: `tests/explain/<case>/` with
//! `args` (the paths to explain, one a line), `expected.txt` and
//! `expected.json` (the explanation), `expected-tree.txt` (the tree).
//!
//! `GITOPS_LINT_BLESS=1 cargo test --test explain` rewrites the expected files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use gitops_lint::explain::{Request, run};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain");
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

fn request(case: &Path, tree: bool, json: bool, threads: usize) -> Request {
    let args = fs::read_to_string(case.join("args")).unwrap();
    Request {
        paths: args
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| case.join(l))
            .collect(),
        root: Some(case.to_path_buf()),
        tree,
        json,
        threads: Some(threads),
        ..Request::default()
    }
}

/// Compares with an expected file, or rewrites it when blessing.
fn compare(path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("GITOPS_LINT_BLESS").is_some() {
        fs::write(path, actual).unwrap();
        return None;
    }
    let expected = fs::read_to_string(path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "{}\n--- expected\n{expected}--- actual\n{actual}",
            path.display()
        )
    })
}

#[test]
fn explain_cases() {
    let cases = cases();
    assert!(cases.len() >= 5);
    let mut failures = Vec::new();
    for case in &cases {
        for (tree, json, file) in [
            (false, false, "expected.txt"),
            (false, true, "expected.json"),
            (true, false, "expected-tree.txt"),
        ] {
            let mut req = request(case, tree, json, 1);
            if tree {
                req.paths.clear();
            }
            let text = run(&req).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
            if json {
                serde_json::from_str::<serde_json::Value>(&text).expect("valid JSON");
            }
            // The same at any thread count.
            req.threads = Some(4);
            assert_eq!(run(&req).unwrap(), text, "{}", case.display());
            failures.extend(compare(&case.join(file), &text));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn two_builds_give_two_namespaces() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain/component-two-apps");
    let text = run(&request(&dir, false, true, 1)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let builds = &v["files"][0]["objects"][0]["builds"];
    let ns: Vec<&str> = builds
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(ns, ["team-a", "team-b"]);
    assert_eq!(
        builds[0]["components"][0]["path"],
        "apps/app-a/kustomization.yaml"
    );
}

#[test]
fn an_unknown_secret_value_stays_unknown() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain/substitute-from-secret");
    let text = run(&request(&dir, false, true, 1)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let vars = v["files"][0]["objects"][0]["builds"][0]["variables"]
        .as_array()
        .unwrap();
    let domain = vars.iter().find(|x| x["name"] == "SECRET_DOMAIN").unwrap();
    assert!(domain["value"].is_null());
    assert_eq!(domain["from"], "Secret/cluster-secrets");
    let tz = vars.iter().find(|x| x["name"] == "TIMEZONE").unwrap();
    assert_eq!(tz["value"], "Europe/Paris");
}

#[test]
fn the_command_line_answers_and_refuses_a_path_outside() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain/commented-out");
    let out = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .args(["explain", "--format", "json", "--root"])
        .arg(&dir)
        .arg(dir.join("apps/dropped/ks.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["not_deployed"]["code"], "commented-out");
    assert_eq!(v["files"][0]["not_deployed"]["at"]["line"], 5);
    let out = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .args(["explain", "--root"])
        .arg(&dir)
        .arg(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the repository root"));
    let out = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .args(["explain", "--root"])
        .arg(&dir)
        .arg(dir.join("no/such/file.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `explain --tree` (human and JSON) and `explain` of a whole repository
/// run on every repository of `../shared/corpora`: exit 0, no panic, JSON
/// that parses. Skipped (with a message) where the corpora are absent.
#[test]
fn explain_runs_on_every_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    if !dir.is_dir() {
        eprintln!("skipped: ../shared/corpora is absent");
        return;
    }
    let mut repos: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    assert!(!repos.is_empty());
    for repo in repos {
        for args in [
            &["explain", "--tree"][..],
            &["explain", "--tree", "--format", "json"][..],
            &["explain", "--format", "json"][..],
        ] {
            let out = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
                .args(args)
                .arg("--root")
                .arg(&repo)
                .arg(&repo)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{} {args:?}: {}",
                repo.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            if args.contains(&"json") {
                serde_json::from_slice::<serde_json::Value>(&out.stdout)
                    .unwrap_or_else(|e| panic!("{} {args:?}: {e}", repo.display()));
            } else {
                assert!(!out.stdout.is_empty(), "{}", repo.display());
            }
        }
    }
}
