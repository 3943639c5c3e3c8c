//! Builds the repository model from the parsed files.

use std::collections::BTreeSet;

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::PathBuf;

use super::kustomize::{self, Includer, Kustomize, PathEntry};
use super::subst::{self, Vars};
use super::{
    FluxId, FluxKustomization, Instance, KustomizeId, ModelSettings, Object, ObjectId, Repository,
    cluster, helm, talos,
};
use crate::diagnostic::FileId;
use crate::source::SourceFile;

/// Kinds kustomize never puts in a namespace.
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CiliumClusterwideNetworkPolicy",
    "CiliumL2AnnouncementPolicy",
    "CiliumLoadBalancerIPPool",
    "ClusterExternalSecret",
    "ClusterGenerator",
    "ClusterIssuer",
    "ClusterPolicy",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterSecretStore",
    "CustomResourceDefinition",
    "GatewayClass",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "PersistentVolume",
    "PriorityClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
    "VolumeSnapshotClass",
];

pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.binary_search(&kind).is_ok()
}

pub(super) fn build(root: PathBuf, files: Vec<SourceFile>, settings: &ModelSettings) -> Repository {
    let mut repo = Repository {
        root,
        files,
        objects: Vec::new(),
        kustomizations: Vec::new(),
        flux: Vec::new(),
        instances: Vec::new(),
        helm_releases: Vec::new(),
        talos: Vec::new(),
        cluster: Default::default(),
        settings: settings.clone(),
        schema: Default::default(),
        by_kind: HashMap::default(),
        instance_start: Vec::new(),
        instance_ids: Vec::new(),
        kustomize_by_dir: HashMap::default(),
        file_by_path: HashMap::default(),
        object_start: Vec::new(),
        dirs: HashSet::default(),
        focus: None,
    };
    let phases = crate::timing::Phases::start();
    classify(&mut repo);
    repo.object_start.push(repo.objects.len());
    phases.mark("  model: classify");
    // Schema validation reads only files, objects and kustomizations, so it
    // runs beside the builds, which are sequential.
    let (schema, (mut flux, instances)) = rayon::join(
        || (!settings.schema.skip).then(|| crate::schema::validate(&repo, &settings.schema)),
        || {
            let mut flux = flux_kustomizations(&repo);
            let instances = Builds::new(&repo).run(&mut flux);
            (flux, instances)
        },
    );
    phases.mark("  model: builds and schema validation");
    // Instances grouped by object, in instance order (a counting sort).
    let mut start = vec![0usize; repo.objects.len() + 1];
    for inst in &instances {
        start[inst.object + 1] += 1;
    }
    for o in 0..repo.objects.len() {
        start[o + 1] += start[o];
    }
    let mut next = start.clone();
    let mut ids = vec![0usize; instances.len()];
    for (i, inst) in instances.iter().enumerate() {
        ids[next[inst.object]] = i;
        next[inst.object] += 1;
    }
    repo.instance_start = start;
    repo.instance_ids = ids;
    clusters(&repo, &mut flux, &instances);
    repo.flux = flux;
    repo.instances = instances;
    repo.helm_releases = helm::helm_releases(&repo);
    repo.cluster = cluster::facts(&repo, settings.dual_stack);
    repo.schema = schema.unwrap_or_default();
    phases.mark("  model: instances, clusters, releases");
    repo
}

/// What one file contributes to the model; found for every file in parallel.
#[derive(Default)]
struct FileFacts {
    talos: Option<super::TalosConfig>,
    /// The file's first kustomize configuration, when the file has a kustomization's name.
    kustomize: Option<Kustomize>,
    objects: Vec<Object>,
}

fn file_facts(file_id: FileId, file: &SourceFile) -> FileFacts {
    let mut facts = FileFacts {
        talos: talos::classify(file_id, file),
        ..Default::default()
    };
    let dir = kustomize::parent_dir(&file.path);
    let file_name = file.path.rsplit('/').next().unwrap_or("");
    for doc in file.yaml.documents() {
        if kustomize::is_kustomize_config(file_name, doc) {
            if !kustomize::FILE_NAMES.contains(&file_name) || facts.kustomize.is_some() {
                continue;
            }
            facts.kustomize = Some(Kustomize {
                file: file_id,
                root: doc.id(),
                dir: dir.to_string(),
                component: doc.str_at(&["kind"]) == Some("Component"),
                namespace: doc.str_at(&["namespace"]).map(str::to_string),
                resources: kustomize::path_entries(doc.get("resources"), dir)
                    .into_iter()
                    .chain(kustomize::path_entries(doc.get("bases"), dir))
                    .collect(),
                components: kustomize::path_entries(doc.get("components"), dir),
            });
            continue;
        }
        if talos::is_talos_document(doc) {
            continue;
        }
        let (Some(api_version), Some(kind)) = (doc.str_at(&["apiVersion"]), doc.str_at(&["kind"]))
        else {
            continue;
        };
        let meta = doc.get("metadata");
        facts.objects.push(Object::new(
            file_id,
            doc.id(),
            api_version.to_string(),
            kind.to_string(),
            meta.and_then(|m| m.str_at(&["name"])).map(str::to_string),
            meta.and_then(|m| m.str_at(&["namespace"]))
                .map(str::to_string),
        ));
    }
    facts
}

