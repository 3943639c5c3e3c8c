//! Runs the YAML fast path and the general parser on every YAML file under the
//! given directories and reports where the fast path applies and any file where
//! the two disagree.
//!
//!     cargo run --release --example yaml_differential -- DIR...
use std::path::Path;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&p, out);
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

fn main() {
    let mut files = Vec::new();
    for d in std::env::args().skip(1) {
        walk(Path::new(&d), &mut files);
    }
    files.sort();
    let (mut fast, mut general, mut bytes_fast, mut bytes) = (0, 0, 0, 0);
    let mut mismatches = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        bytes += text.len();
        match gitops_lint::yaml::differential(&text) {
            Ok(true) => {
                fast += 1;
                bytes_fast += text.len();
            }
            Ok(false) => {
                general += 1;
                if std::env::var_os("WHY").is_some() {
                    // The first line at which the fast path gives up.
                    let lines: Vec<&str> = text.split_inclusive('\n').collect();
                    let mut prefix = String::new();
                    let mut last_ok = 0;
                    for (i, l) in lines.iter().enumerate() {
                        prefix.push_str(l);
                        if gitops_lint::yaml::differential(&prefix) == Ok(true) {
                            last_ok = i + 1;
                        }
                    }
                    if let Some(l) = lines.get(last_ok) {
                        println!("WHY {}: {}", f.display(), l.trim_end());
                    }
                }
            }
            Err(e) => {
                mismatches += 1;
                if mismatches <= 15 {
                    println!("MISMATCH {}: {}", f.display(), e);
                }
            }
        }
    }
    println!(
        "{} files: fast path {fast} ({:.1}% of bytes), general parser {general}, mismatches {mismatches}",
        files.len(),
        100.0 * bytes_fast as f64 / bytes.max(1) as f64
    );
}
