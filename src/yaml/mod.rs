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

pub use build::{differential, parse, parse_packed};

use crate::shared::{Slab, Text};
pub use node::{NodeRef, Scalar};

/// A byte range in a file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(C)]
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

/// What a node is (`Yaml::kind` unpacks it from the node). Scalar text
/// lives in the file's arenas (`Yaml::text` or `Yaml::strings`), and a
/// collection's children are the nodes that follow it (see `Yaml`), so a
/// node is a few words and building a file allocates a handful of buffers,
/// not one per node.
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
    /// `len` items. While a tree is built, they are
    /// `Tree::children[start..start + len]`; in a `Yaml`, `start` is the
    /// first item's id (see `Yaml::children`).
    Seq { start: u32, len: u32 },
    /// `len` entries: key and value of each in source order; duplicate keys
    /// are kept. `start` as for `Seq`.
    Map { start: u32, len: u32 },
    /// The anchored node this alias names; `None` when the anchor was unknown.
    Alias(Option<NodeId>),
}

/// A node in 8 bytes: where its span starts and one word, a tag (top 4
/// bits) and a payload (the other 28). Most scalars are their span, or
/// their span less its quotes: the payload is the span's length. The others,
/// and aliases, name their value (and where their span ends) in
/// `Yaml::scalars`. A collection's payload is where its record is in
/// `Yaml::collections`: where its span ends, then the id after its last
/// descendant (its children are the nodes between, each child's own
/// descendants skipped). Plain old
/// data, so an arena of nodes is one flat buffer. `Yaml::span` puts a
/// node's span together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Node {
    pub start: u32,
    word: u32,
}

const TAG_SHIFT: u32 = 28;
/// The largest payload; as an alias's target, none.
const PAYLOAD: u32 = (1 << TAG_SHIFT) - 1;
const SEQ: u32 = 0;
const MAP: u32 = 1;
const ALIAS: u32 = 2;
/// A plain scalar whose value is its span in the text (payload: its length).
const SPAN_PLAIN: u32 = 3;
/// Another scalar whose value is its span in the text (payload: its length).
const SPAN: u32 = 4;
/// A quoted scalar whose value is its span less its quotes (payload: the
/// span's length).
const QUOTED: u32 = 5;
/// A scalar whose value `Yaml::scalars` gives; `| PLAIN`, `| VERBATIM` (in
/// the text, else in `Yaml::strings`).
const LISTED: u32 = 8;
const PLAIN: u32 = 1;
const VERBATIM: u32 = 2;

impl Node {
    /// The packed word (for the cache's entries).
    pub fn word(&self) -> u32 {
        self.word
    }

    /// A node from where it starts and its packed word; a tree of such
    /// nodes is read only once `Yaml::well_formed` accepts it.
    pub fn from_parts(start: u32, word: u32) -> Node {
        Node { start, word }
    }

    fn tag(&self) -> u32 {
        self.word >> TAG_SHIFT
    }

    fn payload(&self) -> u32 {
        self.word & PAYLOAD
    }
}

/// Where the value of a scalar that is not its span is, and where the
/// scalar's span ends (see `Node`). For an alias: `at` is the node it names
/// (`PAYLOAD` for none), `len` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Value {
    pub at: u32,
    pub len: u32,
    pub end: u32,
}

/// One YAML document of a file.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
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
#[repr(C)]
pub struct DuplicateKey {
    pub first: Span,
    pub repeat: Span,
}

