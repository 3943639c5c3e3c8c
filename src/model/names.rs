//! Names as builds leave them: kustomize `namePrefix`/`nameSuffix` and JSON
//! 6902 renames, applied one way for every rule.

use super::{Includer, Instance, Repository, join};
use crate::yaml::NodeRef;

/// Whether kustomize adds `namePrefix`/`nameSuffix` to an object of this kind
/// (it leaves CustomResourceDefinitions, APIServices and Namespaces alone).
pub fn takes_affixes(kind: &str) -> bool {
    !matches!(
        kind,
        "CustomResourceDefinition" | "APIService" | "Namespace"
    )
}

impl Repository {
    /// The object's name as the includer's build leaves it: JSON 6902 patches
    /// that rename it (the including kustomization's `patches`, then the Flux
    /// Kustomization's `spec.patches`), kustomize `namePrefix`/`nameSuffix` of the
    /// including kustomization and of the Flux Kustomization, then Flux
    /// substitution. `None` when a patch may rename it to a name not seen here.
    pub fn built_name(
        &self,
        inst: &Instance,
        by: Includer,
        kind: &str,
        name: &str,
    ) -> Option<String> {
        let repo = self;
        let mut name = name.to_string();
        let flux_spec = inst
            .flux
            .and_then(|f| repo.object_node(repo.flux[f].object).get("spec"));
        let includer = match by {
            Includer::Kustomize(k) => Some(&repo.kustomizations[k]),
            Includer::Flux(f) => repo.flux[f]
                .path
                .as_deref()
                .and_then(|p| repo.kustomize_in(p)),
        };
        if let Some(k) = includer {
            let node = repo.node(k.file, k.root);
            for key in ["patches", "patchesJson6902"] {
                name = renamed(repo, node.get(key), &k.dir, kind, &name)?;
            }
        }
        if let Some(f) = inst.flux {
            let dir = repo.flux[f].path.as_deref().unwrap_or("");
            name = renamed(
                repo,
                flux_spec.and_then(|s| s.get("patches")),
                dir,
                kind,
                &name,
            )?;
        }
        if takes_affixes(kind) {
            let (mut prefix, mut suffix) = (String::new(), String::new());
            if let Some(spec) = flux_spec {
                prefix.push_str(spec.str_at(&["namePrefix"]).unwrap_or(""));
                suffix.push_str(spec.str_at(&["nameSuffix"]).unwrap_or(""));
            }
            if let Includer::Kustomize(k) = by {
                let k = &repo.kustomizations[k];
                let node = repo.node(k.file, k.root);
                prefix.push_str(node.str_at(&["namePrefix"]).unwrap_or(""));
                suffix.insert_str(0, node.str_at(&["nameSuffix"]).unwrap_or(""));
            }
            name = format!("{prefix}{name}{suffix}");
        }
        Some(repo.render(inst, &name).unwrap_or(name))
    }
}

/// The name after a list of kustomize patches: JSON 6902 `add`/`replace` of
/// `/metadata/name` on a target that selects the object renames it. `None`
/// when a patch that may select it changes the name in a way not seen here
/// (a label selector, a regular expression, another operation).
fn renamed(
    repo: &Repository,
    patches: Option<NodeRef>,
    dir: &str,
    kind: &str,
    name: &str,
) -> Option<String> {
    let mut name = name.to_string();
    let Some(patches) = patches else {
        return Some(name);
    };
    for p in patches.items() {
        let Some(target) = p.get("target") else {
            // A strategic-merge patch selects by its own name and keeps it.
            continue;
        };
        let sure = match selects(target, kind, &name) {
            Selects::No => continue,
            Selects::Yes => true,
            Selects::Maybe => false,
        };
        let parsed;
        let body = if let Some(text) = p.str_at(&["patch"]) {
            parsed = crate::yaml::parse(text);
            parsed.documents().next()
        } else if let Some(path) = p.str_at(&["path"]) {
            join(dir, path)
                .and_then(|f| repo.files.iter().find(|x| *x.path == *f))
                .and_then(|f| f.yaml.documents().next())
        } else {
            None
        };
        let Some(body) = body else { continue };
        if body.is_map() {
            let allow = p
                .path(&["options", "allowNameChange"])
                .and_then(|n| n.as_bool())
                == Some(true);
            if allow && body.path(&["metadata", "name"]).is_some() {
                return None;
            }
            continue;
        }
        for op in body.items() {
            let touches = |key: &str| {
                op.str_at(&[key])
                    .is_some_and(|v| v == "/metadata/name" || v == "/metadata")
            };
            if !touches("path") && !touches("from") {
                continue;
            }
            let kind_of_op = op.str_at(&["op"]).unwrap_or("");
            match (kind_of_op, op.str_at(&["path"]), op.str_at(&["value"])) {
                ("add" | "replace", Some("/metadata/name"), Some(v)) if sure => {
                    name = v.to_string()
                }
                ("test", _, _) => {}
                _ => return None,
            }
        }
    }
    Some(name)
}

enum Selects {
    Yes,
    No,
    Maybe,
}

/// Whether a patch `target` selects an object of this kind and name.
fn selects(target: NodeRef, kind: &str, name: &str) -> Selects {
    let regex = |s: &str| s.chars().any(|c| "*.+?[](){}|^$\\".contains(c));
    let mut sure = true;
    if let Some(k) = target.str_at(&["kind"]) {
        if regex(k) {
            sure = false;
        } else if k != kind {
            return Selects::No;
        }
    }
    if let Some(n) = target.str_at(&["name"]) {
        if regex(n) {
            sure = false;
        } else if n != name {
            return Selects::No;
        }
    }
    if target.get("labelSelector").is_some() || target.get("annotationSelector").is_some() {
        sure = false;
    }
    if sure { Selects::Yes } else { Selects::Maybe }
}
