//! The YAML fast path against the general parser on every YAML file of the
//! fixtures and, when present, the shared corpora of real repositories: the
//! trees must be identical, and the fast path must carry most of the bytes.

use std::path::{Path, PathBuf};

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let (path, Ok(ft)) = (e.path(), e.file_type()) else {
            continue;
        };
        if ft.is_dir() {
            yaml_files(&path, out);
        } else if ft.is_file() && path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(path);
        }
    }
}

/// Files checked, and the share of their bytes the fast path parsed.
fn check(dir: &Path) -> (usize, f64) {
    let mut files = Vec::new();
    yaml_files(dir, &mut files);
    let (mut fast, mut all) = (0, 0);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        all += text.len();
        match gitops_lint::yaml::differential(&text) {
            Ok(true) => fast += text.len(),
            Ok(false) => {}
            Err(e) => panic!("{}: {e}", f.display()),
        }
    }
    (files.len(), fast as f64 / all.max(1) as f64)
}

#[test]
fn fast_path_matches_on_fixtures() {
    let (files, share) = check(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .as_path(),
    );
    assert!(files > 100);
    assert!(
        share > 0.5,
        "fast path parsed {:.0}% of fixture bytes",
        share * 100.0
    );
}

#[test]
fn fast_path_matches_on_real_repositories() {
    let corpora = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    if !corpora.is_dir() {
        eprintln!("skipped: {} is absent", corpora.display());
        return;
    }
    let (files, share) = check(&corpora);
    assert!(files > 1000);
    // Anchors, flow collections and block scalars are all on the fast path;
    // what is left is tags, multi-line flow and plain scalars, and errors.
    assert!(
        share > 0.9,
        "fast path parsed {:.0}% of corpus bytes",
        share * 100.0
    );
}
