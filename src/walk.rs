//! Root discovery and the parallel walk: every YAML file under the root is
//! read and parsed inside the same parallel task.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use globset::GlobSet;
use ignore::{WalkBuilder, WalkState};

use crate::source::SourceFile;

/// Files larger than this are not parsed; a finding says so.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The nearest ancestor of `start` (itself included) that holds
/// `.gitops-lint.yaml` or `.git`; `start` itself when there is none.
pub fn discover_root(start: &Path) -> PathBuf {
    find_marker(start).unwrap_or_else(|| start.to_path_buf())
}

/// The nearest directory from `start` up that holds `.gitops-lint.yaml` or `.git`.
pub fn find_marker(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join(".gitops-lint.yaml").exists() || d.join(".git").exists() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// Reads a file named on the command line that the walk left out because an
/// ignore file matches it (git may track it all the same).
pub fn read_named(root: &Path, rel: &str) -> Option<SourceFile> {
    let path = root.join(rel);
    is_yaml(&path).then(|| read_one(&path, rel.to_string(), &HashMap::new(), false))
}

pub struct WalkOptions<'a> {
    pub exclude: &'a GlobSet,
    /// Relative path -> content that replaces the file on disk (editor buffers).
    pub overrides: &'a HashMap<String, String>,
    pub threads: usize,
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Relative path with `/` separators.
pub fn relative(root: &Path, path: &Path) -> String {
    // The walk's paths are the root joined with names: on Unix their bytes
    // after the root's are the answer, unless a component needs normalising.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let (p, r) = (path.as_os_str().as_bytes(), root.as_os_str().as_bytes());
        if let Some(rest) = p.strip_prefix(r).and_then(|rest| rest.strip_prefix(b"/"))
            && !r.is_empty()
            && !r.ends_with(b"/")
            && let Ok(rest) = std::str::from_utf8(rest)
            && !rest.is_empty()
            && rest
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..")
        {
            return rest.to_string();
        }
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = String::new();
    for (i, c) in rel.components().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&c.as_os_str().to_string_lossy());
    }
    out
}

/// The ignore files the walker reads in every directory it enters.
const IGNORE_FILES: [&str; 2] = [".gitignore", ".ignore"];

/// Ignore files larger than this are not read.
const MAX_IGNORE_BYTES: u64 = 1024 * 1024;

