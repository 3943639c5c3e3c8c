//! Builds the repository model from the parsed files.

use std::collections::BTreeSet;

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::flux::{self, Field};
use super::kustomize::{self, Includer, Kustomize, PathEntry};
use super::sources::{self, SourceUse};
use super::subst;
use super::vars::{self, VarSet};
use super::{
    Classified, FluxId, FluxKustomization, Instance, KustomizeId, ModelSettings, Object, ObjectId,
    Repository, cluster, helm, live, talos,
};
use crate::diagnostic::FileId;
use crate::shared::Text;
use crate::source::SourceFile;

/// Builds the model; `beside` runs on the classified repository (files,
/// objects, kustomizations) in parallel with the builds, which are sequential.
pub(super) fn build<T: Send>(
    root: PathBuf,
    files: Vec<SourceFile>,
    settings: &ModelSettings,
    beside: impl FnOnce(&Classified) -> T + Send,
) -> (Repository, T) {
    let phases = crate::timing::Phases::start();
    let mut classified = Classified {
        files,
        objects: Vec::new(),
        kustomizations: Vec::new(),
        talos: Vec::new(),
        webhook_named: false,
        sync: Default::default(),
        by_kind: HashMap::default(),
        kustomize_by_dir: HashMap::default(),
        file_by_path: Default::default(),
        object_start: Vec::new(),
        dirs: Default::default(),
    };
    classify(&mut classified);
    classified.object_start.push(classified.objects.len());
    classified.sync.paths.sort();
    classified.sync.paths.dedup();
    let mut repo = Repository {
        root,
        classified: Arc::new(classified),
        flux: Vec::new(),
        instances: Vec::new(),
        helm_releases: Vec::new(),
        cluster: Default::default(),
        settings: settings.clone(),
        patch_docs: Vec::new(),
        flux_patches: Vec::new(),
        flux_by_object: HashMap::default(),
        deployed: Vec::new(),
        kustomize_reach: Vec::new(),
        kustomize_deployed: Vec::new(),
        deploys_known: false,
        crd_scopes: HashMap::default(),
        instance_start: Vec::new(),
        instance_ids: Vec::new(),
        focus: None,
        suggest: Default::default(),
    };
    repo.crd_scopes = super::scope::crd_scopes(&repo);
    phases.mark("  model: classify");
    // What runs beside (schema validation) reads only what `classify`
    // found, through a handle of its own: it runs while the builds and what
    // follows from them, which are mostly sequential, change the rest.
    let classified = Arc::clone(&repo.classified);
    let (beside, ()) = rayon::join(
        move || beside(&classified),
        || derive_all(&mut repo, settings, &phases),
    );
    phases.mark("  model: what ran beside the builds");
    (repo, beside)
}

/// The builds, and what follows from them (everything but `classify`).
fn derive_all(repo: &mut Repository, settings: &ModelSettings, phases: &crate::timing::Phases) {
    let mut flux = flux_kustomizations(repo, false);
    let builds = Builds::new(repo);
    let instances = builds.run(&mut flux);
    let used = builds.used(flux.len());
    let reach = builds.into_reach();
    phases.mark("  model: builds");
    let built_with: Vec<VarSet> = flux.iter().map(|f| f.vars.clone()).collect();
    install(repo, flux, instances);
    repo.kustomize_reach = reach;
    derive(repo, phases);
    // The builds read the spec as written and `postBuild.substitute` alone:
    // when a parent's patches or a `substituteFrom` source change what they
    // read, build again with the effective specs.
    // Only a parent's patches and new variables can change them.
    let patched = repo
        .flux
        .iter()
        .any(|f| f.parent.is_some_and(|p| !repo.flux_patches(p).is_empty()));
    let new_vars = (0..repo.flux.len()).any(|f| used[f] && !repo.flux[f].vars.same(&built_with[f]));
    let mut flux = if patched || new_vars {
        flux_kustomizations(repo, true)
    } else {
        Vec::new()
    };
    let changed = flux
        .iter()
        .zip(&repo.flux)
        .enumerate()
        .any(|(f, (new, old))| {
            new.local_source != old.local_source
                || new.path != old.path
                || new.source_root != old.source_root
                || new.target_namespace != old.target_namespace
                || new.components.len() != old.components.len()
                || (used[f] && !new.vars.same(&built_with[f]))
        });
    if changed {
        let builds = Builds::new(repo);
        let instances = builds.run(&mut flux);
        let reach = builds.into_reach();
        install(repo, flux, instances);
        repo.kustomize_reach = reach;
        phases.mark("  model: builds again with the effective specs");
        derive(repo, phases);
    }
    phases.mark("  model: effective specs");
    let (deployed, kustomize_deployed) = live::deployed(repo);
    repo.deploys_known = live::deploys_known(repo);
    repo.deployed = deployed;
    repo.kustomize_deployed = kustomize_deployed;
    phases.mark("  model: deployed");
    repo.helm_releases = helm::helm_releases(repo);
    repo.cluster = cluster::facts(repo, settings.dual_stack);
    phases.mark("  model: instances, clusters, releases");
}

