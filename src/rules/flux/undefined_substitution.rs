use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::diagnostic::{Diagnostic, FileId, Severity};
use crate::model::{FluxId, ObjectId, Repository, closest, join, parent_dir};
use crate::rules::Rule;
use crate::yaml::{NodeRef, Span};

pub static RULE: Rule = Rule {
    id: "flux/undefined-substitution",
    severity: Severity::Error,
    enabled: true,
    summary: "a `${VAR}` that the Flux Kustomization building the object does not define (or cannot parse): since Flux 2.9 the reconcile fails",
    page: include_str!("../../../lints/flux/undefined-substitution.md"),
    check: Some(check),
};

const DISABLE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

fn check(repo: &Repository, out: &mut Vec<Diagnostic>) {
    let sources = Sources::new(repo);
    let mut parents: Vec<BTreeSet<FluxId>> = vec![BTreeSet::new(); repo.flux.len()];
    let mut flux_of_object: Vec<Option<FluxId>> = vec![None; repo.objects.len()];
    for (f, fk) in repo.flux.iter().enumerate() {
        flux_of_object[fk.object] = Some(f);
    }
    for inst in &repo.instances {
        if let (Some(f), Some(p)) = (flux_of_object[inst.object], inst.flux)
            && p != f
        {
            parents[f].insert(p);
        }
    }
    let touching = touching_post_build(repo);
    let vars: Vec<Vars> = (0..repo.flux.len())
        .map(|f| {
            if parents[f].is_empty() && unapplied(repo, f) {
                return Vars::Off;
            }
            let mut pb = post_build(repo, f, &parents[f]);
            let file_dir = parent_dir(&repo.files[repo.objects[repo.flux[f].object].file].path);
            if touching.iter().any(|d| under(file_dir, d)) {
                pb.unknown = true;
            }
            resolve(repo, &sources, f, &pb, out)
        })
        .collect();

    let mut cache: Vec<Option<Vec<Found>>> = Vec::new();
    cache.resize_with(repo.objects.len(), || None);
    let mut findings: BTreeMap<(FileId, u32), Finding> = BTreeMap::new();
    for inst in &repo.instances {
        let Some(f) = inst.flux else { continue };
        let Vars::Known(names) = &vars[f] else {
            continue;
        };
        if !repo.wants(repo.objects[inst.object].file) {
            continue;
        }
        let found = cache[inst.object].get_or_insert_with(|| scan_object(repo, inst.object));
        for item in found.iter() {
            let missing = match &item.problem {
                Problem::Undefined(name) => !names.contains(name),
                Problem::Parse(_) => true,
            };
            if !missing {
                continue;
            }
            let file = repo.objects[inst.object].file;
            findings
                .entry((file, item.span.start))
                .or_insert_with(|| Finding {
                    object: inst.object,
                    span: item.span,
                    expr: item.expr.clone(),
                    problem: item.problem.clone(),
                    flux: BTreeSet::new(),
                })
                .flux
                .insert(f);
        }
    }
    for ((file, _), finding) in findings {
        out.push(report(repo, &vars, file, finding));
    }
}

/// A Flux Kustomization that no Flux build applies, lying inside the tree of
/// another one: a `ks.yaml` left out of its `kustomization.yaml` (parked or
/// retired), which never reaches the cluster.
fn unapplied(repo: &Repository, f: FluxId) -> bool {
    let file_dir = parent_dir(&repo.files[repo.objects[repo.flux[f].object].file].path);
    repo.flux
        .iter()
        .enumerate()
        .any(|(g, fk)| g != f && fk.path.as_deref().is_some_and(|p| under(file_dir, p)))
}

fn under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || (path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/')
}

