//! The command line as scripts, editors and pre-commit use it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample-repo")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

/// A throwaway repository from (path, content) pairs.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const BAD_HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  interval: 1h\n  retryInterval: 2m\n";
const GOOD_HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  interval: 1h\n";

#[test]
fn compact_on_the_sample_repository_matches_its_expected_output() {
    let s = sample();
    let o = run(&["check", s.to_str().unwrap(), "--format", "compact"]);
    assert_eq!(code(&o), 1, "the sample repository holds incidents");
    let expected = std::fs::read_to_string(s.join("expected.txt")).unwrap();
    assert_eq!(stdout(&o), expected);
    // `gitops-lint PATH` is `gitops-lint check PATH`.
    let o2 = run(&[s.to_str().unwrap(), "--format", "compact"]);
    assert_eq!(stdout(&o2), expected);
}

#[test]
fn json_output_follows_the_contract() {
    let s = sample();
    let o = run(&["check", s.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["root"], s.canonicalize().unwrap().display().to_string());
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(!diags.is_empty());
    for d in diags {
        for key in ["rule", "severity", "path", "message"] {
            assert!(d[key].is_string(), "{key} in {d}");
        }
        for key in ["line", "column", "end_line", "end_column"] {
            assert!(d[key].as_u64().unwrap() >= 1, "{key} in {d}");
        }
        assert!(!d["path"].as_str().unwrap().starts_with('/'));
    }
    let summary = &v["summary"];
    let errors = diags.iter().filter(|d| d["severity"] == "error").count() as u64;
    assert_eq!(summary["errors"].as_u64(), Some(errors));
    assert!(summary["files"].as_u64().unwrap() > 20);
    assert!(summary["documents"].as_u64().unwrap() >= summary["files"].as_u64().unwrap());
    assert!(summary["elapsed_ms"].is_u64());
}

#[test]
fn human_output_shows_the_snippet() {
    let r = repo(&[("hr.yaml", BAD_HR)]);
    let o = run(&[
        "check",
        r.path().to_str().unwrap(),
        "--format",
        "human",
        "--no-color",
    ]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("flux/no-retry-interval"), "{out}");
    assert!(out.contains("hr.yaml:7:3"), "{out}");
    assert!(out.contains("retryInterval: 2m"), "{out}");
    assert!(out.contains("1 error, 0 warnings"), "{out}");
    assert!(!out.contains('\u{1b}'), "no colour codes with --no-color");
    let quiet = stdout(&run(&[
        "check",
        r.path().to_str().unwrap(),
        "--format",
        "human",
        "--quiet",
    ]));
    assert!(!quiet.contains("1 error, 0 warnings"));
}

#[test]
fn exit_statuses() {
    let good = repo(&[("hr.yaml", GOOD_HR)]);
    let o = run(&["check", good.path().to_str().unwrap()]);
    assert_eq!((code(&o), stdout(&o)), (0, String::new()));
    // A warning fails only with --fail-on warning.
    let warn = repo(&[(
        "ks.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\nspec:\n  interval: 1h\n  retryInterval: 1m\n  prune: true\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
    )]);
    assert_eq!(code(&run(&["check", warn.path().to_str().unwrap()])), 0);
    assert_eq!(
        code(&run(&[
            "check",
            warn.path().to_str().unwrap(),
            "--fail-on",
            "warning"
        ])),
        1
    );
    // Broken YAML is a finding, not a failed run.
    let broken = repo(&[("a.yaml", "a: [1\n"), ("b.yaml", "\u{0}\u{1}binary")]);
    assert_eq!(code(&run(&["check", broken.path().to_str().unwrap()])), 1);
    // The run itself failing is 2.
    assert_eq!(code(&run(&["check", "/no/such/path"])), 2);
    assert_eq!(
        code(&run(&[
            "check",
            good.path().to_str().unwrap(),
            "--select",
            "nope/nothing"
        ])),
        2
    );
    assert_eq!(code(&run(&["rule", "nope/nothing"])), 2);
}

#[test]
fn select_ignore_and_config() {
    let r = repo(&[("hr.yaml", BAD_HR), ("dup.yaml", "a: 1\na: 2\n")]);
    let p = r.path().to_str().unwrap();
    let all = stdout(&run(&["check", p, "--format", "compact"]));
    assert_eq!(all.lines().count(), 2, "{all}");
    let flux = stdout(&run(&[
        "check", p, "--format", "compact", "--select", "flux/",
    ]));
    assert!(
        flux.contains("flux/no-retry-interval") && !flux.contains("yaml/"),
        "{flux}"
    );
    let no_yaml = stdout(&run(&[
        "check",
        p,
        "--format",
        "compact",
        "--ignore",
        "yaml/duplicate-key",
    ]));
    assert_eq!(no_yaml, flux);
    std::fs::write(
        r.path().join(".gitops-lint.yaml"),
        "rules:\n  flux/no-retry-interval: warning\n  yaml/duplicate-key: off\n",
    )
    .unwrap();
    let configured = stdout(&run(&["check", p, "--format", "compact"]));
    assert!(
        configured.starts_with("hr.yaml:7:3: warning[flux/no-retry-interval]"),
        "{configured}"
    );
    assert_eq!(configured.lines().count(), 1);
    std::fs::write(
        r.path().join(".gitops-lint.yaml"),
        "rules:\n  flux/no-such-rule: warning\n",
    )
    .unwrap();
    let o = run(&["check", p]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(".gitops-lint.yaml:2:3:") && err.contains("flux/no-such-rule"),
        "{err}"
    );
}

#[test]
fn select_turns_on_rules_that_are_off_and_extend_select_adds_them() {
    const UNKNOWN: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n";
    let r = repo(&[("hr.yaml", BAD_HR), ("widget.yaml", UNKNOWN)]);
    let p = r.path().to_str().unwrap();
    let default = stdout(&run(&["check", p, "--format", "compact"]));
    assert!(!default.contains("schema/unknown-kind"), "{default}");
    // `--select` runs what it names, off by default or not, and nothing else.
    let only = stdout(&run(&[
        "check",
        p,
        "--format",
        "compact",
        "--select",
        "schema/unknown-kind",
    ]));
    assert!(
        only.starts_with("widget.yaml:2:7: info[schema/unknown-kind]") && only.lines().count() == 1,
        "{only}"
    );
    // `--extend-select` adds it to what runs anyway.
    let extended = stdout(&run(&[
        "check",
        p,
        "--format",
        "compact",
        "--extend-select",
        "schema/unknown-kind",
    ]));
    assert!(
        extended.contains("info[schema/unknown-kind]")
            && extended.contains("[flux/no-retry-interval]"),
        "{extended}"
    );
    // A rule the configuration turns off runs when the command line selects it.
    std::fs::write(
        r.path().join(".gitops-lint.yaml"),
        "rules:\n  flux/no-retry-interval: off\n",
    )
    .unwrap();
    let off = stdout(&run(&["check", p, "--format", "compact"]));
    assert!(!off.contains("no-retry-interval"), "{off}");
    let selected = stdout(&run(&[
        "check",
        p,
        "--format",
        "compact",
        "--extend-select",
        "flux/no-retry-interval",
    ]));
    assert!(selected.contains("[flux/no-retry-interval]"), "{selected}");
    let o = run(&["check", p, "--extend-select", "flux/no-such-rule"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn excludes_and_gitignore() {
    let r = repo(&[
        ("archive/hr.yaml", BAD_HR),
        ("old/hr.yaml", BAD_HR),
        ("apps/hr.yaml", BAD_HR),
        (".gitignore", "old/\n"),
        (".gitops-lint.yaml", "exclude: [\"archive/**\"]\n"),
    ]);
    let out = stdout(&run(&[
        "check",
        r.path().to_str().unwrap(),
        "--format",
        "compact",
    ]));
    assert_eq!(out.lines().collect::<Vec<_>>().len(), 1, "{out}");
    assert!(out.starts_with("apps/hr.yaml:"), "{out}");
}

#[test]
fn file_arguments_report_only_those_files() {
    let r = repo(&[("a/hr.yaml", BAD_HR), ("b/hr.yaml", BAD_HR)]);
    let file = r.path().join("b/hr.yaml");
    let o = run(&["check", file.to_str().unwrap(), "--format", "compact"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stdout(&o).lines().collect::<Vec<_>>(),
        [
            "b/hr.yaml:7:3: error[flux/no-retry-interval] `spec.retryInterval` is not a HelmRelease field: helm-controller ignores it and failed releases are not retried at this interval"
        ]
    );
    // Relative paths from inside the repository work as pre-commit passes them.
    let o = bin()
        .current_dir(r.path())
        .args(["check", "a/hr.yaml", "--format", "compact"])
        .output()
        .unwrap();
    assert!(stdout(&o).starts_with("a/hr.yaml:7:3:"), "{}", stdout(&o));
}

#[test]
fn a_named_file_is_linted_where_gitignore_matches_it_but_not_where_exclude_does() {
    const PLAIN: &str =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: hunter2\n";
    let r = repo(&[
        (".gitignore", "*.sops.yaml\n"),
        (".gitops-lint.yaml", "exclude: [\"vendor/**\"]\n"),
        ("apps/secret.sops.yaml", PLAIN),
        ("vendor/secret.sops.yaml", PLAIN),
    ]);
    let lint = |rel: &str| {
        bin()
            .current_dir(r.path())
            .args(["check", rel, "--format", "compact"])
            .output()
            .unwrap()
    };
    // Force-added to git although ignored: what pre-commit passes is linted.
    let o = lint("apps/secret.sops.yaml");
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).starts_with("apps/secret.sops.yaml:") && stdout(&o).contains("plaintext-secret"),
        "{}",
        stdout(&o)
    );
    let o = lint("vendor/secret.sops.yaml");
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn file_arguments_without_a_marker_take_the_current_directory_and_never_the_filesystem_root() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("apps")).unwrap();
    std::fs::write(dir.path().join("apps/hr.yaml"), BAD_HR).unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./apps/missing.yaml\n",
    )
    .unwrap();
    // No `.git` or configuration above: the current directory is the root,
    // so the kustomization beside the file is read (cross-file rules stay on).
    let o = bin()
        .current_dir(dir.path())
        .args(["check", "apps/hr.yaml", "--format", "compact"])
        .output()
        .unwrap();
    assert!(
        stdout(&o).starts_with("apps/hr.yaml:7:3:"),
        "{}",
        stdout(&o)
    );
    // From the filesystem root, that root is refused with a way out.
    let o = bin()
        .current_dir("/")
        .arg("check")
        .arg(dir.path().join("apps/hr.yaml"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("gitops-lint init"), "{err}");
}

#[test]
fn stdin_buffer_replaces_the_file_on_disk() {
    let r = repo(&[("a/hr.yaml", BAD_HR), ("b/hr.yaml", BAD_HR)]);
    let lint_stdin = |text: &str| lint_buffer(r.path(), "a/hr.yaml", &[], text);
    let fixed = lint_stdin(GOOD_HR);
    assert_eq!((code(&fixed), stdout(&fixed)), (0, String::new()));
    let broken = lint_stdin(&format!("# a new line first\n{BAD_HR}"));
    assert_eq!(code(&broken), 1);
    assert!(
        stdout(&broken).starts_with("a/hr.yaml:8:3:"),
        "{}",
        stdout(&broken)
    );
    // A buffer for a file not yet on disk.
    let mut child = bin()
        .current_dir(r.path())
        .args([
            "check",
            "-",
            "--stdin-filename",
            "new/hr.yaml",
            "--format",
            "compact",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(BAD_HR.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(stdout(&o).starts_with("new/hr.yaml:7:3:"), "{}", stdout(&o));
}

#[test]
fn rules_and_rule_pages() {
    let o = run(&["rules"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    for rule in gitops_lint::rules::RULES {
        assert!(out.contains(rule.id), "{} missing from `rules`", rule.id);
        let page = run(&["rule", rule.id]);
        assert_eq!(stdout(&page), rule.page);
    }
}

#[test]
fn output_is_identical_at_any_thread_count() {
    let s = sample();
    let mut outputs = Vec::new();
    for threads in ["1", "2", "8"] {
        let compact = stdout(&run(&[
            "check",
            s.to_str().unwrap(),
            "--format",
            "compact",
            "--threads",
            threads,
        ]));
        let mut json: serde_json::Value = serde_json::from_slice(
            &run(&[
                "check",
                s.to_str().unwrap(),
                "--format",
                "json",
                "--threads",
                threads,
            ])
            .stdout,
        )
        .unwrap();
        json["summary"]["elapsed_ms"] = 0.into();
        outputs.push((compact, json));
    }
    assert!(!outputs[0].0.is_empty());
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn oversized_and_odd_files_are_findings_not_failures() {
    let big = format!(
        "a: |\n{}",
        "  0123456789012345678901234567890123456789\n".repeat(1_200_000)
    );
    let r = repo(&[
        ("big.yaml", &big),
        ("empty.yaml", ""),
        ("comment.yaml", "# nothing\n"),
    ]);
    let o = run(&["check", r.path().to_str().unwrap(), "--format", "compact"]);
    assert_eq!(code(&o), 0, "a skipped file is a warning");
    let out = stdout(&o);
    assert!(
        out.starts_with("big.yaml:1:1: warning[lint/skipped-file] file is"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1);
}

#[test]
fn no_fixture_makes_it_panic() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut roots = vec![fixtures.join("sample-repo")];
    for family in std::fs::read_dir(&fixtures).unwrap() {
        let family = family.unwrap().path();
        for rule in std::fs::read_dir(&family).into_iter().flatten() {
            for case in std::fs::read_dir(rule.unwrap().path())
                .into_iter()
                .flatten()
            {
                let case = case.unwrap().path();
                if case.is_dir() {
                    roots.push(case);
                }
            }
        }
    }
    assert!(roots.len() > 50);
    for root in roots {
        for format in ["compact", "json", "human"] {
            let o = bin()
                .env("RUST_BACKTRACE", "1")
                .args(["check", root.to_str().unwrap(), "--format", format])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                matches!(code(&o), 0 | 1),
                "{}: exit {:?}: {err}",
                root.display(),
                o.status
            );
            assert!(
                !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
                "{}: {err}",
                root.display()
            );
        }
    }
}

/// `check - --stdin-filename NAME ARGS` in `dir` with `text` on standard input.
fn lint_buffer(dir: &Path, name: &str, args: &[&str], text: &str) -> Output {
    let mut child = bin()
        .current_dir(dir)
        .args(["check", "-", "--stdin-filename", name])
        .args(if args.contains(&"--format") {
            &[][..]
        } else {
            &["--format", "compact"][..]
        })
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn stdin_findings_name_the_file_as_given() {
    let r = repo(&[("a/hr.yaml", BAD_HR)]);
    let root = r.path().canonicalize().unwrap();
    // Absolute stays absolute, from anywhere.
    let abs = root.join("a/hr.yaml");
    let o = lint_buffer(Path::new("/"), abs.to_str().unwrap(), &[], BAD_HR);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).starts_with(&format!("{}:7:3: error[", abs.display())),
        "{}",
        stdout(&o)
    );
    // Relative is relative to the current directory, not to the root.
    let o = lint_buffer(&root.join("a"), "hr.yaml", &[], BAD_HR);
    assert!(
        stdout(&o).starts_with("hr.yaml:7:3: error["),
        "{}",
        stdout(&o)
    );
    let o = lint_buffer(&root.join("a"), "./hr.yaml", &[], BAD_HR);
    assert!(
        stdout(&o).starts_with("hr.yaml:7:3: error["),
        "{}",
        stdout(&o)
    );
}

#[test]
fn columns_count_bytes_when_asked() {
    let r = repo(&[]);
    // `é` is two bytes: the key is at character 28 and byte 29 of its line.
    let text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec: {é: 1, interval: 1h, retryInterval: 2m}\n";
    let chars = lint_buffer(r.path(), "hr.yaml", &[], text);
    let bytes = lint_buffer(r.path(), "hr.yaml", &["--columns", "bytes"], text);
    let line = |o: &Output| {
        stdout(o)
            .lines()
            .find(|l| l.contains("flux/no-retry-interval"))
            .map(|l| l.split(':').take(3).collect::<Vec<_>>().join(":"))
    };
    assert_eq!(line(&chars).as_deref(), Some("hr.yaml:5:28"));
    assert_eq!(line(&bytes).as_deref(), Some("hr.yaml:5:29"));
    let json = lint_buffer(
        r.path(),
        "hr.yaml",
        &["--columns", "bytes", "--format", "json"],
        text,
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "flux/no-retry-interval")
        .unwrap();
    assert_eq!(
        (d["column"].clone(), d["end_column"].clone()),
        (29.into(), 42.into())
    );
}

#[test]
fn stdin_filename_without_the_dash_is_an_error() {
    let r = repo(&[("a/hr.yaml", BAD_HR)]);
    let o = bin()
        .current_dir(r.path())
        .args(["check", "--stdin-filename", "a/hr.yaml"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("add `-`"), "{err}");
}

#[test]
fn stdin_honours_the_exclusions() {
    let r = repo(&[
        (".gitops-lint.yaml", "exclude: [\"archive/**\"]\n"),
        ("a/hr.yaml", GOOD_HR),
    ]);
    let o = lint_buffer(r.path(), "archive/hr.yaml", &[], BAD_HR);
    assert_eq!((code(&o), stdout(&o)), (0, String::new()));
    let o = lint_buffer(r.path(), "a/hr.yaml", &[], BAD_HR);
    assert_eq!(code(&o), 1);
}

#[test]
fn a_quoted_default_gets_help_that_says_the_quotes_stay() {
    let dir = repo(&[(
        "apps/replicationsource.yaml",
        "apiVersion: volsync.backube/v1alpha1\nkind: ReplicationSource\nmetadata:\n  name: media\nspec:\n  sourcePVC: media\n  trigger:\n    schedule: \"${BACKUP_SCHEDULE:='0 * * * *'}\"\n",
    )]);
    let o = run(&["check", dir.path().to_str().unwrap(), "--format", "json"]);
    let out: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let found = &out["diagnostics"][0];
    assert_eq!(found["rule"], "schema/invalid-value", "{out}");
    let help = found["help"].as_str().unwrap_or_default();
    assert!(help.contains("keeps its quotes"), "{help}");
    assert!(
        help.contains("write `${BACKUP_SCHEDULE:=0 * * * *}`"),
        "{help}"
    );
}
