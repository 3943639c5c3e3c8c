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

pub use build::{differential, parse, parse_shared};
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
/// (`Yaml::children`, and `Yaml::text` or `Yaml::strings`), so a node is a
/// few words and building a file allocates a handful of buffers, not one per
/// node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// `text[at..at + len]` of the file when `verbatim` (the value is written
    /// as is: most plain and quoted scalars), else `strings[at..at + len]`.
    Scalar {
        at: u32,
        len: u32,
        plain: bool,
        verbatim: bool,
    },
    /// `children[start..start + len]`.
    Seq { start: u32, len: u32 },
    /// `children[start..start + 2 * len]`: key and value of each entry in
    /// source order; duplicate keys are kept.
    Map { start: u32, len: u32 },
    /// The anchored node this alias names; `None` when the anchor was unknown.
    Alias(Option<NodeId>),
}

/// The most a length in a node holds: longer text is not parsed (`parse`).
pub const MAX_LEN: u32 = (1 << 29) - 1;

/// A node in 16 bytes: its span, and its kind packed in two words (`a`, and
/// `b`: a tag in the top 3 bits, a length in the other 29). Plain old data,
/// so an arena of nodes is one flat buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub span: Span,
    a: u32,
    b: u32,
}

const TAG_SHIFT: u32 = 29;
const SCALAR: u32 = 0;
const PLAIN: u32 = 1;
const VERBATIM: u32 = 2;
const SEQ: u32 = 4;
const MAP: u32 = 5;
const ALIAS: u32 = 6;
const NO_TARGET: u32 = u32::MAX;

impl Node {
    /// A node; lengths are at most `MAX_LEN` (`parse` sees to it).
    pub fn new(span: Span, kind: Kind) -> Self {
        let (tag, a, len) = match kind {
            Kind::Scalar {
                at,
                len,
                plain,
                verbatim,
            } => (
                SCALAR | if plain { PLAIN } else { 0 } | if verbatim { VERBATIM } else { 0 },
                at,
                len,
            ),
            Kind::Seq { start, len } => (SEQ, start, len),
            Kind::Map { start, len } => (MAP, start, len),
            Kind::Alias(target) => (ALIAS, target.unwrap_or(NO_TARGET), 0),
        };
        debug_assert!(len <= MAX_LEN);
        Node {
            span,
            a,
            b: (tag << TAG_SHIFT) | (len & MAX_LEN),
        }
    }

    pub fn kind(&self) -> Kind {
        let (a, len) = (self.a, self.b & MAX_LEN);
        match self.b >> TAG_SHIFT {
            SEQ => Kind::Seq { start: a, len },
            MAP => Kind::Map { start: a, len },
            ALIAS => Kind::Alias((a != NO_TARGET).then_some(a)),
            tag => Kind::Scalar {
                at: a,
                len,
                plain: tag & PLAIN != 0,
                verbatim: tag & VERBATIM != 0,
            },
        }
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("span", &self.span)
            .field("kind", &self.kind())
            .finish()
    }
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

/// A parsed file: its text and all its documents, in flat arenas.
#[derive(Debug, Default, PartialEq)]
pub struct Yaml {
    /// The file's text, which spans point into and verbatim scalars are read
    /// from (shared with the `SourceFile` that holds the tree).
    pub text: std::sync::Arc<str>,
    pub nodes: Vec<Node>,
    /// Items of sequences and keys and values of mappings (see `Kind`).
    pub children: Vec<NodeId>,
    /// The value of every scalar not written verbatim (escaped, folded or
    /// spread over lines), one after the other (see `Kind::Scalar`).
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

    /// The value of a scalar (see `Kind::Scalar`).
    pub(crate) fn text_of(&self, at: u32, len: u32, verbatim: bool) -> &str {
        let arena: &str = if verbatim { &self.text } else { &self.strings };
        &arena[at as usize..(at + len) as usize]
    }

    pub fn documents(&self) -> impl Iterator<Item = NodeRef<'_>> {
        self.docs.iter().map(|d| self.node(d.root))
    }
}

#[cfg(test)]
mod tests;
