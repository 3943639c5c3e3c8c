//! One linting session: a repository root, its configuration, its exclusions,
//! the model settings, the rules that run and the model itself. `check` (and
//! an editor's buffer on standard input) opens one and lints it once; the
//! language server opens one per workspace folder and keeps it, editing the
//! model as buffers and files on disk change. Both open and lint the same way,
//! so a setting reaches both.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::config::{self, Config, ConfigError, Level};
use crate::diagnostic::{Diagnostic, FileId};
use crate::model::{ModelSettings, Repository};
use crate::rules::{RULES, Rule};
use crate::run::Error;
use crate::schema::{SchemaReport, SchemaSettings};
use crate::source::SourceFile;
use crate::walk::{self, WalkOptions};

/// The rules the command line names (`--select`, `--extend-select`, `--ignore`).
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub select: Vec<String>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
}

/// How a session is opened.
#[derive(Debug, Default, Clone)]
pub struct SessionOptions {
    /// The configuration file; `None`: `.gitops-lint.yaml` at the root, if any.
    pub config: Option<PathBuf>,
    pub selection: Selection,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    /// An editor's session: a configuration or exclusion that cannot be read
    /// is a problem to show, and the defaults apply; otherwise it is an error.
    pub lenient: bool,
    /// Only the model: no rule runs and nothing is validated against schemas.
    pub model_only: bool,
    /// Where the persistent cache is kept, if anywhere.
    pub cache: crate::cache::Location,
    /// The session is linted once, then dropped (a command-line run): what
    /// only later runs would reuse, such as compiled schemas, is not kept.
    pub one_shot: bool,
}

/// An active rule and the severity it reports at (`None`: its own).
pub type ActiveRule = (&'static Rule, Option<Level>);

pub struct Session {
    pub root: PathBuf,
    /// The configuration file read, if any.
    pub config_path: Option<PathBuf>,
    pub config: Config,
    /// Why the configuration file could not be used (lenient sessions only).
    pub config_error: Option<ConfigError>,
    pub exclude: GlobSet,
    pub settings: ModelSettings,
    /// Where schemas come from, and whether any schema rule runs.
    pub schema_settings: SchemaSettings,
    pub active: Vec<ActiveRule>,
    pub repo: Repository,
    /// Schema validation of the model's documents, beside the model: the
    /// schema rules read it.
    pub schema: SchemaReport,
    /// A single file linted on its own (outside every repository root): the
    /// rules that need the rest of the repository are off.
    pub standalone: bool,
    pool: rayon::ThreadPool,
    /// Files replaced or removed since the last rebuild; only their documents
    /// are validated again against the schemas.
    touched: HashSet<String>,
    /// A CRD or a kustomization was among them: every document is validated again.
    schemas_changed: bool,
    /// What the files and directories on disk looked like (see `watch_disk`).
    disk: Option<DiskState>,
}

/// Reads the configuration as a session does; lenient sessions fall back to
/// the defaults, saying why in `problems`.
fn load_config(
    path: Option<&Path>,
    lenient: bool,
    problems: &mut Vec<String>,
) -> Result<(Config, Option<ConfigError>), Error> {
    let Some(path) = path else {
        return Ok((Config::default(), None));
    };
    match Config::load(path) {
        Ok(c) => Ok((c, None)),
        Err(e) if lenient => {
            problems.push(format!("{e} (using the default configuration)"));
            Ok((Config::default(), Some(e)))
        }
        Err(e) => Err(Error::Config(e)),
    }
}

fn build_exclude(
    config: &Config,
    lenient: bool,
    problems: &mut Vec<String>,
) -> Result<GlobSet, Error> {
    let mut builder = GlobSetBuilder::new();
    for pattern in &config.exclude {
        match Glob::new(pattern) {
            Ok(g) => {
                builder.add(g);
            }
            Err(e) if lenient => problems.push(format!("exclude pattern `{pattern}`: {e}")),
            Err(e) => return Err(Error::Usage(format!("exclude pattern `{pattern}`: {e}"))),
        }
    }
    match builder.build() {
        Ok(set) => Ok(set),
        Err(e) if lenient => {
            problems.push(e.to_string());
            Ok(GlobSet::empty())
        }
        Err(e) => Err(Error::Usage(e.to_string())),
    }
}

fn thread_pool(threads: Option<usize>) -> Result<(rayon::ThreadPool, usize), Error> {
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Io(e.to_string()))?;
    Ok((pool, threads))
}

