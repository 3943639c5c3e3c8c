//! A fast path for the YAML that GitOps repositories are made of: block
//! mappings and sequences, one-line plain and quoted scalars, literal and
//! folded block scalars, empty flow collections and one-line flow sequences of
//! scalars. It feeds the builder the same events, at the same offsets, as
//! saphyr-parser would, without the general scanner's per-character
//! bookkeeping. At anything else (anchors, aliases, tags, multi-line flow
//! scalars, tabs, carriage returns, anything that may be an error) it gives up
//! and the file goes to saphyr-parser. `differential` holds the two equal; the
//! fuzz target runs it.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::build::{Builder, Tree};

/// Nesting deeper than this goes to the general parser, which needs no stack for it.
const MAX_DEPTH: usize = 64;

/// Implicit keys are limited to 1024 characters; in bytes, this many are surely fewer.
const MAX_KEY_BYTES: usize = 1000;

/// Parses `text`, or `None` when it uses anything outside the fast path.
/// `verbatim`: values written as is are read from the text, not copied.
pub(super) fn parse(text: &str, verbatim: bool) -> Option<Tree> {
    // Text the general parser would respace for an alias used as a key
    // (`*app:`, see `alias_keys`) goes to it, so both give the same values.
    if !plain_text(text) || !super::build::alias_keys(text).is_empty() {
        return None;
    }
    let mut yaml = Tree::default();
    let mut p = Fast {
        t: text,
        b: text.as_bytes(),
        out: Builder::new(&mut yaml, 0, verbatim.then_some(text)),
        depth: 0,
        scratch: String::new(),
        anchors: FxHashMap::default(),
        anchor: None,
    };
    p.stream()?;
    Some(yaml)
}

