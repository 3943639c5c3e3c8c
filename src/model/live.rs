//! What reaches a cluster. A sync root is a Flux Kustomization nothing else
//! builds (bootstrap applies it) or a kustomization nothing else builds
//! (applied by hand); what their builds reach is deployed. A Flux
//! Kustomization (or kustomization) that nothing builds although it lies in
//! the tree of another one (an app commented out of its parent's
//! `kustomization.yaml`, an `.archive/` folder), or whose name holds a
//! variable nothing substitutes (a template), is no root: nothing applies it.

use rustc_hash::FxHashSet as HashSet;

use super::{FluxId, Repository, parent_dir, subst, under};

/// Whether each Flux Kustomization is applied to a cluster.
pub(super) fn applied(repo: &Repository) -> Vec<bool> {
    let n = repo.flux.len();
    let local_paths: Vec<(FluxId, &str)> = repo
        .flux
        .iter()
        .enumerate()
        .filter(|(_, f)| f.local_source)
        .filter_map(|(i, f)| Some((i, f.path.as_deref()?)))
        .collect();
    let listed: HashSet<&str> = repo
        .kustomizations
        .iter()
        .flat_map(|k| k.resources.iter().chain(&k.components))
        .filter_map(|e| e.resolved.as_deref())
        .collect();
    let root = |f: FluxId| {
        let object = repo.flux[f].object;
        let obj = &repo.objects[object];
        let path = repo.files[obj.file].path.as_str();
        let dir = parent_dir(path);
        if obj.name.as_deref().is_none_or(subst::has_vars) {
            return false;
        }
        // In the tree another Flux Kustomization builds, yet not built by it.
        if local_paths
            .iter()
            .any(|&(g, p)| g != f && under(dir, p))
        {
            return false;
        }
        // Below a kustomization that does not list it.
        if listed.contains(path) {
            return true;
        }
        let mut d = dir;
        loop {
            if repo.kustomize_in(d).is_some_and(|k| !k.component) {
                return false;
            }
            if d.is_empty() {
                return true;
            }
            d = parent_dir(d);
        }
    };
    let mut state: Vec<Option<bool>> = vec![None; n];
    for f in 0..n {
        let mut chain = vec![f];
        let mut result = None;
        // Up through the parents until a known answer or a root.
        while result.is_none() {
            let at = *chain.last().unwrap_or(&f);
            if let Some(known) = state[at] {
                result = Some(known);
                break;
            }
            match repo.flux[at].parent {
                Some(p) if !chain.contains(&p) && chain.len() < 64 => chain.push(p),
                Some(_) => result = Some(false),
                None => result = Some(root(at)),
            }
        }
        let result = result.unwrap_or(false);
        for g in chain {
            state[g] = Some(result);
        }
    }
    state.into_iter().map(|s| s.unwrap_or(false)).collect()
}

/// Whether each object is deployed: some instance of it comes from the build
/// of an applied Flux Kustomization or of a kustomization that is a root, or
/// an applied Flux Kustomization reads it in `substituteFrom` (it must exist).
/// Where no Flux Kustomization of this repository is applied (plain
/// manifests, kustomize alone), nothing tells what is applied: everything is.
pub(super) fn deployed(repo: &Repository) -> Vec<bool> {
    let applied: Vec<&super::FluxKustomization> =
        repo.flux.iter().filter(|f| f.applied).collect();
    if !applied.iter().any(|f| f.local_source) {
        return vec![true; repo.objects.len()];
    }
    let local_paths: Vec<&str> = applied
        .iter()
        .filter(|f| f.local_source)
        .filter_map(|f| f.path.as_deref())
        .collect();
    let mut out: Vec<bool> = (0..repo.objects.len())
        .map(|o| {
            repo.instances(o).any(|i| match (i.flux, i.root) {
                (Some(f), _) => repo.flux[f].applied,
                (None, Some(k)) => {
                    // A kustomization in the tree of an applied Flux
                    // Kustomization that does not build it is left out of it.
                    let dir = repo.kustomizations[k].dir.as_str();
                    !local_paths.iter().any(|p| under(dir, p))
                }
                // A Flux Kustomization that is a root is applied by bootstrap.
                (None, None) => repo
                    .flux_of(o)
                    .is_some_and(|f| repo.flux[f].applied && repo.flux[f].parent.is_none()),
            })
        })
        .collect();
    for f in applied {
        for &o in &f.vars.sources {
            out[o] = true;
        }
    }
    out
}