/// An ignore file in `dir` that must not be read: a symbolic link out of the
/// repository or to something that is not a regular file (`/dev/zero` never
/// ends, `/dev/stdin` blocks), a pipe, or a huge file. Git stores symbolic
/// links, so a pull request can bring one; the walker would read it as it
/// enters the directory. The finding says what it is.
///
/// A listing walk (`seen`) also notes the ignore files and the `.git` that
/// `dir` holds: what a later run checks before it takes the listing again.
fn unsafe_ignore_file(
    root: &Path,
    at: &RootDir,
    dir: &Path,
    seen: Option<&Seeing>,
    present: Option<&Present>,
) -> Option<SourceFile> {
    // What the directory's entries showed, or else a look for each name.
    let absent = |name: &str| match present {
        Some(p) => !p.names.contains(&name),
        None => at.absent(root, dir, name),
    };
    if let Some(seen) = seen
        && !absent(".git")
    {
        seen.input(dir.join(".git"));
        seen.input(dir.join(".git/info/exclude"));
    }
    for name in IGNORE_FILES {
        if absent(name) {
            continue;
        }
        let path = dir.join(name);
        if let Some(seen) = seen {
            seen.input(path.clone());
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let what = if meta.file_type().is_symlink() {
            let target = path
                .canonicalize()
                .and_then(|t| Ok((std::fs::metadata(&t)?, t)));
            match target {
                Ok((m, t)) if t.starts_with(root) && m.is_file() && m.len() <= MAX_IGNORE_BYTES => {
                    continue;
                }
                _ => {
                    let written = std::fs::read_link(&path)
                        .map(|t| t.display().to_string())
                        .unwrap_or_default();
                    format!("a symbolic link to `{written}`, not a regular file in the repository")
                }
            }
        } else if !meta.is_file() {
            kind_of(&meta.file_type()).to_string()
        } else if meta.len() > MAX_IGNORE_BYTES {
            format!(
                "{} bytes, over the {MAX_IGNORE_BYTES} byte limit for ignore files",
                meta.len()
            )
        } else {
            continue;
        };
        let why = format!(
            "ignore file is {what}; not read, and no ignore file is honoured in this run (every file is linted)"
        );
        return Some(SourceFile::skipped(relative(root, &path), why));
    }
    None
}

/// The root, open to look names up in relative to it: fewer components to
/// walk than from `/`. Asked only whether a file is absent, the common case;
/// anything else is looked at again by its whole path.
struct RootDir {
    #[cfg(target_os = "linux")]
    fd: Option<rustix::fd::OwnedFd>,
}

impl RootDir {
    fn open(root: &Path) -> RootDir {
        #[cfg(not(target_os = "linux"))]
        let _ = root;
        RootDir {
            #[cfg(target_os = "linux")]
            fd: rustix::fs::open(
                root,
                rustix::fs::OFlags::PATH
                    | rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .ok(),
        }
    }

    /// Whether `dir/name` (`dir` under `root`) surely does not exist.
    fn absent(&self, root: &Path, dir: &Path, name: &str) -> bool {
        #[cfg(target_os = "linux")]
        {
            let Some(fd) = &self.fd else {
                return false;
            };
            let Some(rel) = dir
                .as_os_str()
                .as_encoded_bytes()
                .strip_prefix(root.as_os_str().as_encoded_bytes())
            else {
                return false;
            };
            let mut at = Vec::with_capacity(rel.len() + name.len() + 1);
            match rel.strip_prefix(b"/") {
                Some(rel) if !rel.is_empty() => {
                    at.extend_from_slice(rel);
                    at.push(b'/');
                }
                Some(_) => return false,
                None if rel.is_empty() => {}
                None => return false,
            }
            at.extend_from_slice(name.as_bytes());
            matches!(
                rustix::fs::statx(
                    fd,
                    at.as_slice(),
                    rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
                    rustix::fs::StatxFlags::TYPE,
                ),
                Err(rustix::io::Errno::NOENT)
            )
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (root, dir, name);
            false
        }
    }
}

/// What a listing walk saw of a directory before the walker read it.
struct Present {
    /// Its times, size and inode, taken before its entries were read:
    /// (size, modification and change times in nanoseconds, inode).
    stat: Option<[u64; 4]>,
    /// Which of `.gitignore`, `.ignore` and `.git` it holds.
    names: Vec<&'static str>,
    /// It holds a symbolic link, or an entry whose type could not be told.
    links: bool,
}

impl RootDir {
    /// Opens `dir` (the root or under it), takes its stat, then reads its
    /// entries: one path lookup, where a `stat` and a look for each name
    /// would each walk the path. `None` when that cannot be done.
    #[cfg(target_os = "linux")]
    fn look(&self, root: &Path, dir: &Path) -> Option<Present> {
        use rustix::fs::{AtFlags, FileType, Mode, OFlags};
        let fd = self.fd.as_ref()?;
        let rel = dir
            .as_os_str()
            .as_encoded_bytes()
            .strip_prefix(root.as_os_str().as_encoded_bytes())?;
        let rel: &[u8] = match rel {
            [] => b".",
            [b'/', rest @ ..] if !rest.is_empty() => rest,
            _ => return None,
        };
        let opened = rustix::fs::openat(
            fd,
            rel,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let st = rustix::fs::fstat(&opened).ok()?;
        let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n) as u64;
        let mut present = Present {
            stat: Some([
                st.st_size as u64,
                ns(st.st_mtime as i64, st.st_mtime_nsec as i64),
                ns(st.st_ctime as i64, st.st_ctime_nsec as i64),
                st.st_ino as u64,
            ]),
            names: Vec::new(),
            links: false,
        };
        let mut entries = rustix::fs::Dir::new(opened).ok()?;
        while let Some(entry) = entries.read() {
            let entry = entry.ok()?;
            let name = entry.file_name();
            match name.to_bytes() {
                b"." | b".." => continue,
                b".gitignore" => present.names.push(".gitignore"),
                b".ignore" => present.names.push(".ignore"),
                b".git" => present.names.push(".git"),
                _ => {}
            }
            present.links |= match entry.file_type() {
                FileType::Symlink => true,
                FileType::Unknown => entries.fd().ok().is_none_or(|fd| {
                    rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW).map_or(true, |s| {
                        FileType::from_raw_mode(s.st_mode) == FileType::Symlink
                    })
                }),
                _ => false,
            };
        }
        Some(present)
    }

    /// Reads the entries of `dir` by its path: its names and links, without
    /// its stat.
    #[cfg(not(target_os = "linux"))]
    fn look(&self, _: &Path, dir: &Path) -> Option<Present> {
        let mut present = Present {
            stat: None,
            names: Vec::new(),
            links: false,
        };
        for entry in std::fs::read_dir(dir).ok()? {
            let entry = entry.ok()?;
            for name in [".gitignore", ".ignore", ".git"] {
                if entry.file_name() == name {
                    present.names.push(name);
                }
            }
            present.links |= entry.file_type().ok().is_none_or(|t| t.is_symlink());
        }
        Some(present)
    }
}

/// A YAML file the walk found and did not read: what the persistent cache
/// looks up before reading it.
#[derive(Debug)]
pub struct Listed {
    pub rel: String,
    pub path: PathBuf,
    /// The directory listing says a regular file, not a link.
    pub listed_regular: bool,
}

/// What the walk gives for one path: a file read and parsed (or the finding
/// that says why not), or, when listing only, a file to read later.
#[derive(Debug)]
pub enum Walked {
    File(Box<SourceFile>),
    Listed(Listed),
}

impl Walked {
    fn path(&self) -> &str {
        match self {
            Walked::File(f) => &f.path,
            Walked::Listed(l) => &l.rel,
        }
    }
}

/// Walks `root` (which must be canonical) and returns every YAML file read and
/// parsed, sorted by path. `.gitignore` and `.ignore` files are honoured
/// unless one of them is unsafe to read: then the walk starts again without
/// them, and a finding names the file.
pub fn walk(root: &Path, opts: &WalkOptions) -> Vec<SourceFile> {
    walk_with(root, opts, false)
        .into_iter()
        .map(|w| match w {
            Walked::File(f) => *f,
            Walked::Listed(l) => read_one(&l.path, l.rel, opts.overrides, l.listed_regular),
        })
        .collect()
}

/// Walks `root` as `walk` does, but reads no file: every YAML file on disk
/// is `Listed` (editor buffers, findings and files not on disk are `File`).
/// Sorted by path.
pub fn list(root: &Path, opts: &WalkOptions) -> Vec<Walked> {
    walk_with(root, opts, true)
}

/// Walks `root` as `list` does, without editor buffers: every YAML file on
/// disk is `Listed`, and `File` holds only findings (a link out of the
/// repository, an unreadable directory, an unsafe ignore file). With it,
/// what the walk looked at besides the files ([`Seen`]), each stamped by
/// `stamper` before the walker read it, when a later run could take the
/// listing again on its strength: `None` after a finding, a symbolic link or
/// something `stamper` could not stamp. Sorted by path.
pub fn list_seen(root: &Path, opts: &WalkOptions, stamper: Stamper) -> (Vec<Walked>, Option<Seen>) {
    let seeing = Arc::new(Seeing {
        stamper,
        dirs: Mutex::default(),
        inputs: Mutex::default(),
        unsure: AtomicBool::new(false),
    });
    let listed = walk_seeing(root, opts, true, Some(&seeing));
    let seen = Arc::try_unwrap(seeing).ok().and_then(Seeing::into_seen);
    let seen = seen.filter(|_| listed.iter().all(|w| matches!(w, Walked::Listed(_))));
    (listed, seen)
}

/// A listing as `list_seen` gives it (or one taken again from the cache)
/// with the editor buffers in place: a listed file a buffer stands for, and
/// a buffer for a file not on disk, are `File`s.
pub fn with_buffers(mut listed: Vec<Walked>, overrides: &HashMap<String, String>) -> Vec<Walked> {
    if overrides.is_empty() {
        return listed;
    }
    for w in &mut listed {
        if let Walked::Listed(l) = w
            && let Some(text) = overrides.get(&l.rel)
        {
            *w = Walked::File(Box::new(SourceFile::from_buffer(
                l.rel.clone(),
                text.clone().into_bytes(),
            )));
        }
    }
    add_new_buffers(&mut listed, overrides);
    sort_by_path(&mut listed);
    listed
}

/// The editor buffers for files not on disk (not among `files`).
fn add_new_buffers(files: &mut Vec<Walked>, overrides: &HashMap<String, String>) {
    for (rel, text) in overrides {
        if !files.iter().any(|f| f.path() == rel) {
            files.push(Walked::File(Box::new(SourceFile::from_buffer(
                rel.clone(),
                text.clone().into_bytes(),
            ))));
        }
    }
}

/// What a listing walk asks of a directory before the walker reads it, and
/// of a file whose presence or content decides what is listed before the
/// walker reads that: a stamp to compare on a later run (`None`: it cannot
/// be told, and the listing is not kept).
pub type Stamper = Arc<dyn Fn(&Path, Look) -> Option<[u64; 5]> + Send + Sync>;

/// What is stamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// A directory, with its (size, modification and change times in
    /// nanoseconds, inode) when the walk took them before reading it.
    Dir(Option<[u64; 4]>),
    File,
}

