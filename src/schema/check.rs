//! Validation of every document that has a schema, in parallel, with every
//! error mapped back to the key or value it is about.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use rayon::prelude::*;
use serde_json::Value;

use super::bundle::{Bundle, TALOS};
use super::instance::{Instance, Opaque, Placeholder, excusable, instance, instance_within};
use super::quick::Quick;
use super::{SchemaSettings, catalog, crd, dirs, flux, kubernetes, talos};
use crate::diagnostic::FileId;
use crate::model::{Classified, TalosSource, closest, join, subst};
use crate::yaml::{NodeId, NodeRef, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    UnknownField,
    InvalidValue,
    UnknownKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub file: FileId,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    /// A required field that is missing: the build that applies the object
    /// may still write it (see `Repository::field`).
    pub missing: Option<Missing>,
    /// A label value that is a boolean or a number, not a string.
    pub non_string_label: bool,
}

/// A missing required field, for the rule to ask the model about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The root of the document.
    pub document: NodeId,
    /// The keys down to the mapping that lacks the field (no list indices).
    pub parent: Option<Vec<String>>,
    pub field: String,
    /// What lacks it, as messages say: "`spec` of Kustomization".
    pub whole: String,
    /// The schema, as messages say: "the built-in Flux schema".
    pub origin: String,
}

/// What validation found, and the configured schema files it could not use.
#[derive(Debug, Default)]
pub struct SchemaReport {
    pub findings: Vec<Finding>,
    pub errors: Vec<String>,
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Fields other rules report with more to say.
const COVERED: &[(&str, &str, &str)] = &[("HelmRelease", "/spec", "retryInterval")];

/// Where a schema came from, as findings name it.
#[derive(Debug, Clone)]
enum Origin {
    Crd(String),
    File(String),
    /// The built-in CRDs catalog.
    Catalog {
        /// The schema's name there: `external-secrets.io/externalsecret_v1`.
        name: String,
        /// Patched the way flux-operator patches the CRD at install time.
        patched: bool,
        /// The kind's field list is also verified by a built-in bundle, so
        /// every unknown field is reported (see `is_snapshot`).
        vetted: bool,
        /// It compiles (see `catalog::compiles`).
        compiles: bool,
    },
    Kubernetes(&'static str),
    Flux,
    Talos,
    TalosFile(String),
}

impl Origin {
    fn describe(&self) -> String {
        match self {
            Origin::Crd(path) => format!("the CustomResourceDefinition in {path}"),
            Origin::File(path) => format!("the schema {path}"),
            Origin::Catalog { name, .. } => format!("the built-in CRDs catalog schema {name}"),
            Origin::Kubernetes(v) => format!("the built-in Kubernetes {v} schema"),
            Origin::Flux => "the built-in Flux schema".into(),
            Origin::Talos => "the built-in Talos schema".into(),
            Origin::TalosFile(path) => format!("the Talos schema {path}"),
        }
    }

    /// A snapshot of a CRD that the repository may install in a newer
    /// version (or from a fork) than the snapshot's.
    fn is_snapshot(&self) -> bool {
        matches!(self, Origin::Catalog { vetted: false, .. })
    }

    fn is_talos(&self) -> bool {
        matches!(self, Origin::Talos | Origin::TalosFile(_))
    }

    /// The schema is one of the built-in ones that compile (tests hold them
    /// to it), so its validator can wait until a document needs it.
    fn compiles(&self) -> bool {
        match self {
            Origin::Kubernetes(_) | Origin::Flux | Origin::Talos => true,
            Origin::Catalog { compiles, .. } => *compiles,
            Origin::Crd(_) | Origin::File(_) | Origin::TalosFile(_) => false,
        }
    }

    /// Kubernetes' own schemas check `metadata` themselves.
    fn checks_metadata(&self) -> bool {
        matches!(self, Origin::Kubernetes(_))
    }
}

struct Compiled {
    origin: Origin,
    schema: Arc<Schema>,
    /// Where the schema accepts any mapping (found when a document is
    /// converted).
    opaque: OnceLock<Opaque>,
}

impl Compiled {
    fn new(origin: Origin, schema: Arc<Schema>) -> Compiled {
        Compiled {
            origin,
            schema,
            opaque: OnceLock::new(),
        }
    }

