//! Talos Linux configuration found in the repository: full machine configs,
//! machine-config patches and talhelper `talconfig.yaml` files.

use crate::diagnostic::FileId;
use crate::source::SourceFile;
use crate::yaml::{NodeId, NodeRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalosSource {
    /// `version: v1alpha1` with `machine:`.
    MachineConfig,
    /// A strategic-merge patch: `machine:` or `cluster:` without `version`, or
    /// only multi-document Talos kinds.
    Patch,
    /// talhelper's `talconfig.yaml`.
    Talconfig,
}

#[derive(Debug)]
pub struct TalosConfig {
    pub file: FileId,
    pub source: TalosSource,
    /// The v1alpha1 (or talconfig) document; `None` for a file of multi-document kinds only.
    pub root: Option<NodeId>,
    /// The multi-document Talos kinds of the same file (`apiVersion: v1alpha1` + `kind`).
    pub documents: Vec<NodeId>,
}

/// Whether a document is one of Talos' multi-document kinds.
pub fn is_talos_document(doc: NodeRef) -> bool {
    doc.str_at(&["apiVersion"]) == Some("v1alpha1") && doc.str_at(&["kind"]).is_some()
}

/// talhelper requires `clusterName`, `endpoint` and `nodes` (other tools'
/// node lists, such as topf's, use other keys).
fn is_talconfig(doc: NodeRef) -> bool {
    doc.get("nodes").is_some_and(|n| n.is_seq())
        && doc.get("clusterName").is_some()
        && doc.get("endpoint").is_some()
}

fn is_machine_section(doc: NodeRef) -> bool {
    doc.get("apiVersion").is_none()
        && doc.get("kind").is_none()
        && (doc.get("machine").is_some_and(|m| m.is_map())
            || doc.get("cluster").is_some_and(|m| m.is_map()))
}

/// talhelper's variables (`talenv.yaml`, `talenv.sops.yaml`) and secrets
/// (`talsecret.yaml`) files: never a talconfig, whatever keys they hold.
fn talhelper_data(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("talenv.") || name.starts_with("talsecret.")
}

pub(super) fn classify(file: FileId, source: &SourceFile) -> Option<TalosConfig> {
    if talhelper_data(&source.path) {
        return None;
    }
    let yaml = &source.yaml;
    let mut root = None;
    let mut kind = None;
    let mut documents = Vec::new();
    for doc in yaml.documents() {
        if is_talos_document(doc) {
            documents.push(doc.id());
        } else if root.is_none() && is_talconfig(doc) {
            root = Some(doc.id());
            kind = Some(TalosSource::Talconfig);
        } else if root.is_none() && is_machine_section(doc) {
            root = Some(doc.id());
            kind = Some(
                if doc.str_at(&["version"]) == Some("v1alpha1") && doc.get("machine").is_some() {
                    TalosSource::MachineConfig
                } else {
                    TalosSource::Patch
                },
            );
        }
    }
    let source = match kind {
        Some(k) => k,
        None if !documents.is_empty() => TalosSource::Patch,
        None => return None,
    };
    Some(TalosConfig {
        file,
        source,
        root,
        documents,
    })
}