/// What a listing walk looked at besides the files it lists, stamped before
/// the walker read it: what, when its stamps are unchanged, makes the same
/// walk list the same files again.
#[derive(Debug, Default)]
pub struct Seen {
    /// Every directory the walk entered, the root first, sorted.
    pub dirs: Vec<(PathBuf, [u64; 5])>,
    /// Files whose presence or content decided what was listed: the ignore
    /// files of those directories, their `.git` and its `info/exclude`, a
    /// `Chart.yaml` beside `templates`. Sorted.
    pub inputs: Vec<(PathBuf, [u64; 5])>,
}

/// `Seen` while the walk's threads add to it.
struct Seeing {
    stamper: Stamper,
    dirs: Mutex<Vec<(PathBuf, [u64; 5])>>,
    inputs: Mutex<Vec<(PathBuf, [u64; 5])>>,
    /// A symbolic link was met (what it leads to can change while every
    /// directory on the way stays as it was), or a stamp could not be taken.
    unsure: AtomicBool,
}

impl Seeing {
    /// Stamps a directory the walk is about to read, and looks at its
    /// entries: the walker follows every symbolic link it lists, ignored or
    /// excluded ones too (it needs to know whether each leads to a
    /// directory), so a link anywhere makes the listing unsure. What the
    /// entries show spares the looks for ignore files.
    fn dir(&self, root: &Path, at: &RootDir, path: &Path) -> Option<Present> {
        let present = at.look(root, path);
        let stamp = present
            .as_ref()
            .and_then(|p| (self.stamper)(path, Look::Dir(p.stat)));
        match stamp {
            Some(stamp) => self.dirs.lock().unwrap().push((path.to_path_buf(), stamp)),
            None => self.unsure.store(true, Ordering::Relaxed),
        }
        if present.as_ref().is_none_or(|p| p.links) {
            self.unsure.store(true, Ordering::Relaxed);
        }
        present
    }
    fn input(&self, path: PathBuf) {
        match (self.stamper)(&path, Look::File) {
            Some(stamp) => self.inputs.lock().unwrap().push((path, stamp)),
            None => self.unsure.store(true, Ordering::Relaxed),
        }
    }
    fn into_seen(self) -> Option<Seen> {
        if self.unsure.into_inner() {
            return None;
        }
        let sorted = |m: Mutex<Vec<(PathBuf, [u64; 5])>>| {
            let mut v = m.into_inner().unwrap();
            // By bytes (a path's components need not be compared one by
            // one here): the root, a prefix of every other, still comes first.
            v.sort_unstable_by(|a, b| {
                a.0.as_os_str()
                    .as_encoded_bytes()
                    .cmp(b.0.as_os_str().as_encoded_bytes())
            });
            v.dedup_by(|a, b| a.0 == b.0);
            v
        };
        Some(Seen {
            dirs: sorted(self.dirs),
            inputs: sorted(self.inputs),
        })
    }
}

