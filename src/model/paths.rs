//! Files and directories of the repository, and the paths a missing one
//! was probably meant to be ("did you mean").

use super::{Repository, closest};
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

/// Files and directories of the repository, and the paths a missing one was
/// probably meant to be.
pub struct PathIndex<'r> {
    repo: &'r Repository,
}

/// The files in path order, where the names in a directory are found: the
/// files under a directory are one run of that order, found by binary
/// search, and each name in it is passed over in a few comparisons
/// (galloping to the end of what it holds). A suggestion costs the names in
/// the directories along the missing path, whatever the size of the
/// repository, and nothing is built for it beforehand but the names at the
/// root. Made on first use, and shared by the rules that suggest paths.
#[derive(Default)]
pub(super) struct Suggest {
    /// File ids in path order; `None` when the files are in path order
    /// already (as the walk gives them).
    order: Option<Vec<u32>>,
    /// The names at the root (see `names`), found once: every suggestion
    /// looks there.
    root: Vec<(u32, u32)>,
}

impl Suggest {
    fn new(repo: &Repository) -> Self {
        let files = &repo.files[..];
        let order = if files.is_sorted_by(|a, b| a.path <= b.path) {
            None
        } else {
            let mut order: Vec<u32> = (0..files.len() as u32).collect();
            order.sort_unstable_by(|&a, &b| files[a as usize].path.cmp(&files[b as usize].path));
            Some(order)
        };
        let mut s = Suggest {
            order,
            root: Vec::new(),
        };
        let mut root = Vec::new();
        s.names(files, "", &mut root);
        s.root = root;
        s
    }

    /// The file at position `k` of path order.
    fn file(&self, k: usize) -> usize {
        self.order.as_ref().map_or(k, |o| o[k] as usize)
    }

