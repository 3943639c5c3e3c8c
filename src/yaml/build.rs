use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle};

use rustc_hash::FxHashMap;

use crate::shared::{Slab, Text};

use super::{Document, DuplicateKey, Kind, NodeId, Span, SyntaxError, Yaml};

/// Parses every document of `text` (a copy of which the tree holds). A syntax
/// error ends the document it is in; parsing resumes at the next `---` line,
/// so later documents are still seen.
pub fn parse(text: &str) -> Yaml {
    parse_holding(text.into(), false)
}

/// The longest text parsed: every offset and length in the tree then fits in
/// 32 bits (a decoded value is at most one and a half times as long as its
/// source).
const MAX_TEXT: usize = 1 << 30;

/// `parse`, the tree sharing `text`; its arrays packed when `pack`.
fn parse_holding(text: Text, pack: bool) -> Yaml {
    if text.len() > MAX_TEXT {
        return Yaml {
            text,
            errors: Box::new([SyntaxError {
                offset: 0,
                message: format!("the text is too large to parse (over {MAX_TEXT} bytes)"),
            }]),
            ..Yaml::default()
        };
    }
    let tree = parse_tree(&text, true);
    let mut yaml = finish(tree, &text, pack);
    yaml.text = text;
    yaml
}

/// A file's text, packed, and its tree, packed (see `crate::shared`): for
/// the files of the repository, which live as long as the run.
pub fn parse_packed(text: &str) -> Yaml {
    parse_holding(Text::pack(text), true)
}

/// The tree of `text`; `verbatim`: values written as is are read from the
/// text rather than copied.
fn parse_tree(text: &str, verbatim: bool) -> Tree {
    super::fast::parse(text, verbatim).unwrap_or_else(|| parse_spaced(text, verbatim))
}

/// A tree as it is built: each node's kind in full, and children without
/// their counts. `finish` packs it into a `Yaml`.
#[derive(Debug, Default)]
pub(super) struct Tree {
    nodes: Vec<Wide>,
    children: Vec<NodeId>,
    strings: String,
    docs: Vec<Document>,
    errors: Vec<SyntaxError>,
    duplicate_keys: Vec<DuplicateKey>,
    /// The deepest nesting of collections.
    nesting: u32,
}

#[derive(Debug, Clone, Copy)]
struct Wide {
    span: Span,
    kind: Kind,
}

impl Tree {
    fn children_of(&self, kind: &Kind) -> &[NodeId] {
        let (start, len) = match *kind {
            Kind::Seq { start, len } => (start as usize, len as usize),
            Kind::Map { start, len } => (start as usize, 2 * len as usize),
            _ => return &[],
        };
        &self.children[start..start + len]
    }
}

impl Tree {
    /// For each node, the id after its last descendant, when every
    /// collection's children are the nodes that follow it, each followed by
    /// its own descendants (as the builder adds them: see `Yaml::nodes`);
    /// `None` if some collection's are not.
    fn afters(&self) -> Option<Vec<NodeId>> {
        let n = self.nodes.len();
        let mut after = vec![0; n];
        // Children come after their parent: theirs are known first.
        for id in (0..n).rev() {
            let children = self.children_of(&self.nodes[id].kind);
            let mut at = id as NodeId + 1;
            for &c in children {
                if c != at {
                    return None;
                }
                at = after[c as usize];
            }
            after[id] = at;
        }
        Some(after)
    }
}

/// A tree that `finish` cannot pack: the message for it.
fn unpackable(message: &str) -> Yaml {
    Yaml {
        errors: Box::new([SyntaxError {
            offset: 0,
            message: message.to_string(),
        }]),
        ..Yaml::default()
    }
}

