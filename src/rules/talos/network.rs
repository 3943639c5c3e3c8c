//! What a Talos configuration says about its network links: the interfaces
//! it lists, whether each states `dhcp:`, and link documents of the
//! multi-document format.

use crate::diagnostic::{Edit, FileId};
use crate::fix;
use crate::model::talos::is_talos_document;
use crate::yaml::{NodeRef, Span};

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

/// A place in the repository.
pub(super) type At = (FileId, Span);

/// Maps a span of the node tree being read to a place in a repository file.
/// Inline talhelper patches are parsed from a string, so their spans need it.
pub(super) type Mapper<'m> = &'m dyn Fn(Span) -> At;

/// The file the node tree being read is, with its text; `None` for an inline
/// talhelper patch (its spans are the string's, so fixes cannot edit it).
pub(super) type Src<'t> = Option<(FileId, &'t str)>;

#[derive(Debug)]
pub(super) struct Iface {
    /// `interface:` as written (for `dhcp: false` written elsewhere on the same link).
    pub(super) name: Option<String>,
    /// `dhcp:` is written on it (or on its bond or one of its VLANs).
    pub(super) states_dhcp: bool,
    pub(super) dhcp_false: bool,
    /// `dhcp: true` beside static addresses of a family DHCP runs for: the
    /// `dhcp` keys, with how to name the link.
    pub(super) dual: Vec<(At, String)>,
    /// talhelper (Talos 1.12+) turns it into a link document (LinkConfig,
    /// BondConfig, VLANConfig, BridgeConfig or DHCP document).
    pub(super) makes_link_doc: bool,
    /// The fix that states `dhcp: false` on it: a line after `interface:`.
    /// Only for a named interface without `dhcp`, read from a file.
    pub(super) dhcp_false_edit: Option<(FileId, Edit)>,
}

#[derive(Debug, Default)]
pub(super) struct Net {
    pub(super) ifaces: Vec<Iface>,
    /// The first `interfaces:` (`networkInterfaces:`) key that lists interfaces.
    pub(super) ifaces_at: Option<At>,
    /// A link or DHCP document of the multi-document format.
    pub(super) link_docs: bool,
    /// Something that may configure links but cannot be read (a missing patch
    /// file, a JSON patch on the network, a templated value).
    pub(super) unknown: bool,
}

impl Net {
    pub(super) fn add_interfaces(
        &mut self,
        key: Option<Span>,
        list: NodeRef,
        map: Mapper,
        src: Src,
    ) {
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
    pub(super) fn add_document(&mut self, doc: NodeRef, map: Mapper, src: Src) {
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
    pub(super) fn add_json_patch(&mut self, ops: NodeRef, map: Mapper, src: Src) {
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
    pub(super) fn states_dhcp(&self) -> bool {
        self.ifaces.iter().any(|i| i.states_dhcp)
    }
}

/// One entry of `interfaces` / `networkInterfaces`. `None` when it is not a mapping.
pub(super) fn iface(item: NodeRef, map: Mapper, src: Src) -> Option<Iface> {
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
pub(super) fn dhcp_false_edit(text: &str, item: NodeRef) -> Option<Edit> {
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
pub(super) fn dual_dhcp(dev: NodeRef) -> Option<Span> {
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
