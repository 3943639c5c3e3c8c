//! What reaches a cluster. A sync root is a Flux Kustomization nothing else
//! builds (bootstrap applies it) or a kustomization nothing else builds
//! (applied by hand); what their builds reach is deployed. A Flux
//! Kustomization (or kustomization) that nothing builds although it lies in
//! the tree of another one (an app commented out of its parent's
//! `kustomization.yaml`, an `.archive/` folder), or whose name holds a
//! variable nothing substitutes (a template), is no root: nothing applies it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::{FluxId, Repository, join, parent_dir, subst, under};

/// Where the repository says Flux itself syncs from: the `spec.sync` of a
/// flux-operator FluxInstance (as an object, or as the `instance.sync` values
/// of the flux-instance chart, in a HelmRelease or a values file).
#[derive(Debug, Default, Clone)]
pub struct SyncRoots {
    /// Directories (relative to the root) the sync applies.
    pub paths: Vec<String>,
    /// The URL of this repository, when a sync names it.
    pub url: Option<String>,
}

/// The sync a document of kind `kind` declares, added to `roots`.
pub(super) fn sync_of(doc: crate::yaml::NodeRef, kind: Option<&str>, roots: &mut SyncRoots) {
    let found = match kind {
        Some("FluxInstance") => doc.path(&["spec", "sync"]),
        Some("HelmRelease") => doc.path(&["spec", "values", "instance", "sync"]),
        // A values file of the flux-instance chart.
        None => doc.path(&["instance", "sync"]),
        Some(_) => None,
    };
    let Some(sync) = found else { return };
    if sync.str_at(&["kind"]).is_some_and(|k| k != "GitRepository") {
        return;
    }
    if let Some(p) = sync.str_at(&["path"]).filter(|p| !subst::has_vars(p))
        && let Some(dir) = join("", p)
    {
        roots.paths.push(dir);
    }
    if roots.url.is_none()
        && let Some(url) = sync.str_at(&["url"]).filter(|u| !subst::has_vars(u))
    {
        roots.url = Some(url.to_string());
    }
}

/// A directory of the conventions for what is kept but not deployed
/// (`.archive/`, `archive/`, `deprecated/`, a tool's `templates/` or
/// `testdata/`...): hidden or so named.
pub(super) fn shelved(path: &str) -> bool {
    path.split('/').any(|seg| {
        seg.starts_with('.')
            || matches!(
                seg.to_ascii_lowercase().as_str(),
                "archive"
                    | "archived"
                    | "deprecated"
                    | "disabled"
                    | "unused"
                    | "old"
                    | "templates"
                    | "testdata"
            )
    })
}

/// Whether each Flux Kustomization is applied to a cluster.
pub(super) fn applied(repo: &Repository) -> Vec<bool> {
    let n = repo.flux.len();
    // The Flux Kustomizations that build each directory.
    let mut local_paths: HashMap<&str, Vec<FluxId>> = HashMap::default();
    for (i, f) in repo.flux.iter().enumerate() {
        if let (true, Some(p)) = (f.local_source, f.path.as_deref()) {
            local_paths.entry(p).or_default().push(i);
        }
    }
    let listed: HashSet<&str> = repo
        .kustomizations
        .iter()
        .flat_map(|k| k.resources.iter().chain(&k.components))
        .filter_map(|e| e.resolved.as_deref())
        .collect();
    // Flux Kustomizations that build the directory they are written in
    // (`flux bootstrap`'s flux-system) are applied by the bootstrap.
    let self_managed = |f: FluxId| {
        let fk = &repo.flux[f];
        let file = repo.files[repo.objects[fk.object].file].path.as_str();
        fk.local_source
            && fk
                .path
                .as_deref()
                .is_some_and(|p| under(parent_dir(file), p))
    };
    let known = !repo.sync.paths.is_empty() || (0..n).any(self_managed);
    let root = |f: FluxId| {
        let object = repo.flux[f].object;
        let obj = &repo.objects[object];
        let path = repo.files[obj.file].path.as_str();
        let dir = parent_dir(path);
        if obj.name.as_deref().is_none_or(subst::has_vars) {
            return false;
        }
        // Where the repository shows what Flux syncs, that is what is applied.
        if known {
            return self_managed(f) || repo.sync.paths.iter().any(|p| under(dir, p));
        }
        if shelved(dir) {
            return false;
        }
        // In the tree another Flux Kustomization builds, yet not built by it.
        if ancestors(dir).any(|d| {
            local_paths
                .get(d)
                .is_some_and(|gs| gs.iter().any(|&g| g != f))
        }) {
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

/// Whether Flux Kustomizations of this repository are applied: then what
/// they do not build is not deployed. Otherwise (plain manifests, kustomize
/// alone) nothing tells what is applied, and everything is taken as deployed.
pub(super) fn deploys_known(repo: &Repository) -> bool {
    repo.flux.iter().any(|f| f.applied && f.local_source)
}

/// Whether each object, and each kustomization, is deployed: some build of
/// an applied Flux Kustomization or of a kustomization that is a root
/// reaches it, or (for an object) an applied Flux Kustomization reads it in
/// `substituteFrom` (it must exist).
pub(super) fn deployed(repo: &Repository) -> (Vec<bool>, Vec<bool>) {
    if !deploys_known(repo) {
        return (
            vec![true; repo.objects.len()],
            vec![true; repo.kustomizations.len()],
        );
    }
    let local_paths: HashSet<&str> = repo
        .flux
        .iter()
        .filter(|f| f.applied && f.local_source)
        .filter_map(|f| f.path.as_deref())
        .collect();
    let by_build = |flux: Option<FluxId>, root: Option<super::KustomizeId>| match (flux, root) {
        (Some(f), _) => repo.flux[f].applied,
        // A kustomization in the tree of an applied Flux Kustomization that
        // does not build it is left out of it; one shelved in an archive is
        // not applied by hand either.
        (None, Some(k)) => {
            let dir = repo.kustomizations[k].dir.as_str();
            repo.sync.paths.iter().any(|p| under(dir, p))
                || (!ancestors(dir).any(|d| local_paths.contains(d)) && !shelved(dir))
        }
        (None, None) => false,
    };
    let mut objects: Vec<bool> = (0..repo.objects.len())
        .map(|o| {
            repo.instances(o).any(|i| match (i.flux, i.root) {
                // A Flux Kustomization that is a root is applied by bootstrap.
                (None, None) => repo
                    .flux_of(o)
                    .is_some_and(|f| repo.flux[f].applied && repo.flux[f].parent.is_none()),
                (flux, root) => by_build(flux, root),
            })
        })
        .collect();
    for f in repo.flux.iter().filter(|f| f.applied) {
        for &o in f.vars.sources() {
            objects[o] = true;
        }
    }
    let kustomizations = repo
        .kustomize_reach
        .iter()
        .map(|reach| reach.iter().any(|&(flux, root)| by_build(flux, root)))
        .collect();
    (objects, kustomizations)
}

/// A directory and every directory above it, up to the root ("").
fn ancestors(dir: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(dir);
    std::iter::from_fn(move || {
        let d = next?;
        next = (!d.is_empty()).then(|| parent_dir(d));
        Some(d)
    })
}
