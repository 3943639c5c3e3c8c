//! Talos workers whose links are left to default DHCP, or that ask for DHCP
//! beside static addresses.
//!
//! Talos runs a DHCP client on every physical link that has no explicit
//! configuration. A legacy `machine.network.interfaces` entry turns that off
//! for its own link only; any link or DHCP document of the multi-document
//! format (Talos 1.12+) turns it off on every link.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Edit, FileId, Severity};
use crate::model::talos::{inline_lines, map_inline};
use crate::model::{Repository, TalhelperNode, TalhelperPatch, TalosConfig, TalosSource};
use crate::rules::{Ctx, Rule};

use super::network::{At, Net};
use crate::yaml::{NodeRef, Span};

pub static RULE: Rule = Rule {
    id: "talos/worker-dhcp-explicit",
    severity: Severity::Error,
    enabled: true,
    needs_repository: false,
    summary: "a Talos worker leaves its links to default DHCP, or runs DHCP beside static addresses",
    page: include_str!("../../../lints/talos/worker-dhcp-explicit.md"),
    check: Some(check),
};

const MSG_NO_LINKS: &str = "Talos runs DHCP on every physical link without explicit configuration, so the node gets a DHCP lease beside its static node IP; two addresses confuse the NodeIPController (\"node IP skipped\") and can end in a zombie kubelet";

const MSG_NO_DHCP_STATED: &str = "a listed interface has DHCP off implicitly, but every physical link that is not listed still runs DHCP and can add a second address beside the node IP";

const MSG_DUAL: &str = "the link gets a DHCP lease beside its static address, and two addresses confuse the NodeIPController (\"node IP skipped\") and can end in a zombie kubelet";

const HELP_DUAL: &str =
    "set `dhcp: false` to keep only the static `addresses`, or remove `addresses` to rely on DHCP";

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    let mut findings = Findings::default();
    for t in &repo.talos {
        match t.source {
            TalosSource::MachineConfig | TalosSource::Patch => {
                machine_config(repo, t, &mut findings)
            }
            TalosSource::Talconfig => {}
        }
    }
    for n in repo.talhelper_nodes() {
        talconfig(repo, &n, &mut findings);
    }
    findings.emit(ctx);
}

// ---------------------------------------------------------------------------
// Findings, merged when several workers share the configuration at fault.

/// Which of the three findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Finding {
    NoLinks,
    NoDhcpStated,
    DhcpAndAddresses,
}

struct Entry {
    head: String,
    help: &'static str,
    workers: Vec<String>,
    /// The fix's edits, from every worker the finding is for.
    edits: Vec<Edit>,
}

#[derive(Default)]
struct Findings {
    by_place: BTreeMap<(FileId, Span, Finding), Entry>,
}

impl Findings {
    fn add(
        &mut self,
        at: At,
        what: Finding,
        head: String,
        help: &'static str,
        worker: Option<&str>,
        edits: Vec<Edit>,
    ) {
        let e = self
            .by_place
            .entry((at.0, at.1, what))
            .or_insert_with(|| Entry {
                head,
                help,
                workers: Vec::new(),
                edits: Vec::new(),
            });
        for edit in edits {
            if !e.edits.contains(&edit) {
                e.edits.push(edit);
            }
        }
        if let Some(w) = worker
            && !e.workers.iter().any(|n| n == w)
        {
            e.workers.push(w.to_string());
        }
    }

    fn emit(self, ctx: &mut Ctx) {
        for ((file, span, what), e) in self.by_place {
            let severity = match what {
                Finding::NoLinks => Severity::Error,
                Finding::NoDhcpStated | Finding::DhcpAndAddresses => Severity::Warning,
            };
            let quoted: Vec<String> = e.workers.iter().map(|w| format!("`{w}`")).collect();
            let message = match quoted.len() {
                0 => format!("this worker: {}", e.head),
                1 => format!("worker {}: {}", quoted[0], e.head),
                _ => format!("workers {}: {}", quoted.join(", "), e.head),
            };
            let mut d = Diagnostic::new(RULE.id, severity, file, span, message).help(e.help);
            if !e.edits.is_empty() {
                let mut edits = e.edits;
                edits.sort_by_key(|e| e.span);
                d = d.fix("state `dhcp: false` on the listed interfaces", edits);
            }
            ctx.push(d);
        }
    }
}

/// The three checks, on one worker's view of its links.
struct Judge<'a> {
    findings: &'a mut Findings,
    worker: Option<&'a str>,
}

