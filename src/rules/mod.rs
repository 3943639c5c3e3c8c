//! The rule registry: one sorted list. A rule is a pure function of the model.
//!
//! A run may want the findings of some files only (`Repository::wants`: an
//! editor's open files, `check FILE`). A rule may then skip the work of a
//! finding in another file, never the indexes other files feed; the engine
//! drops the rest, and `tests/focus.rs` checks that nothing else changes.

use crate::diagnostic::Severity;

mod ctx;
pub use ctx::{Ctx, Reported};

pub mod cilium;
pub mod eso;
pub mod flux;
pub mod gateway;
pub mod kustomize;
pub mod lint;
pub mod schema;
pub mod secrets;
pub mod talos;
pub mod traefik;
pub mod volsync;
pub mod workload;
pub mod yaml;

pub type Check = fn(&mut Ctx);

pub struct Rule {
    pub id: &'static str,
    /// The default severity (a rule may report some findings lower, as its page says).
    pub severity: Severity,
    pub enabled: bool,
    /// Its findings depend on other files of the repository (references that
    /// resolve, objects that collide, facts of the cluster): off for a file
    /// linted on its own, outside every repository root.
    pub needs_repository: bool,
    pub summary: &'static str,
    /// The rule's page from `lints/`.
    pub page: &'static str,
    /// `None` for findings the engine itself makes (suppression comments).
    pub check: Option<Check>,
}

/// Every rule, sorted by id.
pub static RULES: &[&Rule] = &[
    &cilium::lbipam_dual_stack::RULE,
    &cilium::lbipam_ip_in_pool::RULE,
    &eso::api_version::RULE,
    &eso::no_password_generator_for_sso::RULE,
    &flux::chart_version_pinned::RULE,
    &flux::depends_on_resolves::RULE,
    &flux::deprecated_api::RULE,
    &flux::finite_remediation_retries::RULE,
    &flux::no_retry_interval::RULE,
    &flux::one_owner_per_object::RULE,
    &flux::path_exists::RULE,
    &flux::source_ref_namespace::RULE,
    &flux::undefined_substitution::RULE,
    &gateway::https_issuer::RULE,
    &gateway::listener_ports::RULE,
    &gateway::parent_ref_resolves::RULE,
    &kustomize::component_shared_resource::RULE,
    &kustomize::missing_reference::RULE,
    &kustomize::namespace_required::RULE,
    &lint::skipped_file::RULE,
    &lint::unused_suppression::RULE,
    &schema::invalid_value::RULE,
    &schema::unknown_field::RULE,
    &schema::unknown_kind::RULE,
    &secrets::plaintext_secret::RULE,
    &talos::talhelper_patch_exists::RULE,
    &talos::worker_dhcp_explicit::RULE,
    &traefik::ingressroute_class::RULE,
    &volsync::copy_method::RULE,
    &volsync::ssa_if_not_present::RULE,
    &workload::image_tag_pinned::RULE,
    &workload::pdb_blocks_drain::RULE,
    &workload::rwo_single_replica_recreate::RULE,
    &yaml::duplicate_key::RULE,
    &yaml::syntax::RULE,
];

pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// The rule the suppression pass reports under.
pub fn unused_rule() -> &'static Rule {
    &lint::unused_suppression::RULE
}