/// Text free of tabs, carriage returns, control characters, byte order marks
/// and the characters YAML treats specially (NEL, line and paragraph separators,
/// non-characters): the general parser decides about those.
fn plain_text(text: &str) -> bool {
    let b = text.as_bytes();
    if b.iter().any(|&c| (c < 0x20 && c != b'\n') || c == 0x7f) {
        return false;
    }
    text.is_ascii()
        || !text.chars().any(|c| {
            matches!(
                c,
                '\u{80}'
                    ..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        })
}

struct Fast<'t, 'y> {
    t: &'t str,
    b: &'t [u8],
    out: Builder<'y>,
    depth: usize,
    scratch: String,
    /// Anchor names of the current document and their ids for the builder.
    anchors: FxHashMap<&'t str, usize>,
    /// An anchor waiting for its node: its id and where it starts.
    anchor: Option<(usize, usize)>,
}

/// A mapping key found at the start of a line's content.
struct Key {
    start: usize,
    end: usize,
    colon: usize,
    plain: bool,
}

impl<'t> Fast<'t, '_> {
    fn slice(&self, from: usize, to: usize) -> Option<&'t str> {
        self.t.get(from..to)
    }

    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(b'\n')
    }

    fn line_end(&self, from: usize) -> usize {
        memchr::memchr(b'\n', &self.b[from..]).map_or(self.b.len(), |i| from + i)
    }

    fn next_line(&self, from: usize) -> usize {
        (self.line_end(from) + 1).min(self.b.len())
    }

    fn spaces(&self, mut i: usize) -> usize {
        while self.b.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    }

    /// From the start of a line, the first line with content (not blank, not a
    /// comment): its start and indentation.
    fn content_line(&self, mut ls: usize) -> Option<(usize, usize)> {
        while ls < self.b.len() {
            let cs = self.spaces(ls);
            match self.at(cs) {
                b'\n' | b'#' => ls = self.next_line(cs),
                _ => return Some((ls, cs - ls)),
            }
        }
        None
    }

    /// `---` or `...` at the start of a line.
    fn marker(&self, ls: usize) -> Option<u8> {
        let m = self.b.get(ls..ls + 3)?;
        (matches!(m, b"---" | b"...") && matches!(self.at(ls + 3), b' ' | b'\n')).then_some(m[0])
    }

    /// Nothing but spaces and a comment from `i` to the end of the line.
    fn rest_blank(&self, i: usize) -> bool {
        let j = self.spaces(i);
        match self.at(j) {
            b'\n' => true,
            b'#' => j > i,
            _ => false,
        }
    }

    /// Where the general parser ends a quoted scalar or a flow collection
    /// that ends at `i`: past the spaces and a comment that follow, as its
    /// scanner has moved on to the next token.
    fn token_end(&self, i: usize) -> usize {
        let j = self.spaces(i);
        if self.at(j) == b'#' {
            self.line_end(j)
        } else {
            j
        }
    }

    /// `-` followed by a space or the end of the line.
    fn dash(&self, i: usize) -> bool {
        self.at(i) == b'-' && matches!(self.at(i + 1), b' ' | b'\n')
    }

    fn stream(&mut self) -> Option<()> {
        let mut pos = 0;
        while let Some((ls, indent)) = self.content_line(pos) {
            let (ls, indent) = match self.marker(ls) {
                Some(b'-') => {
                    if !self.rest_blank(ls + 3) {
                        return None;
                    }
                    self.out.document_start(ls);
                    self.anchors.clear();
                    let next = self.content_line(self.next_line(ls))?;
                    if self.marker(next.0).is_some() {
                        return None;
                    }
                    next
                }
                Some(_) => return None,
                None => {
                    self.out.document_start(ls + indent);
                    self.anchors.clear();
                    (ls, indent)
                }
            };
            if indent > 0 {
                return None;
            }
            let after = self.node(ls, indent, None)?;
            match self.content_line(after) {
                None => {
                    self.out.document_end(self.b.len());
                    return Some(());
                }
                Some((ls, _)) if self.marker(ls) == Some(b'-') => {
                    self.out.document_end(ls + 3);
                    pos = ls;
                }
                Some(_) => return None,
            }
        }
        Some(())
    }

    /// A node that starts a line (at `ls + indent`) inside a collection whose
    /// entries sit at column `parent`. Returns where the next line after it starts.
    fn node(&mut self, ls: usize, indent: usize, parent: Option<usize>) -> Option<usize> {
        let cs = ls + indent;
        if self.dash(cs) {
            self.seq(cs, indent, false)
        } else if let Some(key) = self.key(cs) {
            self.map(indent, key)
        } else {
            self.value(cs, parent)
        }
    }

    /// A scalar; an anchor waiting for a node is its, and starts its span.
    fn scalar(&mut self, text: &str, plain: bool, start: usize, end: usize) {
        let (anchor, start) = self.anchor.take().unwrap_or((0, start));
        self.out.scalar(text, plain, anchor, start, end);
    }

    fn open(&mut self, map: bool, start: usize) {
        let (anchor, start) = self.anchor.take().unwrap_or((0, start));
        self.out.open(map, anchor, start);
    }

    /// An anchor or alias name (`&name`, `*name`) at `at`: the name and its end.
    /// Names are kept to what every YAML library reads alike.
    fn name(&self, at: usize) -> Option<(&'t str, usize)> {
        let mut i = at + 1;
        while self.at(i).is_ascii_alphanumeric() || matches!(self.at(i), b'-' | b'_') {
            i += 1;
        }
        if i == at + 1 || !matches!(self.at(i), b' ' | b'\n' | b',' | b']' | b'}') {
            return None;
        }
        Some((self.slice(at + 1, i)?, i))
    }

    /// `&name` at `at`: the anchor waits for the next node.
    fn define_anchor(&mut self, at: usize) -> Option<usize> {
        let (name, end) = self.name(at)?;
        let next = self.anchors.len() + 1;
        let id = *self.anchors.entry(name).or_insert(next);
        self.anchor = Some((id, at));
        Some(end)
    }

    /// `*name` at `at`, naming an anchor defined before it in the document.
    fn alias(&mut self, at: usize) -> Option<usize> {
        let (name, end) = self.name(at)?;
        let id = *self.anchors.get(name)?;
        if self.anchor.is_some() {
            return None;
        }
        self.out.alias(id, at, end);
        Some(end)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A mapping key (plain or quoted, on one line, followed by `: ` or a line end).
    /// A key longer than YAML allows an implicit key to be (1024 characters) is
    /// left to the general parser, which reports it.
    fn key(&mut self, cs: usize) -> Option<Key> {
        self.key_any_length(cs)
            .filter(|k| k.colon - k.start <= MAX_KEY_BYTES)
    }

    fn key_any_length(&mut self, cs: usize) -> Option<Key> {
        match self.at(cs) {
            q @ (b'"' | b'\'') => {
                let end = self.quoted_end(cs, q)?;
                (self.at(end) == b':' && matches!(self.at(end + 1), b' ' | b'\n')).then_some(Key {
                    start: cs,
                    end,
                    colon: end,
                    plain: false,
                })
            }
            _ if !self.plain_start(cs) => None,
            _ => {
                let le = self.line_end(cs);
                let mut i = cs;
                while i < le {
                    match self.b[i] {
                        b':' if matches!(self.at(i + 1), b' ' | b'\n') => {
                            let mut end = i;
                            while self.b[end - 1] == b' ' {
                                end -= 1;
                            }
                            return Some(Key {
                                start: cs,
                                end,
                                colon: i,
                                plain: true,
                            });
                        }
                        b'#' if self.b[i - 1] == b' ' => return None,
                        _ => i += 1,
                    }
                }
                None
            }
        }
    }

    /// A character a plain scalar may start with (the general parser decides
    /// about `?`, `:` and the indicators).
    fn plain_start(&self, i: usize) -> bool {
        match self.at(i) {
            b'-' => !matches!(self.at(i + 1), b' ' | b'\n'),
            b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
            | b'>' => false,
            b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' => false,
            _ => true,
        }
    }

    /// After an entry of a block collection at column `col`: where the next
    /// entry starts, `None` when the collection has ended (a line less indented,
    /// a document marker, the end), or nothing to go on with (a line more indented).
    fn next_entry(&self, after: usize, col: usize) -> Option<Option<usize>> {
        let Some((ls, indent)) = self.content_line(after) else {
            return Some(None);
        };
        if indent < col || self.marker(ls).is_some() {
            return Some(None);
        }
        (indent == col).then_some(Some(ls + indent))
    }

    /// A block mapping whose first key is `key`, at column `col`.
    fn map(&mut self, col: usize, mut key: Key) -> Option<usize> {
        self.enter()?;
        self.open(true, key.start);
        let next = loop {
            self.emit_key(&key)?;
            let after = self.map_value(key.colon, col)?;
            match self.next_entry(after, col)? {
                Some(cs) => key = self.key(cs)?,
                None => break after,
            }
        };
        self.out.close(self.b, 0, key.start);
        self.depth -= 1;
        Some(next)
    }

    fn emit_key(&mut self, key: &Key) -> Option<()> {
        if key.plain {
            let text = self.slice(key.start, key.end)?;
            self.scalar(text, true, key.start, key.end);
        } else {
            let text = self.quoted(key.start)?;
            self.scalar(&text, false, key.start, key.end);
        }
        Some(())
    }

    /// The value after a key's colon, in a mapping at column `col`.
    fn map_value(&mut self, colon: usize, col: usize) -> Option<usize> {
        let v = self.spaces(colon + 1);
        if !matches!(self.at(v), b'\n' | b'#') {
            return self.value(v, Some(col));
        }
        let after = self.next_line(v);
        match self.content_line(after) {
            Some((ls, indent)) if self.marker(ls).is_none() => {
                if indent > col {
                    return self.node(ls, indent, Some(col));
                }
                if indent == col && self.dash(ls + indent) {
                    return self.seq(ls + indent, indent, true);
                }
            }
            _ => {}
        }
        if self.anchor.is_some() {
            return None;
        }
        self.out.scalar("", true, 0, colon, colon);
        Some(after)
    }

    /// A block sequence whose first dash is at `cs`, column `col`. An indentless
    /// sequence (a mapping value at the key's column) starts at its first item.
    fn seq(&mut self, cs: usize, col: usize, indentless: bool) -> Option<usize> {
        self.enter()?;
        let start = if indentless {
            if self.anchor.is_some() {
                return None;
            }
            let first = self.spaces(cs + 1);
            // A first item that is a flow collection would make the builder
            // take the sequence for a flow one, ending where the next token starts.
            if matches!(self.at(first), b'\n' | b'#' | b'[' | b'{') {
                return None;
            }
            first
        } else {
            cs
        };
        self.open(false, start);
        let ls = cs - col;
        let mut dash = cs;
        let mut line = ls;
        let next = loop {
            let item = self.spaces(dash + 1);
            let after = if matches!(self.at(item), b'\n' | b'#') {
                match self.content_line(self.next_line(item)) {
                    Some((ls, indent)) if indent > col && self.marker(ls).is_none() => {
                        self.node(ls, indent, Some(col))?
                    }
                    _ => return None,
                }
            } else if self.dash(item) {
                return None;
            } else if let Some(key) = self.key(item) {
                self.map(item - line, key)?
            } else {
                self.value(item, Some(col))?
            };
            match self.next_entry(after, col)? {
                Some(cs) if self.dash(cs) => {
                    dash = cs;
                    line = cs - col;
                }
                // The mapping holding an indentless sequence goes on.
                Some(_) if indentless => break after,
                Some(_) => return None,
                None => break after,
            }
        };
        self.out.close(self.b, 0, start);
        self.depth -= 1;
        Some(next)
    }

    /// A scalar or flow collection starting at `v`, inside a collection whose
    /// entries sit at column `parent`. Returns the start of the line after it.
    fn value(&mut self, v: usize, parent: Option<usize>) -> Option<usize> {
        let parent = parent?;
        let end = match self.at(v) {
            b'|' | b'>' if self.anchor.is_none() => return self.block_scalar(v, parent),
            b'&' if self.anchor.is_none() => {
                let end = self.define_anchor(v)?;
                if self.rest_blank(end) {
                    // The anchored node starts on a later line.
                    return match self.content_line(self.next_line(end)) {
                        Some((ls, indent)) if indent > parent && self.marker(ls).is_none() => {
                            self.node(ls, indent, Some(parent))
                        }
                        _ => None,
                    };
                }
                let w = self.spaces(end);
                if w == end || self.dash(w) || self.key(w).is_some() {
                    return None;
                }
                return self.value(w, Some(parent));
            }
            b'*' => self.alias(v)?,
            b'"' | b'\'' | b'[' | b'{' => self.flow_node(v)?,
            _ if !self.plain_start(v) => return None,
            _ => {
                let end = self.plain_end(v)?;
                let text = self.slice(v, end)?;
                self.scalar(text, true, v, end);
                end
            }
        };
        if !self.rest_blank(end) {
            return None;
        }
        let after = self.next_line(end);
        // A more indented line would continue a plain scalar or be an error.
        let mut ls = after;
        while ls < self.b.len() {
            let cs = self.spaces(ls);
            if self.at(cs) != b'\n' {
                if cs - ls > parent {
                    return None;
                }
                break;
            }
            ls = self.next_line(cs);
        }
        Some(after)
    }

    /// The end of a one-line plain scalar in block context (before a comment
    /// and trailing spaces); `None` when the line holds `: ` (an error).
    fn plain_end(&self, v: usize) -> Option<usize> {
        let le = self.line_end(v);
        let mut i = v;
        let mut end = v;
        while i < le {
            match self.b[i] {
                b':' if matches!(self.at(i + 1), b' ' | b'\n') => return None,
                b'#' if self.b[i - 1] == b' ' => break,
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
        Some(end)
    }

    /// A flow node that ends on its line: a quoted scalar, a flow sequence or
    /// mapping of such nodes, an alias or a plain scalar. Returns where it ends.
    fn flow_node(&mut self, i: usize) -> Option<usize> {
        self.enter()?;
        let end = match self.at(i) {
            q @ (b'"' | b'\'') => self.quoted_scalar(i, q)?,
            b'*' => self.alias(i)?,
            open @ (b'[' | b'{') => {
                let map = open == b'{';
                let close = if map { b'}' } else { b']' };
                self.open(map, i);
                let mut j = self.spaces(i + 1);
                if self.at(j) != close {
                    loop {
                        if map {
                            j = self.flow_key(j)?;
                        }
                        let after = self.flow_node(j)?;
                        j = self.spaces(after);
                        match self.at(j) {
                            b',' => {
                                j = self.spaces(j + 1);
                                if self.at(j) == close {
                                    return None;
                                }
                            }
                            c if c == close => break,
                            _ => return None,
                        }
                    }
                }
                self.out.close(self.b, 0, self.token_end(j + 1));
                j + 1
            }
            _ if !self.plain_start(i) => return None,
            _ => {
                let (end, stop) = self.flow_plain(i)?;
                if self.at(stop) == b':' {
                    return None;
                }
                let text = self.slice(i, end)?;
                self.scalar(text, true, i, end);
                stop
            }
        };
        self.depth -= 1;
        Some(end)
    }

    /// The one-line quoted scalar at `i`, opened by `q`; returns where it ends.
    fn quoted_scalar(&mut self, i: usize, q: u8) -> Option<usize> {
        let end = self.quoted_end(i, q)?;
        let text = self.quoted(i)?;
        self.scalar(&text, false, i, self.token_end(end));
        Some(end)
    }

    /// A flow mapping's key at `i` and its `: `; returns where the value starts.
    fn flow_key(&mut self, i: usize) -> Option<usize> {
        let after = match self.at(i) {
            q @ (b'"' | b'\'') => self.quoted_scalar(i, q)?,
            _ if !self.plain_start(i) => return None,
            _ => {
                let (end, stop) = self.flow_plain(i)?;
                let text = self.slice(i, end)?;
                self.scalar(text, true, i, end);
                stop
            }
        };
        (self.at(after) == b':' && self.at(after + 1) == b' ' && after - i <= MAX_KEY_BYTES)
            .then(|| self.spaces(after + 1))
    }

    /// A plain scalar in flow context at `i`: where its text ends, and where the
    /// scan stopped (a `,`, bracket, brace or `: `). Anything subtler goes to
    /// the general parser.
    fn flow_plain(&self, mut i: usize) -> Option<(usize, usize)> {
        let mut end = i;
        let start = i;
        loop {
            // The general parser refuses a word that starts with `-` and a flow indicator.
            if self.at(i) == b'-'
                && (i == start || self.b[i - 1] == b' ')
                && matches!(self.at(i + 1), b',' | b'[' | b']' | b'{' | b'}')
            {
                return None;
            }
            match self.at(i) {
                b',' | b']' | b'}' => return Some((end, i)),
                b':' if self.at(i + 1) == b' ' => return Some((end, i)),
                b'\n' | b'#' | b'[' | b'{' | b':' => return None,
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
    }

    /// Where a one-line quoted scalar opened at `q_at` ends (after its quote).
    fn quoted_end(&self, at: usize, q: u8) -> Option<usize> {
        let le = self.line_end(at);
        let mut i = at + 1;
        while i < le {
            match self.b[i] {
                b'\\' if q == b'"' => i += 2,
                c if c == q => {
                    if q == b'\'' && self.at(i + 1) == b'\'' {
                        i += 2;
                    } else {
                        return Some(i + 1);
                    }
                }
                _ => i += 1,
            }
        }
        None
    }

    /// The value of the one-line quoted scalar at `at`.
    fn quoted(&mut self, at: usize) -> Option<Cow<'t, str>> {
        let q = self.b[at];
        let end = self.quoted_end(at, q)?;
        let inner = &self.b[at + 1..end - 1];
        let escaped = if q == b'"' {
            inner.contains(&b'\\')
        } else {
            inner.contains(&b'\'')
        };
        if !escaped {
            return self.slice(at + 1, end - 1).map(Cow::Borrowed);
        }
        self.scratch.clear();
        let mut i = 0;
        while i < inner.len() {
            let c = inner[i];
            if q == b'\'' {
                if c == b'\'' {
                    i += 1;
                }
            } else if c == b'\\' {
                let (ch, used) = escape(&inner[i + 1..])?;
                self.scratch.push(ch);
                i += 1 + used;
                continue;
            }
            let len = utf8_len(inner[i]);
            self.scratch
                .push_str(self.slice(at + 1 + i, at + 1 + i + len)?);
            i += len;
        }
        Some(Cow::Owned(std::mem::take(&mut self.scratch)))
    }

    /// A literal or folded block scalar whose indicator is at `at`, in a
    /// collection whose entries sit at column `parent`.
    fn block_scalar(&mut self, at: usize, parent: usize) -> Option<usize> {
        let folded = self.b[at] == b'>';
        let mut h = at + 1;
        let strip = match self.at(h) {
            b'-' => {
                h += 1;
                true
            }
            b'+' => return None,
            _ => false,
        };
        if !matches!(self.at(h), b' ' | b'\n') || !self.rest_blank(h) {
            return None;
        }
        let mut ls = self.next_line(h);
        // Leading empty lines, then the first line with content sets the indentation.
        let mut leading = 0;
        let mut widest = 0;
        let (indent, first) = loop {
            if ls >= self.b.len() {
                break (0, ls);
            }
            let cs = self.spaces(ls);
            if self.at(cs) != b'\n' {
                break (cs - ls, ls);
            }
            widest = widest.max(cs - ls);
            leading += 1;
            ls = self.next_line(cs);
        };
        if first >= self.b.len() || indent <= parent {
            // No content: where the general parser puts such a scalar depends
            // on what follows; rare enough to leave to it.
            return None;
        }
        if widest > indent {
            return None;
        }
        let mut value = String::new();
        value.extend(std::iter::repeat_n('\n', leading));
        let start = first + indent;
        let mut ls = first;
        let mut empties = 0;
        let mut any = false;
        let stop = loop {
            if ls >= self.b.len() {
                break self.b.len();
            }
            let cs = self.spaces(ls);
            let le = self.line_end(cs);
            if le == self.b.len() && cs > ls {
                // A last line without its line break: the general parser decides.
                return None;
            }
            if cs == le {
                if cs - ls > indent {
                    return None;
                }
                empties += 1;
                ls = self.next_line(cs);
                continue;
            }
            if cs - ls < indent {
                break cs;
            }
            let line = self.slice(ls + indent, le)?;
            if folded {
                if cs - ls > indent {
                    return None;
                }
                if any {
                    if empties == 0 {
                        value.push(' ');
                    } else {
                        value.extend(std::iter::repeat_n('\n', empties));
                    }
                }
            } else if any {
                value.extend(std::iter::repeat_n('\n', empties + 1));
            }
            value.push_str(line);
            any = true;
            empties = 0;
            ls = self.next_line(le);
        };
        if !strip {
            value.push('\n');
        }
        self.out.scalar(&value, false, 0, start, stop);
        Some(if stop >= self.b.len() {
            stop
        } else {
            stop - self.spaces_before(stop)
        })
    }

    /// The spaces before `i` on its line.
    fn spaces_before(&self, i: usize) -> usize {
        self.b[..i].iter().rev().take_while(|&&c| c == b' ').count()
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0..0x80 => 1,
        0xc0..0xe0 => 2,
        0xe0..0xf0 => 3,
        _ => 4,
    }
}

/// A double-quoted escape (after its backslash): the character and the bytes it used.
fn escape(b: &[u8]) -> Option<(char, usize)> {
    let simple = match *b.first()? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        c @ (b'x' | b'u' | b'U') => {
            let n = match c {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let digits = b.get(1..1 + n)?;
            // `from_str_radix` would take a sign; YAML takes hex digits only.
            if !digits.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let code = u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
            return Some((char::from_u32(code)?, 1 + n));
        }
        _ => return None,
    };
    Some((simple, 1))
}
