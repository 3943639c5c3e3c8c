//! Talos workers whose links are left to default DHCP, or that ask for DHCP
//! beside static addresses.
//!
//! Talos runs a DHCP client on every physical link that has no explicit
//! configuration. A legacy `machine.network.interfaces` entry turns that off
//! for its own link only; any link or DHCP document of the multi-document
//! format (Talos 1.12+) turns it off on every link.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Edit, FileId, Severity};
use crate::fix;
use crate::model::talos::{inline_lines, is_talos_document, map_inline};
use crate::model::{Repository, TalhelperNode, TalhelperPatch, TalosConfig, TalosSource};
use crate::rules::{Ctx, Rule};
use crate::yaml::{NodeRef, Span};

pub static RULE: Rule = Rule {
    id: "talos/worker-dhcp-explicit",
    severity: Severity::Error,
    enabled: true,
    summary: "a Talos worker leaves its links to default DHCP, or runs DHCP beside static addresses",
    page: include_str!("../../../lints/talos/worker-dhcp-explicit.md"),
    check: Some(check),
};

/// Multi-document kinds that configure a link or its DHCP client: any one of
/// them in a config turns default DHCP off on all links.
const LINK_KINDS: &[&str] = &[
    "BondConfig",
    "BridgeConfig",
    "DHCPv4Config",
    "DHCPv6Config",
    "DummyLinkConfig",
    "LinkConfig",
    "VLANConfig",
    "VRFConfig",
    "VethConfig",
    "WireguardConfig",
];

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
// What a worker's configuration says about its links.

/// A place in the repository.
type At = (FileId, Span);

/// Maps a span of the node tree being read to a place in a repository file.
/// Inline talhelper patches are parsed from a string, so their spans need it.
type Mapper<'m> = &'m dyn Fn(Span) -> At;

/// The file the node tree being read is, with its text; `None` for an inline
/// talhelper patch (its spans are the string's, so fixes cannot edit it).
type Src<'t> = Option<(FileId, &'t str)>;

#[derive(Debug)]
struct Iface {
    /// `interface:` as written (for `dhcp: false` written elsewhere on the same link).
    name: Option<String>,
    /// `dhcp:` is written on it (or on its bond or one of its VLANs).
    states_dhcp: bool,
    dhcp_false: bool,
    /// `dhcp: true` beside static addresses of a family DHCP runs for: the
    /// `dhcp` keys, with how to name the link.
    dual: Vec<(At, String)>,
    /// talhelper (Talos 1.12+) turns it into a link document (LinkConfig,
    /// BondConfig, VLANConfig, BridgeConfig or DHCP document).
    makes_link_doc: bool,
    /// The fix that states `dhcp: false` on it: a line after `interface:`.
    /// Only for a named interface without `dhcp`, read from a file.
    dhcp_false_edit: Option<(FileId, Edit)>,
}

#[derive(Debug, Default)]
struct Net {
    ifaces: Vec<Iface>,
    /// The first `interfaces:` (`networkInterfaces:`) key that lists interfaces.
    ifaces_at: Option<At>,
    /// A link or DHCP document of the multi-document format.
    link_docs: bool,
    /// Something that may configure links but cannot be read (a missing patch
    /// file, a JSON patch on the network, a templated value).
    unknown: bool,
}

impl Net {
    fn add_interfaces(&mut self, key: Option<Span>, list: NodeRef, map: Mapper, src: Src) {
        if !list.is_seq() {
            if !list.is_null() {
                self.unknown = true;
            }
            return;
        }
        let before = self.ifaces.len();
        for item in list.items() {
            match iface(item, map, src) {
                Some(i) => self.ifaces.push(i),
                None => self.unknown = true,
            }
        }
        if self.ifaces.len() > before && self.ifaces_at.is_none() {
            self.ifaces_at = Some(map(key.unwrap_or(list.span())));
        }
    }

    /// Reads one document of a machine config or a patch.
    fn add_document(&mut self, doc: NodeRef, map: Mapper, src: Src) {
        if is_talos_document(doc) {
            if doc
                .str_at(&["kind"])
                .is_some_and(|k| LINK_KINDS.contains(&k))
            {
                self.link_docs = true;
            }
            return;
        }
        if doc.is_seq() {
            self.add_json_patch(doc, map, src);
            return;
        }
        let Some(network) = doc.path(&["machine", "network"]) else {
            return;
        };
        if let Some((key, list)) = network.entry("interfaces") {
            self.add_interfaces(Some(key.span()), list, map, src);
        } else if !network.is_map() && !network.is_null() {
            self.unknown = true;
        }
    }

    /// An RFC 6902 JSON patch: its operations on `/machine/network`.
    fn add_json_patch(&mut self, ops: NodeRef, map: Mapper, src: Src) {
        for op in ops.items() {
            let Some(path) = op.str_at(&["path"]) else {
                continue;
            };
            let path = path.trim_end_matches('/');
            if !path.starts_with("/machine/network") && !"/machine/network".starts_with(path) {
                continue;
            }
            let at = op.get("path").map(|p| p.span());
            let verb = op.str_at(&["op"]).unwrap_or("");
            let value = op.get("value");
            match (verb, path, value) {
                ("add" | "replace", "/machine/network/interfaces", Some(v)) => {
                    self.add_interfaces(at, v, map, src)
                }
                ("add" | "replace", p, Some(v))
                    if p.strip_prefix("/machine/network/interfaces/")
                        .is_some_and(|i| i == "-" || i.parse::<u32>().is_ok())
                        && v.is_map() =>
                {
                    match iface(v, map, src) {
                        Some(i) => {
                            self.ifaces.push(i);
                            if self.ifaces_at.is_none() {
                                self.ifaces_at = at.map(map);
                            }
                        }
                        None => self.unknown = true,
                    }
                }
                ("add" | "replace", "/machine/network", Some(v)) if v.is_map() => {
                    if let Some((key, list)) = v.entry("interfaces") {
                        self.add_interfaces(Some(key.span()), list, map, src);
                    }
                }
                // Other keys of the network (hostname, nameservers) leave links alone.
                ("add" | "replace" | "remove", p, _)
                    if p.starts_with("/machine/network/")
                        && !p.starts_with("/machine/network/interfaces") => {}
                _ => self.unknown = true,
            }
        }
    }

