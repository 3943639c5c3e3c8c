//! The real pre-commit tool, installed from PyPI, blocks a commit that holds a
//! finding and lets the fixed one through: once with a `repo: local` hook that
//! runs the built binary, once with the hook definition this repository ships
//! (`.pre-commit-hooks.yaml`, hook `gitops-lint-system`), and once with its
//! `language: python` hook, which pre-commit installs with pip: maturin builds
//! the wheel from the hook repository (with the debug profile, in the target
//! directory `target/wheel` that the wheel test uses too).
//!
//! pre-commit is installed into a virtual environment kept in the target
//! directory (`target/precommit-venv`), so only the first run downloads it.
//! Without Python, or without PyPI, the tests say why on standard error and
//! pass; `GITOPS_LINT_REQUIRE_PRECOMMIT=1` makes that a failure instead.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/python.rs"]
mod python;
use python::text;
use std::sync::OnceLock;

/// The pre-commit release the tests run.
const PRE_COMMIT: &str = "4.7.0";

const BIN: &str = env!("CARGO_BIN_EXE_gitops-lint");

const BAD_HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\n  namespace: media\nspec:\n  interval: 1h\n  retryInterval: 2m\n";
const GOOD_HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\n  namespace: media\nspec:\n  interval: 1h\n";

/// Where the binary lives: `target/debug`, whose parent is the target directory.
fn bin_dir() -> &'static Path {
    Path::new(BIN).parent().unwrap()
}

/// pre-commit from the cached virtual environment, installed on first use;
/// `Err` says why it cannot be had.
fn install() -> Result<PathBuf, String> {
    python::tool(
        &bin_dir().parent().unwrap().join("precommit-venv"),
        "pre-commit",
        PRE_COMMIT,
    )
}

/// pre-commit, or `None` after saying on standard error why the test is skipped.
fn pre_commit() -> Option<&'static Path> {
    static TOOL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match TOOL.get_or_init(install) {
        Ok(p) => Some(p),
        Err(why) if std::env::var_os("GITOPS_LINT_REQUIRE_PRECOMMIT").is_some() => {
            panic!("pre-commit is required: {why}")
        }
        Err(why) => {
            // Past the test harness's capture, so that a skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: the pre-commit test needs pre-commit: {why}"
            );
            None
        }
    }
}

/// Git and pre-commit in `dir`, shielded from the user's Git configuration,
/// pre-commit cache and `SKIP`, with `path_first` ahead of `PATH`.
struct Sandbox {
    root: tempfile::TempDir,
    path: OsString,
    /// More variables for every command.
    env: Vec<(&'static str, OsString)>,
}

impl Sandbox {
    fn new(path_first: Option<&Path>) -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("gitconfig"), "").unwrap();
        let mut dirs: Vec<PathBuf> = path_first.map(Path::to_path_buf).into_iter().collect();
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let path = std::env::join_paths(dirs).unwrap();
        Sandbox {
            root,
            path,
            env: Vec::new(),
        }
    }

    fn dir(&self, name: &str) -> PathBuf {
        let d = self.root.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(dir)
            .env("PATH", &self.path)
            .env("GIT_CONFIG_GLOBAL", self.root.path().join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PRE_COMMIT_HOME", self.root.path().join("pre-commit-home"))
            .env("PRE_COMMIT_COLOR", "never")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "SKIP",
        ] {
            c.env_remove(var);
        }
        c
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Output {
        self.command("git", dir).args(args).output().unwrap()
    }

    /// A new repository with an identity of its own.
    fn repository(&self, name: &str) -> PathBuf {
        let d = self.dir(name);
        for args in [
            &["init", "-q"][..],
            &["config", "user.name", "gitops-lint test"],
            &["config", "user.email", "test@example.invalid"],
            &["config", "commit.gpgsign", "false"],
        ] {
            let o = self.git(&d, args);
            assert!(o.status.success(), "git {args:?}: {}", text(&o));
        }
        d
    }
}

