//! The Python wheel (`pyproject.toml`: maturin, `bindings = "bin"`): built from
//! this crate, installed into a fresh virtual environment, and run from there,
//! as `pipx install` or `uv tool install` would run it.
//!
//! maturin is installed from PyPI into a virtual environment kept in the
//! target directory (`target/maturin-venv`), so only the first run downloads
//! it; the wheel is built with the debug profile in a target directory of its
//! own (`target/wheel`), so later runs rebuild only what changed. Without
//! Python, or without PyPI, the test says why on standard error and passes;
//! `GITOPS_LINT_REQUIRE_WHEEL=1` makes that a failure instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/python.rs"]
mod python;
use python::{new_venv, text, venv_bin};

/// The maturin release the test builds with.
const MATURIN: &str = "1.16.0";

const BIN: &str = env!("CARGO_BIN_EXE_gitops-lint");

fn target_dir() -> &'static Path {
    // `target/debug/gitops-lint`: the target directory is two levels up.
    Path::new(BIN).parent().unwrap().parent().unwrap()
}

/// maturin from the cached virtual environment, installed on first use.
fn maturin() -> Result<PathBuf, String> {
    python::tool(&target_dir().join("maturin-venv"), "maturin", MATURIN)
}

fn skip(why: &str) {
    if std::env::var_os("GITOPS_LINT_REQUIRE_WHEEL").is_some() {
        panic!("the wheel test is required: {why}");
    }
    // Past the test harness's capture, so that a skip is seen.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: the wheel test needs Python and maturin: {why}"
    );
}

#[test]
fn the_wheel_installs_into_a_fresh_venv_and_runs() {
    let maturin = match maturin() {
        Ok(m) => m,
        Err(why) => return skip(&why),
    };
    let out = tempfile::tempdir().unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let o = Command::new(&maturin)
        .args(["build", "--profile", "dev", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--out")
        .arg(out.path())
        .env("CARGO_TARGET_DIR", target_dir().join("wheel"))
        .output()
        .unwrap();
    assert!(o.status.success(), "maturin build: {}", text(&o));
    let wheels: Vec<PathBuf> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let name = wheels[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        name.starts_with(&format!("gitops_lint-{version}-py3-none-")),
        "{name}"
    );

    // A fresh virtual environment with nothing but the wheel.
    let venv = out.path().join("venv");
    new_venv(python::python().unwrap(), &venv).unwrap();
    let o = python::pip_install(&venv, &["--no-index"], &wheels[0].to_string_lossy()).unwrap();
    assert!(o.status.success(), "pip install: {}", text(&o));
    let installed = venv_bin(&venv, "gitops-lint");
    let o = Command::new(&installed).arg("--version").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("gitops-lint {version}")
    );
    // It lints, too.
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    std::fs::write(
        repo.path().join("hr.yaml"),
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  interval: 1h\n  retryInterval: 2m\n",
    )
    .unwrap();
    let o = Command::new(&installed)
        .args(["check", "--format", "compact"])
        .arg(repo.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("hr.yaml:7:3: error[flux/no-retry-interval]"),
        "{}",
        text(&o)
    );
}
