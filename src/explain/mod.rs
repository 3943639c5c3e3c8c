//! `gitops-lint explain`: what Flux does with a file, read from the model.
//! For each object of a file and each build that produces it: the chain of
//! Flux Kustomizations and kustomizations from the sync root down, the name
//! and namespace, the variables and where each comes from, the patches and
//! components, and the cluster; for a file nothing deploys, why. The whole
//! deployment tree with `--tree`. The same facts, short, on hover.
//!
//! Everything here reads the model: a fact explain needs lives there.

mod cli;
mod hover;
mod human;
mod tree;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diagnostic::FileId;
use crate::model::vars::{Value, VarOrigin};
use crate::model::{Field, FluxId, Instance, NotDeployed, ObjectId, Repository};
use crate::yaml::{NodeRef, Span};

pub use cli::{Request, run};
pub use hover::hover;
pub use human::{render_human, render_tree_human};
pub use tree::{Tree, TreeNode, tree};

/// The version of the JSON shape (see the README's `explain` section).
pub const VERSION: u32 = 1;

/// A place in the repository: a file and a 1-based line.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Place {
    pub path: String,
    pub line: usize,
}

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub version: u32,
    pub files: Vec<FileReport>,
}

#[derive(Debug, Serialize)]
pub struct FileReport {
    pub path: String,
    /// `null` when it cannot be told (a file that holds no object).
    pub deployed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_deployed: Option<Reason>,
    pub objects: Vec<ObjectReport>,
}

/// Why nothing deploys a file; `because` explains a Flux Kustomization in turn.
#[derive(Debug, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Place>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<Box<Reason>>,
}

#[derive(Debug, Serialize)]
pub struct ObjectReport {
    pub kind: String,
    /// A Flux Kustomization that Flux's bootstrap applies itself (nothing
    /// in the repository builds it).
    pub sync_root: bool,
    pub api_version: String,
    /// As written.
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub line: usize,
    pub deployed: bool,
    pub builds: Vec<Build>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flux_kustomization: Option<FluxReport>,
}

/// A Flux Kustomization, by the name its build gives it and where it is written.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FluxRef {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub path: String,
    pub line: usize,
}

/// One step from the sync root down to the object.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// `flux-kustomization`, `kustomization` (a root built by hand),
    /// `resource` or `component` (an entry naming the next step).
    pub step: &'static str,
    pub path: String,
    pub line: usize,
    /// The Flux Kustomization's `namespace/name`, or the entry as written.
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct Build {
    /// The Flux Kustomization that applies it (`null`: a kustomization built as a root).
    pub flux: Option<FluxRef>,
    /// The outermost Flux Kustomization, one per cluster (`null`: none reached).
    pub cluster: Option<FluxRef>,
    /// Whether this build reaches a cluster.
    pub applied: bool,
    pub chain: Vec<Step>,
    /// After substitution (`null`: a variable without a known value).
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub variables: Vec<Variable>,
    /// Variables may come from a source whose keys cannot be read here.
    pub variables_open: bool,
    pub substitute_from: Vec<FromSource>,
    pub patches: Vec<Patch>,
    pub components: Vec<Step>,
}

#[derive(Debug, Serialize)]
pub struct Variable {
    pub name: String,
    /// `null`: unknown here (an encrypted or generated Secret).
    pub value: Option<String>,
    /// `substitute`, `patch` or `substituteFrom`.
    pub source: &'static str,
    /// For `substituteFrom`, `Kind/name`; for `patch`, the patching Flux Kustomization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub at: Option<Place>,
    /// The object's text reads it.
    pub used: bool,
}

#[derive(Debug, Serialize)]
pub struct FromSource {
    pub kind: String,
    pub name: Option<String>,
    pub optional: bool,
    /// `readable`, `unreadable` (values unknown here) or `missing`.
    pub status: &'static str,
    pub at: Vec<Place>,
}

#[derive(Debug, Serialize)]
pub struct Patch {
    /// The Flux Kustomization whose `spec.patches` holds it.
    pub by: FluxRef,
    pub at: Option<Place>,
    /// `false`: a selector not evaluated here, or a list a parent may rewrite.
    pub certain: bool,
}

#[derive(Debug, Serialize)]
pub struct FluxReport {
    /// `spec.path` as a directory of the repository (`null`: not here).
    pub path: Option<String>,
    pub applied: bool,
    /// What its build produces: object counts by kind.
    pub builds: BTreeMap<String, usize>,
    /// The spec after the patches of the Flux Kustomization that builds it.
    pub spec: Vec<SpecField>,
    pub depends_on: Vec<Dependency>,
    pub dependents: Vec<FluxRef>,
}

