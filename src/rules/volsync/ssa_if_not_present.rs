use crate::diagnostic::Severity;
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "volsync/ssa-if-not-present",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: false,
    summary: "`kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` on a ReplicationDestination, which Flux then never updates",
    page: include_str!("../../../lints/volsync/ssa-if-not-present.md"),
    check: Some(check),
};

const SSA: &str = "kustomize.toolkit.fluxcd.io/ssa";

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for (id, obj) in repo.of_kind("ReplicationDestination") {
        if obj.group() != "volsync.backube" {
            continue;
        }
        let Some(meta) = repo.object_node(id).get("metadata") else {
            continue;
        };
        for (place, what) in [("annotations", "annotation"), ("labels", "label")] {
            let Some((key, value)) = meta.get(place).and_then(|m| m.entry(SSA)) else {
                continue;
            };
            let Some(raw) = value.as_str() else { continue };
            // Flux compares the value without regard to case; a variable is
            // read as every build renders it.
            let if_not_present = repo.instances(id).any(|inst| {
                repo.render(inst, raw)
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("IfNotPresent"))
            });
            if !if_not_present {
                continue;
            }
            ctx.report(obj.file,
                    key.span(),
                    format!("the `{SSA}: IfNotPresent` {what} makes Flux create this ReplicationDestination once and never apply it again: a later fix in Git (such as adding `copyMethod: Snapshot`) never reaches an existing one, which is how restores kept failing after the fix until every ReplicationDestination was deleted by hand"),
                )
                .help(format!("remove the {what} and let Flux manage the ReplicationDestination like any other object (it is declarative and safe to update; a restore runs once through `trigger.manual`)"));
        }
    }
}
