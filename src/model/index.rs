//! Lookups of files and directories by path that keep no copy of the paths:
//! a path is found by its hash, and the file it points into tells whether it
//! is the path asked for.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::source::SourceFile;

/// Paths that are each a prefix of a file's path (the file's own path, or a
/// directory above it), each with a value.
#[derive(Default)]
pub(super) struct PathMap {
    /// By the path's hash: the file whose path starts with the path, the
    /// path's length, and its value (12 bytes a path).
    table: HashTable<Entry>,
}

#[derive(Clone, Copy)]
struct Entry {
    file: u32,
    len: u32,
    value: u32,
}

impl Entry {
    /// The path, if `files` still has it (a model waiting to be built again
    /// may hold files that changed since).
    fn path<'a>(&self, files: &'a [SourceFile]) -> Option<&'a str> {
        files.get(self.file as usize)?.path.get(..self.len as usize)
    }
}

fn hash(path: &str) -> u64 {
    FxBuildHasher.hash_one(path)
}

impl PathMap {
    pub(super) fn with_capacity(n: usize) -> Self {
        PathMap {
            table: HashTable::with_capacity(n),
        }
    }

    /// Adds `files[file].path[..len]` with a value (a path there already
    /// takes the new value).
    pub(super) fn insert(&mut self, files: &[SourceFile], file: usize, len: usize, value: usize) {
        let path = &files[file].path[..len];
        let entry = self.table.entry(
            hash(path),
            |e| e.path(files) == Some(path),
            |e| e.path(files).map_or(0, hash),
        );
        let new = Entry {
            file: file as u32,
            len: len as u32,
            value: value as u32,
        };
        match entry {
            hashbrown::hash_table::Entry::Occupied(mut e) => e.get_mut().value = new.value,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(new);
            }
        }
    }

    /// The value of a path.
    pub(super) fn get(&self, files: &[SourceFile], path: &str) -> Option<usize> {
        self.table
            .find(hash(path), |e| e.path(files) == Some(path))
            .map(|e| e.value as usize)
    }

    pub(super) fn contains(&self, files: &[SourceFile], path: &str) -> bool {
        self.get(files, path).is_some()
    }

    /// Every path, in no order.
    pub(super) fn paths<'a>(&'a self, files: &'a [SourceFile]) -> impl Iterator<Item = &'a str> {
        self.table.iter().filter_map(|e| e.path(files))
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
        let x = Entry {
            file: 0,
            len: 1,
            value: 1,
        };
        m.table.insert_unique(hash("y"), x, |_| hash("y"));
        assert_eq!(m.get(&files, "y"), None);
        m.insert(&files, 1, 1, 2);
        assert_eq!(m.get(&files, "y"), Some(2));
        assert_eq!(m.get(&files, "z"), None);
        assert_eq!(m.paths(&files).count(), 2);
    }
}