/// Ends quoted scalars at their quote, packs the tree into a `Yaml` (without
/// its text), its arrays in this thread's packing chunk when `pack` (see
/// `crate::shared`), and reports an alias bomb.
fn finish(mut tree: Tree, text: &str, pack: bool) -> Yaml {
    fn slab<T: crate::shared::Plain>(records: Vec<T>, pack: bool) -> Slab<T> {
        if pack {
            Slab::pack(&records)
        } else {
            Slab::from(records)
        }
    }
    end_quoted_at_the_quote(&mut tree, text);
    let Some(after) = tree.afters() else {
        debug_assert!(false, "a collection's children are not the nodes after it");
        return unpackable("the file's nodes could not be put in order to parse");
    };
    let collections = tree
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, Kind::Seq { .. } | Kind::Map { .. }))
        .count();
    let mut arrays = super::Arrays {
        nodes: Vec::with_capacity(tree.nodes.len()),
        collections: Vec::with_capacity(2 * collections),
        scalars: Vec::new(),
    };
    for (n, &after) in tree.nodes.iter().zip(&after) {
        if arrays.push(n.span, n.kind, after).is_none() {
            return unpackable("the file holds too many nodes to parse");
        }
    }
    let mut yaml = Yaml {
        nodes: slab(arrays.nodes, pack),
        collections: slab(arrays.collections, pack),
        scalars: slab(arrays.scalars, pack),
        strings: if pack {
            Text::pack(&tree.strings)
        } else {
            tree.strings.into()
        },
        docs: slab(tree.docs, pack),
        duplicate_keys: slab(tree.duplicate_keys, pack),
        ..Yaml::default()
    };
    let mut errors = tree.errors;
    yaml.nesting = tree.nesting;
    (yaml.aliased, yaml.collection_aliased) = yaml.has_aliases();
    for (root, decoded) in super::aliasing::excessive(&yaml) {
        let offset = yaml.span(root).start;
        errors.push(SyntaxError {
            offset,
            message: format!(
                "document contains excessive aliasing: it decodes to {} nodes, nearly all through aliases (an alias bomb); Kubernetes' YAML decoder refuses it",
                if decoded == u64::MAX { "more than 10^19".to_string() } else { decoded.to_string() }
            ),
        });
    }
    yaml.errors = errors.into_boxed_slice();
    yaml
}

/// The tree that reads values written as is from the text and the one that
/// copies every value agree: same nodes, spans and values.
fn verbatim_reads_as_copied(text: &str) -> Result<(), String> {
    let shared = parse(text);
    let mut copied = finish(parse_tree(text, false), text, false);
    copied.text = shared.text.clone();
    // Every tree the parser builds is one the cache would read back.
    if !shared.well_formed() || !copied.well_formed() {
        return Err("the tree breaks an invariant `Yaml::well_formed` checks".into());
    }
    let same = shared.nodes.len() == copied.nodes.len()
        && shared.collections == copied.collections
        && shared.docs == copied.docs
        && shared.errors == copied.errors
        && shared.duplicate_keys == copied.duplicate_keys;
    if !same {
        return Err("reading values from the text changes the tree".into());
    }
    for i in 0..shared.nodes.len() as NodeId {
        let (ka, kb) = (shared.kind(i), copied.kind(i));
        let (a, b) = (shared.span(i), copied.span(i));
        let agree = a == b
            && match (ka, kb) {
                (
                    Kind::Scalar {
                        at,
                        len,
                        plain,
                        verbatim,
                    },
                    Kind::Scalar {
                        at: b_at,
                        len: b_len,
                        plain: b_plain,
                        verbatim: false,
                    },
                ) => {
                    plain == b_plain
                        && shared.text_of(at, len, verbatim) == copied.text_of(b_at, b_len, false)
                }
                (ka, kb) => ka == kb,
            };
        if !agree {
            return Err(format!(
                "node {i}: read from the text {:?}, copied {:?}",
                (a, ka),
                (b, kb)
            ));
        }
    }
    Ok(())
}

/// A quoted scalar's span ends at its closing quote: the parsers' end runs
/// over the spaces and a comment that follow it.
fn end_quoted_at_the_quote(tree: &mut Tree, text: &str) {
    let b = text.as_bytes();
    for node in &mut tree.nodes {
        let Kind::Scalar { plain: false, .. } = node.kind else {
            continue;
        };
        let (start, end) = (node.span.start as usize, node.span.end as usize);
        let Some(&q @ (b'"' | b'\'')) = b.get(start) else {
            continue;
        };
        let mut i = start + 1;
        while i < end {
            match b[i] {
                b'\\' if q == b'"' => i += 2,
                c if c == q && q == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 2,
                c if c == q => {
                    node.span.end = (i + 1) as u32;
                    break;
                }
                _ => i += 1,
            }
        }
    }
}

