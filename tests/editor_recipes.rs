//! The README's editor recipes, run by `scripts/editor-recipes.py` against the
//! built binary: the VS Code and Helix configurations parse, Vim's
//! `makeprg`/`errorformat` line matches, and each Neovim on PATH shows the
//! server's diagnostic with the snippet for its version. Without Python the
//! test says so on standard error and passes.

use std::io::Write;
use std::path::Path;
use std::process::Command;

#[test]
fn the_readme_editor_recipes_work() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/editor-recipes.py");
    let o = match Command::new("python3")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_gitops-lint"))
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "skipped: the editor recipes need python3: {e}"
            );
            return;
        }
    };
    let out = String::from_utf8_lossy(&o.stdout);
    let _ = writeln!(std::io::stderr(), "{out}");
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("ok: Vim makeprg and errorformat"), "{out}");
}
