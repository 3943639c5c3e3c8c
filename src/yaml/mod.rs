//! A spanned YAML tree built from saphyr-parser events, or from the fast path
//! for the common block-style subset (`fast`), which builds the same tree.
//!
//! Every node carries its byte range in the source. Nodes live in one arena per
//! file (no recursion when building or dropping, so deep nesting is safe), and
//! aliases stay references to their anchored node: an alias bomb costs one node
//! per alias, never an expanded copy.

mod aliasing;
mod build;
mod fast;
mod node;

pub use build::{differential, parse};
pub use node::{NodeRef, Scalar};

/// A byte range in a file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end.max(start) as u32,
        }
    }
}

pub type NodeId = u32;

/// What a node is. Children and scalar text live in the file's arenas
/// (`Yaml::children`, `Yaml::strings`), so a node is a few words and building
/// a file allocates a handful of buffers, not one per node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// `strings[text..text + len]`.
    Scalar { text: u32, len: u32, plain: bool },
    /// `children[start..start + len]`.
    Seq { start: u32, len: u32 },
    /// `children[start..start + 2 * len]`: key and value of each entry in
    /// source order; duplicate keys are kept.
    Map { start: u32, len: u32 },
    /// The anchored node this alias names; `None` when the anchor was unknown.
    Alias(Option<NodeId>),
}

#[derive(Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: Kind,
}

/// One YAML document of a file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Document {
    pub root: NodeId,
    pub span: Span,
}

/// A syntax error with its byte offset.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub offset: u32,
    pub message: String,
}

/// A key that a mapping repeats: the first and the repeated key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DuplicateKey {
    pub first: Span,
    pub repeat: Span,
}

/// A parsed file: all its documents, in one arena.
#[derive(Debug, Default, PartialEq)]
pub struct Yaml {
    pub nodes: Vec<Node>,
    /// Items of sequences and keys and values of mappings (see `Kind`).
    pub children: Vec<NodeId>,
    /// The text of every scalar, one after the other (see `Kind::Scalar`).
    pub strings: String,
    pub docs: Vec<Document>,
    pub errors: Vec<SyntaxError>,
    pub duplicate_keys: Vec<DuplicateKey>,
}

impl Yaml {
    pub fn node(&self, id: NodeId) -> NodeRef<'_> {
        NodeRef::new(self, id)
    }

    /// The children of a collection node (for a mapping: key, value, key...).
    pub(crate) fn children_of(&self, kind: &Kind) -> &[NodeId] {
        let (start, len) = match *kind {
            Kind::Seq { start, len } => (start as usize, len as usize),
            Kind::Map { start, len } => (start as usize, 2 * len as usize),
            _ => return &[],
        };
        &self.children[start..start + len]
    }

    pub(crate) fn text_of(&self, text: u32, len: u32) -> &str {
        &self.strings[text as usize..(text + len) as usize]
    }

    pub fn documents(&self) -> impl Iterator<Item = NodeRef<'_>> {
        self.docs.iter().map(|d| self.node(d.root))
    }
}

#[cfg(test)]
mod tests;
