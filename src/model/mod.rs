//! The repository model: built once, on one thread, after the parallel parse.
//! Rules read it and nothing else.

mod build;
mod cluster;
mod helm;
mod kustomize;
pub mod subst;
mod suggest;
mod talos;

use std::path::PathBuf;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::diagnostic::FileId;
use crate::source::SourceFile;
use crate::yaml::{NodeId, NodeRef, Span};

pub use build::is_cluster_scoped;
pub use cluster::{ClusterFacts, DualStack, family};
pub use helm::HelmRelease;
pub use kustomize::{FILE_NAMES, Includer, Kustomize, PathEntry, join, parent_dir};
pub use subst::Vars;
pub use suggest::closest;
pub use talos::{TalosConfig, TalosSource};

/// Settings the model takes from the configuration file.
#[derive(Debug, Default, Clone)]
pub struct ModelSettings {
    pub dual_stack: Option<bool>,
    /// `gateway/listener-ports`: the ports listeners may use (`ports:` in the config).
    pub listener_ports: Option<Vec<u16>>,
    pub schema: crate::schema::SchemaSettings,
}

pub type ObjectId = usize;
pub type KustomizeId = usize;
pub type FluxId = usize;

/// A Kubernetes-style document: it has `apiVersion` and `kind`.
#[derive(Debug)]
pub struct Object {
    pub file: FileId,
    pub root: NodeId,
    pub api_version: String,
    pub kind: String,
    pub name: Option<String>,
    /// `metadata.namespace` as written (the build may override it: see `Instance`).
    pub namespace: Option<String>,
    /// Length of the group at the start of `api_version` (rules ask for it often).
    group_len: usize,
}

impl Object {
    pub(crate) fn new(
        file: FileId,
        root: NodeId,
        api_version: String,
        kind: String,
        name: Option<String>,
        namespace: Option<String>,
    ) -> Self {
        let group_len = api_version.rfind('/').unwrap_or(0);
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
        &self.api_version[..self.group_len]
    }

    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.kind == kind && self.group() == group
    }
}

/// A Flux Kustomization (`kustomize.toolkit.fluxcd.io`).
#[derive(Debug)]
pub struct FluxKustomization {
    pub object: ObjectId,
    /// The source is this repository (not another Git repository or artifact).
    pub local_source: bool,
    /// `spec.path` as a directory relative to the root ("" is the root), when it is local.
    pub path: Option<String>,
    pub target_namespace: Option<String>,
    pub substitute: Vars,
    /// `spec.components`, resolved against `spec.path`, with their source spans.
    pub components: Vec<PathEntry>,
    /// The outermost Flux Kustomization above this one (itself when none
    /// builds it): one per cluster in a repository that holds several.
    pub cluster: FluxId,
}

/// One object as a build produces it: the namespace the build gives it, the
/// Flux Kustomization that applies it and the variables substituted into it.
#[derive(Debug, Clone)]
pub struct Instance {
    pub object: ObjectId,
    pub namespace: Option<String>,
    /// The name after substitution (`None` when it cannot be resolved).
    pub name: Option<String>,
    pub flux: Option<FluxId>,
    /// The component the object came from, and who included it.
    pub component: Option<(KustomizeId, Includer)>,
}

pub struct Repository {
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    pub objects: Vec<Object>,
    pub kustomizations: Vec<Kustomize>,
    pub flux: Vec<FluxKustomization>,
    pub instances: Vec<Instance>,
    pub helm_releases: Vec<HelmRelease>,
    pub talos: Vec<TalosConfig>,
    pub cluster: ClusterFacts,
    /// What the configuration says that rules read.
    pub settings: ModelSettings,
    /// Schema validation of every document (empty when no schema rule runs).
    pub schema: crate::schema::SchemaReport,
    by_kind: FxHashMap<String, Vec<ObjectId>>,
    /// The instances of object `o` are `instance_ids[instance_start[o]..instance_start[o + 1]]`.
    instance_start: Vec<usize>,
    instance_ids: Vec<usize>,
    kustomize_by_dir: FxHashMap<String, KustomizeId>,
    file_by_path: FxHashMap<String, FileId>,
    /// The objects of file `f` are `object_start[f]..object_start[f + 1]`.
    object_start: Vec<ObjectId>,
    /// Every directory that holds a file (relative, "" is the root).
    dirs: FxHashSet<String>,
    /// The files whose findings are wanted, by file id (`None`: all of them).
    focus: Option<Vec<bool>>,
}

impl Repository {
    pub fn new(root: PathBuf, files: Vec<SourceFile>, settings: &ModelSettings) -> Self {
        build::build(root, files, settings)
    }

    /// Puts a new version of one of the repository's files in place when that
    /// leaves every build as it was (the common edit: a value, a comment),
    /// and returns its id; otherwise gives the file back, the model untouched,
    /// and the model must be built again. Schema findings are the caller's.
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

    /// Whether the findings of `file` are wanted (see `set_focus`).
    pub fn wants(&self, file: FileId) -> bool {
        match &self.focus {
            None => true,
            Some(wanted) => wanted.get(file).copied().unwrap_or(false),
        }
    }

    pub fn node(&self, file: FileId, id: NodeId) -> NodeRef<'_> {
        self.files[file].yaml.node(id)
    }

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

    /// How the builds produce an object. An object no build reaches has one
    /// instance with the namespace written in it.
    pub fn instances(&self, object: ObjectId) -> impl Iterator<Item = &Instance> + '_ {
        self.instance_ids[self.instance_start[object]..self.instance_start[object + 1]]
            .iter()
            .map(|&i| &self.instances[i])
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
        self.file_by_path.get(path).copied()
    }

    /// The objects of a file, in document order.
    pub fn objects_in(&self, file: FileId) -> std::ops::Range<ObjectId> {
        match (self.object_start.get(file), self.object_start.get(file + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => 0..0,
        }
    }

    pub fn is_dir(&self, dir: &str) -> bool {
        self.dirs.contains(dir)
    }

    /// The cluster an instance is applied to (see `FluxKustomization::cluster`);
    /// `None` when no Flux Kustomization applies it.
    pub fn cluster_of(&self, instance: &Instance) -> Option<FluxId> {
        instance.flux.map(|f| self.flux[f].cluster)
    }

    /// The variables Flux substitutes into an instance.
    pub fn vars(&self, instance: &Instance) -> Option<&Vars> {
        instance.flux.map(|f| &self.flux[f].substitute)
    }

    /// A string value as the instance's build renders it: substituted, or
    /// `None` when it holds a variable that cannot be resolved.
    pub fn render(&self, instance: &Instance, text: &str) -> Option<String> {
        static EMPTY: Vars = Vars::new();
        subst::substitute(text, self.vars(instance).unwrap_or(&EMPTY))
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