/// An editor buffer as a file of the repository: parsed, unless it is over
/// the size limit the walk applies to files on disk.
pub fn buffer_file(rel: String, text: &str) -> SourceFile {
    if text.len() as u64 > walk::MAX_FILE_BYTES {
        let why = format!(
            "file is {} bytes, over the {} byte limit; not parsed",
            text.len(),
            walk::MAX_FILE_BYTES
        );
        return SourceFile::skipped(rel, why);
    }
    SourceFile::from_buffer(rel, text.as_bytes().to_vec())
}

impl Session {
    /// Reads the configuration, walks and parses `root` (canonical).
    /// `buffers` (relative path -> text) replace files on disk; `named` are
    /// files read even where an ignore file matches them. The configuration's
    /// `exclude` applies to both. Returns the session and, for a lenient one,
    /// the problems met.
    pub fn open(
        root: PathBuf,
        opts: &SessionOptions,
        buffers: &HashMap<String, String>,
        named: &BTreeSet<String>,
    ) -> Result<(Session, Vec<String>), Error> {
        let phase = crate::timing::Phases::start();
        let mut problems = Vec::new();
        let config_path = opts.config.clone().or_else(|| {
            let p = root.join(config::FILE_NAME);
            p.exists().then_some(p)
        });
        let (config, config_error) =
            load_config(config_path.as_deref(), opts.lenient, &mut problems)?;
        let mut active = active_rules(&opts.selection, &config)?;
        if opts.model_only {
            active.clear();
        }
        let exclude = build_exclude(&config, opts.lenient, &mut problems)?;
        let (pool, threads) = thread_pool(opts.threads)?;

        // Buffers the configuration excludes are not linted; buffers over the
        // size limit are not parsed (put in place after the walk).
        let mut overrides = HashMap::new();
        let mut oversized = Vec::new();
        for (rel, text) in buffers {
            if exclude.is_match(rel) {
                continue;
            }
            if text.len() as u64 > walk::MAX_FILE_BYTES {
                oversized.push(buffer_file(rel.clone(), text));
            } else {
                overrides.insert(rel.clone(), text.clone());
            }
        }
        let walk_options = WalkOptions {
            exclude: &exclude,
            overrides: &overrides,
            threads,
        };
        let cache = opts
            .cache
            .dir(&root)
            .and_then(|base| crate::cache::Cache::open(&base, &root));
        let mut files = match &cache {
            Some(cache) => {
                let (files, stats) =
                    pool.install(|| cache.walk(&root, &walk_options, &config.exclude));
                if phase.on {
                    match stats.listing {
                        Some(dirs) => eprintln!(
                            "timing:   listing: taken again ({dirs} directories unchanged)"
                        ),
                        None => eprintln!("timing:   listing: walked"),
                    }
                    eprintln!(
                        "timing:   cache: {} reused, {} verified by content, {} read and parsed, {} shards written",
                        stats.reused, stats.verified, stats.parsed, stats.written
                    );
                }
                files
            }
            None => walk::walk(&root, &walk_options),
        };
        // A file named on the command line is linted even where an ignore file
        // matches it (git may track it all the same); `exclude` still applies.
        let mut added = false;
        for rel in named {
            if !exclude.is_match(rel)
                && !files.iter().any(|f| *f.path == **rel)
                && let Some(file) = walk::read_named(&root, rel)
            {
                files.push(file);
                added = true;
            }
        }
        for file in oversized {
            match files.iter().position(|f| f.path == file.path) {
                Some(i) => files[i] = file,
                None => files.push(file),
            }
            added = true;
        }
        if added {
            files.sort_by(|a, b| a.path.cmp(&b.path));
        }
        phase.mark("walk+read+parse");
        if phase.on {
            eprintln!("timing:   {}", crate::timing::Held::of(&files).line());
        }

        let base = config_path
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(|| root.clone(), Path::to_path_buf);
        let mut schema = match config.schema_settings(config_path.as_deref(), &base) {
            Ok(s) => s,
            Err(e) if opts.lenient => {
                problems.push(e.to_string());
                Default::default()
            }
            Err(e) => return Err(Error::Config(e)),
        };
        schema.skip = !active.iter().any(|(r, _)| r.id.starts_with("schema/"));
        schema.one_shot = opts.one_shot;
        let settings = ModelSettings {
            dual_stack: config.dual_stack,
            listener_ports: config.listener_ports.clone(),
        };
        let (repo, schema_report) = pool.install(|| {
            Repository::new_beside(root.clone(), files, &settings, |repo| {
                // Files named on the command line are the only ones reported
                // on: the others' documents need no validation.
                let only: Option<HashSet<FileId>> = (!named.is_empty())
                    .then(|| named.iter().filter_map(|r| repo.file_id(r)).collect());
                validate(repo, &schema, only.as_ref())
            })
        });
        if let Some(e) = schema_report.errors.first() {
            let error = ConfigError {
                path: config_path.clone().unwrap_or_default(),
                line: 1,
                column: 1,
                message: e.clone(),
            };
            if !opts.lenient {
                return Err(Error::Config(error));
            }
            problems.push(error.to_string());
        }
        phase.mark("model");
        let session = Session {
            root,
            config_path,
            config,
            config_error,
            exclude,
            settings,
            schema_settings: schema,
            active,
            repo,
            schema: schema_report,
            standalone: false,
            pool,
            touched: HashSet::new(),
            schemas_changed: false,
            disk: None,
        };
        Ok((session, problems))
    }

