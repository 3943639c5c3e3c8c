//! A file read from the repository: its text, its parsed YAML, and the line
//! index that turns byte offsets into editor positions at render time.

use crate::shared::Text;
use crate::yaml::{self, Span, Yaml};

/// What kept a file from being parsed (reported as a finding, never a crash).
#[derive(Debug, Clone)]
pub enum Unreadable {
    /// Not text: the message says why (binary, UTF-16, invalid UTF-8).
    NotText { offset: u32, message: String },
    /// Skipped on purpose or by the file system: too large, outside the root, I/O error.
    Skipped(String),
}

#[derive(Debug)]
pub struct SourceFile {
    /// Relative to the root, with `/` separators.
    pub path: Text,
    /// The tree, and the file's text (`text`), which it reads the values
    /// written as is from.
    pub yaml: Yaml,
    /// Boxed: few files have one, and every file holds the field.
    pub unreadable: Option<Box<Unreadable>>,
    /// Where each line starts: found on first use (rendering a finding,
    /// reading a suppression), so files without findings never hold it,
    /// and the field is one pointer.
    line_starts: once_cell::race::OnceBox<Box<[u32]>>,
}

/// A 1-based line and column (column in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    /// Decodes and parses `bytes`. Binary, UTF-16 and invalid UTF-8 content is
    /// recorded as unreadable, with the offset of the first bad byte. The
    /// text and the tree are packed (see `crate::shared`): for the files a
    /// run reads, which live as long as it.
    pub fn from_bytes(path: String, bytes: Vec<u8>) -> Self {
        Self::decoded(path, bytes, true)
    }

    /// `from_bytes`, unpacked: for an editor's buffer, which each edit
    /// replaces. Packed, its versions would keep alive the chunks they were
    /// packed into while any file packed there lives.
    pub fn from_buffer(path: String, bytes: Vec<u8>) -> Self {
        Self::decoded(path, bytes, false)
    }

    fn decoded(path: String, bytes: Vec<u8>, packed: bool) -> Self {
        let (text, problem) = decode(bytes);
        if problem.is_some() {
            return Self::new(path, Text::from(text), Yaml::default(), problem, packed);
        }
        let yaml = if packed {
            yaml::parse_packed(&text)
        } else {
            yaml::parse(&text)
        };
        Self::new(path, yaml.text.clone(), yaml, None, packed)
    }

    /// A file whose text was parsed before (the persistent cache keeps both).
    pub fn parsed(path: String, text: Text, yaml: Yaml) -> Self {
        Self::new(path, text, yaml, None, true)
    }

    pub fn skipped(path: String, why: String) -> Self {
        Self::new(
            path,
            Text::default(),
            Yaml::default(),
            Some(Unreadable::Skipped(why)),
            true,
        )
    }

    /// A file of the run: its path packed with its text (see
    /// `crate::shared`), unless it is an editor's buffer (`packed` false).
    fn new(
        path: String,
        text: Text,
        mut yaml: Yaml,
        unreadable: Option<Unreadable>,
        packed: bool,
    ) -> Self {
        yaml.text = text;
        SourceFile {
            path: if packed {
                Text::pack(&path)
            } else {
                Text::from(path)
            },
            yaml,
            unreadable: unreadable.map(Box::new),
            line_starts: once_cell::race::OnceBox::new(),
        }
    }

    /// The file's text (held by its tree).
    #[inline]
    pub fn text(&self) -> &Text {
        &self.yaml.text
    }

    fn line_starts(&self) -> &[u32] {
        // Two threads that ask at once may both count; one count is kept.
        self.line_starts.get_or_init(|| {
            let newlines = memchr::memchr_iter(b'\n', self.text().as_bytes());
            let mut starts = Vec::with_capacity(newlines.clone().count() + 1);
            starts.push(0u32);
            starts.extend(newlines.map(|i| i as u32 + 1));
            Box::new(starts.into_boxed_slice())
        })
    }

    pub fn position(&self, offset: u32) -> Position {
        let offset = offset.min(self.text().len() as u32);
        let line_starts = self.line_starts();
        let line = line_starts.partition_point(|&s| s <= offset) - 1;
        let start = line_starts[line] as usize;
        let mut end = offset as usize;
        while !self.text().is_char_boundary(end) {
            end -= 1;
        }
        let column = self.text()[start..end].chars().count() + 1;
        Position {
            line: line + 1,
            column,
        }
    }

    /// Start and end positions of a span (the end is exclusive).
    pub fn range(&self, span: Span) -> (Position, Position) {
        (self.position(span.start), self.position(span.end))
    }

    /// The text of a line (1-based), without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let line_starts = self.line_starts();
        let Some(&start) = line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = line_starts
            .get(line)
            .map_or(self.text().len(), |&e| e as usize);
        self.text()[start as usize..end].trim_end_matches(['\n', '\r'])
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> u32 {
        self.line_starts()
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(self.text().len() as u32)
    }
}