fn walk_with(root: &Path, opts: &WalkOptions, list_only: bool) -> Vec<Walked> {
    walk_seeing(root, opts, list_only, None)
}

fn walk_seeing(
    root: &Path,
    opts: &WalkOptions,
    list_only: bool,
    seen: Option<&Arc<Seeing>>,
) -> Vec<Walked> {
    let unsafe_ignore: Arc<Mutex<Option<SourceFile>>> = Arc::default();
    let at = Arc::new(RootDir::open(root));
    let present = seen.and_then(|s| s.dir(root, &at, root));
    let finding = match unsafe_ignore_file(root, &at, root, seen.map(|s| &**s), present.as_ref()) {
        Some(finding) => finding,
        None => {
            let files = walk_once(root, &at, opts, true, list_only, &unsafe_ignore, seen);
            match unsafe_ignore.lock().unwrap().take() {
                Some(finding) => finding,
                None => return files,
            }
        }
    };
    let mut files = walk_once(root, &at, opts, false, list_only, &unsafe_ignore, None);
    files.push(Walked::File(Box::new(finding)));
    sort_by_path(&mut files);
    files
}

fn walk_once(
    root: &Path,
    at: &Arc<RootDir>,
    opts: &WalkOptions,
    honour_ignore_files: bool,
    list_only: bool,
    unsafe_ignore: &Arc<Mutex<Option<SourceFile>>>,
    seen: Option<&Arc<Seeing>>,
) -> Vec<Walked> {
    let found: Mutex<Vec<Walked>> = Mutex::new(Vec::new());
    let filter_seen = seen.cloned();
    // A listing for the cache lists every YAML file on disk: the buffers are
    // put in place afterwards (`with_buffers`).
    let none = HashMap::new();
    let buffers = if seen.is_some() {
        &none
    } else {
        opts.overrides
    };
    let skipped: Arc<Mutex<Vec<SourceFile>>> = Arc::default();
    let filter_root = root.to_path_buf();
    let filter_skipped = Arc::clone(&skipped);
    let filter_unsafe = Arc::clone(unsafe_ignore);
    let filter_at = Arc::clone(at);
    let filter_exclude = opts.exclude.clone();
    let walker = WalkBuilder::new(root)
        // Global ignore patterns are relative to the repository's top, as
        // git reads them, not to wherever the run was started.
        .current_dir(root)
        .hidden(false)
        .follow_links(true)
        .require_git(false)
        .git_ignore(honour_ignore_files)
        .ignore(honour_ignore_files)
        .git_exclude(honour_ignore_files)
        .git_global(honour_ignore_files)
        .parents(honour_ignore_files)
        .threads(opts.threads)
        .filter_entry(move |entry| {
            let path = entry.path();
            if entry.depth() == 0 {
                return true;
            }
            let name = entry.file_name();
            if name == ".git" || name == crate::cache::DIR_NAME {
                return false;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            // An excluded directory is not entered, and an excluded link not reported.
            if !filter_exclude.is_empty() {
                let rel = relative(&filter_root, path);
                if filter_exclude.is_match(&rel) || (is_dir && filter_exclude.is_match(format!("{rel}/"))) {
                    return false;
                }
            }
            // Helm chart templates are Go templates, not YAML.
            if is_dir && name == "templates" && let Some(parent) = path.parent() {
                let chart = parent.join("Chart.yaml");
                if let Some(seen) = &filter_seen {
                    seen.input(chart.clone());
                }
                if chart.exists() {
                    return false;
                }
            }
            if entry.path_is_symlink() {
                if let Some(seen) = &filter_seen {
                    seen.unsure.store(true, Ordering::Relaxed);
                }
                match path.canonicalize() {
                    Ok(target) if target.starts_with(&filter_root) => {}
                    Ok(_) => {
                        if is_dir || is_yaml(path) {
                            let written = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
                            let why = format!("symbolic link to `{written}` points outside the repository root; not read");
                            filter_skipped.lock().unwrap().push(SourceFile::skipped(relative(&filter_root, path), why));
                        }
                        return false;
                    }
                    Err(e) => {
                        if is_yaml(path) {
                            let why = format!("cannot follow symbolic link: {e}");
                            filter_skipped.lock().unwrap().push(SourceFile::skipped(relative(&filter_root, path), why));
                        }
                        return false;
                    }
                }
            }
            // The walker reads a directory's ignore files as it enters it: look
            // first (and, for a listing, stamp the directory and them).
            if is_dir {
                let present = filter_seen.as_ref().and_then(|seen| seen.dir(&filter_root, &filter_at, path));
                if honour_ignore_files {
                    if let Some(finding) = unsafe_ignore_file(
                        &filter_root,
                        &filter_at,
                        path,
                        filter_seen.as_deref(),
                        present.as_ref(),
                    ) {
                        filter_unsafe.lock().unwrap().get_or_insert(finding);
                    }
                    if filter_unsafe.lock().unwrap().is_some() {
                        return false; // the walk starts again without ignore files
                    }
                }
            }
            true
        })
        .build_parallel();

    walker.run(|| {
        let mut found = Found {
            local: Vec::new(),
            all: &found,
        };
        let skipped = &skipped;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    // Loops and unreadable directories: say so and go on.
                    let (path, msg) = describe_walk_error(root, &err);
                    skipped.lock().unwrap().push(SourceFile::skipped(path, msg));
                    return WalkState::Continue;
                }
            };
            let path = entry.path();
            // A directory named `x.yaml` is walked into, not read. Anything else
            // named like YAML goes to `read_one`, which reports pipes, sockets and
            // devices: it looks at the path again itself, so a file swapped for
            // one after the walk listed it is never opened either.
            if entry.file_type().is_none_or(|t| t.is_dir()) || !is_yaml(path) {
                return WalkState::Continue;
            }
            let rel = relative(root, path);
            let listed_regular =
                entry.file_type().is_some_and(|t| t.is_file()) && !entry.path_is_symlink();
            let walked = if list_only && !buffers.contains_key(&rel) {
                Walked::Listed(Listed {
                    rel,
                    path: path.to_path_buf(),
                    listed_regular,
                })
            } else {
                Walked::File(Box::new(read_one(path, rel, buffers, listed_regular)))
            };
            found.local.push(walked);
            WalkState::Continue
        })
    });

    let mut files = found.into_inner().unwrap();
    files.extend(
        std::mem::take(&mut *skipped.lock().unwrap())
            .into_iter()
            .map(|f| Walked::File(Box::new(f))),
    );
    add_new_buffers(&mut files, buffers);
    sort_by_path(&mut files);
    files
}

