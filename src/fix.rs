//! Safe fixes: the edits rules attach to their findings, and how `--fix` and
//! `--diff` apply them.
//!
//! A fix is a list of byte-range replacements on the text the finding's file
//! was read with. Everything outside those ranges stays byte for byte as it
//! was: comments, key order, quoting, indentation, line breaks. The builders
//! in the first half make such edits for whole lines of block mappings and
//! refuse (`None`) whenever the layout is not the plain one they understand:
//! a finding without a fix is better than a fix that breaks a file.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use crate::diagnostic::{Edit, FileId};
use crate::run::Report;
use crate::yaml::{NodeRef, Span};

// ---------------------------------------------------------------------------
// Building edits (for rules).

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

// ---------------------------------------------------------------------------
// Applying a report's fixes.

/// What applying the fixes does to one file.
#[derive(Debug)]
pub struct FileFix {
    pub file: FileId,
    /// Relative to the root, with `/` separators.
    pub path: String,
    /// The text after the fixes.
    pub fixed: String,
    /// Indices into the report's diagnostics whose fixes `fixed` holds.
    pub diagnostics: Vec<usize>,
}

/// The fixes of a report, file by file (in path order).
#[derive(Debug, Default)]
pub struct Plan {
    pub files: Vec<FileFix>,
}

/// What writing a plan did.
#[derive(Debug, Default)]
pub struct Written {
    /// Indices into the report's diagnostics that were fixed on disk.
    pub fixed: Vec<usize>,
    /// Files written, relative to the root.
    pub files: Vec<String>,
    /// Files left alone, with why.
    pub failed: Vec<(String, String)>,
}

fn overlaps(a: Span, b: Span) -> bool {
    (a.start < b.end && b.start < a.end) || a.start == b.start
}

/// Applies non-overlapping edits to `text`.
pub fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut edits: Vec<&Edit> = edits.iter().collect();
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for e in edits {
        out.push_str(&text[last..e.span.start as usize]);
        out.push_str(&e.replacement);
        last = e.span.end as usize;
    }
    out.push_str(&text[last..]);
    out
}

/// Whether a fix's edits fit `text` and one another.
fn valid(text: &str, edits: &[Edit]) -> bool {
    !edits.is_empty()
        && edits.iter().all(|e| {
            let (s, t) = (e.span.start as usize, e.span.end as usize);
            s <= t && t <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(t)
        })
        && edits
            .iter()
            .enumerate()
            .all(|(i, a)| edits[i + 1..].iter().all(|b| !overlaps(a.span, b.span)))
}

