use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::diagnostic::Severity;
use crate::model::{FluxId, KustomizeId, ObjectId, Repository};
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "kustomize/namespace-required",
    severity: Severity::Warning,
    enabled: true,
    summary: "an app kustomization that lists namespaced manifests, but neither it, a kustomization above it, the Flux Kustomization nor the manifests set a namespace",
    page: include_str!("../../../lints/kustomize/namespace-required.md"),
    check: Some(check),
};

struct Walk<'r> {
    repo: &'r Repository,
    /// Kustomization directories, for Flux paths without a kustomization.
    kustomize_dirs: Vec<&'r str>,
    /// Per kustomization: the objects it lists that get no namespace, and the
    /// Flux Kustomizations that build it so.
    found: BTreeMap<KustomizeId, (Vec<ObjectId>, Vec<FluxId>)>,
    seen: HashSet<(FluxId, String)>,
}

impl<'r> Walk<'r> {
    fn dir(&mut self, f: FluxId, dir: &str, has_ns: bool, depth: usize) {
        if depth > 32 || !self.seen.insert((f, dir.to_string())) {
            return;
        }
        let repo = self.repo;
        let Some(k) = repo.kustomize_in(dir) else {
            // Flux generates a kustomization: subdirectories with one are built whole.
            let prefix = format!("{dir}/");
            let below: Vec<&str> = self
                .kustomize_dirs
                .iter()
                .copied()
                .filter(|d| dir.is_empty() || d.starts_with(&prefix))
                .collect();
            // Only the outermost: no ancestor below `dir` has a kustomization.
            let set: std::collections::HashSet<&str> = below.iter().copied().collect();
            for d in &below {
                let mut ancestor = *d;
                let mut outer = true;
                while let Some((parent, _)) = ancestor.rsplit_once('/') {
                    if parent.len() <= dir.len() {
                        break;
                    }
                    if set.contains(parent) {
                        outer = false;
                        break;
                    }
                    ancestor = parent;
                }
                if outer {
                    self.dir(f, d, has_ns, depth + 1);
                }
            }
            return;
        };
        if k.component {
            return;
        }
        let kid = repo.kustomize_id(dir).unwrap_or(0);
        let has_ns = has_ns || k.namespace.is_some();
        self.entries(f, kid, &k.resources, has_ns, depth);
        for c in &k.components {
            self.component(f, c.resolved.as_deref(), has_ns, depth);
        }
    }

    fn component(&mut self, f: FluxId, dir: Option<&str>, has_ns: bool, depth: usize) {
        let repo = self.repo;
        let Some(dir) = dir else { return };
        let Some(c) = repo.kustomize_in(dir) else {
            return;
        };
        if !c.component || depth > 32 || !self.seen.insert((f, format!("component:{dir}"))) {
            return;
        }
        let kid = repo.kustomize_id(dir).unwrap_or(0);
        let has_ns = has_ns || c.namespace.is_some();
        self.entries(f, kid, &c.resources, has_ns, depth);
        for cc in &c.components {
            self.component(f, cc.resolved.as_deref(), has_ns, depth + 1);
        }
    }

    fn entries(
        &mut self,
        f: FluxId,
        kid: KustomizeId,
        list: &[crate::model::PathEntry],
        has_ns: bool,
        depth: usize,
    ) {
        for e in list {
            let Some(target) = e.resolved.as_deref() else {
                continue;
            };
            if let Some(file) = self.repo.file_id(target) {
                if has_ns {
                    continue;
                }
                let missing: Vec<ObjectId> = self
                    .repo
                    .objects_in(file)
                    .filter(|&o| {
                        let obj = &self.repo.objects[o];
                        obj.namespace.is_none() && !self.repo.cluster_scoped(obj)
                    })
                    .collect();
                if !missing.is_empty() {
                    let entry = self.found.entry(kid).or_default();
                    for o in missing {
                        if !entry.0.contains(&o) {
                            entry.0.push(o);
                        }
                    }
                    if !entry.1.contains(&f) {
                        entry.1.push(f);
                    }
                }
            } else if self.repo.is_dir(target) {
                self.dir(f, target, has_ns, depth + 1);
            }
        }
    }
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    let mut walk = Walk {
        repo,
        kustomize_dirs: repo.kustomizations.iter().map(|k| k.dir.as_str()).collect(),
        found: BTreeMap::new(),
        seen: HashSet::default(),
    };
    let patched = Patched::new(repo);
    for (f, fk) in repo.flux.iter().enumerate() {
        let (Some(path), true) = (&fk.path, fk.local_source) else {
            continue;
        };
        if fk.target_namespace.is_some() || patched.orphan(f) || patched.flux(f) {
            continue;
        }
        walk.dir(f, path, false, 0);
        for c in &fk.components {
            walk.component(f, c.resolved.as_deref(), false, 0);
        }
    }
    for (kid, (objects, fluxes)) in walk.found {
        let k = &repo.kustomizations[kid];
        let node = repo.node(k.file, k.root);
        let span = node
            .key_span("resources")
            .or_else(|| node.entries().next().map(|(key, _)| key.span()))
            .unwrap_or(node.span());
        let shown: Vec<String> = objects
            .iter()
            .take(3)
            .map(|&o| {
                let obj = &repo.objects[o];
                format!("{}/{}", obj.kind, obj.name.as_deref().unwrap_or("?"))
            })
            .collect();
        let more = if objects.len() > 3 {
            format!(" and {} more", objects.len() - 3)
        } else {
            String::new()
        };
        let what = if k.component {
            "component"
        } else {
            "kustomization"
        };
        let mut d = ctx.finding(k.file,
            span,
            format!(
                "this {what} lists namespaced manifests ({}{more}) without `metadata.namespace`, and nothing in the build gives them one (no `namespace:` here or above, no `targetNamespace` on the Flux Kustomization): they do not land in the app's namespace",
                shown.join(", ")
            ),
        )
        .help("add `namespace: <app-namespace>` to this kustomization.yaml, or `spec.targetNamespace` to the Flux Kustomization that builds it");
        for &o in &objects {
            let obj = &repo.objects[o];
            d = d.related(
                obj.file,
                repo.kind_span(o),
                format!(
                    "{} `{}` has no `metadata.namespace`",
                    obj.kind,
                    obj.name.as_deref().unwrap_or("?")
                ),
            );
        }
        for &f in &fluxes {
            let fo = &repo.objects[repo.flux[f].object];
            let fnode = repo.object_node(repo.flux[f].object);
            let at = fnode
                .get("spec")
                .and_then(|s| s.key_span("path"))
                .unwrap_or_else(|| repo.kind_span(repo.flux[f].object));
            d = d.related(
                fo.file,
                at,
                format!(
                    "Flux Kustomization `{}` builds it without `targetNamespace`",
                    fo.name.as_deref().unwrap_or("?")
                ),
            );
        }
        ctx.push(d);
    }
}

