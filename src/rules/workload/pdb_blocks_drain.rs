use std::collections::{HashMap, HashSet};

use crate::diagnostic::{FileId, Severity};
use crate::model::app_template::ControllerType;
use crate::model::{FluxId, Repository};
use crate::rules::{Ctx, Rule};
use crate::yaml::Span;

pub static RULE: Rule = Rule {
    id: "workload/pdb-blocks-drain",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: true,
    summary: "a PodDisruptionBudget that allows no eviction (`minAvailable` equal to the replicas it selects, or `maxUnavailable: 0`), so node drains hang",
    page: include_str!("../../../lints/workload/pdb-blocks-drain.md"),
    check: Some(check),
};

const HELP: &str = "run at least one replica more than `minAvailable` (or use `maxUnavailable: 1`), so one pod can be evicted while the others serve";

/// Where the build puts an object: its cluster and namespace.
type Place = (Option<FluxId>, Option<String>);

/// A workload's pods, as one build produces them.
struct Workload {
    what: String,
    labels: HashMap<String, String>,
    /// `None` when the count cannot be known (a variable, an autoscaler).
    replicas: Option<i64>,
    file: FileId,
    span: Span,
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Findings are the budgets': none is wanted of a file not reported on.
    let pdbs: Vec<_> = repo
        .of_kind("PodDisruptionBudget")
        .filter(|(_, o)| o.group() == "policy" && ctx.wants(o.file))
        .collect();
    if pdbs.is_empty() {
        return;
    }
    // A budget selects pods of its own place only: workloads elsewhere are
    // not read.
    let places: HashSet<Place> = pdbs
        .iter()
        .flat_map(|&(id, _)| repo.instances(id))
        .map(|inst| {
            (
                repo.cluster_of(inst),
                inst.namespace.as_deref().map(str::to_string),
            )
        })
        .collect();
    let scaled = autoscaled(repo);
    let mut workloads: HashMap<Place, Vec<Workload>> = HashMap::new();
    plain_workloads(repo, &scaled, &places, &mut workloads);
    app_template(repo, &scaled, &places, &mut workloads);
    for (id, obj) in pdbs {
        let Some(spec) = repo.object_node(id).get("spec") else {
            continue;
        };
        let name = obj.name.as_deref().unwrap_or("(unnamed)");
        if let Some((key, value)) = spec.entry("maxUnavailable") {
            let zero = repo.instances(id).find_map(|inst| {
                repo.render_node(inst, value).filter(
                    |t| matches!(t.trim().trim_end_matches('%').parse::<f64>(), Ok(v) if v == 0.0),
                )
            });
            if let Some(zero) = zero {
                ctx.report(obj.file,
                        key.span(),
                        format!("PodDisruptionBudget `{name}` has `maxUnavailable: {}`: no pod it selects may ever be evicted, so draining a node that runs one (a rolling cluster upgrade) hangs until someone relaxes the budget by hand", zero.trim()),
                    )
                    .help("allow one disruption (`maxUnavailable: 1`) and run enough replicas to serve while one is moved");
            }
            continue;
        }
        let Some((key, value)) = spec.entry("minAvailable") else {
            continue;
        };
        let Some(selector) = spec.get("selector") else {
            continue;
        };
        // Only `matchLabels` is evaluated; an expression or an empty selector is not guessed at.
        if selector
            .get("matchExpressions")
            .is_some_and(|e| e.items().next().is_some())
        {
            continue;
        }
        let Some(match_labels) = selector.get("matchLabels").filter(|m| m.is_map()) else {
            continue;
        };
        for inst in repo.instances(id) {
            let wanted: Option<Vec<(String, String)>> = match_labels
                .entries()
                .map(|(k, v)| Some((k.as_str()?.to_string(), repo.render_node(inst, v)?)))
                .collect();
            let Some(wanted) = wanted.filter(|w| !w.is_empty()) else {
                continue;
            };
            let place = (
                repo.cluster_of(inst),
                inst.namespace.as_deref().map(str::to_string),
            );
            let selected: Vec<&Workload> = workloads
                .get(&place)
                .into_iter()
                .flatten()
                .filter(|w| wanted.iter().all(|(k, v)| w.labels.get(k) == Some(v)))
                .collect();
            if selected.is_empty() {
                continue;
            }
            let Some(total) = selected
                .iter()
                .map(|w| w.replicas)
                .sum::<Option<i64>>()
                .filter(|&t| t > 0)
            else {
                continue;
            };
            let Some(min) = repo.render_node(inst, value) else {
                continue;
            };
            let min = min.trim();
            let needed = match min.strip_suffix('%') {
                Some(p) => match p.trim().parse::<i64>() {
                    // Kubernetes rounds a percentage of minAvailable up.
                    Ok(p) => (total * p + 99) / 100,
                    Err(_) => continue,
                },
                None => match min.parse::<i64>() {
                    Ok(n) => n,
                    Err(_) => continue,
                },
            };
            if needed < total {
                continue;
            }
            let names: Vec<&str> = selected.iter().map(|w| w.what.as_str()).collect();
            let replicas = if total == 1 {
                "1 replica".to_string()
            } else {
                format!("{total} replicas")
            };
            let mut d = ctx.finding(obj.file,
                key.span(),
                format!("PodDisruptionBudget `{name}` requires `minAvailable: {min}` of the {replicas} it selects ({}): no pod may ever be evicted, so draining a node that runs one (a rolling cluster upgrade) hangs until someone relaxes the budget by hand", names.join(", ")),
            )
            .help(HELP);
            for w in &selected {
                d = d.related(
                    w.file,
                    w.span,
                    format!("{} runs {}", w.what, count(w.replicas)),
                );
            }
            ctx.push(d);
            break;
        }
    }
}

