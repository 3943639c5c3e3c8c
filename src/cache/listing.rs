//! The listing of a root kept between runs: the YAML files the walk found,
//! with what decided them (every directory it entered, the ignore files it
//! read, the configuration's excludes).
//!
//! A run takes the listing again, instead of walking, when all of that is as
//! the listing records it: a file added, removed or renamed changes its
//! directory's modification time, and an ignore file edited in place changes
//! its own. As for files, a directory or ignore file whose times fall within
//! two seconds of the run that wrote the listing could have changed again
//! unseen, so the root is walked again. Anything the record cannot vouch for
//! (a symbolic link, which can lead elsewhere while every directory on the
//! way stays as it was; a `.git` that is a file, as in a worktree; a finding
//! of the walk) means no listing is kept, and every run walks.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::codec::{self, Key, Reader, Writer};
use super::keys::{self, RootDir};
use crate::walk::{Listed, Seen, Walked};

const MAGIC: &[u8; 8] = b"GLLIST\0\0";
/// Bumped whenever the bytes of a listing change meaning.
const FORMAT: u32 = 1;
const FILE_NAME: &str = "listing.bin";

/// What decides a listing besides the directories: the state of a file the
/// walker reads or looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    Absent,
    /// A directory: only that it is one matters (`.git`, whose own times
    /// change with every commit).
    Dir,
    File(Key),
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
        matches!(self, Stamp::File(k) if racy(k, written_at))
    }
}

fn racy(key: &Key, written_at: i64) -> bool {
    key.mtime_ns >= written_at - super::RACY_NS || key.ctime_ns >= written_at - super::RACY_NS
}

/// The files outside the walk that decide what it lists: the ignore files of
/// the root's parents (read by the walker too), the `.git` there (whose
/// `info/exclude` it reads), and the global git excludes file.
fn outer_inputs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in root.ancestors().skip(1) {
        for name in [".gitignore", ".ignore", ".git", ".git/info/exclude"] {
            out.push(dir.join(name));
        }
    }
    out.extend(ignore::gitignore::gitconfig_excludes_path());
    out
}

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

fn path_from(root: &Path, rel: &[u8]) -> Option<PathBuf> {
    if rel.is_empty() {
        return Some(root.to_path_buf());
    }
    Some(root.join(os_path(rel)?))
}

/// A hash of the configuration's exclude patterns.
pub fn excludes_hash(patterns: &[String]) -> u64 {
    let mut w = Writer::default();
    for p in patterns {
        w.u32(p.len() as u32);
        w.buf.extend_from_slice(p.as_bytes());
    }
    codec::hash(&w.buf)
}

/// The listing of `root` kept in `dir`, if every input is unchanged: the
/// files as the walk would list them (`Walked::Listed` only, sorted), and the
/// number of directories found unchanged.
pub fn take(
    dir: &Path,
    root: &Path,
    binary: (u64, u64),
    excludes: u64,
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
    // The inputs: outside the root, the same files as now (the same
    // parents, the same global excludes file); each as it was, and none
    // changed within the racy window.
    let outer = outer_inputs(root);
    if r.u32()? as usize != outer.len() {
        return None;
    }
    let n = r.u32()? as usize;
    if n < outer.len() {
        return None;
    }
    let mut inputs = Vec::with_capacity(n.min(body.len()));
    for i in 0..n {
        let path = os_path(r.bytes()?)?;
        if outer.get(i).is_some_and(|o| o != path) {
            return None;
        }
        inputs.push((path, read_stamp(&mut r)?));
    }
    let inputs_hold = inputs
        .par_iter()
        .all(|(p, s)| !s.racy(written_at) && Stamp::of(p) == Some(*s));
    if !inputs_hold {
        return None;
    }
    // The directories, each as it was.
    let n = r.u32()? as usize;
    let mut dirs = Vec::with_capacity(n.min(body.len() / 36));
    for _ in 0..n {
        let rel = r.bytes()?;
        dirs.push((path_from(root, rel)?, read_key(&mut r)?));
    }
    let at = RootDir::open(root);
    let dirs_hold = dirs
        .par_iter()
        .with_min_len(64)
        .all(|(path, key)| !racy(key, written_at) && at.dir_key(root, path) == Some(*key));
    if !dirs_hold {
        return None;
    }
    // The files.
    let n = r.u32()? as usize;
    let mut files = Vec::with_capacity(n.min(body.len() / 6));
    for _ in 0..n {
        let rel = std::str::from_utf8(r.bytes()?).ok()?;
        let flags = r.take(1)?[0];
        let raw = if flags & 2 != 0 {
            r.bytes()?
        } else {
            rel.as_bytes()
        };
        files.push(Walked::Listed(Listed {
            rel: rel.to_string(),
            path: path_from(root, raw)?,
            listed_regular: flags & 1 != 0,
        }));
    }
    r.at_end().then_some((files, dirs.len()))
}