fn write(dir: &Path, path: &str, content: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// With `config` as the repository's `.pre-commit-config.yaml` and the hook
/// installed, `git commit` of a bad manifest fails naming the finding, and of
/// the fixed manifest succeeds. `hook` is the name pre-commit prints.
fn bad_commit_blocked_good_commit_passes(
    sandbox: &Sandbox,
    pre_commit: &Path,
    config: &str,
    hook: &str,
) {
    let repo = sandbox.repository("repo");
    write(&repo, ".pre-commit-config.yaml", config);
    let o = sandbox
        .command(pre_commit, &repo)
        .arg("install")
        .output()
        .unwrap();
    assert!(o.status.success(), "pre-commit install: {}", text(&o));

    write(&repo, "apps/media/a/helmrelease.yaml", BAD_HR);
    assert!(sandbox.git(&repo, &["add", "-A"]).status.success());
    let o = sandbox.git(&repo, &["commit", "-q", "-m", "bad"]);
    let out = text(&o);
    assert!(!o.status.success(), "the bad commit went through:\n{out}");
    assert!(
        out.contains(&format!("{hook}...")),
        "hook `{hook}` not run:\n{out}"
    );
    assert!(out.contains("Failed"), "{out}");
    assert!(
        out.contains("apps/media/a/helmrelease.yaml:8:3: error[flux/no-retry-interval]"),
        "the finding is not named:\n{out}"
    );
    let head = sandbox.git(&repo, &["rev-parse", "--verify", "-q", "HEAD"]);
    assert!(!head.status.success(), "a commit was made");

    write(&repo, "apps/media/a/helmrelease.yaml", GOOD_HR);
    assert!(sandbox.git(&repo, &["add", "-A"]).status.success());
    let o = sandbox.git(&repo, &["commit", "-q", "-m", "good"]);
    let out = text(&o);
    assert!(o.status.success(), "the good commit was blocked:\n{out}");
    assert!(
        out.contains(&format!("{hook}...")),
        "hook `{hook}` not run:\n{out}"
    );
    assert!(out.contains("Passed"), "{out}");
    let log = sandbox.git(&repo, &["log", "--format=%s"]);
    assert_eq!(String::from_utf8_lossy(&log.stdout), "good\n");
}

/// A YAML scalar: JSON strings are YAML double-quoted strings.
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A word for pre-commit's `entry`, which it splits the way a POSIX shell does.
fn shell_word(s: &str) -> String {
    format!("'{}'", s.replace('\'', r#"'"'"'"#))
}

#[test]
fn a_local_hook_running_the_binary_blocks_a_bad_commit() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let sandbox = Sandbox::new(None);
    // The `gitops-lint-system` hook of `.pre-commit-hooks.yaml`, with the
    // built binary as its entry.
    let config = format!(
        "repos:\n  - repo: local\n    hooks:\n      - id: gitops-lint\n        name: gitops-lint\n        entry: {}\n        language: system\n        types: [yaml]\n        require_serial: true\n",
        yaml_str(&format!("{} check", shell_word(BIN)))
    );
    bad_commit_blocked_good_commit_passes(&sandbox, pre_commit, &config, "gitops-lint");
}

#[test]
fn the_shipped_hook_definition_blocks_a_bad_commit() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    // The binary is found on PATH, as an installed one would be.
    let sandbox = Sandbox::new(Some(bin_dir()));
    // A repository holding this checkout's hook definitions, as pre-commit
    // would clone this repository.
    let hooks = sandbox.repository("hooks");
    let definitions = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    write(&hooks, ".pre-commit-hooks.yaml", &definitions);
    assert!(sandbox.git(&hooks, &["add", "-A"]).status.success());
    let o = sandbox.git(&hooks, &["commit", "-q", "-m", "hooks"]);
    assert!(o.status.success(), "{}", text(&o));
    let rev = sandbox.git(&hooks, &["rev-parse", "HEAD"]);
    let rev = String::from_utf8_lossy(&rev.stdout).trim().to_string();
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: gitops-lint-system\n",
        yaml_str(&hooks.to_string_lossy())
    );
    bad_commit_blocked_good_commit_passes(
        &sandbox,
        pre_commit,
        &config,
        "gitops-lint (installed binary)",
    );
}

/// What the crate is built from, copied into `dir` (a hook repository).
fn copy_build_inputs(dir: &Path) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    fn copy(from: &Path, to: &Path) {
        if from.is_dir() {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                copy(&entry.path(), &to.join(entry.file_name()));
            }
        } else {
            std::fs::copy(from, to).unwrap();
        }
    }
    for name in [
        "Cargo.toml",
        "Cargo.lock",
        "pyproject.toml",
        "README.md",
        ".pre-commit-hooks.yaml",
        "src",
        "lints",
        "schemas",
    ] {
        copy(&manifest.join(name), &dir.join(name));
    }
}

#[test]
fn the_shipped_python_hook_blocks_a_bad_commit() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    // Nothing on PATH: the hook's own virtual environment has the binary.
    let mut sandbox = Sandbox::new(None);
    let target = bin_dir().parent().unwrap();
    sandbox.env = vec![
        ("CARGO_TARGET_DIR", target.join("wheel").into()),
        ("MATURIN_PEP517_ARGS", "--profile dev".into()),
    ];
    let hooks = sandbox.repository("hooks");
    copy_build_inputs(&hooks);
    assert!(sandbox.git(&hooks, &["add", "-A"]).status.success());
    let o = sandbox.git(&hooks, &["commit", "-q", "-m", "hooks"]);
    assert!(o.status.success(), "{}", text(&o));
    let rev = sandbox.git(&hooks, &["rev-parse", "HEAD"]);
    let rev = String::from_utf8_lossy(&rev.stdout).trim().to_string();
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: gitops-lint-python\n",
        yaml_str(&hooks.to_string_lossy())
    );
    bad_commit_blocked_good_commit_passes(
        &sandbox,
        pre_commit,
        &config,
        "gitops-lint (Python wheel)",
    );
}