/// Collects the fixes of every finding, file by file. A fix whose edits
/// overlap an earlier fix's (in report order) is left out: that finding stays
/// reported, and a second `--fix` may take it. A fix made of edits already
/// taken counts as applied.
pub fn plan(report: &Report) -> Plan {
    let repo = &report.repo;
    let mut by_file: BTreeMap<FileId, (Vec<Edit>, Vec<usize>)> = BTreeMap::new();
    for (i, d) in report.diagnostics.iter().enumerate() {
        let Some(fix) = &d.fix else { continue };
        let file = &repo.files[d.file];
        if file.unreadable.is_some() || !valid(&file.text, &fix.edits) {
            continue;
        }
        let (taken, which) = by_file.entry(d.file).or_default();
        // The same edits as fixes already taken (two findings, one cure): fixed too.
        if fix.edits.iter().all(|e| taken.contains(e)) {
            which.push(i);
            continue;
        }
        if fix
            .edits
            .iter()
            .any(|e| taken.iter().any(|t| overlaps(e.span, t.span)))
        {
            continue;
        }
        taken.extend(fix.edits.iter().cloned());
        which.push(i);
    }
    let files = by_file
        .into_iter()
        .filter_map(|(file, (edits, diagnostics))| {
            let source = &repo.files[file];
            let fixed = apply_edits(&source.text, &edits);
            (fixed != source.text).then(|| FileFix {
                file,
                path: source.path.clone(),
                fixed,
                diagnostics,
            })
        })
        .collect();
    Plan { files }
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// How many findings the plan fixes.
    pub fn findings(&self) -> usize {
        self.files.iter().map(|f| f.diagnostics.len()).sum()
    }

    /// A unified diff (`a/` and `b/` paths relative to the root, as `git
    /// apply` reads them) of what writing the plan changes.
    pub fn diff(&self, report: &Report) -> String {
        let mut out = String::new();
        for f in &self.files {
            let old = &report.repo.files[f.file].text;
            let diff = similar::TextDiff::from_lines(old.as_str(), f.fixed.as_str());
            out.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{}", f.path), &format!("b/{}", f.path))
                    .to_string(),
            );
        }
        out
    }

    /// Writes every fixed file, atomically (a temporary file in the same
    /// directory, renamed over it, with the file's permissions). A file whose
    /// content on disk is no longer the text the report was made from is not
    /// touched.
    pub fn write(&self, report: &Report) -> Written {
        let mut written = Written::default();
        for f in &self.files {
            let source = &report.repo.files[f.file];
            let path = report.repo.root.join(&f.path);
            match write_if_unchanged(&path, source.text.as_bytes(), f.fixed.as_bytes()) {
                Ok(()) => {
                    written.fixed.extend(&f.diagnostics);
                    written.files.push(f.path.clone());
                }
                Err(why) => written.failed.push((f.path.clone(), why)),
            }
        }
        written.fixed.sort_unstable();
        written
    }
}

