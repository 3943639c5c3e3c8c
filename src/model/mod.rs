//! The repository model: built once, on one thread, after the parallel parse.
//! Rules read it and nothing else.

pub mod app_template;
mod build;
mod cluster;
pub mod flux;
mod helm;
mod index;
mod kustomize;
mod live;
pub mod names;
mod paths;
mod provenance;
mod scope;
pub mod services;
mod sources;
pub mod storage;
pub mod subst;
mod suggest;
pub mod talos;
pub mod vars;
pub mod versions;

use std::path::PathBuf;

use rustc_hash::FxHashMap;

use crate::diagnostic::FileId;
use crate::shared::Text;
use crate::source::SourceFile;
use crate::yaml::{NodeId, NodeRef, Span};

pub use cluster::{ClusterFacts, DualStack, family};
pub use flux::{Field, FluxPatch, Write};
pub use helm::HelmRelease;
pub use kustomize::{FILE_NAMES, Includer, Kustomize, PathEntry, join, parent_dir};
pub use paths::{PathIndex, relative};
pub use provenance::{Dependency, Hop, NotDeployed};
pub use scope::is_cluster_scoped;
pub use subst::Vars;
pub use suggest::{closest, distance};
pub use talos::{TalhelperNode, TalhelperPatch, TalosConfig, TalosSource};
pub use vars::VarSet;

/// Settings the model takes from the configuration file.
#[derive(Debug, Default, Clone)]
pub struct ModelSettings {
    pub dual_stack: Option<bool>,
    /// `gateway/listener-ports`: the ports listeners may use (`ports:` in the config).
    pub listener_ports: Option<Vec<u16>>,
}

pub type ObjectId = usize;
pub type KustomizeId = usize;
pub type FluxId = usize;

/// A Kubernetes-style document: it has `apiVersion` and `kind`. Its
/// identity is read from the file's text (views of it, not copies).
#[derive(Debug)]
pub struct Object {
    pub file: FileId,
    pub root: NodeId,
    pub api_version: Text,
    pub kind: Text,
    pub name: Option<Text>,
    /// `metadata.namespace` as written (the build may override it: see `Instance`).
    pub namespace: Option<Text>,
    /// Length of the group at the start of `api_version` (rules ask for it often).
    group_len: u32,
}

impl Object {
    pub(crate) fn new(
        file: FileId,
        root: NodeId,
        api_version: Text,
        kind: Text,
        name: Option<Text>,
        namespace: Option<Text>,
    ) -> Self {
        let group_len = api_version.rfind('/').unwrap_or(0) as u32;
        Object {
            file,
            root,
            api_version,
            kind,
            name,
            namespace,
            group_len,
        }
    }

    pub fn group(&self) -> &str {
        &self.api_version[..self.group_len as usize]
    }

    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.kind == kind && self.group() == group
    }
}

/// A Flux Kustomization (`kustomize.toolkit.fluxcd.io`).
#[derive(Debug)]
pub struct FluxKustomization {
    pub object: ObjectId,
    /// The source's artifact lies in this repository (see `sources`).
    pub local_source: bool,
    /// Where in the repository the source's artifact root lies ("" is the
    /// root); `None` when it is not here.
    pub source_root: Option<String>,
    /// `spec.path` as a directory relative to the root ("" is the root), when it is local.
    pub path: Option<String>,
    pub target_namespace: Option<String>,
    /// The variables Flux substitutes (see `vars`).
    pub vars: VarSet,
    /// `spec.components`, resolved against `spec.path`, with their source spans.
    pub components: Vec<PathEntry>,
    /// The outermost Flux Kustomization above this one (itself when none
    /// builds it): one per cluster in a repository that holds several.
    pub cluster: FluxId,
    /// The Flux Kustomization whose build applies this one (`None`: nothing
    /// in the repository does).
    pub parent: Option<FluxId>,
    /// Whether it reaches a cluster (see `live`): applied by its parent, or
    /// a sync root.
    pub applied: bool,
    /// Its own spec has `patches` / `postBuild` (what a parent's patches
    /// write aside).
    writes_patches: bool,
    post_build: bool,
}