/// Compares the fast path with the general parser on `text`: `Ok(true)` when
/// the fast path applies and builds the same tree, `Ok(false)` when it does
/// not apply. Either way, reading values written as is from the text must
/// give what copying them gives. For tests and the fuzz target.
#[doc(hidden)]
pub fn differential(text: &str) -> Result<bool, String> {
    verbatim_reads_as_copied(text)?;
    let Some(fast) = super::fast::parse(text, true) else {
        return Ok(false);
    };
    let mut fast = finish(fast, text, false);
    let mut general = finish(parse_spaced(text, true), text, false);
    fast.text = text.into();
    general.text = fast.text.clone();
    if fast == general {
        return Ok(true);
    }
    let first = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
        format!("{what}: fast path {a:?}, general parser {b:?}")
    };
    let n = fast.nodes.len().max(general.nodes.len());
    for i in 0..n {
        let view = |y: &Yaml| {
            (i < y.nodes.len()).then(|| {
                let kind = y.kind(i as NodeId);
                let value = match kind {
                    Kind::Scalar {
                        at, len, verbatim, ..
                    } => Some(y.text_of(at, len, verbatim).to_string()),
                    _ => None,
                };
                (y.span(i as NodeId), kind, value)
            })
        };
        let (a, b) = (view(&fast), view(&general));
        if a != b {
            return Err(first(&format!("node {i}"), &a, &b));
        }
    }
    Err(if fast.docs != general.docs {
        first("documents", &fast.docs, &general.docs)
    } else if fast.strings != general.strings {
        first("strings", &fast.strings, &general.strings)
    } else if fast.collections != general.collections {
        first("collections", &fast.collections, &general.collections)
    } else if fast.scalars != general.scalars {
        first("scalars", &fast.scalars, &general.scalars)
    } else if fast.duplicate_keys != general.duplicate_keys {
        first(
            "duplicate keys",
            &fast.duplicate_keys,
            &general.duplicate_keys,
        )
    } else {
        first("errors", &fast.errors, &general.errors)
    })
}

/// Parses `text` with the spaces YAML wants and go-yaml (Kubernetes' decoder)
/// and PyYAML do without inserted: before the `:` of an alias used as a key,
/// and before a comment right after a quoted scalar (`"x"# note`). Offsets
/// are mapped back to `text`.
fn parse_spaced(text: &str, verbatim: bool) -> Tree {
    let mut inserted = alias_keys(text);
    for _ in 0..64 {
        let yaml = parse_with_spaces(text, &inserted, verbatim);
        match yaml.errors.first() {
            Some(e) if comment_after_quote(text, e) && !inserted.contains(&(e.offset as usize)) => {
                inserted.push(e.offset as usize);
                inserted.sort_unstable();
            }
            _ => return yaml,
        }
    }
    parse_with_spaces(text, &inserted, verbatim)
}

/// A comment that follows a closing quote with no space between.
fn comment_after_quote(text: &str, e: &SyntaxError) -> bool {
    let at = e.offset as usize;
    let b = text.as_bytes();
    e.message.contains("comments must be separated")
        && b.get(at) == Some(&b'#')
        && at > 0
        && matches!(b[at - 1], b'"' | b'\'')
}

fn parse_with_spaces(text: &str, inserted: &[usize], verbatim: bool) -> Tree {
    if inserted.is_empty() {
        return parse_text(text, verbatim);
    }
    let mut spaced = String::with_capacity(text.len() + inserted.len());
    let mut last = 0;
    for &at in inserted {
        spaced.push_str(&text[last..at]);
        spaced.push(' ');
        last = at;
    }
    spaced.push_str(&text[last..]);
    // Offsets in the spaced text are not the file's: every value is copied.
    let mut yaml = parse_text(&spaced, false);
    // Map offsets in the spaced text back to the original.
    let back = |o: &mut u32| {
        let before = inserted
            .iter()
            .enumerate()
            .take_while(|(i, at)| (**at + i) < *o as usize)
            .count();
        *o -= before as u32;
    };
    for n in &mut yaml.nodes {
        back(&mut n.span.start);
        back(&mut n.span.end);
    }
    for d in &mut yaml.docs {
        back(&mut d.span.start);
        back(&mut d.span.end);
    }
    for e in &mut yaml.errors {
        back(&mut e.offset);
    }
    for d in &mut yaml.duplicate_keys {
        for s in [&mut d.first, &mut d.repeat] {
            back(&mut s.start);
            back(&mut s.end);
        }
    }
    yaml
}