/// Replaces the file at `path` (a link is followed: its target is replaced)
/// with `new`, when it still holds `old`.
pub fn write_if_unchanged(path: &Path, old: &[u8], new: &[u8]) -> Result<(), String> {
    let real = path
        .canonicalize()
        .map_err(|e| format!("cannot resolve the path: {e}"))?;
    let on_disk = fs::read(&real).map_err(|e| format!("cannot read it again: {e}"))?;
    if on_disk != old {
        return Err("changed on disk since it was read; not fixed".to_string());
    }
    let meta = fs::metadata(&real).map_err(|e| e.to_string())?;
    let dir = real.parent().ok_or("no parent directory")?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".gitops-lint-fix-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file beside it: {e}"))?;
    tmp.write_all(new)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| format!("cannot write the temporary file: {e}"))?;
    fs::set_permissions(tmp.path(), meta.permissions())
        .map_err(|e| format!("cannot keep the file's permissions: {e}"))?;
    tmp.persist(&real)
        .map_err(|e| format!("cannot replace it: {}", e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Yaml, parse};

    fn root(y: &Yaml) -> NodeRef<'_> {
        y.documents().next().unwrap()
    }

    fn apply(text: &str, edit: Option<Edit>) -> Option<String> {
        edit.map(|e| apply_edits(text, &[e]))
    }

    fn remove(text: &str, path: &[&str], key: &str, single: bool) -> Option<String> {
        let y = parse(text);
        let map = root(&y).path(path).unwrap();
        let (k, v) = written(map, key).unwrap().unwrap();
        apply(text, remove_entry(text, k, v, single))
    }

    #[test]
    fn removes_a_one_line_entry_with_its_comment() {
        let t = "spec:\n  a: 1\n  b: 2   # why\n  c: 3\n";
        assert_eq!(
            remove(t, &["spec"], "b", true).unwrap(),
            "spec:\n  a: 1\n  c: 3\n"
        );
        let crlf = "spec:\r\n  a: 1\r\n  b: 2\r\n  c: 3\r\n";
        assert_eq!(
            remove(crlf, &["spec"], "b", true).unwrap(),
            "spec:\r\n  a: 1\r\n  c: 3\r\n"
        );
        // The last line, without a line break: the file still ends without one.
        let last = "spec:\n  a: 1\n  b: 2";
        assert_eq!(remove(last, &["spec"], "b", true).unwrap(), "spec:\n  a: 1");
    }

    #[test]
    fn refuses_layouts_it_does_not_understand() {
        // Flow mapping, block scalar, value on the next line, anchors, tags.
        assert!(remove("spec: {a: 1, b: 2}\n", &["spec"], "b", true).is_none());
        assert!(remove("spec:\n  b: |\n    x\n  c: 1\n", &["spec"], "b", false).is_none());
        assert!(remove("spec:\n  b:\n    2m\n  c: 1\n", &["spec"], "b", true).is_none());
        assert!(remove("spec:\n  b: &x 2m\n  c: *x\n", &["spec"], "b", true).is_none());
        assert!(remove("spec:\n  b: !!str 2m\n  c: 1\n", &["spec"], "b", true).is_none());
        assert!(remove("spec:\n  b:\n    x: &y 1\n  c: *y\n", &["spec"], "b", false).is_none());
        // A value that goes on past a comment at a lower indentation.
        assert!(
            remove(
                "spec:\n  b:\n    x: 1\n# c\n    y: 2\n  c: 1\n",
                &["spec"],
                "b",
                false
            )
            .is_none()
        );
    }

    #[test]
    fn removes_a_block_with_its_inner_comments() {
        let t = "s:\n  type: R\n  rollingUpdate:\n    # inner\n    maxSurge: 1\n\n    maxUnavailable: 0\n\n  # next\n  n: 1\n";
        assert_eq!(
            remove(t, &["s"], "rollingUpdate", false).unwrap(),
            "s:\n  type: R\n\n  # next\n  n: 1\n"
        );
        assert!(remove(t, &["s"], "rollingUpdate", true).is_none());
        let seq = "s:\n  list:\n  - a\n  - b\n  n: 1\n";
        assert_eq!(remove(seq, &["s"], "list", false).unwrap(), "s:\n  n: 1\n");
    }

    #[test]
    fn inserts_after_an_item_key_at_its_column() {
        let t = "ifs:\n  -   interface: eth0 # main\n      mtu: 1500\n";
        let y = parse(t);
        let item = root(&y).get("ifs").unwrap().items().next().unwrap();
        let (k, v) = written(item, "interface").unwrap().unwrap();
        let l = entry_lines(t, k, v, true).unwrap();
        assert!(entry_lines(t, k, v, false).is_none());
        let e = insert_lines(t, l.end, l.column, &["dhcp: false"]);
        assert_eq!(
            apply_edits(t, &[e]),
            "ifs:\n  -   interface: eth0 # main\n      dhcp: false\n      mtu: 1500\n"
        );
        let no_break = "a:\n  b: 1";
        let e = insert_lines(no_break, no_break.len(), 2, &["c: 2", "d: 3"]);
        assert_eq!(apply_edits(no_break, &[e]), "a:\n  b: 1\n  c: 2\n  d: 3");
    }

    #[test]
    fn replaces_an_entry_and_fills_an_empty_value() {
        let t = "s:\n  rollingUpdate:   # r\n    maxSurge: 1\n  # after\nn: 1\n";
        let y = parse(t);
        let s = root(&y).get("s").unwrap();
        let (k, v) = written(s, "rollingUpdate").unwrap().unwrap();
        let got = apply(t, replace_entry(t, k, v, &["type: Recreate"]));
        assert_eq!(got.unwrap(), "s:\n  type: Recreate\n  # after\nn: 1\n");
        let last = "s:\n  r:\n    m: 1";
        let y = parse(last);
        let (k, v) = written(root(&y).get("s").unwrap(), "r").unwrap().unwrap();
        assert_eq!(
            apply(last, replace_entry(last, k, v, &["t: R"])).unwrap(),
            "s:\n  t: R"
        );

        for (t, want) in [
            (
                "a:\n  s:   # c\n  b: 1\n",
                Some("a:\n  s: {t: R}   # c\n  b: 1\n"),
            ),
            ("a:\n  s:\n", Some("a:\n  s: {t: R}\n")),
            ("a:\n  s: ~\n", None),
            ("a:\n  s: {}\n", None),
        ] {
            let y = parse(t);
            let a = root(&y).get("a").unwrap();
            let (k, v) = written(a, "s").unwrap().unwrap();
            let got = apply(t, set_empty_value(t, k, v, "{t: R}"));
            assert_eq!(got.as_deref(), want, "{t}");
        }
    }

    #[test]
    fn finds_where_first_entries_go() {
        let t = "spec:   # c\n    # lead\n    a: 1\n";
        let y = parse(t);
        let (k, v) = written(root(&y), "spec").unwrap().unwrap();
        assert_eq!(block_start(t, k, v), Some((12, 4)));
        let flow = "spec: {a: 1}\n";
        let y = parse(flow);
        let (k, v) = written(root(&y), "spec").unwrap().unwrap();
        assert_eq!(block_start(flow, k, v), None);
    }

    #[test]
    fn replaces_scalars_keeping_quotes_out() {
        for (t, want) in [
            ("t: RollingUpdate\n", Some("t: Recreate\n")),
            ("t: \"RollingUpdate\" # q\n", Some("t: Recreate # q\n")),
            ("t: 'RollingUpdate'\n", Some("t: Recreate\n")),
            ("t: ${S}\n", None),
            ("t: \"Rolling\\x55pdate\"\n", None),
        ] {
            let y = parse(t);
            let v = root(&y).get("t").unwrap();
            let got = apply(t, replace_scalar(t, v, "RollingUpdate", "Recreate"));
            assert_eq!(got.as_deref(), want, "{t}");
        }
    }

    #[test]
    fn written_refuses_merges_and_repeats() {
        let y = parse("a: &x {k: 1}\nb:\n  <<: *x\n  j: 2\nc: {k: 1, k: 2}\nd: {j: 1}\n");
        let r = root(&y);
        assert!(written(r.get("b").unwrap(), "k").is_none());
        assert!(written(r.get("c").unwrap(), "k").is_none());
        assert!(written(r.get("d").unwrap(), "k").unwrap().is_none());
        assert!(written(r.get("d").unwrap(), "j").unwrap().is_some());
    }

    #[test]
    fn edits_apply_in_order_and_overlaps_are_told() {
        let e = |s: usize, t: usize, r: &str| Edit {
            span: Span::new(s, t),
            replacement: r.into(),
        };
        assert_eq!(
            apply_edits("abcdef", &[e(4, 5, "X"), e(0, 1, ""), e(2, 2, "+")]),
            "b+cdXf"
        );
        assert!(valid("abc", &[e(0, 1, ""), e(1, 2, "")]));
        assert!(!valid("abc", &[e(0, 2, ""), e(1, 2, "")]));
        assert!(!valid("abc", &[e(1, 1, "x"), e(1, 1, "y")]));
        assert!(!valid("abc", &[e(2, 9, "")]));
        assert!(!valid("é", &[e(1, 2, "")]));
        assert!(!valid("abc", &[]));
    }

    #[test]
    fn a_file_changed_on_disk_is_not_touched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        fs::write(&p, "a: 2\n").unwrap();
        let err = write_if_unchanged(&p, b"a: 1\n", b"a: 3\n").unwrap_err();
        assert!(err.contains("changed on disk"), "{err}");
        assert_eq!(fs::read(&p).unwrap(), b"a: 2\n");
        write_if_unchanged(&p, b"a: 2\n", b"a: 3\n").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"a: 3\n");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn writes_keep_permissions_and_follow_links() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        fs::write(&p, "a: 1\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.yaml");
        symlink(&p, &link).unwrap();
        write_if_unchanged(&link, b"a: 1\n", b"a: 2\n").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&p).unwrap(), b"a: 2\n");
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}