fn read_key(r: &mut Reader) -> Option<Key> {
    Some(Key {
        size: r.u64()?,
        mtime_ns: r.u64()? as i64,
        ctime_ns: r.u64()? as i64,
        ino: r.u64()?,
    })
}

fn write_key(w: &mut Writer, k: &Key) {
    w.u64(k.size);
    w.u64(k.mtime_ns as u64);
    w.u64(k.ctime_ns as u64);
    w.u64(k.ino);
}

fn read_stamp(r: &mut Reader) -> Option<Stamp> {
    match r.take(1)?[0] {
        0 => Some(Stamp::Absent),
        1 => Some(Stamp::Dir),
        2 => Some(Stamp::File(read_key(r)?)),
        _ => None,
    }
}

/// Keeps the listing a walk of `root` begun at `started` gave (`Listed`
/// files only, sorted) with what it saw; nothing when something it saw
/// cannot be vouched for. Whether it was written.
pub fn keep(
    dir: &Path,
    root: &Path,
    binary: (u64, u64),
    excludes: u64,
    started: i64,
    listed: &[Walked],
    seen: &Seen,
) -> bool {
    let mut inputs = outer_inputs(root);
    let outer = inputs.len();
    inputs.extend(seen.inputs.iter().cloned());
    for git in &seen.git {
        inputs.push(git.clone());
        inputs.push(git.join("info/exclude"));
    }
    let stamps: Option<Vec<Stamp>> = inputs.par_iter().map(|p| Stamp::of(p)).collect();
    let Some(stamps) = stamps else {
        return false;
    };
    // A `.git` file points elsewhere (a worktree, a submodule): what it
    // leads to is not followed here.
    let points_elsewhere = inputs
        .iter()
        .zip(&stamps)
        .any(|(p, s)| p.file_name().is_some_and(|n| n == ".git") && matches!(s, Stamp::File(_)));
    if points_elsewhere {
        return false;
    }
    let at = RootDir::open(root);
    let dirs: Option<Vec<(&[u8], Key)>> = seen
        .dirs
        .par_iter()
        .with_min_len(64)
        .map(|d| Some((below(root, d)?, at.dir_key(root, d)?)))
        .collect();
    let Some(dirs) = dirs else {
        return false;
    };
    let mut w = Writer::default();
    w.buf.extend_from_slice(MAGIC);
    w.u32(FORMAT);
    w.u64(binary.0);
    w.u64(binary.1);
    w.u64(started as u64);
    w.u64(excludes);
    w.u32(outer as u32);
    w.u32(inputs.len() as u32);
    for (p, s) in inputs.iter().zip(&stamps) {
        w.bytes(p.as_os_str().as_encoded_bytes());
        match s {
            Stamp::Absent => w.buf.push(0),
            Stamp::Dir => w.buf.push(1),
            Stamp::File(k) => {
                w.buf.push(2);
                write_key(&mut w, k);
            }
        }
    }
    w.u32(dirs.len() as u32);
    for (rel, key) in &dirs {
        w.bytes(rel);
        write_key(&mut w, key);
    }
    w.u32(listed.len() as u32);
    for l in listed {
        let Walked::Listed(l) = l else {
            return false;
        };
        let Some(raw) = below(root, &l.path) else {
            return false;
        };
        w.bytes(l.rel.as_bytes());
        let same = raw == l.rel.as_bytes();
        w.buf
            .push(u8::from(l.listed_regular) | if same { 0 } else { 2 });
        if !same {
            w.bytes(raw);
        }
    }
    let sum = codec::hash(&w.buf);
    w.u64(sum);
    super::write_whole(dir, FILE_NAME, &w.buf)
}
