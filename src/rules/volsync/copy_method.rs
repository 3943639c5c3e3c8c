use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::{Diagnostic, FileId, Severity};
use crate::model::{FluxId, Instance, ObjectId, Repository};
use crate::rules::{Ctx, Rule};
use crate::yaml::{NodeRef, Span};

pub static RULE: Rule = Rule {
    id: "volsync/copy-method",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "a VolSync mover without `copyMethod`, with a value the mover rejects, or not `Snapshot` where a PVC uses the ReplicationDestination as its volume populator",
    page: include_str!("../../../lints/volsync/copy-method.md"),
    check: Some(check),
};

const GROUP: &str = "volsync.backube";

/// Movers whose spec carries the volume options (`copyMethod`, ...). `kopia`
/// exists only with the perfectra1n fork's CRDs; `syncthing` and `external`
/// have no `copyMethod` at all.
const MOVERS: &[&str] = &["rsync", "rsyncTLS", "rclone", "restic", "kopia"];

/// A PVC that restores from a ReplicationDestination (volume populator).
struct Populated {
    file: FileId,
    span: Span,
    claim: String,
}

type Key = (Option<FluxId>, Option<String>, String);

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Findings are the movers' of the files reported on.
    let movers: Vec<_> = ["ReplicationSource", "ReplicationDestination"]
        .into_iter()
        .flat_map(|kind| {
            ctx.objects(GROUP, kind)
                .map(move |(id, obj)| (kind, id, obj))
        })
        .collect();
    if movers.is_empty() {
        return;
    }
    let populators = populators(repo);
    for (kind, id, obj) in movers {
        let destination = kind == "ReplicationDestination";
        let Some(spec) = repo.object_node(id).get("spec") else {
            continue;
        };
        for (mkey, mover) in spec.entries() {
            let Some(mname) = mkey.as_str() else { continue };
            if !MOVERS.contains(&mname) || !mover.is_map() {
                continue;
            }
            let users: Vec<&Populated> = if destination {
                repo.instances(id)
                    .filter_map(|inst| populators.get(&key(repo, inst)?))
                    .flatten()
                    .collect()
            } else {
                Vec::new()
            };
            match mover.entry("copyMethod") {
                None => ctx.push(missing(kind, mname, obj.file, mkey.span(), &users)),
                Some((ckey, value)) => {
                    check_value(repo, id, kind, mname, (ckey, value), &populators, ctx);
                }
            }
        }
    }
}

fn missing(kind: &str, mover: &str, file: FileId, span: Span, users: &[&Populated]) -> Diagnostic {
    let accepted = if kind == "ReplicationDestination" {
        "Direct, None, or Snapshot"
    } else {
        "Direct, None, Clone, or Snapshot"
    };
    let mut d = Diagnostic::new(
        RULE.id,
        Severity::Error,
        file,
        span,
        format!(
            "`spec.{mover}` of this {kind} has no `copyMethod`: VolSync has no default and fails every sync with `unsupported copyMethod: -- must be {accepted}`"
        ),
    );
    if let Some(first) = users.first() {
        d = d.help(format!(
            "add `copyMethod: Snapshot`: PVC `{}` restores from this ReplicationDestination as a volume populator, which only works with Snapshot",
            first.claim
        ));
        for u in users.iter().take(5) {
            d = d.related(
                u.file,
                u.span,
                format!("PVC `{}` restores from it", u.claim),
            );
        }
    } else if kind == "ReplicationDestination" {
        d = d.help("add `copyMethod: Snapshot` (needed when a PVC restores from it through `dataSourceRef`) or `copyMethod: Direct` (write straight into `destinationPVC`)");
    } else {
        d = d.help("add `copyMethod: Snapshot` (a VolumeSnapshot of the source PVC, the usual choice), `Clone`, or `Direct` (the live PVC itself)");
    }
    d
}

/// What is wrong with one rendered value, with its severity.
fn problem(kind: &str, value: &str) -> Option<(Severity, String, &'static str)> {
    match value {
        "Snapshot" | "Direct" => None,
        "Clone" if kind == "ReplicationDestination" => Some((
            Severity::Error,
            "`copyMethod: Clone` is rejected by every ReplicationDestination mover (`unsupported copyMethod: Clone -- must be Direct, None, or Snapshot`), even though the CRD enum allows it".to_string(),
            "use `Snapshot` (or `Direct` to write into `destinationPVC`)",
        )),
        "Clone" => None,
        "None" => Some((
            Severity::Warning,
            "`copyMethod: None` is deprecated in VolSync; it is the old name of `Direct`".to_string(),
            "write `copyMethod: Direct`",
        )),
        other => Some((
            Severity::Error,
            format!("`copyMethod: {other}` is not one of `Direct`, `None`, `Clone`, `Snapshot`: the API server rejects the {kind}"),
            "use `Snapshot`, `Clone` (ReplicationSource only) or `Direct`",
        )),
    }
}