    fn opaque(&self) -> &Opaque {
        self.opaque.get_or_init(|| Opaque::of(&self.schema.root))
    }
}

impl Origin {
    /// Built-in schemas never change while the process runs: their validators
    /// are compiled once (the language server validates at every edit).
    fn cache_key(&self, key: &str) -> Option<String> {
        match self {
            Origin::Kubernetes(v) => Some(format!("kubernetes {v} {key}")),
            Origin::Flux | Origin::Talos => Some(format!("builtin {key}")),
            Origin::Catalog { patched, .. } => Some(format!("catalog {patched} {key}")),
            _ => None,
        }
    }
}

/// A schema with its quick reader and its validator, which is compiled when
/// a document is not found valid by the quick reader.
struct Schema {
    root: Value,
    quick: Quick,
    validator: OnceLock<Option<Validator>>,
}

impl Schema {
    /// `None`: the schema does not compile.
    fn validator(&self) -> Option<&Validator> {
        self.validator.get_or_init(|| compile(&self.root)).as_ref()
    }
}

type Cache = Mutex<HashMap<String, Arc<Schema>>>;

/// The compiled built-in schemas kept for later runs (see `Origin::cache_key`).
static COMPILED: OnceLock<Cache> = OnceLock::new();

/// The validator for a schema, from the cache when it is built in; `root`
/// makes the schema only when it is not cached, and `keep` keeps what it
/// compiles in the cache. `Ok(None)`: it does not compile.
fn compiled(
    origin: &Origin,
    key: &str,
    root: impl FnOnce() -> Result<Value, String>,
    keep: bool,
) -> Result<Option<Arc<Schema>>, String> {
    let cache_key = origin.cache_key(key);
    if let Some(k) = &cache_key
        && let Some(hit) = COMPILED
            .get_or_init(Default::default)
            .lock()
            .ok()
            .and_then(|c| c.get(k).cloned())
    {
        return Ok(Some(hit));
    }
    let root = root()?;
    let schema = Arc::new(Schema {
        quick: Quick::compile(&root),
        root,
        validator: OnceLock::new(),
    });
    // Whether a schema compiles decides what is reported for its documents:
    // one not known to compile is compiled now.
    if !origin.compiles() && schema.validator().is_none() {
        return Ok(None);
    }
    if keep
        && let Some(k) = cache_key
        && let Ok(mut cache) = COMPILED.get_or_init(Default::default).lock()
    {
        cache.insert(k, Arc::clone(&schema));
    }
    Ok(Some(schema))
}

/// A schema found for a key: ready, or in the built-in catalog or a bundle,
/// read only when its validator is not cached yet, by the keys' parallel
/// loop (a catalog schema patched for flux-operator or not).
enum Root<'a> {
    Ready(Value),
    Catalog { patch: bool },
    Bundle(&'a Bundle),
}

/// A document (or part of one) to validate.
struct Target {
    file: FileId,
    node: NodeId,
    /// Its kind's names, one for every document of a kind.
    names: Arc<Names>,
    /// A patch: required fields may come from what it patches.
    partial: bool,
    /// Report `schema/unknown-kind` when no schema is known.
    report_unknown: bool,
}

/// What a target is validated as and called.
struct Names {
    /// `apiVersion kind`.
    key: Box<str>,
    /// What findings call it: `Deployment`, `LinkConfig`, `talhelper interface`.
    label: Box<str>,
}

impl Names {
    fn new(key: impl Into<Box<str>>, label: impl Into<Box<str>>) -> Arc<Names> {
        Arc::new(Names {
            key: key.into(),
            label: label.into(),
        })
    }
}

impl Target {
    fn key(&self) -> &str {
        &self.names.key
    }

