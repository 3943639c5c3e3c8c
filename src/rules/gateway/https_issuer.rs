use std::collections::{HashMap, HashSet};

use crate::diagnostic::Severity;
use crate::model::{FluxId, Repository};
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "gateway/https-issuer",
    severity: Severity::Warning,
    enabled: true,
    needs_repository: true,
    summary: "a Gateway's HTTPS listener reads a certificate Secret that nothing in the repository creates: no cert-manager issuer annotation, no Certificate",
    page: include_str!("../../../lints/gateway/https-issuer.md"),
    check: Some(check),
};

const ISSUER_ANNOTATIONS: [&str; 2] = ["cert-manager.io/issuer", "cert-manager.io/cluster-issuer"];

/// A Secret name as the build gives it, or as written when it cannot be rendered
/// (`${DOMAIN/./-}-tls` written alike in the Gateway and the Certificate matches).
fn key_text(rendered: Option<String>, written: &str) -> String {
    rendered.unwrap_or_else(|| written.to_string())
}

/// Secrets the repository produces, by (cluster, namespace).
type Made = HashMap<(Option<FluxId>, Option<String>), HashSet<String>>;

fn made(repo: &Repository) -> Made {
    let mut made: Made = HashMap::new();
    let mut add = |cluster, ns: Option<String>, name: String| {
        made.entry((cluster, ns)).or_default().insert(name);
    };
    for (id, obj) in repo.of_kind("Certificate") {
        if obj.group() != "cert-manager.io" {
            continue;
        }
        let Some(secret) = repo.object_node(id).str_at(&["spec", "secretName"]) else {
            continue;
        };
        for inst in repo.instances(id) {
            add(
                repo.cluster_of(inst),
                inst.namespace.as_deref().map(str::to_string),
                key_text(repo.render(inst, secret), secret),
            );
        }
    }
    // A ClusterExternalSecret makes its Secret in every namespace it selects:
    // in any namespace, as far as this rule can tell.
    for (id, obj) in repo.of_kind("ClusterExternalSecret") {
        let node = repo.object_node(id);
        let Some(written) = node
            .str_at(&["spec", "externalSecretSpec", "target", "name"])
            .or_else(|| node.str_at(&["spec", "externalSecretName"]))
            .or(obj.name.as_deref())
        else {
            continue;
        };
        for inst in repo.instances(id) {
            add(
                repo.cluster_of(inst),
                None,
                key_text(repo.render(inst, written), written),
            );
        }
    }
    for kind in ["Secret", "SealedSecret", "ExternalSecret"] {
        for (id, obj) in repo.of_kind(kind) {
            let node = repo.object_node(id);
            let written = match kind {
                "ExternalSecret" => node
                    .str_at(&["spec", "target", "name"])
                    .or(obj.name.as_deref()),
                _ => obj.name.as_deref(),
            };
            let Some(written) = written else { continue };
            for inst in repo.instances(id) {
                add(
                    repo.cluster_of(inst),
                    inst.namespace.as_deref().map(str::to_string),
                    key_text(repo.render(inst, written), written),
                );
            }
        }
    }
    made
}

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // The Secrets the repository produces, read at the first certificate
    // reference: findings are the Gateways' of the files reported on.
    let mut made: Option<Made> = None;
    let mut exists = |cluster: Option<FluxId>, ns: &Option<String>, name: &str| {
        made.get_or_insert_with(|| self::made(repo))
            .iter()
            .any(|((c, n), names)| {
                (c.is_none() || cluster.is_none() || *c == cluster)
                    && (n.is_none() || ns.is_none() || n == ns)
                    && names.contains(name)
            })
    };

    let mut seen = HashSet::new();
    for (id, obj) in ctx.objects("gateway.networking.k8s.io", "Gateway") {
        let node = repo.object_node(id);
        let annotated = node
            .path(&["metadata", "annotations"])
            .is_some_and(|a| ISSUER_ANNOTATIONS.iter().any(|k| a.get(k).is_some()));
        if annotated {
            continue;
        }
        let Some(listeners) = node.path(&["spec", "listeners"]) else {
            continue;
        };
        for inst in repo.instances(id) {
            let cluster = repo.cluster_of(inst);
            for listener in listeners.items() {
                let protocol = listener
                    .str_at(&["protocol"])
                    .and_then(|p| repo.render(inst, p));
                if protocol.as_deref() != Some("HTTPS") {
                    continue;
                }
                let mode = listener.str_at(&["tls", "mode"]).unwrap_or("Terminate");
                if mode != "Terminate" {
                    continue;
                }
                let refs = listener.path(&["tls", "certificateRefs"]);
                for r in refs.into_iter().flat_map(|r| r.items()) {
                    if r.str_at(&["kind"]).is_some_and(|k| k != "Secret")
                        || r.str_at(&["group"])
                            .is_some_and(|g| !g.is_empty() && g != "core")
                    {
                        continue;
                    }
                    let Some(name_node) = r.get("name") else {
                        continue;
                    };
                    let Some(written) = name_node.as_str() else {
                        continue;
                    };
                    let name = key_text(repo.render(inst, written), written);
                    let ns = match r.str_at(&["namespace"]) {
                        Some(n) => match repo.render(inst, n) {
                            Some(n) => Some(n),
                            None => continue,
                        },
                        None => inst.namespace.as_deref().map(str::to_string),
                    };
                    if exists(cluster, &ns, &name) || !seen.insert((obj.file, name_node.span())) {
                        continue;
                    }
                    let listener_name = listener.str_at(&["name"]).unwrap_or("?");
                    ctx.report(obj.file,
                            name_node.span(),
                            format!(
                                "HTTPS listener `{listener_name}` terminates TLS with Secret `{name}`, but the Gateway has no `cert-manager.io/cluster-issuer` or `cert-manager.io/issuer` annotation and no cert-manager Certificate of the repository writes that Secret{}: nothing provisions the certificate, and HTTPS is served with the controller's default certificate",
                                ns.as_deref()
                                    .map(|n| format!(" in namespace `{n}`"))
                                    .unwrap_or_default()
                            ),
                        )
                        .help(format!(
                            "annotate the Gateway with `cert-manager.io/cluster-issuer: <issuer>` (the listener needs a `hostname`), or add a Certificate with `secretName: {name}` in the Gateway's namespace"
                        ));
                }
            }
        }
    }
}
