//! Arbitrary bytes through parse, model and every rule: as one file, and split
//! on `\n====\n` into a small repository whose file names are the ones the
//! model cares about (kustomizations, Flux ks.yaml, talconfig, components).
//! Each input is also parsed by both YAML parsers, which must agree.
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

fn lint(files: Vec<SourceFile>) {
    let repo = Repository::new(PathBuf::from("/fuzz"), files, &ModelSettings::default());
    for d in check_repository(&repo) {
        // Every span lies within its file and on character boundaries.
        let text = &repo.files[d.file].text;
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
    lint(files);
});