fn classify(repo: &mut Repository) {
    let facts: Vec<FileFacts> = repo
        .files
        .par_iter()
        .enumerate()
        .map(|(id, file)| file_facts(id, file))
        .collect();
    // The path index is built beside the rest, which is sequential too.
    let Repository {
        files,
        file_by_path,
        object_start,
        objects,
        dirs,
        talos,
        kustomize_by_dir,
        kustomizations,
        by_kind,
        ..
    } = repo;
    let ((), ()) = rayon::join(
        || {
            file_by_path.reserve(files.len());
            for (file_id, file) in files.iter().enumerate() {
                file_by_path.insert(file.path.clone(), file_id);
            }
        },
        || {
            object_start.reserve(files.len() + 1);
            objects.reserve(facts.iter().map(|f| f.objects.len()).sum::<usize>());
            for (file, facts) in files.iter().zip(facts) {
                object_start.push(objects.len());
                let dir = kustomize::parent_dir(&file.path);
                let mut d = dir;
                while !dirs.contains(d) {
                    dirs.insert(d.to_string());
                    if d.is_empty() {
                        break;
                    }
                    d = kustomize::parent_dir(d);
                }
                talos.extend(facts.talos);
                if let Some(k) = facts.kustomize
                    && !kustomize_by_dir.contains_key(dir)
                {
                    kustomize_by_dir.insert(dir.to_string(), kustomizations.len());
                    kustomizations.push(k);
                }
                for object in facts.objects {
                    let id = objects.len();
                    match by_kind.get_mut(object.kind.as_str()) {
                        Some(ids) => ids.push(id),
                        None => {
                            by_kind.insert(object.kind.clone(), vec![id]);
                        }
                    }
                    objects.push(object);
                }
            }
        },
    );
}