fn decode(bytes: Vec<u8>) -> (String, Option<Unreadable>) {
    let not_text = |offset: usize, message: &str| {
        Some(Unreadable::NotText {
            offset: offset as u32,
            message: message.to_string(),
        })
    };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return (
            String::new(),
            not_text(
                0,
                "the file is UTF-16 encoded; YAML manifests must be UTF-8 (Kubernetes and Flux read UTF-8 only)",
            ),
        );
    }
    if let Some(nul) = memchr::memchr(0, &bytes) {
        // Only the valid UTF-8 text before the NUL is kept, so every offset
        // into it is a character boundary.
        let valid = match std::str::from_utf8(&bytes[..nul]) {
            Ok(_) => nul,
            Err(e) => e.valid_up_to(),
        };
        let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
        let message = if valid == nul {
            "the file holds a NUL byte: it is binary, not YAML"
        } else {
            "the file is not valid UTF-8 and holds a NUL byte: it is binary, not YAML"
        };
        return (text, not_text(valid, message));
    }
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // The lossy text has the same bytes up to `at`, so the offset still holds.
            (text, not_text(at, "the file is not valid UTF-8"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let f = SourceFile::from_bytes("a.yaml".into(), "é: 1\nkey: v\n".as_bytes().to_vec());
        assert!(f.text().is_packed() && f.yaml.nodes.is_packed());
        let buffer = SourceFile::from_buffer("a.yaml".into(), "é: 1\nkey: v\n".as_bytes().to_vec());
        assert!(!buffer.text().is_packed() && !buffer.yaml.nodes.is_packed());
        assert_eq!(buffer.yaml, f.yaml);
        assert_eq!(f.position(0), Position { line: 1, column: 1 });
        assert_eq!(f.position(2), Position { line: 1, column: 2 });
        assert_eq!(f.position(6), Position { line: 2, column: 1 });
        assert_eq!(f.line_text(2), "key: v");
        assert_eq!((f.line_count(), f.line_start(3)), (3, 13));
        // The path is packed with the file, and an editor's is not.
        assert!(f.path.is_packed() && !buffer.path.is_packed());
        assert_eq!(&*buffer.path, "a.yaml");
    }

    /// Every file read holds one: pointers and offsets only, what few files
    /// have boxed.
    #[test]
    fn a_file_is_a_few_words() {
        assert_eq!(size_of::<Yaml>(), 136);
        assert_eq!(size_of::<SourceFile>(), 168);
    }

    #[test]
    fn nul_after_invalid_utf8_points_at_a_boundary() {
        let f = SourceFile::from_bytes("a".into(), b"ns: x\xff\xff\x01\x00".to_vec());
        match f.unreadable.as_deref() {
            Some(Unreadable::NotText { offset, .. }) => {
                assert_eq!(*offset, 5);
                assert!(f.text().is_char_boundary(*offset as usize));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_encodings_are_unreadable() {
        let f = SourceFile::from_bytes("a".into(), vec![0xFF, 0xFE, b'a', 0]);
        assert!(matches!(
            f.unreadable.as_deref(),
            Some(Unreadable::NotText { .. })
        ));
        let f = SourceFile::from_bytes("a".into(), b"a: 1\nb: \xC3\x28\n".to_vec());
        match f.unreadable.as_deref() {
            Some(Unreadable::NotText { offset, .. }) => assert_eq!(*offset, 8),
            other => panic!("{other:?}"),
        }
    }
}