    fn label(&self) -> &str {
        &self.names.label
    }
}

pub fn validate(repo: &Classified, settings: &SchemaSettings) -> SchemaReport {
    validate_files(repo, settings, None)
}

/// Validates the documents of `only` (all files when `None`).
pub fn validate_files(
    repo: &Classified,
    settings: &SchemaSettings,
    only: Option<&HashSet<FileId>>,
) -> SchemaReport {
    let mut report = SchemaReport::default();
    let targets = targets(repo, only);
    let needed: HashSet<&str> = targets.iter().map(|t| t.key()).collect();
    let crds = repository_crds(repo, &needed);
    let (k8s_version, k8s) = kubernetes(settings.kubernetes_version.as_deref());
    let flux_operator = installs_flux_operator(repo);

    let mut keys: Vec<&str> = needed.iter().copied().collect();
    keys.sort_unstable();
    let mut found = Vec::new();
    for key in keys {
        match find(settings, &crds, k8s_version, flux_operator, key) {
            Ok(Some((origin, root))) => found.push((key, origin, root)),
            Ok(None) => {}
            Err(e) => report.errors.push(e),
        }
    }
    // `metadata` against ObjectMeta, where a kind's schema does not check
    // it: compiled by the first key that needs it, in the parallel loop.
    let meta: OnceLock<Option<Compiled>> = OnceLock::new();
    let meta = || {
        meta.get_or_init(|| {
            let origin = Origin::Kubernetes(k8s_version);
            let root = || {
                k8s.root_for_def(OBJECT_META)
                    .ok_or_else(|| format!("no {OBJECT_META} schema"))
            };
            compiled(&origin, OBJECT_META, root, true)
                .ok()
                .flatten()
                .map(|schema| Compiled::new(origin, schema))
        })
        .as_ref()
    };

    // Kind by kind: a schema is decompressed, read and compiled, its
    // documents validated, and (in a one-shot run) its validator dropped
    // before the next, so that few compiled validators are alive at once.
    // Keys run in parallel, and so do the documents of each key. A schema
    // that does not compile (a pattern this regex engine rejects, say)
    // validates nothing rather than report on its own mistakes.
    let mut by_key: HashMap<&str, Vec<&Target>> = HashMap::new();
    for t in &targets {
        by_key.entry(t.key()).or_default().push(t);
    }
    let found_keys: HashSet<&str> = found.iter().map(|(key, ..)| *key).collect();
    let keep = !settings.one_shot;
    let frames = catalog::Frames::default();
    let per_key: Vec<(Vec<Finding>, Option<String>)> = found
        .into_par_iter()
        .map(|(key, origin, root)| {
            let load = || match root {
                Root::Ready(v) => Ok(v),
                Root::Bundle(bundle) => bundle
                    .root_for(key)
                    .ok_or_else(|| format!("no bundled schema for {key}")),
                Root::Catalog { patch } => {
                    let (api_version, kind) = key.split_once(' ').unwrap_or((key, ""));
                    let mut v = catalog::schema(api_version, kind, &frames)
                        .unwrap_or_else(|| Err(format!("no catalog schema for {key}")))?;
                    if patch {
                        patch_for_flux_operator(key, &mut v);
                    }
                    Ok(v)
                }
            };
            let of_key = by_key.get(key).map_or(&[][..], Vec::as_slice);
            let unknown = || {
                of_key
                    .iter()
                    .filter(|t| t.report_unknown)
                    .map(|t| unknown_kind(t, repo.node(t.file, t.node)))
                    .collect()
            };
            let schema = match compiled(&origin, key, load, keep) {
                Ok(Some(schema)) => schema,
                Ok(None) => return (unknown(), None),
                Err(e) => return (unknown(), Some(e)),
            };
            let c = Compiled::new(origin, schema);
            let meta = if c.origin.checks_metadata() {
                None
            } else {
                meta()
            };
            let findings = of_key
                .par_iter()
                .flat_map_iter(|t| {
                    let mut out = Vec::new();
                    validate_one(repo, t, &c, meta, &mut out);
                    out
                })
                .collect();
            (findings, None)
        })
        .collect();
    drop(frames);
    let mut findings: Vec<Finding> = Vec::new();
    for (f, error) in per_key {
        findings.extend(f);
        report.errors.extend(error);
    }
    // Documents of a kind no schema is found for.
    findings.extend(
        targets
            .iter()
            .filter(|t| t.report_unknown && !found_keys.contains(t.key()))
            .map(|t| unknown_kind(t, repo.node(t.file, t.node))),
    );
    findings.sort_by(|a, b| {
        (a.file, a.span.start, &a.message).cmp(&(b.file, b.span.start, &b.message))
    });
    findings.dedup_by(|a, b| a.file == b.file && a.span == b.span && a.message == b.message);
    report.findings = findings;
    report
}

/// One document against its kind's schema, then its `metadata` against
/// `ObjectMeta` where the kind's schema does not check it.
fn validate_one(
    repo: &Classified,
    t: &Target,
    c: &Compiled,
    meta: Option<&Compiled>,
    out: &mut Vec<Finding>,
) {
    let node = repo.node(t.file, t.node);
    // Most documents are valid, or invalid only where findings leave errors
    // out (a value Flux substitutes, say), and the quick reader says so
    // without converting them (such a document is one `instance` converts).
    // For the others, an instance without what the schema accepts anyway
    // tells whether it is valid, and only an invalid one is converted in
    // full for its errors.
    let verdict = c.schema.quick.verdict(node, t.partial, true);
    #[cfg(debug_assertions)]
    agrees(t, node, c, "", verdict);
    if !verdict.clean() {
        let Some((inst, emptied)) = instance_within(node, Some(c.opaque())) else {
            return;
        };
        if !emptied {
            check_one(t, node, &inst, c, out);
        } else if c
            .schema
            .validator()
            .is_some_and(|v| !v.is_valid(&inst.value))
        {
            drop(inst);
            if let Some(full) = instance(node) {
                check_one(t, node, &full, c, out);
            }
        }
    }
    if !c.origin.checks_metadata()
        && let (Some(meta), Some(m)) = (meta, node.get("metadata"))
    {
        let verdict = meta.schema.quick.verdict(m, t.partial, false);
        #[cfg(debug_assertions)]
        agrees(t, m, meta, "/metadata", verdict);
        if !verdict.clean()
            && let Some(mi) = instance(m)
        {
            check_prefixed(t, m, &mi, meta, "/metadata", out);
        }
    }
}

/// A debug build holds every quick verdict that is not unsure to what
/// validating in full finds.
#[cfg(debug_assertions)]
fn agrees(t: &Target, node: NodeRef, c: &Compiled, prefix: &str, verdict: super::quick::Verdict) {
    use super::quick::Verdict;
    if verdict == Verdict::Unsure {
        return;
    }
    let Some(validator) = c.schema.validator() else {
        return;
    };
    let inst = instance(node).expect("a document with a verdict converts");
    let place = node.span();
    match verdict {
        Verdict::Valid => assert!(validator.is_valid(&inst.value), "valid at {place:?}"),
        Verdict::Invalid => assert!(!validator.is_valid(&inst.value), "invalid at {place:?}"),
        Verdict::Clean => {
            let mut found = Vec::new();
            check_prefixed(t, node, &inst, c, prefix, &mut found);
            assert!(found.is_empty(), "clean at {place:?}: {found:?}");
        }
        Verdict::Unsure => {}
    }
}

/// Compiled `pattern`s, shared by every validator the process builds: many
/// schemas hold the same patterns (a CRD embedding a pod spec holds the
/// Kubernetes quantity pattern in every `resources`).
static PATTERNS: OnceLock<jsonschema::PatternCache> = OnceLock::new();

pub(super) fn compile(root: &Value) -> Option<Validator> {
    jsonschema::options()
        .should_validate_formats(false)
        .with_pattern_cache(PATTERNS.get_or_init(Default::default).clone())
        .build(root)
        .ok()
}

fn unknown_kind(t: &Target, node: NodeRef) -> Finding {
    let span = node.get("kind").map_or(node.span(), |k| k.span());
    let key = t.key();
    Finding {
        kind: FindingKind::UnknownKind,
        file: t.file,
        span,
        message: format!("no schema is known for `{key}`, so it is not validated"),
        missing: None,
        non_string_label: false,
        help: Some(
            "commit its CustomResourceDefinition, or name a schema directory in `.gitops-lint.yaml` (`schemas: [path]`)".into(),
        ),
    }
}

/// The schema for a key: the repository's CRDs, then the configured
/// directories, then the built-in CRDs catalog, then the built-in bundles.
fn find<'a>(
    settings: &'a SchemaSettings,
    crds: &BTreeMap<String, (String, Value)>,
    k8s_version: &'static str,
    flux_operator: bool,
    key: &str,
) -> Result<Option<(Origin, Root<'a>)>, String> {
    let patched = |mut root: Value| {
        if flux_operator {
            patch_for_flux_operator(key, &mut root);
        }
        Root::Ready(root)
    };
    if let Some((path, root)) = crds.get(key) {
        return Ok(Some((Origin::Crd(path.clone()), patched(root.clone()))));
    }
    if key.starts_with(TALOS) {
        // The official schema leaves out the deprecated legacy interface
        // type: the built-in one covers what it lacks.
        if let Some(t) = &settings.talos
            && t.bundle.has_root(key)
        {
            return Ok(Some((
                Origin::TalosFile(t.path.display().to_string()),
                Root::Bundle(&t.bundle),
            )));
        }
        return Ok(talos()
            .has_root(key)
            .then_some((Origin::Talos, Root::Bundle(talos()))));
    }
    let (api_version, kind) = key.split_once(' ').unwrap_or((key, ""));
    if let Some(path) = settings.dirs.find(api_version, kind) {
        let root = dirs::load(path)?;
        return Ok(Some((
            Origin::File(path.display().to_string()),
            patched(root),
        )));
    }
    if !settings.no_catalog && catalog::has(api_version, kind) {
        let origin = Origin::Catalog {
            name: catalog::name(api_version, kind),
            patched: flux_operator,
            vetted: flux().has(key),
            compiles: catalog::compiles(api_version, kind),
        };
        let root = Root::Catalog {
            patch: flux_operator,
        };
        return Ok(Some((origin, root)));
    }
    if flux().has_root(key) {
        return Ok(Some((Origin::Flux, Root::Bundle(flux()))));
    }
    let (_, k8s) = kubernetes(Some(k8s_version));
    Ok(k8s
        .has_root(key)
        .then_some((Origin::Kubernetes(k8s_version), Root::Bundle(k8s))))
}

/// The kinds flux-operator adds to the event sources of Flux's `Alert` and
/// the resources of its `Receiver` when it installs Flux.
const FLUX_OPERATOR_KINDS: &[&str] = &["FluxInstance", "ResourceSet", "ResourceSetInputProvider"];

/// Whether the repository installs flux-operator: it has its objects, or
/// installs its chart.
fn installs_flux_operator(repo: &Classified) -> bool {
    repo.objects
        .iter()
        .any(|o| o.group() == "fluxcd.controlplane.io")
        || repo.installed_version("flux-operator").is_some()
}

/// The `Alert` and `Receiver` schemas as flux-operator patches their CRDs:
/// the referent kinds also accept its own kinds.
fn patch_for_flux_operator(key: &str, root: &mut Value) {
    let (api_version, kind) = key.split_once(' ').unwrap_or((key, ""));
    if !api_version.starts_with("notification.toolkit.fluxcd.io/") {
        return;
    }
    let list = match kind {
        "Alert" => "eventSources",
        "Receiver" => "resources",
        _ => return,
    };
    let pointer = format!("/properties/spec/properties/{list}/items/properties/kind/enum");
    if let Some(Value::Array(options)) = root.pointer_mut(&pointer) {
        for k in FLUX_OPERATOR_KINDS {
            if !options.iter().any(|o| o == k) {
                options.push(Value::String(k.to_string()));
            }
        }
    }
}

/// Every CRD version's schema, by `apiVersion kind` (the first definition in
/// path order wins).
fn repository_crds(repo: &Classified, needed: &HashSet<&str>) -> BTreeMap<String, (String, Value)> {
    let mut out = BTreeMap::new();
    for (id, obj) in repo.of_kind("CustomResourceDefinition") {
        if obj.group() != "apiextensions.k8s.io" {
            continue;
        }
        let wanted = |key: &str| needed.contains(key) && !out.contains_key(key);
        for (key, root) in crd::schemas(repo.object_node(id), wanted) {
            out.entry(key)
                .or_insert_with(|| (repo.files[obj.file].path.to_string(), root));
        }
    }
    out
}

/// Files that kustomizations use as patches: their objects are partial.
fn patch_files(repo: &Classified) -> HashSet<String> {
    let mut out = HashSet::new();
    for k in &repo.kustomizations {
        let doc = repo.node(k.file, k.root);
        let mut add = |p: &str| {
            if !p.contains('\n')
                && let Some(path) = join(&k.dir, p)
            {
                out.insert(path);
            }
        };
        for p in doc.get("patches").into_iter().flat_map(|l| l.items()) {
            if let Some(path) = p.str_at(&["path"]) {
                add(path);
            }
        }
        for p in doc
            .get("patchesStrategicMerge")
            .into_iter()
            .flat_map(|l| l.items())
        {
            if let Some(path) = p.as_str() {
                add(path);
            }
        }
    }
    out
}

/// The documents to validate, of the files of `only` (all files when `None`).
fn targets(repo: &Classified, only: Option<&HashSet<FileId>>) -> Vec<Target> {
    let wanted = |file: FileId| only.is_none_or(|only| only.contains(&file));
    let mut patch = vec![false; repo.files.len()];
    for path in patch_files(repo) {
        if let Some(file) = repo.file_id(&path) {
            patch[file] = true;
        }
    }
    let mut out = Vec::with_capacity(repo.objects.len() + repo.talos.len());
    // A kind's key and label are made once, and shared by its documents.
    let mut kinds: rustc_hash::FxHashMap<(&str, &str), Arc<Names>> = Default::default();
    for obj in repo.objects.iter().filter(|o| wanted(o.file)) {
        let partial = patch[obj.file];
        let names = kinds
            .entry((&obj.api_version, &obj.kind))
            .or_insert_with(|| {
                Names::new(
                    format!("{} {}", obj.api_version, obj.kind),
                    obj.kind.as_str(),
                )
            })
            .clone();
        out.push(Target {
            file: obj.file,
            node: obj.root,
            names,
            partial,
            report_unknown: !partial,
        });
    }
    for t in repo.talos.iter().filter(|t| wanted(t.file)) {
        let yaml = &repo.files[t.file].yaml;
        if let Some(root) = t.root {
            match t.source {
                // A patch is told apart from other files with a `cluster:` key
                // (Helm values, talhelper secrets) by its keys.
                TalosSource::Patch if !is_talos_patch(yaml.node(root)) => {}
                TalosSource::MachineConfig | TalosSource::Patch => out.push(Target {
                    file: t.file,
                    node: root,
                    names: Names::new(format!("{TALOS} Config"), "the Talos machine config"),
                    partial: t.source == TalosSource::Patch,
                    report_unknown: false,
                }),
                TalosSource::Talconfig => {
                    let doc = yaml.node(root);
                    let groups = doc
                        .get("nodes")
                        .into_iter()
                        .flat_map(|n| n.items())
                        .chain(doc.get("controlPlane"))
                        .chain(doc.get("worker"));
                    for group in groups {
                        let label = match group.str_at(&["hostname"]) {
                            Some(h) => format!("a network interface of talhelper node `{h}`"),
                            None => "a talhelper network interface".into(),
                        };
                        for iface in group
                            .get("networkInterfaces")
                            .into_iter()
                            .flat_map(|l| l.items())
                        {
                            out.push(Target {
                                file: t.file,
                                node: iface.id(),
                                names: Names::new(format!("{TALOS} Device"), label.as_str()),
                                partial: false,
                                report_unknown: false,
                            });
                        }
                    }
                }
            }
        }
        for &doc in &t.documents {
            let kind = yaml.node(doc).str_at(&["kind"]).unwrap_or("").to_string();
            out.push(Target {
                file: t.file,
                node: doc,
                names: Names::new(format!("{TALOS} {kind}"), kind),
                partial: false,
                report_unknown: false,
            });
        }
    }
    out
}

fn is_talos_patch(doc: NodeRef) -> bool {
    const KEYS: &[&str] = &["version", "debug", "persist", "machine", "cluster"];
    doc.get("machine").is_some()
        || doc
            .entries()
            .all(|(k, _)| k.as_str().is_some_and(|k| KEYS.contains(&k) || k == "sops"))
}

fn check_one(t: &Target, node: NodeRef, inst: &Instance, c: &Compiled, out: &mut Vec<Finding>) {
    check_prefixed(t, node, inst, c, "", out)
}

/// Validates `inst` (the document at `node`, found at `prefix` in its object)
/// and maps each error to a finding.
fn check_prefixed(
    t: &Target,
    node: NodeRef,
    inst: &Instance,
    c: &Compiled,
    prefix: &str,
    out: &mut Vec<Finding>,
) {
    // Most documents are valid, and the yes/no check allocates no errors.
    let Some(validator) = c.schema.validator() else {
        return;
    };
    if validator.is_valid(&inst.value) {
        return;
    }
    for error in validator.iter_errors(&inst.value) {
        let pointer = error.instance_path().as_str().to_string();
        let Some(place) = locate(node, &pointer) else {
            continue;
        };
        let path = dotted(&format!("{prefix}{pointer}"));
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                for name in unexpected {
                    // SOPS keeps its metadata in a top-level `sops` key that
                    // Flux removes when it decrypts.
                    if subst::has_vars(name)
                        || (t.partial && name.starts_with('$'))
                        || (pointer.is_empty() && prefix.is_empty() && name == "sops")
                        || COVERED.iter().any(|(k, p, f)| {
                            *k == t.label() && *p == format!("{prefix}{pointer}") && f == name
                        })
                    {
                        continue;
                    }
                    let span = place.key_span(name).unwrap_or(place.span());
                    let allowed = allowed_fields(&c.schema.root, &error);
                    let suggestion = closest(name, allowed.iter().map(String::as_str));
                    // The catalog is a snapshot of each CRD: a field it does
                    // not know may be newer than it, or come from a fork the
                    // repository installs. Only a likely misspelling of a
                    // field it knows is reported.
                    if suggestion.is_none() && c.origin.is_snapshot() {
                        continue;
                    }
                    let field = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}.{name}")
                    };
                    let help = match suggestion {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if c.origin.is_talos() => "Talos refuses a machine config with keys it does not know (`unknown keys found during decoding`); check the spelling and where it is nested".into(),
                        None => "the API server drops fields its schema does not define (or server-side apply refuses the object at dry-run), so this one never takes effect; check the spelling and where it is nested".into(),
                    };
                    out.push(Finding {
                        kind: FindingKind::UnknownField,
                        file: t.file,
                        span,
                        message: format!(
                            "`{field}` is not a field of {} (by {})",
                            t.label(),
                            c.origin.describe()
                        ),
                        help: Some(help),
                        missing: None,
                        non_string_label: false,
                    });
                }
            }
            ValidationErrorKind::Required { property } => {
                if t.partial {
                    continue;
                }
                let property = property.as_str().unwrap_or("?");
                let span = key_of(node, &pointer)
                    .unwrap_or_else(|| node.get("kind").map_or(node.span(), |k| k.span()));
                let whole = if path.is_empty() {
                    t.label().to_string()
                } else {
                    format!("`{path}` of {}", t.label())
                };
                let parent: Option<Vec<String>> = pointer
                    .split('/')
                    .skip(1)
                    .map(|k| {
                        let k = k.replace("~1", "/").replace("~0", "~");
                        (k.parse::<usize>().is_err()).then_some(k)
                    })
                    .collect();
                out.push(Finding {
                    kind: FindingKind::InvalidValue,
                    file: t.file,
                    span,
                    message: format!(
                        "{whole} is missing the required field `{property}` (by {})",
                        c.origin.describe()
                    ),
                    help: None,
                    missing: prefix.is_empty().then(|| Missing {
                        document: t.node,
                        parent,
                        field: property.to_string(),
                        whole,
                        origin: c.origin.describe(),
                    }),
                    non_string_label: false,
                });
            }
            kind => {
                if excused(inst, &pointer, kind, error.instance()) {
                    continue;
                }
                let what = if path.is_empty() {
                    t.label().to_string()
                } else {
                    format!("`{path}`")
                };
                out.push(Finding {
                    kind: FindingKind::InvalidValue,
                    file: t.file,
                    span: place.span(),
                    message: format!(
                        "{what}: {} (by {})",
                        describe_error(kind, error.instance(), &error.to_string()),
                        c.origin.describe()
                    ),
                    help: enum_suggestion(kind, error.instance()),
                    missing: None,
                    non_string_label: format!("{prefix}{pointer}").starts_with("/metadata/labels/")
                        && matches!(kind, ValidationErrorKind::Type { .. })
                        && matches!(error.instance().as_ref(), Value::Bool(_) | Value::Number(_)),
                });
            }
        }
    }
}

