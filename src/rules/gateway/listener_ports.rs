use crate::diagnostic::Severity;
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "gateway/listener-ports",
    severity: Severity::Warning,
    enabled: false,
    needs_repository: false,
    summary: "a Gateway listener port that is not one of the controller's entrypoint ports (Traefik: 8000, 8443)",
    page: include_str!("../../../lints/gateway/listener-ports.md"),
    check: Some(check),
};

/// The ports a listener may use by default: Traefik's `web` and `websecure`
/// entrypoints. The configuration's `ports:` replaces them.
const PORTS: [u16; 2] = [8000, 8443];

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    let ports: &[u16] = repo.settings.listener_ports.as_deref().unwrap_or(&PORTS);
    let allowed = ports
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    for (id, obj) in repo.of_kind("Gateway") {
        if obj.group() != "gateway.networking.k8s.io" {
            continue;
        }
        let node = repo.object_node(id);
        let listeners = node.path(&["spec", "listeners"]);
        for listener in listeners.into_iter().flat_map(|l| l.items()) {
            let Some(port) = listener.get("port") else {
                continue;
            };
            // `${PORT}` cannot be judged without rendering; leave it.
            let Some(value) = port.as_i64() else { continue };
            if u16::try_from(value).is_ok_and(|v| ports.contains(&v)) {
                continue;
            }
            let name = listener.str_at(&["name"]).unwrap_or("?");
            let preferred = match listener.str_at(&["protocol"]) {
                Some("HTTPS" | "TLS") => 8443,
                _ => 8000,
            };
            let suggested = if ports.contains(&preferred) {
                preferred
            } else {
                ports.first().copied().unwrap_or(preferred)
            };
            ctx.report(obj.file,
                    port.span(),
                    format!(
                        "listener `{name}` uses port {value}, which is not one of the entrypoint ports ({allowed}): Traefik accepts a Gateway only when each listener port is the port of one of its entrypoints, so the Gateway is not accepted and no route on it is served"
                    ),
                )
                .help(format!("use the entrypoint port, `port: {suggested}` (clients still connect on 80/443 through the LoadBalancer Service)"));
        }
    }
}