/// A parsed file: its text and all its documents, in flat arenas.
#[derive(Debug, Default, PartialEq)]
pub struct Yaml {
    /// The file's text, which spans point into and verbatim scalars are read
    /// from (shared with the `SourceFile` that holds the tree).
    pub text: Text,
    /// In document order: a collection, then its children, each followed by
    /// its own descendants. So a collection's descendants are the nodes from
    /// the next one up to the id its record gives, and its children need no
    /// list of their own.
    pub nodes: Slab<Node>,
    /// For each collection: where its span ends, and the id after its last
    /// descendant (see `Node`).
    pub collections: Slab<u32>,
    /// Where the values of scalars that are not their span are (see `Node`).
    pub scalars: Slab<Value>,
    /// The value of every scalar not written verbatim (escaped, folded or
    /// spread over lines), one after the other (see `Kind::Scalar`).
    pub strings: Text,
    pub docs: Slab<Document>,
    pub errors: Box<[SyntaxError]>,
    pub duplicate_keys: Slab<DuplicateKey>,
    /// The deepest nesting of collections (1 for a document that is one
    /// mapping of scalars).
    pub nesting: u32,
    /// Some alias names a node (see `has_aliases`).
    pub aliased: bool,
    /// Some alias names a mapping or a sequence. Only then can a document
    /// decode to more values than it has nodes, or nest deeper than
    /// `nesting`: an alias of a scalar is one value, as a scalar is.
    pub collection_aliased: bool,
}