/// Directories of kustomizations whose patches or replacements (their own
/// or their components') may write `postBuild` into the Flux Kustomizations
/// they build: what those get is not followed here.
fn touching_post_build(repo: &Repository) -> Vec<&str> {
    let touches = |k: &crate::model::Kustomize| {
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
            let text = &repo.files[k.file].text[span.start as usize..span.end as usize];
            text.contains("postBuild")
                || item
                    .str_at(&["path"])
                    .or_else(|| item.as_str())
                    .and_then(|p| join(&k.dir, p))
                    .and_then(|p| repo.file_id(&p))
                    .is_some_and(|file| repo.files[file].text.contains("postBuild"))
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

/// The variables a Flux Kustomization substitutes.
enum Vars {
    /// Flux does not substitute (no `postBuild`, or no variable resolved).
    Off,
    /// Some variables come from a source this repository does not hold.
    Unknown,
    Known(BTreeSet<String>),
}

/// `spec.postBuild` as it reaches the controller: the Kustomization's own,
/// and what the `spec.patches` of the Flux Kustomizations that build it add.
#[derive(Default)]
struct PostBuild {
    present: bool,
    always: bool,
    substitute: BTreeSet<String>,
    /// Keys written in the Kustomization itself, for the name check.
    own_keys: Vec<(String, Span)>,
    from: Vec<SourceRef>,
    unknown: bool,
}

struct SourceRef {
    kind: String,
    name: String,
    optional: bool,
    /// Where the entry is written (in the Kustomization's own file).
    span: Option<Span>,
}

fn read_post_build(pb: NodeRef, acc: &mut PostBuild, own: bool) {
    acc.present = true;
    if pb.str_at(&["substituteStrategy"]) == Some("Always") {
        acc.always = true;
    }
    if let Some(m) = pb.get("substitute") {
        for (k, _) in m.entries() {
            if let Some(key) = k.as_str() {
                acc.substitute.insert(key.to_string());
                if own {
                    acc.own_keys.push((key.to_string(), k.span()));
                }
            }
        }
    }
    if let Some(list) = pb.get("substituteFrom") {
        for item in list.items() {
            read_source(item, acc, own);
        }
    }
}

fn read_source(item: NodeRef, acc: &mut PostBuild, own: bool) {
    let Some(name) = item.str_at(&["name"]) else {
        acc.unknown = true;
        return;
    };
    acc.from.push(SourceRef {
        kind: item.str_at(&["kind"]).unwrap_or("").to_string(),
        name: name.to_string(),
        optional: item.path(&["optional"]).and_then(|n| n.as_bool()) == Some(true),
        span: own.then(|| item.span()),
    });
}

fn post_build(repo: &Repository, f: FluxId, parents: &BTreeSet<FluxId>) -> PostBuild {
    let fk = &repo.flux[f];
    let node = repo.object_node(fk.object);
    let mut acc = PostBuild::default();
    if let Some(pb) = node.path(&["spec", "postBuild"]) {
        read_post_build(pb, &mut acc, true);
    }
    let obj = &repo.objects[fk.object];
    for &p in parents {
        let parent = repo.object_node(repo.flux[p].object);
        let Some(patches) = parent.path(&["spec", "patches"]) else {
            continue;
        };
        let dir = repo.flux[p].path.as_deref().unwrap_or("");
        for patch in patches.items() {
            let selected = match patch.get("target") {
                Some(t) => selects(t, node, obj.group(), &obj.kind, obj.name.as_deref()),
                None => Selects::Body,
            };
            if matches!(selected, Selects::No) {
                continue;
            }
            let parsed;
            let body = if let Some(text) = patch.str_at(&["patch"]) {
                parsed = crate::yaml::parse(text);
                parsed.documents().next()
            } else if let Some(path) = patch.str_at(&["path"]) {
                match join(dir, path).and_then(|p| repo.file_id(&p)) {
                    Some(file) => repo.files[file].yaml.documents().next(),
                    None => {
                        acc.unknown = true;
                        continue;
                    }
                }
            } else {
                None
            };
            let Some(body) = body else { continue };
            if body.is_map() {
                if let Selects::Body = selected {
                    let same = body.str_at(&["kind"]) == Some("Kustomization")
                        && body.str_at(&["metadata", "name"]) == obj.name.as_deref();
                    if !same {
                        continue;
                    }
                }
                let Some(pb) = body.path(&["spec", "postBuild"]) else {
                    continue;
                };
                if matches!(selected, Selects::Maybe) {
                    acc.unknown = true;
                } else {
                    read_post_build(pb, &mut acc, false);
                }
            } else {
                json_patch(body, matches!(selected, Selects::Yes), &mut acc);
            }
        }
    }
    acc
}

/// JSON 6902 operations on `/spec/postBuild`.
fn json_patch(ops: NodeRef, sure: bool, acc: &mut PostBuild) {
    for op in ops.items() {
        let Some(path) = op.str_at(&["path"]) else {
            continue;
        };
        if !path.starts_with("/spec/postBuild") && !matches!(path, "/spec" | "/") {
            continue;
        }
        if !sure {
            acc.unknown = true;
            return;
        }
        let kind = op.str_at(&["op"]).unwrap_or("");
        let value = op.get("value");
        match (kind, path, value) {
            ("add" | "replace", "/spec/postBuild", Some(v)) if v.is_map() => {
                read_post_build(v, acc, false)
            }
            ("add", "/spec/postBuild/substituteFrom/-", Some(v)) if v.is_map() => {
                acc.present = true;
                read_source(v, acc, false);
            }
            ("add" | "replace", p, Some(v)) if p.starts_with("/spec/postBuild/substitute/") => {
                let key = &p["/spec/postBuild/substitute/".len()..];
                if !key.contains('/') && v.as_str().is_some() {
                    acc.present = true;
                    acc.substitute
                        .insert(key.replace("~1", "/").replace("~0", "~"));
                } else {
                    acc.unknown = true;
                }
            }
            ("test", _, _) => {}
            _ => acc.unknown = true,
        }
    }
}

enum Selects {
    Yes,
    No,
    Maybe,
    /// No target: a strategic-merge patch selects by its own kind and name.
    Body,
}

/// Whether a patch `target` selects the Flux Kustomization.
fn selects(target: NodeRef, node: NodeRef, group: &str, kind: &str, name: Option<&str>) -> Selects {
    let regex = |s: &str| s.chars().any(|c| "*.+?[](){}|^$\\".contains(c));
    let mut sure = true;
    for (key, have) in [("group", Some(group)), ("kind", Some(kind)), ("name", name)] {
        let Some(want) = target.str_at(&[key]) else {
            continue;
        };
        // kustomize matches these as anchored regular expressions.
        if Some(want) == have {
            continue;
        }
        if regex(want) {
            sure = false;
        } else {
            return Selects::No;
        }
    }
    for (key, meta) in [
        ("labelSelector", "labels"),
        ("annotationSelector", "annotations"),
    ] {
        let Some(sel) = target.str_at(&[key]) else {
            continue;
        };
        let values = node.path(&["metadata", meta]);
        match label_selector(sel, |k| values.and_then(|m| m.str_at(&[k]))) {
            Some(true) => {}
            Some(false) => return Selects::No,
            None => sure = false,
        }
    }
    if sure { Selects::Yes } else { Selects::Maybe }
}

/// Evaluates a Kubernetes label selector (`a=b`, `a!=b`, `a in (x,y)`,
/// `a notin (x)`, `a`, `!a`); `None` when it cannot be read.
fn label_selector<'a>(sel: &str, get: impl Fn(&str) -> Option<&'a str>) -> Option<bool> {
    // Split on commas outside parentheses.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in sel.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&sel[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&sel[start..]);
    let mut all = true;
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let ok = if let Some(key) = part.strip_prefix('!') {
            get(key.trim()).is_none()
        } else if let Some((k, v)) = part.split_once("!=") {
            get(k.trim()) != Some(v.trim())
        } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            get(k.trim()) == Some(v.trim())
        } else if let Some((k, set)) = set_op(part, " notin ") {
            get(k).is_none_or(|v| !set.contains(&v))
        } else if let Some((k, set)) = set_op(part, " in ") {
            get(k).is_some_and(|v| set.contains(&v))
        } else if part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            get(part).is_some()
        } else {
            return None;
        };
        all &= ok;
    }
    Some(all)
}