fn count(replicas: Option<i64>) -> String {
    match replicas {
        Some(1) => "1 replica".to_string(),
        Some(n) => format!("{n} replicas"),
        None => "an unknown number of replicas".to_string(),
    }
}

/// Workloads an autoscaler sizes (HPA or KEDA ScaledObject), by place: kind and name.
fn autoscaled(repo: &Repository) -> HashMap<Place, HashSet<(String, String)>> {
    let mut map: HashMap<Place, HashSet<(String, String)>> = HashMap::new();
    for kind in ["HorizontalPodAutoscaler", "ScaledObject"] {
        for (id, _) in repo.of_kind(kind) {
            let Some(target) = repo.object_node(id).path(&["spec", "scaleTargetRef"]) else {
                continue;
            };
            let Some(name) = target.get("name") else {
                continue;
            };
            for inst in repo.instances(id) {
                let Some(name) = repo.render_node(inst, name) else {
                    continue;
                };
                let kind = target.str_at(&["kind"]).unwrap_or("Deployment").to_string();
                map.entry((
                    repo.cluster_of(inst),
                    inst.namespace.as_deref().map(str::to_string),
                ))
                .or_default()
                .insert((kind, name));
            }
        }
    }
    map
}

fn plain_workloads(
    repo: &Repository,
    scaled: &HashMap<Place, HashSet<(String, String)>>,
    places: &HashSet<Place>,
    out: &mut HashMap<Place, Vec<Workload>>,
) {
    for kind in ["Deployment", "StatefulSet"] {
        for (id, obj) in repo.of_kind(kind) {
            if obj.group() != "apps" {
                continue;
            }
            let Some(spec) = repo.object_node(id).get("spec") else {
                continue;
            };
            let Some(pod_labels) = spec.path(&["template", "metadata", "labels"]) else {
                continue;
            };
            let span = spec
                .key_span("replicas")
                .unwrap_or_else(|| repo.kind_span(id));
            for inst in repo.instances(id) {
                let place = (
                    repo.cluster_of(inst),
                    inst.namespace.as_deref().map(str::to_string),
                );
                if !places.contains(&place) {
                    continue;
                }
                let name = inst.name.as_deref().map(str::to_string).unwrap_or_default();
                let autoscaled = scaled
                    .get(&place)
                    .is_some_and(|s| s.contains(&(kind.to_string(), name.clone())));
                let labels = pod_labels
                    .entries()
                    .filter_map(|(k, v)| {
                        Some((k.as_str()?.to_string(), repo.render_node(inst, v)?))
                    })
                    .collect();
                out.entry(place).or_default().push(Workload {
                    what: format!("{kind} `{name}`"),
                    labels,
                    replicas: if autoscaled {
                        None
                    } else {
                        repo.replicas(inst, spec.get("replicas"))
                    },
                    file: obj.file,
                    span,
                });
            }
        }
    }
}

/// bjw-s app-template controllers (their pod labels: see the model's view).
fn app_template(
    repo: &Repository,
    scaled: &HashMap<Place, HashSet<(String, String)>>,
    places: &HashSet<Place>,
    out: &mut HashMap<Place, Vec<Workload>>,
) {
    for c in repo.app_template_controllers() {
        let Some(namespace) = c.namespace(repo) else {
            continue;
        };
        let place = (repo.cluster_of(c.instance), namespace);
        if !places.contains(&place) {
            continue;
        }
        let (Some(release), Some(labels), Some(hr_name)) = (
            c.release_name(repo),
            c.pod_labels(repo),
            c.instance.name.as_deref(),
        ) else {
            continue;
        };
        if !c.enabled(repo) {
            continue;
        }
        match c.kind(repo) {
            ControllerType::Default => {}
            ControllerType::Is(t) if t == "deployment" || t == "statefulset" => {}
            _ => continue,
        }
        // An autoscaler aimed at one of this release's workloads: counts unknown.
        let autoscaled = scaled
            .get(&place)
            .is_some_and(|s| s.iter().any(|(_, n)| n.starts_with(&release)));
        let span = c.node.key_span("replicas").unwrap_or(c.key.span());
        out.entry(place).or_default().push(Workload {
            what: format!(
                "app-template controller `{}` of HelmRelease `{hr_name}`",
                c.name
            ),
            labels,
            replicas: if autoscaled { None } else { c.replicas(repo) },
            file: c.object.file,
            span,
        });
    }
}