/// One object as a build produces it: the namespace the build gives it, the
/// Flux Kustomization that applies it and the variables substituted into it.
#[derive(Debug, Clone)]
pub struct Instance {
    pub object: ObjectId,
    pub namespace: Option<Text>,
    /// The name after substitution (`None` when it cannot be resolved).
    pub name: Option<Text>,
    pub flux: Option<FluxId>,
    /// The component the object came from, and who included it.
    pub component: Option<(KustomizeId, Includer)>,
    /// With `component`: the index of the component's `resources` entry
    /// that brought the object in.
    pub component_entry: u32,
    /// The kustomization (or component) whose `resources` entry names the
    /// object's file; `None` when a directory walk found it.
    pub listed_by: Option<KustomizeId>,
    /// The build gives it a namespace (a kustomization's `namespace:` or
    /// `targetNamespace`), whether or not its value can be rendered.
    pub ns_given: bool,
    /// The kustomization built as a root that reached it, when no Flux
    /// Kustomization applies it.
    pub root: Option<KustomizeId>,
}

/// What the files say by themselves: each file's objects, kustomize
/// configuration and Talos config, and the indexes over them (found by
/// `classify`). Schema validation reads only this, so it runs beside the
/// builds and what follows from them, on a handle of its own.
pub struct Classified {
    pub files: Vec<SourceFile>,
    pub objects: Vec<Object>,
    pub kustomizations: Vec<Kustomize>,
    pub talos: Vec<TalosConfig>,
    /// The repository installs the kustomize-mutating-webhook (see `vars`).
    webhook_named: bool,
    /// What the repository says Flux itself syncs (see `live`).
    pub sync: live::SyncRoots,
    by_kind: FxHashMap<String, Vec<ObjectId>>,
    kustomize_by_dir: FxHashMap<String, KustomizeId>,
    file_by_path: index::PathMap,
    /// The objects of file `f` are `object_start[f]..object_start[f + 1]`.
    object_start: Vec<ObjectId>,
    /// Every directory that holds a file (relative, "" is the root).
    dirs: index::PathMap,
}

pub struct Repository {
    pub root: PathBuf,
    /// Files, objects, kustomizations and their indexes, read through
    /// `Deref` (`repo.files`, `repo.objects`).
    classified: std::sync::Arc<Classified>,
    pub flux: Vec<FluxKustomization>,
    pub instances: Vec<Instance>,
    pub helm_releases: Vec<HelmRelease>,
    pub cluster: ClusterFacts,
    /// What the configuration says that rules read.
    pub settings: ModelSettings,
    /// Patches parsed from `patch: |` strings of Flux Kustomizations (see `flux`).
    patch_docs: Vec<crate::yaml::Yaml>,
    /// The `spec.patches` each Flux Kustomization applies, by `FluxId`.
    flux_patches: Vec<Vec<FluxPatch>>,
    /// The Flux Kustomization of an object that is one.
    flux_by_object: FxHashMap<ObjectId, FluxId>,
    /// Whether each object reaches a cluster (see `live`).
    deployed: Vec<bool>,
    /// The builds that reach each kustomization.
    kustomize_reach: Vec<Vec<build::Reach>>,
    /// Whether each kustomization reaches a cluster (see `live`).
    kustomize_deployed: Vec<bool>,
    /// Flux Kustomizations of this repository are applied: what they do not
    /// build is not deployed (see `live`).
    deploys_known: bool,
    /// The scope the repository's CRDs give their kinds, by kind and group (see `scope`).
    crd_scopes: FxHashMap<String, Vec<(String, bool)>>,
    /// The instances of object `o` are `instance_ids[instance_start[o]..instance_start[o + 1]]`.
    instance_start: Vec<usize>,
    instance_ids: Vec<usize>,
    /// The files whose findings are wanted, by file id (`None`: all of them).
    focus: Option<Vec<bool>>,
    /// The paths a missing path may have meant (see `paths`), built on first use.
    suggest: std::sync::OnceLock<paths::Suggest>,
}

