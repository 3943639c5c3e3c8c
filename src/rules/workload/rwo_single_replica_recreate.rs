//! A single-replica workload that mounts a ReadWriteOnce claim and rolls out
//! with RollingUpdate: the new pod starts before the old one stops and, on
//! another node, cannot attach the volume (facts §8).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::diagnostic::{Edit, FileId, Severity};
use crate::fix;
use crate::model::{Instance, Repository};
use crate::rules::{Ctx, Rule};
use crate::yaml::{NodeRef, Span};

pub static RULE: Rule = Rule {
    id: "workload/rwo-single-replica-recreate",
    severity: Severity::Error,
    enabled: true,
    summary: "a single-replica workload with a ReadWriteOnce claim rolls out with RollingUpdate and can deadlock",
    page: include_str!("../../../lints/workload/rwo-single-replica-recreate.md"),
    check: Some(check),
};

const HELP: &str = "set `strategy: {type: Recreate}` so the old pod stops before the new one starts \
(or `rollingUpdate: {maxSurge: 0, maxUnavailable: 1}`, or make it a StatefulSet)";
const HELP_APP_TEMPLATE: &str = "remove `strategy: RollingUpdate` (app-template Deployments default to `Recreate`), \
or set `rollingUpdate: {surge: 0, unavailable: 1}`";

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    let claims = Claims::new(repo);
    deployments(repo, &claims, ctx);
    app_template(repo, &claims, ctx);
}

/// A PersistentVolumeClaim as one build produces it.
struct ClaimRec {
    /// Its `accessModes` key, else its name: where the related information points.
    at: At,
    /// The access modes after substitution; `None` when they cannot be read.
    modes: Option<Vec<String>>,
    /// The volume lives on one node (a local storage class or a local
    /// PersistentVolume): every pod using it is scheduled there.
    node_local: bool,
}

/// Every PersistentVolumeClaim instance, by name.
struct Claims {
    by_name: HashMap<String, Vec<(Option<String>, ClaimRec)>>,
    local_classes: HashSet<String>,
}

/// Provisioners whose volumes are a directory or disk of one node.
const LOCAL_PROVISIONERS: &[&str] = &[
    "kubernetes.io/no-provisioner",
    "openebs.io/local",
    "rancher.io/local-path",
];

/// The default StorageClass names of those provisioners, for classes a Helm
/// chart creates out of sight (OpenEBS LocalPV hostpath, local-path-provisioner,
/// the name the Kubernetes documentation gives static local volumes).
const LOCAL_CLASS_NAMES: &[&str] = &["local-path", "local-storage", "openebs-hostpath"];

/// What a claim name resolves to.
enum Lookup<'c> {
    /// Found; the first instance whose modes include a single-node mode.
    SingleNode(&'static str, &'c ClaimRec),
    /// Found, and no instance has a single-node mode.
    Shared,
    /// Found, but its modes cannot be read.
    Unreadable(&'c ClaimRec),
    Missing,
}

/// The access mode that can keep the new pod from the volume: ReadWriteOncePod
/// anywhere; ReadWriteOnce unless the volume is node-local, which puts the new
/// pod on the old pod's node, where ReadWriteOnce admits both.
fn single_node_mode(modes: &[String], node_local: bool) -> Option<&'static str> {
    if modes.iter().any(|m| m == "ReadWriteOncePod") {
        Some("ReadWriteOncePod")
    } else if !node_local && modes.iter().any(|m| m == "ReadWriteOnce") {
        Some("ReadWriteOnce")
    } else {
        None
    }
}