/// What one thread of the walk found, added to the whole when it is done:
/// no lock taken for every file.
struct Found<'a> {
    local: Vec<Walked>,
    all: &'a Mutex<Vec<Walked>>,
}

impl Drop for Found<'_> {
    fn drop(&mut self) {
        let local = std::mem::take(&mut self.local);
        let mut all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        if all.is_empty() {
            *all = local;
        } else {
            all.extend(local);
        }
    }
}

/// Sorts by path and drops repeated paths. A file is a few hundred bytes, so the
/// order is found on indices and each file moved once.
fn sort_by_path(files: &mut Vec<Walked>) {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| files[a].path().cmp(files[b].path()).then(a.cmp(&b)));
    let mut slots: Vec<Option<Walked>> = files.drain(..).map(Some).collect();
    for i in order {
        if let Some(f) = slots[i].take()
            && files.last().is_none_or(|last| last.path() != f.path())
        {
            files.push(f);
        }
    }
}

pub fn read_one(
    path: &Path,
    rel: String,
    overrides: &HashMap<String, String>,
    listed_regular: bool,
) -> SourceFile {
    if let Some(text) = overrides.get(&rel) {
        return SourceFile::from_buffer(rel, text.clone().into_bytes());
    }
    from_read(rel, read_regular(path, listed_regular))
}