    /// Whether `dhcp:` is stated somewhere for this worker's listed links.
    fn states_dhcp(&self) -> bool {
        self.ifaces.iter().any(|i| i.states_dhcp)
    }
}

/// One entry of `interfaces` / `networkInterfaces`. `None` when it is not a mapping.
fn iface(item: NodeRef, map: Mapper, src: Src) -> Option<Iface> {
    if !item.is_map() {
        return None;
    }
    let name = item.str_at(&["interface"]).map(str::to_string);
    let label = match &name {
        Some(n) => format!("interface `{n}`"),
        None if item.get("deviceSelector").is_some() => {
            "the interface selected by `deviceSelector`".to_string()
        }
        None => "the interface".to_string(),
    };
    let mut states_dhcp = item.get("dhcp").is_some();
    let mut dual = Vec::new();
    if let Some(at) = dual_dhcp(item) {
        dual.push((map(at), label.clone()));
    }
    if item.path(&["bond", "dhcp"]).is_some() {
        states_dhcp = true;
    }
    let vlans = item.get("vlans");
    for vlan in vlans.into_iter().flat_map(|v| v.items()) {
        if vlan.get("dhcp").is_some() {
            states_dhcp = true;
        }
        if let Some(at) = dual_dhcp(vlan) {
            let id = vlan.get("vlanId").and_then(|v| v.as_str()).unwrap_or("?");
            dual.push((map(at), format!("VLAN {id} of {label}")));
        }
    }
    let has = |k: &str| item.get(k).is_some_and(|v| !v.is_null());
    let makes_link_doc = item.get("dhcp").and_then(|d| d.as_bool()) == Some(true)
        || [
            "addresses",
            "cidr",
            "routes",
            "mtu",
            "bond",
            "bridge",
            "vlans",
        ]
        .iter()
        .any(|k| has(k));
    Some(Iface {
        name,
        states_dhcp,
        dhcp_false: item.get("dhcp").and_then(|d| d.as_bool()) == Some(false),
        dual,
        makes_link_doc,
        dhcp_false_edit: src.and_then(|(file, text)| Some((file, dhcp_false_edit(text, item)?))),
    })
}

/// Inserts `dhcp: false` after the `interface:` line of an interface that
/// names its link and states no `dhcp`, at the same indentation.
fn dhcp_false_edit(text: &str, item: NodeRef) -> Option<Edit> {
    // An anchored (or aliased) item may be used elsewhere too.
    if matches!(
        text.as_bytes().get(item.span().start as usize),
        Some(b'&' | b'*' | b'!')
    ) {
        return None;
    }
    let (key, name) = fix::written(item, "interface")??;
    if name.as_str().is_none() || fix::written(item, "dhcp")?.is_some() {
        return None;
    }
    let lines = fix::entry_lines(text, key, name, true)?;
    Some(fix::insert_lines(
        text,
        lines.end,
        lines.column,
        &["dhcp: false"],
    ))
}

/// The span of the `dhcp` key when a device runs DHCP beside static
/// addresses of an address family its DHCP client serves.
fn dual_dhcp(dev: NodeRef) -> Option<Span> {
    let (key, value) = dev.entry("dhcp")?;
    if value.as_bool() != Some(true) {
        return None;
    }
    let mut addresses: Vec<&str> = dev
        .get("addresses")
        .into_iter()
        .flat_map(|a| a.items())
        .filter_map(|a| a.as_str())
        .collect();
    addresses.extend(dev.get("cidr").and_then(|c| c.as_str()));
    // `dhcpOptions.ipv4` defaults to true, `ipv6` to false.
    let opts = dev.get("dhcpOptions");
    let v4 = opts
        .and_then(|o| o.get("ipv4"))
        .and_then(|b| b.as_bool())
        .unwrap_or(true);
    let v6 = opts
        .and_then(|o| o.get("ipv6"))
        .and_then(|b| b.as_bool())
        .unwrap_or(false);
    addresses
        .iter()
        .any(|a| if a.contains(':') { v6 } else { v4 })
        .then(|| key.span())
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
    let src = Some((file, repo.files[file].text.as_str()));
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
        let src = Some((file, repo.files[file].text.as_str()));
        net.add_interfaces(Some(key.span()), list, &map, src);
    }
    // Only `networkInterfaces` are converted; patches stay in the v1alpha1 document.
    let generated = n.multidoc && net.ifaces.iter().any(|i| i.makes_link_doc);
    for patch in &n.patches {
        match patch {
            TalhelperPatch::File { file: fid, .. } => {
                let fid = *fid;
                let map = move |s: Span| (fid, s);
                let src = Some((fid, repo.files[fid].text.as_str()));
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
    let lines = inline_lines(&repo.files[file].text, entry.span(), text);
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
