//! How a build reaches what it produces, and why a file is not deployed: the
//! facts `explain` reports, read from the builds the model has made.

use super::kustomize::{Includer, PathEntry, join, parent_dir};
use super::{FluxId, Instance, KustomizeId, Repository, live, under};
use crate::diagnostic::FileId;
use crate::yaml::Span;

/// One step of a build down to a file: the `resources` or `components`
/// entry of a kustomization (or of a Flux Kustomization's `spec.components`)
/// that leads to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub file: FileId,
    pub span: Span,
    /// The entry as written.
    pub text: String,
    pub component: bool,
}

/// Why nothing deploys a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotDeployed {
    /// Only Flux Kustomizations that reach no cluster build it.
    FluxNotApplied(FluxId),
    /// A commented-out entry of a kustomization names it (or a directory above it).
    CommentedOut {
        kustomization: KustomizeId,
        line: usize,
    },
    /// It lies in a folder kept but not deployed (`.archive/`, `templates/`...).
    Shelved,
    /// The kustomization of a directory above it does not list it.
    NotListed(KustomizeId),
    /// No build of a sync root reaches it.
    Unreachable,
}

/// A `dependsOn` entry of a Flux Kustomization and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    /// The namespace it means (`None`: its own, unknown).
    pub namespace: Option<String>,
    /// The Flux Kustomizations of that name and namespace.
    pub targets: Vec<FluxId>,
    /// Where the entry is written, when in a file of the repository.
    pub at: Option<(FileId, Span)>,
}

const MAX_DEPTH: usize = 64;

impl Repository {
    /// The Flux Kustomizations from the outermost (what bootstrap applies)
    /// down to `f`.
    pub fn flux_chain(&self, f: FluxId) -> Vec<FluxId> {
        let mut chain = vec![f];
        let mut at = f;
        while let Some(p) = self.flux[at].parent {
            if chain.contains(&p) || chain.len() > MAX_DEPTH {
                break;
            }
            chain.push(p);
            at = p;
        }
        chain.reverse();
        chain
    }

    /// The namespace and name of a Flux Kustomization as the build that
    /// applies it gives them (as written when nothing builds it).
    pub fn flux_label(&self, f: FluxId) -> (Option<&str>, Option<&str>) {
        let object = self.flux[f].object;
        let obj = &self.objects[object];
        match super::vars::flux_instance(self, f) {
            Some(i) => (
                i.namespace.as_deref().or(obj.namespace.as_deref()),
                i.name.as_deref().or(obj.name.as_deref()),
            ),
            None => (obj.namespace.as_deref(), obj.name.as_deref()),
        }
    }

    /// The entries a build follows from where it starts (a Flux
    /// Kustomization's path, a root kustomization) down to the object's file.
    pub fn route(&self, inst: &Instance) -> Vec<Hop> {
        let file = &self.files[self.objects[inst.object].file].path;
        let start = match (inst.flux, inst.root) {
            (Some(f), _) => self.flux[f].path.clone(),
            (None, Some(k)) => Some(self.kustomizations[k].dir.clone()),
            (None, None) => None,
        };
        let Some(start) = start else {
            return Vec::new();
        };
        let Some((cid, by)) = inst.component else {
            return self.route_to(&start, file, 0).unwrap_or_default();
        };
        let comp_dir = self.kustomizations[cid].dir.as_str();
        let mut hops = match by {
            Includer::Flux(_) => Vec::new(),
            Includer::Kustomize(k) => {
                let dir = self.kustomizations[k].dir.as_str();
                self.route_to(&start, dir, 0).unwrap_or_default()
            }
        };
        let (site_file, span, _) = self.includer_site(by, comp_dir);
        let text = self.files[site_file]
            .text()
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
            .to_string();
        hops.push(Hop {
            file: site_file,
            span,
            text,
            component: true,
        });
        hops.extend(self.route_to(comp_dir, file, 0).unwrap_or_default());
        hops
    }

