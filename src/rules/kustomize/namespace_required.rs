use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::diagnostic::Severity;
use crate::model::{FluxId, KustomizeId, ObjectId, Repository};
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "kustomize/namespace-required",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: true,
    summary: "an app kustomization that lists namespaced manifests, but neither it, a kustomization above it, the Flux Kustomization nor the manifests set a namespace",
    page: include_str!("../../../lints/kustomize/namespace-required.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Findings are placed on the kustomizations of the files reported on that
    // list an object the build gives no namespace.
    let open: Vec<(FluxId, KustomizeId, ObjectId)> = repo
        .instances
        .iter()
        .filter_map(|inst| {
            let (Some(f), Some(kid)) = (inst.flux, inst.listed_by) else {
                return None;
            };
            let obj = &repo.objects[inst.object];
            if inst.ns_given
                || obj.namespace.is_some()
                || !repo.wants(repo.kustomizations[kid].file)
                || repo.cluster_scoped(obj)
            {
                return None;
            }
            Some((f, kid, inst.object))
        })
        .collect();
    if open.is_empty() {
        return;
    }
    let patched = Patched::new(repo);
    let candidate: Vec<bool> = (0..repo.flux.len())
        .map(|f| {
            let fk = &repo.flux[f];
            fk.path.is_some()
                && fk.local_source
                && fk.target_namespace.is_none()
                && fk.applied
                && !patched.flux(f)
        })
        .collect();
    // Per kustomization: the objects it lists that its Flux builds give no
    // namespace, and those Flux Kustomizations.
    let mut found: BTreeMap<KustomizeId, (Vec<ObjectId>, Vec<FluxId>)> = BTreeMap::new();
    for (f, kid, object) in open {
        if !candidate[f] {
            continue;
        }
        let entry = found.entry(kid).or_default();
        if !entry.0.contains(&object) {
            entry.0.push(object);
        }
        if !entry.1.contains(&f) {
            entry.1.push(f);
        }
    }
    for (kid, (objects, fluxes)) in found {
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