impl Yaml {
    pub fn node(&self, id: NodeId) -> NodeRef<'_> {
        NodeRef::new(self, id)
    }

    /// What a node is.
    pub fn kind(&self, id: NodeId) -> Kind {
        let node = self.nodes[id as usize];
        let p = node.payload();
        let start = node.start;
        match node.tag() {
            SEQ => Kind::Seq {
                start: id + 1,
                len: self.children(id).count() as u32,
            },
            MAP => Kind::Map {
                start: id + 1,
                len: self.children(id).count() as u32 / 2,
            },
            ALIAS => Kind::Alias(self.alias_target(id)),
            tag @ (SPAN_PLAIN | SPAN) => Kind::Scalar {
                at: start,
                len: p,
                plain: tag == SPAN_PLAIN,
                verbatim: true,
            },
            QUOTED => Kind::Scalar {
                at: start + 1,
                len: p - 2,
                plain: false,
                verbatim: true,
            },
            tag => {
                let v = self.scalars[p as usize];
                Kind::Scalar {
                    at: v.at,
                    len: v.len,
                    plain: tag & PLAIN != 0,
                    verbatim: tag & VERBATIM != 0,
                }
            }
        }
    }

    /// The node an alias names.
    #[inline]
    pub(super) fn alias_target(&self, id: NodeId) -> Option<NodeId> {
        let node = self.nodes[id as usize];
        if node.tag() != ALIAS {
            return None;
        }
        let target = self.scalars[node.payload() as usize].at;
        (target != PAYLOAD).then_some(target)
    }

    /// A node's span: where it starts, and where its length (a scalar
    /// written as is), its collection or its listed value says it ends.
    #[inline]
    pub fn span(&self, id: NodeId) -> Span {
        let node = self.nodes[id as usize];
        let p = node.payload();
        let end = match node.tag() {
            SPAN_PLAIN | SPAN | QUOTED => node.start + p,
            SEQ | MAP => self.collections[p as usize],
            _ => self.scalars[p as usize].end,
        };
        Span {
            start: node.start,
            end,
        }
    }

    /// Whether no mapping of the file has a key twice, so that a lookup
    /// may stop at the first key that matches: no key was found written
    /// twice, and no key is an alias (which the parser does not compare).
    #[inline(always)]
    pub(super) fn keys_unique(&self) -> bool {
        self.duplicate_keys.is_empty() && !self.aliased
    }

    /// The id after a node's last descendant: the next node that is not in
    /// its subtree.
    #[inline(always)]
    fn after(&self, id: NodeId) -> NodeId {
        let node = self.nodes[id as usize];
        match node.tag() {
            SEQ | MAP => self.collections[node.payload() as usize + 1],
            _ => id + 1,
        }
    }

    /// A node's collection tag and children (for a mapping: key, value, key...).
    #[inline(always)]
    fn collection(&self, id: NodeId) -> Option<(u32, Children<'_>)> {
        let node = self.nodes[id as usize];
        let tag = node.tag();
        if tag != SEQ && tag != MAP {
            return None;
        }
        let end = self.collections[node.payload() as usize + 1];
        Some((
            tag,
            Children {
                yaml: self,
                at: id + 1,
                end,
            },
        ))
    }

    /// The children of a node: none unless it is a collection (for a
    /// mapping: key, value, key...).
    pub(crate) fn children(&self, id: NodeId) -> Children<'_> {
        self.collection(id)
            .map_or(Children::none(self), |(_, children)| children)
    }

    /// The keys and values of a mapping node.
    #[inline]
    pub(super) fn map_children(&self, id: NodeId) -> Option<Children<'_>> {
        self.collection(id).filter(|c| c.0 == MAP).map(|c| c.1)
    }

    /// The items of a sequence node.
    #[inline]
    pub(super) fn seq_children(&self, id: NodeId) -> Option<Children<'_>> {
        self.collection(id).filter(|c| c.0 == SEQ).map(|c| c.1)
    }

    /// Whether a key node is the scalar `wanted`, and whether it is the
    /// plain merge key `<<` (an alias as a key read as the node it names):
    /// lengths are compared first, taken from the node, so that most keys
    /// that differ are told apart without reading their text.
    #[inline(always)]
    pub(super) fn key_is(&self, id: NodeId, wanted: &[u8]) -> (bool, bool) {
        let Some((key, plain)) = self.key_bytes(id) else {
            return (false, false);
        };
        // Length, then first byte: most keys that differ are told apart
        // without a call to compare them whole.
        let is =
            key.len() == wanted.len() && (key.is_empty() || key[0] == wanted[0]) && key == wanted;
        let merge = plain && key.len() == 2 && key == b"<<";
        (is, merge)
    }

    /// The value of a key node as bytes, and whether it is plain; an alias
    /// is read as the node it names. `None` for a collection. The slice is
    /// made from the node alone: its bytes are read only when compared.
    #[inline(always)]
    pub(super) fn key_bytes(&self, id: NodeId) -> Option<(&[u8], bool)> {
        let node = self.nodes[id as usize];
        let (start, p) = (node.start as usize, node.payload() as usize);
        let text = self.text.as_bytes();
        let (at, len, plain, arena) = match node.tag() {
            SPAN_PLAIN => (start, p, true, text),
            SPAN => (start, p, false, text),
            QUOTED => (start + 1, p - 2, false, text),
            SEQ | MAP => return None,
            ALIAS => {
                return match self.alias_target(id) {
                    // An alias names an earlier node, never another alias.
                    Some(target) if self.alias_target(target).is_none() => self.key_bytes(target),
                    _ => None,
                };
            }
            tag => {
                let Value { at, len, .. } = self.scalars[node.payload() as usize];
                let arena = if tag & VERBATIM != 0 {
                    text
                } else {
                    self.strings.as_bytes()
                };
                (at as usize, len as usize, tag & PLAIN != 0, arena)
            }
        };
        Some((&arena[at..at + len], plain))
    }

    /// The value of a scalar node and whether it is plain.
    #[inline]
    pub(super) fn scalar_of(&self, id: NodeId) -> Option<(&str, bool)> {
        let node = self.nodes[id as usize];
        let start = node.start as usize;
        let end = start + node.payload() as usize;
        match node.tag() {
            SPAN_PLAIN => Some((&self.text[start..end], true)),
            SPAN => Some((&self.text[start..end], false)),
            QUOTED => Some((&self.text[start + 1..end - 1], false)),
            SEQ | MAP | ALIAS => None,
            tag => {
                let Value { at, len, .. } = self.scalars[node.payload() as usize];
                Some((self.text_of(at, len, tag & VERBATIM != 0), tag & PLAIN != 0))
            }
        }
    }

    /// Whether a tree that was not just parsed (read back from the cache)
    /// keeps the invariants the parser gives every tree, which the accessors
    /// rely on: indices and ranges in bounds, cuts on character boundaries,
    /// known tags, children after their parent and aliases to earlier nodes
    /// (so no cycle but the ones the parser makes itself).
    pub fn well_formed(&self) -> bool {
        let (text, n) = (&*self.text, self.nodes.len());
        let strings: &str = &self.strings;
        // In ASCII text (most files) every offset within it is a character
        // boundary: a cut is then checked without reading the text there.
        let (text_ascii, strings_ascii) = (text.is_ascii(), strings.is_ascii());
        let cut = |s: &str, ascii: bool, at: usize, end: Option<usize>| {
            end.is_some_and(|end| {
                at <= end
                    && end <= s.len()
                    && (ascii || (s.is_char_boundary(at) && s.is_char_boundary(end)))
            })
        };
        let in_text = |s: Span| cut(text, text_ascii, s.start as usize, Some(s.end as usize));
        let (mut aliased, mut collection_aliased) = (false, false);
        // A span from where a node starts to `end`, if that is in the text.
        let span_to = |node: &Node, end: Option<u32>| {
            end.is_some_and(|end| {
                in_text(Span {
                    start: node.start,
                    end,
                })
            })
        };
        for (id, node) in self.nodes.iter().enumerate() {
            let start = node.start as usize;
            let p = node.payload() as usize;
            let ok = match node.tag() {
                // Descendants after the collection and within the tree:
                // its children are then read in increasing order, and end.
                SEQ | MAP => {
                    span_to(node, self.collections.get(p).copied())
                        && self
                            .collections
                            .get(p + 1)
                            .is_some_and(|&after| after as usize > id && after as usize <= n)
                }
                ALIAS => self.scalars.get(p).is_some_and(|v| {
                    let target = v.at as usize;
                    let names = v.at != PAYLOAD;
                    aliased |= names;
                    // A target comes before its alias, and was checked.
                    collection_aliased |=
                        names && target < id && matches!(self.nodes[target].tag(), SEQ | MAP);
                    v.len == 0 && (!names || target < id) && span_to(node, Some(v.end))
                }),
                SPAN_PLAIN | SPAN => span_to(node, node.start.checked_add(p as u32)),
                QUOTED => {
                    p >= 2
                        && span_to(node, node.start.checked_add(p as u32))
                        && cut(text, text_ascii, start + 1, Some(start + p - 1))
                }
                tag if tag & !(PLAIN | VERBATIM) == LISTED => {
                    self.scalars.get(p).is_some_and(|v| {
                        let (arena, ascii) = if tag & VERBATIM != 0 {
                            (text, text_ascii)
                        } else {
                            (strings, strings_ascii)
                        };
                        span_to(node, Some(v.end))
                            && cut(
                                arena,
                                ascii,
                                v.at as usize,
                                (v.at as usize).checked_add(v.len as usize),
                            )
                    })
                }
                _ => false,
            };
            if !ok {
                return false;
            }
        }
        self.docs
            .iter()
            .all(|d| (d.root as usize) < n && in_text(d.span))
            && self
                .errors
                .iter()
                .all(|e| text.is_char_boundary(e.offset as usize))
            && self
                .duplicate_keys
                .iter()
                .all(|d| in_text(d.first) && in_text(d.repeat))
            && self.aliased == aliased
            && self.collection_aliased == collection_aliased
    }

    /// Moves a node's span (for tests of `well_formed`): where it starts,
    /// and whatever records where it ends.
    #[cfg(test)]
    pub(super) fn set_span(&mut self, id: NodeId, span: Span) {
        let node = self.nodes[id as usize];
        let (tag, p) = (node.tag(), node.payload() as usize);
        self.nodes.edit(|nodes| {
            let node = &mut nodes[id as usize];
            node.start = span.start;
            if let SPAN_PLAIN | SPAN | QUOTED = tag {
                node.word = (tag << TAG_SHIFT) | (span.end - span.start);
            }
        });
        match tag {
            SPAN_PLAIN | SPAN | QUOTED => {}
            SEQ | MAP => self.collections.edit(|c| c[p] = span.end),
            _ => self.scalars.edit(|s| s[p].end = span.end),
        }
    }

    /// Whether some alias names a node, and whether some alias names a
    /// collection (`aliased`, `collection_aliased`).
    pub(super) fn has_aliases(&self) -> (bool, bool) {
        let mut aliased = false;
        for id in 0..self.nodes.len() as NodeId {
            if let Some(target) = self.alias_target(id) {
                aliased = true;
                let target = self.nodes.get(target as usize);
                if target.is_some_and(|t| matches!(t.tag(), SEQ | MAP)) {
                    return (true, true);
                }
            }
        }
        (aliased, false)
    }
}

