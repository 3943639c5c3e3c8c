//! Files and directories of the repository, and the paths a missing one
//! was probably meant to be ("did you mean").

use std::hash::Hasher;

use super::{Repository, closest, parent_dir};
use crate::source::SourceFile;

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// `target` written relative to `from_dir`, in the style of `written`
/// (a leading `./` is kept).
pub fn relative(from_dir: &str, target: &str, written: &str) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|s| !s.is_empty()).collect();
    let to: Vec<&str> = target.split('/').filter(|s| !s.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    let joined = parts.join("/");
    if written.starts_with("./") && !joined.starts_with("..") {
        format!("./{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// Files and directories of the repository, and (built on first use) the
/// indexes that find the path a missing one was probably meant to be.
pub struct PathIndex<'r> {
    repo: &'r Repository,
}

/// Every file and directory of the repository, sorted, with hashed keys that
/// find in one lookup the paths a missing path could have meant: the paths
/// in a directory, the paths that differ from it in one segment, and the
/// paths it is with one segment removed. A lookup costs one bucket and the
/// few candidates it holds, whatever the size of the repository. Built once,
/// on first use, and shared by the rules that suggest paths.
#[derive(Default)]
pub(super) struct Suggest {
    /// Files and directories, sorted and without repeats, each as the start
    /// of a file's path (`files[file].path[..len]`, a directory being the
    /// start of the path of a file under it): no path is copied. A path's
    /// id is its index here.
    paths: Vec<(u32, u32)>,
    /// Keyed by the parent directory.
    children: Table,
    /// Keyed by the path with segment `i` left out: "one segment differs".
    wild: Table,
    /// Keyed by the path with segment `i` (not the last) removed: "one
    /// directory too many".
    shorter: Table,
}

impl Suggest {
    fn path<'f>(&self, files: &'f [SourceFile], id: u32) -> &'f str {
        let (file, len) = self.paths[id as usize];
        &files[file as usize].path[..len as usize]
    }
}

/// (key, path id) pairs grouped by the top bits of the key: a bucket holds
/// its pairs in the order they were added (path id order). Of each key only
/// its low half is kept, to tell apart the keys a bucket mixes: keys only
/// pick candidates, and every candidate is compared in full.
#[derive(Default)]
struct Table {
    /// Where each bucket starts in `keys`/`ids`; one more than the buckets.
    starts: Vec<u32>,
    keys: Vec<u32>,
    ids: Vec<u32>,
    bits: u32,
}

impl Table {
    /// Groups `pairs` by bucket, keeping their order within each.
    #[cfg(test)]
    fn new(pairs: &[(u64, u32)]) -> Self {
        Table::build(pairs.len(), |emit| {
            for &(k, id) in pairs {
                emit(k, id);
            }
        })
    }

    /// Groups the `entries` pairs that `each` gives (the same ones at every
    /// call) by bucket, keeping their order within each: one pass counts, the
    /// next places, and no list of pairs is kept in between.
    fn build(entries: usize, each: impl Fn(&mut dyn FnMut(u64, u32))) -> Self {
        let bits = ((entries / 2).max(2).next_power_of_two().trailing_zeros()).min(31);
        let bucket = |k: u64| (k >> (64 - bits)) as usize;
        let mut starts = vec![0u32; (1 << bits) + 1];
        each(&mut |k, _| starts[bucket(k) + 1] += 1);
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        let total = starts[starts.len() - 1] as usize;
        let mut next = starts.clone();
        let (mut keys, mut ids) = (vec![0; total], vec![0; total]);
        each(&mut |k, id| {
            let at = &mut next[bucket(k)];
            keys[*at as usize] = k as u32;
            ids[*at as usize] = id;
            *at += 1;
        });
        Table {
            starts,
            keys,
            ids,
            bits,
        }
    }

    /// The ids stored under `key`, in the order they were added.
    fn lookup(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        let range = if self.starts.is_empty() {
            0..0
        } else {
            let b = (key >> (64 - self.bits)) as usize;
            self.starts[b] as usize..self.starts[b + 1] as usize
        };
        let low = key as u32;
        self.keys[range.clone()]
            .iter()
            .zip(&self.ids[range])
            .filter(move |&(&k, _)| k == low)
            .map(|(_, &id)| id)
    }
}