/// Reads a file that configuration names (a schema, the configuration itself):
/// only a regular file of at most `limit` bytes, so that a link to `/dev/zero`
/// or a pipe is an error and never a hang.
pub fn read_text(path: &Path, limit: u64) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(format!(
            "not a regular file but {}",
            kind_of(&meta.file_type())
        ));
    }
    if meta.len() > limit {
        return Err(format!("{} bytes, over the {limit} byte limit", meta.len()));
    }
    use std::io::Read;
    let mut text = String::with_capacity(meta.len() as usize + 1);
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_string(&mut text))
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > limit {
        return Err(format!("over the {limit} byte limit"));
    }
    Ok(text)
}

/// Reads one file of the repository as the walk reads it: a finding, never a
/// panic or a hang, when it is not a readable regular file.
pub fn read_path(path: &Path, rel: String) -> SourceFile {
    from_read(rel, read_regular(path, false))
}

/// What reading a walked path gave, short of an I/O error.
#[derive(Debug)]
enum Contents {
    Bytes(Vec<u8>),
    TooLarge(u64),
    /// A pipe, socket or device: opening a FIFO for reading would block until
    /// a writer comes, so it is never opened.
    NotRegular(&'static str),
}

/// `listed_regular`: the directory listing says a regular file, not a link.
fn read_regular(path: &Path, listed_regular: bool) -> std::io::Result<Contents> {
    #[cfg(not(unix))]
    let _ = listed_regular;
    #[cfg(unix)]
    if listed_regular {
        // Opened without following a link or waiting for a pipe's writer, and
        // then what was opened is looked at, not the path again: one path
        // lookup instead of two. A file swapped for a link meanwhile fails to
        // open (ELOOP) and is looked at below like any link.
        use std::os::unix::fs::OpenOptionsExt;
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path);
        match opened {
            Ok(file) => return read_open(&file),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {}
            Err(e) => return Err(e),
        }
    }
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Ok(Contents::NotRegular(kind_of(&meta.file_type())));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Ok(Contents::TooLarge(meta.len()));
    }
    // The size is known: no second stat, as `fs::read` would make for it.
    use std::io::Read;
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    Ok(Contents::Bytes(bytes))
}