fn check_value(
    repo: &Repository,
    id: ObjectId,
    kind: &str,
    mover: &str,
    (ckey, value): (NodeRef, NodeRef),
    populators: &HashMap<Key, Vec<Populated>>,
    ctx: &mut Ctx,
) {
    let obj = &repo.objects[id];
    let Some(raw) = value.as_str() else {
        ctx.report(obj.file,
                ckey.span(),
                format!("`spec.{mover}.copyMethod` is empty: VolSync has no default and fails every sync with `unsupported copyMethod`"),
            )
            .help("write `copyMethod: Snapshot` (or `Direct`)");
        return;
    };
    // A template another tool fills in: the final value is not visible here.
    if raw.contains("{{") || raw.contains("<<") {
        return;
    }
    let templated = crate::model::subst::has_vars(raw);
    // Rendered value -> the Flux Kustomizations that build it so.
    let mut rendered: BTreeMap<String, Vec<&Instance>> = BTreeMap::new();
    for inst in repo.instances(id) {
        if let Some(v) = repo.render(inst, raw) {
            rendered.entry(v.trim().to_string()).or_default().push(inst);
        }
    }
    for (v, insts) in &rendered {
        let by = if templated {
            built_by(repo, insts)
        } else {
            String::new()
        };
        if let Some((severity, message, help)) = problem(kind, v) {
            ctx.push(
                Diagnostic::new(
                    RULE.id,
                    severity,
                    obj.file,
                    value.span(),
                    format!("{message}{by}"),
                )
                .help(help),
            );
            continue;
        }
        if kind != "ReplicationDestination" || v == "Snapshot" {
            continue;
        }
        let users: Vec<&Populated> = insts
            .iter()
            .filter_map(|inst| populators.get(&key(repo, inst)?))
            .flatten()
            .collect();
        let Some(first) = users.first() else { continue };
        let mut d = ctx.finding(obj.file,
            value.span(),
            format!("PVC `{}` restores from this ReplicationDestination as a volume populator, which requires `copyMethod: Snapshot`, but it is `{v}`{by}: the PVC stays Pending", first.claim),
        )
        .help("set `copyMethod: Snapshot` (and a `volumeSnapshotClassName`)");
        for u in users.iter().take(5) {
            d = d.related(
                u.file,
                u.span,
                format!("PVC `{}` restores from it", u.claim),
            );
        }
        ctx.push(d);
    }
}

/// " (as built by Flux Kustomization `a`, `b`)" for values that come from substitution.
fn built_by(repo: &Repository, insts: &[&Instance]) -> String {
    let mut names: Vec<&str> = insts
        .iter()
        .filter_map(|i| i.flux)
        .filter_map(|f| repo.objects[repo.flux[f].object].name.as_deref())
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = names.iter().take(3).map(|n| format!("`{n}`")).collect();
    let more = if names.len() > 3 {
        format!(" and {} more", names.len() - 3)
    } else {
        String::new()
    };
    format!(
        " (as substituted by Flux Kustomization {}{more})",
        shown.join(", ")
    )
}

fn key(repo: &Repository, inst: &Instance) -> Option<Key> {
    Some((
        repo.cluster_of(inst),
        inst.namespace.as_deref().map(str::to_string),
        inst.name.as_deref().map(str::to_string)?,
    ))
}

/// PVCs whose `dataSourceRef` names a ReplicationDestination, by the
/// destination they name (cluster, namespace, name as the builds give them).
fn populators(repo: &Repository) -> HashMap<Key, Vec<Populated>> {
    let mut map: HashMap<Key, Vec<Populated>> = HashMap::new();
    for (id, obj) in repo.of_kind("PersistentVolumeClaim") {
        let node = repo.object_node(id);
        let Some(source) = node.path(&["spec", "dataSourceRef"]) else {
            continue;
        };
        if source.str_at(&["kind"]) != Some("ReplicationDestination")
            || source.str_at(&["apiGroup"]) != Some(GROUP)
        {
            continue;
        }
        let Some(name) = source.get("name") else {
            continue;
        };
        let Some(raw) = name.as_str() else { continue };
        let span = source.key_span("name").unwrap_or(name.span());
        for inst in repo.instances(id) {
            let Some(target) = repo.render(inst, raw) else {
                continue;
            };
            let namespace = match source.str_at(&["namespace"]) {
                Some(ns) => repo.render(inst, ns),
                None => inst.namespace.as_deref().map(str::to_string),
            };
            let claim = inst
                .name
                .as_deref()
                .or(obj.name.as_deref())
                .unwrap_or_default()
                .to_string();
            map.entry((repo.cluster_of(inst), namespace, target))
                .or_default()
                .push(Populated {
                    file: obj.file,
                    span,
                    claim,
                });
        }
    }
    map
}
