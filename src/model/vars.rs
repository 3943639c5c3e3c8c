//! The variables Flux substitutes into what a Flux Kustomization applies:
//! `postBuild.substitute` and the ConfigMaps and Secrets of
//! `postBuild.substituteFrom`, as written and as the `spec.patches` of the
//! Flux Kustomization that builds it rewrite them (api-facts: Flux §1.7).
//! A value is known, unknown (its source exists but cannot be read here: an
//! encrypted Secret, an ExternalSecret's target, a generator's file) or
//! undefined.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::flux::Write;
use super::subst::Lookup;
use super::{FluxId, Instance, ObjectId, Repository, join};
use crate::diagnostic::FileId;
use crate::yaml::{NodeRef, Span};

/// A variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Known(String),
    Unknown,
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarOrigin {
    /// The Flux Kustomization's own `postBuild.substitute`: where the key is written.
    Substitute { file: FileId, span: Span },
    /// A patch of the Flux Kustomization that builds it: `flux_patches(flux)[patch]`.
    Patch { flux: FluxId, patch: usize },
    /// A `substituteFrom` source: its kind and name, and where the key is
    /// written (a ConfigMap or Secret of the repository, a generator's literal).
    From {
        kind: &'static str,
        name: String,
        at: Option<(FileId, Span)>,
    },
}

/// One entry of `postBuild.substituteFrom` and what it names here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromRef {
    pub kind: String,
    /// `None`: the name holds a variable, or is missing.
    pub name: Option<String>,
    pub optional: bool,
    /// The sources found: the object when the repository holds it (`None`
    /// for a generator), and whether its keys can be read here. Shared by
    /// the references that find the same sources.
    pub found: Found,
}

/// Sources a `substituteFrom` entry finds (see `FromRef::found`).
pub type Found = Arc<[(Option<ObjectId>, bool)]>;

/// The variables of one Flux Kustomization.
#[derive(Debug, Clone, Default)]
pub struct VarSet {
    /// Flux substitutes at all: `postBuild` is there and defines a variable
    /// (or `substituteStrategy: Always`).
    pub active: bool,
    /// Some variables may come from a source whose keys cannot be read here:
    /// a name defined nowhere may still have a value.
    pub open: bool,
    /// `postBuild.substitute`, as written and as patches write it, with
    /// where each variable comes from; shared by the copies of the set.
    substitute: Arc<VarMap>,
    /// What the `substituteFrom` sources hold, shared by the Flux
    /// Kustomizations that read the same sources.
    pub from: Arc<FromSources>,
    /// The `substituteFrom` entries, as patches leave them.
    pub from_refs: Vec<FromRef>,
    /// The names of `postBuild.substitute` that Flux rejects.
    invalid: Vec<(String, FileId, Span)>,
}

/// Variables by name: a map held in a vector sorted by name (the maps are
/// small, and a vector holds no room to spare).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct VarMap(Vec<(String, Var)>);

impl VarMap {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    fn get(&self, name: &str) -> Option<&Var> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Var> {
        self.find(name).ok().map(|i| &mut self.0[i].1)
    }

    fn insert(&mut self, name: &str, var: Var) {
        match self.find(name) {
            Ok(i) => self.0[i].1 = var,
            Err(i) => self.0.insert(i, (name.to_string(), var)),
        }
    }

    fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
}

/// A variable: its value, and where it comes from when that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Var {
    value: Value,
    origin: Option<VarOrigin>,
}

/// The variables a list of `substituteFrom` sources gives.
#[derive(Debug, Default, PartialEq)]
pub struct FromSources {
    /// Each variable's value and where it comes from.
    values: BTreeMap<String, Var>,
    /// A source's keys cannot be read here.
    pub open: bool,
    /// Its keys that Flux rejects as variable names.
    invalid: Vec<(String, FileId, Span)>,
    /// The ConfigMaps and Secrets of the repository read.
    pub sources: Vec<ObjectId>,
}