#[cfg(unix)]
fn read_open(file: &std::fs::File) -> std::io::Result<Contents> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Contents::NotRegular(kind_of(&meta.file_type())));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Ok(Contents::TooLarge(meta.len()));
    }
    // Bounded, in case the file grows while it is read; `take` also spares
    // the second stat that `File::read_to_end` makes to size its buffer.
    use std::io::Read;
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Ok(Contents::TooLarge(bytes.len() as u64));
    }
    Ok(Contents::Bytes(bytes))
}

fn kind_of(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    if t.is_dir() {
        return "a directory";
    }
    "a special file"
}

/// The file, or the finding that says why it was not read. Separate from the
/// read itself so that tests can feed it any I/O error.
fn from_read(rel: String, read: std::io::Result<Contents>) -> SourceFile {
    use std::io::ErrorKind;
    let why = match read {
        Ok(Contents::Bytes(bytes)) => return SourceFile::from_bytes(rel, bytes),
        Ok(Contents::TooLarge(len)) => {
            format!("file is {len} bytes, over the {MAX_FILE_BYTES} byte limit; not parsed")
        }
        Ok(Contents::NotRegular(kind)) => format!("not a regular file but {kind}; not read"),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            "permission denied: this user cannot read the file; not linted".to_string()
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            "file disappeared while being read (deleted or renamed during the run); not linted"
                .to_string()
        }
        Err(e) => format!("cannot read file: {e}"),
    };
    SourceFile::skipped(rel, why)
}