    /// A session with no file, for a root that could not be opened.
    pub fn empty(root: PathBuf) -> Session {
        let mut session = Session::alone(&root.join("-"), "");
        session.repo = Repository::new(root.clone(), Vec::new(), &session.settings);
        session.schema = SchemaReport::default();
        session.root = root;
        session.standalone = false;
        session
    }

    /// A single file linted on its own, with the default configuration and
    /// without the rules that need the rest of the repository: a file outside
    /// every repository root.
    pub fn alone(path: &Path, text: &str) -> Session {
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let config = Config::default();
        let active: Vec<ActiveRule> = configured_rules(&config)
            .into_iter()
            .filter(|(r, _)| !r.needs_repository)
            .collect();
        let settings = ModelSettings::default();
        let schema_settings = SchemaSettings {
            skip: !active.iter().any(|(r, _)| r.id.starts_with("schema/")),
            ..Default::default()
        };
        let (repo, schema) = Repository::new_beside(
            dir.clone(),
            vec![buffer_file(name, text)],
            &settings,
            |repo| validate(repo, &schema_settings, None),
        );
        let (pool, _) = thread_pool(Some(1)).expect("a one-thread pool");
        Session {
            root: dir,
            config_path: None,
            config,
            config_error: None,
            exclude: GlobSet::empty(),
            settings,
            schema_settings,
            active,
            repo,
            schema,
            standalone: true,
            pool,
            touched: HashSet::new(),
            schemas_changed: false,
            disk: None,
        }
    }

    /// The findings of the files at these relative paths (those the model
    /// holds), after building the model again if files changed: their ids
    /// are taken from the model as rebuilt, never from the one before.
    pub fn lint_files(&mut self, rels: &[&str]) -> Vec<Diagnostic> {
        self.rebuild();
        let focus: Vec<FileId> = rels.iter().filter_map(|r| self.repo.file_id(r)).collect();
        self.lint(Some(&focus))
    }

    /// Runs the active rules, applies suppressions and sorts: the findings of
    /// the files in `focus` (`None`: every file). The ids are the current
    /// model's: with changes pending (see `replace`), use `lint_files`.
    pub fn lint(&mut self, focus: Option<&[FileId]>) -> Vec<Diagnostic> {
        self.rebuild();
        self.repo.set_focus(focus);
        let phase = crate::timing::Phases::start();
        let (repo, schema, active) = (&self.repo, &self.schema, &self.active);
        let diagnostics = self
            .pool
            .install(|| crate::run::lint_model(repo, schema, active, &phase));
        phase.mark("suppress+sort");
        diagnostics
    }

    /// The path relative to the root, when `path` is under it.
    pub fn relative(&self, path: &Path) -> Option<String> {
        relative_to(&self.root, path)
    }

    /// Whether the configuration excludes a relative path.
    pub fn excluded(&self, rel: &str) -> bool {
        self.exclude.is_match(rel)
    }

    fn file_index(&self, rel: &str) -> Result<usize, usize> {
        self.repo
            .files
            .binary_search_by(|f| f.path.as_str().cmp(rel))
    }