impl VarSet {
    /// Variables as written in `postBuild.substitute` alone (the builds' first pass).
    pub(super) fn literal(spec: Option<NodeRef>) -> VarSet {
        let mut set = VarSet::default();
        // Origins are the second pass's (see `compute`).
        if let Some(m) = spec.and_then(|s| s.path(&["postBuild", "substitute"])) {
            let substitute = Arc::make_mut(&mut set.substitute);
            for (k, v) in m.entries() {
                if let Some(k) = k.as_str() {
                    let value = Value::Known(v.as_str().unwrap_or("").to_string());
                    let var = Var {
                        value,
                        origin: None,
                    };
                    substitute.insert(k, var);
                }
            }
            substitute.0.shrink_to_fit();
        }
        set.active = !set.substitute.0.is_empty();
        set
    }

    /// A variable's value (`substitute` wins over `substituteFrom`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.substitute
            .get(name)
            .or_else(|| self.from.values.get(name))
            .map(|v| &v.value)
    }

    pub fn lookup(&self, name: &str) -> Lookup<'_> {
        match self.get(name) {
            Some(Value::Known(v)) => Lookup::Known(v),
            Some(Value::Unknown) => Lookup::Unknown,
            None if self.open => Lookup::Unknown,
            None => Lookup::Undefined,
        }
    }

    /// Where a variable's value comes from (`substitute` wins over `substituteFrom`).
    pub fn origin(&self, name: &str) -> Option<&VarOrigin> {
        match self.substitute.get(name) {
            Some(v) => v.origin.as_ref(),
            None => self.from.values.get(name)?.origin.as_ref(),
        }
    }

    /// Every variable defined, once each, by name, with its value.
    pub fn effective(&self) -> impl Iterator<Item = (&str, &Value)> {
        let mut names: Vec<&str> = self.names().collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .filter_map(|n| self.get(n).map(|v| (n, v)))
    }

    pub fn defines(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every variable name defined (a name may come twice).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.substitute
            .keys()
            .chain(self.from.values.keys())
            .map(String::as_str)
    }

    /// The names Flux rejects (not `^[_[:alpha:]][_[:alpha:][:digit:]]*$`),
    /// with where each is written: its own `postBuild.substitute` or a key of
    /// a source it reads.
    pub fn invalid(&self) -> impl Iterator<Item = &(String, FileId, Span)> {
        self.invalid.iter().chain(&self.from.invalid)
    }

    /// The ConfigMaps and Secrets of the repository it reads.
    pub fn sources(&self) -> &[ObjectId] {
        &self.from.sources
    }

    /// The same variables with the same values.
    pub(super) fn same(&self, other: &VarSet) -> bool {
        self.open == other.open
            && (Arc::ptr_eq(&self.substitute, &other.substitute)
                || (self.substitute.0.len() == other.substitute.0.len()
                    && self
                        .substitute
                        .0
                        .iter()
                        .zip(&other.substitute.0)
                        .all(|((a, x), (b, y))| a == b && x.value == y.value)))
            && (Arc::ptr_eq(&self.from, &other.from) || self.from == other.from)
    }

    /// Whether both sets hold the one shared map of `postBuild.substitute`.
    #[cfg(test)]
    pub(super) fn shares_substitute(&self, other: &VarSet) -> bool {
        Arc::ptr_eq(&self.substitute, &other.substitute)
    }

    /// A string rendered with these variables (`None`: it holds a variable
    /// without a known value).
    pub fn render(&self, text: &str) -> Option<String> {
        super::subst::substitute_with(text, &|n| self.lookup(n))
    }
}

impl Repository {
    /// The variables Flux substitutes into an instance (`None`: no Flux
    /// Kustomization applies it).
    pub fn var_set(&self, instance: &Instance) -> Option<&VarSet> {
        instance.flux.map(|f| &self.flux[f].vars)
    }
}