    fn at<'f>(&self, files: &'f [SourceFile], k: usize) -> &'f str {
        &files[self.file(k)].path
    }

    /// The first position from `from` on whose path does not start with
    /// `prefix`, when those from `from` that do come first (as under a
    /// directory in path order): a few steps forward, doubling, then a binary
    /// search within the last step.
    fn past(&self, files: &[SourceFile], from: usize, prefix: &str) -> usize {
        let n = files.len();
        let inside = |k: usize| self.at(files, k).starts_with(prefix);
        // `from..lo` is inside; `hi` is `n` or outside.
        let (mut lo, mut step) = (from, 1);
        let mut hi = loop {
            let probe = lo + step - 1;
            if probe >= n {
                break n;
            }
            if !inside(probe) {
                break probe;
            }
            lo = probe + 1;
            step *= 2;
        };
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if inside(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// What directory `dir` (`""`: the root) holds: each file in it and
    /// each directory in it that holds a file, once, as (file, length), the
    /// start of the path of a file (no path is copied), sorted by path.
    fn names(&self, files: &[SourceFile], dir: &str, out: &mut Vec<(u32, u32)>) {
        out.clear();
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let n = files.len();
        let mut k = if prefix.is_empty() {
            0
        } else {
            let (mut lo, mut hi) = (0, n);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if self.at(files, mid) < prefix.as_str() {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        while k < n {
            let path = self.at(files, k);
            let Some(rest) = path.strip_prefix(prefix.as_str()) else {
                break;
            };
            let file = self.file(k) as u32;
            match memchr::memchr(b'/', rest.as_bytes()) {
                None => {
                    out.push((file, path.len() as u32));
                    k += 1;
                }
                Some(j) => {
                    let end = prefix.len() + j;
                    out.push((file, end as u32));
                    k = self.past(files, k + 1, &path[..=end]);
                }
            }
        }
        // In path order a directory `d` sorts before a file `d-x`, but what
        // it holds (`d/...`) after; and in a repository made in memory a
        // file may share its path with a directory.
        let at = |&(f, len): &(u32, u32)| &files[f as usize].path[..len as usize];
        out.sort_unstable_by(|a, b| at(a).cmp(at(b)));
        out.dedup_by(|a, b| at(a) == at(b));
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

    /// Whether `path` is a file, or a directory that holds one.
    fn exists(&self, path: &str) -> bool {
        self.is_file(path) || (!path.is_empty() && self.repo.is_dir(path))
    }

    /// The path `wanted` (which does not exist) was probably meant to be,
    /// among the paths `fits` accepts: a near name beside it, a near name one
    /// directory up the path, one directory too many or too few, or (when
    /// there is only one) the same path through another directory.
    pub fn suggest(&self, wanted: &str, fits: impl Fn(&str) -> bool) -> Option<String> {
        let s = self.index();
        let files = &self.repo.files[..];
        let name = |&(f, len): &(u32, u32)| &files[f as usize].path[..len as usize];
        // A name is a directory when it is less than the whole path it starts.
        let is_dir = |&(f, len): &(u32, u32)| (len as usize) < files[f as usize].path.len();
        let segs: Vec<&str> = wanted.split('/').collect();
        let n = segs.len();
        // Where each segment starts in `wanted`.
        let mut starts = Vec::with_capacity(n);
        let mut at = 0;
        for seg in &segs {
            starts.push(at);
            at += seg.len() + 1;
        }
        // What the directory of the first `i` segments holds, for each `i`
        // (`levels[0]`: the root). Once one holds nothing, so do the rest.
        let mut levels: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut last = &s.root;
        while levels.len() + 1 < n && !last.is_empty() {
            let i = levels.len() + 1;
            let mut held = Vec::new();
            s.names(files, &wanted[..starts[i] - 1], &mut held);
            levels.push(held);
            last = &levels[levels.len() - 1];
        }
        let level = |i: usize| match i {
            0 => &s.root[..],
            _ => levels.get(i - 1).map_or(&[][..], Vec::as_slice),
        };
        let siblings = level(n - 1).iter().map(name);
        if let Some(c) = closest(wanted, siblings.filter(|p| fits(p))) {
            return Some(c.to_string());
        }
        // The same path with segment `i` another name in its directory.
        let mut near: Option<(usize, String)> = None;
        let mut far: Vec<String> = Vec::new();
        let mut found: Vec<String> = Vec::new();
        for (i, seg) in segs.iter().enumerate() {
            let rest = starts.get(i + 1).map(|&r| &wanted[r..]);
            found.clear();
            // With segments after it, only a directory can be the segment.
            for held in level(i).iter().filter(|h| rest.is_none() || is_dir(h)) {
                let c = match rest {
                    Some(rest) => format!("{}/{rest}", name(held)),
                    None => name(held).to_string(),
                };
                if c != wanted && (rest.is_none() || self.exists(&c)) && fits(&c) {
                    found.push(c);
                }
            }
            found.sort_unstable();
            for c in found.drain(..) {
                let other = c.split('/').nth(i).unwrap_or("");
                if closest(seg, [other]).is_some() {
                    let d = super::distance(seg, other);
                    if near.as_ref().is_none_or(|(bd, _)| d < *bd) {
                        near = Some((d, c));
                    }
                } else if i + 1 < n {
                    far.push(c);
                }
            }
        }
        if let Some((_, c)) = near {
            return Some(c);
        }
        for i in 0..n.saturating_sub(1) {
            let mut d = segs.clone();
            d.remove(i);
            let c = d.join("/");
            if self.exists(&c) && fits(&c) {
                return Some(c);
            }
        }
        // One directory too few: a name of the directory of the first `i`
        // segments put before segment `i`.
        let mut longer: Option<String> = None;
        for (i, &start) in starts.iter().enumerate() {
            for held in level(i).iter().filter(|h| is_dir(h)) {
                let c = format!("{}/{}", name(held), &wanted[start..]);
                if longer.as_ref().is_none_or(|l| c < *l) && self.exists(&c) && fits(&c) {
                    longer = Some(c);
                }
            }
        }
        if longer.is_some() {
            return longer;
        }
        far.sort_unstable();
        far.dedup();
        match &far[..] {
            [only] => Some(only.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{PathIndex, Suggest, relative};
    use crate::model::{ModelSettings, Repository, closest, parent_dir};
    use crate::source::SourceFile;

    #[test]
    fn relative_paths_keep_the_written_style() {
        assert_eq!(relative("a/b", "a/b/c.yaml", "./x.yaml"), "./c.yaml");
        assert_eq!(relative("a/b", "a/b/c.yaml", "x.yaml"), "c.yaml");
        assert_eq!(relative("a/b", "a/c/d", "./x"), "../c/d");
        assert_eq!(relative("", "a", "./x"), "./a");
    }

    /// A repository of one small mapping in each of `paths`, in the order given.
    fn repo_of(paths: &[impl AsRef<str>]) -> Repository {
        let sources = paths
            .iter()
            .map(|p| SourceFile::from_bytes(p.as_ref().to_string(), b"a: 1\n".to_vec()))
            .collect();
        Repository::new("/repo".into(), sources, &ModelSettings::default())
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
        let mut all: Vec<&str> = files.iter().map(String::as_str).collect();
        all.extend(dirs.iter().map(String::as_str));
        all.sort_unstable();
        all.dedup();
        let (mut found, mut queries) = (0, 0);
        // In path order (as walked), and in the reverse order.
        for reversed in [false, true] {
            let mut given = files.clone();
            if reversed {
                given.reverse();
            }
            let repo = repo_of(&given);
            let index = PathIndex::new(&repo);
            let is_file = |p: &str| repo.file_id(p).is_some();
            let fits: [&dyn Fn(&str) -> bool; 3] = [&|_| true, &|p| repo.is_dir(p), &is_file];
            for _ in 0..400 {
                let wanted = random_path();
                for fits in fits {
                    let expected = by_scan(&all, &wanted, fits);
                    assert_eq!(index.suggest(&wanted, fits), expected, "{wanted}");
                    found += usize::from(expected.is_some());
                    queries += 1;
                }
            }
        }
        // Both answers occur, so the comparison says something.
        assert!(
            found > queries / 10 && found < queries,
            "{found} of {queries}"
        );
    }

    #[test]
    fn the_names_in_a_directory_are_each_file_and_directory_once_in_order() {
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
            "a/b.yaml",
            "z.yaml",
        ];
        for sorted in [false, true] {
            let mut files = files.to_vec();
            if sorted {
                files.sort_unstable();
            }
            let repo = repo_of(&files);
            let index = Suggest::new(&repo);
            assert_eq!(index.order.is_none(), sorted);
            let names = |dir: &str| {
                let mut out = Vec::new();
                index.names(&repo.files, dir, &mut out);
                out.iter()
                    .map(|&(f, len)| repo.files[f as usize].path[..len as usize].to_string())
                    .collect::<Vec<_>>()
            };
            let root: Vec<String> = index
                .root
                .iter()
                .map(|&(f, len)| repo.files[f as usize].path[..len as usize].to_string())
                .collect();
            assert_eq!(root, ["a", "a.yaml", "b", "z.yaml", "\u{e4}"]);
            assert_eq!(names(""), root);
            assert_eq!(names("a"), ["a/b", "a/b-x.yaml", "a/b.yaml", "a/c"]);
            assert_eq!(names("a/b"), ["a/b/c.yaml", "a/b/d"]);
            assert_eq!(names("a/b/d"), ["a/b/d/e.yaml", "a/b/d/f.yaml"]);
            assert_eq!(names("\u{e4}"), ["\u{e4}/b.yaml"]);
            // Not directories: a file, a prefix of a name, nothing.
            for none in ["a.yaml", "a/b-", "a/", "q", "a/b/c.yaml"] {
                assert!(names(none).is_empty(), "{none}");
            }
        }
    }

    #[test]
    fn a_run_is_passed_over_at_any_length() {
        // Runs of every length up to 70 under `d/`, then a name after them.
        for len in 0..70 {
            let mut files: Vec<String> = (0..len).map(|i| format!("d/{i:03}.yaml")).collect();
            files.push("d0.yaml".to_string());
            files.insert(0, "a.yaml".to_string());
            let repo = repo_of(&files);
            let index = Suggest::new(&repo);
            for from in 1..=len + 1 {
                assert_eq!(
                    index.past(&repo.files, from, "d/"),
                    len + 1,
                    "{len} from {from}"
                );
            }
            assert_eq!(index.past(&repo.files, 0, "d/"), 0);
        }
    }
}
