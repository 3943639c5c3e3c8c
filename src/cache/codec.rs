//! The bytes of one cache entry: a file's stat key, the hash of its text,
//! its text and its parsed tree. Decoding checks every length and index, and
//! a tree that breaks an invariant of the parser (a child before its parent,
//! an alias to a later node, a range out of bounds, a cut character) is
//! refused: a damaged or crafted entry is read as a miss, never a panic.

use crate::shared::{Buffer, Plain, Slab, Text};
use crate::source::SourceFile;
use std::sync::Arc;

use crate::yaml::{Document, DuplicateKey, Node, Span, SyntaxError, Value, Yaml};

/// What says a file is unchanged since its entry was written (see `mod.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
}

/// An entry's head: read before deciding whether the rest is wanted.
pub struct Head<'a> {
    pub path: &'a str,
    pub key: Key,
    pub hash: u64,
}

pub fn hash(text: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text)
}

#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.buf.extend_from_slice(b);
    }
    /// Zeros up to the next multiple of 4 bytes from `start`.
    pub fn align(&mut self, start: usize) {
        while !(self.buf.len() - start).is_multiple_of(4) {
            self.buf.push(0);
        }
    }
    fn span(&mut self, s: Span) {
        self.u32(s.start);
        self.u32(s.end);
    }
}

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    /// Skips to the next multiple of 4 bytes from the start (see `encode`).
    fn align(&mut self) -> Option<()> {
        self.take(self.pos.next_multiple_of(4) - self.pos)
            .map(|_| ())
    }
    pub fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len())?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Some(out)
    }
    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
    /// A count of items of at least `min` bytes each, refused when the rest
    /// of the buffer cannot hold them (no huge allocation from a bad count).
    pub fn count(&mut self, min: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.checked_mul(min)? <= self.buf.len() - self.pos).then_some(n)
    }
    /// A counted array of records of `N` bytes each, shared with `buf` (which
    /// holds the reader's bytes) where it can be, else decoded into a vector
    /// allocated once.
    fn slab<T: Plain, const N: usize>(
        &mut self,
        buf: &Arc<Buffer>,
        item: impl Fn(&[u8; N]) -> T,
    ) -> Option<Slab<T>> {
        const { assert!(N == size_of::<T>()) };
        let n = self.count(N)?;
        let bytes = self.take(n * N)?;
        // `Slab::of` hands out chunks of `size_of::<T>()` bytes: N, as above.
        Slab::of(buf, bytes, |b| {
            item(b.try_into().expect("records of N bytes"))
        })
    }
}

/// The little-endian `u32` at word `i` of an item.
fn word<const N: usize>(b: &[u8; N], i: usize) -> u32 {
    u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

/// Appends the entry of a parsed file (one that is text: see `cacheable`).
/// The tree's arrays start at multiples of 4 bytes from the entry's start,
/// and the entry is a multiple of 4 bytes long, so that a shard read into an
/// aligned buffer lends them to the tree as they are (see `shared`).
pub fn encode(w: &mut Writer, key: &Key, hash: u64, file: &SourceFile) {
    w.buf.reserve(size(file));
    let start = w.buf.len();
    w.bytes(file.path.as_bytes());
    w.align(start);
    w.u64(key.size);
    w.u64(key.mtime_ns as u64);
    w.u64(key.ctime_ns as u64);
    w.u64(key.ino);
    w.u64(hash);
    w.bytes(file.text().as_bytes());
    w.align(start);
    let y = &file.yaml;
    w.u32(y.nodes.len() as u32);
    for n in y.nodes.iter() {
        w.u32(n.start);
        w.u32(n.word());
    }
    w.u32(y.collections.len() as u32);
    for c in y.collections.iter() {
        w.u32(*c);
    }
    w.u32(y.scalars.len() as u32);
    for v in y.scalars.iter() {
        w.u32(v.at);
        w.u32(v.len);
        w.u32(v.end);
    }
    w.bytes(y.strings.as_bytes());
    w.align(start);
    w.u32(y.docs.len() as u32);
    for d in y.docs.iter() {
        w.u32(d.root);
        w.span(d.span);
    }
    w.u32(y.errors.len() as u32);
    for e in &y.errors {
        w.u32(e.offset);
        w.bytes(e.message.as_bytes());
        w.align(start);
    }
    w.u32(y.duplicate_keys.len() as u32);
    for d in y.duplicate_keys.iter() {
        w.span(d.first);
        w.span(d.repeat);
    }
    w.u32(y.nesting);
    w.u32(y.aliased as u32 | (y.collection_aliased as u32) << 1);
}

/// About the bytes of a file's entry.
pub fn size(file: &SourceFile) -> usize {
    let y = &file.yaml;
    96 + file.path.len()
        + file.text().len()
        + 8 * y.nodes.len()
        + 4 * y.collections.len()
        + 12 * y.scalars.len()
        + y.strings.len()
        + 12 * y.docs.len()
        + 16 * y.duplicate_keys.len()
        + 8
        + y.errors.iter().map(|e| 8 + e.message.len()).sum::<usize>()
}

/// Whether a file can have an entry: it was read and is text.
pub fn cacheable(file: &SourceFile) -> bool {
    file.unreadable.is_none()
}

pub fn head<'a>(r: &mut Reader<'a>) -> Option<Head<'a>> {
    let path = r.str()?;
    r.align()?;
    Some(Head {
        path,
        key: Key {
            size: r.u64()?,
            mtime_ns: r.u64()? as i64,
            ctime_ns: r.u64()? as i64,
            ino: r.u64()?,
        },
        hash: r.u64()?,
    })
}

