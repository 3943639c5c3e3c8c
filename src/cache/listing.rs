//! The listing of a root kept between runs: the YAML files the walk found,
//! with what decided them (every directory it entered, the ignore files it
//! read, the configuration's excludes).
//!
//! A run takes the listing again, instead of walking, when all of that is as
//! the listing records it: a file added, removed or renamed changes its
//! directory's modification time, and an ignore file edited in place changes
//! its own. Each was stamped before the walker read it, so that a change
//! made while the walk ran shows as a difference. As for files, a directory
//! or ignore file whose times fall within two seconds of the run that kept
//! the listing could have changed again within the clock's resolution, so
//! the root is walked again. Anything the record cannot vouch for (a
//! symbolic link in a directory the walk enters, ignored or not, which can
//! lead elsewhere while every directory on the way stays as it was; a `.git`
//! that is a file, as in a worktree; a finding of the walk) means no listing
//! is kept, and every run walks. Off Unix, where a
//! directory's modification time is all a key holds, no listing is kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::codec::{self, Key, Reader, Writer};
use super::keys::{self, RootDir};
use crate::walk::{Listed, Look, Seen, Stamper, Walked};

const MAGIC: &[u8; 8] = b"GLLIST\0\0";
/// Bumped whenever the bytes of a listing change meaning.
const FORMAT: u32 = 2;
const FILE_NAME: &str = "listing.bin";

/// The state of a directory, or of a file the walker reads or looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    Absent,
    /// A directory where a file is looked for: only that it is one matters
    /// (`.git`, whose own times change with every commit).
    Dir,
    File(Key),
    /// A directory the walk entered: its entries are what its times vouch for.
    Entered(Key),
}

impl Stamp {
    /// The stamp of `path` (links followed, as the walker reads it); `None`
    /// when it cannot be told (a permission error, say).
    fn of(path: &Path) -> Option<Stamp> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Some(Stamp::Dir),
            Ok(m) => Some(Stamp::File(keys::key_of_meta(&m))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Stamp::Absent),
            Err(_) => None,
        }
    }

    fn racy(&self, written_at: i64) -> bool {
        match self {
            Stamp::File(k) | Stamp::Entered(k) => racy(k, written_at),
            Stamp::Absent | Stamp::Dir => false,
        }
    }

    fn words(&self) -> [u64; 5] {
        let key = |tag, k: &Key| [tag, k.size, k.mtime_ns as u64, k.ctime_ns as u64, k.ino];
        match self {
            Stamp::Absent => [0; 5],
            Stamp::Dir => [1, 0, 0, 0, 0],
            Stamp::File(k) => key(2, k),
            Stamp::Entered(k) => key(3, k),
        }
    }

    fn from_words(w: [u64; 5]) -> Option<Stamp> {
        let key = Key {
            size: w[1],
            mtime_ns: w[2] as i64,
            ctime_ns: w[3] as i64,
            ino: w[4],
        };
        match w[0] {
            0 => Some(Stamp::Absent),
            1 => Some(Stamp::Dir),
            2 => Some(Stamp::File(key)),
            3 => Some(Stamp::Entered(key)),
            _ => None,
        }
    }

    fn write(&self, w: &mut Writer) {
        for word in self.words() {
            w.u64(word);
        }
    }

    fn read(r: &mut Reader) -> Option<Stamp> {
        Stamp::from_words([r.u64()?, r.u64()?, r.u64()?, r.u64()?, r.u64()?])
    }
}

fn racy(key: &Key, written_at: i64) -> bool {
    let since = written_at.saturating_sub(super::RACY_NS);
    key.mtime_ns >= since || key.ctime_ns >= since
}

/// How a listing walk of `root` stamps what it looks at.
pub fn stamper(root: &Path) -> Stamper {
    let at = RootDir::open(root);
    let root = root.to_path_buf();
    Arc::new(move |path: &Path, look: Look| {
        let stamp = match look {
            Look::Dir(Some([size, mtime, ctime, ino])) => Stamp::Entered(Key {
                size,
                mtime_ns: mtime as i64,
                ctime_ns: ctime as i64,
                ino,
            }),
            Look::Dir(None) => Stamp::Entered(at.dir_key(&root, path)?),
            Look::File => Stamp::of(path)?,
        };
        Some(stamp.words())
    })
}