/// The hash of one path segment.
fn segment_hash(s: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// Stands for a segment left out in place (a path with one segment replaced).
const HOLE: u64 = 0x6a09_e667_f3bc_c908;

/// The base of the keys' polynomial (odd, so it has an inverse).
const BASE: u64 = 0x9e37_79b9_7f4a_7c15;
/// `BASE`'s inverse modulo 2^64: the keys of a path with one segment
/// removed are then found from the sums of its prefixes.
const BASE_INV: u64 = {
    let mut inv = BASE;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(BASE.wrapping_mul(inv)));
        i += 1;
    }
    inv
};

/// A key from the sum of its segments' hashes times powers of `BASE`, and
/// how many segments it has.
fn finish(sum: u64, len: usize) -> u64 {
    let mut h = sum ^ (len as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    // Spread every bit to the top ones, which pick the bucket.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The key of a path from its segments' hashes, with segment `skip` left
/// out; `hole` marks where it was (a path with one segment replaced) or not
/// (removed). Keys only pick candidates: every candidate is compared in full.
fn key(segs: &[u64], skip: Option<usize>, hole: bool) -> u64 {
    let (mut sum, mut power, mut len) = (0u64, 1u64, 0);
    for (i, &s) in segs.iter().enumerate() {
        let t = if Some(i) == skip {
            if !hole {
                continue;
            }
            HOLE
        } else {
            s
        };
        sum = sum.wrapping_add(t.wrapping_mul(power));
        power = power.wrapping_mul(BASE);
        len += 1;
    }
    finish(sum, len)
}

/// `key(segs, Some(i), true)` for every segment `i`, in order, in one pass.
fn wild_keys(segs: &[u64], mut emit: impl FnMut(u64)) {
    let whole = segs
        .iter()
        .rev()
        .fold(0u64, |acc, &t| acc.wrapping_mul(BASE).wrapping_add(t));
    let mut power = 1u64;
    for &t in segs {
        let sum = whole
            .wrapping_sub(t.wrapping_mul(power))
            .wrapping_add(HOLE.wrapping_mul(power));
        emit(finish(sum, segs.len()));
        power = power.wrapping_mul(BASE);
    }
}

/// `key(segs, Some(i), false)` for every segment `i` but the last, in order,
/// in one pass.
fn shorter_keys(segs: &[u64], mut emit: impl FnMut(u64)) {
    let whole = segs
        .iter()
        .rev()
        .fold(0u64, |acc, &t| acc.wrapping_mul(BASE).wrapping_add(t));
    let (mut before, mut power) = (0u64, 1u64);
    for &t in &segs[..segs.len().saturating_sub(1)] {
        let through = before.wrapping_add(t.wrapping_mul(power));
        let after = whole.wrapping_sub(through).wrapping_mul(BASE_INV);
        emit(finish(before.wrapping_add(after), segs.len() - 1));
        (before, power) = (through, power.wrapping_mul(BASE));
    }
}

/// The hashes of a path's segments.
fn segment_hashes(path: &str, out: &mut Vec<u64>) {
    out.clear();
    out.extend(path.split('/').map(segment_hash));
}

/// The key of a path's parent directory, from the path's segments' hashes.
fn parent_key(segs: &[u64]) -> u64 {
    if segs.len() > 1 {
        key(&segs[..segs.len() - 1], None, false)
    } else {
        key(&[segment_hash("")], None, false)
    }
}

/// Whether `a` and `b` (as segments) are the same except at segment `i`.
fn same_but(a: &[&str], b: &str, i: usize) -> bool {
    let mut n = 0;
    for (j, s) in b.split('/').enumerate() {
        if j >= a.len() || (j != i && a[j] != s) {
            return false;
        }
        n += 1;
    }
    n == a.len()
}

impl Suggest {
    fn new(repo: &Repository) -> Self {
        let files = &repo.files[..];
        let at = |&(f, len): &(u32, u32)| &files[f as usize].path[..len as usize];
        // Files come sorted by path; only the directories need sorting.
        let mut by_path: Vec<(u32, u32)> = (0..files.len() as u32)
            .map(|f| (f, files[f as usize].path.len() as u32))
            .collect();
        if !by_path.is_sorted_by(|a, b| at(a) <= at(b)) {
            by_path.sort_unstable_by(|a, b| at(a).cmp(at(b)));
        }
        // Every directory that holds a file, once: in path order, the files
        // under a directory come one after the other, so a file's
        // directories not shared with the file before it are new.
        let mut dirs: Vec<(u32, u32)> = Vec::new();
        let mut last = "";
        for &(f, len) in &by_path {
            let path = &files[f as usize].path[..len as usize];
            let common = path
                .bytes()
                .zip(last.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            // A directory of `path` (up to a `/` at `i`) is one of the file
            // before's when `i` is within what the two paths share.
            for (i, b) in path.bytes().enumerate().skip(common) {
                if b == b'/' && i > 0 {
                    dirs.push((f, i as u32));
                }
            }
            last = path;
        }
        dirs.sort_unstable_by(|a, b| at(a).cmp(at(b)));
        let mut paths: Vec<(u32, u32)> = Vec::with_capacity(by_path.len() + dirs.len());
        let (mut f, mut d) = (by_path.into_iter().peekable(), dirs.into_iter().peekable());
        loop {
            let next = match (f.peek(), d.peek()) {
                (Some(a), Some(b)) if at(a) <= at(b) => f.next(),
                (_, Some(_)) => d.next(),
                (Some(_), None) => f.next(),
                (None, None) => break,
            };
            if let Some(p) = next
                && paths.last().is_none_or(|l| at(l) != at(&p))
            {
                paths.push(p);
            }
        }
        // The hashes of every path's segments, one path after the other.
        let segments: usize = paths.iter().map(|p| at(p).matches('/').count() + 1).sum();
        let mut hashes = Vec::with_capacity(segments);
        let mut ends = Vec::with_capacity(paths.len());
        for p in &paths {
            hashes.extend(at(p).split('/').map(segment_hash));
            ends.push(hashes.len() as u32);
        }
        let each_path = |f: &mut dyn FnMut(u32, &[u64])| {
            let mut start = 0;
            for (id, &end) in ends.iter().enumerate() {
                f(id as u32, &hashes[start..end as usize]);
                start = end as usize;
            }
        };
        let children = Table::build(paths.len(), |emit| {
            each_path(&mut |id, segs| emit(parent_key(segs), id));
        });
        let wild = Table::build(hashes.len(), |emit| {
            each_path(&mut |id, segs| wild_keys(segs, |k| emit(k, id)));
        });
        let shorter = Table::build(hashes.len() - paths.len(), |emit| {
            each_path(&mut |id, segs| shorter_keys(segs, |k| emit(k, id)));
        });
        Suggest {
            paths,
            children,
            wild,
            shorter,
        }
    }
}

impl<'r> PathIndex<'r> {
    pub fn new(repo: &'r Repository) -> Self {
        PathIndex { repo }
    }

    pub fn is_file(&self, path: &str) -> bool {
        self.repo.file_id(path).is_some()
    }

    pub fn has_kustomization(&self, dir: &str) -> bool {
        let mut p = String::with_capacity(dir.len() + 20);
        KUSTOMIZATION_FILES.iter().any(|f| {
            p.clear();
            if !dir.is_empty() {
                p.push_str(dir);
                p.push('/');
            }
            p.push_str(f);
            self.is_file(&p)
        })
    }

    fn index(&self) -> &'r Suggest {
        self.repo.suggest.get_or_init(|| Suggest::new(self.repo))
    }

    /// The path `wanted` (which does not exist) was probably meant to be,
    /// among the paths `fits` accepts: a near name beside it, a near name one
    /// directory up the path, one directory too many or too few, or (when
    /// there is only one) the same path through another directory.
    pub fn suggest(&self, wanted: &str, fits: impl Fn(&str) -> bool) -> Option<String> {
        let s = self.index();
        let segs: Vec<&str> = wanted.split('/').collect();
        let n = segs.len();
        let parent = parent_dir(wanted);
        let mut hashes = Vec::with_capacity(n);
        segment_hashes(wanted, &mut hashes);
        let siblings = s
            .children
            .lookup(parent_key(&hashes))
            .map(|id| s.path(&self.repo.files, id))
            .filter(|p| parent_dir(p) == parent);
        if let Some(c) = closest(wanted, siblings.filter(|p| fits(p))) {
            return Some(c.to_string());
        }
        let mut near: Option<(usize, &str)> = None;
        let mut far: Vec<&str> = Vec::new();
        for i in 0..n {
            for id in s.wild.lookup(key(&hashes, Some(i), true)) {
                let c = s.path(&self.repo.files, id);
                if c == wanted || !same_but(&segs, c, i) || !fits(c) {
                    continue;
                }
                let other = c.split('/').nth(i).unwrap_or("");
                if closest(segs[i], [other]).is_some() {
                    let d = super::distance(segs[i], other);
                    if near.is_none_or(|(bd, _)| d < bd) {
                        near = Some((d, c));
                    }
                } else if i + 1 < n {
                    far.push(c);
                }
            }
        }
        if let Some((_, c)) = near {
            return Some(c.to_string());
        }
        for i in 0..n.saturating_sub(1) {
            let mut d = segs.clone();
            d.remove(i);
            let c = d.join("/");
            if (self.is_file(&c) || (!c.is_empty() && self.repo.is_dir(&c))) && fits(&c) {
                return Some(c);
            }
        }
        if let Some(c) = s
            .shorter
            .lookup(key(&hashes, None, false))
            .map(|id| s.path(&self.repo.files, id))
            .find(|c| removes_to(c, &segs) && fits(c))
        {
            return Some(c.to_string());
        }
        far.sort_unstable();
        far.dedup();
        match far[..] {
            [only] => Some(only.to_string()),
            _ => None,
        }
    }
}

/// Whether removing one segment of `path` (not its last) gives `segs`.
fn removes_to(path: &str, segs: &[&str]) -> bool {
    let p: Vec<&str> = path.split('/').collect();
    p.len() == segs.len() + 1
        && (0..segs.len()).any(|i| p[..i] == segs[..i] && p[i + 1..] == segs[i..])
}

#[cfg(test)]
mod tests {
    use super::{PathIndex, Suggest, Table, key, parent_dir, relative, shorter_keys, wild_keys};
    use crate::model::{ModelSettings, Repository, closest};
    use crate::source::SourceFile;

    #[test]
    fn relative_paths_keep_the_written_style() {
        assert_eq!(relative("a/b", "a/b/c.yaml", "./x.yaml"), "./c.yaml");
        assert_eq!(relative("a/b", "a/b/c.yaml", "x.yaml"), "c.yaml");
        assert_eq!(relative("a/b", "a/c/d", "./x"), "../c/d");
        assert_eq!(relative("", "a", "./x"), "./a");
    }

    #[test]
    fn keys_found_in_one_pass_are_the_keys_of_the_paths() {
        let mut rng = crate::testing::Rng::new(0x9e37_79b9_7f4a_7c15);
        for n in 0..9 {
            let segs: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
            let mut wild = Vec::new();
            wild_keys(&segs, |k| wild.push(k));
            let expected: Vec<u64> = (0..n).map(|i| key(&segs, Some(i), true)).collect();
            assert_eq!(wild, expected);
            let mut shorter = Vec::new();
            shorter_keys(&segs, |k| shorter.push(k));
            let expected: Vec<u64> = (0..n.saturating_sub(1))
                .map(|i| key(&segs, Some(i), false))
                .collect();
            assert_eq!(shorter, expected);
        }
        assert_ne!(key(&[1, 2], None, false), key(&[2, 1], None, false));
    }

    #[test]
    fn a_table_gives_the_ids_of_a_key_in_the_order_added() {
        // Keys that share their top bits share a bucket.
        let (a, b, c) = (7u64 << 60 | 1, 7u64 << 60 | 2, 1u64 << 60);
        let table = Table::new(&[(a, 4), (b, 5), (c, 6), (a, 2), (a, 9), (b, 1)]);
        let ids = |k| table.lookup(k).collect::<Vec<_>>();
        assert_eq!(ids(a), [4, 2, 9]);
        assert_eq!(ids(b), [5, 1]);
        assert_eq!(ids(c), [6]);
        assert!(ids(3).is_empty());
        assert_eq!(Table::default().lookup(a).count(), 0);
    }

    /// The suggestion the index finds, found instead by looking at every
    /// path of the repository in turn (what the index spares).
    fn by_scan(all: &[&str], wanted: &str, fits: &dyn Fn(&str) -> bool) -> Option<String> {
        let segs: Vec<&str> = wanted.split('/').collect();
        let n = segs.len();
        let siblings = all
            .iter()
            .copied()
            .filter(|p| parent_dir(p) == parent_dir(wanted));
        if let Some(c) = closest(wanted, siblings.filter(|p| fits(p))) {
            return Some(c.to_string());
        }
        let mut near: Option<(usize, &str)> = None;
        let mut far = Vec::new();
        for i in 0..n {
            for &c in all {
                let cs: Vec<&str> = c.split('/').collect();
                if cs.len() != n || (0..n).any(|j| j != i && cs[j] != segs[j]) {
                    continue;
                }
                if c == wanted || !fits(c) {
                    continue;
                }
                if closest(segs[i], [cs[i]]).is_some() {
                    let d = strsim::levenshtein(segs[i], cs[i]);
                    if near.is_none_or(|(bd, _)| d < bd) {
                        near = Some((d, c));
                    }
                } else if i + 1 < n {
                    far.push(c);
                }
            }
        }
        if let Some((_, c)) = near {
            return Some(c.to_string());
        }
        for i in 0..n.saturating_sub(1) {
            let mut d = segs.clone();
            d.remove(i);
            let c = d.join("/");
            if all.contains(&c.as_str()) && fits(&c) {
                return Some(c);
            }
        }
        let longer = all.iter().find(|c| {
            let cs: Vec<&str> = c.split('/').collect();
            cs.len() == n + 1
                && (0..n).any(|i| cs[..i] == segs[..i] && cs[i + 1..] == segs[i..])
                && fits(c)
        });
        if let Some(c) = longer {
            return Some(c.to_string());
        }
        far.sort_unstable();
        far.dedup();
        match far[..] {
            [only] => Some(only.to_string()),
            _ => None,
        }
    }

    #[test]
    fn the_index_finds_what_a_scan_of_every_path_finds() {
        const NAMES: [&str; 14] = [
            "apps",
            "app",
            "aps",
            "media",
            "medai",
            "plex",
            "flex",
            "base",
            "bases",
            "x",
            "kustomization.yaml",
            "ks.yaml",
            "helmrelease.yaml",
            "helmrelase.yaml",
        ];
        let mut rng = crate::testing::Rng::new(0x2545_f491_4f6c_dd1d);
        let mut next = move |n: usize| rng.below(n);
        let mut random_path = || {
            let depth = 1 + next(4);
            (0..depth)
                .map(|_| NAMES[next(NAMES.len())])
                .collect::<Vec<_>>()
                .join("/")
        };
        let mut files: Vec<String> = (0..150).map(|_| random_path()).collect();
        files.sort();
        files.dedup();
        // A file path that is also a directory of another file cannot exist.
        let dirs_of = |f: &str| {
            f.match_indices('/')
                .map(|(i, _)| f[..i].to_string())
                .collect::<Vec<_>>()
        };
        let dirs: Vec<String> = files.iter().flat_map(|f| dirs_of(f)).collect();
        files.retain(|f| !dirs.contains(f));
        let sources = files
            .iter()
            .map(|f| SourceFile::from_bytes(f.clone(), b"a: 1\n".to_vec()))
            .collect();
        let settings = ModelSettings::default();
        let repo = Repository::new("/repo".into(), sources, &settings);
        let mut all: Vec<&str> = files.iter().map(String::as_str).collect();
        all.extend(dirs.iter().map(String::as_str));
        all.sort_unstable();
        all.dedup();
        let index = PathIndex::new(&repo);
        let is_file = |p: &str| repo.file_id(p).is_some();
        let fits: [&dyn Fn(&str) -> bool; 3] = [&|_| true, &|p| repo.is_dir(p), &is_file];
        let (mut found, mut queries) = (0, 0);
        for _ in 0..400 {
            let wanted = random_path();
            for fits in fits {
                let expected = by_scan(&all, &wanted, fits);
                assert_eq!(index.suggest(&wanted, fits), expected, "{wanted}");
                found += usize::from(expected.is_some());
                queries += 1;
            }
        }
        // Both answers occur, so the comparison says something.
        assert!(
            found > queries / 10 && found < queries,
            "{found} of {queries}"
        );
    }

    #[test]
    fn the_index_holds_every_file_and_directory_once_in_order() {
        // Given out of order; `-` sorts before `/`, and `ä` after `z`.
        let files = [
            "b/c.yaml",
            "a/b/c.yaml",
            "a/b-x.yaml",
            "a.yaml",
            "a/b/d/e.yaml",
            "\u{e4}/b.yaml",
            "a/c/d.yaml",
            "a/b/d/f.yaml",
            "z.yaml",
        ];
        let sources = files
            .iter()
            .map(|f| SourceFile::from_bytes(f.to_string(), b"a: 1\n".to_vec()))
            .collect();
        let repo = Repository::new("/repo".into(), sources, &ModelSettings::default());
        let index = Suggest::new(&repo);
        let held: Vec<&str> = (0..index.paths.len() as u32)
            .map(|id| index.path(&repo.files, id))
            .collect();
        let mut expected: Vec<&str> = files.to_vec();
        expected.extend(["a", "a/b", "a/b/d", "a/c", "b", "\u{e4}"]);
        expected.sort_unstable();
        assert_eq!(held, expected);
    }
}
