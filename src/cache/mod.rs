//! The persistent cache: the text and parsed tree of every YAML file, kept
//! between runs so that a run reads and parses only the files that changed.
//!
//! Every file is looked at (`stat`) on every run: the cross-file rules need
//! the whole repository. The listing itself is kept too, and taken again
//! while no directory or ignore file it depends on changed (see `listing`);
//! otherwise the root is walked. A file whose size, modification time,
//! change time and inode are those its entry records is taken from the
//! entry. When either
//! time falls within two seconds of the run that wrote the entry, the file
//! could have changed again within the clock's resolution, so it is read and
//! its content hash compared (as git does for "racily clean" files). An entry
//! so verified whose file's times are by then older than that window is written
//! again with the new run's time, and later runs take it without reading.
//!
//! Layout: `<dir>/v<FORMAT>-<version>/<root hash>/files-<NN>.bin`, one shard
//! per slice of the paths, and `listing.bin` beside them, each written whole
//! to a temporary file and then renamed, so that a run never reads a
//! half-written shard and concurrent
//! runs each leave a complete one. A shard records the binary that wrote it
//! (its size and modification time): another build reads nothing from it.
//! Every entry carries a checksum; a shard that fails to read, a bad
//! checksum or an entry that breaks the tree's invariants is a miss.
//! Only the shards where something changed are written.

mod codec;
mod keys;
mod listing;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::sync::Arc;

use crate::shared::Buffer;
use crate::source::SourceFile;
use crate::walk::{self, Listed, WalkOptions, Walked};
use codec::{Key, Reader, Writer};

/// The cache's directory at the root of a repository (the default place).
pub const DIR_NAME: &str = ".gitops-lint-cache";

/// Where a run keeps its cache.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Location {
    /// No cache: every file is read and parsed, nothing is written.
    #[default]
    Off,
    /// `.gitops-lint-cache/` at the repository root.
    AtRoot,
    /// This directory (shared by roots: each has its own part of it).
    Dir(PathBuf),
}

impl Location {
    /// The cache directory for `root`, if any.
    pub fn dir(&self, root: &Path) -> Option<PathBuf> {
        match self {
            Location::Off => None,
            Location::AtRoot => Some(root.join(DIR_NAME)),
            Location::Dir(d) => Some(d.clone()),
        }
    }
}

/// Bumped whenever the bytes of an entry change meaning.
const FORMAT: u32 = 6;
const MAGIC: &[u8; 8] = b"GLCACHE\0";
const SHARDS: usize = 64;
/// Files changed this close to the run that read them are verified by content.
const RACY_NS: i64 = 2_000_000_000;

/// What one run did with the cache (shown with `GITOPS_LINT_TIMING`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Files taken from their entry without being read.
    pub reused: usize,
    /// Files read to compare their content hash, then taken from their entry.
    pub verified: usize,
    /// Files read and parsed.
    pub parsed: usize,
    /// Shards written.
    pub written: usize,
    /// The listing kept by an earlier run was taken again: the number of
    /// directories found unchanged (`None`: the root was walked).
    pub listing: Option<usize>,
}

/// A file of a shard and the hash of its content; `None` until resolved.
type Resolved = Option<(SourceFile, u64)>;

pub struct Cache {
    /// The directory of this root's shards.
    dir: PathBuf,
    binary: (u64, u64),
}

impl Cache {
    /// The cache of `root` (canonical) under `base`, created if need be;
    /// `None` when it cannot be (a read-only checkout, say): the run goes on
    /// without it.
    pub fn open(base: &Path, root: &Path) -> Option<Cache> {
        let binary = binary_stamp()?;
        let version = format!("v{FORMAT}-{}", env!("CARGO_PKG_VERSION"));
        let root_hash = codec::hash(root.as_os_str().as_encoded_bytes());
        let dir = base.join(version).join(format!("{root_hash:016x}"));
        std::fs::create_dir_all(&dir).ok()?;
        // As other tools' caches do: ignored by git, skipped by backup tools.
        let ignore = base.join(".gitignore");
        if !ignore.exists() {
            let _ = std::fs::write(&ignore, "# Written by gitops-lint.\n*\n");
        }
        let tag = base.join("CACHEDIR.TAG");
        if !tag.exists() {
            let _ = std::fs::write(
                &tag,
                "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by gitops-lint.\n",
            );
        }
        Some(Cache { dir, binary })
    }

