//! The documents the client has open: their text, version, how they are
//! linted, and what was last published for them.

use std::path::{Path, PathBuf};

use lsp_types as lsp;

use super::conversion::Finding;

/// How an open document is linted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linted {
    /// As this file (relative path) of the session at `root`.
    Repo { root: PathBuf, rel: String },
    /// On its own: a YAML file outside every repository root.
    Alone,
    /// Not at all: not YAML, ignored, excluded, or a Helm template.
    No,
}

impl Linted {
    /// The relative path, when the document is a file of the session at `root`.
    pub fn rel_in(&self, root: &Path) -> Option<&str> {
        match self {
            Linted::Repo { root: r, rel } if r == root => Some(rel),
            _ => None,
        }
    }
}

pub struct Doc {
    pub uri: lsp::Uri,
    pub path: PathBuf,
    pub text: String,
    pub version: i32,
    pub linted: Linted,
    /// The findings of the last lint (what the code actions offer).
    pub findings: Vec<Finding>,
    /// What was last published (`None`: nothing yet).
    pub published: Option<Vec<lsp::Diagnostic>>,
}

impl Doc {
    pub fn new(item: lsp::TextDocumentItem, path: PathBuf) -> Doc {
        Doc {
            uri: item.uri,
            path,
            text: item.text,
            version: item.version,
            linted: Linted::No,
            findings: Vec::new(),
            published: None,
        }
    }
}

/// The map key of a document: its URI as the client spells it.
pub fn key(uri: &lsp::Uri) -> String {
    uri.as_str().to_string()
}
