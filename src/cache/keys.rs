//! The stat keys of the listed files.

use std::path::Path;

use rayon::prelude::*;

use super::codec::Key;
use crate::walk::{self, Listed};

/// The key of each of `listed` (files under `root`), in order.
///
/// On Linux a file is looked up by its path relative to the open root, not
/// from `/`: a stat walks every component of the path it is given, and the
/// root's own are the same for every file. Anything unexpected falls back to
/// the stat of the whole path.
pub fn keys(root: &Path, listed: &[&Listed]) -> Vec<Option<Key>> {
    let at = RootDir::open(root);
    listed
        .par_iter()
        .with_min_len(64)
        .map(|l| at.key(root, &l.path))
        .collect()
}

/// The key of a regular file within the size limit (links followed, as the
/// walk reads them); `None` for anything else, which is then read as usual.
pub fn key_of(path: &Path) -> Option<Key> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > walk::MAX_FILE_BYTES {
        return None;
    }
    Some(key_of_meta(&meta))
}

/// The key of what `meta` describes (a file or a directory).
pub fn key_of_meta(meta: &std::fs::Metadata) -> Key {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Key {
            size: meta.len(),
            mtime_ns: meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec()),
            ctime_ns: meta
                .ctime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.ctime_nsec()),
            ino: meta.ino(),
        }
    }
    #[cfg(not(unix))]
    {
        // Without a modification time, a key that matches nothing later.
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(i64::MAX, |d| d.as_nanos() as i64);
        Key {
            size: meta.len(),
            mtime_ns: mtime,
            ctime_ns: mtime,
            ino: 0,
        }
    }
}

/// The key of the directory `path` (links followed), as a listing records it.
fn dir_key_of(path: &Path) -> Option<Key> {
    let meta = std::fs::metadata(path).ok()?;
    meta.is_dir().then(|| key_of_meta(&meta))
}

#[cfg(target_os = "linux")]
pub struct RootDir(Option<rustix::fd::OwnedFd>);

#[cfg(target_os = "linux")]
impl RootDir {
    pub fn open(root: &Path) -> RootDir {
        use rustix::fs::OFlags;
        RootDir(
            rustix::fs::open(
                root,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .ok(),
        )
    }

    /// The key of `path`, as `key_of` gives it.
    fn key(&self, root: &Path, path: &Path) -> Option<Key> {
        let Some(st) = self.statx(root, path) else {
            return key_of(path);
        };
        let kind = rustix::fs::FileType::from_raw_mode(st.stx_mode.into());
        if kind != rustix::fs::FileType::RegularFile || st.stx_size > walk::MAX_FILE_BYTES {
            return None;
        }
        Some(key_of_statx(&st))
    }

    /// The key of the directory `path` under `root`, as `dir_key_of` gives it.
    pub fn dir_key(&self, root: &Path, path: &Path) -> Option<Key> {
        let Some(st) = self.statx(root, path) else {
            return dir_key_of(path);
        };
        let kind = rustix::fs::FileType::from_raw_mode(st.stx_mode.into());
        if kind != rustix::fs::FileType::Directory {
            return None;
        }
        Some(key_of_statx(&st))
    }

    /// `statx` of `path` (links followed) relative to the root; `None` when
    /// that cannot be done or fails: the caller asks again by the whole path.
    fn statx(&self, root: &Path, path: &Path) -> Option<rustix::fs::Statx> {
        let rel = path
            .as_os_str()
            .as_encoded_bytes()
            .strip_prefix(root.as_os_str().as_encoded_bytes())?
            .strip_prefix(b"/")?;
        if rel.is_empty() || rel.starts_with(b"/") {
            return None;
        }
        rustix::fs::statx(
            self.0.as_ref()?,
            rel,
            rustix::fs::AtFlags::empty(),
            rustix::fs::StatxFlags::BASIC_STATS,
        )
        .ok()
    }
}

#[cfg(target_os = "linux")]
fn key_of_statx(st: &rustix::fs::Statx) -> Key {
    let ns = |t: rustix::fs::StatxTimestamp| {
        t.tv_sec
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(t.tv_nsec))
    };
    Key {
        size: st.stx_size,
        mtime_ns: ns(st.stx_mtime),
        ctime_ns: ns(st.stx_ctime),
        ino: st.stx_ino,
    }
}

#[cfg(not(target_os = "linux"))]
pub struct RootDir;

#[cfg(not(target_os = "linux"))]
impl RootDir {
    pub fn open(_: &Path) -> RootDir {
        RootDir
    }
    fn key(&self, _: &Path, path: &Path) -> Option<Key> {
        key_of(path)
    }
    pub fn dir_key(&self, _: &Path, path: &Path) -> Option<Key> {
        dir_key_of(path)
    }
}
