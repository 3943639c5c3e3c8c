use crate::diagnostic::{Edit, Severity};
use crate::fix;
use crate::rules::{Ctx, Rule};
use crate::yaml::NodeRef;

pub static RULE: Rule = Rule {
    id: "flux/no-retry-interval",
    severity: Severity::Error,
    enabled: true,
    needs_repository: false,
    summary: "`retryInterval` where Flux does not read it (HelmRelease), or against the house rule (Kustomization)",
    page: include_str!("../../../lints/flux/no-retry-interval.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for (id, obj) in ctx.objects("helm.toolkit.fluxcd.io", "HelmRelease") {
        let Some(spec) = repo.object_node(id).get("spec") else {
            continue;
        };
        if let Some(key) = spec.key_span("retryInterval") {
            let mut d = ctx.finding(obj.file,
                key,
                "`spec.retryInterval` is not a HelmRelease field: helm-controller ignores it and failed releases are not retried at this interval",
            )
            .help("remove it; to retry failed upgrades, set `spec.upgrade.strategy: {name: RetryOnFailure, retryInterval: 5m}` (or use `remediation.retries`)");
            if let Some(edit) = remove_top_level(repo.files[obj.file].text(), repo.object_node(id))
            {
                d = d.fix("remove `spec.retryInterval`", vec![edit]);
            }
            ctx.push(d);
        }
        for phase in ["install", "upgrade"] {
            let Some(strategy) = spec.path(&[phase, "strategy"]) else {
                continue;
            };
            let Some(key) = strategy.key_span("retryInterval") else {
                continue;
            };
            let name = strategy.str_at(&["name"]);
            if name == Some("RetryOnFailure") {
                continue;
            }
            let shown = name.map_or("not set".to_string(), |n| format!("`{n}`"));
            ctx.report(obj.file,
                    key,
                    format!("`spec.{phase}.strategy.retryInterval` is valid only with `strategy.name: RetryOnFailure`; the strategy name here is {shown}, so the API server rejects the HelmRelease"),
                )
                .help("set `name: RetryOnFailure`, or remove `retryInterval`");
        }
    }
    for (id, obj) in ctx.objects("kustomize.toolkit.fluxcd.io", "Kustomization") {
        let Some(key) = repo
            .object_node(id)
            .get("spec")
            .and_then(|s| s.key_span("retryInterval"))
        else {
            continue;
        };
        ctx.report(obj.file,
                key,
                "house rule: no `retryInterval` on Flux Kustomizations (it is a valid field: without it, failures retry at `spec.interval`)",
            )
.severity(Severity::Warning)
            .help("remove it and let failures retry at `spec.interval`, or disable this rule in `.gitops-lint.yaml` if your repository allows it");
    }
}

/// The fix: remove the `retryInterval` line of a HelmRelease's spec, when the
/// key and its value sit on that line alone (a comment after them goes too),
/// the spec keeps other keys, and no merge key or repeat hides another one.
fn remove_top_level(text: &str, object: NodeRef) -> Option<Edit> {
    let (spec_key, spec) = fix::written(object, "spec")??;
    let (key, value) = fix::written(spec, "retryInterval")??;
    if !fix::direct(text, spec_key, spec) || spec.entries().count() < 2 || value.scalar().is_none()
    {
        return None;
    }
    fix::remove_entry(text, key, value, true)
}