/// ConfigMaps and Secrets a `substituteFrom` can name, by (kind, name).
struct Sources {
    all: Vec<Source>,
    /// The kind and name of each source.
    labels: Vec<(&'static str, String)>,
    by_name: HashMap<(&'static str, String), Named>,
}

/// The sources of one kind and name: their indices in `Sources::all`, and
/// what a reference that finds them all records (built once: in a
/// repository that holds many clusters, every reference to a common name
/// such as `cluster-settings` outside a cluster finds them all).
#[derive(Default)]
struct Named {
    ids: Vec<usize>,
    found: Found,
}

/// Where a source's keys are, read when a `substituteFrom` names the source
/// (most ConfigMaps, dashboards among them, are never named).
#[derive(Clone, Copy)]
enum Keys {
    /// They cannot be read here (a controller writes them, or a file does).
    Unknown,
    /// The entries of a ConfigMap's or Secret's fields: (field, whether its
    /// values can be read).
    Object(ObjectId, &'static [(&'static str, bool)]),
    /// A kustomize generator's `literals` (its node, in a kustomization's file).
    Literals(FileId, crate::yaml::NodeId),
}

#[derive(Clone)]
struct Source {
    /// The cluster it is applied in, when a Flux Kustomization applies it.
    cluster: Option<FluxId>,
    keys: Keys,
    /// The object, when the repository holds it.
    object: Option<ObjectId>,
}

impl Keys {
    fn readable(self) -> bool {
        !matches!(self, Keys::Unknown)
    }

    /// Each key, with its value and where it is written, in order.
    fn each(self, repo: &Repository, mut f: impl FnMut(&str, Value, FileId, Span)) {
        match self {
            Keys::Unknown => {}
            Keys::Object(id, fields) => {
                let node = repo.object_node(id);
                let file = repo.objects[id].file;
                for &(field, readable) in fields {
                    for (k, v) in node.get(field).into_iter().flat_map(|m| m.entries()) {
                        if let Some(key) = k.as_str() {
                            f(key, value_of(v, readable), file, k.span());
                        }
                    }
                }
            }
            Keys::Literals(file, generator) => {
                let g = repo.node(file, generator);
                for l in g.get("literals").into_iter().flat_map(|l| l.items()) {
                    if let Some(text) = l.as_str() {
                        let (key, value) = text.split_once('=').unwrap_or((text, ""));
                        f(key, Value::Known(value.to_string()), file, l.span());
                    }
                }
            }
        }
    }
}

/// What a reference that finds `ids` records of them.
fn found_of(all: &[Source], ids: &[usize]) -> Found {
    ids.iter()
        .map(|&s| (all[s].object, all[s].keys.readable()))
        .collect()
}

fn value_of(node: NodeRef, readable: bool) -> Value {
    match node.as_str() {
        Some(s) if readable && !s.starts_with("ENC[") => Value::Known(s.to_string()),
        _ => Value::Unknown,
    }
}