/// Puts the builds' results in the model: instances by object, the Flux
/// Kustomization of each object, parents and clusters.
fn install(repo: &mut Repository, mut flux: Vec<FluxKustomization>, instances: Vec<Instance>) {
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
    repo.flux_by_object = flux
        .iter()
        .enumerate()
        .map(|(f, k)| (k.object, f))
        .collect();
    for (f, fk) in flux.iter_mut().enumerate() {
        let o = fk.object;
        fk.parent = repo.instance_ids[repo.instance_start[o]..repo.instance_start[o + 1]]
            .iter()
            .find_map(|&i| instances[i].flux.filter(|&p| p != f));
    }
    clusters(repo, &mut flux);
    repo.flux = flux;
    repo.instances = instances;
}

/// What follows from the builds: the patches each Flux Kustomization
/// applies, which ones reach a cluster, and their variables.
fn derive(repo: &mut Repository, phases: &crate::timing::Phases) {
    let parents: Vec<Option<FluxId>> = repo.flux.iter().map(|f| f.parent).collect();
    let (docs, patches) = flux::compute(repo, &parents);
    repo.patch_docs = docs;
    repo.flux_patches = patches;
    phases.mark("  model: patches");
    for (f, applied) in live::applied(repo).into_iter().enumerate() {
        repo.flux[f].applied = applied;
    }
    phases.mark("  model: applied");
    for (f, vars) in vars::compute(repo).into_iter().enumerate() {
        repo.flux[f].vars = vars;
    }
    phases.mark("  model: variables");
}

/// What one file contributes to the model; found for every file in parallel.
#[derive(Default)]
struct FileFacts {
    talos: Option<super::TalosConfig>,
    /// The file's first kustomize configuration, when the file has a kustomization's name.
    kustomize: Option<Kustomize>,
    objects: Vec<Object>,
    /// What Flux itself syncs, where the file says it (see `live`).
    sync: live::SyncRoots,
    /// The file names the kustomize-mutating-webhook (see `vars`).
    webhook: bool,
}

/// The HelmReleases a flux-operator ResourceSet holds in `spec.resources`:
/// flux-operator applies them, so they are objects of the repository too. A
/// name or namespace templated with `<< inputs.x >>` is not known here.
fn embedded(file_id: FileId, text: &Text, set: crate::yaml::NodeRef, out: &mut Vec<Object>) {
    let known = |s: &&str| !s.contains("<<");
    for item in set
        .path(&["spec", "resources"])
        .into_iter()
        .flat_map(|r| r.items())
    {
        let (Some(api_version), Some(kind)) =
            (item.str_at(&["apiVersion"]), item.str_at(&["kind"]))
        else {
            continue;
        };
        if kind != "HelmRelease" || !api_version.starts_with("helm.toolkit.fluxcd.io/") {
            continue;
        }
        let meta = item.get("metadata");
        out.push(Object::new(
            file_id,
            item.id(),
            text.view(api_version),
            text.view(kind),
            meta.and_then(|m| m.str_at(&["name"]))
                .filter(known)
                .map(|n| text.view(n)),
            meta.and_then(|m| m.str_at(&["namespace"]))
                .filter(known)
                .map(|n| text.view(n)),
        ));
    }
}