/// Positions of the `:` in aliases used as keys (`*app:`). Kubernetes' YAML
/// library ends an alias name at the first character that is not
/// alphanumeric, `-` or `_`; YAML 1.2 (and so the parser) would read the colon
/// as part of the name. A space is put before such colons before parsing.
pub(super) fn alias_keys(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find('*').map(|i| i + from) {
        from = i + 1;
        let starts_token = i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'[' | b'{' | b',');
        if !starts_token {
            continue;
        }
        let name_end = b[i + 1..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_'))
            .map_or(b.len(), |p| p + i + 1);
        if name_end > i + 1
            && b.get(name_end) == Some(&b':')
            && b.get(name_end + 1)
                .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            out.push(name_end);
        }
    }
    out
}

/// Parses `text`; `verbatim`: values written as is are read from the text
/// (which the tree will hold) rather than copied.
fn parse_text(text: &str, verbatim: bool) -> Tree {
    let mut yaml = Tree::default();
    let source = verbatim.then_some(text);
    // A UTF-8 byte order mark is allowed and is not content.
    let mut base = if text.starts_with('\u{feff}') { 3 } else { 0 };
    while base <= text.len() {
        let part = &text[base..];
        match parse_part(part, base, &mut yaml, source) {
            Ok(()) => break,
            Err(err_at) => match next_document_start(text, base, err_at) {
                Some(next) if next > base => base = next,
                _ => break,
            },
        }
    }
    yaml
}

/// Byte offset of the first `---` line after `base`, from the line holding `err_at` on.
fn next_document_start(text: &str, base: usize, err_at: usize) -> Option<usize> {
    let mut pos = text[..err_at].rfind('\n').map_or(0, |i| i + 1).max(base);
    if pos == base {
        pos += text[pos..].find('\n')? + 1;
    }
    loop {
        let rest = &text[pos..];
        if let Some(after) = rest.strip_prefix("---")
            && (after.is_empty() || after.starts_with([' ', '\t', '\n', '\r']))
        {
            return Some(pos);
        }
        pos += rest.find('\n')? + 1;
    }
}

/// Converts the parser's character indices into byte offsets.
struct Offsets {
    base: usize,
    /// Byte offset of every character, when the text is not ASCII.
    table: Option<Vec<u32>>,
}

impl Offsets {
    fn new(part: &str, base: usize) -> Self {
        let table = (!part.is_ascii()).then(|| {
            let mut t: Vec<u32> = part.char_indices().map(|(i, _)| i as u32).collect();
            t.push(part.len() as u32);
            t
        });
        Offsets { base, table }
    }

    fn byte(&self, m: &Marker) -> usize {
        let local = match &self.table {
            None => m.index(),
            Some(t) => t.get(m.index()).copied().unwrap_or(*t.last().unwrap_or(&0)) as usize,
        };
        self.base + local
    }
}

/// An open collection. Its children so far are `Builder::pending[start..]`
/// (for a mapping: key, value, key, value...).
struct Frame {
    id: NodeId,
    start: usize,
    map: bool,
    /// A mapping's key waiting for its value.
    key: Option<NodeId>,
    /// Built once a mapping grows large, so duplicate detection stays linear.
    index: Option<HashMap<String, NodeId>>,
}

const INDEX_AFTER: usize = 32;

pub(super) struct Builder<'y> {
    yaml: &'y mut Tree,
    /// The file's text, when values written as is are read from it.
    source: Option<&'y str>,
    stack: Vec<Frame>,
    /// Children of the open collections, innermost last.
    pending: Vec<NodeId>,
    anchors: FxHashMap<usize, NodeId>,
    doc_start: usize,
    root: Option<NodeId>,
}