    /// The entries from directory `from` to `target` (a file or a directory).
    fn route_to(&self, from: &str, target: &str, depth: usize) -> Option<Vec<Hop>> {
        if from == target {
            return Some(Vec::new());
        }
        if depth > MAX_DEPTH || !under(target, from) && self.kustomize_in(from).is_none() {
            return None;
        }
        let Some(k) = self.kustomize_in(from) else {
            // A directory without a kustomization: Flux walks it, taking the
            // outermost subdirectory with a kustomization whole.
            let rest = target.strip_prefix(from)?.trim_start_matches('/');
            let sub = rest
                .match_indices('/')
                .map(|(j, _)| &target[..target.len() - rest.len() + j])
                .find(|sub| self.kustomize_in(sub).is_some());
            return match sub {
                Some(sub) => self.route_to(sub, target, depth + 1),
                None => Some(Vec::new()),
            };
        };
        let hop = |e: &PathEntry, component: bool| Hop {
            file: k.file,
            span: e.span,
            text: e.text.to_string(),
            component,
        };
        let entries = k
            .resources
            .iter()
            .map(|e| (e, false))
            .chain(k.components.iter().map(|e| (e, true)));
        for (e, component) in entries {
            let Some(r) = e.resolved.as_deref() else {
                continue;
            };
            if r == target {
                return Some(vec![hop(e, component)]);
            }
            if under(target, r)
                && self.is_dir(r)
                && let Some(rest) = self.route_to(r, target, depth + 1)
            {
                let mut hops = vec![hop(e, component)];
                hops.extend(rest);
                return Some(hops);
            }
        }
        None
    }

    /// Whether a kustomization reaches a cluster (see `live`).
    pub fn kustomize_deployed(&self, k: KustomizeId) -> bool {
        self.kustomize_deployed.get(k).copied().unwrap_or(true)
    }

    /// The kustomizations the build of Flux Kustomization `f` reaches.
    pub fn built_by_flux(&self, f: FluxId) -> Vec<KustomizeId> {
        (0..self.kustomize_reach.len())
            .filter(|&k| self.kustomize_reach[k].iter().any(|r| r.0 == Some(f)))
            .collect()
    }

    /// The kustomizations built as roots (no Flux Kustomization, nor another
    /// kustomization, builds them), with what each reaches.
    pub fn kustomize_roots(&self) -> Vec<(KustomizeId, Vec<KustomizeId>)> {
        let mut roots: Vec<(KustomizeId, Vec<KustomizeId>)> = Vec::new();
        for (k, reach) in self.kustomize_reach.iter().enumerate() {
            for &(flux, root) in reach {
                if let (None, Some(r)) = (flux, root) {
                    match roots.iter_mut().find(|(x, _)| *x == r) {
                        Some((_, ks)) => ks.push(k),
                        None => roots.push((r, vec![k])),
                    }
                }
            }
        }
        roots.sort_by_key(|(r, _)| *r);
        roots
    }

    /// Why nothing deploys a file (`None`: something does, or it cannot be told).
    pub fn why_not_deployed(&self, file: FileId) -> Option<NotDeployed> {
        if self.file_deployed(file) != Some(false) {
            return None;
        }
        let unapplied = self.objects_in(file).find_map(|o| {
            self.instances(o)
                .find_map(|i| i.flux.filter(|&f| !self.flux[f].applied))
        });
        if let Some(f) = unapplied {
            return Some(NotDeployed::FluxNotApplied(f));
        }
        let path = self.files[file].path.as_str();
        // A kustomization file stands for its directory.
        let target = match self.kustomize_id(parent_dir(path)) {
            Some(k) if self.kustomizations[k].file == file => parent_dir(path),
            _ => path,
        };
        let mut dirs = Vec::new();
        let mut d = target;
        while !d.is_empty() {
            d = parent_dir(d);
            dirs.push(d);
        }
        for &dir in &dirs {
            if let Some(k) = self.kustomize_id(dir)
                && let Some(line) = self.commented_entry(k, target)
            {
                return Some(NotDeployed::CommentedOut {
                    kustomization: k,
                    line,
                });
            }
        }
        if live::shelved(parent_dir(path)) {
            return Some(NotDeployed::Shelved);
        }
        for &dir in &dirs {
            if let Some(k) = self.kustomize_id(dir) {
                let kz = &self.kustomizations[k];
                let lists = kz.resources.iter().any(|e| {
                    e.resolved
                        .as_deref()
                        .is_some_and(|r| r == target || under(target, r))
                });
                if !kz.component && !lists {
                    return Some(NotDeployed::NotListed(k));
                }
            }
        }
        Some(NotDeployed::Unreachable)
    }