#[derive(Debug, Serialize)]
pub struct SpecField {
    pub field: String,
    pub value: Option<serde_json::Value>,
    /// `own` (as written), `patched` or `unknown` (a patch may change it).
    pub source: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Dependency {
    pub name: String,
    pub namespace: Option<String>,
    pub at: Option<Place>,
    /// The Flux Kustomizations it names (empty: none in the repository).
    pub found: Vec<FluxRef>,
}

/// Explains the files at these relative paths, or below these directories.
/// A path that names nothing of the repository is an error.
pub fn explain(repo: &Repository, paths: &[String]) -> Result<Explanation, String> {
    let mut files: Vec<FileId> = Vec::new();
    for p in paths {
        let p = p.trim_end_matches('/');
        if let Some(f) = repo.file_id(p) {
            files.push(f);
            continue;
        }
        let found: Vec<FileId> = (0..repo.files.len())
            .filter(|&f| crate::model::under(&repo.files[f].path, p))
            .collect();
        if found.is_empty() {
            return Err(format!("{p}: no YAML file of the repository lies there"));
        }
        files.extend(found);
    }
    if paths.is_empty() {
        files.extend(0..repo.files.len());
    }
    files.sort_unstable();
    files.dedup();
    let ctx = Ctx {
        repo,
        dependencies: std::cell::OnceCell::new(),
    };
    Ok(Explanation {
        version: VERSION,
        files: files.into_iter().map(|f| file_report(&ctx, f)).collect(),
    })
}

/// What one explanation reads, with the dependency graph found once.
pub(crate) struct Ctx<'r> {
    repo: &'r Repository,
    dependencies: std::cell::OnceCell<Vec<Vec<crate::model::Dependency>>>,
}

impl Ctx<'_> {
    fn dependencies(&self) -> &[Vec<crate::model::Dependency>] {
        self.dependencies.get_or_init(|| {
            (0..self.repo.flux.len())
                .map(|f| self.repo.flux_dependencies(f))
                .collect()
        })
    }
}

pub(crate) fn place(repo: &Repository, file: FileId, span: Span) -> Place {
    let f = &repo.files[file];
    Place {
        path: f.path.to_string(),
        line: f.position(span.start).line,
    }
}

fn object_line(repo: &Repository, o: ObjectId) -> usize {
    let obj = &repo.objects[o];
    repo.files[obj.file].position(repo.kind_span(o).start).line
}

pub(crate) fn flux_ref(repo: &Repository, f: FluxId) -> FluxRef {
    let o = repo.flux[f].object;
    let (ns, name) = repo.flux_label(f);
    FluxRef {
        namespace: ns.map(str::to_string),
        name: name.map(str::to_string),
        path: repo.files[repo.objects[o].file].path.to_string(),
        line: object_line(repo, o),
    }
}