    /// Whether the model holds a file at this relative path.
    pub fn has_file(&self, rel: &str) -> bool {
        self.file_index(rel).is_ok()
    }

    /// Whether a buffer the walk did not return is linted: only a new YAML
    /// file (not on disk yet) that the configuration does not exclude.
    pub fn takes_new_file(&self, rel: &str) -> bool {
        is_yaml(rel)
            && !self.root.join(rel).exists()
            && !self.excluded(rel)
            && !rel.split('/').any(|c| c == ".git")
    }

    /// Puts `file` in place of the file with its path (or adds it). An edit
    /// that leaves the builds as they were updates the model at once (only the
    /// file is validated against the schemas again); any other waits for the
    /// next `lint`, which builds the model again.
    pub fn replace(&mut self, file: SourceFile) {
        let crd = has_crd(&file)
            || self
                .file_index(&file.path)
                .is_ok_and(|i| has_crd(&self.repo.files[i]));
        // With a rebuild pending the model is stale already: it waits too.
        let file = if self.touched.is_empty() && !self.schemas_changed && !crd {
            match self.repo.update_file(file) {
                Ok(id) => return self.revalidate(id),
                Err(file) => *file,
            }
        } else {
            file
        };
        self.touch(&file.path, Some(&file));
        match self.file_index(&file.path) {
            Ok(i) => self.repo.files[i] = file,
            Err(i) => self.repo.files.insert(i, file),
        }
    }

    /// Reads a file of the root again from disk, as the walk reads it.
    pub fn reread(&mut self, rel: &str) {
        if self.root.join(rel).is_file() {
            let file = walk::read_path(&self.root.join(rel), rel.to_string());
            self.replace(file);
        } else {
            self.remove(rel);
        }
    }

    pub fn remove(&mut self, rel: &str) {
        if self.file_index(rel).is_err() {
            return;
        }
        self.touch(rel, None);
        if let Ok(i) = self.file_index(rel) {
            self.repo.files.remove(i);
        }
    }

    fn touch(&mut self, rel: &str, new: Option<&SourceFile>) {
        // CRDs change schemas; kustomizations change which files are patches.
        let old = self.file_index(rel).ok().map(|i| &self.repo.files[i]);
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if old.is_some_and(has_crd)
            || new.is_some_and(has_crd)
            || name.starts_with("kustomization.")
        {
            self.schemas_changed = true;
        }
        self.touched.insert(rel.to_string());
    }

    /// Validates one file against the schemas again, keeping the findings of the others.
    fn revalidate(&mut self, id: usize) {
        let only = HashSet::from([id]);
        let report = validate(&self.repo, &self.schema_settings, Some(&only));
        let schema = &mut self.schema;
        schema.findings.retain(|f| f.file != id);
        schema.findings.extend(report.findings);
        schema.findings.sort_by(|a, b| {
            (a.file, a.span.start, &a.message).cmp(&(b.file, b.span.start, &b.message))
        });
        schema.errors = report.errors;
    }

    /// Builds the model again over the files as they now are, when files were
    /// added, removed or changed in a way `replace` could not apply in place:
    /// no file is read or parsed, and only the touched files are validated
    /// against the schemas again (the findings of the others are kept).
    fn rebuild(&mut self) {
        if self.touched.is_empty() && !self.schemas_changed {
            return;
        }
        let files = std::mem::take(&mut self.repo.files);
        let previous = std::mem::take(&mut self.schema);
        let old_paths: Vec<String> = files.iter().map(|f| f.path.to_string()).collect();
        let incremental = !self.schema_settings.skip && !self.schemas_changed;
        let root = self.root.clone();
        let (settings, schema_settings) = (&self.settings, &self.schema_settings);
        let (repo, schema) = self.pool.install(|| {
            Repository::new_beside(root, files, settings, |repo| {
                (!incremental).then(|| validate(repo, schema_settings, None))
            })
        });
        self.repo = repo;
        self.schema = schema.unwrap_or_default();
        if incremental {
            let touched = std::mem::take(&mut self.touched);
            let index: HashMap<&str, usize> = self
                .repo
                .files
                .iter()
                .enumerate()
                .map(|(i, f)| (f.path.as_str(), i))
                .collect();
            let only: HashSet<usize> = touched
                .iter()
                .filter_map(|p| index.get(p.as_str()).copied())
                .collect();
            let mut report = validate(&self.repo, &self.schema_settings, Some(&only));
            for mut f in previous.findings {
                let Some(path) = old_paths.get(f.file) else {
                    continue;
                };
                if touched.contains(path) {
                    continue;
                }
                if let Some(&i) = index.get(path.as_str()) {
                    f.file = i;
                    report.findings.push(f);
                }
            }
            report.findings.sort_by(|a, b| {
                (a.file, a.span.start, &a.message).cmp(&(b.file, b.span.start, &b.message))
            });
            self.schema = report;
        }
        self.touched.clear();
        self.schemas_changed = false;
    }

