//! Python tools for the tests that need them (pre-commit, maturin): each in a
//! virtual environment kept in the target directory, installed from PyPI on
//! first use and reused after.

#![allow(dead_code)] // each test uses part of it

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn venv_bin(venv: &Path, tool: &str) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join(format!("{tool}.exe"))
    } else {
        venv.join("bin").join(tool)
    }
}

/// A command's standard output and error, together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// What `tool --version` prints, when it runs.
fn version(tool: &Path) -> Option<String> {
    let o = Command::new(tool).arg("--version").output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// A Python 3.9 or later on the PATH.
pub fn python() -> Result<&'static str, String> {
    ["python3", "python"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", "import sys; assert sys.version_info >= (3, 9)"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .ok_or_else(|| "Python 3.9 or later (python3) is not installed".to_string())
}

/// A fresh virtual environment at `venv` (whatever was there is removed).
pub fn new_venv(python: &str, venv: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(venv);
    let o = Command::new(python)
        .args(["-m", "venv"])
        .arg(venv)
        .output()
        .map_err(|e| format!("{python} -m venv: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{python} -m venv failed (on Debian: apt install python3-venv): {}",
            text(&o)
        ))
    }
}

/// The executable `tool` of PyPI package `tool==version` in the virtual
/// environment `venv`, installed there on first use; `Err` says why it
/// cannot be had. `tool --version` must print `"{tool} {version}"`.
pub fn tool(venv: &Path, tool: &str, version_wanted: &str) -> Result<PathBuf, String> {
    let exe = venv_bin(venv, tool);
    let want = format!("{tool} {version_wanted}");
    if version(&exe).as_deref() == Some(want.as_str()) {
        return Ok(exe);
    }
    new_venv(python()?, venv)?;
    let o = pip_install(venv, &[], &format!("{tool}=={version_wanted}"))?;
    if !o.status.success() {
        let _ = std::fs::remove_dir_all(venv);
        return Err(format!(
            "cannot install {tool} {version_wanted} from PyPI (offline?): {}",
            text(&o)
        ));
    }
    match version(&exe) {
        Some(v) if v == want => Ok(exe),
        other => Err(format!("installed {tool} reports {other:?}")),
    }
}

/// `pip install --quiet ARGS WHAT` with the virtual environment's Python.
pub fn pip_install(venv: &Path, args: &[&str], what: &str) -> Result<Output, String> {
    Command::new(venv_bin(venv, "python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(args)
        .arg(what)
        .output()
        .map_err(|e| format!("pip: {e}"))
}