/// `namespace/name` (or the name alone).
pub(crate) fn label(ns: Option<&str>, name: Option<&str>) -> String {
    let name = name.unwrap_or("?");
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

fn file_report(ctx: &Ctx, file: FileId) -> FileReport {
    let repo = ctx.repo;
    FileReport {
        path: repo.files[file].path.to_string(),
        deployed: repo.file_deployed(file),
        not_deployed: repo
            .why_not_deployed(file)
            .map(|r| reason(repo, r, &mut Vec::new())),
        objects: repo
            .objects_in(file)
            .map(|o| object_report(ctx, o))
            .collect(),
    }
}

pub(crate) fn reason(repo: &Repository, why: NotDeployed, seen: &mut Vec<FileId>) -> Reason {
    match why {
        NotDeployed::FluxNotApplied(f) => {
            let r = flux_ref(repo, f);
            let file = repo.objects[repo.flux[f].object].file;
            let because = if seen.contains(&file) || seen.len() > 16 {
                None
            } else {
                seen.push(file);
                repo.why_not_deployed(file)
                    .map(|w| Box::new(reason(repo, w, seen)))
            };
            Reason {
                code: "flux-not-applied",
                message: format!(
                    "only Flux Kustomization `{}` builds it, and that reaches no cluster",
                    label(r.namespace.as_deref(), r.name.as_deref())
                ),
                at: Some(Place {
                    path: r.path,
                    line: r.line,
                }),
                because,
            }
        }
        NotDeployed::CommentedOut {
            kustomization,
            line,
        } => {
            let path = &repo.files[repo.kustomizations[kustomization].file].path;
            Reason {
                code: "commented-out",
                message: format!("commented out of {path}:{line}"),
                at: Some(Place {
                    path: path.to_string(),
                    line,
                }),
                because: None,
            }
        }
        NotDeployed::Shelved => Reason {
            code: "shelved",
            message: "it lies in a folder kept but not deployed (archive, templates...)".into(),
            at: None,
            because: None,
        },
        NotDeployed::NotListed(k) => {
            let kz = &repo.kustomizations[k];
            let node = repo.node(kz.file, kz.root);
            let span = node.key_span("resources").unwrap_or_else(|| node.span());
            let at = place(repo, kz.file, span);
            Reason {
                code: "not-listed",
                message: format!("{} does not list it in `resources`", at.path),
                at: Some(at),
                because: None,
            }
        }
        NotDeployed::Unreachable => Reason {
            code: "unreachable",
            message: "not reachable from any sync root".into(),
            at: None,
            because: None,
        },
    }
}

pub(crate) fn object_report(ctx: &Ctx, o: ObjectId) -> ObjectReport {
    let repo = ctx.repo;
    let obj = &repo.objects[o];
    let builds: Vec<Build> = repo
        .instances(o)
        .filter(|i| i.flux.is_some() || i.root.is_some())
        .map(|i| build(repo, i))
        .collect();
    let sync_root = repo
        .flux_of(o)
        .is_some_and(|f| repo.flux[f].parent.is_none() && repo.flux[f].applied);
    ObjectReport {
        sync_root,
        kind: obj.kind.to_string(),
        api_version: obj.api_version.to_string(),
        name: obj.name.as_deref().map(str::to_string),
        namespace: obj.namespace.as_deref().map(str::to_string),
        line: object_line(repo, o),
        deployed: repo.deployed(o),
        builds,
        flux_kustomization: repo.flux_of(o).map(|f| flux_report(ctx, f)),
    }
}

/// The chain of steps from the sync root down to the object of `inst`.
fn chain(repo: &Repository, inst: &Instance) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some(f) = inst.flux {
        for g in repo.flux_chain(f) {
            let r = flux_ref(repo, g);
            steps.push(Step {
                step: "flux-kustomization",
                text: label(r.namespace.as_deref(), r.name.as_deref()),
                path: r.path,
                line: r.line,
            });
        }
    } else if let Some(k) = inst.root {
        let kz = &repo.kustomizations[k];
        steps.push(Step {
            step: "kustomization",
            path: repo.files[kz.file].path.to_string(),
            line: 1,
            text: if kz.dir.is_empty() {
                ".".into()
            } else {
                kz.dir.clone()
            },
        });
    }
    for hop in repo.route(inst) {
        let p = place(repo, hop.file, hop.span);
        steps.push(Step {
            step: if hop.component {
                "component"
            } else {
                "resource"
            },
            path: p.path,
            line: p.line,
            text: hop.text,
        });
    }
    steps
}