impl Classified {
    #[inline]
    pub fn node(&self, file: FileId, id: NodeId) -> NodeRef<'_> {
        self.files[file].yaml.node(id)
    }

    #[inline]
    pub fn object_node(&self, id: ObjectId) -> NodeRef<'_> {
        let o = &self.objects[id];
        self.node(o.file, o.root)
    }

    /// Objects of a kind (any group), in path order.
    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = (ObjectId, &Object)> + '_ {
        self.by_kind
            .get(kind)
            .map_or(&[][..], |v| &v[..])
            .iter()
            .map(|&i| (i, &self.objects[i]))
    }

    pub fn kustomize_in(&self, dir: &str) -> Option<&Kustomize> {
        self.kustomize_by_dir
            .get(dir)
            .map(|&i| &self.kustomizations[i])
    }

    /// The index of the kustomization in `dir`.
    pub fn kustomize_id(&self, dir: &str) -> Option<KustomizeId> {
        self.kustomize_by_dir.get(dir).copied()
    }

    /// The file at a relative path.
    pub fn file_id(&self, path: &str) -> Option<FileId> {
        self.file_by_path.get(&self.files, path)
    }

    /// The objects of a file, in document order.
    pub fn objects_in(&self, file: FileId) -> std::ops::Range<ObjectId> {
        match (self.object_start.get(file), self.object_start.get(file + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => 0..0,
        }
    }

    pub fn is_dir(&self, dir: &str) -> bool {
        self.dirs.contains(&self.files, dir)
    }

    /// The span of the `kind:` value of an object, a fallback place to point at.
    pub fn kind_span(&self, id: ObjectId) -> Span {
        let node = self.object_node(id);
        node.get("kind").map_or(node.span(), |k| k.span())
    }

    pub fn documents(&self) -> usize {
        self.files.iter().map(|f| f.yaml.docs.len()).sum()
    }
}

impl std::ops::Deref for Repository {
    type Target = Classified;
    fn deref(&self) -> &Classified {
        &self.classified
    }
}

impl std::ops::DerefMut for Repository {
    fn deref_mut(&mut self) -> &mut Classified {
        // The only other handle is the one schema validation holds while the
        // model is built; it is dropped before the model is given out.
        std::sync::Arc::get_mut(&mut self.classified)
            .expect("the classified part of a built model has one owner")
    }
}

impl Repository {
    pub fn new(root: PathBuf, files: Vec<SourceFile>, settings: &ModelSettings) -> Self {
        build::build(root, files, settings, |_| ()).0
    }

    /// Builds the model and, in parallel with its builds and all that
    /// follows from them, `beside` over what the files say by themselves
    /// (`Classified`): schema validation, which needs nothing the builds
    /// compute.
    pub fn new_beside<T: Send>(
        root: PathBuf,
        files: Vec<SourceFile>,
        settings: &ModelSettings,
        beside: impl FnOnce(&Classified) -> T + Send,
    ) -> (Self, T) {
        build::build(root, files, settings, beside)
    }

    /// Puts a new version of one of the repository's files in place when that
    /// leaves every build as it was (the common edit: a value, a comment),
    /// and returns its id; otherwise gives the file back, the model untouched,
    /// and the model must be built again. Schema findings are the caller's
    /// to redo.
    pub fn update_file(&mut self, file: SourceFile) -> Result<FileId, Box<SourceFile>> {
        build::update_file(self, file)
    }

    /// Asks for the findings of these files only (`None`: of every file), as
    /// an editor does for its open files. Rules skip what only other files'
    /// findings need; a file's findings come out as a whole run gives them.
    pub fn set_focus(&mut self, files: Option<&[FileId]>) {
        self.focus = files.map(|ids| {
            let mut wanted = vec![false; self.files.len()];
            for &id in ids {
                if let Some(w) = wanted.get_mut(id) {
                    *w = true;
                }
            }
            wanted
        });
    }

    /// Whether the run asks for the findings of some files only (see `set_focus`).
    pub fn focused(&self) -> bool {
        self.focus.is_some()
    }