/// Where in `source` a scalar's value is written as is, if it is: at its start
/// (plain), after its opening quote (quoted), or before its end (a plain
/// scalar after an anchor). The bytes are compared, so any offset found holds.
fn verbatim_at(source: &str, value: &str, start: usize, end: usize) -> Option<u32> {
    let len = value.len();
    [start, start + 1, end.saturating_sub(len)]
        .into_iter()
        .find(|&at| {
            source.as_bytes().get(at..at + len) == Some(value.as_bytes())
                && source.is_char_boundary(at)
                && source.is_char_boundary(at + len)
        })
        .map(|at| at as u32)
}

/// The value of a scalar node while the tree is built (the text is not yet in it).
fn value<'a>(yaml: &'a Tree, source: Option<&'a str>, n: NodeId) -> Option<&'a str> {
    match yaml.nodes[n as usize].kind {
        Kind::Scalar {
            at,
            len,
            verbatim: true,
            ..
        } => source.map(|s| &s[at as usize..(at + len) as usize]),
        Kind::Scalar { at, len, .. } => Some(&yaml.strings[at as usize..(at + len) as usize]),
        _ => None,
    }
}

impl Builder<'_> {
    fn push_node(&mut self, span: Span, kind: Kind) -> NodeId {
        let id = self.yaml.nodes.len() as NodeId;
        self.yaml.nodes.push(Wide { span, kind });
        id
    }

    fn attach(&mut self, id: NodeId) {
        let Builder {
            yaml,
            source,
            stack,
            pending,
            ..
        } = self;
        let source = *source;
        let Some(frame) = stack.last_mut() else {
            self.root = Some(id);
            return;
        };
        if !frame.map {
            pending.push(id);
            return;
        }
        let Some(k) = frame.key.take() else {
            frame.key = Some(id);
            return;
        };
        let duplicate = {
            let yaml = &**yaml;
            let text_of = |n: NodeId| value(yaml, source, n);
            text_of(k).and_then(|text| {
                let previous = match &mut frame.index {
                    Some(map) => map.insert(text.to_string(), k),
                    None => pending[frame.start..]
                        .chunks_exact(2)
                        .rev()
                        .find(|e| text_of(e[0]) == Some(text))
                        .map(|e| e[0]),
                };
                previous.map(|first| DuplicateKey {
                    first: yaml.nodes[first as usize].span,
                    repeat: yaml.nodes[k as usize].span,
                })
            })
        };
        if let Some(d) = duplicate {
            yaml.duplicate_keys.push(d);
        }
        pending.extend([k, id]);
        let entries = &pending[frame.start..];
        if frame.index.is_none() && entries.len() / 2 >= INDEX_AFTER {
            let mut map = HashMap::with_capacity(entries.len());
            for e in entries.chunks_exact(2) {
                if let Some(text) = value(yaml, source, e[0]) {
                    map.insert(text.to_string(), e[0]);
                }
            }
            frame.index = Some(map);
        }
    }

    fn anchor(&mut self, anchor: usize, id: NodeId) {
        if anchor > 0 {
            self.anchors.insert(anchor, id);
        }
    }
}

impl<'y> Builder<'y> {
    pub(super) fn new(yaml: &'y mut Tree, doc_start: usize, source: Option<&'y str>) -> Self {
        Builder {
            yaml,
            source,
            stack: Vec::new(),
            pending: Vec::new(),
            anchors: FxHashMap::default(),
            doc_start,
            root: None,
        }
    }

    pub(super) fn document_start(&mut self, start: usize) {
        self.doc_start = start;
        self.root = None;
        self.stack.clear();
        self.pending.clear();
        self.anchors.clear();
    }

    pub(super) fn document_end(&mut self, end: usize) {
        if let Some(root) = self.root.take() {
            let end = end.max(self.yaml.nodes[root as usize].span.end as usize);
            self.yaml.docs.push(Document {
                root,
                span: Span::new(self.doc_start, end),
            });
        }
    }