    /// Remembers what the model's files, their directories and the
    /// configuration file look like on disk, for `disk_changes`.
    pub fn watch_disk(&mut self) {
        self.disk = Some(DiskState::of(&self.root, &self.repo, None));
    }

    /// What changed on disk since `watch_disk` (or the last call): a cheap
    /// check, one `stat` a file and a directory, and a listing of the
    /// directories whose time changed. The snapshot is taken again.
    pub fn disk_changes(&mut self) -> DiskChanges {
        let Some(old) = self.disk.take() else {
            return DiskChanges::default();
        };
        let new = DiskState::of(&self.root, &self.repo, Some(&old));
        let mut changes = DiskChanges {
            config: old.config != new.config,
            // A YAML file or a directory added, removed or renamed.
            rescan: old
                .dirs
                .iter()
                .any(|(d, (_, entries))| new.dirs.get(d).is_none_or(|(_, now)| now != entries)),
            changed: Vec::new(),
        };
        for (rel, stamp) in &new.files {
            if old.files.get(rel).is_some_and(|was| was != stamp) {
                changes.changed.push(rel.clone());
            }
        }
        changes.changed.sort();
        self.disk = Some(new);
        changes
    }
}

/// What `disk_changes` found.
#[derive(Debug, Default)]
pub struct DiskChanges {
    /// The configuration file changed: open the session again.
    pub config: bool,
    /// A directory gained or lost a YAML file or a directory: walk again.
    pub rescan: bool,
    /// Files of the model whose size or modification time changed (or that
    /// are gone): read them again.
    pub changed: Vec<String>,
}

type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::symlink_metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Modification times and sizes of the model's files and of the
/// configuration file, and of their directories (and the directories above
/// them, up to the root) the time and the YAML files and directories listed.
#[derive(Debug)]
struct DiskState {
    files: HashMap<String, Stamp>,
    dirs: HashMap<String, (Option<SystemTime>, Vec<String>)>,
    config: Stamp,
}

impl DiskState {
    /// The state now; a directory whose time is what `old` saw is not listed again.
    fn of(root: &Path, repo: &Repository, old: Option<&DiskState>) -> DiskState {
        let mut dirs = BTreeSet::from([String::new()]);
        let mut files = HashMap::new();
        for f in &repo.files {
            files.insert(f.path.to_string(), stamp(&root.join(&*f.path)));
            let mut rel = f.path.as_str();
            while let Some(i) = rel.rfind('/') {
                rel = &rel[..i];
                if !dirs.insert(rel.to_string()) {
                    break;
                }
            }
        }
        let dirs = dirs
            .into_iter()
            .map(|d| {
                let path = root.join(&d);
                let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
                let entries = match old.and_then(|o| o.dirs.get(&d)) {
                    Some((t, entries)) if *t == modified && modified.is_some() => entries.clone(),
                    _ => listing(&path),
                };
                (d, (modified, entries))
            })
            .collect();
        DiskState {
            files,
            dirs,
            config: stamp(&root.join(config::FILE_NAME)),
        }
    }
}

/// The YAML files and the directories in a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let dir = e.file_type().is_ok_and(|t| t.is_dir());
            ((dir && name != ".git" && name != crate::cache::DIR_NAME) || is_yaml(&name))
                .then_some(name)
        })
        .collect();
    names.sort();
    names
}

/// Schema validation of the files in `only` (`None`: every file); nothing
/// when no schema rule runs.
fn validate(
    repo: &crate::model::Classified,
    settings: &SchemaSettings,
    only: Option<&HashSet<FileId>>,
) -> SchemaReport {
    if settings.skip {
        return SchemaReport::default();
    }
    crate::schema::validate_files(repo, settings, only)
}

