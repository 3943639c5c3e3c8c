//! Shell completions and the manual page, both made from the clap definition.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .args(args)
        .output()
        .unwrap()
}

const SUBCOMMANDS: [&str; 7] = [
    "check",
    "rules",
    "rule",
    "lsp",
    "init",
    "completions",
    "man",
];

/// How each shell's script offers a subcommand (`{}` is its name).
const OFFERS: [(&str, &str); 5] = [
    ("bash", "gitops__lint,{})"),
    ("zsh", "'{}:"),
    ("fish", "-a \"{}\""),
    ("powershell", "[CompletionResult]::new('{}',"),
    ("elvish", "cand {} '"),
];

#[test]
fn every_shell_gets_a_script_that_offers_every_subcommand() {
    for (shell, offer) in OFFERS {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(o.stdout).unwrap();
        for sub in SUBCOMMANDS {
            let want = offer.replace("{}", sub);
            assert!(script.contains(&want), "{shell}: no `{want}`");
        }
        assert!(script.contains("fail-on"), "{shell}: no --fail-on");
    }
    let o = run(&["completions", "tcsh"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

/// What bash completes for the words typed so far (the last one partial).
fn bash_complete(script: &[u8], words: &[&str]) -> Option<Vec<String>> {
    let words: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let driver = format!(
        "COMP_WORDS=({}); COMP_CWORD={}; _gitops__lint gitops-lint \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words.join(" "),
        words.len() - 1
    );
    let mut bash = Command::new("bash")
        .args(["--norc", "--noprofile"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = bash.stdin.take().unwrap();
    stdin.write_all(script).unwrap();
    stdin.write_all(driver.as_bytes()).unwrap();
    drop(stdin);
    let o = bash.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(
        String::from_utf8(o.stdout)
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn bash_completes_subcommands_shells_and_options() {
    let script = run(&["completions", "bash"]).stdout;
    let Some(subs) = bash_complete(&script, &["gitops-lint", ""]) else {
        let _ = writeln!(std::io::stderr(), "skipped: bash is not installed");
        return;
    };
    for sub in SUBCOMMANDS {
        assert!(subs.iter().any(|w| w == sub), "no `{sub}` in {subs:?}");
    }
    let shells = bash_complete(&script, &["gitops-lint", "completions", ""]).unwrap();
    assert_eq!(
        shells,
        [
            "-h",
            "--help",
            "bash",
            "elvish",
            "fish",
            "powershell",
            "zsh"
        ],
        "{shells:?}"
    );
    let opts = bash_complete(&script, &["gitops-lint", "check", "--fa"]).unwrap();
    assert_eq!(opts, ["--fail-on"]);
    let levels = bash_complete(&script, &["gitops-lint", "check", "--fail-on", ""]).unwrap();
    assert_eq!(levels, ["error", "warning", "info"]);
}

#[test]
fn the_man_page_is_one_roff_page_with_every_command_and_its_options() {
    let o = run(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(page.contains("\n.TH gitops-lint 1 "), "a section-1 title");
    assert!(page.contains("\n.SH COMMANDS\n"));
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("\n.SS \"gitops\\-lint {sub}\"\n")),
            "no heading for `{sub}`"
        );
    }
    // The options of `check` are on this page, not on another.
    assert!(page.contains("\\fB\\-\\-fail\\-on\\fR"));
    assert!(!page.contains("gitops\\-lint\\-check(1)"));
    let Ok(mut groff) = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        let _ = writeln!(
            std::io::stderr(),
            "skipped the groff check: groff is not installed"
        );
        return;
    };
    groff
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let o = groff.wait_with_output().unwrap();
    let warnings = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && warnings.is_empty(),
        "groff: {warnings}"
    );
}