impl Judge<'_> {
    /// `generated_link_docs`: talhelper turns this worker's `networkInterfaces`
    /// into link documents (Talos 1.12+), which turn default DHCP off on all links.
    fn judge(&mut self, net: &Net, anchor: At, talhelper: bool, generated_link_docs: bool) {
        let (list, help_list) = if talhelper {
            (
                "`networkInterfaces`",
                "add `networkInterfaces` to the node (or to `worker:` for every worker) with `dhcp: false` and its static `addresses`, or `dhcp: true` where DHCP is meant",
            )
        } else {
            (
                "`machine.network.interfaces`",
                "list the interface under `machine.network.interfaces` with `dhcp: false` (and its static `addresses`), or `dhcp: true` where DHCP is meant; with Talos 1.12+ a `LinkConfig` document for the link also turns default DHCP off",
            )
        };
        if net.ifaces.is_empty() && !net.link_docs && !net.unknown {
            self.findings.add(
                anchor,
                Finding::NoLinks,
                format!(
                    "no link configuration (no {list} and no link or DHCP document): {MSG_NO_LINKS}"
                ),
                help_list,
                self.worker,
                Vec::new(),
            );
        }
        if !net.ifaces.is_empty()
            && !net.states_dhcp()
            && !net.link_docs
            && !net.unknown
            && !generated_link_docs
            && let Some(at) = net.ifaces_at
        {
            // `dhcp: false` on every named interface listed in the finding's file.
            let edits = net
                .ifaces
                .iter()
                .filter_map(|i| i.dhcp_false_edit.as_ref())
                .filter(|(file, _)| *file == at.0)
                .map(|(_, e)| e.clone())
                .collect();
            self.findings.add(
                at,
                Finding::NoDhcpStated,
                format!("no listed interface states `dhcp:`: {MSG_NO_DHCP_STATED}"),
                "state `dhcp: false` on the interface (or `dhcp: true` where DHCP is meant)",
                self.worker,
                edits,
            );
        }
        for i in &net.ifaces {
            // `dhcp: false` written for the same link elsewhere (a later patch) wins.
            let overridden = i.name.is_some()
                && net
                    .ifaces
                    .iter()
                    .any(|o| !std::ptr::eq(o, i) && o.dhcp_false && o.name == i.name);
            if overridden {
                continue;
            }
            for (at, label) in &i.dual {
                self.findings.add(
                    *at,
                    Finding::DhcpAndAddresses,
                    format!("{label} has `dhcp: true` and static `addresses`: {MSG_DUAL}"),
                    HELP_DUAL,
                    self.worker,
                    Vec::new(),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Full machine configs, and patch files that say they are for a worker.

fn machine_config(repo: &Repository, t: &TalosConfig, findings: &mut Findings) {
    let Some(root) = t.root else { return };
    let doc = repo.node(t.file, root);
    let Some((machine_key, machine)) = doc.entry("machine") else {
        return;
    };
    let type_entry = machine.entry("type");
    let patch = t.source == TalosSource::Patch;
    let is_worker = match type_entry {
        // A patch is judged only when it says it is for a worker.
        Some((_, v)) if patch => matches!(v.as_str(), Some("worker" | "join")),
        Some((_, v)) if v.is_null() => true,
        Some((_, v)) => matches!(v.as_str(), Some("worker" | "join" | "")),
        // Absent: Talos reads it as a worker, but only a full config says so
        // (a patch without `type` is for whatever it is applied to).
        None => !patch && doc.get("cluster").is_some(),
    };
    if !is_worker {
        return;
    }
    let file = t.file;
    let map = move |s: Span| (file, s);
    let mut net = Net::default();
    let src = Some((file, repo.files[file].text().as_ref()));
    net.add_document(doc, &map, src);
    for &d in &t.documents {
        net.add_document(repo.node(t.file, d), &map, src);
    }
    let anchor = machine
        .key_span("network")
        .or_else(|| type_entry.map(|(k, _)| k.span()))
        .unwrap_or(machine_key.span());
    Judge {
        findings,
        worker: None,
    }
    .judge(&net, (file, anchor), false, false);
}

// ---------------------------------------------------------------------------
// talhelper `talconfig.yaml`.

fn talconfig(repo: &Repository, n: &TalhelperNode, findings: &mut Findings) {
    if !n.worker {
        return;
    }
    let file = n.config.file;
    let map = move |s: Span| (file, s);
    let mut net = Net::default();
    if let Some((key, list)) = n.interfaces {
        let src = Some((file, repo.files[file].text().as_ref()));
        net.add_interfaces(Some(key.span()), list, &map, src);
    }
    // Only `networkInterfaces` are converted; patches stay in the v1alpha1 document.
    let generated = n.multidoc && net.ifaces.iter().any(|i| i.makes_link_doc);
    for patch in &n.patches {
        match patch {
            TalhelperPatch::File { file: fid, .. } => {
                let fid = *fid;
                let map = move |s: Span| (fid, s);
                let src = Some((fid, repo.files[fid].text().as_ref()));
                for doc in repo.files[fid].yaml.documents() {
                    net.add_document(doc, &map, src);
                }
            }
            TalhelperPatch::Inline { entry, text } => {
                inline_patch(repo, file, *entry, text, &mut net)
            }
            TalhelperPatch::Missing { .. } | TalhelperPatch::Unknown { .. } => net.unknown = true,
        }
    }
    let anchor = n
        .control_plane
        .map_or(n.hostname_key.span(), |(k, _)| k.span());
    Judge {
        findings,
        worker: Some(n.hostname.as_str().unwrap_or("?")),
    }
    .judge(&net, (file, anchor), true, generated);
}

/// An inline patch: parsed here, its spans mapped back into the talconfig.
fn inline_patch(repo: &Repository, file: FileId, entry: NodeRef, text: &str, net: &mut Net) {
    let yaml = crate::yaml::parse(text);
    let lines = inline_lines(repo.files[file].text(), entry.span(), text);
    let start = entry.span().start as usize;
    let fallback = (file, Span::new(start, start + 1));
    let map = move |s: Span| match &lines {
        Some(lines) => map_inline(lines, s).map_or(fallback, |s| (file, s)),
        None => fallback,
    };
    // Its spans are the parsed string's: no fix edits them.
    for doc in yaml.documents() {
        net.add_document(doc, &map, None);
    }
}