/// `path` relative to `root`, when it is under it (also through a symbolic
/// link, or for a file not on disk yet).
pub fn relative_to(root: &Path, path: &Path) -> Option<String> {
    if let Ok(rest) = path.strip_prefix(root) {
        return Some(walk::relative(root, &root.join(rest)));
    }
    let mut existing = path;
    let mut rest = Vec::new();
    while !existing.exists() {
        rest.push(existing.file_name()?);
        existing = existing.parent()?;
    }
    let mut resolved = existing.canonicalize().ok()?;
    resolved.extend(rest.iter().rev());
    resolved
        .starts_with(root)
        .then(|| walk::relative(root, &resolved))
}

/// A file that may define a CRD, and so change the schemas.
fn has_crd(file: &SourceFile) -> bool {
    file.text().contains("CustomResourceDefinition")
}

pub fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// The home directory, canonical.
pub fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .and_then(|h| PathBuf::from(h).canonicalize().ok())
}

/// Whether a directory may not be a repository root: the whole of it would
/// be read (`/`, the home directory).
pub fn forbidden_root(dir: &Path) -> bool {
    dir.parent().is_none() || home().is_some_and(|h| h == dir)
}

fn matches_selector(id: &str, selector: &str) -> bool {
    id == selector || (selector.ends_with('/') && id.starts_with(selector))
}

/// The rules that run, with the severity each reports at (`None`: its own).
pub fn active_rules(selection: &Selection, config: &Config) -> Result<Vec<ActiveRule>, Error> {
    for s in selection
        .select
        .iter()
        .chain(&selection.extend_select)
        .chain(&selection.ignore)
    {
        if !RULES.iter().any(|r| matches_selector(r.id, s)) {
            return Err(Error::Usage(format!(
                "`{s}` names no rule or family (see `gitops-lint rules`)"
            )));
        }
    }
    let named = |r: &Rule, list: &[String]| list.iter().any(|s| matches_selector(r.id, s));
    // As in ruff: what the command line selects runs, at its configured
    // severity when the configuration gives one, whatever its default.
    let level = |r: &Rule| match config.rules.get(r.id) {
        Some(Level::On(sev)) => Some(Level::On(*sev)),
        _ => None,
    };
    let mut active: Vec<ActiveRule> = if selection.select.is_empty() {
        let mut active = configured_rules(config);
        for r in RULES.iter().copied() {
            if named(r, &selection.extend_select) && !active.iter().any(|(a, _)| a.id == r.id) {
                active.push((r, level(r)));
            }
        }
        active.sort_by_key(|(r, _)| r.id);
        active
    } else {
        RULES
            .iter()
            .copied()
            .filter(|r| named(r, &selection.select) || named(r, &selection.extend_select))
            .map(|r| (r, level(r)))
            .collect()
    };
    active.retain(|(r, _)| !named(r, &selection.ignore));
    Ok(active)
}

/// The rules a configuration leaves on, with the severity each reports at.
pub fn configured_rules(config: &Config) -> Vec<ActiveRule> {
    RULES
        .iter()
        .copied()
        .filter_map(|r| match config.rules.get(r.id) {
            Some(Level::Off) => None,
            Some(level) => Some((r, Some(*level))),
            None => r.enabled.then_some((r, None)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_alone_gets_no_cross_file_findings() {
        let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - missing.yaml\n";
        let mut alone = Session::alone(Path::new("/nowhere/kustomization.yaml"), kustomization);
        assert!(alone.standalone);
        assert!(alone.lint(None).is_empty());
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  interval: 1h\n  retryInterval: 2m\n";
        let mut alone = Session::alone(Path::new("/nowhere/hr.yaml"), hr);
        let rules: Vec<_> = alone.lint(None).iter().map(|d| d.rule).collect();
        assert_eq!(rules, ["flux/no-retry-interval"]);
    }

    #[test]
    fn buffers_over_the_limit_are_not_parsed() {
        let big = "a: 1\n".repeat(walk::MAX_FILE_BYTES as usize / 5 + 1);
        let f = buffer_file("big.yaml".into(), &big);
        assert!(f.text().is_empty());
        let f = buffer_file("small.yaml".into(), "a: 1\n");
        assert_eq!(f.text(), "a: 1\n");
    }
}