    /// The files of `root`, as `walk::walk` gives them (same order, same
    /// content), each from its entry where the file is unchanged.
    ///
    /// `excludes` are the configuration's exclude patterns (already in
    /// `opts`), which decide the listing.
    pub fn walk(
        &self,
        root: &Path,
        opts: &WalkOptions,
        excludes: &[String],
    ) -> (Vec<SourceFile>, Stats) {
        let started = now_ns();
        let excludes = listing::excludes_hash(excludes);
        // What lies outside the root is stamped before anything is read.
        let outer = listing::outer(root).filter(|_| listing::KEPT);
        let taken = outer
            .as_ref()
            .and_then(|outer| listing::take(&self.dir, root, self.binary, excludes, outer));
        let (listed, taken) = match (taken, &outer) {
            (Some((listed, dirs)), _) => (listed, Some(dirs)),
            (None, Some(outer)) => {
                let (listed, seen) = walk::list_seen(root, opts, listing::stamper(root));
                if let Some(seen) = seen {
                    listing::keep(
                        &self.dir,
                        root,
                        self.binary,
                        excludes,
                        started,
                        outer,
                        &listed,
                        &seen,
                    );
                }
                (listed, None)
            }
            // With the buffers in place already, which `with_buffers` leaves.
            (None, None) => (walk::list(root, opts), None),
        };
        let walked = walk::with_buffers(listed, opts.overrides);
        let (indices, listed): (Vec<usize>, Vec<&Listed>) = walked
            .iter()
            .enumerate()
            .filter_map(|(i, w)| match w {
                Walked::Listed(l) => Some((i, l)),
                Walked::File(_) => None,
            })
            .unzip();
        let mut keys = keys::keys(root, &listed).into_iter();
        // The listed files of each shard with their keys, by their index in
        // `walked`, in its order.
        let mut shards: Vec<Vec<(usize, Option<Key>)>> = vec![Vec::new(); SHARDS];
        for (i, l) in indices.into_iter().zip(&listed) {
            shards[shard_of(&l.rel)].push((i, keys.next().flatten()));
        }
        drop(listed);
        let done: Vec<(Vec<Resolved>, Stats)> = shards
            .par_iter()
            .enumerate()
            .map(|(s, members)| {
                let (listed, keys): (Vec<&Listed>, Vec<Option<Key>>) = members
                    .iter()
                    .map(|&(i, key)| match &walked[i] {
                        Walked::Listed(l) => (l, key),
                        Walked::File(_) => unreachable!("only listed files are in a shard"),
                    })
                    .unzip();
                self.shard(s, &listed, keys, opts, started)
            })
            .collect();
        let mut stats = Stats {
            listing: taken,
            ..Stats::default()
        };
        let mut resolved = Vec::with_capacity(SHARDS);
        for (files, s) in done {
            stats.reused += s.reused;
            stats.verified += s.verified;
            stats.parsed += s.parsed;
            stats.written += s.written;
            resolved.push(files.into_iter());
        }
        // Each shard gives its files in the order of the walk.
        let files = walked
            .into_iter()
            .map(|w| match w {
                Walked::File(f) => *f,
                Walked::Listed(l) => {
                    let resolved = resolved[shard_of(&l.rel)].next().flatten();
                    resolved.expect("every listed file was resolved").0
                }
            })
            .collect();
        (files, stats)
    }

    fn shard_path(&self, s: usize) -> PathBuf {
        self.dir.join(format!("files-{s:02x}.bin"))
    }

    /// The files of one shard with their content hashes, in the order of
    /// `listed`, every one `Some`; writes the shard again when anything in it
    /// changed.
    fn shard(
        &self,
        s: usize,
        listed: &[&Listed],
        keys: Vec<Option<Key>>,
        opts: &WalkOptions,
        started: i64,
    ) -> (Vec<Resolved>, Stats) {
        let mut stats = Stats::default();
        let wanted: FxHashMap<&str, usize> = listed
            .iter()
            .enumerate()
            .map(|(i, l)| (l.rel.as_str(), i))
            .collect();
        let mut found: Vec<Resolved> = (0..listed.len()).map(|_| None).collect();
        // Entries of buffers an editor replaces are kept as they are.
        let mut kept: Vec<Vec<u8>> = Vec::new();
        // Mapped (or read) once; the files taken from it share its bytes.
        // SAFETY: shards are written only whole, to a new file renamed over
        // the old one (`write_whole`), never in place; the directory is this
        // cache's own, which the README asks not to edit in place while a run
        // reads it.
        let old = unsafe { Buffer::open(&self.shard_path(s)) }
            .ok()
            .map(Arc::new);
        let mut dirty = old.is_none() && !listed.is_empty();
        match old
            .as_ref()
            .and_then(|b| self.entries(b.bytes()).map(|e| (b, e)))
        {
            None => dirty |= old.is_some(),
            Some((buf, (written_at, entries))) => {
                for next in entries {
                    let Some(entry) = next else {
                        dirty = true; // a damaged entry ends the shard
                        break;
                    };
                    let mut r = Reader::new(entry);
                    let Some(head) = codec::head(&mut r) else {
                        dirty = true;
                        break;
                    };
                    let since = written_at.saturating_sub(RACY_NS);
                    let racy = head.key.mtime_ns >= since || head.key.ctime_ns >= since;
                    let Some(&i) = wanted.get(head.path) else {
                        // A racy entry is not kept: the shard written again
                        // would carry it under this run's time, trusted
                        // without its file ever being compared.
                        if opts.overrides.contains_key(head.path) && !racy {
                            kept.push(entry.to_vec());
                        } else {
                            dirty = true; // removed, renamed, now excluded, or racy
                        }
                        continue;
                    };
                    if found[i].is_some() || keys[i] != Some(head.key) {
                        dirty = true;
                        continue;
                    }
                    if racy {
                        // Read again; the entry stands if the content is the same.
                        let file = walk::read_one(
                            &listed[i].path,
                            listed[i].rel.clone(),
                            opts.overrides,
                            listed[i].listed_regular,
                        );
                        if codec::cacheable(&file)
                            && codec::hash(file.text().as_bytes()) == head.hash
                        {
                            match codec::body(&mut r, buf, head.path) {
                                Some(cached) => {
                                    stats.verified += 1;
                                    found[i] = Some((cached, head.hash));
                                    // Written again with this run's time, the
                                    // entry is no longer racy: without that, a
                                    // shard written right after a checkout
                                    // would have every run read its files.
                                    let since = started.saturating_sub(RACY_NS);
                                    dirty |= head.key.mtime_ns < since && head.key.ctime_ns < since;
                                }
                                None => {
                                    dirty = true;
                                    stats.parsed += 1;
                                    found[i] = Some((file, head.hash));
                                }
                            }
                        } else {
                            dirty = true;
                            stats.parsed += 1;
                            let hash = codec::hash(file.text().as_bytes());
                            found[i] = Some((file, hash));
                        }
                        continue;
                    }
                    match codec::body(&mut r, buf, head.path) {
                        Some(cached) => {
                            stats.reused += 1;
                            found[i] = Some((cached, head.hash));
                        }
                        None => dirty = true,
                    }
                }
            }
        }
        for (f, l) in found.iter_mut().zip(listed) {
            if f.is_none() {
                dirty = true;
                stats.parsed += 1;
                let file = walk::read_one(&l.path, l.rel.clone(), opts.overrides, l.listed_regular);
                let hash = codec::hash(file.text().as_bytes());
                *f = Some((file, hash));
            }
        }
        if dirty && self.write(s, &found, &keys, &kept, started) {
            stats.written += 1;
        }
        (found, stats)
    }

