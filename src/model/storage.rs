//! Storage facts: every PersistentVolumeClaim as each build produces it, with
//! its access modes and whether its volume lives on one node.

use std::collections::{HashMap, HashSet};

use super::Repository;
use crate::diagnostic::FileId;
use crate::yaml::Span;

/// Where a claim's access modes are written (else its name).
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub file: FileId,
    pub span: Span,
}

/// A PersistentVolumeClaim as one build produces it.
pub struct ClaimRec {
    /// Its `accessModes` key, else its name: where the related information points.
    pub at: At,
    /// The access modes after substitution; `None` when they cannot be read.
    pub modes: Option<Vec<String>>,
    /// The volume lives on one node (a local storage class or a local
    /// PersistentVolume): every pod using it is scheduled there.
    pub node_local: bool,
}

/// Every PersistentVolumeClaim instance, by name.
pub struct Claims {
    by_name: HashMap<String, Vec<(Option<String>, ClaimRec)>>,
    pub local_classes: HashSet<String>,
}

/// Provisioners whose volumes are a directory or disk of one node.
const LOCAL_PROVISIONERS: &[&str] = &[
    "kubernetes.io/no-provisioner",
    "openebs.io/local",
    "rancher.io/local-path",
];

/// The default StorageClass names of those provisioners, for classes a Helm
/// chart creates out of sight (OpenEBS LocalPV hostpath, local-path-provisioner,
/// the name the Kubernetes documentation gives static local volumes).
const LOCAL_CLASS_NAMES: &[&str] = &["local-path", "local-storage", "openebs-hostpath"];

/// What a claim name resolves to.
pub enum Lookup<'c> {
    /// Found; the first instance whose modes include a single-node mode.
    SingleNode(&'static str, &'c ClaimRec),
    /// Found, and no instance has a single-node mode.
    Shared,
    /// Found, but its modes cannot be read.
    Unreadable(&'c ClaimRec),
    Missing,
}

/// The access mode that can keep the new pod from the volume: ReadWriteOncePod
/// anywhere; ReadWriteOnce unless the volume is node-local, which puts the new
/// pod on the old pod's node, where ReadWriteOnce admits both.
pub fn single_node_mode(modes: &[String], node_local: bool) -> Option<&'static str> {
    if modes.iter().any(|m| m == "ReadWriteOncePod") {
        Some("ReadWriteOncePod")
    } else if !node_local && modes.iter().any(|m| m == "ReadWriteOnce") {
        Some("ReadWriteOnce")
    } else {
        None
    }
}

impl Repository {
    /// Every PersistentVolumeClaim instance by name, and the storage classes
    /// whose volumes are node-local.
    pub fn claims(&self) -> Claims {
        let repo = self;
        let mut local_classes: HashSet<String> =
            LOCAL_CLASS_NAMES.iter().map(|s| s.to_string()).collect();
        for (id, obj) in repo.of_kind("StorageClass") {
            let node = repo.object_node(id);
            let provisioner = node.str_at(&["provisioner"]);
            if let (Some(name), Some(p)) = (&obj.name, provisioner)
                && LOCAL_PROVISIONERS.contains(&p)
            {
                local_classes.insert(name.to_string());
            }
        }
        let local_volumes: HashSet<&str> = repo
            .of_kind("PersistentVolume")
            .filter(|(id, _)| {
                let spec = repo.object_node(*id).get("spec");
                spec.is_some_and(|s| {
                    ["local", "hostPath", "nodeAffinity"]
                        .iter()
                        .any(|k| s.get(k).is_some())
                })
            })
            .filter_map(|(_, o)| o.name.as_deref())
            .collect();
        let mut by_name: HashMap<String, Vec<(Option<String>, ClaimRec)>> = HashMap::new();
        for (id, obj) in repo.of_kind("PersistentVolumeClaim") {
            if obj.api_version != "v1" {
                continue;
            }
            let node = repo.object_node(id);
            let spec = node.get("spec");
            let span = spec
                .and_then(|s| s.key_span("accessModes"))
                .or_else(|| node.path(&["metadata", "name"]).map(|n| n.span()))
                .unwrap_or_else(|| repo.kind_span(id));
            for inst in repo.instances(id) {
                let Some(name) = inst.name.as_deref().map(str::to_string) else {
                    continue;
                };
                let modes = spec.and_then(|s| s.get("accessModes")).and_then(|m| {
                    let modes: Option<Vec<String>> = m
                        .items()
                        .map(|i| i.as_str().and_then(|t| repo.render(inst, t)))
                        .collect();
                    modes.filter(|v| !v.is_empty())
                });
                let class = spec
                    .and_then(|s| s.get("storageClassName"))
                    .and_then(|c| repo.render_node(inst, c));
                let volume = spec
                    .and_then(|s| s.get("volumeName"))
                    .and_then(|v| repo.render_node(inst, v));
                let node_local = class.is_some_and(|c| local_classes.contains(&c))
                    || volume.is_some_and(|v| local_volumes.contains(v.as_str()));
                by_name.entry(name).or_default().push((
                    inst.namespace.as_deref().map(str::to_string),
                    ClaimRec {
                        at: At {
                            file: obj.file,
                            span,
                        },
                        modes,
                        node_local,
                    },
                ));
            }
        }
        Claims {
            by_name,
            local_classes,
        }
    }
}

impl Claims {
    /// The claim `name` in `namespace`; where either namespace is unknown, a
    /// claim of that name in any namespace.
    pub fn lookup(&self, name: &str, namespace: Option<&str>) -> Lookup<'_> {
        let Some(all) = self.by_name.get(name) else {
            return Lookup::Missing;
        };
        let mut found: Vec<&ClaimRec> = all
            .iter()
            .filter(|(ns, _)| ns.as_deref() == namespace)
            .map(|(_, c)| c)
            .collect();
        if found.is_empty() {
            found = all
                .iter()
                .filter(|(ns, _)| ns.is_none() || namespace.is_none())
                .map(|(_, c)| c)
                .collect();
        }
        if found.is_empty() {
            return Lookup::Missing;
        }
        for c in &found {
            if let Some(mode) = c
                .modes
                .as_deref()
                .and_then(|m| single_node_mode(m, c.node_local))
            {
                return Lookup::SingleNode(mode, c);
            }
        }
        match found.iter().find(|c| c.modes.is_none()) {
            Some(c) => Lookup::Unreadable(c),
            None => Lookup::Shared,
        }
    }
}