/// Errors about a value that Flux substitutes, or about null (which the API
/// server reads as absent).
fn excused(inst: &Instance, pointer: &str, kind: &ValidationErrorKind, value: &Value) -> bool {
    if value.is_null() && matches!(kind, ValidationErrorKind::Type { .. }) {
        return true;
    }
    // A placeholder (Flux's `${VAR}`, flux-operator's `<< inputs.x >>`), or a
    // value SOPS encrypted (Flux decrypts it first).
    if let Value::String(s) = value
        && excusable(s)
    {
        return true;
    }
    match inst.placeholders.get(pointer) {
        Some(Placeholder::Any) => true,
        Some(Placeholder::Default { typed }) => {
            *typed
                && matches!(
                    kind,
                    ValidationErrorKind::Type { .. }
                        | ValidationErrorKind::AnyOf { .. }
                        | ValidationErrorKind::OneOfNotValid { .. }
                )
        }
        None => false,
    }
}

/// The property names the schema allows where `error` (an
/// additionalProperties error) was raised.
fn allowed_fields(root: &Value, error: &ValidationError) -> Vec<String> {
    let schema_path = error.schema_path().as_str();
    let parent = schema_path
        .rsplit_once('/')
        .map_or("", |(p, _)| p)
        .to_string();
    let mut names: Vec<String> = root
        .pointer(&parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// "did you mean" for a misspelled enum value.
fn enum_suggestion(kind: &ValidationErrorKind, value: &Value) -> Option<String> {
    let (ValidationErrorKind::Enum { options }, Value::String(wanted)) = (kind, value) else {
        return None;
    };
    let options = options.as_array()?;
    closest(wanted, options.iter().filter_map(Value::as_str))
        .map(|s| format!("did you mean `{s}`?"))
}

/// The validator's message, with every allowed value of an enum listed (it
/// abbreviates them) and without the null Kubernetes allows everywhere.
fn describe_error(kind: &ValidationErrorKind, value: &Value, message: &str) -> String {
    if let ValidationErrorKind::Enum { options } = kind
        && let Value::Array(options) = &**options
    {
        let list: Vec<String> = options
            .iter()
            .filter(|o| !o.is_null())
            .map(|o| match o {
                Value::String(s) if s.is_empty() => "\"\"".to_string(),
                Value::String(s) => format!("`{s}`"),
                other => other.to_string(),
            })
            .collect();
        return format!("{value} is not one of {}", list.join(", "));
    }
    without_null(message)
}

/// Kubernetes' schemas allow null everywhere (it reads as absent); saying so
/// in every type error is noise.
fn without_null(message: &str) -> String {
    let m = message.replace("\"null\", ", "").replace(", \"null\"", "");
    if m.matches("\", \"").count() == 0 {
        m.replace("is not of types", "is not of type")
    } else {
        m
    }
}

/// JSON pointer segments.
fn segments(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
}

/// The node at a JSON pointer (merge keys and aliases read through).
fn locate<'a>(node: NodeRef<'a>, pointer: &str) -> Option<NodeRef<'a>> {
    let mut at = node;
    for seg in segments(pointer) {
        at = if at.is_seq() {
            at.items().nth(seg.parse().ok()?)?
        } else {
            at.get(&seg)?
        };
    }
    Some(at)
}

