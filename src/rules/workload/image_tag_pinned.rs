use crate::diagnostic::{Diagnostic, FileId, Severity};
use crate::rules::{Ctx, Rule};
use crate::yaml::NodeRef;

pub static RULE: Rule = Rule {
    id: "workload/image-tag-pinned",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: false,
    summary: "a container image without a tag or digest, or on `latest`",
    page: include_str!("../../../lints/workload/image-tag-pinned.md"),
    check: Some(check),
};

/// Where each workload kind keeps its pod spec.
const POD_SPEC: &[(&str, &[&str])] = &[
    ("Pod", &["spec"]),
    ("Deployment", &["spec", "template", "spec"]),
    ("StatefulSet", &["spec", "template", "spec"]),
    ("DaemonSet", &["spec", "template", "spec"]),
    ("ReplicaSet", &["spec", "template", "spec"]),
    ("Job", &["spec", "template", "spec"]),
    (
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
];

const HELP: &str = "pin a version tag (`image: ghcr.io/org/app:1.4.2`), ideally with its digest (`:1.4.2@sha256:…`), and let Renovate propose upgrades";

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for &(kind, path) in POD_SPEC {
        for (id, obj) in repo.of_kind(kind) {
            if !matches!(obj.group(), "" | "apps" | "batch") || !repo.wants(obj.file) {
                continue;
            }
            let Some(pod) = repo.object_node(id).path(path) else {
                continue;
            };
            for list in ["initContainers", "containers"] {
                for c in pod.get(list).into_iter().flat_map(|l| l.items()) {
                    let Some(image) = c.get("image") else {
                        continue;
                    };
                    let Some(text) = image.as_str() else { continue };
                    if let Some(problem) = problem(text) {
                        let name = c.str_at(&["name"]).unwrap_or("?");
                        ctx.push(diag(obj.file, image, name, &format!("`{text}`"), problem));
                    }
                }
            }
        }
    }
    for hr in &repo.helm_releases {
        if !hr.app_template || !repo.wants(repo.objects[hr.object].file) {
            continue;
        }
        let Some(values) = hr.values else { continue };
        let file = repo.objects[hr.object].file;
        let values = repo.node(file, values);
        let Some(controllers) = values.get("controllers") else {
            continue;
        };
        for (_, controller) in controllers.entries() {
            for list in ["initContainers", "containers"] {
                let Some(containers) = controller.get(list) else {
                    continue;
                };
                for (name, c) in containers.entries() {
                    let name = name.as_str().unwrap_or("?");
                    if let Some(d) = app_template_image(file, name, c) {
                        ctx.push(d);
                    }
                }
            }
        }
    }
}

/// app-template `image: {repository, tag, digest}`.
fn app_template_image(file: FileId, name: &str, container: NodeRef) -> Option<Diagnostic> {
    let (key, image) = container.entry("image")?;
    if !image.is_map() {
        // A string `image:` is read as a reference; other shapes are not ours.
        let text = image.as_str()?;
        return problem(text).map(|p| diag(file, image, name, &format!("`{text}`"), p));
    }
    let repository = image.str_at(&["repository"])?;
    if has_var(repository)
        || image
            .str_at(&["digest"])
            .is_some_and(|d| !d.trim().is_empty())
    {
        return None;
    }
    match image.get("tag").filter(|t| !t.is_null()) {
        Some(tag) => {
            let text = tag.as_str()?.trim();
            if has_var(text) || text.contains("{{") {
                return None;
            }
            let full = format!("{repository}:{text}");
            problem(&full).map(|p| diag(file, tag, name, &format!("`{full}`"), p))
        }
        None => {
            let p = problem(repository)?;
            Some(diag(file, key, name, &format!("`{repository}`"), p))
        }
    }
}

enum Problem {
    NoTag,
    Latest,
}

fn has_var(s: &str) -> bool {
    s.contains("${") || s.contains("{{")
}

/// What is wrong with an image reference, if anything. A digest pins it;
/// a `${VAR}` anywhere makes it unknown; a registry port is not a tag.
fn problem(image: &str) -> Option<Problem> {
    let image = image.trim();
    if image.is_empty() || has_var(image) || image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        None => Some(Problem::NoTag),
        Some((_, "latest")) => Some(Problem::Latest),
        Some((_, "")) => None,
        Some(_) => None,
    }
}

fn diag(file: FileId, at: NodeRef, container: &str, shown: &str, problem: Problem) -> Diagnostic {
    let message = match problem {
        Problem::NoTag => format!(
            "container `{container}` runs {shown} with no tag, which means `latest`: every pull may bring a different version, and a rollback cannot bring the old one back"
        ),
        Problem::Latest => format!(
            "container `{container}` runs {shown}: `latest` moves with every push, so every pull may bring a different version, and a rollback cannot bring the old one back"
        ),
    };
    Diagnostic::new(RULE.id, Severity::Warning, file, at.span(), message).help(HELP)
}

#[cfg(test)]
mod tests {
    use super::{Problem, problem};

    #[test]
    fn references() {
        assert!(matches!(problem("nginx"), Some(Problem::NoTag)));
        assert!(matches!(problem("registry:5000/app"), Some(Problem::NoTag)));
        assert!(matches!(
            problem("ghcr.io/a/b:latest"),
            Some(Problem::Latest)
        ));
        assert!(problem("registry:5000/app:1.0").is_none());
        assert!(problem("ghcr.io/a/b:latest@sha256:abc").is_none());
        assert!(problem("ghcr.io/a/b@sha256:abc").is_none());
        assert!(problem("ghcr.io/a/b:${TAG}").is_none());
        assert!(problem("ghcr.io/a/b:1.2.3").is_none());
    }
}