/// A tree's arrays as they are filled, node after node (`Yaml` holds them
/// read only).
#[derive(Default)]
pub(super) struct Arrays {
    pub nodes: Vec<Node>,
    pub collections: Vec<u32>,
    pub scalars: Vec<Value>,
}

impl Arrays {
    /// A node of `kind` at `span` appended to the arrays, with the id after
    /// its last descendant (`after`, for a collection) or its scalar value;
    /// `None` when a payload would not fit.
    pub(super) fn push(&mut self, span: Span, kind: Kind, after: NodeId) -> Option<()> {
        let width = span.end - span.start;
        let (tag, payload) = match kind {
            Kind::Seq { .. } | Kind::Map { .. } => {
                let at = self.collections.len() as u32;
                self.collections.extend([span.end, after]);
                (
                    if matches!(kind, Kind::Seq { .. }) {
                        SEQ
                    } else {
                        MAP
                    },
                    at,
                )
            }
            Kind::Alias(Some(target)) if target >= PAYLOAD => return None,
            Kind::Alias(target) => {
                let i = self.scalars.len() as u32;
                self.scalars.push(Value {
                    at: target.unwrap_or(PAYLOAD),
                    len: 0,
                    end: span.end,
                });
                (ALIAS, i)
            }
            Kind::Scalar {
                at,
                len,
                plain,
                verbatim,
            } => {
                if verbatim && at == span.start && len == width && width <= PAYLOAD {
                    (if plain { SPAN_PLAIN } else { SPAN }, width)
                } else if verbatim
                    && !plain
                    && at == span.start + 1
                    && at + len + 1 == span.end
                    && width <= PAYLOAD
                {
                    (QUOTED, width)
                } else {
                    let i = self.scalars.len() as u32;
                    self.scalars.push(Value {
                        at,
                        len,
                        end: span.end,
                    });
                    let flags = if plain { PLAIN } else { 0 } | if verbatim { VERBATIM } else { 0 };
                    (LISTED | flags, i)
                }
            }
        };
        if payload > PAYLOAD {
            return None;
        }
        self.nodes.push(Node {
            start: span.start,
            word: (tag << TAG_SHIFT) | payload,
        });
        Some(())
    }
}

