//! `gitops-lint explain` from the command line: which root, which paths.

use std::path::{Path, PathBuf};

use crate::run::{Error, Options};
use crate::walk;

/// What the command line asks.
#[derive(Debug, Default, Clone)]
pub struct Request {
    /// Files or directories to explain; with `tree`, what to keep of the tree.
    pub paths: Vec<PathBuf>,
    /// The repository root (default: found from the first path, as `check` does).
    pub root: Option<PathBuf>,
    pub tree: bool,
    pub json: bool,
    pub config: Option<PathBuf>,
    pub threads: Option<usize>,
}

fn canonical(p: &Path) -> Result<PathBuf, Error> {
    p.canonicalize()
        .map_err(|e| Error::Io(format!("{}: {e}", p.display())))
}

/// The repository root: `--root`, else the nearest marked directory above
/// the first path, else the current directory when the path lies under it,
/// else the path's directory.
fn root(req: &Request) -> Result<PathBuf, Error> {
    if let Some(r) = &req.root {
        return canonical(r);
    }
    let cwd = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .map_err(|e| Error::Io(e.to_string()))?;
    let Some(first) = req.paths.first() else {
        return Ok(walk::discover_root(&cwd));
    };
    let first = canonical(first)?;
    let start = if first.is_dir() {
        first.clone()
    } else {
        first.parent().unwrap_or(Path::new("/")).to_path_buf()
    };
    Ok(walk::find_marker(&start).unwrap_or_else(
        || {
            if first.starts_with(&cwd) { cwd } else { start }
        },
    ))
}

/// The explanation (or the tree) as text, in the format asked.
pub fn run(req: &Request) -> Result<String, Error> {
    let root = root(req)?;
    let mut rel = Vec::new();
    for p in &req.paths {
        let abs = canonical(p)?;
        if !abs.starts_with(&root) {
            return Err(Error::Usage(format!(
                "{} lies outside the repository root {}",
                p.display(),
                root.display()
            )));
        }
        let r = walk::relative(&root, &abs);
        if !r.is_empty() {
            rel.push(r);
        }
    }
    let (repo, _) = crate::run::model(&Options {
        paths: vec![root],
        config: req.config.clone(),
        threads: req.threads,
        ..Options::default()
    })?;
    if req.tree {
        let tree = super::tree(&repo, &rel);
        return Ok(if req.json {
            super::render_json(&tree)
        } else {
            super::render_tree_human(&tree)
        });
    }
    let explanation = super::explain(&repo, &rel).map_err(Error::Usage)?;
    Ok(if req.json {
        super::render_json(&explanation)
    } else {
        super::render_human(&explanation)
    })
}
