//! Hostile trees: files this user cannot read, and things named `*.yaml` that
//! are not files. Each is a finding or ignored, never a crash, a hang or exit 2.
//! Every run has a deadline, so a hang fails the test instead of blocking CI.

#![cfg(unix)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gitops-lint");
const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `cmd` to its end, or kills it and fails the test after `DEADLINE`.
fn run_with_deadline(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > DEADLINE {
            child.kill().unwrap();
            let o = child.wait_with_output().unwrap();
            panic!(
                "{cmd:?} still running after {DEADLINE:?}: a hang\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn check(dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["check", dir.to_str().unwrap(), "--format", "compact"])
        .args(extra)
        .env("RUST_BACKTRACE", "1");
    cmd
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or_else(|| panic!("killed: {o:?}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn no_panic(o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

/// A repository another user can walk: directories 0755, files 0644.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::set_permissions(dir.path(), PermissionsExt::from_mode(0o755)).unwrap();
    dir
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, PermissionsExt::from_mode(mode)).unwrap();
}

const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n";

#[test]
fn an_unreadable_file_is_a_warning_that_says_so() {
    let r = repo(&[("apps/ns.yaml", NS), ("apps/secret.yaml", NS)]);
    let secret = r.path().join("apps/secret.yaml");
    chmod(&r.path().join("apps"), 0o755);
    chmod(&secret, 0o000);
    // The owner of a file just made is this process's effective user.
    let root = std::fs::metadata(&secret).unwrap().uid() == 0;
    // Runs the linter as a user that cannot read `secret.yaml`.
    let as_reader = |extra: &[&str]| -> Option<Output> {
        if !root {
            if std::fs::File::open(&secret).is_ok() {
                eprintln!("skipped: this user can read a mode 000 file (a capability?)");
                return None;
            }
            return Some(run_with_deadline(check(r.path(), extra)));
        }
        // Root reads everything: run as nobody instead.
        let setpriv = |args: &[&str]| {
            let mut cmd = Command::new("setpriv");
            cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .args(args);
            cmd
        };
        let probe = |args: &[&str]| {
            setpriv(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !probe(&[BIN, "--version"]) {
            eprintln!(
                "skipped: `setpriv` (util-linux) is missing, not allowed here, or uid 65534 cannot run {BIN}"
            );
            return None;
        }
        let top = r.path().to_str().unwrap();
        if !probe(&["test", "-r", top, "-a", "-x", top]) {
            eprintln!("skipped: uid 65534 cannot reach {}", r.path().display());
            return None;
        }
        assert!(!probe(&["test", "-r", secret.to_str().unwrap()]));
        let mut cmd = setpriv(&[BIN]);
        cmd.args(check(r.path(), extra).get_args());
        Some(run_with_deadline(cmd))
    };
    let Some(o) = as_reader(&[]) else { return };
    no_panic(&o);
    assert_eq!(
        stdout(&o),
        "apps/secret.yaml:1:1: warning[lint/skipped-file] permission denied: this user cannot read the file; not linted\n"
    );
    assert_eq!(
        code(&o),
        0,
        "a warning, and `--fail-on` is `error` by default"
    );
    let o = as_reader(&["--fail-on", "warning"]).unwrap();
    assert_eq!(code(&o), 1);
    // A directory it cannot list: everything under it is left out, and said so.
    chmod(&r.path().join("apps"), 0o000);
    let o = as_reader(&[]).unwrap();
    chmod(&r.path().join("apps"), 0o755);
    no_panic(&o);
    assert_eq!(
        stdout(&o),
        "apps:1:1: warning[lint/skipped-file] permission denied: this user cannot read the directory; nothing under it was linted\n"
    );
    assert_eq!(code(&o), 0);
}

#[test]
fn special_files_named_yaml_never_block_the_walk() {
    let r = repo(&[("ok.yaml", NS), ("x.yaml/ns.yaml", "a: [1\n")]);
    let p = r.path();
    let made = Command::new("mkfifo")
        .arg(p.join("pipe.yaml"))
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let _socket = std::os::unix::net::UnixListener::bind(p.join("sock.yml")).unwrap();
    std::os::unix::fs::symlink("/dev/null", p.join("null.yaml")).unwrap();
    // A link inside the root to the pipe is followed, and the pipe still not opened.
    std::os::unix::fs::symlink("pipe.yaml", p.join("pipe-link.yaml")).unwrap();
    for threads in ["1", "4"] {
        let o = run_with_deadline(check(p, &["--threads", threads]));
        no_panic(&o);
        assert_eq!(
            stdout(&o),
            "null.yaml:1:1: warning[lint/skipped-file] symbolic link to `/dev/null` points outside the repository root; not read\n\
             pipe-link.yaml:1:1: warning[lint/skipped-file] not a regular file but a named pipe (FIFO); not read\n\
             pipe.yaml:1:1: warning[lint/skipped-file] not a regular file but a named pipe (FIFO); not read\n\
             sock.yml:1:1: warning[lint/skipped-file] not a regular file but a socket; not read\n\
             x.yaml/ns.yaml:2:1: error[yaml/syntax] invalid YAML: while parsing a flow sequence, expected ',' or ']' at line 2 column 1\n",
            "a directory named x.yaml is walked into and its files linted"
        );
        assert_eq!(code(&o), 1, "the syntax error in x.yaml/ns.yaml");
    }
    // Named on the command line, as pre-commit passes files.
    let o = run_with_deadline(check(&p.join("pipe.yaml"), &[]));
    assert_eq!(
        stdout(&o),
        "pipe.yaml:1:1: warning[lint/skipped-file] not a regular file but a named pipe (FIFO); not read\n"
    );
    assert_eq!(code(&o), 0);
    // Excluded, it is not reported.
    std::fs::write(
        p.join(".gitops-lint.yaml"),
        "exclude: [\"pipe*.yaml\", \"sock.yml\", \"null.yaml\", \"x.yaml/**\"]\n",
    )
    .unwrap();
    let o = run_with_deadline(check(p, &[]));
    assert_eq!((code(&o), stdout(&o)), (0, String::new()));
}

/// Ignore files that must not be read (git stores symbolic links, so a pull
/// request can bring `.gitignore -> /dev/zero`): a finding names each, the walk
/// goes on without ignore files, so what they would hide is linted too.
#[test]
fn unsafe_ignore_files_are_reported_and_not_read() {
    let bad = "a: [1\n";
    for (at, make) in [
        ("sub/.gitignore", "zero"),
        (".ignore", "zero"),
        ("sub/.gitignore", "fifo"),
        ("sub/.ignore", "outside"),
    ] {
        let dir = repo(&[
            (".gitignore", "hidden.yaml\n"),
            ("hidden.yaml", bad),
            ("sub/bad.yaml", bad),
        ]);
        let path = dir.path().join(at);
        match make {
            "zero" => std::os::unix::fs::symlink("/dev/zero", &path).unwrap(),
            "outside" => std::os::unix::fs::symlink("/etc/hostname", &path).unwrap(),
            _ => assert!(
                Command::new("mkfifo")
                    .arg(&path)
                    .status()
                    .unwrap()
                    .success()
            ),
        }
        let o = run_with_deadline(check(dir.path(), &[]));
        no_panic(&o);
        assert_eq!(code(&o), 1, "{o:?}");
        let out = stdout(&o);
        assert!(
            out.contains(&format!(
                "{at}:1:1: warning[lint/skipped-file] ignore file is "
            )),
            "{make} {at}: {out}"
        );
        // Without ignore files, the file `.gitignore` names is linted as well.
        assert!(
            out.contains("hidden.yaml:2:1: error[yaml/syntax]"),
            "{make} {at}: {out}"
        );
        assert!(
            out.contains("sub/bad.yaml:2:1: error[yaml/syntax]"),
            "{make} {at}: {out}"
        );
    }
}

/// An unsafe ignore file in a directory the walk never enters (excluded by
/// the configuration) is never read: no finding, and the other ignore files
/// are honoured.
#[test]
fn an_unsafe_ignore_file_in_an_excluded_directory_is_left_alone() {
    let bad = "a: [1\n";
    let dir = repo(&[
        (".gitignore", "hidden.yaml\n"),
        ("hidden.yaml", bad),
        ("vendor/x.yaml", bad),
        (".gitops-lint.yaml", "exclude: [\"vendor/**\"]\n"),
    ]);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("vendor/.gitignore")).unwrap();
    let o = run_with_deadline(check(dir.path(), &[]));
    no_panic(&o);
    assert_eq!((code(&o), stdout(&o)), (0, String::new()));
}

/// Ordinary ignore files, including a link to one inside the repository, are honoured.
#[test]
fn regular_ignore_files_are_honoured() {
    let dir = repo(&[
        ("ignores/common", "hidden.yaml\n"),
        ("sub/hidden.yaml", "a: [1\n"),
        ("sub/ok.yaml", NS),
    ]);
    std::os::unix::fs::symlink("../ignores/common", dir.path().join("sub/.gitignore")).unwrap();
    let o = run_with_deadline(check(dir.path(), &[]));
    no_panic(&o);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}

/// A schema the configuration names that is a link to `/dev/zero` (the
/// configuration can come with a pull request too): a configuration error
/// that says so, never a hang.
#[test]
fn schema_files_that_never_end_are_refused() {
    let deployment =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n";
    for (config, link) in [
        ("schemas: [schemas]\n", "schemas/deployment-apps-v1.json"),
        ("schemas:\n  talos: talos.json\n", "talos.json"),
    ] {
        let dir = repo(&[
            (".gitops-lint.yaml", config),
            ("deploy.yaml", deployment),
            ("schemas/README", ""),
        ]);
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(link)).unwrap();
        let o = run_with_deadline(check(dir.path(), &[]));
        no_panic(&o);
        assert_eq!(code(&o), 2, "{o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("not a regular file but a character device"),
            "{link}: {err}"
        );
    }
}