fn file_facts(file_id: FileId, file: &SourceFile) -> FileFacts {
    // Each document's apiVersion and kind, read once for every question below.
    let docs: Vec<talos::Doc> = file
        .yaml
        .documents()
        .map(|doc| {
            let [api_version, kind] = doc.get_all(["apiVersion", "kind"]);
            talos::Doc {
                node: doc,
                api_version: api_version.and_then(|n| n.as_str()),
                kind: kind.and_then(|n| n.as_str()),
            }
        })
        .collect();
    let mut facts = FileFacts {
        talos: talos::classify_docs(file_id, file, &docs),
        ..Default::default()
    };
    let dir = kustomize::parent_dir(&file.path);
    let file_name = kustomize::file_name(&file.path);
    for &talos::Doc {
        node: doc,
        api_version,
        kind,
    } in &docs
    {
        live::sync_of(doc, kind, &mut facts.sync);
        facts.webhook |= vars::installs_webhook(doc, kind);
        if kustomize::is_kustomize_config(file_name, doc, api_version) {
            if !kustomize::FILE_NAMES.contains(&file_name) || facts.kustomize.is_some() {
                continue;
            }
            facts.kustomize = Some(Kustomize {
                file: file_id,
                root: doc.id(),
                dir: dir.to_string(),
                component: kind == Some("Component"),
                namespace: doc.str_at(&["namespace"]).map(str::to_string),
                resources: kustomize::path_entries(doc.get("resources"), dir)
                    .into_iter()
                    .chain(kustomize::path_entries(doc.get("bases"), dir))
                    .collect(),
                components: kustomize::path_entries(doc.get("components"), dir),
            });
            continue;
        }
        if talos::is_talos_kind(api_version, kind) {
            continue;
        }
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            continue;
        };
        let [name, namespace] = doc
            .get("metadata")
            .map_or([None, None], |m| m.get_all(["name", "namespace"]));
        let text = &file.yaml.text;
        let view =
            |n: Option<crate::yaml::NodeRef>| n.and_then(|n| n.as_str()).map(|s| text.view(s));
        facts.objects.push(Object::new(
            file_id,
            doc.id(),
            text.view(api_version),
            text.view(kind),
            view(name),
            view(namespace),
        ));
        if kind == "ResourceSet" && api_version.starts_with("fluxcd.controlplane.io/") {
            embedded(file_id, text, doc, &mut facts.objects);
        }
    }
    facts
}

fn classify(repo: &mut Classified) {
    let facts: Vec<FileFacts> = repo
        .files
        .par_iter()
        .enumerate()
        .map(|(id, file)| file_facts(id, file))
        .collect();
    // The indexes of paths (files, directories) are built beside the rest,
    // which is sequential too.
    let Classified {
        files,
        file_by_path,
        object_start,
        objects,
        dirs,
        talos,
        kustomize_by_dir,
        kustomizations,
        by_kind,
        sync,
        webhook_named,
        ..
    } = repo;
    let files: &[SourceFile] = files;
    let ((), ()) = rayon::join(
        || {
            *file_by_path = super::index::PathMap::with_capacity(files.len());
            for (file_id, file) in files.iter().enumerate() {
                file_by_path.insert(files, file_id, file.path.len(), file_id);
            }
            for (file_id, file) in files.iter().enumerate() {
                let mut d = kustomize::parent_dir(&file.path);
                while !dirs.contains(files, d) {
                    dirs.insert(files, file_id, d.len(), 0);
                    if d.is_empty() {
                        break;
                    }
                    d = kustomize::parent_dir(d);
                }
            }
        },
        || {
            object_start.reserve(files.len() + 1);
            objects.reserve(facts.iter().map(|f| f.objects.len()).sum::<usize>());
            for (file, facts) in files.iter().zip(facts) {
                object_start.push(objects.len());
                let dir = kustomize::parent_dir(&file.path);
                talos.extend(facts.talos);
                sync.paths.extend(facts.sync.paths);
                if sync.url.is_none() {
                    sync.url = facts.sync.url;
                }
                *webhook_named |= facts.webhook;
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
                            by_kind.insert(object.kind.to_string(), vec![id]);
                        }
                    }
                    objects.push(object);
                }
            }
        },
    );
}

