//! Lookups of files and directories by path that keep no copy of the paths:
//! a path is found by its hash, and the file it points into tells whether it
//! is the path asked for.

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};

use crate::source::SourceFile;

/// Paths that are each a prefix of a file's path (the file's own path, or a
/// directory above it), each with a value.
#[derive(Default)]
pub(super) struct PathMap {
    /// By hash: the file whose path starts with the path, the path's length,
    /// and its value.
    by_hash: HashMap<u64, (u32, u32, usize)>,
    /// Paths whose hash another path has already (rare).
    collided: HashMap<String, usize>,
}

fn hash(path: &str) -> u64 {
    FxBuildHasher.hash_one(path)
}

impl PathMap {
    pub(super) fn with_capacity(n: usize) -> Self {
        PathMap {
            by_hash: HashMap::with_capacity_and_hasher(n, Default::default()),
            collided: HashMap::default(),
        }
    }

    /// Adds `files[file].path[..len]` with a value (a path there already
    /// takes the new value).
    pub(super) fn insert(&mut self, files: &[SourceFile], file: usize, len: usize, value: usize) {
        let path = &files[file].path[..len];
        match self.by_hash.entry(hash(path)) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert((file as u32, len as u32, value));
            }
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let &(f, l, _) = e.get();
                if &files[f as usize].path[..l as usize] == path {
                    e.get_mut().2 = value;
                } else {
                    self.collided.insert(path.to_string(), value);
                }
            }
        }
    }

    /// The value of a path.
    pub(super) fn get(&self, files: &[SourceFile], path: &str) -> Option<usize> {
        // `files` may have changed since (a model waiting to be built again).
        if let Some(&(f, l, value)) = self.by_hash.get(&hash(path))
            && files
                .get(f as usize)
                .and_then(|file| file.path.get(..l as usize))
                == Some(path)
        {
            return Some(value);
        }
        if self.collided.is_empty() {
            return None;
        }
        self.collided.get(path).copied()
    }

    pub(super) fn contains(&self, files: &[SourceFile], path: &str) -> bool {
        self.get(files, path).is_some()
    }

    /// Every path, in no order.
    pub(super) fn paths<'a>(&'a self, files: &'a [SourceFile]) -> impl Iterator<Item = &'a str> {
        self.by_hash
            .values()
            .filter_map(|&(f, l, _)| files.get(f as usize)?.path.get(..l as usize))
            .chain(self.collided.keys().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(paths: &[&str]) -> Vec<SourceFile> {
        paths
            .iter()
            .map(|p| SourceFile::from_bytes(p.to_string(), Vec::new()))
            .collect()
    }

    #[test]
    fn finds_paths_and_prefixes_only() {
        let files = files(&["a/b/c.yaml", "a/d.yaml"]);
        let mut m = PathMap::default();
        m.insert(&files, 0, 10, 0);
        m.insert(&files, 0, 3, 7);
        m.insert(&files, 1, 1, 9);
        // A path there already takes the new value.
        m.insert(&files, 1, 1, 10);
        assert_eq!(m.get(&files, "a/b/c.yaml"), Some(0));
        assert_eq!(m.get(&files, "a/b"), Some(7));
        assert_eq!(m.get(&files, "a"), Some(10));
        let mut paths: Vec<&str> = m.paths(&files).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["a", "a/b", "a/b/c.yaml"]);
        assert_eq!(m.get(&files, "a/d.yaml"), None);
        assert_eq!(m.get(&files, "a/b/c.yaml/x"), None);
    }

    #[test]
    fn paths_with_one_hash_are_told_apart() {
        let files = files(&["x", "y"]);
        let mut m = PathMap::default();
        // "x" stored under the hash of "y", as a collision leaves it.
        m.by_hash.insert(hash("y"), (0, 1, 1));
        m.insert(&files, 1, 1, 2);
        assert_eq!(m.get(&files, "y"), Some(2));
        assert_eq!(m.get(&files, "z"), None);
    }
}
