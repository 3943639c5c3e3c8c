//! Conversions between the linter's terms and the protocol's: file URIs and
//! paths, byte offsets and positions (0-based lines, UTF-16 code units), and
//! findings and LSP diagnostics.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types as lsp;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;
use crate::source::SourceFile;
use crate::yaml::Span;

use super::SOURCE;

/// `file://` URI of an absolute path, percent-encoding all but unreserved characters.
pub fn path_to_uri(path: &Path) -> lsp::Uri {
    let mut s = path.to_string_lossy().replace('\\', "/");
    if !s.starts_with('/') {
        // A Windows drive path: file:///C:/...
        s.insert(0, '/');
    }
    let mut out = String::from("file://");
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    lsp::Uri::from_str(&out).expect("a percent-encoded file URI parses")
}

/// The local path of a `file:` URI; `None` for other schemes and remote hosts.
pub fn uri_to_path(uri: &lsp::Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.get(..5).filter(|p| p.eq_ignore_ascii_case("file:"))?;
    let mut rest = &s[rest.len()..];
    if let Some(after) = rest.strip_prefix("//") {
        let slash = after.find('/').unwrap_or(after.len());
        let host = &after[..slash];
        if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
            return None;
        }
        rest = &after[slash..];
    }
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let bytes = percent_decode(&rest[..end])?;
    let path = String::from_utf8(bytes).ok()?;
    if cfg!(windows) {
        let b = path.as_bytes();
        if b.len() >= 3 && b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':' {
            return Some(PathBuf::from(&path[1..]));
        }
    }
    Some(PathBuf::from(path))
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

// Positions

/// The LSP position of a byte offset: 0-based line, UTF-16 code units into the line.
pub fn lsp_position(file: &SourceFile, offset: u32) -> lsp::Position {
    let text = &file.text();
    let mut offset = (offset as usize).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line = file.position(offset as u32).line;
    let start = file.line_start(line) as usize;
    let character = text[start..offset].encode_utf16().count();
    lsp::Position::new((line - 1) as u32, character as u32)
}

pub fn lsp_range(file: &SourceFile, span: Span) -> lsp::Range {
    lsp::Range::new(lsp_position(file, span.start), lsp_position(file, span.end))
}

/// UTF-16 length of a string.
pub fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// The byte offset of an LSP position (UTF-16 code units in its line; past
/// the end of a line: the line's end). `None` past the last line.
pub fn byte_offset(text: &str, pos: lsp::Position) -> Option<u32> {
    let mut start = 0usize;
    for _ in 0..pos.line {
        start += text[start..].find('\n')? + 1;
    }
    let line = text[start..].split('\n').next().unwrap_or("");
    let mut units = 0u32;
    for (i, c) in line.char_indices() {
        if units >= pos.character {
            return Some((start + i) as u32);
        }
        units += c.len_utf16() as u32;
    }
    Some((start + line.trim_end_matches('\r').len()) as u32)
}

/// Line `line` (0-based) of `text` without its line break, and the break ("" on the last line).
pub fn nth_line(text: &str, line: u32) -> Option<(&str, &str)> {
    let raw = text.split_inclusive('\n').nth(line as usize).or_else(|| {
        // The empty line after a final line break, or an empty file.
        let count = text.split_inclusive('\n').count();
        (line as usize == count && (text.is_empty() || text.ends_with('\n'))).then_some("")
    })?;
    let body = raw.trim_end_matches(['\n', '\r']);
    Some((body, &raw[body.len()..]))
}

// Findings

/// A finding as the editor gets it, with what the code actions need.
#[derive(Debug, Clone)]
pub struct Finding {
    pub diagnostic: lsp::Diagnostic,
    pub rule: &'static str,
    /// The fix's title and its edits, with their byte spans to order them.
    pub fix: Option<(String, Vec<(Span, lsp::TextEdit)>)>,
}

fn severity(s: Severity) -> lsp::DiagnosticSeverity {
    match s {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
    }
}

/// Converts a finding; `uri_of` names the URI of a repository file.
pub fn to_finding(repo: &Repository, d: &Diagnostic, uri_of: &dyn Fn(&str) -> lsp::Uri) -> Finding {
    let file = &repo.files[d.file];
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .map(|r| {
            let other = &repo.files[r.file];
            lsp::DiagnosticRelatedInformation {
                location: lsp::Location::new(uri_of(&other.path), lsp_range(other, r.span)),
                message: r.message.clone(),
            }
        })
        .collect();
    let diagnostic = lsp::Diagnostic {
        range: lsp_range(file, d.span),
        severity: Some(severity(d.severity)),
        code: Some(lsp::NumberOrString::String(d.rule.to_string())),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    };
    let fix = d.fix.as_ref().map(|fix| {
        let edits = fix
            .edits
            .iter()
            .map(|e| {
                (
                    e.span,
                    lsp::TextEdit::new(lsp_range(file, e.span), e.replacement.clone()),
                )
            })
            .collect();
        (fix.message.clone(), edits)
    });
    Finding {
        diagnostic,
        rule: d.rule,
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_map_back_to_byte_offsets() {
        let text = "a: é🚀x\r\nb: 1\n";
        let x = text.find('x').unwrap() as u32;
        // `é` is one UTF-16 unit, `🚀` two.
        assert_eq!(byte_offset(text, lsp::Position::new(0, 6)), Some(x));
        // Past the end of a line: its end, before the line break.
        assert_eq!(byte_offset(text, lsp::Position::new(0, 99)), Some(x + 1));
        assert_eq!(
            byte_offset(text, lsp::Position::new(1, 0)),
            Some(text.find('b').unwrap() as u32)
        );
        assert_eq!(byte_offset(text, lsp::Position::new(5, 0)), None);
    }
}
