//! Two shortcuts the editor takes must not change a finding:
//! - a run focused on some files (the open ones, or `check FILE`) gives those
//!   files exactly the findings a whole run gives them;
//! - an edit the model takes in place (`Repository::update_file`) leaves the
//!   model and the findings as a fresh build of the edited files gives them.
//!
//! Over every fixture and, when present, the shared corpora.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use gitops_lint::config::{self, Config};
use gitops_lint::diagnostic::Diagnostic;
use gitops_lint::model::{ModelSettings, Repository};
use gitops_lint::rules::RULES;
use gitops_lint::run::lint_model;
use gitops_lint::schema::{SchemaReport, SchemaSettings};
use gitops_lint::source::SourceFile;
use gitops_lint::timing::Phases;
use gitops_lint::walk::{self, WalkOptions};
use globset::GlobSet;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The subdirectories of `dir`, sorted.
fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// Every directory that is a repository for the tests: the sample and each
/// fixture case (`fixtures/<family>/<rule>/<case>`).
fn roots() -> Vec<PathBuf> {
    let fixtures = manifest().join("fixtures");
    let mut out = vec![fixtures.join("sample-repo")];
    for family in sorted_dirs(&fixtures) {
        if family.ends_with("sample-repo") {
            continue;
        }
        for rule in sorted_dirs(&family) {
            out.extend(sorted_dirs(&rule));
        }
    }
    out.sort();
    out
}

fn corpora() -> Vec<PathBuf> {
    let dir = manifest().join("../shared/corpora");
    if !dir.is_dir() {
        eprintln!("skipped: {} is absent", dir.display());
        return Vec::new();
    }
    sorted_dirs(&dir)
}

fn settings(root: &Path) -> (ModelSettings, SchemaSettings) {
    let path = root.join(config::FILE_NAME);
    let config = if path.exists() {
        Config::load(&path).unwrap()
    } else {
        Config::default()
    };
    (
        ModelSettings {
            dual_stack: config.dual_stack,
            listener_ports: config.listener_ports.clone(),
        },
        config.schema_settings(Some(&path), root).unwrap(),
    )
}

fn read(root: &Path) -> Vec<SourceFile> {
    walk::walk(
        root,
        &WalkOptions {
            exclude: &GlobSet::empty(),
            overrides: &HashMap::new(),
            threads: 1,
        },
    )
}

/// Every rule, those off by default too.
fn lint(repo: &Repository, schema: &SchemaReport) -> Vec<Diagnostic> {
    let all: Vec<_> = RULES.iter().map(|r| (*r, None)).collect();
    lint_model(repo, schema, &all, &Phases::start())
}

fn show(repo: &Repository, ds: &[Diagnostic]) -> String {
    ds.iter()
        .map(|d| format!("{} {:?}\n", repo.files[d.file].path, d))
        .collect()
}

#[test]
fn a_focused_run_finds_what_a_whole_run_finds() {
    let mut failures = Vec::new();
    let mut checked = 0;
    let fixtures = roots();
    let corpora = corpora();
    for root in fixtures.iter().chain(&corpora) {
        let (model_settings, schema_settings) = settings(root);
        let mut repo = Repository::new(root.clone(), read(root), &model_settings);
        let schema = gitops_lint::schema::validate(&repo, &schema_settings);
        let whole = lint(&repo, &schema);
        let n = repo.files.len();
        // Each fixture file alone; a corpus in four interleaved parts.
        let groups: Vec<Vec<usize>> = if corpora.contains(root) {
            (0..4).map(|k| (k..n).step_by(4).collect()).collect()
        } else {
            (0..n).map(|f| vec![f]).collect()
        };
        for group in groups {
            repo.set_focus(Some(&group));
            let focused = lint(&repo, &schema);
            let expected: Vec<Diagnostic> = whole
                .iter()
                .filter(|d| group.contains(&d.file))
                .cloned()
                .collect();
            checked += 1;
            if focused != expected {
                failures.push(format!(
                    "{} focused on {:?}\n--- whole run\n{}--- focused\n{}",
                    root.display(),
                    group
                        .iter()
                        .take(3)
                        .map(|&f| &repo.files[f].path)
                        .collect::<Vec<_>>(),
                    show(&repo, &expected),
                    show(&repo, &focused)
                ));
            }
        }
    }
    assert!(checked > 100, "only {checked} focused runs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What a rule may read of the model, as text, to compare two models.
fn dump(repo: &Repository) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        repo.objects,
        repo.kustomizations,
        repo.flux,
        repo.instances,
        repo.helm_releases,
        repo.talos,
        repo.cluster,
        repo.files
            .iter()
            .map(|f| (&f.path, f.text()))
            .collect::<Vec<_>>(),
    )
}

/// Edits that keep a file's objects: a comment at the end or the start, and a
/// key in front of the first document (new node ids, shifted spans).
fn edits(text: &str) -> Vec<String> {
    let mut out = vec![format!("{text}\n# edited\n"), format!("# edited\n{text}")];
    if text.starts_with("apiVersion:") {
        out.push(format!("x-edited: 1\n{text}"));
    }
    out
}

#[test]
fn an_edit_taken_in_place_leaves_the_model_as_a_fresh_build() {
    let mut failures = Vec::new();
    let mut in_place = 0;
    let mut rebuilt = 0;
    for root in roots() {
        let (settings, _) = settings(&root);
        let files = read(&root);
        for (i, file) in files.iter().enumerate() {
            for text in edits(file.text()) {
                let edited =
                    SourceFile::from_bytes(file.path.to_string(), text.clone().into_bytes());
                let mut repo = Repository::new(root.clone(), read(&root), &settings);
                if repo.update_file(edited).is_err() {
                    rebuilt += 1;
                    continue;
                }
                in_place += 1;
                let mut fresh_files = read(&root);
                fresh_files[i] = SourceFile::from_bytes(file.path.to_string(), text.into_bytes());
                let fresh = Repository::new(root.clone(), fresh_files, &settings);
                // Schema findings are the caller's to redo: compare without them.
                let none = SchemaReport::default();
                let (a, b) = (dump(&repo), dump(&fresh));
                let (la, lb) = (
                    show(&repo, &lint(&repo, &none)),
                    show(&fresh, &lint(&fresh, &none)),
                );
                if a != b || la != lb {
                    failures.push(format!(
                        "{}: {}\n--- fresh\n{lb}--- in place\n{la}",
                        root.display(),
                        file.path
                    ));
                }
            }
        }
    }
    assert!(in_place > 300, "only {in_place} edits taken in place");
    assert!(rebuilt > 30, "only {rebuilt} edits that rebuild");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
