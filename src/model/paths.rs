//! Files and directories of the repository, and the paths a missing one
//! was probably meant to be ("did you mean").

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::OnceCell;

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
    /// Every directory that holds a file (and its ancestors), sorted; built on first use.
    dirs: OnceCell<Vec<&'r str>>,
    suggest: OnceCell<Suggest>,
}

#[derive(Default)]
struct Suggest {
    /// Parent directory -> paths directly in it.
    children: HashMap<String, Vec<String>>,
    /// Path with one segment replaced by `\0` -> paths.
    wild: HashMap<String, Vec<String>>,
    /// Path with one (not the last) segment removed -> paths.
    shorter: HashMap<String, Vec<String>>,
}

impl<'r> PathIndex<'r> {
    pub fn new(repo: &'r Repository) -> Self {
        PathIndex {
            repo,
            dirs: OnceCell::new(),
            suggest: OnceCell::new(),
        }
    }

    fn dirs(&self) -> &[&'r str] {
        self.dirs.get_or_init(|| {
            let mut dirs: HashSet<&str> = HashSet::default();
            for f in &self.repo.files {
                let mut d = parent_dir(&f.path);
                while !d.is_empty() && dirs.insert(d) {
                    d = parent_dir(d);
                }
            }
            let mut dirs: Vec<&str> = dirs.into_iter().collect();
            dirs.sort();
            dirs
        })
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

    fn index(&self) -> &Suggest {
        self.suggest.get_or_init(|| {
            let mut s = Suggest::default();
            let mut all: Vec<&str> = self.repo.files.iter().map(|f| f.path.as_str()).collect();
            all.sort_unstable();
            all.dedup();
            all.extend(self.dirs().iter().copied());
            all.sort_unstable();
            for p in all {
                s.children
                    .entry(parent_dir(p).to_string())
                    .or_default()
                    .push(p.to_string());
                let segs: Vec<&str> = p.split('/').collect();
                for i in 0..segs.len() {
                    let mut w = segs.clone();
                    w[i] = "\0";
                    s.wild.entry(w.join("/")).or_default().push(p.to_string());
                    if i + 1 < segs.len() {
                        let mut d = segs.clone();
                        d.remove(i);
                        s.shorter
                            .entry(d.join("/"))
                            .or_default()
                            .push(p.to_string());
                    }
                }
            }
            s
        })
    }

    /// The path `wanted` (which does not exist) was probably meant to be,
    /// among the paths `fits` accepts: a near name beside it, a near name one
    /// directory up the path, one directory too many or too few, or (when
    /// there is only one) the same path through another directory.
    pub fn suggest(&self, wanted: &str, fits: impl Fn(&str) -> bool) -> Option<String> {
        let s = self.index();
        let segs: Vec<&str> = wanted.split('/').collect();
        let n = segs.len();
        let siblings = s.children.get(parent_dir(wanted)).into_iter().flatten();
        if let Some(c) = closest(wanted, siblings.map(String::as_str).filter(|p| fits(p))) {
            return Some(c.to_string());
        }
        let mut near: Option<(usize, &str)> = None;
        let mut far: Vec<&str> = Vec::new();
        for i in 0..n {
            let mut w = segs.clone();
            w[i] = "\0";
            for c in s.wild.get(&w.join("/")).into_iter().flatten() {
                if c == wanted || !fits(c) {
                    continue;
                }
                let other = c.split('/').nth(i).unwrap_or("");
                if closest(segs[i], [other]).is_some() {
                    let d = strsim::levenshtein(segs[i], other);
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
            if (self.is_file(&c) || self.dirs().binary_search(&c.as_str()).is_ok()) && fits(&c) {
                return Some(c);
            }
        }
        if let Some(c) = s
            .shorter
            .get(wanted)
            .into_iter()
            .flatten()
            .find(|c| fits(c))
        {
            return Some(c.clone());
        }
        far.sort_unstable();
        far.dedup();
        match far[..] {
            [only] => Some(only.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::relative;

    #[test]
    fn relative_paths_keep_the_written_style() {
        assert_eq!(relative("a/b", "a/b/c.yaml", "./x.yaml"), "./c.yaml");
        assert_eq!(relative("a/b", "a/b/c.yaml", "x.yaml"), "c.yaml");
        assert_eq!(relative("a/b", "a/c/d", "./x"), "../c/d");
        assert_eq!(relative("", "a", "./x"), "./a");
    }
}
