//! `explain --tree`: sync roots -> Flux Kustomizations -> kustomizations.

use serde::Serialize;

use super::{FluxRef, VERSION, flux_ref};
use crate::model::{FluxId, Repository, under};

#[derive(Debug, Serialize)]
pub struct Tree {
    pub version: u32,
    /// Flux Kustomizations nothing in the repository builds, with what they build.
    pub roots: Vec<TreeNode>,
    /// Kustomizations built as roots (applied by hand): their files.
    pub kustomize_roots: Vec<KustomizeRoot>,
}

#[derive(Debug, Serialize)]
pub struct TreeNode {
    #[serde(flatten)]
    pub flux: FluxRef,
    /// `spec.path` as a directory of the repository (`null`: another source's).
    pub source_path: Option<String>,
    pub applied: bool,
    /// The kustomization files its build reaches.
    pub kustomizations: Vec<String>,
    pub children: Vec<TreeNode>,
}

#[derive(Debug, Serialize)]
pub struct KustomizeRoot {
    pub path: String,
    pub deployed: bool,
    pub kustomizations: Vec<String>,
}

/// The deployment tree; with `within` (relative paths, non-empty), only
/// the roots whose file lies there or whose tree holds such a file.
pub fn tree(repo: &Repository, within: &[String]) -> Tree {
    let mut children: Vec<Vec<FluxId>> = vec![Vec::new(); repo.flux.len()];
    let mut roots = Vec::new();
    for f in 0..repo.flux.len() {
        match repo.flux[f].parent {
            Some(p) if p != f => children[p].push(f),
            _ => roots.push(f),
        }
    }
    let wanted = |n: &TreeNode| within.is_empty() || holds(n, within);
    let mut seen = vec![false; repo.flux.len()];
    let roots: Vec<TreeNode> = roots
        .into_iter()
        .map(|f| node(repo, f, &children, &mut seen, 0))
        .filter(|n| wanted(n))
        .collect();
    let kustomize_roots = repo
        .kustomize_roots()
        .into_iter()
        .map(|(k, reached)| KustomizeRoot {
            path: repo.files[repo.kustomizations[k].file].path.to_string(),
            deployed: repo.kustomize_deployed(k),
            kustomizations: reached
                .into_iter()
                .filter(|&r| r != k)
                .map(|r| repo.files[repo.kustomizations[r].file].path.to_string())
                .collect(),
        })
        .filter(|r| {
            within.is_empty()
                || within
                    .iter()
                    .any(|w| under(&r.path, w) || r.kustomizations.iter().any(|k| under(k, w)))
        })
        .collect();
    Tree {
        version: VERSION,
        roots,
        kustomize_roots,
    }
}

fn holds(n: &TreeNode, within: &[String]) -> bool {
    within
        .iter()
        .any(|w| under(&n.flux.path, w) || n.kustomizations.iter().any(|k| under(k, w)))
        || n.children.iter().any(|c| holds(c, within))
}

fn node(
    repo: &Repository,
    f: FluxId,
    children: &[Vec<FluxId>],
    seen: &mut [bool],
    depth: usize,
) -> TreeNode {
    seen[f] = true;
    let mut kids: Vec<FluxId> = children[f]
        .iter()
        .copied()
        .filter(|&c| !seen[c] && depth < 64)
        .collect();
    kids.sort_by_key(|&c| (repo.objects[repo.flux[c].object].file, repo.flux[c].object));
    TreeNode {
        flux: flux_ref(repo, f),
        source_path: repo.flux[f].path.clone(),
        applied: repo.flux[f].applied,
        kustomizations: repo
            .built_by_flux(f)
            .into_iter()
            .map(|k| repo.files[repo.kustomizations[k].file].path.to_string())
            .collect(),
        children: kids
            .into_iter()
            .map(|c| node(repo, c, children, seen, depth + 1))
            .collect(),
    }
}