impl Sources {
    fn new(repo: &Repository) -> Self {
        let mut all: Vec<Source> = Vec::new();
        let mut labels: Vec<(&'static str, String)> = Vec::new();
        let mut by_name: HashMap<(&'static str, String), Named> = HashMap::default();
        let mut add = |key: (&'static str, String), source: Source| {
            labels.push(key.clone());
            by_name.entry(key).or_default().ids.push(all.len());
            all.push(source);
        };
        // `data` of a Secret is base64: its values are not read.
        for (kind, fields) in [
            ("ConfigMap", &[("data", true)][..]),
            ("Secret", &[("data", false), ("stringData", true)][..]),
        ] {
            for (id, obj) in repo.of_kind(kind) {
                if !obj.group().is_empty() {
                    continue;
                }
                let keys = Keys::Object(id, fields);
                for inst in repo.instances(id) {
                    let Some(name) = &inst.name else { continue };
                    add(
                        (kind, name.to_string()),
                        Source {
                            cluster: repo.cluster_of(inst),
                            keys,
                            object: Some(id),
                        },
                    );
                }
            }
        }
        // Secrets made by controllers: their keys are not all written here.
        for kind in [
            "ExternalSecret",
            "SealedSecret",
            "OnePasswordItem",
            "InfisicalSecret",
        ] {
            for (id, _) in repo.of_kind(kind) {
                let node = repo.object_node(id);
                let target = node.str_at(&["spec", "target", "name"]);
                for inst in repo.instances(id) {
                    let Some(name) = target
                        .map(str::to_string)
                        .or_else(|| inst.name.as_deref().map(str::to_string))
                    else {
                        continue;
                    };
                    add(
                        ("Secret", name),
                        Source {
                            cluster: repo.cluster_of(inst),
                            keys: Keys::Unknown,
                            object: Some(id),
                        },
                    );
                }
            }
        }
        // kustomize generators: `literals` are readable, files and env files are not.
        for k in &repo.kustomizations {
            let node = repo.node(k.file, k.root);
            for (field, kind) in [
                ("configMapGenerator", "ConfigMap"),
                ("secretGenerator", "Secret"),
            ] {
                let Some(list) = node.get(field) else {
                    continue;
                };
                for g in list.items() {
                    let Some(name) = g.str_at(&["name"]) else {
                        continue;
                    };
                    let readable = g.get("files").is_none()
                        && g.get("envs").is_none()
                        && g.get("env").is_none();
                    let keys = if readable {
                        Keys::Literals(k.file, g.id())
                    } else {
                        Keys::Unknown
                    };
                    add(
                        (kind, name.to_string()),
                        Source {
                            cluster: None,
                            keys,
                            object: None,
                        },
                    );
                }
            }
        }
        for named in by_name.values_mut() {
            named.found = found_of(&all, &named.ids);
        }
        Sources {
            all,
            labels,
            by_name,
        }
    }

    /// The sources a Flux Kustomization of `cluster` reads for a reference:
    /// those of its own cluster when there are, else all of that name.
    fn find(&self, kind: &str, name: &str, cluster: FluxId) -> (Vec<usize>, Found) {
        let kind = match kind {
            "ConfigMap" => "ConfigMap",
            "Secret" => "Secret",
            _ => return Default::default(),
        };
        let Some(named) = self.by_name.get(&(kind, name.to_string())) else {
            return Default::default();
        };
        let own: Vec<usize> = named
            .ids
            .iter()
            .copied()
            .filter(|&s| self.all[s].cluster.is_none_or(|c| c == cluster))
            .collect();
        if own.iter().any(|&s| self.all[s].cluster.is_some()) {
            let found = found_of(&self.all, &own);
            (own, found)
        } else {
            (named.ids.clone(), Arc::clone(&named.found))
        }
    }

    /// What a list of sources gives, in order (a later source wins).
    fn merge(&self, repo: &Repository, found: &[usize]) -> FromSources {
        let mut out = FromSources::default();
        for &i in found {
            let s = &self.all[i];
            out.sources.extend(s.object);
            if !s.keys.readable() {
                out.open = true;
                continue;
            }
            let (kind, name) = &self.labels[i];
            s.keys.each(repo, |k, value, file, span| {
                let origin = VarOrigin::From {
                    kind,
                    name: name.clone(),
                    at: Some((file, span)),
                };
                let var = Var {
                    value,
                    origin: Some(origin),
                };
                out.values.insert(k.to_string(), var);
                if !super::subst::valid_name(k) {
                    out.invalid.push((k.to_string(), file, span));
                }
            });
        }
        out
    }
}

/// The instance through which a Flux Kustomization is read: the one a
/// parent builds, when one does (its patches apply), else as written.
pub(super) fn flux_instance(repo: &Repository, f: FluxId) -> Option<&Instance> {
    let object = repo.flux[f].object;
    repo.instances(object)
        .find(|i| i.flux.is_some_and(|p| p != f))
        .or_else(|| repo.instances(object).next())
}

/// The name of the webhook that writes variables at admission.
pub(super) const WEBHOOK: &str = "kustomize-mutating-webhook";

/// Whether a document installs the mutating webhook that writes
/// `postBuild.substitute` into every Flux Kustomization at admission
/// (xunholy's kustomize-mutating-webhook, which adds the keys of a ConfigMap
/// and a Secret it is configured with; what a Kustomization defines is then
/// more than the repository shows): an OCIRepository of its chart, a
/// HelmRelease of it, or its Deployment (`kind`: the document's).
pub(super) fn installs_webhook(doc: NodeRef, kind: Option<&str>) -> bool {
    let path: &[&str] = match kind {
        Some("OCIRepository") => &["spec", "url"],
        Some("HelmRelease") => &["spec", "chart", "spec", "chart"],
        Some("Deployment") => &["metadata", "name"],
        _ => return false,
    };
    doc.str_at(path).is_some_and(|v| v.contains(WEBHOOK))
}

/// The variables of every Flux Kustomization.
pub(super) fn compute(repo: &Repository) -> Vec<VarSet> {
    use rayon::prelude::*;
    let (sources, (touching, webhook)) = rayon::join(
        || Sources::new(repo),
        || (touching_post_build(repo), repo.webhook_named),
    );
    // Flux Kustomizations that read the same sources share what they give.
    let mut cache: HashMap<Vec<usize>, Arc<FromSources>> = HashMap::default();
    // Children a parent's patches give the same variables share them: the
    // last few maps of each parent are compared with the next child's.
    let mut by_parent: HashMap<Option<FluxId>, Vec<Arc<VarMap>>> = HashMap::default();
    let mut out = Vec::with_capacity(repo.flux.len());
    // Read in parallel a slice at a time, and shared in order: the copies
    // that sharing drops are never all held at once.
    for start in (0..repo.flux.len()).step_by(READ_AT_ONCE) {
        let end = repo.flux.len().min(start + READ_AT_ONCE);
        let read: Vec<(VarSet, Vec<usize>)> = (start..end)
            .into_par_iter()
            .map(|f| {
                let (mut set, found) = one(repo, &sources, f);
                let file_dir =
                    super::parent_dir(&repo.files[repo.objects[repo.flux[f].object].file].path);
                if webhook || touching.iter().any(|d| super::under(file_dir, d)) {
                    set.open = true;
                }
                (set, found)
            })
            .collect();
        for (f, (mut set, found)) in (start..end).zip(read) {
            if !set.substitute.0.is_empty() {
                let seen = by_parent.entry(repo.flux[f].parent).or_default();
                match seen.iter().find(|m| **m == set.substitute) {
                    Some(m) => set.substitute = Arc::clone(m),
                    None => {
                        if seen.len() == SHARED_PER_PARENT {
                            seen.remove(0);
                        }
                        seen.push(Arc::clone(&set.substitute));
                    }
                }
            }
            if !found.is_empty() {
                set.from = Arc::clone(
                    cache
                        .entry(found)
                        .or_insert_with_key(|found| Arc::new(sources.merge(repo, found))),
                );
                set.open |= set.from.open;
                set.active |= !set.from.values.is_empty();
            }
            out.push(set);
        }
    }
    out
}

/// How many Flux Kustomizations `compute` reads before it shares what they
/// read.
const READ_AT_ONCE: usize = 512;

/// How many maps of variables of a parent's children are kept to share.
const SHARED_PER_PARENT: usize = 4;

/// The variables of Flux Kustomization `f` but those of its sources, and the
/// sources it reads (indices in `sources`).
fn one(repo: &Repository, sources: &Sources, f: FluxId) -> (VarSet, Vec<usize>) {
    let mut set = VarSet::default();
    // Nothing to read: no `postBuild` of its own, and no patch from a parent.
    if !repo.flux[f].post_build
        && repo.flux[f]
            .parent
            .is_none_or(|p| repo.flux_patches(p).is_empty())
    {
        return (set, Vec::new());
    }
    let Some(inst) = flux_instance(repo, f) else {
        return (set, Vec::new());
    };
    let obj = &repo.objects[repo.flux[f].object];
    let present = repo.field(inst, &["spec", "postBuild"]).may_be_present();
    if !present {
        return (set, Vec::new());
    }
    let always = matches!(
        repo.field(inst, &["spec", "postBuild", "substituteStrategy"]),
        super::Field::Own(n) | super::Field::Patched(Some(n)) if n.as_str() == Some("Always")
    );
    // The first write is the object's own map, when it has one.
    let mut own = repo
        .object_node(repo.flux[f].object)
        .path(&["spec", "postBuild", "substitute"])
        .is_some();
    for (w, sure, patch) in repo.writes_by(inst, &["spec", "postBuild", "substitute"]) {
        set.open |= !sure;
        let by_patch = |patch: usize| VarOrigin::Patch {
            flux: inst.flux.unwrap_or(f),
            patch,
        };
        let substitute = Arc::make_mut(&mut set.substitute);
        match w {
            Write::Node(m) => {
                for (k, v) in m.entries() {
                    let Some(key) = k.as_str() else { continue };
                    let origin = match patch {
                        Some(p) if !own => by_patch(p),
                        _ => VarOrigin::Substitute {
                            file: obj.file,
                            span: k.span(),
                        },
                    };
                    let var = Var {
                        value: value_of(v, true),
                        origin: Some(origin),
                    };
                    substitute.insert(key, var);
                    if own && !super::subst::valid_name(key) {
                        set.invalid.push((key.to_string(), obj.file, k.span()));
                    }
                }
            }
            Write::Key(k, v) => {
                let value = value_of(v, true);
                match patch {
                    Some(p) => {
                        let origin = Some(by_patch(p));
                        substitute.insert(k, Var { value, origin });
                    }
                    // A write without a patch keeps the origin the name had.
                    None => match substitute.get_mut(k) {
                        Some(var) => var.value = value,
                        None => {
                            let origin = None;
                            substitute.insert(k, Var { value, origin });
                        }
                    },
                }
            }
            Write::Remove => substitute.0.clear(),
            Write::Item(_) | Write::Unknown => set.open = true,
        }
        own = false;
    }
    // `substituteFrom`: a list, replaced as a whole by a patch, or appended to.
    let mut from: Vec<NodeRef> = Vec::new();
    for (w, sure) in repo.writes(inst, &["spec", "postBuild", "substituteFrom"]) {
        set.open |= !sure;
        match w {
            Write::Node(l) => from = l.items().collect(),
            Write::Item(i) => from.push(i),
            Write::Remove => from.clear(),
            Write::Key(..) | Write::Unknown => set.open = true,
        }
    }
    let cluster = repo.flux[f].cluster;
    let mut found: Vec<usize> = Vec::new();
    for item in from {
        let optional = item.path(&["optional"]).and_then(|n| n.as_bool()) == Some(true);
        let kind = item.str_at(&["kind"]).unwrap_or("");
        let mut entry = FromRef {
            kind: kind.to_string(),
            name: None,
            optional,
            found: Found::default(),
        };
        let name = item
            .str_at(&["name"])
            .filter(|n| !super::subst::has_vars(n));
        let Some(name) = name else {
            set.open = true;
            set.from_refs.push(entry);
            continue;
        };
        entry.name = Some(name.to_string());
        let (these, found_here) = sources.find(kind, name, cluster);
        if these.is_empty() {
            set.open |= !optional;
        }
        entry.found = found_here;
        set.from_refs.push(entry);
        found.extend(these);
    }
    Arc::make_mut(&mut set.substitute).0.shrink_to_fit();
    set.active = !set.substitute.0.is_empty() || always;
    (set, found)
}

/// Directories of kustomizations whose patches or replacements (their own
/// or their components') may write `postBuild` into the Flux Kustomizations
/// they build: what those get is not followed here.
fn touching_post_build(repo: &Repository) -> Vec<&str> {
    let touches = |k: &super::Kustomize| {
        let node = repo.node(k.file, k.root);
        [
            "patches",
            "patchesJson6902",
            "patchesStrategicMerge",
            "replacements",
        ]
        .iter()
        .filter_map(|key| node.get(key))
        .flat_map(|list| list.items())
        .any(|item| {
            let span = item.span();
            let text = &repo.files[k.file].text()[span.start as usize..span.end as usize];
            text.contains("postBuild")
                || item
                    .str_at(&["path"])
                    .or_else(|| item.as_str())
                    .and_then(|p| join(&k.dir, p))
                    .and_then(|p| repo.file_id(&p))
                    .is_some_and(|file| repo.files[file].text().contains("postBuild"))
        })
    };
    repo.kustomizations
        .iter()
        .filter(|k| {
            touches(k)
                || k.components.iter().any(|c| {
                    c.resolved
                        .as_deref()
                        .and_then(|d| repo.kustomize_in(d))
                        .is_some_and(touches)
                })
        })
        .map(|k| k.dir.as_str())
        .collect()
}
