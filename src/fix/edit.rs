//! Building edits, for rules: whole lines of block mappings, refused (`None`)
//! whenever the layout is not the plain one these builders understand.

use crate::diagnostic::Edit;
use crate::yaml::{NodeRef, Span};

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset after the line holding `at` (after its line break), or the end of the text.
fn next_line(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// The line break to write at `at` (a line start): the one the line before
/// ends with, else the file's first, else `\n`.
fn line_break(text: &str, at: usize) -> &'static str {
    let before = &text[..at];
    let sample = if before.ends_with('\n') {
        before
    } else {
        text.find('\n').map_or("", |i| &text[..=i])
    };
    if sample.ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// Bytes from the start of its line to `at`.
pub fn column(text: &str, at: usize) -> usize {
    at - line_start(text, at)
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The column of a key that starts its line: only spaces before it or, with
/// `item`, a sequence dash (the key is the first of a sequence item's mapping).
fn key_column(text: &str, at: usize, item: bool) -> Option<usize> {
    let before = &text[line_start(text, at)..at];
    let rest = before.trim_start_matches(' ');
    let ok = rest.is_empty()
        || (item
            && rest.len() > 1
            && rest.starts_with('-')
            && rest[1..].bytes().all(|b| b == b' '));
    ok.then_some(before.len())
}

/// Whether the rest of the line from `from` is blank or a comment.
fn rest_blank(text: &str, from: usize) -> bool {
    let end = text[from..].find('\n').map_or(text.len(), |i| from + i);
    let rest = text[from..end].trim_start_matches([' ', '\t']);
    let rest = rest.strip_suffix('\r').unwrap_or(rest);
    rest.is_empty() || rest.starts_with('#')
}

/// The offset after a plain key's `:` (the key written as itself, then the colon).
fn after_colon(text: &str, key: NodeRef) -> Option<usize> {
    let s = key.scalar().filter(|s| s.plain)?;
    let span = key.span();
    let (start, end) = (span.start as usize, span.end as usize);
    if text.get(start..end)? != s.text {
        return None;
    }
    let spaces = text[end..].len() - text[end..].trim_start_matches(' ').len();
    let colon = end + spaces;
    if text.as_bytes().get(colon) != Some(&b':') {
        return None;
    }
    let after = colon + 1;
    match text.as_bytes().get(after) {
        None | Some(b' ' | b'\t' | b'\n' | b'\r') => Some(after),
        _ => None,
    }
}

/// Whether `value` is written right after `key` as itself: not an alias, not
/// anchored (an alias elsewhere may name it, and an edit would change that
/// place too) and not tagged.
pub fn direct(text: &str, key: NodeRef, value: NodeRef) -> bool {
    let Some(after) = after_colon(text, key) else {
        return false;
    };
    let span = value.span();
    // A null written as nothing has an empty span at the key.
    if value.is_null() && span.start == span.end {
        return true;
    }
    let start = span.start as usize;
    if start < after || start > text.len() {
        return false;
    }
    // The span of an anchored or tagged node (and so of an alias's target)
    // starts at its `&` or `!`.
    !matches!(text.as_bytes().get(start), Some(b'&' | b'*' | b'!'))
}

/// The entry for `key` as written in `map`: `Some(None)` when absent, `None`
/// when the text alone cannot tell (not a mapping, a merge key `<<` that may
/// bring the key in, the key written twice).
pub fn written<'a>(map: NodeRef<'a>, key: &str) -> Option<Option<(NodeRef<'a>, NodeRef<'a>)>> {
    if !map.is_map() {
        return None;
    }
    let mut found = None;
    for (k, v) in map.entries() {
        let s = k.scalar()?;
        if s.plain && s.text == "<<" {
            return None;
        }
        if s.text == key {
            if found.is_some() {
                return None;
            }
            found = Some((k, v));
        }
    }
    Some(found)
}

/// Whole lines of a block-mapping entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lines {
    /// The start of the key's line.
    pub start: usize,
    /// After the last line of the value, with its line break (trailing blank
    /// lines are not part of it).
    pub end: usize,
    /// The key's column (its mapping's indentation).
    pub column: usize,
    /// After the key's own line.
    pub key_line_end: usize,
}

/// The lines a block-mapping entry takes: its key's line through the last line
/// of its value (lines indented deeper than the key; comment lines among
/// them included). `None` when the key shares its line with something before
/// it (a flow mapping; a sequence dash unless `item`), is not plain, its value
/// is an alias, anchored, tagged or a block scalar, or the value does not end
/// within those lines.
pub fn entry_lines(text: &str, key: NodeRef, value: NodeRef, item: bool) -> Option<Lines> {
    if !direct(text, key, value) {
        return None;
    }
    let key_at = key.span().start as usize;
    let column = key_column(text, key_at, item)?;
    let after = after_colon(text, key)?;
    let first = text[after..].trim_start_matches([' ', '\t']);
    if first.starts_with(['|', '>']) {
        return None;
    }
    let start = line_start(text, key_at);
    let key_line_end = next_line(text, key_at);
    let mut end = key_line_end;
    let mut at = end;
    while at < text.len() {
        let next = next_line(text, at);
        let line = text[at..next].trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            at = next;
            continue;
        }
        let ind = indent_of(line);
        let body = &line[ind..];
        let deeper = ind > column
            || (value.is_seq() && ind == column && (body == "-" || body.starts_with("- ")));
        if !deeper {
            break;
        }
        end = next;
        at = next;
    }
    let span = value.span();
    let empty_null = value.is_null() && span.start == span.end;
    if !empty_null && ((span.start as usize) < after || span.end as usize > end) {
        return None;
    }
    Some(Lines {
        start,
        end,
        column,
        key_line_end,
    })
}

