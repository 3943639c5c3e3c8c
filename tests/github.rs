//! `--format github`: GitHub Actions workflow commands, one a finding.

use std::process::Command;

use gitops_lint::diagnostic::{Diagnostic, Severity};
use gitops_lint::render::{Format, RenderOptions, render};
use gitops_lint::yaml::Span;
use gitops_lint::{Options, run};

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

const HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: a
spec:
  interval: 1h
  retryInterval: 2m
";

const KS: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 1h
  retryInterval: 2m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";

const UNUSED: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: c
# gitops-lint: disable-next-line=flux/no-retry-interval  not needed
data:
  a: \"1\"
";

const CONFIG: &str = "rules:\n  lint/unused-suppression: info\n";

/// An error, a warning and an info (`::notice`); a path with a comma, which a
/// property value must escape; messages with `:` and a line break, which the
/// message part keeps and escapes.
const EXPECTED: &str = "\
::error file=apps/a%2Cb/hr.yaml,line=7,col=3,endLine=7,endColumn=16,title=flux/no-retry-interval::`spec.retryInterval` is not a HelmRelease field: helm-controller ignores it and failed releases are not retried at this interval%0Ahelp: remove it; to retry failed upgrades, set `spec.upgrade.strategy: {name: RetryOnFailure, retryInterval: 5m}` (or use `remediation.retries`)
::notice file=apps/c.yaml,line=5,col=34,endLine=5,endColumn=56,title=lint/unused-suppression::this suppression of `flux/no-retry-interval` suppresses nothing%0Ahelp: remove the comment, or move it to the line the finding is on
::warning file=flux/ks.yaml,line=8,col=3,endLine=8,endColumn=16,title=flux/no-retry-interval::house rule: no `retryInterval` on Flux Kustomizations (it is a valid field: without it, failures retry at `spec.interval`)%0Ahelp: remove it and let failures retry at `spec.interval`, or disable this rule in `.gitops-lint.yaml` if your repository allows it
";

#[test]
fn github_annotations_in_the_expected_form() {
    let dir = repo(&[
        ("apps/a,b/hr.yaml", HR),
        ("apps/c.yaml", UNUSED),
        ("flux/ks.yaml", KS),
        (".gitops-lint.yaml", CONFIG),
    ]);
    let o = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .args(["check", ".", "--format", "github"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(String::from_utf8(o.stdout).unwrap(), EXPECTED);
}

#[test]
fn nothing_to_report_prints_nothing() {
    let dir = repo(&[(
        "apps/c.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    )]);
    let o = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .args(["check", ".", "--format", "github"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn a_region_over_several_lines_has_no_columns() {
    // GitHub takes `col` and `endColumn` only when the region is on one line.
    let dir = repo(&[("apps/hr.yaml", HR)]);
    let mut report = run(&Options {
        paths: vec![dir.path().to_path_buf()],
        threads: Some(1),
        ..Options::default()
    })
    .unwrap();
    let file = report.diagnostics[0].file;
    let start = HR.find("metadata:").unwrap() as u32;
    let end = HR.find("spec:").unwrap() as u32;
    report.diagnostics = vec![
        Diagnostic::new(
            "yaml/duplicate-key",
            Severity::Info,
            file,
            Span { start, end },
            "100% of it, over\r\nlines",
        )
        .help("a, b: c"),
    ];
    let text = render(&report, Format::Github, &RenderOptions { color: false });
    assert_eq!(
        text,
        "::notice file=apps/hr.yaml,line=3,endLine=5,title=yaml/duplicate-key::100%25 of it, over%0D%0Alines%0Ahelp: a, b: c\n"
    );
}
