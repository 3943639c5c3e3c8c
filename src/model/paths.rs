//! Files and directories of the repository, and the paths a missing one
//! was probably meant to be ("did you mean").

use std::hash::Hasher;

use super::{Repository, closest, parent_dir};

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
/// paths it is with one segment removed. A lookup costs a binary search and
/// the few candidates it finds, whatever the size of the repository. Built
/// once, on first use, and shared by the rules that suggest paths.
#[derive(Default)]
pub(super) struct Suggest {
    /// Files and directories, sorted and without repeats, one after the other.
    text: String,
    /// Where each path lies in `text`; a path's id is its index here.
    paths: Vec<(u32, u32)>,
    /// (hash of the parent directory, path id), sorted.
    children: Vec<(u64, u32)>,
    /// (hash of the path with segment `i` left out, path id): "one segment differs".
    wild: Vec<(u64, u32)>,
    /// (hash of the path with segment `i` (not the last) removed, path id):
    /// "one directory too many".
    shorter: Vec<(u64, u32)>,
}

impl Suggest {
    fn path(&self, id: u32) -> &str {
        let (start, len) = self.paths[id as usize];
        &self.text[start as usize..(start + len) as usize]
    }
}

/// Hashes the segments of a path, with segment `skip` left out; `hole`
/// marks where it was (a path with one segment replaced) or not (removed).
fn hash_segments<'a>(segs: impl Iterator<Item = &'a str>, skip: Option<usize>, hole: bool) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    for (i, s) in segs.enumerate() {
        if Some(i) == skip {
            if hole {
                h.write_u8(1);
            }
            continue;
        }
        h.write(s.as_bytes());
        h.write_u8(0);
    }
    h.finish()
}

/// The ids stored under `key` in a sorted list of (key, id), in id order.
fn lookup(list: &[(u64, u32)], key: u64) -> impl Iterator<Item = u32> + '_ {
    let start = list.partition_point(|&(k, _)| k < key);
    list[start..]
        .iter()
        .take_while(move |&&(k, _)| k == key)
        .map(|&(_, id)| id)
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
        let mut sorted: Vec<&str> = repo.files.iter().map(|f| f.path.as_str()).collect();
        sorted.extend(
            repo.dirs
                .iter()
                .map(String::as_str)
                .filter(|d| !d.is_empty()),
        );
        sorted.sort_unstable();
        sorted.dedup();
        let mut text = String::with_capacity(sorted.iter().map(|p| p.len()).sum());
        let mut paths = Vec::with_capacity(sorted.len());
        for p in &sorted {
            paths.push((text.len() as u32, p.len() as u32));
            text.push_str(p);
        }
        let (mut children, mut wild, mut shorter) = (Vec::new(), Vec::new(), Vec::new());
        children.reserve(sorted.len());
        for (id, p) in sorted.iter().enumerate() {
            let id = id as u32;
            children.push((hash_segments(parent_dir(p).split('/'), None, false), id));
            let n = p.split('/').count();
            for i in 0..n {
                wild.push((hash_segments(p.split('/'), Some(i), true), id));
                if i + 1 < n {
                    shorter.push((hash_segments(p.split('/'), Some(i), false), id));
                }
            }
        }
        children.sort_unstable();
        wild.sort_unstable();
        shorter.sort_unstable();
        Suggest {
            text,
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
        let siblings = lookup(&s.children, hash_segments(parent.split('/'), None, false))
            .map(|id| s.path(id))
            .filter(|p| parent_dir(p) == parent);
        if let Some(c) = closest(wanted, siblings.filter(|p| fits(p))) {
            return Some(c.to_string());
        }
        let mut near: Option<(usize, &str)> = None;
        let mut far: Vec<&str> = Vec::new();
        for i in 0..n {
            let key = hash_segments(segs.iter().copied(), Some(i), true);
            for id in lookup(&s.wild, key) {
                let c = s.path(id);
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
        let key = hash_segments(segs.iter().copied(), None, false);
        if let Some(c) = lookup(&s.shorter, key)
            .map(|id| s.path(id))
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
    use super::{PathIndex, parent_dir, relative};
    use crate::model::{ModelSettings, Repository, closest};
    use crate::source::SourceFile;

    #[test]
    fn relative_paths_keep_the_written_style() {
        assert_eq!(relative("a/b", "a/b/c.yaml", "./x.yaml"), "./c.yaml");
        assert_eq!(relative("a/b", "a/b/c.yaml", "x.yaml"), "c.yaml");
        assert_eq!(relative("a/b", "a/c/d", "./x"), "../c/d");
        assert_eq!(relative("", "a", "./x"), "./a");
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
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
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
}