fn describe_walk_error(root: &Path, err: &ignore::Error) -> (String, String) {
    fn loop_of(err: &ignore::Error) -> Option<(&Path, &Path)> {
        match err {
            ignore::Error::Loop { ancestor, child } => Some((ancestor, child)),
            ignore::Error::WithPath { err, .. }
            | ignore::Error::WithDepth { err, .. }
            | ignore::Error::WithLineNumber { err, .. } => loop_of(err),
            _ => None,
        }
    }
    if let Some((ancestor, child)) = loop_of(err) {
        let ancestor = match relative(root, ancestor) {
            a if a.is_empty() => ".".to_string(),
            a => a,
        };
        return (
            relative(root, child),
            format!(
                "symbolic link loop: this link leads back to its ancestor directory `{ancestor}`; not followed"
            ),
        );
    }
    fn path_of(err: &ignore::Error) -> Option<&Path> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::Loop { child, .. } => Some(child),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Partial(errs) => errs.first().and_then(path_of),
            _ => None,
        }
    }
    let abs = path_of(err);
    let path = abs.map_or_else(String::new, |p| relative(root, p));
    let message = match err.io_error().map(std::io::Error::kind) {
        Some(std::io::ErrorKind::PermissionDenied) if abs.is_some_and(Path::is_dir) => {
            "permission denied: this user cannot read the directory; nothing under it was linted"
                .to_string()
        }
        Some(std::io::ErrorKind::PermissionDenied) => {
            "permission denied: this user cannot read the file; not linted".to_string()
        }
        Some(std::io::ErrorKind::NotFound) => {
            "disappeared while the repository was being walked (deleted or renamed); not linted"
                .to_string()
        }
        _ => format!("cannot read: {err}"),
    };
    (path, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Unreadable;
    use std::io::{Error, ErrorKind};

    fn why(file: &SourceFile) -> &str {
        match file.unreadable.as_deref() {
            Some(Unreadable::Skipped(why)) => why,
            other => panic!("{}: {other:?}", file.path),
        }
    }

    #[test]
    fn io_errors_become_findings_that_say_what_happened() {
        let denied = from_read(
            "a.yaml".into(),
            Err(Error::from(ErrorKind::PermissionDenied)),
        );
        assert_eq!(denied.path, "a.yaml");
        assert_eq!(
            why(&denied),
            "permission denied: this user cannot read the file; not linted"
        );
        // Listed by the walk, gone by the time it is read.
        let gone = from_read("b.yaml".into(), Err(Error::from(ErrorKind::NotFound)));
        assert_eq!(
            why(&gone),
            "file disappeared while being read (deleted or renamed during the run); not linted"
        );
        let other = from_read("c.yaml".into(), Err(Error::other("disk on fire")));
        assert_eq!(why(&other), "cannot read file: disk on fire");
        for f in [&denied, &gone, &other] {
            assert!(f.text().is_empty());
        }
    }

    #[test]
    fn a_file_deleted_after_the_walk_listed_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.yaml");
        std::fs::write(&path, "a: 1\n").unwrap();
        std::fs::remove_file(&path).unwrap();
        let f = read_path(&path, "gone.yaml".into());
        assert!(
            why(&f).starts_with("file disappeared while being read"),
            "{f:?}"
        );
    }

    #[test]
    fn special_files_are_not_opened() {
        let f = from_read(
            "p.yaml".into(),
            Ok(Contents::NotRegular("a named pipe (FIFO)")),
        );
        assert_eq!(
            why(&f),
            "not a regular file but a named pipe (FIFO); not read"
        );
        let dir = tempfile::tempdir().unwrap();
        let f = read_path(dir.path(), "d.yaml".into());
        assert_eq!(why(&f), "not a regular file but a directory; not read");
        #[cfg(unix)]
        {
            let f = read_path(Path::new("/dev/null"), "null.yaml".into());
            assert_eq!(
                why(&f),
                "not a regular file but a character device; not read"
            );
        }
    }

    #[test]
    fn relative_paths_are_normalised() {
        let root = Path::new("/r/oot");
        for (path, rel) in [
            ("/r/oot/a/b.yaml", "a/b.yaml"),
            ("/r/oot/a//b.yaml", "a/b.yaml"),
            ("/r/oot/a/./b.yaml", "a/b.yaml"),
            ("/r/oot/a/", "a"),
            ("/r/oot", ""),
            ("/r/oot/é/ü.yaml", "é/ü.yaml"),
        ] {
            assert_eq!(relative(root, Path::new(path)), rel, "{path}");
        }
        assert_eq!(relative(Path::new("/"), Path::new("/a/b")), "a/b");
    }

    #[test]
    fn readable_files_are_parsed() {
        let f = from_read("ok.yaml".into(), Ok(Contents::Bytes(b"a: 1\n".to_vec())));
        assert!(f.unreadable.is_none());
        assert_eq!(f.text(), "a: 1\n");
    }
}