/// The variable names an object's text reads as `${NAME...}`.
fn used_names(repo: &Repository, o: ObjectId) -> Vec<String> {
    let obj = &repo.objects[o];
    let span = repo.object_node(o).span();
    let text = repo.files[obj.file]
        .text()
        .get(span.start as usize..span.end as usize)
        .unwrap_or("");
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            out.push(rest[..end].to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn build(repo: &Repository, inst: &Instance) -> Build {
    let o = inst.object;
    let used = used_names(repo, o);
    let mut variables = Vec::new();
    let mut substitute_from = Vec::new();
    let mut patches = Vec::new();
    let mut open = false;
    if let Some(f) = inst.flux {
        let vars = &repo.flux[f].vars;
        open = vars.open;
        for (name, value) in vars.effective() {
            let (source, from, at) = match vars.origin(name) {
                Some(VarOrigin::Substitute { file, span }) => {
                    ("substitute", None, Some(place(repo, *file, *span)))
                }
                Some(VarOrigin::Patch { flux, patch }) => {
                    let r = flux_ref(repo, *flux);
                    let at = repo
                        .patch_site(*flux, *patch)
                        .map(|(file, span)| place(repo, file, span));
                    (
                        "patch",
                        Some(format!(
                            "Flux Kustomization {}",
                            label(r.namespace.as_deref(), r.name.as_deref())
                        )),
                        at,
                    )
                }
                Some(VarOrigin::From { kind, name, at }) => (
                    "substituteFrom",
                    Some(format!("{kind}/{name}")),
                    at.map(|(file, span)| place(repo, file, span)),
                ),
                None => ("substitute", None, None),
            };
            variables.push(Variable {
                name: name.to_string(),
                value: match value {
                    Value::Known(v) => Some(v.clone()),
                    Value::Unknown => None,
                },
                source,
                from,
                at,
                used: used.iter().any(|u| u == name),
            });
        }
        for r in &vars.from_refs {
            let label = format!("{}/{}", r.kind, r.name.as_deref().unwrap_or(""));
            // Keys read, yet a value is not (an encrypted or base64 value).
            let hidden = variables
                .iter()
                .any(|v| v.value.is_none() && v.from.as_deref() == Some(label.as_str()));
            let status = if r.found.is_empty() {
                "missing"
            } else if r.found.iter().all(|&(_, readable)| readable) && !hidden {
                "readable"
            } else {
                "unreadable"
            };
            substitute_from.push(FromSource {
                kind: r.kind.clone(),
                name: r.name.clone(),
                optional: r.optional,
                status,
                at: r
                    .found
                    .iter()
                    .filter_map(|&(obj, _)| obj)
                    .map(|s| Place {
                        path: repo.files[repo.objects[s].file].path.to_string(),
                        line: object_line(repo, s),
                    })
                    .collect(),
            });
        }
        for p in 0..repo.flux_patches(f).len() {
            if let Some(certain) = repo.patch_selects(f, p, o) {
                patches.push(Patch {
                    by: flux_ref(repo, f),
                    at: repo
                        .patch_site(f, p)
                        .map(|(file, span)| place(repo, file, span)),
                    certain,
                });
            }
        }
    }
    let chain = chain(repo, inst);
    let components = chain
        .iter()
        .filter(|s| s.step == "component")
        .cloned()
        .collect();
    Build {
        flux: inst.flux.map(|f| flux_ref(repo, f)),
        cluster: repo.cluster_of(inst).map(|c| flux_ref(repo, c)),
        applied: match (inst.flux, inst.root) {
            (Some(f), _) => repo.flux[f].applied,
            (None, Some(k)) => repo.kustomize_deployed(k),
            (None, None) => false,
        },
        chain,
        name: inst.name.as_deref().map(str::to_string),
        namespace: inst.namespace.as_deref().map(str::to_string),
        variables,
        variables_open: open,
        substitute_from,
        patches,
        components,
    }
}

/// The fields of a Flux Kustomization's spec that explain shows.
const SPEC_FIELDS: [&str; 12] = [
    "sourceRef",
    "path",
    "targetNamespace",
    "prune",
    "wait",
    "interval",
    "retryInterval",
    "timeout",
    "dependsOn",
    "components",
    "postBuild",
    "patches",
];

/// A node as JSON (scalars as their text).
fn to_json(node: NodeRef) -> serde_json::Value {
    if node.is_map() {
        let mut m = serde_json::Map::new();
        for (k, v) in node.entries() {
            m.insert(k.as_str().unwrap_or("").to_string(), to_json(v));
        }
        serde_json::Value::Object(m)
    } else if node.is_seq() {
        serde_json::Value::Array(node.items().map(to_json).collect())
    } else if node.is_null() {
        serde_json::Value::Null
    } else if let Some(b) = node.as_bool() {
        serde_json::Value::Bool(b)
    } else if let Some(i) = node.as_i64() {
        serde_json::Value::from(i)
    } else {
        serde_json::Value::String(node.as_str().unwrap_or("").to_string())
    }
}

fn flux_report(ctx: &Ctx, f: FluxId) -> FluxReport {
    let repo = ctx.repo;
    let deps = ctx.dependencies();
    let mut builds: BTreeMap<String, usize> = BTreeMap::new();
    for inst in repo.instances.iter().filter(|i| i.flux == Some(f)) {
        *builds
            .entry(repo.objects[inst.object].kind.to_string())
            .or_default() += 1;
    }
    let spec = SPEC_FIELDS
        .iter()
        .filter_map(|&field| {
            let (value, source) = match repo.flux_field(f, &["spec", field]) {
                Field::Absent => return None,
                Field::Own(n) => (Some(to_json(n)), "own"),
                Field::Patched(n) => (n.map(to_json), "patched"),
                Field::Unknown => (None, "unknown"),
            };
            Some(SpecField {
                field: format!("spec.{field}"),
                value,
                source,
            })
        })
        .collect();
    let depends_on = deps[f]
        .iter()
        .map(|d| Dependency {
            at: d.at.map(|(file, span)| place(repo, file, span)),
            found: d.targets.iter().map(|&g| flux_ref(repo, g)).collect(),
            name: d.name.clone(),
            namespace: d.namespace.clone(),
        })
        .collect();
    let dependents = (0..repo.flux.len())
        .filter(|&g| g != f && deps[g].iter().any(|d| d.targets.contains(&f)))
        .map(|g| flux_ref(repo, g))
        .collect();
    FluxReport {
        path: repo.flux[f].path.clone(),
        applied: repo.flux[f].applied,
        builds,
        spec,
        depends_on,
        dependents,
    }
}

/// The explanation as JSON.
pub fn render_json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