fn flux_kustomizations(repo: &Repository) -> Vec<FluxKustomization> {
    let flux_system_url = source_url(repo, "GitRepository", "flux-system");
    repo.of_kind("Kustomization")
        .filter(|(_, o)| o.group() == "kustomize.toolkit.fluxcd.io")
        .map(|(id, _)| {
            let spec = repo.object_node(id).get("spec");
            let local =
                spec.is_some_and(|s| is_local_source(repo, s.get("sourceRef"), flux_system_url));
            let raw_path = spec.and_then(|s| s.str_at(&["path"]));
            // No path is the root of the source; a path with variables is resolved later.
            let path = match raw_path {
                _ if !local => None,
                None => Some(String::new()),
                Some(p) if subst::has_vars(p) => None,
                Some(p) => kustomize::join("", p),
            };
            let substitute = spec
                .and_then(|s| s.path(&["postBuild", "substitute"]))
                .map(|m| {
                    m.entries()
                        .filter_map(|(k, v)| {
                            Some((
                                k.as_str()?.to_string(),
                                v.as_str().unwrap_or("").to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let components = match &path {
                Some(p) => kustomize::path_entries(spec.and_then(|s| s.get("components")), p),
                None => Vec::new(),
            };
            FluxKustomization {
                object: id,
                local_source: local,
                path,
                target_namespace: spec
                    .and_then(|s| s.str_at(&["targetNamespace"]))
                    .map(str::to_string),
                substitute,
                components,
                cluster: 0,
            }
        })
        .collect()
}

/// Follows each Flux Kustomization up through the ones that build it.
/// Outermost Flux Kustomizations defined in one directory (`cluster-meta`
/// and `cluster-apps` side by side) are one cluster.
fn clusters(repo: &Repository, flux: &mut [FluxKustomization], instances: &[Instance]) {
    let parent = |f: FluxId, flux: &[FluxKustomization]| {
        let o = flux[f].object;
        repo.instance_ids[repo.instance_start[o]..repo.instance_start[o + 1]]
            .iter()
            .find_map(|&i| instances[i].flux)
            .filter(|&p| p != f)
    };
    for f in 0..flux.len() {
        let mut top = f;
        for _ in 0..64 {
            match parent(top, flux) {
                Some(p) if p != f => top = p,
                _ => break,
            }
        }
        flux[f].cluster = top;
    }
    let mut by_dir: HashMap<&str, FluxId> = HashMap::default();
    for f in 0..flux.len() {
        let top = flux[f].cluster;
        let dir = kustomize::parent_dir(&repo.files[repo.objects[flux[top].object].file].path);
        flux[f].cluster = *by_dir.entry(dir).or_insert(top);
    }
}

fn source_url<'r>(repo: &'r Repository, kind: &str, name: &str) -> Option<&'r str> {
    repo.of_kind(kind)
        .find(|(_, o)| o.name.as_deref() == Some(name) && o.group() == "source.toolkit.fluxcd.io")
        .and_then(|(id, _)| repo.object_node(id).str_at(&["spec", "url"]))
}

/// Whether a Flux source is this repository: the `flux-system` source, a
/// source with the same URL, or one not defined here at all (bootstrapped
/// outside Git). A source defined here with another URL is another repository,
/// whose paths mean nothing in this one.
fn is_local_source(
    repo: &Repository,
    source: Option<crate::yaml::NodeRef>,
    flux_system_url: Option<&str>,
) -> bool {
    let Some(source) = source else { return true };
    let name = source.str_at(&["name"]).unwrap_or("flux-system");
    let kind = source.str_at(&["kind"]).unwrap_or("GitRepository");
    if name == "flux-system" {
        return true;
    }
    match source_url(repo, kind, name) {
        None => !repo
            .of_kind(kind)
            .any(|(_, o)| o.name.as_deref() == Some(name)),
        Some(url) => flux_system_url == Some(url),
    }
}

/// Walks kustomize trees the way `kustomize build` (and Flux) would.
struct Builds<'r> {
    repo: &'r Repository,
    /// Directories some build has entered: not built again as roots.
    reached: std::cell::RefCell<HashSet<String>>,
}

#[derive(Clone, Copy)]
struct Ctx<'a> {
    flux: Option<FluxId>,
    vars: Option<&'a Vars>,
    component: Option<(KustomizeId, Includer)>,
}

impl<'r> Builds<'r> {
    fn new(repo: &'r Repository) -> Self {
        Builds {
            repo,
            reached: Default::default(),
        }
    }

    fn run(&self, flux: &mut [FluxKustomization]) -> Vec<Instance> {
        let mut out = Vec::new();
        let mut referenced: HashSet<&str> = HashSet::default();
        for k in &self.repo.kustomizations {
            for e in k.resources.iter().chain(&k.components) {
                if let Some(r) = &e.resolved {
                    referenced.insert(r);
                }
            }
        }
        // Flux Kustomizations with literal paths first; then those whose path
        // holds variables that the Kustomization building them defines.
        let mut done = vec![false; flux.len()];
        loop {
            let mut progress = false;
            for f in 0..flux.len() {
                // Another repository's paths mean nothing here: never built.
                if done[f] || !flux[f].local_source {
                    continue;
                }
                if flux[f].path.is_none() {
                    let Some(p) = self.resolve_flux_path(flux[f].object, flux, &out) else {
                        continue;
                    };
                    flux[f].path = Some(p.clone());
                    let spec = self.repo.object_node(flux[f].object).get("spec");
                    flux[f].components =
                        kustomize::path_entries(spec.and_then(|s| s.get("components")), &p);
                }
                done[f] = true;
                progress = true;
                self.build_flux(f, &flux[f], &mut out);
            }
            if !progress {
                break;
            }
        }
        let flux_paths: HashSet<&str> = flux.iter().filter_map(|f| f.path.as_deref()).collect();
        for (kid, k) in self.repo.kustomizations.iter().enumerate() {
            if k.component
                || referenced.contains(k.dir.as_str())
                || flux_paths.contains(k.dir.as_str())
                || self.reached.borrow().contains(&k.dir)
            {
                continue;
            }
            let ctx = Ctx {
                flux: None,
                vars: None,
                component: None,
            };
            let _ = kid;
            self.build_dir(&k.dir, None, ctx, &mut out, &mut Vec::new());
        }
        // Objects no build reaches stand as written.
        let mut reached = vec![false; self.repo.objects.len()];
        for inst in &out {
            reached[inst.object] = true;
        }
        for (id, o) in self.repo.objects.iter().enumerate() {
            if !reached[id] {
                out.push(Instance {
                    object: id,
                    namespace: o.namespace.clone().filter(|n| !subst::has_vars(n)),
                    name: o.name.clone().filter(|n| !subst::has_vars(n)),
                    flux: None,
                    component: None,
                });
            }
        }
        dedup(out)
    }

    fn resolve_flux_path(
        &self,
        object: ObjectId,
        flux: &[FluxKustomization],
        out: &[Instance],
    ) -> Option<String> {
        let raw = self.repo.object_node(object).str_at(&["spec", "path"])?;
        out.iter()
            .filter(|i| i.object == object)
            .find_map(|i| subst::substitute(raw, &flux[i.flux?].substitute))
            .and_then(|p| kustomize::join("", &p))
    }

    fn build_flux(&self, f: FluxId, fk: &FluxKustomization, out: &mut Vec<Instance>) {
        let Some(path) = &fk.path else { return };
        let ctx = Ctx {
            flux: Some(f),
            vars: Some(&fk.substitute),
            component: None,
        };
        let ns = fk.target_namespace.as_deref();
        self.build_dir(path, ns, ctx, out, &mut Vec::new());
        let inner_ns = ns.or_else(|| {
            self.repo
                .kustomize_in(path)
                .and_then(|k| k.namespace.as_deref())
        });
        for c in &fk.components {
            self.build_component(c, inner_ns, Includer::Flux(f), ctx, out, &mut Vec::new());
        }
    }

    fn build_component(
        &self,
        entry: &PathEntry,
        ns: Option<&str>,
        by: Includer,
        ctx: Ctx,
        out: &mut Vec<Instance>,
        stack: &mut Vec<String>,
    ) {
        let Some(dir) = &entry.resolved else { return };
        let Some(&cid) = self.repo.kustomize_by_dir.get(dir.as_str()) else {
            return;
        };
        let comp = &self.repo.kustomizations[cid];
        if !comp.component {
            return;
        }
        let ctx = Ctx {
            component: Some((cid, by)),
            ..ctx
        };
        // Components that include each other end here instead of recursing.
        if stack.contains(&comp.dir) || stack.len() > 64 {
            return;
        }
        stack.push(comp.dir.clone());
        let ns = ns.or(comp.namespace.as_deref());
        for r in &comp.resources {
            self.build_entry(r, ns, ctx, out, stack);
        }
        for c in &comp.components {
            self.build_component(c, ns, by, ctx, out, stack);
        }
        stack.pop();
    }

    fn build_entry(
        &self,
        entry: &PathEntry,
        ns: Option<&str>,
        ctx: Ctx,
        out: &mut Vec<Instance>,
        stack: &mut Vec<String>,
    ) {
        let Some(target) = &entry.resolved else {
            return;
        };
        if let Some(file) = self.repo.file_id(target) {
            self.emit_file(file, ns, ctx, out);
        } else if self.repo.is_dir(target) {
            self.build_dir(target, ns, ctx, out, stack);
        }
    }

    /// Builds a directory: its kustomization, or (as Flux generates one) every
    /// manifest below it, taking subdirectories with a kustomization whole.
    fn build_dir(
        &self,
        dir: &str,
        ns: Option<&str>,
        ctx: Ctx,
        out: &mut Vec<Instance>,
        stack: &mut Vec<String>,
    ) {
        if stack.iter().any(|d| d == dir) || stack.len() > 64 {
            return;
        }
        stack.push(dir.to_string());
        self.reached.borrow_mut().insert(dir.to_string());
        if let Some(&kid) = self.repo.kustomize_by_dir.get(dir) {
            let k = &self.repo.kustomizations[kid];
            if !k.component {
                let ns = ns.or(k.namespace.as_deref());
                for r in &k.resources {
                    self.build_entry(r, ns, ctx, out, stack);
                }
                for c in &k.components {
                    self.build_component(c, ns, Includer::Kustomize(kid), ctx, out, stack);
                }
            }
        } else {
            let prefix = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            let mut taken: BTreeSet<&str> = BTreeSet::new();
            // Files are sorted by path: the directory's files are one run, and
            // so are the files below each subdirectory.
            let files = &self.repo.files;
            let first = files.partition_point(|f| f.path.as_str() < prefix.as_str());
            let mut last_owner: Option<&str> = None;
            for (fid, file) in files.iter().enumerate().skip(first) {
                let Some(rest) = file.path.strip_prefix(&prefix) else {
                    break;
                };
                // Below the subdirectory the previous file was built with: built already.
                if let Some(o) = last_owner
                    && file.path.len() > o.len()
                    && file.path.starts_with(o)
                    && file.path.as_bytes()[o.len()] == b'/'
                {
                    continue;
                }
                // The outermost subdirectory with a kustomization is built as a whole.
                let owner = rest
                    .match_indices('/')
                    .map(|(j, _)| &file.path[..prefix.len() + j])
                    .find(|sub| self.repo.kustomize_by_dir.contains_key(*sub));
                match owner {
                    Some(o) => {
                        last_owner = Some(o);
                        if taken.insert(o) {
                            self.build_dir(o, ns, ctx, out, stack);
                        }
                    }
                    None => self.emit_file(fid, ns, ctx, out),
                }
            }
        }
        stack.pop();
    }

    fn emit_file(&self, file: FileId, ns: Option<&str>, ctx: Ctx, out: &mut Vec<Instance>) {
        let empty = Vars::new();
        let vars = ctx.vars.unwrap_or(&empty);
        for id in self.repo.objects_in(file) {
            let o = &self.repo.objects[id];
            let namespace = if is_cluster_scoped(&o.kind) {
                None
            } else {
                ns.map(str::to_string).or_else(|| o.namespace.clone())
            }
            .and_then(|n| subst::substitute(&n, vars));
            // kustomize's namespace transformer renames Namespace objects too.
            let name = match (o.kind.as_str(), ns) {
                ("Namespace", Some(ns)) if o.group().is_empty() => Some(ns.to_string()),
                _ => o.name.clone(),
            };
            out.push(Instance {
                object: id,
                namespace,
                name: name.and_then(|n| subst::substitute(&n, vars)),
                flux: ctx.flux,
                component: ctx.component,
            });
        }
    }
}

/// One instance per (object, Flux Kustomization, namespace, component source):
/// a tree reached twice by the same build is one object, not two.
fn dedup(out: Vec<Instance>) -> Vec<Instance> {
    let mut seen = HashSet::with_capacity_and_hasher(out.len(), Default::default());
    let keep: Vec<bool> = out
        .iter()
        .map(|i| seen.insert((i.object, i.flux, i.namespace.as_deref(), i.component)))
        .collect();
    drop(seen);
    out.into_iter()
        .zip(keep)
        .filter_map(|(i, keep)| keep.then_some(i))
        .collect()
}

/// Groups whose objects the builds read beyond their identity: Flux
/// Kustomizations (path, substitutions, components) and sources (URL).
const READ_BY_BUILDS: [&str; 2] = ["kustomize.toolkit.fluxcd.io", "source.toolkit.fluxcd.io"];

/// Puts a new version of a file in place, keeping the builds, when the file
/// cannot change them: it is not a kustomization, it holds the same objects
/// (apiVersion, kind, name, namespace) as before, and none of them is a Flux
/// Kustomization or source. What reads content (Talos configs, HelmReleases,
/// cluster facts) is found again. Otherwise the file comes back, untouched
/// model and all, and the caller builds the model again.
pub(super) fn update_file(
    repo: &mut Repository,
    file: SourceFile,
) -> Result<FileId, Box<SourceFile>> {
    let Some(id) = repo.file_id(&file.path) else {
        return Err(Box::new(file));
    };
    let name = file.path.rsplit('/').next().unwrap_or("");
    if kustomize::FILE_NAMES.contains(&name) {
        return Err(Box::new(file));
    }
    let facts = file_facts(id, &file);
    let range = repo.objects_in(id);
    let same = facts.kustomize.is_none()
        && facts.objects.len() == range.len()
        && facts
            .objects
            .iter()
            .zip(&repo.objects[range.clone()])
            .all(|(new, old)| {
                new.api_version == old.api_version
                    && new.kind == old.kind
                    && new.name == old.name
                    && new.namespace == old.namespace
                    && !READ_BY_BUILDS.contains(&new.group())
            });
    if !same {
        return Err(Box::new(file));
    }
    for (old, new) in repo.objects[range].iter_mut().zip(&facts.objects) {
        old.root = new.root;
    }
    let at = repo.talos.partition_point(|t| t.file < id);
    let had = repo.talos.get(at).is_some_and(|t| t.file == id);
    match (had, facts.talos) {
        (true, Some(t)) => repo.talos[at] = t,
        (true, None) => {
            repo.talos.remove(at);
        }
        (false, Some(t)) => repo.talos.insert(at, t),
        (false, None) => {}
    }
    repo.files[id] = file;
    repo.helm_releases = helm::helm_releases(repo);
    repo.cluster = cluster::facts(repo, repo.settings.dual_stack);
    Ok(id)
}