impl Claims {
    fn new(repo: &Repository) -> Self {
        let mut local_classes: HashSet<String> =
            LOCAL_CLASS_NAMES.iter().map(|s| s.to_string()).collect();
        for (id, obj) in repo.of_kind("StorageClass") {
            let node = repo.object_node(id);
            let provisioner = node.str_at(&["provisioner"]);
            if let (Some(name), Some(p)) = (&obj.name, provisioner)
                && LOCAL_PROVISIONERS.contains(&p)
            {
                local_classes.insert(name.clone());
            }
        }
        let local_volumes: HashSet<&str> = repo
            .of_kind("PersistentVolume")
            .filter(|(id, _)| {
                let spec = repo.object_node(*id).get("spec");
                spec.is_some_and(|s| {
                    ["local", "hostPath", "nodeAffinity"]
                        .iter()
                        .any(|k| s.get(k).is_some())
                })
            })
            .filter_map(|(_, o)| o.name.as_deref())
            .collect();
        let mut by_name: HashMap<String, Vec<(Option<String>, ClaimRec)>> = HashMap::new();
        for (id, obj) in repo.of_kind("PersistentVolumeClaim") {
            if obj.api_version != "v1" {
                continue;
            }
            let node = repo.object_node(id);
            let spec = node.get("spec");
            let span = spec
                .and_then(|s| s.key_span("accessModes"))
                .or_else(|| node.path(&["metadata", "name"]).map(|n| n.span()))
                .unwrap_or_else(|| repo.kind_span(id));
            for inst in repo.instances(id) {
                let Some(name) = inst.name.clone() else {
                    continue;
                };
                let modes = spec.and_then(|s| s.get("accessModes")).and_then(|m| {
                    let modes: Option<Vec<String>> = m
                        .items()
                        .map(|i| i.as_str().and_then(|t| repo.render(inst, t)))
                        .collect();
                    modes.filter(|v| !v.is_empty())
                });
                let class = spec
                    .and_then(|s| s.get("storageClassName"))
                    .and_then(|c| text(repo, inst, c));
                let volume = spec
                    .and_then(|s| s.get("volumeName"))
                    .and_then(|v| text(repo, inst, v));
                let node_local = class.is_some_and(|c| local_classes.contains(&c))
                    || volume.is_some_and(|v| local_volumes.contains(v.as_str()));
                by_name.entry(name).or_default().push((
                    inst.namespace.clone(),
                    ClaimRec {
                        at: At {
                            file: obj.file,
                            span,
                        },
                        modes,
                        node_local,
                    },
                ));
            }
        }
        Claims {
            by_name,
            local_classes,
        }
    }

    /// The claim `name` in `namespace`; where either namespace is unknown, a
    /// claim of that name in any namespace.
    fn lookup(&self, name: &str, namespace: Option<&str>) -> Lookup<'_> {
        let Some(all) = self.by_name.get(name) else {
            return Lookup::Missing;
        };
        let mut found: Vec<&ClaimRec> = all
            .iter()
            .filter(|(ns, _)| ns.as_deref() == namespace)
            .map(|(_, c)| c)
            .collect();
        if found.is_empty() {
            found = all
                .iter()
                .filter(|(ns, _)| ns.is_none() || namespace.is_none())
                .map(|(_, c)| c)
                .collect();
        }
        if found.is_empty() {
            return Lookup::Missing;
        }
        for c in &found {
            if let Some(mode) = c
                .modes
                .as_deref()
                .and_then(|m| single_node_mode(m, c.node_local))
            {
                return Lookup::SingleNode(mode, c);
            }
        }
        match found.iter().find(|c| c.modes.is_none()) {
            Some(c) => Lookup::Unreadable(c),
            None => Lookup::Shared,
        }
    }
}

/// A claim a workload mounts: one in the repository, or one the chart makes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ClaimName {
    Object(String),
    Chart(String),
}

impl ClaimName {
    fn show(&self) -> String {
        match self {
            ClaimName::Object(n) => format!("claim `{n}`"),
            ClaimName::Chart(p) => format!("claim the chart makes for `persistence.{p}`"),
        }
    }
}

/// Where related information points.
#[derive(Clone, Copy)]
struct At {
    file: FileId,
    span: Span,
}

enum Unknown {
    Missing(Option<String>),
    Unreadable(At),
}