    /// The line of a commented-out `- entry` of kustomization `k` that names
    /// `target` or a directory above it.
    fn commented_entry(&self, k: KustomizeId, target: &str) -> Option<usize> {
        let kz = &self.kustomizations[k];
        let text = &self.files[kz.file].text();
        text.lines().enumerate().find_map(|(i, line)| {
            let rest = line.trim_start().strip_prefix('#')?;
            let entry = rest.trim_start_matches('#').trim().strip_prefix('-')?;
            let entry = entry.split(" #").next().unwrap_or("").trim();
            let entry = entry.trim_matches(|c| c == '"' || c == '\'');
            if entry.is_empty() || entry.contains(' ') {
                return None;
            }
            let r = join(&kz.dir, entry)?;
            (r != kz.dir && (r == target || under(target, &r))).then_some(i + 1)
        })
    }

    /// The `dependsOn` entries of Flux Kustomization `f`, as the build that
    /// applies it gives them, and the Flux Kustomizations each names.
    pub fn flux_dependencies(&self, f: FluxId) -> Vec<Dependency> {
        let Some(inst) = super::vars::flux_instance(self, f) else {
            return Vec::new();
        };
        let (list, own) = match self.field(inst, &["spec", "dependsOn"]) {
            super::Field::Own(n) => (n, true),
            super::Field::Patched(Some(n)) => (n, false),
            _ => return Vec::new(),
        };
        let own_ns = self.flux_label(f).0.map(str::to_string);
        let file = self.objects[self.flux[f].object].file;
        list.items()
            .filter_map(|item| {
                let name = self.render(inst, item.str_at(&["name"])?)?;
                let namespace = match item.str_at(&["namespace"]) {
                    Some(ns) => self.render(inst, ns),
                    None => own_ns.clone(),
                };
                let named = |g: FluxId| {
                    let (ns, n) = self.flux_label(g);
                    n == Some(name.as_str())
                        && (namespace.is_none() || ns.is_none() || ns == namespace.as_deref())
                };
                let all: Vec<FluxId> = (0..self.flux.len()).filter(|&g| named(g)).collect();
                let cluster = self.flux[f].cluster;
                let same: Vec<FluxId> = all
                    .iter()
                    .copied()
                    .filter(|&g| self.flux[g].cluster == cluster)
                    .collect();
                Some(Dependency {
                    name,
                    namespace,
                    targets: if same.is_empty() { all } else { same },
                    at: own.then(|| (file, item.span())),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{flux_named, ks, repo};
    use super::*;
    use crate::model::vars::{Value, VarOrigin};

    const ROOT: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./cluster\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
    const CM: &str =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n";

    fn list(entries: &[&str]) -> String {
        let mut s =
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
                .to_string();
        for e in entries {
            s.push_str(&format!("  {e}\n"));
        }
        s
    }

    #[test]
    fn a_chain_runs_from_the_sync_root_and_a_route_names_each_entry() {
        let apps = ks("apps", "./apps", "");
        let r = repo(&[
            ("cluster/flux-system/ks.yaml", ROOT),
            ("cluster/apps.yaml", &apps),
            ("apps/kustomization.yaml", &list(&["- ./web"])),
            ("apps/web/kustomization.yaml", &list(&["- cm.yaml"])),
            ("apps/web/cm.yaml", CM),
        ]);
        let f = flux_named(&r, "apps");
        let root = flux_named(&r, "flux-system");
        assert_eq!(r.flux_chain(f), vec![root, f]);
        let file = r.file_id("apps/web/cm.yaml").unwrap();
        let o = r.objects_in(file).start;
        let inst = r.instances(o).find(|i| i.flux == Some(f)).unwrap();
        let hops: Vec<String> = r.route(inst).into_iter().map(|h| h.text).collect();
        assert_eq!(hops, ["./web", "cm.yaml"]);
        assert_eq!(r.why_not_deployed(file), None);
    }

    #[test]
    fn a_commented_out_entry_is_why_nothing_deploys_a_file() {
        let r = repo(&[
            ("cluster/flux-system/ks.yaml", ROOT),
            (
                "cluster/kustomization.yaml",
                &list(&["- ./kept.yaml", "# - ./gone.yaml"]),
            ),
            ("cluster/kept.yaml", CM),
            ("cluster/gone.yaml", &CM.replace("name: x", "name: y")),
        ]);
        let gone = r.file_id("cluster/gone.yaml").unwrap();
        let k = r.kustomize_id("cluster").unwrap();
        assert_eq!(
            r.why_not_deployed(gone),
            Some(NotDeployed::CommentedOut {
                kustomization: k,
                line: 5
            })
        );
        assert_eq!(
            r.why_not_deployed(r.file_id("cluster/kept.yaml").unwrap()),
            None
        );
    }

    #[test]
    fn a_file_left_out_without_a_comment_is_not_listed() {
        let r = repo(&[
            ("cluster/flux-system/ks.yaml", ROOT),
            ("cluster/kustomization.yaml", &list(&["- ./kept.yaml"])),
            ("cluster/kept.yaml", CM),
            ("cluster/extra/cm.yaml", &CM.replace("name: x", "name: y")),
        ]);
        let file = r.file_id("cluster/extra/cm.yaml").unwrap();
        let k = r.kustomize_id("cluster").unwrap();
        assert_eq!(r.why_not_deployed(file), Some(NotDeployed::NotListed(k)));
    }

    #[test]
    fn variables_know_where_they_come_from() {
        let parent = ks(
            "apps",
            "./apps",
            "  patches:\n    - patch: |\n        apiVersion: kustomize.toolkit.fluxcd.io/v1\n        kind: Kustomization\n        metadata:\n          name: all\n        spec:\n          postBuild:\n            substitute:\n              FROM_PATCH: p\n      target:\n        kind: Kustomization\n",
        );
        let child = ks(
            "web",
            "./apps/web/app",
            "  postBuild:\n    substitute:\n      OWN: o\n    substituteFrom:\n      - kind: Secret\n        name: secrets\n",
        );
        let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: secrets\n  namespace: flux-system\ndata:\n  HIDDEN: aGk=\n";
        let r = repo(&[
            ("cluster/flux-system/ks.yaml", ROOT),
            ("cluster/apps.yaml", &parent),
            ("cluster/secret.yaml", secret),
            ("apps/kustomization.yaml", &list(&["- ./web/ks.yaml"])),
            ("apps/web/ks.yaml", &child),
            ("apps/web/app/cm.yaml", CM),
        ]);
        let f = flux_named(&r, "web");
        let p = flux_named(&r, "apps");
        let vars = &r.flux[f].vars;
        let own_file = r.file_id("apps/web/ks.yaml").unwrap();
        assert!(matches!(
            vars.origin("OWN"),
            Some(VarOrigin::Substitute { file, .. }) if *file == own_file
        ));
        assert_eq!(
            vars.origin("FROM_PATCH"),
            Some(&VarOrigin::Patch { flux: p, patch: 0 })
        );
        assert!(matches!(
            vars.origin("HIDDEN"),
            Some(VarOrigin::From { kind: "Secret", name, .. }) if name == "secrets"
        ));
        assert_eq!(vars.get("HIDDEN"), Some(&Value::Unknown));
        assert_eq!(vars.from_refs.len(), 1);
        assert_eq!(vars.from_refs[0].found.len(), 1);
        let site = r.patch_site(p, 0).unwrap();
        assert_eq!(site.0, r.file_id("cluster/apps.yaml").unwrap());
    }

    #[test]
    fn depends_on_names_a_flux_kustomization_of_the_same_cluster() {
        let a = ks("a", "./apps/a", "");
        let b = ks(
            "b",
            "./apps/b",
            "  dependsOn:\n    - name: a\n    - name: missing\n",
        );
        let r = repo(&[
            ("cluster/flux-system/ks.yaml", ROOT),
            ("cluster/a.yaml", &a),
            ("cluster/b.yaml", &b),
            ("apps/a/cm.yaml", CM),
            ("apps/b/cm.yaml", &CM.replace("name: x", "name: y")),
        ]);
        let deps = r.flux_dependencies(flux_named(&r, "b"));
        assert_eq!(deps.len(), 2);
        assert_eq!(deps[0].targets, vec![flux_named(&r, "a")]);
        assert_eq!(deps[0].namespace.as_deref(), Some("flux-system"));
        assert!(deps[1].targets.is_empty());
    }
}
