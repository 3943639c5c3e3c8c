//! A single-replica workload that mounts a ReadWriteOnce claim and rolls out
//! with RollingUpdate: the new pod starts before the old one stops and, on
//! another node, cannot attach the volume (facts §8).

use std::cell::OnceCell;
use std::collections::BTreeMap;

use super::fixes::{controller_fix, deployment_fix};
use crate::diagnostic::{Edit, FileId, Severity};
use crate::model::app_template::Controller;
use crate::model::storage::{At, Claims, Lookup, single_node_mode};
use crate::model::{Instance, Repository};
use crate::rules::{Ctx, Rule};
use crate::yaml::{NodeRef, Span};

pub static RULE: Rule = Rule {
    id: "workload/rwo-single-replica-recreate",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
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
    // The claims table, read at the first mount of a workload reported on.
    let claims = LazyClaims(repo, OnceCell::new());
    deployments(repo, &claims, ctx);
    app_template(repo, &claims, ctx);
}

/// [`Repository::claims`], made when first asked for.
struct LazyClaims<'r>(&'r Repository, OnceCell<Claims>);

impl LazyClaims<'_> {
    fn get(&self) -> &Claims {
        self.1.get_or_init(|| self.0.claims())
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
    /// What another build of the same workload mounts.
    fn merge(&mut self, other: Mounts) {
        for (key, (mode, at)) in other.single {
            self.single_node(key, mode, at);
        }
        for (key, why) in other.unknown {
            self.unknown(key, why);
        }
    }

    fn add(&mut self, claims: &LazyClaims, name: String, namespace: Option<&str>) {
        let found = claims.get().lookup(&name, namespace);
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

/// Whether a replica count is one: absent is one; a value that cannot be read
/// (null for an autoscaler, an unresolvable variable) is not.
fn one_replica(repo: &Repository, inst: &Instance, node: Option<NodeRef>) -> bool {
    match node {
        None => true,
        Some(n) => {
            repo.render_node(inst, n)
                .and_then(|t| t.trim().parse::<i64>().ok())
                == Some(1)
        }
    }
}

/// Whether a surge value is zero (`0`, `"0"`, `"0%"`).
fn zero_surge(repo: &Repository, inst: &Instance, node: Option<NodeRef>) -> bool {
    node.and_then(|n| repo.render_node(inst, n))
        .is_some_and(|t| matches!(t.trim().trim_end_matches('%').parse::<f64>(), Ok(v) if v == 0.0))
}

fn deployments(repo: &Repository, claims: &LazyClaims, ctx: &mut Ctx) {
    for (id, obj) in ctx.objects("apps", "Deployment") {
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
            match kind.map(|k| repo.render_node(inst, k)) {
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
                let Some(name) = repo.render_node(inst, claim) else {
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
            .then(|| deployment_fix(repo.files[obj.file].text(), spec_key, spec))
            .flatten()
            .map(|edits| ("set `strategy: {type: Recreate}`", edits));
        mounts.report(&what, obj.file, span, HELP, fix, ctx);
    }
}

fn app_template(repo: &Repository, claims: &LazyClaims, ctx: &mut Ctx) {
    // One finding per controller, over every build of its release.
    let mut by_controller: BTreeMap<(usize, u32), (Controller, Mounts)> = BTreeMap::new();
    for c in repo.app_template_controllers_in(|f| repo.wants(f)) {
        if c.node.key_span("strategy").is_none() {
            continue;
        }
        let key = (c.release.object, c.key.span().start);
        let rolls = rolls_with_one_replica(repo, &c);
        let namespace = c.namespace(repo).unwrap_or(None);
        let inst = c.instance;
        let file = c.object.file;
        let mut mounts = Mounts::default();
        if rolls {
            for (pkey, p) in c.persistence(repo) {
                match p.get("type").map(|t| repo.render_node(inst, t)) {
                    None => {}
                    Some(Some(t)) if t == "persistentVolumeClaim" => {}
                    _ => continue,
                }
                if let Some(existing) = p.get("existingClaim") {
                    let Some(name) = repo.render_node(inst, existing) else {
                        continue;
                    };
                    // A Helm template the chart renders: the final name is not visible here.
                    if !name.contains("{{") {
                        mounts.add(claims, name, namespace.as_deref());
                    }
                    continue;
                }
                let at = At {
                    file,
                    span: pkey.span(),
                };
                let pname = pkey.as_str().unwrap_or_default();
                chart_claim(repo, claims, inst, at, pname, p, &mut mounts);
            }
        }
        let entry = by_controller
            .entry(key)
            .or_insert_with(|| (c, Mounts::default()));
        entry.1.merge(mounts);
    }
    for (c, mounts) in by_controller.into_values() {
        let what = format!(
            "app-template controller `{}` of HelmRelease `{}`",
            c.name,
            c.object.name.as_deref().unwrap_or("(unnamed)")
        );
        let fix = (!mounts.single.is_empty())
            .then(|| controller_fix(repo.files[c.object.file].text(), c.key, c.node))
            .flatten()
            .map(|edits| ("set the controller's `strategy: Recreate`", edits));
        let strategy_key = c.node.key_span("strategy").expect("filtered above");
        mounts.report(
            &what,
            c.object.file,
            strategy_key,
            HELP_APP_TEMPLATE,
            fix,
            ctx,
        );
    }
}

/// An enabled Deployment controller with `strategy: RollingUpdate`, one
/// replica and a surge that is not zero.
fn rolls_with_one_replica(repo: &Repository, c: &Controller) -> bool {
    c.enabled(repo)
        && c.is_deployment(repo)
        && c.strategy(repo).as_deref() == Some("RollingUpdate")
        && c.replicas(repo) == Some(1)
        && !zero_surge(repo, c.instance, c.surge())
}

/// A claim the chart makes from `persistence.<p>` (`accessMode`, `size`,
/// `storageClass`).
fn chart_claim(
    repo: &Repository,
    claims: &LazyClaims,
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
        .and_then(|c| repo.render_node(inst, c))
        .is_some_and(|c| claims.get().local_classes.contains(&c));
    match repo.render_node(inst, mode) {
        Some(m) => {
            if let Some(mode) = single_node_mode(&[m], node_local) {
                mounts.single_node(key, mode, at);
            }
        }
        None => mounts.unknown(key, Unknown::Unreadable(at)),
    }
}
