use std::collections::HashSet;
use std::net::IpAddr;

use crate::diagnostic::{Diagnostic, FileId, Severity};
use crate::model::services::{LBIPAM_IPS, ServiceSource, ServiceView, address_entries};
use crate::model::{Instance, Repository};
use crate::rules::{Ctx, Rule};
use crate::yaml::{NodeRef, Span};

pub static RULE: Rule = Rule {
    id: "cilium/lbipam-dual-stack",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "on a dual-stack cluster, a LoadBalancer Service asks Cilium LB IPAM for addresses of one IP family only",
    page: include_str!("../../../lints/cilium/lbipam-dual-stack.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // One finding per place and kind, however many builds produce the Service.
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    let views = repo.service_views_in(|f| repo.wants(f));
    let views = views.iter().filter(|v| v.source != ServiceSource::Gateway);
    for view in views {
        for inst in repo.instances(view.object) {
            check_instance(repo, view, inst, &mut found);
        }
    }
    for (d, kind) in found {
        if seen.insert((d.file, d.span, kind)) {
            ctx.push(d);
        }
    }
}

/// One requested address as written: its text after substitution and where it is.
struct Entry {
    /// The field it is written in (`loadBalancerIP` or the annotation key).
    field: &'static str,
    /// The entry as written (before substitution).
    written: String,
    /// The entry after substitution; `None` when a variable cannot be resolved.
    rendered: Option<String>,
    span: Span,
}

fn check_instance(
    repo: &Repository,
    view: &ServiceView,
    inst: &Instance,
    found: &mut Vec<(Diagnostic, u8)>,
) {
    let spec = view.spec;
    if !view.lbipam_serves(repo, inst) {
        return; // not a LoadBalancer, or another load balancer serves it
    }
    let annotation = view
        .annotation(&LBIPAM_IPS)
        .filter(|(_, _, v)| v.as_str().is_some_and(|s| !s.trim().is_empty()));
    let lb_ip = spec
        .and_then(|s| s.entry("loadBalancerIP"))
        .filter(|(_, v)| v.as_str().is_some_and(|s| !s.trim().is_empty()));
    if annotation.is_none() && lb_ip.is_none() {
        return; // no request: the pools assign addresses of every family the Service asks for
    }

    let file_text = &repo.files[view.file].text();
    let mut entries = Vec::new();
    if let Some((_, value)) = lb_ip {
        entries.extend(split_entries(
            repo,
            inst,
            file_text,
            "loadBalancerIP",
            value,
        ));
    }
    if let Some((name, _, value)) = annotation {
        entries.extend(split_entries(repo, inst, file_text, name, value));
    }

    // Every entry must be an address.
    let mut bad = false;
    let mut unresolved = false;
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for e in &entries {
        let Some(rendered) = &e.rendered else {
            unresolved = true;
            continue;
        };
        for part in rendered.split(',') {
            let part = part.trim();
            match parse_addr(part) {
                Some(IpAddr::V4(_)) => v4.push(part.to_string()),
                Some(IpAddr::V6(_)) => v6.push(part.to_string()),
                None => {
                    bad = true;
                    found.push((bad_literal(view.file, e, part), 0));
                }
            }
        }
    }

    // Only one family requested, on a dual-stack cluster.
    let Some(dual) = repo.cluster.dual_stack.as_ref() else {
        return;
    };
    if bad || unresolved || (!v4.is_empty() && !v6.is_empty()) || (v4.is_empty() && v6.is_empty()) {
        return;
    }
    if single_stack(repo, inst, spec) {
        return;
    }
    // Without `ipFamilyPolicy` a Service is single-stack, in the cluster's
    // first family (IPv4 on a cluster set up IPv4 first): an IPv4 request
    // gets its address, and only the IPv6 one is missing. A risk, not a
    // Service stuck at `<pending>`.
    let severity = if v6.is_empty() && !asks_dual(repo, inst, spec) {
        Severity::Warning
    } else {
        Severity::Error
    };
    let (family, missing, addrs) = if v6.is_empty() {
        ("IPv4", "IPv6", &v4)
    } else {
        ("IPv6", "IPv4", &v6)
    };
    let (at, through) = match annotation {
        Some((name, key, _)) => (key.span(), format!("`{name}`")),
        None => (
            lb_ip.map(|(k, _)| k.span()).unwrap_or_default(),
            "`loadBalancerIP`".to_string(),
        ),
    };
    let through = if annotation.is_some() && lb_ip.is_some() {
        format!("{through} and `loadBalancerIP`")
    } else {
        through
    };
    let shown = addrs
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let example = if family == "IPv4" {
        format!("{},<an IPv6 address of the pool>", addrs[0])
    } else {
        format!("<an IPv4 address of the pool>,{}", addrs[0])
    };
    let unstated = if severity == Severity::Warning {
        " (without `ipFamilyPolicy` it is single-stack: it works over IPv4 alone)"
    } else {
        ""
    };
    let mut d = Diagnostic::new(
        RULE.id,
        severity,
        view.file,
        at,
        format!(
            "the cluster is dual-stack ({}), but this LoadBalancer Service requests only {family} ({shown}) through {through}: Cilium LB IPAM assigns exactly the addresses requested, so the Service gets no {missing} address{unstated}",
            dual.reason
        ),
    )
    .help(format!(
        "request one address of each family, for example `{}: {example}` (any order); if the Service is meant to have {family} only, say so with `ipFamilyPolicy: SingleStack`{}",
        annotation.map_or(LBIPAM_IPS[0], |a| a.0),
        if family == "IPv6" { " and `ipFamilies: [IPv6]`" } else { "" }
    ));
    if let Some((file, span)) = dual.at {
        d = d.related(
            file,
            span,
            "the cluster is taken to be dual-stack because of this",
        );
    }
    found.push((d, 1));
}

/// A Service that states a single IP family: `ipFamilyPolicy: SingleStack`, a
/// single entry in `ipFamilies` without a dual-stack policy (the API server then
/// defaults the policy to SingleStack), or a chart's `ipDualStack.enabled: false`.
fn single_stack(repo: &Repository, inst: &Instance, spec: Option<NodeRef>) -> bool {
    let Some(spec) = spec else { return false };
    let (policy, families) = families(repo, inst, spec);
    if policy.as_deref() == Some("SingleStack") {
        return true;
    }
    if policy.is_none() && families == 1 {
        return true;
    }
    spec.path(&["ipDualStack", "enabled"])
        .and_then(|e| e.as_bool())
        == Some(false)
}

/// A Service's `ipFamilyPolicy` as its build renders it, and how many
/// `ipFamilies` it lists.
fn families(repo: &Repository, inst: &Instance, spec: NodeRef) -> (Option<String>, usize) {
    let policy = spec
        .get("ipFamilyPolicy")
        .and_then(|p| p.as_str())
        .and_then(|p| repo.render(inst, p));
    let families = spec
        .get("ipFamilies")
        .filter(|f| f.is_seq())
        .map_or(0, |f| f.items().count());
    (policy, families)
}

/// A Service that asks for both families: `PreferDualStack`, `RequireDualStack`,
/// or two `ipFamilies`.
fn asks_dual(repo: &Repository, inst: &Instance, spec: Option<NodeRef>) -> bool {
    let Some(spec) = spec else { return false };
    let (policy, families) = families(repo, inst, spec);
    matches!(
        policy.as_deref(),
        Some("PreferDualStack" | "RequireDualStack")
    ) || families == 2
}

/// `netip.ParseAddr`: an IPv4 or IPv6 address; an IPv6 zone (`%eth0`) is accepted.
fn parse_addr(s: &str) -> Option<IpAddr> {
    if let Ok(a) = s.parse::<IpAddr>() {
        return Some(a);
    }
    let (addr, zone) = s.split_once('%')?;
    if zone.is_empty() {
        return None;
    }
    addr.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
}

fn bad_literal(file: FileId, e: &Entry, part: &str) -> Diagnostic {
    let field = e.field;
    let what = if part.is_empty() {
        "an empty entry (a stray comma)".to_string()
    } else if e.written.trim() != part {
        format!(
            "`{}` renders to `{part}`, which is not an IP address",
            e.written.trim()
        )
    } else {
        format!("`{part}` is not an IP address")
    };
    let help = if part.contains('/') {
        "write the address without a prefix length: LB IPAM requests single addresses, the pools hold the ranges"
    } else if part.is_empty() {
        "remove the stray comma"
    } else {
        "write each entry as one IPv4 or IPv6 address, comma-separated, for example `10.101.27.122,fd00:101::1b:122`"
    };
    Diagnostic::new(
        RULE.id,
        Severity::Error,
        file,
        e.span,
        format!("{what} in `{field}`: Cilium LB IPAM logs and skips an entry it cannot parse, so the Service requests fewer addresses than written"),
    )
    .help(help)
}

/// The entries of a requested-address value, rendered with the instance's
/// Flux variables.
fn split_entries(
    repo: &Repository,
    inst: &Instance,
    file_text: &str,
    field: &'static str,
    value: NodeRef,
) -> Vec<Entry> {
    address_entries(file_text, value)
        .into_iter()
        .map(|(written, span)| Entry {
            field,
            rendered: repo.render(inst, &written),
            written,
            span,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_substitutions() {
        assert_eq!(crate::model::subst::split_commas("a, b"), vec!["a", " b"]);
        assert_eq!(
            crate::model::subst::split_commas("${A:=1,2},b"),
            vec!["${A:=1,2}", "b"]
        );
        assert_eq!(crate::model::subst::split_commas("a,"), vec!["a", ""]);
    }

    #[test]
    fn parses_like_netip() {
        assert!(matches!(parse_addr("10.0.0.1"), Some(IpAddr::V4(_))));
        assert!(matches!(parse_addr("fd00::1"), Some(IpAddr::V6(_))));
        assert!(matches!(parse_addr("fe80::1%eth0"), Some(IpAddr::V6(_))));
        assert!(parse_addr("10.0.0.1/32").is_none());
        assert!(parse_addr("010.0.0.1").is_none());
        assert!(parse_addr("10.0.0.1%eth0").is_none());
        assert!(parse_addr("").is_none());
    }
}