fn set_op<'s>(part: &'s str, op: &str) -> Option<(&'s str, Vec<&'s str>)> {
    let (k, rest) = part.split_once(op)?;
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some((k.trim(), inner.split(',').map(str::trim).collect()))
}

/// ConfigMaps and Secrets a `substituteFrom` can name, by (kind, name).
struct Sources {
    by_name: HashMap<(&'static str, String), Vec<Source>>,
}

#[derive(Clone)]
struct Source {
    /// The cluster it is applied in, when a Flux Kustomization applies it.
    cluster: Option<FluxId>,
    /// Its keys; `None` when they cannot be read here.
    keys: Option<Vec<(String, FileId, Span)>>,
}

impl Sources {
    fn new(repo: &Repository) -> Self {
        let mut by_name: HashMap<(&'static str, String), Vec<Source>> = HashMap::default();
        for (kind, fields) in [
            ("ConfigMap", &["data"][..]),
            ("Secret", &["data", "stringData"][..]),
        ] {
            for (id, obj) in repo.of_kind(kind) {
                if !obj.group().is_empty() {
                    continue;
                }
                let node = repo.object_node(id);
                let mut keys = Vec::new();
                for field in fields {
                    if let Some(m) = node.get(field) {
                        for (k, _) in m.entries() {
                            if let Some(key) = k.as_str() {
                                keys.push((key.to_string(), obj.file, k.span()));
                            }
                        }
                    }
                }
                for inst in repo.instances(id) {
                    let Some(name) = &inst.name else { continue };
                    by_name
                        .entry((kind, name.clone()))
                        .or_default()
                        .push(Source {
                            cluster: repo.cluster_of(inst),
                            keys: Some(keys.clone()),
                        });
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
            for (id, obj) in repo.of_kind(kind) {
                let node = repo.object_node(id);
                let target = node.str_at(&["spec", "target", "name"]);
                for inst in repo.instances(id) {
                    let Some(name) = target.map(str::to_string).or_else(|| inst.name.clone())
                    else {
                        continue;
                    };
                    by_name.entry(("Secret", name)).or_default().push(Source {
                        cluster: repo.cluster_of(inst),
                        keys: None,
                    });
                }
                let _ = obj;
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
                    let keys = readable.then(|| {
                        g.get("literals")
                            .into_iter()
                            .flat_map(|l| l.items())
                            .filter_map(|l| {
                                let text = l.as_str()?;
                                let key = text.split_once('=').map_or(text, |(k, _)| k);
                                Some((key.to_string(), k.file, l.span()))
                            })
                            .collect()
                    });
                    by_name
                        .entry((kind, name.to_string()))
                        .or_default()
                        .push(Source {
                            cluster: None,
                            keys,
                        });
                }
            }
        }
        Sources { by_name }
    }

    /// The sources a Flux Kustomization of `cluster` reads for a reference:
    /// those of its own cluster when there are, else all of that name.
    fn find(&self, kind: &str, name: &str, cluster: FluxId) -> Vec<&Source> {
        let kind = match kind {
            "ConfigMap" => "ConfigMap",
            "Secret" => "Secret",
            _ => return Vec::new(),
        };
        let all = self
            .by_name
            .get(&(kind, name.to_string()))
            .map_or(&[][..], |v| &v[..]);
        let own: Vec<&Source> = all
            .iter()
            .filter(|s| s.cluster == Some(cluster) || s.cluster.is_none())
            .collect();
        if own.iter().any(|s| s.cluster.is_some()) {
            own
        } else {
            all.iter().collect()
        }
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn resolve(
    repo: &Repository,
    sources: &Sources,
    f: FluxId,
    pb: &PostBuild,
    out: &mut Vec<Diagnostic>,
) -> Vars {
    if !pb.present {
        return Vars::Off;
    }
    let fk = &repo.flux[f];
    let obj = &repo.objects[fk.object];
    let fk_name = obj.name.as_deref().unwrap_or("");
    let mut names = pb.substitute.clone();
    let mut unknown = pb.unknown;
    let mut invalid: Vec<(String, FileId, Span)> = pb
        .own_keys
        .iter()
        .map(|(k, s)| (k.clone(), obj.file, *s))
        .collect();
    for src in &pb.from {
        if src.name.contains("${") {
            unknown = true;
            continue;
        }
        let found = sources.find(&src.kind, &src.name, fk.cluster);
        if found.is_empty() {
            unknown |= !src.optional;
            continue;
        }
        for s in found {
            match &s.keys {
                Some(keys) => {
                    for (k, file, span) in keys {
                        names.insert(k.clone());
                        invalid.push((k.clone(), *file, *span));
                    }
                }
                None => unknown = true,
            }
        }
        let _ = src.span;
    }
    if names.is_empty() && !pb.always {
        return Vars::Off;
    }
    // An invalid name fails every substitution of this Kustomization.
    let mut seen = HashSet::default();
    for (key, file, span) in invalid {
        if valid_name(&key) || !seen.insert((file, span.start)) {
            continue;
        }
        let here = file == obj.file;
        let mut d = Diagnostic::new(
            RULE.id,
            Severity::Error,
            file,
            span,
            format!(
                "`{key}` is not a valid substitution variable name (letters, digits and `_`, not starting with a digit): Flux Kustomization `{fk_name}` fails every substitution with \"'{key}' var name is invalid\""
            ),
        )
        .help(if here {
            "rename the variable (for example with `_` instead of `-` or `.`)".to_string()
        } else {
            format!("rename the key, or stop reading this object in `postBuild.substituteFrom` of `{fk_name}`")
        });
        if !here {
            d = d.related(
                obj.file,
                flux_site(repo, f),
                format!("Flux Kustomization `{fk_name}` reads it"),
            );
        }
        out.push(d);
    }
    if unknown {
        Vars::Unknown
    } else {
        Vars::Known(names)
    }
}

/// Where a Flux Kustomization's variables are defined: `spec.postBuild`, or its name.
fn flux_site(repo: &Repository, f: FluxId) -> Span {
    let node = repo.object_node(repo.flux[f].object);
    node.get("spec")
        .and_then(|s| s.key_span("postBuild"))
        .or_else(|| node.path(&["metadata", "name"]).map(|n| n.span()))
        .unwrap_or_else(|| repo.kind_span(repo.flux[f].object))
}

#[derive(Clone, Debug, PartialEq)]
enum Problem {
    Undefined(String),
    Parse(ParseError),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum ParseError {
    /// `${VAR-default}`: a dash without a colon.
    Dash,
    /// A character that is neither a name character, an operator nor `}`.
    BadName,
    /// No variable name after `${`.
    NoName,
    /// `${` never closed.
    Unclosed,
}

/// One problem found in a scalar, with its place in the file.
struct Found {
    span: Span,
    expr: String,
    problem: Problem,
}

struct Finding {
    object: ObjectId,
    span: Span,
    expr: String,
    problem: Problem,
    flux: BTreeSet<FluxId>,
}

/// Every variable reference and parse error in an object's keys and values.
fn scan_object(repo: &Repository, id: ObjectId) -> Vec<Found> {
    let obj = &repo.objects[id];
    let file = &repo.files[obj.file];
    let root = repo.object_node(id);
    let span = root.span();
    let text = &file.text[span.start as usize..span.end as usize];
    if !text.contains("${") || disabled(root) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut seen = HashSet::default();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if !seen.insert(node.id()) {
            continue;
        }
        if node.is_map() {
            for (k, v) in node.entries() {
                stack.push(v);
                stack.push(k);
            }
        } else if node.is_seq() {
            stack.extend(node.items());
        } else if let Some(s) = node.scalar() {
            if !s.text.contains("${") {
                continue;
            }
            let mut items = Vec::new();
            scan_value(s.text, &mut items);
            let span = node.span();
            let raw = file
                .text
                .get(span.start as usize..span.end as usize)
                .unwrap_or("");
            for item in items {
                let expr = s.text[item.start..item.end].to_string();
                let at = locate(s.text, raw, item.start, &expr)
                    .map(|off| {
                        Span::new(
                            span.start as usize + off,
                            span.start as usize + off + expr.len(),
                        )
                    })
                    .unwrap_or(span);
                out.push(Found {
                    span: at,
                    expr,
                    problem: item.problem,
                });
            }
        }
    }
    out
}

/// Whether an object opts out with `kustomize.toolkit.fluxcd.io/substitute: disabled`.
fn disabled(root: NodeRef) -> bool {
    ["labels", "annotations"].iter().any(|m| {
        root.path(&["metadata", m])
            .and_then(|n| n.str_at(&[DISABLE_KEY]))
            == Some("disabled")
    })
}

/// The offset in the source text of the expression at `start` of the value:
/// the same occurrence of the same text, when the source holds as many.
fn locate(value: &str, raw: &str, start: usize, expr: &str) -> Option<usize> {
    if expr.is_empty() {
        return None;
    }
    let in_value: Vec<usize> = value.match_indices(expr).map(|(i, _)| i).collect();
    let in_raw: Vec<usize> = raw.match_indices(expr).map(|(i, _)| i).collect();
    if in_value.len() != in_raw.len() {
        return None;
    }
    let k = in_value.iter().position(|&i| i == start)?;
    in_raw.get(k).copied()
}

struct Item {
    start: usize,
    end: usize,
    problem: Problem,
}

/// Reads a value the way Flux's envsubst does (fluxcd/pkg envsubst, facts
/// §1.7): `$$` collapses to `$` (so `$${VAR}` is literal), `$VAR` is left
/// alone, `${VAR}` and the operators that read the value need the variable,
/// the default operators (`:=`, `:-`, `=`, `:+`, `:?`) do not, but the
/// expressions inside their defaults are evaluated all the same.
fn scan_value(s: &str, out: &mut Vec<Item>) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'{') => match parse_expr(s, i, out) {
                Ok(end) => i = end,
                Err(e) => {
                    out.push(e);
                    return;
                }
            },
            Some(b'$') => i += 2,
            _ => i += 1,
        }
    }
}

/// Parses the expression whose `${` is at `start`; the index after its `}`.
fn parse_expr(s: &str, start: usize, out: &mut Vec<Item>) -> Result<usize, Item> {
    let p = start + 2;
    let rest = &s[p..];
    let ident_len = |t: &str| {
        t.char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(t.len(), |(i, _)| i)
    };
    let err = |end: usize, e: ParseError| Item {
        start,
        end,
        problem: Problem::Parse(e),
    };
    // The end of what looks like the expression, for the span of an error.
    let apparent_end = || s[p..].find('}').map_or(s.len(), |i| p + i + 1);
    if let Some(after) = rest.strip_prefix('#') {
        // ${#VAR}: the length of the value.
        let n = ident_len(after);
        let close = p + 1 + n;
        if n == 0 || s.as_bytes().get(close) != Some(&b'}') {
            return Err(err(apparent_end(), ParseError::BadName));
        }
        out.push(need(&s[p + 1..close], start, close + 1));
        return Ok(close + 1);
    }
    let n = ident_len(rest);
    if n == 0 {
        return Err(err(apparent_end(), ParseError::NoName));
    }
    let name = &rest[..n];
    let q = p + n;
    let next = s[q..].chars().next();
    let next2 = s[q..].chars().nth(1);
    match next {
        Some('}') => {
            out.push(need(name, start, q + 1));
            Ok(q + 1)
        }
        Some(':') if matches!(next2, Some('=' | '-' | '?' | '+')) => {
            let mut nested = Vec::new();
            let end = parse_args(s, start, q + 2, &mut nested)?;
            out.extend(nested);
            Ok(end)
        }
        Some('=') => {
            let mut nested = Vec::new();
            let end = parse_args(s, start, q + 1, &mut nested)?;
            out.extend(nested);
            Ok(end)
        }
        Some(':' | ',' | '^' | '/' | '#' | '%') => {
            let mut nested = Vec::new();
            let end = parse_args(s, start, q + 1, &mut nested)?;
            out.push(need(name, start, end));
            out.extend(nested);
            Ok(end)
        }
        Some('-') => Err(err(apparent_end(), ParseError::Dash)),
        Some(_) => Err(err(apparent_end(), ParseError::BadName)),
        None => Err(err(s.len(), ParseError::Unclosed)),
    }
}

fn need(name: &str, start: usize, end: usize) -> Item {
    Item {
        start,
        end,
        problem: Problem::Undefined(name.to_string()),
    }
}

/// The arguments of an operator, up to the closing `}`: text and nested expressions.
fn parse_args(s: &str, start: usize, mut a: usize, out: &mut Vec<Item>) -> Result<usize, Item> {
    let b = s.as_bytes();
    loop {
        match b.get(a) {
            None => {
                return Err(Item {
                    start,
                    end: s.len(),
                    problem: Problem::Parse(ParseError::Unclosed),
                });
            }
            Some(b'}') => return Ok(a + 1),
            Some(b'$') if b.get(a + 1) == Some(&b'{') => a = parse_expr(s, a, out)?,
            Some(_) => a += 1,
        }
    }
}

fn flux_name(repo: &Repository, f: FluxId) -> &str {
    repo.objects[repo.flux[f].object]
        .name
        .as_deref()
        .unwrap_or("")
}

fn report(repo: &Repository, vars: &[Vars], file: FileId, finding: Finding) -> Diagnostic {
    let names: Vec<String> = finding
        .flux
        .iter()
        .map(|&f| format!("`{}`", flux_name(repo, f)))
        .collect();
    let who = match names.len() {
        1 => format!("Flux Kustomization {}", names[0]),
        _ => format!("Flux Kustomizations {}", names.join(", ")),
    };
    let expr = &finding.expr;
    let (message, help) = match &finding.problem {
        Problem::Undefined(name) => {
            let defined = finding.flux.iter().flat_map(|&f| match &vars[f] {
                Vars::Known(n) => n.iter().map(String::as_str).collect::<Vec<_>>(),
                _ => Vec::new(),
            });
            let near = closest(name, defined.collect::<BTreeSet<_>>());
            let mut help = match near {
                Some(n) => format!("did you mean `{n}`? Otherwise "),
                None => String::new(),
            };
            help.push_str(&format!(
                "define `{name}` in `postBuild.substitute` (or a `substituteFrom` source), give it a default (`${{{name}:=value}}`), or write `$${{{name}}}` to keep it literal (for example in a script)"
            ));
            (
                format!(
                    "`{expr}` has no value: {who} that builds this object defines no `{name}`, and since Flux 2.9 a variable without a default fails the whole reconcile (before, it silently became an empty string)"
                ),
                help,
            )
        }
        Problem::Parse(e) => {
            let why = match e {
                ParseError::Dash => {
                    "`-` without `:` is not a default operator in Flux (its parser stops at the dash: \"missing closing brace\")"
                }
                ParseError::BadName => {
                    "a variable name holds only letters, digits and `_`, followed by `}` or an operator (Flux: \"missing closing brace\" / \"bad substitution\")"
                }
                ParseError::NoName => {
                    "there is no variable name after `${` (Flux: \"unable to parse variable name\")"
                }
                ParseError::Unclosed => {
                    "the `${` is never closed (Flux: \"missing closing brace\")"
                }
            };
            let help = match e {
                ParseError::Dash => {
                    "write the default as `${VAR:-default}` or `${VAR:=default}`; if the text is meant literally, escape it as `$${`"
                }
                _ => {
                    "if the text is meant literally (a shell or template expression), escape it as `$${...}`; otherwise fix the expression"
                }
            };
            (
                format!(
                    "Flux cannot parse `{expr}`: {why}; the substitution of {who} fails for this whole object"
                ),
                help.to_string(),
            )
        }
    };
    let _ = finding.object;
    let mut d = Diagnostic::new(RULE.id, Severity::Error, file, finding.span, message).help(help);
    for &f in &finding.flux {
        d = d.related(
            repo.objects[repo.flux[f].object].file,
            flux_site(repo, f),
            format!(
                "Flux Kustomization `{}` builds this object and substitutes its variables",
                flux_name(repo, f)
            ),
        );
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(s: &str) -> Vec<(String, Problem)> {
        let mut items = Vec::new();
        scan_value(s, &mut items);
        items
            .into_iter()
            .map(|i| (s[i.start..i.end].to_string(), i.problem))
            .collect()
    }

    fn undefined(name: &str) -> Problem {
        Problem::Undefined(name.to_string())
    }

    #[test]
    fn grammar_follows_flux_envsubst() {
        assert_eq!(problems("${A}-x"), vec![("${A}".into(), undefined("A"))]);
        assert!(problems("${A:=d}${B:-d}${C=d}${D:+x}${E:?y}").is_empty());
        assert!(problems("$${A} $$B $C").is_empty());
        assert_eq!(problems("$$${A}"), vec![("${A}".into(), undefined("A"))]);
        assert_eq!(
            problems("${PVC:=${APP}}"),
            vec![("${APP}".into(), undefined("APP"))]
        );
        assert_eq!(
            problems("${A-d}"),
            vec![("${A-d}".into(), Problem::Parse(ParseError::Dash))]
        );
        assert_eq!(
            problems("${bad.name}"),
            vec![("${bad.name}".into(), Problem::Parse(ParseError::BadName))]
        );
        assert_eq!(
            problems("x ${A"),
            vec![("${A".into(), Problem::Parse(ParseError::Unclosed))]
        );
        assert_eq!(
            problems("${!X}"),
            vec![("${!X}".into(), Problem::Parse(ParseError::NoName))]
        );
        assert_eq!(
            problems("${A,,} ${#B}"),
            vec![
                ("${A,,}".into(), undefined("A")),
                ("${#B}".into(), undefined("B"))
            ]
        );
        assert!(problems("{{ .Values.x }} $(date) <<inputs.x>>").is_empty());
    }

    #[test]
    fn selectors() {
        let labels = |k: &str| (k == "a").then_some("x");
        assert_eq!(label_selector("a=x", labels), Some(true));
        assert_eq!(label_selector("a notin (true)", labels), Some(true));
        assert_eq!(label_selector("b in (x)", labels), Some(false));
        assert_eq!(label_selector("!b,a", labels), Some(true));
    }

    #[test]
    fn locates_inside_quotes() {
        assert_eq!(locate("a ${X}", "\"a ${X}\"", 2, "${X}"), Some(3));
        assert_eq!(locate("${X} ${X}", "'${X} ${X}'", 5, "${X}"), Some(6));
    }
}
