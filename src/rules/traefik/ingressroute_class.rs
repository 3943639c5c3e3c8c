use crate::diagnostic::Severity;
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "traefik/ingressroute-class",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: false,
    summary: "a Traefik IngressRoute without the `kubernetes.io/ingress.class` annotation",
    page: include_str!("../../../lints/traefik/ingressroute-class.md"),
    check: Some(check),
};

const ANNOTATION: &str = "kubernetes.io/ingress.class";

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    for (id, obj) in repo.of_kind("IngressRoute") {
        if !matches!(obj.group(), "traefik.io" | "traefik.containo.us") {
            continue;
        }
        let node = repo.object_node(id);
        let Some((meta_key, metadata)) = node.entry("metadata") else {
            continue;
        };
        let annotations = metadata.entry("annotations");
        if annotations.is_some_and(|(_, a)| a.get(ANNOTATION).is_some()) {
            continue;
        }
        let at = annotations.map_or(meta_key.span(), |(k, _)| k.span());
        let name = obj.name.as_deref().unwrap_or("?");
        ctx.report(obj.file,
                at,
                format!(
                    "IngressRoute `{name}` has no `{ANNOTATION}` annotation: a Traefik whose Kubernetes CRD provider is limited to an ingress class ignores it, and the route's host is unreachable"
                ),
            )
            .help(format!("add `metadata.annotations: {{{ANNOTATION}: traefik}}` (the class the Traefik serving it watches)"));
    }
}