/// What one workload mounts, over all its instances.
#[derive(Default)]
struct Mounts {
    single: BTreeMap<ClaimName, (&'static str, At)>,
    unknown: BTreeMap<ClaimName, Unknown>,
}

impl Mounts {
    fn add(&mut self, claims: &Claims, name: String, namespace: Option<&str>) {
        let found = claims.lookup(&name, namespace);
        let key = ClaimName::Object(name);
        match found {
            Lookup::SingleNode(mode, rec) => self.single_node(key, mode, rec.at),
            Lookup::Shared => {}
            Lookup::Unreadable(rec) => self.unknown(key, Unknown::Unreadable(rec.at)),
            Lookup::Missing => self.unknown(key, Unknown::Missing(namespace.map(str::to_string))),
        }
    }

    fn single_node(&mut self, key: ClaimName, mode: &'static str, at: At) {
        self.unknown.remove(&key);
        self.single.entry(key).or_insert((mode, at));
    }

    fn unknown(&mut self, key: ClaimName, why: Unknown) {
        if !self.single.contains_key(&key) {
            self.unknown.entry(key).or_insert(why);
        }
    }

    /// The finding for a workload described as `what` (for example
    /// "Deployment `gitea`"), pointing at `span` of `file`. `fix` goes with
    /// the error only: where a claim's mode is unknown, Recreate may not be wanted.
    fn report(
        &self,
        what: &str,
        file: FileId,
        span: Span,
        help: &str,
        fix: Option<(&str, Vec<Edit>)>,
        ctx: &mut Ctx,
    ) {
        if !self.single.is_empty() {
            let list: Vec<String> = self
                .single
                .iter()
                .map(|(n, (mode, _))| format!("the {mode} {}", n.show()))
                .collect();
            let pod = self.single.values().any(|(m, _)| *m == "ReadWriteOncePod");
            let why = if pod {
                "while the old pod holds a ReadWriteOncePod volume no other pod can use it, on any node"
            } else {
                "on another node it cannot attach a ReadWriteOnce volume the old pod holds (Multi-Attach error)"
            };
            let mut d = ctx.finding(file,
                span,
                format!(
                    "{what} runs one replica with RollingUpdate and mounts {}: the new pod starts before the old one stops, and {why}, so the rollout hangs",
                    list.join(" and ")
                ),
            )
            .help(help);
            for (n, (mode, at)) in &self.single {
                let msg = match n {
                    ClaimName::Object(name) => format!("claim `{name}` is {mode}"),
                    ClaimName::Chart(p) => format!("`persistence.{p}` makes a {mode} claim"),
                };
                d = d.related(at.file, at.span, msg);
            }
            if let Some((message, edits)) = fix {
                d = d.fix(message, edits);
            }
            ctx.push(d);
        } else if !self.unknown.is_empty() {
            let list: Vec<String> = self
                .unknown
                .iter()
                .map(|(n, u)| match u {
                    Unknown::Missing(Some(ns)) => {
                        format!("{}, not found in namespace `{ns}`", n.show())
                    }
                    Unknown::Missing(None) => format!("{}, not found in the repository", n.show()),
                    Unknown::Unreadable(_) => {
                        format!("{}, whose access modes cannot be resolved", n.show())
                    }
                })
                .collect();
            let mut d = ctx.finding(file,
                span,
                format!(
                    "{what} runs one replica with RollingUpdate and mounts the {}: its access mode is unknown; if it is ReadWriteOnce, the new pod starts before the old one stops and, on another node, cannot attach the volume, so the rollout hangs",
                    list.join("; the ")
                ),
            )
.severity(Severity::Warning)
            .help(format!("if the claim is ReadWriteOnce or ReadWriteOncePod, {help}"));
            for (n, u) in &self.unknown {
                if let Unknown::Unreadable(at) = u {
                    d = d.related(
                        at.file,
                        at.span,
                        format!("{}: access modes not resolvable", n.show()),
                    );
                }
            }
            ctx.push(d);
        }
    }
}

/// The text of a scalar after the instance's Flux substitution.
fn text(repo: &Repository, inst: &Instance, node: NodeRef) -> Option<String> {
    repo.render(inst, node.as_str()?)
}

/// Whether a replica count is one: absent is one; a value that cannot be read
/// (null for an autoscaler, an unresolvable variable) is not.
fn one_replica(repo: &Repository, inst: &Instance, node: Option<NodeRef>) -> bool {
    match node {
        None => true,
        Some(n) => text(repo, inst, n).and_then(|t| t.trim().parse::<i64>().ok()) == Some(1),
    }
}

/// Whether a surge value is zero (`0`, `"0"`, `"0%"`).
fn zero_surge(repo: &Repository, inst: &Instance, node: Option<NodeRef>) -> bool {
    node.and_then(|n| text(repo, inst, n))
        .is_some_and(|t| matches!(t.trim().trim_end_matches('%').parse::<f64>(), Ok(v) if v == 0.0))
}

fn deployments(repo: &Repository, claims: &Claims, ctx: &mut Ctx) {
    for (id, obj) in repo.of_kind("Deployment") {
        if obj.group() != "apps" || !repo.wants(obj.file) {
            continue;
        }
        let node = repo.object_node(id);
        let Some((spec_key, spec)) = node.entry("spec") else {
            continue;
        };
        let volumes = spec.path(&["template", "spec", "volumes"]);
        let mut mounts = Mounts::default();
        for inst in repo.instances(id) {
            if !one_replica(repo, inst, spec.get("replicas")) {
                continue;
            }
            let strategy = spec.get("strategy");
            let kind = strategy.and_then(|s| s.get("type"));
            match kind.map(|k| text(repo, inst, k)) {
                None => {}
                Some(Some(t)) if t == "RollingUpdate" => {}
                _ => continue,
            }
            if zero_surge(
                repo,
                inst,
                strategy.and_then(|s| s.path(&["rollingUpdate", "maxSurge"])),
            ) {
                continue;
            }
            for v in volumes.into_iter().flat_map(|v| v.items()) {
                let Some(claim) = v.path(&["persistentVolumeClaim", "claimName"]) else {
                    continue;
                };
                let Some(name) = text(repo, inst, claim) else {
                    continue;
                };
                mounts.add(claims, name, inst.namespace.as_deref());
            }
        }
        let span = spec
            .key_span("strategy")
            .or_else(|| spec.key_span("replicas"))
            .unwrap_or_else(|| repo.kind_span(id));
        let what = format!(
            "Deployment `{}`",
            obj.name.as_deref().unwrap_or("(unnamed)")
        );
        let fix = (!mounts.single.is_empty())
            .then(|| deployment_fix(&repo.files[obj.file].text, spec_key, spec))
            .flatten()
            .map(|edits| ("set `strategy: {type: Recreate}`", edits));
        mounts.report(&what, obj.file, span, HELP, fix, ctx);
    }
}

/// Whether `enabled:` is false (after substitution).
fn disabled(repo: &Repository, inst: &Instance, node: NodeRef) -> bool {
    node.get("enabled").and_then(|e| repo.render_bool(inst, e)) == Some(false)
}

fn app_template(repo: &Repository, claims: &Claims, ctx: &mut Ctx) {
    for hr in &repo.helm_releases {
        if !hr.app_template || !repo.wants(repo.objects[hr.object].file) {
            continue;
        }
        let Some(values) = hr.values else { continue };
        let obj = &repo.objects[hr.object];
        let values = repo.node(obj.file, values);
        let Some(controllers) = values.get("controllers").filter(|c| c.is_map()) else {
            continue;
        };
        let persistence = values.get("persistence");
        let target_ns = repo
            .object_node(hr.object)
            .path(&["spec", "targetNamespace"]);
        for (ckey, c) in controllers.entries() {
            let Some(cname) = ckey.as_str() else { continue };
            let Some(strategy_key) = c.key_span("strategy") else {
                continue;
            };
            let mut mounts = Mounts::default();
            for inst in repo.instances(hr.object) {
                if !rolls_with_one_replica(repo, inst, c) {
                    continue;
                }
                let namespace = match target_ns {
                    Some(t) => text(repo, inst, t),
                    None => inst.namespace.clone(),
                };
                for (pkey, p) in persistence.into_iter().flat_map(|p| p.entries()) {
                    let Some(pname) = pkey.as_str() else { continue };
                    if !p.is_map() || disabled(repo, inst, p) || !mounts_into(p, cname) {
                        continue;
                    }
                    let kind = p.get("type").map(|t| text(repo, inst, t));
                    match kind {
                        None => {}
                        Some(Some(t)) if t == "persistentVolumeClaim" => {}
                        _ => continue,
                    }
                    if let Some(existing) = p.get("existingClaim") {
                        let Some(name) = text(repo, inst, existing) else {
                            continue;
                        };
                        // A Helm template the chart renders: the final name is not visible here.
                        if name.contains("{{") {
                            continue;
                        }
                        mounts.add(claims, name, namespace.as_deref());
                        continue;
                    }
                    chart_claim(
                        repo,
                        claims,
                        inst,
                        At {
                            file: obj.file,
                            span: pkey.span(),
                        },
                        pname,
                        p,
                        &mut mounts,
                    );
                }
            }
            let what = format!(
                "app-template controller `{cname}` of HelmRelease `{}`",
                obj.name.as_deref().unwrap_or("(unnamed)")
            );
            let fix = (!mounts.single.is_empty())
                .then(|| controller_fix(&repo.files[obj.file].text, ckey, c))
                .flatten()
                .map(|edits| ("set the controller's `strategy: Recreate`", edits));
            mounts.report(&what, obj.file, strategy_key, HELP_APP_TEMPLATE, fix, ctx);
        }
    }
}

/// An enabled Deployment controller with `strategy: RollingUpdate`, one
/// replica and a surge that is not zero.
fn rolls_with_one_replica(repo: &Repository, inst: &Instance, c: NodeRef) -> bool {
    if !c.is_map() || disabled(repo, inst, c) {
        return false;
    }
    let kind = c.get("type").map(|t| text(repo, inst, t));
    match kind {
        None => {}
        Some(Some(t)) if t == "deployment" => {}
        _ => return false,
    }
    if c.get("strategy")
        .and_then(|s| text(repo, inst, s))
        .as_deref()
        != Some("RollingUpdate")
    {
        return false;
    }
    if !one_replica(repo, inst, c.get("replicas")) {
        return false;
    }
    // v5 accepts the Kubernetes key beside the chart's own; the Kubernetes key wins.
    let rolling = c.get("rollingUpdate");
    let surge = rolling.and_then(|r| r.get("maxSurge").or_else(|| r.get("surge")));
    !zero_surge(repo, inst, surge)
}

/// Whether a persistence item mounts into the controller: `advancedMounts`
/// alone names the controllers; otherwise it mounts into every controller.
fn mounts_into(p: NodeRef, controller: &str) -> bool {
    if p.get("globalMounts").is_some() {
        return true;
    }
    match p.get("advancedMounts").filter(|a| a.is_map()) {
        Some(adv) => adv.entries().any(|(k, _)| k.as_str() == Some(controller)),
        None => true,
    }
}

/// A claim the chart makes from `persistence.<p>` (`accessMode`, `size`,
/// `storageClass`).
fn chart_claim(
    repo: &Repository,
    claims: &Claims,
    inst: &Instance,
    at: At,
    pname: &str,
    p: NodeRef,
    mounts: &mut Mounts,
) {
    let Some(mode) = p.get("accessMode") else {
        return;
    };
    let key = ClaimName::Chart(pname.to_string());
    let node_local = p
        .get("storageClass")
        .and_then(|c| text(repo, inst, c))
        .is_some_and(|c| claims.local_classes.contains(&c));
    match text(repo, inst, mode) {
        Some(m) => {
            if let Some(mode) = single_node_mode(&[m], node_local) {
                mounts.single_node(key, mode, at);
            }
        }
        None => mounts.unknown(key, Unknown::Unreadable(at)),
    }
}

/// The fix for a Deployment: `strategy: {type: Recreate}`. Where `strategy`
/// is not written, its lines go after `replicas:` (or first in the spec), at
/// the spec's indentation; where `type: RollingUpdate` is written, the value
/// becomes `Recreate` and a `rollingUpdate:` block (which Recreate forbids) is
/// removed; a `rollingUpdate:` block without `type` becomes `type: Recreate`;
/// an empty `strategy:` or `strategy: {}` gets `{type: Recreate}`. `None` when
/// the layout is not plain enough to edit safely.
fn deployment_fix(text: &str, spec_key: NodeRef, spec: NodeRef) -> Option<Vec<Edit>> {
    if !fix::direct(text, spec_key, spec) {
        return None;
    }
    match fix::written(spec, "strategy")? {
        None => {
            let (at, col) = match fix::written(spec, "replicas")? {
                Some((k, v)) => {
                    let lines = fix::entry_lines(text, k, v, false)?;
                    (lines.end, lines.column)
                }
                None => fix::block_start(text, spec_key, spec)?,
            };
            let step = col.checked_sub(fix::column(text, spec_key.span().start as usize))?;
            if step == 0 {
                return None;
            }
            let kind = format!("{}type: Recreate", " ".repeat(step));
            Some(vec![fix::insert_lines(
                text,
                at,
                col,
                &["strategy:", &kind],
            )])
        }
        Some((skey, strategy)) => {
            if !fix::direct(text, skey, strategy) {
                return None;
            }
            // `strategy:` with nothing, or `strategy: {}` (as Helm renders it).
            if strategy.is_null() {
                let edit = fix::set_empty_value(text, skey, strategy, "{type: Recreate}")?;
                return Some(vec![edit]);
            }
            let span = strategy.span();
            if text.get(span.start as usize..span.end as usize) == Some("{}") {
                let replacement = "{type: Recreate}".to_string();
                return Some(vec![Edit { span, replacement }]);
            }
            let rolling = fix::written(strategy, "rollingUpdate")?;
            let Some((tkey, kind)) = fix::written(strategy, "type")? else {
                // Only `rollingUpdate:`: it becomes `type: Recreate`.
                let (rkey, rolling) = rolling?;
                let edit = fix::replace_entry(text, rkey, rolling, &["type: Recreate"])?;
                return Some(vec![edit]);
            };
            if !fix::direct(text, tkey, kind) {
                return None;
            }
            let mut edits = vec![fix::replace_scalar(
                text,
                kind,
                "RollingUpdate",
                "Recreate",
            )?];
            if let Some((rkey, rolling)) = rolling {
                edits.push(fix::remove_entry(text, rkey, rolling, false)?);
            }
            Some(edits)
        }
    }
}

/// The fix for an app-template controller: `strategy: Recreate`, and its
/// `rollingUpdate:` block removed.
fn controller_fix(text: &str, ckey: NodeRef, c: NodeRef) -> Option<Vec<Edit>> {
    if !fix::direct(text, ckey, c) {
        return None;
    }
    let (skey, strategy) = fix::written(c, "strategy")??;
    if !fix::direct(text, skey, strategy) {
        return None;
    }
    let mut edits = vec![fix::replace_scalar(
        text,
        strategy,
        "RollingUpdate",
        "Recreate",
    )?];
    if let Some((rkey, rolling)) = fix::written(c, "rollingUpdate")? {
        edits.push(fix::remove_entry(text, rkey, rolling, false)?);
    }
    Some(edits)
}