/// The span of the key that holds the value at `pointer` (`None` at the root
/// or under a sequence item).
fn key_of(node: NodeRef, pointer: &str) -> Option<Span> {
    let (parent, last) = pointer.rsplit_once('/')?;
    let last = last.replace("~1", "/").replace("~0", "~");
    let holder = locate(node, parent)?;
    if holder.is_seq() {
        return Some(holder.items().nth(last.parse().ok()?)?.span());
    }
    holder.key_span(&last)
}

/// `/spec/containers/0/image` -> `spec.containers[0].image`.
fn dotted(pointer: &str) -> String {
    let mut s = String::new();
    for seg in segments(pointer) {
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            s.push_str(&format!("[{seg}]"));
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(&seg);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::quick::Verdict;
    use super::*;
    use serde_json::json;

    /// A quick verdict of valid or clean means the full validation finds
    /// nothing, and the errors it leaves out are left out the same way
    /// whatever shape the schema gives a closed mapping.
    #[test]
    fn clean_verdicts_are_documents_without_findings() {
        let closed_listed =
            json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false});
        let closed_empty =
            json!({"type": "object", "properties": {}, "additionalProperties": false});
        // Without `properties` the validator reports the first refused value,
        // not the names: nothing is left out.
        let closed_bare = json!({"type": "object", "additionalProperties": false});
        let nested_bare =
            json!({"properties": {"spec": {"required": ["a"], "additionalProperties": false}}});
        let cases = [
            (&closed_listed, "sops: {mac: x}\n", false, Verdict::Clean, 0),
            (&closed_empty, "sops: {mac: x}\n", false, Verdict::Clean, 0),
            (&closed_bare, "sops: {mac: x}\n", false, Verdict::Invalid, 1),
            (&closed_listed, "${X}: 1\n", false, Verdict::Clean, 0),
            (&closed_bare, "${X}: 1\n", false, Verdict::Invalid, 1),
            (&closed_listed, "$patch: delete\n", true, Verdict::Clean, 0),
            (
                &nested_bare,
                "spec:\n  $patch: delete\n",
                true,
                Verdict::Invalid,
                1,
            ),
            (&closed_listed, "b: 1\n", false, Verdict::Invalid, 1),
            (&closed_listed, "a: ${A}\n", false, Verdict::Clean, 0),
            (&closed_listed, "a: x\n", false, Verdict::Valid, 0),
        ];
        for (schema, yaml, partial, verdict, count) in cases {
            let y = crate::yaml::parse(yaml);
            let node = y.documents().next().unwrap();
            let t = Target {
                file: 0,
                node: node.id(),
                names: Names::new("example.com/v1 Widget", "Widget"),
                partial,
                report_unknown: false,
            };
            let root = (*schema).clone();
            let c = Compiled::new(
                Origin::File("widget.json".into()),
                Arc::new(Schema {
                    quick: Quick::compile(&root),
                    root,
                    validator: OnceLock::new(),
                }),
            );
            let got = c.schema.quick.verdict(node, partial, true);
            let mut found = Vec::new();
            check_one(&t, node, &instance(node).unwrap(), &c, &mut found);
            assert_eq!(
                (got, found.len()),
                (verdict, count),
                "{yaml} against {schema}: {found:?}"
            );
        }
    }

    /// The validators of built-in schemas are compiled only when a document
    /// needs one, which is right only if they compile: every catalog schema
    /// does but the listed ones, patched for flux-operator or not.
    #[test]
    fn every_catalog_schema_compiles_but_the_listed_ones() {
        let frames = catalog::Frames::default();
        let wrong: Vec<String> = catalog::keys()
            .par_iter()
            .flat_map_iter(|(api_version, kind)| {
                let schema = catalog::schema(api_version, kind, &frames)
                    .expect("indexed")
                    .expect("reads");
                let key = format!("{api_version} {kind}");
                let mut patched = schema.clone();
                patch_for_flux_operator(&key, &mut patched);
                let listed = catalog::compiles(api_version, kind);
                let mut wrong = Vec::new();
                if compile(&schema).is_some() != listed {
                    wrong.push(key.clone());
                }
                if patched != schema && compile(&patched).is_some() != listed {
                    wrong.push(format!("{key} (patched)"));
                }
                wrong
            })
            .collect();
        assert!(wrong.is_empty(), "compile against the list: {wrong:?}");
        assert!(!catalog::compiles("projectcontour.io/v1", "HTTPProxy"));
        assert!(catalog::compiles(
            "external-secrets.io/v1",
            "ExternalSecret"
        ));
    }

    /// Every kind of every built-in bundle, and `ObjectMeta`, compiles.
    #[test]
    fn every_builtin_bundle_schema_compiles() {
        let mut roots: Vec<(String, Value)> = Vec::new();
        let mut add = |name: &str, bundle: &Bundle| {
            for key in bundle.keys().filter(|k| bundle.has_root(k)) {
                roots.push((
                    format!("{name} {key}"),
                    bundle.root_for(key).expect("a root"),
                ));
            }
        };
        for v in crate::schema::KUBERNETES_VERSIONS {
            add(v, kubernetes(Some(v)).1);
        }
        add("flux", flux());
        add("talos", talos());
        for v in crate::schema::KUBERNETES_VERSIONS {
            let meta = kubernetes(Some(v))
                .1
                .root_for_def(OBJECT_META)
                .expect("ObjectMeta");
            roots.push((format!("{v} ObjectMeta"), meta));
        }
        assert!(roots.len() > 1500, "{}", roots.len());
        let wrong: Vec<&str> = roots
            .par_iter()
            .filter(|(_, root)| compile(root).is_none())
            .map(|(name, _)| name.as_str())
            .collect();
        assert!(wrong.is_empty(), "do not compile: {wrong:?}");
    }

    #[test]
    fn a_one_shot_run_keeps_no_compiled_validator() {
        // A catalog kind no other test validates, without its required fields.
        let repo = |name: &str| {
            let text = format!(
                "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: {name}\nspec: {{}}\n"
            );
            let files = vec![crate::source::SourceFile::from_bytes(
                "r.yaml".into(),
                text.into_bytes(),
            )];
            crate::model::Repository::new("/repo".into(), files, &Default::default())
        };
        let key = Origin::Catalog {
            name: String::new(),
            patched: false,
            vetted: false,
            compiles: true,
        }
        .cache_key("dapr.io/v1alpha1 Resiliency")
        .unwrap();
        let kept = || {
            COMPILED
                .get()
                .is_some_and(|c| c.lock().unwrap().contains_key(&key))
        };
        let one_shot = SchemaSettings {
            one_shot: true,
            ..Default::default()
        };
        let messages = |r: SchemaReport| -> Vec<String> {
            r.findings.into_iter().map(|f| f.message).collect()
        };
        let once = messages(validate_files(&repo("a"), &one_shot, None));
        assert!(once.iter().any(|m| m.contains("`policies`")), "{once:?}");
        assert!(!kept(), "a one-shot run kept its validator");
        // A session that validates again keeps it, and finds the same.
        let kept_run = messages(validate_files(&repo("b"), &Default::default(), None));
        assert_eq!(once, kept_run);
        assert!(kept(), "a session's validator was not kept");
    }

    #[test]
    fn nothing_outside_a_schema_is_ever_retrieved() {
        // Without default features jsonschema has no HTTP or file retriever:
        // a reference outside the schema fails to compile, it is not fetched.
        for uri in [
            "https://example.com/schema.json",
            "http://127.0.0.1:9/s.json",
            "file:///etc/passwd",
        ] {
            assert!(compile(&json!({"$ref": uri})).is_none(), "{uri}");
        }
        assert!(
            compile(&json!({"$defs": {"a": {"type": "string"}}, "$ref": "#/$defs/a"})).is_some()
        );
    }

    #[test]
    fn paths_and_messages() {
        assert_eq!(
            dotted("/spec/containers/0/image"),
            "spec.containers[0].image"
        );
        assert_eq!(dotted("/a~1b"), "a/b");
        assert_eq!(
            without_null(r#""x" is not of types "null", "integer""#),
            r#""x" is not of type "integer""#
        );
        assert_eq!(
            without_null(r#"1 is not of types "boolean", "string""#),
            r#"1 is not of types "boolean", "string""#
        );
    }
}