impl Yaml {
    /// The value of a scalar (see `Kind::Scalar`).
    pub(crate) fn text_of(&self, at: u32, len: u32, verbatim: bool) -> &str {
        let arena: &str = if verbatim { &self.text } else { &self.strings };
        &arena[at as usize..(at + len) as usize]
    }

    pub fn documents(&self) -> impl Iterator<Item = NodeRef<'_>> {
        self.docs.iter().map(|d| self.node(d.root))
    }
}

/// The children of a collection (for a mapping: key, value, key...), in
/// order: from the node after it, each child's descendants skipped, up to
/// the id after its last descendant.
#[derive(Clone)]
pub(crate) struct Children<'a> {
    yaml: &'a Yaml,
    at: NodeId,
    end: NodeId,
}

impl<'a> Children<'a> {
    fn none(yaml: &'a Yaml) -> Self {
        Children {
            yaml,
            at: 0,
            end: 0,
        }
    }

    /// A mapping's children as (key, value) pairs.
    #[inline]
    pub(crate) fn pairs(self) -> Pairs<'a> {
        Pairs(self)
    }
}

/// A mapping's keys and values (see `Children::pairs`).
#[derive(Clone)]
pub(crate) struct Pairs<'a>(Children<'a>);

impl Iterator for Pairs<'_> {
    type Item = (NodeId, NodeId);

    #[inline(always)]
    fn next(&mut self) -> Option<(NodeId, NodeId)> {
        let c = &mut self.0;
        let key = c.at;
        if key >= c.end {
            return None;
        }
        let value = c.yaml.after(key);
        if value >= c.end {
            c.at = c.end;
            return None;
        }
        c.at = c.yaml.after(value);
        Some((key, value))
    }
}

impl Iterator for Children<'_> {
    type Item = NodeId;

    #[inline(always)]
    fn next(&mut self) -> Option<NodeId> {
        if self.at >= self.end {
            return None;
        }
        let id = self.at;
        // Greater than `id` in any tree `well_formed` accepts: this ends.
        self.at = self.yaml.after(id);
        Some(id)
    }
}

#[cfg(test)]
mod tests;
