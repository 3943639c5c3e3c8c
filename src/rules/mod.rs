//! The rule registry: one sorted list. A rule is a pure function of the model.

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;

pub mod cilium;
pub mod eso;
pub mod flux;
pub mod kustomize;
pub mod lint;
pub mod talos;
pub mod workload;
pub mod yaml;

pub type Check = fn(&Repository, &mut Vec<Diagnostic>);

pub struct Rule {
    pub id: &'static str,
    /// The default severity (a rule may report some findings lower, as its page says).
    pub severity: Severity,
    pub enabled: bool,
    pub summary: &'static str,
    /// The rule's page from `lints/`.
    pub page: &'static str,
    /// `None` for findings the engine itself makes (suppression comments).
    pub check: Option<Check>,
}

/// Every rule, sorted by id.
pub static RULES: &[&Rule] = &[
    &cilium::lbipam_dual_stack::RULE,
    &eso::api_version::RULE,
    &eso::no_password_generator_for_sso::RULE,
    &flux::no_retry_interval::RULE,
    &kustomize::component_shared_resource::RULE,
    &lint::skipped_file::RULE,
    &lint::unused_suppression::RULE,
    &talos::worker_dhcp_explicit::RULE,
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