    /// Whether the findings of `file` are wanted (see `set_focus`).
    pub fn wants(&self, file: FileId) -> bool {
        match &self.focus {
            None => true,
            Some(wanted) => wanted.get(file).copied().unwrap_or(false),
        }
    }

    /// How the builds produce an object. An object no build reaches has one
    /// instance with the namespace written in it.
    pub fn instances(&self, object: ObjectId) -> impl Iterator<Item = &Instance> + '_ {
        self.instance_ids[self.instance_start[object]..self.instance_start[object + 1]]
            .iter()
            .map(|&i| &self.instances[i])
    }

    /// The cluster an instance is applied to (see `FluxKustomization::cluster`);
    /// `None` when no Flux Kustomization applies it, or when what applies it
    /// reaches no cluster (an archived tree is compared with every cluster).
    pub fn cluster_of(&self, instance: &Instance) -> Option<FluxId> {
        instance
            .flux
            .map(|f| self.flux[f].cluster)
            .filter(|&c| self.flux[c].applied)
    }

    /// A string value as the instance's build renders it: substituted, or
    /// `None` when it holds a variable without a known value (a default is
    /// not taken where the variable may come from a source not readable here).
    pub fn render(&self, instance: &Instance, text: &str) -> Option<String> {
        match self.var_set(instance) {
            Some(vars) => vars.render(text),
            None => subst::substitute(text, &Vars::new()),
        }
    }

    /// How the builds produce an object, leaving out builds from another
    /// repository's source (whose paths the model may still have walked here).
    pub fn local_instances(&self, object: ObjectId) -> impl Iterator<Item = &Instance> + '_ {
        self.instances(object)
            .filter(|i| i.flux.is_none_or(|f| self.flux[f].local_source))
    }

    /// A boolean as the instance's build renders it: `true`/`false` written,
    /// or a variable that renders to one.
    pub fn render_bool(&self, instance: &Instance, node: NodeRef) -> Option<bool> {
        node.as_bool()
            .or_else(|| match self.render(instance, node.as_str()?)?.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            })
    }

    /// The Flux Kustomization an object is, if it is one.
    pub fn flux_of(&self, object: ObjectId) -> Option<FluxId> {
        self.flux_by_object.get(&object).copied()
    }

    /// Whether an object reaches a cluster: a build of a sync root produces it.
    pub fn deployed(&self, object: ObjectId) -> bool {
        self.deployed.get(object).copied().unwrap_or(true)
    }

    /// Whether something in a file reaches a cluster: one of its objects, or
    /// for a kustomization file, its build. `None` when it cannot be told (a
    /// Talos config, a file that does not parse), unless the file lies in an
    /// archive or template folder of a repository Flux deploys.
    pub fn file_deployed(&self, file: FileId) -> Option<bool> {
        let objects = self.objects_in(file);
        if !objects.is_empty() {
            return Some(objects.into_iter().any(|o| self.deployed(o)));
        }
        let path = self.files.get(file)?.path.as_str();
        if let Some(k) = self.kustomize_id(parent_dir(path))
            && self.kustomizations[k].file == file
        {
            return self.kustomize_deployed.get(k).copied();
        }
        // Templates and archives of a repository that Flux deploys.
        (self.deploys_known && live::shelved(parent_dir(path))).then_some(false)
    }
}

/// Whether `path` lies in directory `dir` ("" is the root).
pub fn under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || (path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/')
}

/// Kinds whose brief deletion loses nothing: when a Flux Kustomization prunes
/// one that another still declares, the other's next reconcile puts it back
/// as it was. A volume, a namespace, a CRD or a release (deleting a
/// HelmRelease uninstalls the chart) is not among them.
pub fn recreated_whole(kind: &str) -> bool {
    const KINDS: &[&str] = &[
        "Bucket",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "GitRepository",
        "HelmRepository",
        "NetworkPolicy",
        "OCIRepository",
        "PodMonitor",
        "PrometheusRule",
        "Role",
        "RoleBinding",
        "ServiceMonitor",
    ];
    KINDS.binary_search(&kind).is_ok()
}

#[cfg(test)]
mod tests;
