//! Offline schema validation. Schemas come, in this order, from the
//! CustomResourceDefinitions committed in the repository, the schema
//! directories the configuration names, the built-in CRDs catalog (unless
//! the configuration turns it off), and the built-in bundles (Kubernetes per
//! minor version, Flux, Talos). Nothing is ever fetched: validators are
//! built with no retriever, so a reference outside a schema fails to compile.

mod bundle;
mod catalog;
mod check;
mod crd;
mod dirs;
mod instance;
mod quick;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub use bundle::Bundle;
pub use check::{Finding, FindingKind, Missing, SchemaReport, validate, validate_files};
pub use dirs::SchemaDirs;

/// The Kubernetes minor versions built in; the last is the default.
pub const KUBERNETES_VERSIONS: &[&str] = &["1.33", "1.34", "1.35", "1.36", "1.37"];

/// What the configuration says about schemas.
#[derive(Debug, Default, Clone)]
pub struct SchemaSettings {
    /// No schema rule is enabled: do not validate.
    pub skip: bool,
    /// `cluster.kubernetes_version` (one of [`KUBERNETES_VERSIONS`]).
    pub kubernetes_version: Option<String>,
    /// `schemas.paths`, indexed.
    pub dirs: SchemaDirs,
    /// `schemas.talos`: the official Talos `config.schema.json`, read and checked.
    pub talos: Option<Arc<TalosSchema>>,
    /// `schemas.catalog: false`: the built-in CRDs catalog is not used.
    pub no_catalog: bool,
    /// The run validates once and ends (a command-line check): compiled
    /// validators are dropped kind by kind instead of kept for later runs
    /// (a language server validates at every edit).
    pub one_shot: bool,
}

/// A Talos schema file given in the configuration.
pub struct TalosSchema {
    pub path: PathBuf,
    pub bundle: Bundle,
}

impl std::fmt::Debug for TalosSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TalosSchema({})", self.path.display())
    }
}

/// A schema file larger than this is refused (the largest real ones, whole
/// Kubernetes definitions, are a few MiB).
pub(crate) const MAX_SCHEMA_BYTES: u64 = 64 * 1024 * 1024;

impl TalosSchema {
    pub fn load(path: PathBuf) -> Result<TalosSchema, String> {
        let text = crate::walk::read_text(&path, MAX_SCHEMA_BYTES)
            .map_err(|e| format!("Talos schema {}: {e}", path.display()))?;
        let bundle = Bundle::from_talos_schema(&text)
            .map_err(|e| format!("Talos schema {}: {e}", path.display()))?;
        Ok(TalosSchema { path, bundle })
    }
}

macro_rules! builtin {
    ($name:ident, $file:literal) => {
        fn $name() -> &'static Bundle {
            static CELL: OnceLock<Bundle> = OnceLock::new();
            CELL.get_or_init(|| {
                Bundle::parse(include_str!(concat!("../../schemas/", $file))).expect(concat!(
                    "the built-in ",
                    $file,
                    " is a schema bundle"
                ))
            })
        }
    };
}

builtin!(kubernetes_1_33, "kubernetes/v1.33.json");
builtin!(kubernetes_1_34, "kubernetes/v1.34.json");
builtin!(kubernetes_1_35, "kubernetes/v1.35.json");
builtin!(kubernetes_1_36, "kubernetes/v1.36.json");
builtin!(kubernetes_1_37, "kubernetes/v1.37.json");
builtin!(flux, "flux.json");
builtin!(talos, "talos.json");

/// The built-in Kubernetes bundle for a minor version (the latest when `None`).
fn kubernetes(version: Option<&str>) -> (&'static str, &'static Bundle) {
    match version.unwrap_or(KUBERNETES_VERSIONS[KUBERNETES_VERSIONS.len() - 1]) {
        "1.33" => ("1.33", kubernetes_1_33()),
        "1.34" => ("1.34", kubernetes_1_34()),
        "1.35" => ("1.35", kubernetes_1_35()),
        "1.36" => ("1.36", kubernetes_1_36()),
        _ => ("1.37", kubernetes_1_37()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_bundle_parses() {
        for v in KUBERNETES_VERSIONS {
            let (name, bundle) = kubernetes(Some(v));
            assert_eq!(&name, v);
            assert!(bundle.has("apps/v1 Deployment"), "{v}");
            assert!(
                bundle
                    .root_for_def("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
                    .is_some()
            );
        }
        flux();
        talos();
    }
}
