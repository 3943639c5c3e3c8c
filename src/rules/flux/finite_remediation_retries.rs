use crate::diagnostic::Severity;
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "flux/finite-remediation-retries",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: false,
    summary: "a HelmRelease `install` or `upgrade` remediation with negative (unlimited) `retries`",
    page: include_str!("../../../lints/flux/finite-remediation-retries.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for (id, obj) in ctx.objects("helm.toolkit.fluxcd.io", "HelmRelease") {
        let Some(spec) = repo.object_node(id).get("spec") else {
            continue;
        };
        for phase in ["install", "upgrade"] {
            let Some(section) = spec.get(phase) else {
                continue;
            };
            // With `RetryOnFailure` the remediation settings do not drive retries.
            if section.str_at(&["strategy", "name"]) == Some("RetryOnFailure") {
                continue;
            }
            let Some(retries) = section.path(&["remediation", "retries"]) else {
                continue;
            };
            let Some(n) = retries.as_i64().filter(|n| *n < 0) else {
                continue;
            };
            let between = match (phase, section.str_at(&["remediation", "strategy"])) {
                ("install", _) | (_, Some("uninstall")) => "an uninstall",
                _ => "a rollback",
            };
            ctx.report(obj.file,
                    retries.span(),
                    format!("`spec.{phase}.remediation.retries: {n}` means unlimited retries: a release that cannot {phase} is retried forever, with {between} between attempts, and never settles as failed"),
                )
                .help("set a finite number of retries (for example `retries: 3`); a failed release then stays failed and visible until it is fixed");
        }
    }
}
