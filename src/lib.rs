//! gitops-lint: an offline linter for GitOps repositories.
//!
//! walk -> parse (spans) -> repository model -> rules -> suppressions -> sorted
//! diagnostics -> one renderer per format.

pub mod cache;
pub mod config;
pub mod diagnostic;
pub mod explain;
pub mod fix;
pub mod lsp;
pub mod model;
pub mod render;
pub mod rules;
pub mod run;
pub mod schema;
pub mod session;
pub mod shared;
pub mod source;
pub mod suppress;
#[cfg(test)]
pub(crate) mod testing;
pub mod timing;
pub mod walk;
pub mod yaml;

pub use run::{Error, Options, Report, run};