/// The Flux Kustomizations, read as written (`effective` false: the first
/// pass of the builds), or as the builds that apply them patch them, with
/// every variable the model resolves.
fn flux_kustomizations(repo: &Repository, effective: bool) -> Vec<FluxKustomization> {
    let ids: Vec<ObjectId> = repo
        .of_kind("Kustomization")
        .filter(|(_, o)| o.group() == "kustomize.toolkit.fluxcd.io")
        .map(|(id, _)| id)
        .collect();
    let read = |f: FluxId, path: &[&str]| -> Option<crate::yaml::NodeRef> {
        let written = || repo.object_node(ids[f]).path(path);
        if !effective {
            return written();
        }
        match repo.flux_field(f, path) {
            Field::Own(n) | Field::Patched(Some(n)) => Some(n),
            Field::Absent => None,
            Field::Patched(None) | Field::Unknown => written(),
        }
    };
    let uses: Vec<SourceUse> = (0..ids.len())
        .into_par_iter()
        .map(|f| {
            let path = read(f, &["spec", "path"]).and_then(|p| p.as_str());
            SourceUse::read(read(f, &["spec", "sourceRef"]), path)
        })
        .collect();
    let roots = sources::roots(repo, &uses);
    ids.par_iter()
        .enumerate()
        .map(|(f, &id)| {
            let source_root = roots[f].clone();
            let raw_path = read(f, &["spec", "path"]).and_then(|p| p.as_str());
            // No path is the root of the source; a path with variables is resolved later.
            let path = match (&source_root, raw_path) {
                (None, _) => None,
                (Some(root), None) => Some(root.clone()),
                (Some(_), Some(p)) if subst::has_vars(p) => None,
                (Some(root), Some(p)) => kustomize::join(root, p),
            };
            let vars = if effective {
                repo.flux[f].vars.clone()
            } else {
                VarSet::literal(repo.object_node(id).get("spec"))
            };
            let components = match &path {
                Some(p) => kustomize::path_entries(read(f, &["spec", "components"]), p),
                None => Vec::new(),
            };
            FluxKustomization {
                object: id,
                local_source: source_root.is_some(),
                source_root,
                path,
                target_namespace: read(f, &["spec", "targetNamespace"])
                    .and_then(|n| n.as_str())
                    .map(str::to_string),
                vars,
                components,
                cluster: 0,
                parent: None,
                applied: true,
                writes_patches: read(f, &["spec", "patches"]).is_some(),
                post_build: read(f, &["spec", "postBuild"]).is_some(),
            }
        })
        .collect()
}

