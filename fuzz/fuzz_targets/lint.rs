//! Arbitrary bytes through parse, model and every rule: as one file, and split
//! on `\n====\n` into a small repository whose file names are the ones the
//! model cares about (kustomizations, Flux ks.yaml, talconfig, components).
//! Each input is also parsed by both YAML parsers, which must agree; a run
//! focused on one file must find there what the whole run finds; and an edit
//! the model takes in place must lint as a fresh build of the edited files.
#![no_main]

use std::path::PathBuf;

use gitops_lint::model::{ModelSettings, Repository};
use gitops_lint::run::check_repository;
use gitops_lint::source::SourceFile;
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "kubernetes/apps/media/ks.yaml",
    "kubernetes/apps/media/app/kustomization.yaml",
    "kubernetes/apps/media/app/helmrelease.yaml",
    "kubernetes/components/volsync/kustomization.yaml",
    "kubernetes/components/volsync/pvc.yaml",
    "talos/talconfig.yaml",
    "kubernetes/flux/cluster/ks.yaml",
    "kubernetes/apps/media/kustomization.yaml",
];

fn build(files: Vec<SourceFile>) -> Repository {
    Repository::new(PathBuf::from("/fuzz"), files, &ModelSettings::default())
}

fn shown(ds: &[gitops_lint::diagnostic::Diagnostic]) -> String {
    format!("{ds:?}")
}

fn copies(files: &[SourceFile]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|f| SourceFile::from_bytes(f.path.to_string(), f.text().as_bytes().to_vec()))
        .collect()
}

/// Focus on file `k`, and edit file `k` in place, against whole runs.
fn shortcuts(files: &[SourceFile], k: usize) {
    let mut repo = build(copies(files));
    let whole = check_repository(&repo);
    repo.set_focus(Some(&[k]));
    let focused = check_repository(&repo);
    let expected: Vec<_> = whole.iter().filter(|d| d.file == k).cloned().collect();
    assert_eq!(shown(&focused), shown(&expected), "focused on {}", files[k].path);

    for text in [
        format!("{}\n# edited\n", files[k].text()),
        files[k].text().replacen('1', "2", 1),
    ] {
        let edited = || SourceFile::from_bytes(files[k].path.to_string(), text.clone().into_bytes());
        let mut repo = build(copies(files));
        if repo.update_file(edited()).is_err() {
            continue;
        }
        let mut fresh_files = copies(files);
        fresh_files[k] = edited();
        let fresh = build(fresh_files);
        assert_eq!(
            shown(&check_repository(&repo)),
            shown(&check_repository(&fresh)),
            "edit of {} taken in place",
            files[k].path
        );
        assert_eq!(format!("{:?}", repo.instances), format!("{:?}", fresh.instances));
        assert_eq!(format!("{:?}", repo.helm_releases), format!("{:?}", fresh.helm_releases));
        assert_eq!(format!("{:?}", repo.talos), format!("{:?}", fresh.talos));
        assert_eq!(format!("{:?}", repo.cluster), format!("{:?}", fresh.cluster));
        assert_eq!(format!("{:?}", repo.objects), format!("{:?}", fresh.objects));
    }
}

fn lint(files: Vec<SourceFile>) {
    let repo = build(files);
    for d in check_repository(&repo) {
        // Every span lies within its file and on character boundaries.
        let text = repo.files[d.file].text();
        assert!(d.span.start <= d.span.end && d.span.end as usize <= text.len());
        assert!(text.is_char_boundary(d.span.start as usize) && text.is_char_boundary(d.span.end as usize));
    }
}

fuzz_target!(|data: &[u8]| {
    // The YAML fast path builds exactly what the general parser builds.
    if let Err(e) = gitops_lint::yaml::differential(&String::from_utf8_lossy(data)) {
        panic!("{e}");
    }
    lint(vec![SourceFile::from_bytes("a.yaml".into(), data.to_vec())]);
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(6).position(|w| w == b"\n====\n") {
        parts.push(&rest[..i]);
        rest = &rest[i + 6..];
    }
    parts.push(rest);
    let mut files: Vec<SourceFile> = parts
        .into_iter()
        .zip(NAMES)
        .map(|(bytes, name)| SourceFile::from_bytes(name.to_string(), bytes.to_vec()))
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let k = data.len() % files.len();
    shortcuts(&files, k);
    lint(files);
});