/// The files outside the walk that decide what it lists, stamped: the ignore
/// files of the root's parents (read by the walker too), the `.git` there
/// (whose `info/exclude` it reads), and the global git excludes file. Taken
/// before the walk; `None` when one cannot be stamped.
pub fn outer(root: &Path) -> Option<Outer> {
    let mut paths = Vec::new();
    for dir in root.ancestors().skip(1) {
        for name in [".gitignore", ".ignore", ".git", ".git/info/exclude"] {
            paths.push(dir.join(name));
        }
    }
    paths.extend(ignore::gitignore::gitconfig_excludes_path());
    paths
        .into_par_iter()
        .map(|p| Stamp::of(&p).map(|s| (p, s)))
        .collect()
}

/// The stamped inputs outside the root, as `outer` gives them.
pub type Outer = Vec<(PathBuf, Stamp)>;

/// The raw bytes of `path` below `root` (`""` for the root itself).
fn below<'p>(root: &Path, path: &'p Path) -> Option<&'p [u8]> {
    let rest = path
        .as_os_str()
        .as_encoded_bytes()
        .strip_prefix(root.as_os_str().as_encoded_bytes())?;
    match rest {
        [] => Some(rest),
        [b'/', rest @ ..] if !rest.is_empty() => Some(rest),
        _ => None,
    }
}

/// A path from the bytes of one, as `as_encoded_bytes` gave them; `None`
/// for bytes no path of this platform has.
fn os_path(bytes: &[u8]) -> Option<&Path> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(Path::new(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes).ok().map(Path::new)
    }
}

/// `rel` (the root itself when empty) under `root`; `None` unless `rel` is
/// a plain relative path (no `.`, `..` or empty component): a listing never
/// names anything outside its root.
fn under(root: &Path, rel: &[u8]) -> Option<PathBuf> {
    if rel.is_empty() {
        return Some(root.to_path_buf());
    }
    let plain = rel
        .split(|&b| b == b'/')
        .all(|c| !c.is_empty() && c != b"." && c != b"..");
    if !plain {
        return None;
    }
    // What `root.join(rel)` gives for such a path, put together in one
    // buffer of the right size (`Path::join` takes several times as long,
    // and this runs for every file of a listing taken again).
    let rel = os_path(rel)?.as_os_str();
    let root = root.as_os_str();
    let mut path = std::ffi::OsString::with_capacity(root.len() + 1 + rel.len());
    path.push(root);
    if !root.as_encoded_bytes().ends_with(b"/") {
        path.push("/");
    }
    path.push(rel);
    Some(PathBuf::from(path))
}

/// A hash of the configuration's exclude patterns.
pub fn excludes_hash(patterns: &[String]) -> u64 {
    let mut w = Writer::default();
    for p in patterns {
        w.bytes(p.as_bytes());
    }
    codec::hash(&w.buf)
}

/// Whether listings are kept at all here.
pub const KEPT: bool = cfg!(unix);