/// Whether something the linter does not evaluate can rewrite a Flux
/// Kustomization (and so set its `targetNamespace`): its own `spec.patches`,
/// the `spec.patches` of a Flux Kustomization that applies it, or kustomize
/// `patches`/`replacements` in a kustomization (or component) that builds it.
struct Patched<'r> {
    repo: &'r Repository,
    /// Path (file or directory) → kustomizations that list it.
    listed_by: HashMap<&'r str, Vec<KustomizeId>>,
    memo: std::cell::RefCell<HashMap<KustomizeId, bool>>,
}

const PATCH_KEYS: [&str; 4] = [
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "replacements",
];

impl<'r> Patched<'r> {
    fn new(repo: &'r Repository) -> Self {
        let mut listed_by: HashMap<&'r str, Vec<KustomizeId>> = HashMap::default();
        for (kid, k) in repo.kustomizations.iter().enumerate() {
            for e in &k.resources {
                if let Some(r) = e.resolved.as_deref() {
                    listed_by.entry(r).or_default().push(kid);
                }
            }
        }
        Patched {
            repo,
            listed_by,
            memo: Default::default(),
        }
    }

    /// A Flux Kustomization that no build reaches although a kustomization.yaml
    /// sits in its directory or above: nothing applies it (an app switched off
    /// by commenting it out of its parent's `resources`).
    fn orphan(&self, f: FluxId) -> bool {
        let repo = self.repo;
        let object = repo.flux[f].object;
        let path = repo.files[repo.objects[object].file].path.as_str();
        if self.listed_by.contains_key(path) || repo.instances(object).any(|i| i.flux.is_some()) {
            return false;
        }
        let mut dir = crate::model::parent_dir(path);
        loop {
            if repo.kustomize_in(dir).is_some_and(|k| !k.component) {
                return true;
            }
            if dir.is_empty() {
                return false;
            }
            dir = crate::model::parent_dir(dir);
        }
    }

    fn flux(&self, f: FluxId) -> bool {
        let repo = self.repo;
        let object = repo.flux[f].object;
        let flux_patches = |o: ObjectId| {
            repo.object_node(o)
                .get("spec")
                .is_some_and(|s| s.get("patches").is_some())
        };
        if flux_patches(object) {
            return true;
        }
        if repo
            .instances(object)
            .filter_map(|i| i.flux)
            .any(|p| flux_patches(repo.flux[p].object))
        {
            return true;
        }
        let mut stack: Vec<&str> = vec![repo.files[repo.objects[object].file].path.as_str()];
        let mut seen: HashSet<KustomizeId> = HashSet::default();
        while let Some(path) = stack.pop() {
            for &kid in self.listed_by.get(path).into_iter().flatten() {
                if !seen.insert(kid) {
                    continue;
                }
                if self.kustomization(kid, 0) {
                    return true;
                }
                stack.push(repo.kustomizations[kid].dir.as_str());
            }
        }
        false
    }

    /// A kustomization, or a component it includes, patches or replaces.
    fn kustomization(&self, kid: KustomizeId, depth: usize) -> bool {
        if let Some(&b) = self.memo.borrow().get(&kid) {
            return b;
        }
        let repo = self.repo;
        let k = &repo.kustomizations[kid];
        let node = repo.node(k.file, k.root);
        let own = PATCH_KEYS.iter().any(|key| node.get(key).is_some());
        let result = own
            || (depth < 16
                && k.components.iter().any(|c| {
                    c.resolved
                        .as_deref()
                        .and_then(|d| repo.kustomize_id(d))
                        .is_some_and(|cid| self.kustomization(cid, depth + 1))
                }));
        self.memo.borrow_mut().insert(kid, result);
        result
    }
}
