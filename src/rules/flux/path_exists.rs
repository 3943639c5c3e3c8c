use crate::diagnostic::Severity;
use crate::model::{PathIndex, relative};
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "flux/path-exists",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "a Flux Kustomization's `spec.path` names no directory of the repository",
    page: include_str!("../../../lints/flux/path-exists.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    let mut index: Option<PathIndex> = None;
    for fk in &repo.flux {
        // Another repository's paths, or a path whose variables do not resolve.
        let (true, Some(path)) = (fk.local_source, &fk.path) else {
            continue;
        };
        // The finding is the object's: none is wanted of a file not reported on.
        if !ctx.wants(repo.objects[fk.object].file) {
            continue;
        }
        if repo.is_dir(path) {
            continue;
        }
        let obj = &repo.objects[fk.object];
        let Some(value) = repo.object_node(fk.object).path(&["spec", "path"]) else {
            continue;
        };
        let Some(written) = value.as_str() else {
            continue;
        };
        let index = index.get_or_insert_with(|| PathIndex::new(repo));
        let shown = if written.contains("${") {
            format!("`{written}` (`./{path}` after substitution)")
        } else {
            format!("`{written}`")
        };
        let message = if index.is_file(path) {
            format!(
                "`spec.path` {shown} is a file, not a directory: kustomize-controller builds a directory and fails"
            )
        } else {
            format!(
                "`spec.path` {shown} names no directory of the repository: kustomize-controller fails with \"kustomization path not found\" and applies nothing"
            )
        };
        let meant = if index.is_file(path) {
            Some(crate::model::parent_dir(path).to_string())
        } else {
            index.suggest(path, |p| repo.is_dir(p))
        };
        let help = match meant {
            Some(s) if written.contains("${") => format!("did you mean `./{s}`?"),
            Some(s) => format!("did you mean `{}`?", relative("", &s, written)),
            None => "point `spec.path` at the directory (relative to the repository root) that holds the manifests or their kustomization.yaml".to_string(),
        };
        ctx.report(obj.file, value.span(), message).help(help);
    }
}