    /// The time the shard's run began and its entries (`None` for a damaged
    /// one), or `None` when the shard is not one this binary wrote.
    fn entries<'a>(
        &self,
        bytes: &'a [u8],
    ) -> Option<(i64, impl Iterator<Item = Option<&'a [u8]>> + 'a)> {
        let mut r = Reader::new(bytes);
        if r.take(MAGIC.len())? != MAGIC
            || r.u32()? != FORMAT
            || (r.u64()?, r.u64()?) != self.binary
        {
            return None;
        }
        let written_at = r.u64()? as i64;
        let mut done = false;
        let entries = std::iter::from_fn(move || {
            if done || r.at_end() {
                return None;
            }
            let entry = r
                .u32()
                .and_then(|n| r.take(n as usize))
                .zip(r.u64())
                .filter(|(e, sum)| codec::hash(e) == *sum)
                .map(|(e, _)| e);
            done = entry.is_none();
            Some(entry)
        });
        Some((written_at, entries))
    }

    /// Writes a shard whole, then renames it into place. Whether it was.
    fn write(
        &self,
        s: usize,
        files: &[Resolved],
        keys: &[Option<Key>],
        kept: &[Vec<u8>],
        started: i64,
    ) -> bool {
        let mut w = Writer::default();
        w.buf.reserve(
            64 + files
                .iter()
                .flatten()
                .map(|(f, _)| codec::size(f) + 12)
                .sum::<usize>()
                + kept.iter().map(|k| k.len() + 12).sum::<usize>(),
        );
        w.buf.extend_from_slice(MAGIC);
        w.u32(FORMAT);
        w.u64(self.binary.0);
        w.u64(self.binary.1);
        w.u64(started as u64);
        let mut entry = Writer::default();
        let put = |w: &mut Writer, bytes: &[u8]| {
            w.u32(bytes.len() as u32);
            w.buf.extend_from_slice(bytes);
            w.u64(codec::hash(bytes));
        };
        for (file, key) in files.iter().zip(keys) {
            let Some((file, hash)) = file else {
                continue;
            };
            let Some(key) = key.filter(|k| k.size == file.text().len() as u64) else {
                continue;
            };
            if !codec::cacheable(file) {
                continue;
            }
            entry.buf.clear();
            codec::encode(&mut entry, &key, *hash, file);
            put(&mut w, &entry.buf);
        }
        for bytes in kept {
            put(&mut w, bytes);
        }
        write_whole(&self.dir, &format!("files-{s:02x}.bin"), &w.buf)
    }
}

/// Writes `dir/name` whole to a temporary file, then renames it into place:
/// a run never reads half of it, and of concurrent runs the last rename
/// wins. Whether it was written.
fn write_whole(dir: &Path, name: &str, bytes: &[u8]) -> bool {
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), now_ns()));
    let ok = std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, dir.join(name)).is_ok();
    if !ok {
        let _ = std::fs::remove_file(&tmp);
    }
    ok
}

fn shard_of(rel: &str) -> usize {
    (codec::hash(rel.as_bytes()) % SHARDS as u64) as usize
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// The running binary's size and modification time: a cache written by
/// another build (another parser) is never read.
fn binary_stamp() -> Option<(u64, u64)> {
    let meta = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some((meta.len(), mtime.as_nanos() as u64))
}