    pub(super) fn scalar(
        &mut self,
        value: &str,
        plain: bool,
        anchor: usize,
        start: usize,
        end: usize,
    ) {
        let len = value.len() as u32;
        let kind = match self
            .source
            .and_then(|source| verbatim_at(source, value, start, end))
        {
            Some(at) => Kind::Scalar {
                at,
                len,
                plain,
                verbatim: true,
            },
            None => {
                let at = self.yaml.strings.len() as u32;
                self.yaml.strings.push_str(value);
                Kind::Scalar {
                    at,
                    len,
                    plain,
                    verbatim: false,
                }
            }
        };
        let id = self.push_node(Span::new(start, end), kind);
        self.anchor(anchor, id);
        self.attach(id);
    }

    pub(super) fn alias(&mut self, anchor: usize, start: usize, end: usize) {
        let target = self.anchors.get(&anchor).copied();
        let id = self.push_node(Span::new(start, end), Kind::Alias(target));
        self.attach(id);
    }

    /// A sequence or mapping starts at `start`.
    pub(super) fn open(&mut self, map: bool, anchor: usize, start: usize) {
        let kind = if map {
            Kind::Map { start: 0, len: 0 }
        } else {
            Kind::Seq { start: 0, len: 0 }
        };
        let id = self.push_node(Span::new(start, start), kind);
        self.anchor(anchor, id);
        self.stack.push(Frame {
            id,
            start: self.pending.len(),
            map,
            key: None,
            index: None,
        });
        self.yaml.nesting = self.yaml.nesting.max(self.stack.len() as u32);
    }

    /// The innermost collection ends; `end` is the end of its closing event, and
    /// `part` the text parsed (starting at byte `base` of the file).
    pub(super) fn close(&mut self, part: &[u8], base: usize, end: usize) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let id = frame.id;
        let items = &self.pending[frame.start..];
        let last_child_end = items
            .last()
            .map(|&c| self.yaml.nodes[c as usize].span.end as usize);
        let start = self.yaml.children.len() as u32;
        self.yaml.children.extend_from_slice(items);
        self.pending.truncate(frame.start);
        let len = (self.yaml.children.len() as u32 - start) / if frame.map { 2 } else { 1 };
        let kind = if frame.map {
            Kind::Map { start, len }
        } else {
            Kind::Seq { start, len }
        };
        let node = &mut self.yaml.nodes[id as usize];
        node.kind = kind;
        // Block collections end where their last child ends; flow ones at the bracket.
        let open = part.get(node.span.start as usize - base).copied();
        let close = match last_child_end {
            Some(c) if !matches!(open, Some(b'[' | b'{')) => c,
            _ => end,
        };
        node.span.end = close.max(node.span.start as usize) as u32;
        self.attach(id);
    }
}

/// Parses `part` (which starts at byte `base` of the file) into `yaml`.
/// On a syntax error, returns the byte offset where it happened.
fn parse_part(part: &str, base: usize, yaml: &mut Tree, source: Option<&str>) -> Result<(), usize> {
    let offsets = Offsets::new(part, base);
    let mut parser = Parser::new_from_str(part);
    let mut b = Builder::new(yaml, base, source);
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(ev) => ev,
            Err(e) => {
                let offset = offsets.byte(e.marker());
                b.yaml.errors.push(SyntaxError {
                    offset: offset as u32,
                    message: e.info().to_string(),
                });
                return Err(offset);
            }
        };
        let start = offsets.byte(&span.start);
        let end = offsets.byte(&span.end);
        match event {
            Event::DocumentStart(_) => b.document_start(start),
            Event::DocumentEnd => b.document_end(end),
            Event::Scalar(value, style, anchor, _tag) => b.scalar(
                &value,
                matches!(style, ScalarStyle::Plain),
                anchor,
                start,
                end,
            ),
            Event::Alias(anchor) => b.alias(anchor, start, end),
            Event::SequenceStart(anchor, _) => b.open(false, anchor, start),
            Event::MappingStart(anchor, _) => b.open(true, anchor, start),
            Event::SequenceEnd | Event::MappingEnd => b.close(part.as_bytes(), base, end),
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
    Ok(())
}