/// The file of an entry whose head has been read; `None` when the entry is
/// damaged. The reader reads bytes of `buf`, which the text and the tree's
/// arrays point into rather than copy (see `shared`).
pub fn body(r: &mut Reader, buf: &Arc<Buffer>, path: &str) -> Option<SourceFile> {
    let text = Text::of(buf, r.bytes()?)?;
    r.align()?;
    let nodes = r.slab(buf, |b: &[u8; 8]| Node::from_parts(word(b, 0), word(b, 1)))?;
    let collections = r.slab(buf, |b: &[u8; 4]| word(b, 0))?;
    let scalars = r.slab(buf, |b: &[u8; 12]| Value {
        at: word(b, 0),
        len: word(b, 1),
        end: word(b, 2),
    })?;
    let strings = Text::of(buf, r.bytes()?)?;
    r.align()?;
    let docs = r.slab(buf, |b: &[u8; 12]| Document {
        root: word(b, 0),
        span: Span {
            start: word(b, 1),
            end: word(b, 2),
        },
    })?;
    let n = r.count(8)?;
    let mut errors = Vec::with_capacity(n);
    for _ in 0..n {
        errors.push(SyntaxError {
            offset: r.u32()?,
            message: r.str()?.to_string(),
        });
        r.align()?;
    }
    let duplicate_keys = r.slab(buf, |b: &[u8; 16]| DuplicateKey {
        first: Span {
            start: word(b, 0),
            end: word(b, 1),
        },
        repeat: Span {
            start: word(b, 2),
            end: word(b, 3),
        },
    })?;
    let nesting = r.u32()?;
    let (aliased, collection_aliased) = match r.u32()? {
        0 => (false, false),
        1 => (true, false),
        3 => (true, true),
        _ => return None,
    };
    if !r.at_end() {
        return None;
    }
    let yaml = Yaml {
        text: text.clone(),
        nodes,
        collections,
        scalars,
        strings,
        docs,
        errors: errors.into_boxed_slice(),
        duplicate_keys,
        nesting,
        aliased,
        collection_aliased,
    };
    yaml.well_formed()
        .then(|| SourceFile::parsed(path.to_string(), text, yaml))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> (SourceFile, SourceFile) {
        let file = SourceFile::from_bytes("a.yaml".into(), text.as_bytes().to_vec());
        let key = Key {
            size: text.len() as u64,
            mtime_ns: -5,
            ctime_ns: 1 << 40,
            ino: 7,
        };
        let mut w = Writer::default();
        encode(&mut w, &key, hash(text.as_bytes()), &file);
        assert!(w.buf.len().is_multiple_of(4));
        let buf = Arc::new(Buffer::from(&w.buf[..]));
        let mut r = Reader::new(buf.bytes());
        let h = head(&mut r).unwrap();
        assert_eq!(
            (h.path, h.key, h.hash),
            ("a.yaml", key, hash(text.as_bytes()))
        );
        let back = body(&mut r, &buf, h.path).unwrap();
        // The text and the tree's arrays point into the buffer (empty text
        // points nowhere).
        let lent = cfg!(target_endian = "little");
        assert_eq!(back.text().is_shared(), !text.is_empty());
        assert_eq!(back.yaml.nodes.is_shared(), lent);
        assert_eq!(back.yaml.collections.is_shared(), lent);
        assert_eq!(back.yaml.docs.is_shared(), lent);
        // The same entry one byte off its alignment: read by copying, alike.
        let mut off = vec![0u8];
        off.extend_from_slice(&w.buf);
        let buf = Arc::new(Buffer::from(&off[..]));
        let mut r = Reader::new(&buf.bytes()[1..]);
        let h = head(&mut r).unwrap();
        let copied = body(&mut r, &buf, h.path).unwrap();
        assert!(!copied.yaml.nodes.is_shared());
        assert_eq!(copied.yaml, back.yaml);
        (file, back)
    }

    #[test]
    fn entries_give_back_the_parsed_tree() {
        for text in [
            "",
            "a: 1\n",
            "a: &x {b: [1, 'two', \"thr\\u00e9e\"]}\nc: *x\n<<: *x\n---\n- |\n  block é\n- ? k\n  : v\n",
            "a: [\n",
            "a: 1\na: 2\n",
            "*unknown\n",
            "a: &s 1\nb: [*s, *s]\n",
        ] {
            let (file, back) = round_trip(text);
            assert_eq!(file.yaml, back.yaml, "{text:?}");
            assert_eq!(file.text(), back.text());
            assert!(file.yaml.well_formed(), "{text:?}");
        }
    }

    #[test]
    fn damaged_entries_are_refused_without_a_panic() {
        // With a character of two bytes, and in ASCII, where every offset
        // within the text is a character boundary.
        damaged_entries_of("a: &x {b: [1, 'two']}\nc: *x\nd: é\n");
        damaged_entries_of("a: &x {b: [1, 'two']}\nc: *x\nd: \"e\\t\"\n");
    }

    fn damaged_entries_of(text: &str) {
        let file = SourceFile::from_bytes("a.yaml".into(), text.as_bytes().to_vec());
        let key = Key {
            size: 1,
            mtime_ns: 2,
            ctime_ns: 3,
            ino: 4,
        };
        let mut w = Writer::default();
        encode(&mut w, &key, 9, &file);
        let good = w.buf;
        // Every truncation, and every single-byte change, is either refused
        // or decodes to a tree that keeps the invariants.
        for cut in 0..good.len() {
            let buf = Arc::new(Buffer::from(&good[..cut]));
            let mut r = Reader::new(buf.bytes());
            if let Some(h) = head(&mut r) {
                assert!(body(&mut r, &buf, h.path).is_none(), "cut at {cut}");
            }
        }
        for i in 0..good.len() {
            for v in [0u8, 1, 0x7f, 0xff] {
                let mut bad = good.clone();
                bad[i] = v;
                let buf = Arc::new(Buffer::from(&bad[..]));
                let mut r = Reader::new(buf.bytes());
                if let Some(h) = head(&mut r)
                    && let Some(f) = body(&mut r, &buf, h.path)
                {
                    assert!(f.yaml.well_formed());
                    // Reading every node through the accessors does not panic.
                    for d in f.yaml.documents() {
                        walk(d, 0);
                    }
                }
            }
        }
    }

    fn walk(n: crate::yaml::NodeRef, depth: usize) {
        if depth > 64 {
            return;
        }
        let _ = (n.span(), n.as_str(), n.get("a"), n.get("c"));
        for (k, v) in n.entries() {
            walk(k, depth + 1);
            walk(v, depth + 1);
        }
        for i in n.items() {
            walk(i, depth + 1);
        }
    }

    /// Every YAML file of the fixtures (valid, broken, odd) comes back as it
    /// was parsed, and the parser's trees keep the invariants `body` checks:
    /// were they to break, every entry would be a miss.
    #[test]
    fn every_fixture_round_trips() {
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if e.file_type().unwrap().is_symlink() {
                    continue;
                }
                if p.is_dir() {
                    files(&p, out);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    out.push(p);
                }
            }
        }
        let mut all = Vec::new();
        files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
            &mut all,
        );
        assert!(all.len() > 200, "{}", all.len());
        let mut with_errors = 0;
        for path in all {
            let bytes = std::fs::read(&path).unwrap();
            let file = SourceFile::from_bytes("f.yaml".into(), bytes);
            if !cacheable(&file) {
                continue;
            }
            with_errors += usize::from(!file.yaml.errors.is_empty());
            let key = Key {
                size: 0,
                mtime_ns: 0,
                ctime_ns: 0,
                ino: 0,
            };
            let mut w = Writer::default();
            encode(&mut w, &key, 0, &file);
            let buf = Arc::new(Buffer::from(&w.buf[..]));
            let mut r = Reader::new(buf.bytes());
            let h = head(&mut r).unwrap();
            let back = body(&mut r, &buf, h.path);
            assert!(back.is_some(), "{} is refused", path.display());
            assert_eq!(back.unwrap().yaml, file.yaml, "{}", path.display());
        }
        assert!(with_errors > 0);
    }

    #[test]
    fn a_bad_count_does_not_allocate_for_it() {
        let mut w = Writer::default();
        w.u32(u32::MAX);
        let mut r = Reader::new(&w.buf);
        assert!(r.count(20).is_none());
    }
}