/// Follows each Flux Kustomization up through the ones that build it.
/// Outermost Flux Kustomizations defined in one directory (`cluster-meta`
/// and `cluster-apps` side by side) are one cluster.
fn clusters(repo: &Repository, flux: &mut [FluxKustomization]) {
    for f in 0..flux.len() {
        let mut top = f;
        for _ in 0..64 {
            match flux[top].parent {
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

/// How many builds are made apart at a time (see `Builds::run`): enough to
/// keep every thread busy, few enough that their instances, held until they
/// are taken, stay a small part of all of them.
const APART: usize = 256;

/// Walks kustomize trees the way `kustomize build` (and Flux) would.
struct Builds<'r> {
    repo: &'r Repository,
    sink: std::cell::RefCell<Sink>,
}

/// What builds note besides their instances. Each part is a set in effect
/// (read once every build is done), so builds made apart, each with a sink of
/// its own, add up to the same whatever the order their sinks are joined in.
#[derive(Default)]
struct Sink {
    /// Kustomizations some build entered as a directory: not built again as
    /// roots.
    reached: Vec<KustomizeId>,
    /// Flux Kustomizations whose variables a name, namespace or path read.
    used: Vec<FluxId>,
    /// Each kustomization some build reaches, with the build.
    reach: Vec<(KustomizeId, Reach)>,
}

impl Sink {
    fn join(&mut self, other: Sink) {
        self.reached.extend(other.reached);
        self.used.extend(other.used);
        self.reach.extend(other.reach);
    }
}

/// A build that reaches a kustomization: the Flux Kustomization that applies
/// it, or the kustomization built as a root.
pub(super) type Reach = (Option<FluxId>, Option<KustomizeId>);

#[derive(Clone, Copy)]
struct Ctx<'a> {
    flux: Option<FluxId>,
    vars: Option<&'a VarSet>,
    component: Option<(KustomizeId, Includer)>,
    /// The index of the component's `resources` entry being built.
    component_entry: u32,
    /// The kustomization (or component) whose `resources` entry is being built.
    lister: Option<KustomizeId>,
    root: Option<KustomizeId>,
}

impl Ctx<'_> {
    /// The context of a kustomization built as a root.
    fn root(kid: KustomizeId) -> Self {
        Ctx {
            flux: None,
            vars: None,
            component: None,
            component_entry: 0,
            lister: None,
            root: Some(kid),
        }
    }
}

impl<'r> Builds<'r> {
    fn new(repo: &'r Repository) -> Self {
        Builds {
            repo,
            sink: Default::default(),
        }
    }

    fn reached_kustomization(&self, k: KustomizeId, ctx: Ctx) {
        let reach = &mut self.sink.borrow_mut().reach;
        let by = (k, (ctx.flux, ctx.root));
        // A build enters a kustomization's entries one after the other: a
        // repeat is mostly the last one.
        if reach.last() != Some(&by) {
            reach.push(by);
        }
    }

    /// A build made apart, with a sink of its own (see `run`).
    fn apart(
        repo: &Repository,
        build: impl FnOnce(&Builds, &mut Vec<Instance>),
    ) -> (Vec<Instance>, Sink) {
        let apart = Builds::new(repo);
        let mut out = Vec::new();
        build(&apart, &mut out);
        let mut sink = apart.sink.into_inner();
        sink.reach.sort_unstable();
        sink.reach.dedup();
        (out, sink)
    }

    /// Which of `n` Flux Kustomizations had their variables read.
    fn used(&self, n: usize) -> Vec<bool> {
        let mut used = vec![false; n];
        for &f in &self.sink.borrow().used {
            used[f] = true;
        }
        used
    }

    /// The builds that reach each kustomization, each once, in order.
    fn into_reach(self) -> Vec<Vec<Reach>> {
        let mut reach = vec![Vec::new(); self.repo.kustomizations.len()];
        for (k, by) in self.sink.into_inner().reach {
            reach[k].push(by);
        }
        for r in &mut reach {
            r.sort_unstable();
            r.dedup();
        }
        reach
    }

    /// `render`, for a value read from a file: the value itself (not a
    /// copy) when it has nothing to substitute.
    fn render_text(&self, text: &Text, ctx: Ctx) -> Option<Text> {
        if plain(text) {
            return Some(text.clone());
        }
        self.render(text, ctx).map(Text::from)
    }

    /// A name, namespace or path rendered with a build's variables.
    fn render(&self, text: &str, ctx: Ctx) -> Option<String> {
        if plain(text) {
            return Some(text.to_string());
        }
        if let Some(f) = ctx.flux {
            let used = &mut self.sink.borrow_mut().used;
            if used.last() != Some(&f) {
                used.push(f);
            }
        }
        match ctx.vars {
            Some(vars) => vars.render(text),
            None => subst::substitute(text, &Default::default()),
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
        // A build depends on nothing another build notes: in the first pass,
        // those of the Flux Kustomizations whose path is known already are
        // made in parallel, a slice at a time, each with a sink of its own,
        // and taken in the order the builds are made one by one.
        // Flux Kustomizations with literal paths first; then those whose path
        // holds variables that the Kustomization building them defines.
        let repo = self.repo;
        let mut done = vec![false; flux.len()];
        let mut first = true;
        loop {
            let mut progress = false;
            for start in (0..flux.len()).step_by(APART) {
                let end = flux.len().min(start + APART);
                let mut ready: Vec<Option<(Vec<Instance>, Sink)>> = if first {
                    flux[start..end]
                        .par_iter()
                        .enumerate()
                        .map(|(i, fk)| {
                            (fk.local_source && fk.path.is_some()).then(|| {
                                Builds::apart(repo, |b, out| b.build_flux(start + i, fk, out))
                            })
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                for f in start..end {
                    // Another repository's paths mean nothing here: never built.
                    if done[f] || !flux[f].local_source {
                        continue;
                    }
                    if flux[f].path.is_none() {
                        let Some(p) = self.resolve_flux_path(f, flux, &out) else {
                            continue;
                        };
                        flux[f].path = Some(p.clone());
                        let spec = self.repo.object_node(flux[f].object).get("spec");
                        flux[f].components =
                            kustomize::path_entries(spec.and_then(|s| s.get("components")), &p);
                    }
                    done[f] = true;
                    progress = true;
                    match ready.get_mut(f - start).and_then(Option::take) {
                        Some((built, sink)) => {
                            out.extend(built);
                            self.sink.borrow_mut().join(sink);
                        }
                        None => self.build_flux(f, &flux[f], &mut out),
                    }
                }
            }
            first = false;
            if !progress {
                break;
            }
        }
        let flux_paths: HashSet<&str> = flux.iter().filter_map(|f| f.path.as_deref()).collect();
        // Kustomizations nothing lists and no Flux Kustomization reaches are
        // built as roots, unless a root built before reaches them. As above,
        // their builds are made in parallel and taken in order.
        let mut reached = vec![false; self.repo.kustomizations.len()];
        for &k in &self.sink.borrow().reached {
            reached[k] = true;
        }
        let roots: Vec<KustomizeId> = (0..self.repo.kustomizations.len())
            .filter(|&kid| {
                let k = &self.repo.kustomizations[kid];
                !(k.component
                    || referenced.contains(k.dir.as_str())
                    || flux_paths.contains(k.dir.as_str())
                    || reached[kid])
            })
            .collect();
        for slice in roots.chunks(APART) {
            let built: Vec<Option<(Vec<Instance>, Sink)>> = slice
                .par_iter()
                .map(|&kid| {
                    (!reached[kid]).then(|| {
                        let dir = &self.repo.kustomizations[kid].dir;
                        Builds::apart(repo, |b, out| {
                            b.build_dir(dir, None, Ctx::root(kid), out, &mut Vec::new())
                        })
                    })
                })
                .collect();
            for (&kid, built) in slice.iter().zip(built) {
                if let Some((built, sink)) = built
                    && !reached[kid]
                {
                    for &k in &sink.reached {
                        reached[k] = true;
                    }
                    out.extend(built);
                    self.sink.borrow_mut().join(sink);
                }
            }
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
                    component_entry: 0,
                    listed_by: None,
                    ns_given: false,
                    root: None,
                });
            }
        }
        dedup(out)
    }

    fn resolve_flux_path(
        &self,
        f: FluxId,
        flux: &[FluxKustomization],
        out: &[Instance],
    ) -> Option<String> {
        let object = flux[f].object;
        let root = flux[f].source_root.as_deref()?;
        let raw = self.repo.object_node(object).str_at(&["spec", "path"])?;
        out.iter()
            .filter(|i| i.object == object)
            .find_map(|i| {
                let p = i.flux?;
                let ctx = Ctx {
                    flux: Some(p),
                    vars: Some(&flux[p].vars),
                    component: None,
                    component_entry: 0,
                    lister: None,
                    root: None,
                };
                self.render(raw, ctx)
            })
            .and_then(|p| kustomize::join(root, &p))
    }

    fn build_flux(&self, f: FluxId, fk: &FluxKustomization, out: &mut Vec<Instance>) {
        let Some(path) = &fk.path else { return };
        let ctx = Ctx {
            flux: Some(f),
            vars: Some(&fk.vars),
            component: None,
            component_entry: 0,
            lister: None,
            root: None,
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
        self.reached_kustomization(cid, ctx);
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
        for (i, r) in comp.resources.iter().enumerate() {
            let ctx = Ctx {
                component_entry: i as u32,
                lister: Some(cid),
                ..ctx
            };
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
            let ctx = Ctx {
                lister: None,
                ..ctx
            };
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
        if let Some(&kid) = self.repo.kustomize_by_dir.get(dir) {
            self.sink.borrow_mut().reached.push(kid);
            let k = &self.repo.kustomizations[kid];
            self.reached_kustomization(kid, ctx);
            if !k.component {
                let ns = ns.or(k.namespace.as_deref());
                let listed = Ctx {
                    lister: Some(kid),
                    ..ctx
                };
                for r in &k.resources {
                    self.build_entry(r, ns, listed, out, stack);
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
        for id in self.repo.objects_in(file) {
            let o = &self.repo.objects[id];
            let namespace = if self.repo.cluster_scoped(o) {
                None
            } else if let Some(ns) = ns {
                self.render(ns, ctx).map(Text::from)
            } else {
                o.namespace.as_ref().and_then(|n| self.render_text(n, ctx))
            };
            // kustomize's namespace transformer renames Namespace objects too.
            let name = match (o.kind.as_str(), ns) {
                ("Namespace", Some(ns)) if o.group().is_empty() => {
                    self.render(ns, ctx).map(Text::from)
                }
                _ => o.name.as_ref().and_then(|n| self.render_text(n, ctx)),
            };
            out.push(Instance {
                object: id,
                namespace,
                name,
                flux: ctx.flux,
                component: ctx.component,
                component_entry: ctx.component_entry,
                listed_by: ctx.lister,
                ns_given: ns.is_some(),
                root: ctx.root,
            });
        }
    }
}

/// Whether a name or namespace renders as written: no variable and no `$$`
/// (most hold no `$` at all, which one vectorised search settles).
fn plain(text: &str) -> bool {
    memchr::memchr(b'$', text.as_bytes()).is_none()
        || (!subst::has_vars(text) && !text.contains("$$"))
}

/// One instance per (object, Flux Kustomization, namespace, component source):
/// a tree reached twice by the same build is one object, not two.
fn dedup(mut out: Vec<Instance>) -> Vec<Instance> {
    // Most objects have one instance, which has no copy to compare with:
    // only the instances of objects with more are hashed.
    let objects = out.iter().map(|i| i.object + 1).max().unwrap_or(0);
    let mut count = vec![0u8; objects];
    for i in &out {
        count[i.object] = count[i.object].saturating_add(1);
    }
    let mut seen = HashSet::default();
    let keep: Vec<bool> = out
        .iter()
        .map(|i| {
            count[i.object] < 2
                || seen.insert((i.object, i.flux, i.namespace.as_deref(), i.component))
        })
        .collect();
    drop(seen);
    if !keep.iter().all(|&k| k) {
        let mut keep = keep.into_iter();
        out.retain(|_| keep.next().unwrap_or(true));
    }
    // Grown by doubling, and held to the end: the room left over given back
    // (in place, for a large allocation).
    out.shrink_to_fit();
    out
}

/// Groups whose objects the builds read beyond their identity: Flux
/// Kustomizations (path, substitutions, components) and sources (URL).
const READ_BY_BUILDS: [&str; 2] = ["kustomize.toolkit.fluxcd.io", "source.toolkit.fluxcd.io"];

/// Core kinds whose content the model reads as variables (`substituteFrom`).
const VARIABLE_SOURCES: [&str; 2] = ["ConfigMap", "Secret"];

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
    // A kustomization, or what Flux syncs and what writes variables: builds.
    let builds = |text: &str| text.contains("sync:") || text.contains(vars::WEBHOOK);
    if kustomize::FILE_NAMES.contains(&name) || builds(file.text()) || builds(repo.files[id].text())
    {
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
                    && !(new.group().is_empty() && VARIABLE_SOURCES.contains(&new.kind.as_str()))
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