/// The listing of `root` kept in `dir`, if every input is unchanged: the
/// files as the walk would list them (`Walked::Listed` only, sorted), and the
/// number of directories found unchanged. `outer` is `outer(root)`, taken now.
pub fn take(
    dir: &Path,
    root: &Path,
    binary: (u64, u64),
    excludes: u64,
    outer: &Outer,
) -> Option<(Vec<Walked>, usize)> {
    let bytes = std::fs::read(dir.join(FILE_NAME)).ok()?;
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if codec::hash(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut r = Reader::new(body);
    if r.take(MAGIC.len())? != MAGIC || r.u32()? != FORMAT || (r.u64()?, r.u64()?) != binary {
        return None;
    }
    let written_at = r.u64()? as i64;
    if r.u64()? != excludes {
        return None;
    }
    // Outside the root: the same files as now, each as it was.
    let n = r.count(48)?;
    if n != outer.len() {
        return None;
    }
    for (path, now) in outer {
        let (p, s) = (os_path(r.bytes()?)?, Stamp::read(&mut r)?);
        if p != path || s != *now || s.racy(written_at) {
            return None;
        }
    }
    // Inside it: the inputs, then the directories, the root first.
    let n = r.count(48)?;
    let mut inputs = Vec::with_capacity(n);
    for _ in 0..n {
        let rel = r.bytes()?;
        inputs.push((under(root, rel)?, Stamp::read(&mut r)?));
    }
    let n = r.count(44)?;
    let mut dirs = Vec::with_capacity(n);
    for i in 0..n {
        let rel = r.bytes()?;
        if (i == 0) != rel.is_empty() {
            return None;
        }
        dirs.push((under(root, rel)?, Stamp::read(&mut r)?));
    }
    if dirs.is_empty() {
        return None;
    }
    let stamp = stamper(root);
    let hold = |(path, then): &(PathBuf, Stamp), look| {
        !then.racy(written_at) && stamp(path, look).and_then(Stamp::from_words) == Some(*then)
    };
    // The files are decoded (one after the other) while the stamps are
    // compared (system calls, in parallel).
    let (held, files) = rayon::join(
        || {
            inputs.par_iter().all(|i| hold(i, Look::File))
                && dirs
                    .par_iter()
                    .with_min_len(64)
                    .all(|d| hold(d, Look::Dir(None)))
        },
        || listed_files(&mut r, root),
    );
    if !held {
        return None;
    }
    let files = files?;
    r.at_end().then_some((files, dirs.len()))
}

/// The listed files, the last part of a listing.
fn listed_files(r: &mut Reader, root: &Path) -> Option<Vec<Walked>> {
    let n = r.count(5)?;
    let mut files = Vec::with_capacity(n);
    for _ in 0..n {
        let rel = std::str::from_utf8(r.bytes()?).ok()?;
        let flags = r.take(1)?[0];
        let raw = if flags & 2 != 0 {
            r.bytes()?
        } else {
            rel.as_bytes()
        };
        if raw.is_empty() {
            return None;
        }
        files.push(Walked::Listed(Listed {
            rel: rel.to_string(),
            path: under(root, raw)?,
            listed_regular: flags & 1 != 0,
        }));
    }
    Some(files)
}

/// Keeps the listing a walk of `root` begun at `started` gave (`Listed`
/// files only, sorted) with what it saw, stamped as it went, and `outer`
/// as it was before the walk; nothing when something cannot be vouched for.
/// Whether it was written.
#[allow(clippy::too_many_arguments)]
pub fn keep(
    dir: &Path,
    root: &Path,
    binary: (u64, u64),
    excludes: u64,
    started: i64,
    outer: &Outer,
    listed: &[Walked],
    seen: &Seen,
) -> bool {
    let inputs: Option<Vec<(&[u8], Stamp)>> = seen
        .inputs
        .iter()
        .map(|(p, s)| Some((below(root, p)?, Stamp::from_words(*s)?)))
        .collect();
    let dirs: Option<Vec<(&[u8], Stamp)>> = seen
        .dirs
        .iter()
        .map(|(p, s)| Some((below(root, p)?, Stamp::from_words(*s)?)))
        .collect();
    let (Some(inputs), Some(dirs)) = (inputs, dirs) else {
        return false;
    };
    if dirs.first().is_none_or(|(rel, _)| !rel.is_empty()) {
        return false;
    }
    // A `.git` file points elsewhere (a worktree, a submodule): what it
    // leads to is not followed here.
    let is_git = |p: &Path| p.file_name().is_some_and(|n| n == ".git");
    let points_elsewhere = outer
        .iter()
        .map(|(p, s)| (p.as_path(), *s))
        .chain(
            seen.inputs
                .iter()
                .zip(&inputs)
                .map(|((p, _), (_, s))| (p.as_path(), *s)),
        )
        .any(|(p, s)| is_git(p) && matches!(s, Stamp::File(_)));
    if points_elsewhere {
        return false;
    }
    let files: Option<Vec<(&str, &[u8], bool)>> = listed
        .iter()
        .map(|l| match l {
            Walked::Listed(l) => Some((
                l.rel.as_str(),
                below(root, &l.path).filter(|r| !r.is_empty())?,
                l.listed_regular,
            )),
            Walked::File(_) => None,
        })
        .collect();
    let Some(files) = files else {
        return false;
    };
    let record = Record {
        binary,
        excludes,
        started,
        outer,
        inputs,
        dirs,
        files,
    };
    super::write_whole(dir, FILE_NAME, &record.encode())
}

/// What a listing file holds.
struct Record<'a> {
    binary: (u64, u64),
    excludes: u64,
    started: i64,
    outer: &'a [(PathBuf, Stamp)],
    /// Below the root: the inputs and the directories (the root first).
    inputs: Vec<(&'a [u8], Stamp)>,
    dirs: Vec<(&'a [u8], Stamp)>,
    /// The relative path, the raw one, and whether the listing said a
    /// regular file.
    files: Vec<(&'a str, &'a [u8], bool)>,
}

impl Record<'_> {
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.buf.extend_from_slice(MAGIC);
        w.u32(FORMAT);
        w.u64(self.binary.0);
        w.u64(self.binary.1);
        w.u64(self.started as u64);
        w.u64(self.excludes);
        w.u32(self.outer.len() as u32);
        for (p, s) in self.outer {
            w.bytes(p.as_os_str().as_encoded_bytes());
            s.write(&mut w);
        }
        for part in [&self.inputs, &self.dirs] {
            w.u32(part.len() as u32);
            for (rel, s) in part.iter() {
                w.bytes(rel);
                s.write(&mut w);
            }
        }
        w.u32(self.files.len() as u32);
        for &(rel, raw, regular) in &self.files {
            w.bytes(rel.as_bytes());
            let same = raw == rel.as_bytes();
            w.buf.push(u8::from(regular) | if same { 0 } else { 2 });
            if !same {
                w.bytes(raw);
            }
        }
        let sum = codec::hash(&w.buf);
        w.u64(sum);
        w.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root holding `a/x.yaml`, and its listing as a walk would keep it,
    /// as if kept long after every time it records.
    struct Fixture {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        cache: PathBuf,
        outer: Outer,
        dirs: Vec<(Vec<u8>, Stamp)>,
        inputs: Vec<(Vec<u8>, Stamp)>,
    }

    impl Fixture {
        fn new() -> Fixture {
            let tmp = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(tmp.path().join("root/a")).unwrap();
            let root = tmp.path().join("root").canonicalize().unwrap();
            std::fs::write(root.join("a/x.yaml"), "a: 1\n").unwrap();
            let cache = tmp.path().join("cache");
            std::fs::create_dir_all(&cache).unwrap();
            let stamp = stamper(&root);
            let st = |p: &Path, look| Stamp::from_words(stamp(p, look).unwrap()).unwrap();
            let dirs = vec![
                (Vec::new(), st(&root, Look::Dir(None))),
                (b"a".to_vec(), st(&root.join("a"), Look::Dir(None))),
            ];
            let inputs = vec![(
                b"a/.gitignore".to_vec(),
                st(&root.join("a/.gitignore"), Look::File),
            )];
            let outer = super::outer(&root).unwrap();
            let fixture = Fixture {
                _tmp: tmp,
                root,
                cache,
                outer,
                dirs,
                inputs,
            };
            fixture.write(|_| {});
            fixture
        }

        /// Writes the listing, changed by `edit`, its checksum holding.
        fn write(&self, edit: impl Fn(&mut Record)) {
            let mut record = Record {
                binary: (1, 2),
                excludes: 3,
                started: i64::MAX / 2,
                outer: &self.outer,
                inputs: self.inputs.iter().map(|(p, s)| (&p[..], *s)).collect(),
                dirs: self.dirs.iter().map(|(p, s)| (&p[..], *s)).collect(),
                files: vec![("a/x.yaml", b"a/x.yaml", true)],
            };
            edit(&mut record);
            std::fs::write(self.cache.join(FILE_NAME), record.encode()).unwrap();
        }

        fn take(&self) -> Option<(Vec<Walked>, usize)> {
            take(&self.cache, &self.root, (1, 2), 3, &self.outer)
        }
    }

    #[test]
    fn a_listing_is_taken_again_while_its_inputs_hold() {
        let f = Fixture::new();
        let (files, dirs) = f.take().unwrap();
        assert_eq!(dirs, 2);
        assert!(
            matches!(&files[..], [Walked::Listed(l)] if l.rel == "a/x.yaml" && l.path == f.root.join("a/x.yaml"))
        );
        // Another binary, other excludes, other inputs outside the root.
        assert!(take(&f.cache, &f.root, (1, 3), 3, &f.outer).is_none());
        assert!(take(&f.cache, &f.root, (1, 2), 4, &f.outer).is_none());
        assert!(take(&f.cache, &f.root, (1, 2), 3, &f.outer[1..].to_vec()).is_none());
        // An ignore file that appears, a directory that changes.
        std::fs::write(f.root.join("a/.gitignore"), "x.yaml\n").unwrap();
        assert!(f.take().is_none());
        let f = Fixture::new();
        std::fs::write(f.root.join("a/y.yaml"), "a: 1\n").unwrap();
        assert!(f.take().is_none());
    }

    #[test]
    fn a_path_under_the_root_is_the_one_join_gives() {
        for root in ["/", "/r", "/r/s", "/r/s/"] {
            let root = Path::new(root);
            assert_eq!(super::under(root, b""), Some(root.to_path_buf()));
            for rel in ["x.yaml", "a/x.yaml", "a/b/c d/é.yaml"] {
                assert_eq!(
                    super::under(root, rel.as_bytes()),
                    Some(root.join(rel)),
                    "{root:?} {rel}"
                );
            }
            for bad in ["../x.yaml", "/x.yaml", "a//x.yaml", "./x.yaml", "a/.", "a/"] {
                assert_eq!(super::under(root, bad.as_bytes()), None, "{root:?} {bad}");
            }
        }
    }

    #[test]
    fn a_listing_kept_within_the_racy_window_of_its_inputs_is_not_taken() {
        let f = Fixture::new();
        f.write(|r| r.started = super::super::now_ns());
        assert!(f.take().is_none());
        // A time that would overflow the window's arithmetic is a miss too.
        f.write(|r| r.started = i64::MIN);
        assert!(f.take().is_none());
    }

    #[test]
    fn a_crafted_listing_never_names_a_path_outside_its_root_nor_lacks_the_root() {
        let f = Fixture::new();
        for bad in ["../x.yaml", "/etc/x.yaml", "a//x.yaml", "./a/x.yaml", ""] {
            f.write(|r| r.files = vec![("a/x.yaml", bad.as_bytes(), true)]);
            assert!(f.take().is_none(), "{bad:?}");
            f.write(|r| r.files = vec![(bad, bad.as_bytes(), true)]);
            assert!(f.take().is_none(), "{bad:?}");
            f.write(|r| r.dirs[1].0 = bad.as_bytes());
            assert!(f.take().is_none(), "{bad:?}");
            f.write(|r| r.inputs[0].0 = bad.as_bytes());
            assert!(f.take().is_none(), "{bad:?}");
        }
        f.write(|r| r.dirs.clear());
        assert!(f.take().is_none(), "no directory");
        f.write(|r| {
            r.dirs.remove(0);
        });
        assert!(f.take().is_none(), "the root missing");
        f.write(|r| r.dirs.swap(0, 1));
        assert!(f.take().is_none(), "the root not first");
        // Every damaged byte is a miss (the checksum), never a panic; so is
        // every cut.
        f.write(|_| {});
        let good = std::fs::read(f.cache.join(FILE_NAME)).unwrap();
        assert!(f.take().is_some());
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x5a;
            std::fs::write(f.cache.join(FILE_NAME), &bad).unwrap();
            assert!(f.take().is_none(), "byte {i}");
            std::fs::write(f.cache.join(FILE_NAME), &good[..i]).unwrap();
            assert!(f.take().is_none(), "cut at {i}");
        }
    }
}