/// Whether `text` defines an anchor (`&name` where a node may start).
fn defines_anchor(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'&'
            && (i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'[' | b'{' | b','))
            && b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace())
    })
}

/// Removes a block-mapping entry with its whole lines (and a comment at their
/// end). With `single_line`, only an entry whose key and value share one line.
/// `None` when the lines hold anything else or an anchor an alias may name.
pub fn remove_entry(text: &str, key: NodeRef, value: NodeRef, single_line: bool) -> Option<Edit> {
    let lines = entry_lines(text, key, value, false)?;
    if single_line && lines.end != lines.key_line_end {
        return None;
    }
    if defines_anchor(&text[lines.start..lines.end]) {
        return None;
    }
    let mut start = lines.start;
    // The last line without a line break: take the break before it, so the
    // file still ends as it did.
    if !text[..lines.end].ends_with('\n') && start > 0 {
        start -= if text[..start].ends_with("\r\n") {
            2
        } else {
            1
        };
    }
    Some(Edit {
        span: Span::new(start, lines.end),
        replacement: String::new(),
    })
}

/// Replaces a block-mapping entry's whole lines with `lines`, each at the
/// entry's column. `None` as for `remove_entry`.
pub fn replace_entry(text: &str, key: NodeRef, value: NodeRef, lines: &[&str]) -> Option<Edit> {
    let at = entry_lines(text, key, value, false)?;
    if defines_anchor(&text[at.start..at.end]) || lines.is_empty() {
        return None;
    }
    let brk = line_break(text, at.start);
    let pad = " ".repeat(at.column);
    let mut out: Vec<String> = lines.iter().map(|l| format!("{pad}{l}")).collect();
    if text[..at.end].ends_with('\n') {
        out.push(String::new());
    }
    Some(Edit {
        span: Span::new(at.start, at.end),
        replacement: out.join(brk),
    })
}

/// Gives a key written without a value (`key:` alone on its line) a flow value:
/// `key: <value>`, before any comment on the line.
pub fn set_empty_value(text: &str, key: NodeRef, value: NodeRef, flow: &str) -> Option<Edit> {
    let span = value.span();
    if !value.is_null() || span.start != span.end {
        return None;
    }
    key_column(text, key.span().start as usize, true)?;
    let after = after_colon(text, key)?;
    if !rest_blank(text, after) {
        return None;
    }
    // No deeper lines: they would be the value.
    let next = next_line(text, after);
    let deeper = text[next..]
        .split_inclusive('\n')
        .map(|l| l.trim_end_matches(['\n', '\r']))
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| indent_of(l) > column(text, key.span().start as usize));
    if deeper {
        return None;
    }
    Some(Edit {
        span: Span::new(after, after),
        replacement: format!(" {flow}"),
    })
}

/// Inserts `lines` at `at` (a line start, or the end of the text), each
/// indented by `column` spaces and ended with the file's line break.
pub fn insert_lines(text: &str, at: usize, column: usize, lines: &[&str]) -> Edit {
    let brk = line_break(text, at);
    let pad = " ".repeat(column);
    let mut out = String::new();
    let no_final_break = at == text.len() && !text.is_empty() && !text.ends_with('\n');
    if no_final_break {
        out.push_str(brk);
    }
    for (i, line) in lines.iter().enumerate() {
        out.push_str(&pad);
        out.push_str(line);
        if !no_final_break || i + 1 < lines.len() {
            out.push_str(brk);
        }
    }
    Edit {
        span: Span::new(at, at),
        replacement: out,
    }
}

/// Where new first entries of the block mapping `map` (the value of `key`) go:
/// the start of the line after the key's, and the column of the mapping's keys.
/// `None` unless the key's line holds only the key (and a comment) and the
/// mapping's first key starts a later line, deeper than `key`.
pub fn block_start(text: &str, key: NodeRef, map: NodeRef) -> Option<(usize, usize)> {
    if !map.is_map() || !direct(text, key, map) {
        return None;
    }
    let after = after_colon(text, key)?;
    if !rest_blank(text, after) {
        return None;
    }
    let key_at = key.span().start as usize;
    let key_col = key_column(text, key_at, true)?;
    let (first, _) = map.entries().next()?;
    let first_at = first.span().start as usize;
    let col = key_column(text, first_at, false)?;
    let at = next_line(text, key_at);
    (col > key_col && first_at >= at).then_some((at, col))
}

/// Replaces a scalar written as `expected` (plain, or quoted without escapes)
/// with `replacement`.
pub fn replace_scalar(
    text: &str,
    value: NodeRef,
    expected: &str,
    replacement: &str,
) -> Option<Edit> {
    let s = value.scalar()?;
    if s.text != expected {
        return None;
    }
    let start = value.span().start as usize;
    let rest = text.get(start..)?;
    let len = if s.plain {
        let end = value.span().end as usize;
        (text.get(start..end)? == expected).then_some(expected.len())?
    } else {
        let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let quoted = format!("{q}{expected}{q}");
        rest.starts_with(&quoted).then_some(quoted.len())?
    };
    Some(Edit {
        span: Span::new(start, start + len),
        replacement: replacement.to_string(),
    })
}
