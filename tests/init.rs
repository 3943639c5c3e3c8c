//! `gitops-lint init`: a starter configuration that loads, never written over
//! an existing one without `--force`.

use std::path::Path;
use std::process::{Command, Output};

use gitops_lint::config::{self, Config, Level};
use gitops_lint::rules::RULES;

fn init(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .arg("init")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn init_writes_a_starter_that_loads_with_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let o = init(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let path = dir.path().join(config::FILE_NAME);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, config::starter());
    assert!(text.starts_with("# yaml-language-server: $schema="));
    let c = Config::load(&path).unwrap();
    assert_eq!(c.rules.len(), RULES.len());
    for r in RULES {
        let want = if r.enabled {
            Level::On(r.severity)
        } else {
            Level::Off
        };
        assert_eq!(c.rules.get(r.id), Some(&want), "{}", r.id);
        assert!(
            text.contains(&format!("  # {}\n  {}: ", r.summary, r.id)),
            "{}: listed with its summary",
            r.id
        );
    }
}

#[test]
fn init_refuses_to_overwrite_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(config::FILE_NAME);
    std::fs::write(&path, "exclude: [mine]\n").unwrap();
    let o = init(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "exclude: [mine]\n");
    let o = init(dir.path(), &["--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), config::starter());
}

#[test]
fn init_writes_in_the_directory_path_names() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("repo");
    std::fs::create_dir(&sub).unwrap();
    let o = init(dir.path(), &["--path", "repo"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(sub.join(config::FILE_NAME).is_file());
    assert!(!dir.path().join(config::FILE_NAME).exists());
    let o = init(dir.path(), &["--path", "missing"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
}

#[test]
fn a_repository_with_the_starter_config_lints() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    assert_eq!(init(dir.path(), &[]).status.code(), Some(0));
    std::fs::write(
        dir.path().join("hr.yaml"),
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  interval: 1h\n  retryInterval: 2m\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .args(["check", ".", "--format", "compact"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(
        out.contains("hr.yaml:7:3: error[flux/no-retry-interval]"),
        "{out}"
    );
}
