//! One entry for the command line, the tests and editors: options in, report out.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use globset::{Glob, GlobSetBuilder};
use rayon::prelude::*;

use crate::config::{self, Config, ConfigError, Level};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{ModelSettings, Repository};
use crate::rules::{self, RULES, Rule};
use crate::suppress;
use crate::walk::{self, WalkOptions};

#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Directories (repository roots) or files; empty means the current directory.
    pub paths: Vec<PathBuf>,
    /// An editor buffer: the path it stands for and its content.
    pub stdin: Option<(PathBuf, String)>,
    pub config: Option<PathBuf>,
    /// Only these rules (ids or family prefixes), turned on even where they
    /// are off by default or in the configuration.
    pub select: Vec<String>,
    /// These rules besides the configured ones, turned on likewise.
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
}

/// Why a run could not be made (exit status 2).
#[derive(Debug)]
pub enum Error {
    Usage(String),
    Config(ConfigError),
    Io(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Io(m) => f.write_str(m),
            Error::Config(e) => write!(f, "{e}"),
        }
    }
}

pub struct Report {
    pub repo: Repository,
    /// Sorted by path, line, column, rule.
    pub diagnostics: Vec<Diagnostic>,
    pub elapsed: Duration,
}

/// What to read and what to report.
struct Target {
    root: PathBuf,
    /// Relative paths whose findings are reported; `None` reports everything.
    only: Option<BTreeSet<String>>,
    overrides: HashMap<String, String>,
}

fn canonical(p: &Path) -> Result<PathBuf, Error> {
    p.canonicalize()
        .map_err(|e| Error::Io(format!("{}: {e}", p.display())))
}

fn target(opts: &Options) -> Result<Target, Error> {
    if let Some((path, text)) = &opts.stdin {
        let abs = if path.is_absolute() {
            path.clone()
        } else {
            std::env::current_dir()
                .map_err(|e| Error::Io(e.to_string()))?
                .join(path)
        };
        // The buffer's file (and its directories) may not exist on disk yet.
        let mut existing = abs
            .parent()
            .ok_or_else(|| Error::Usage("--stdin-filename needs a file path".into()))?;
        while !existing.exists() {
            existing = existing.parent().unwrap_or(Path::new("/"));
        }
        let rest = abs.strip_prefix(existing).unwrap_or(&abs).to_path_buf();
        let existing = canonical(existing)?;
        let root = walk::discover_root(&existing);
        let rel = walk::relative(&root, &existing.join(rest));
        return Ok(Target {
            root,
            only: Some(BTreeSet::from([rel.clone()])),
            overrides: HashMap::from([(rel, text.clone())]),
        });
    }
    let paths = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let mut root: Option<PathBuf> = None;
    let mut only: Option<BTreeSet<String>> = None;
    let mut files = Vec::new();
    for p in &paths {
        let abs = canonical(p)?;
        let this_root = if abs.is_dir() {
            only = None;
            abs.clone()
        } else {
            files.push(abs.clone());
            let dir = abs.parent().unwrap_or(Path::new("/"));
            // Without a marker above: the current directory when the file
            // lies under it, otherwise the file's directory.
            walk::find_marker(dir).unwrap_or_else(|| {
                std::env::current_dir()
                    .ok()
                    .and_then(|cwd| cwd.canonicalize().ok())
                    .filter(|cwd| abs.starts_with(cwd))
                    .unwrap_or_else(|| dir.to_path_buf())
            })
        };
        if this_root.parent().is_none() || home().is_some_and(|h| h == this_root) {
            return Err(Error::Usage(format!(
                "{} would make {} the repository root, and the whole of it would be read: run from the repository, or mark its root with `.gitops-lint.yaml` (`gitops-lint init`) or `git init`",
                p.display(),
                this_root.display()
            )));
        }
        match &root {
            None => root = Some(this_root),
            Some(r) if *r == this_root => {}
            Some(r) => {
                return Err(Error::Usage(format!(
                    "{} and {} are in different repository roots; lint one root at a time",
                    r.display(),
                    this_root.display()
                )));
            }
        }
    }
    let root = root.unwrap_or_default();
    if paths.iter().all(|p| !p.is_dir()) {
        only = Some(files.iter().map(|f| walk::relative(&root, f)).collect());
    }
    Ok(Target {
        root,
        only,
        overrides: HashMap::new(),
    })
}

/// The home directory, canonical.
fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .and_then(|h| PathBuf::from(h).canonicalize().ok())
}

fn matches_selector(id: &str, selector: &str) -> bool {
    id == selector || (selector.ends_with('/') && id.starts_with(selector))
}

/// The rules that run, with the severity each reports at (`None`: its own).
fn active_rules(
    opts: &Options,
    config: &Config,
) -> Result<Vec<(&'static Rule, Option<Level>)>, Error> {
    for s in opts
        .select
        .iter()
        .chain(&opts.extend_select)
        .chain(&opts.ignore)
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
    let mut active: Vec<(&'static Rule, Option<Level>)> = if opts.select.is_empty() {
        let mut active = configured_rules(config);
        for r in RULES.iter().copied() {
            if named(r, &opts.extend_select) && !active.iter().any(|(a, _)| a.id == r.id) {
                active.push((r, level(r)));
            }
        }
        active.sort_by_key(|(r, _)| r.id);
        active
    } else {
        RULES
            .iter()
            .copied()
            .filter(|r| named(r, &opts.select) || named(r, &opts.extend_select))
            .map(|r| (r, level(r)))
            .collect()
    };
    active.retain(|(r, _)| !named(r, &opts.ignore));
    Ok(active)
}

pub fn run(opts: &Options) -> Result<Report, Error> {
    let started = Instant::now();
    let phase = crate::timing::Phases::start();
    let (mut repo, target, active, threads) = load(opts, true, &phase)?;
    if let Some(only) = &target.only {
        let ids: Vec<_> = only.iter().filter_map(|p| repo.file_id(p)).collect();
        repo.set_focus(Some(&ids));
    }
    phase.mark("model");
    let pool = pool(threads)?;
    let diagnostics = pool.install(|| lint_model(&repo, &active, &phase));
    phase.mark("suppress+sort");
    Ok(Report {
        repo,
        diagnostics,
        elapsed: started.elapsed(),
    })
}

/// The model of the repository the options name, built as `run` builds it
/// but with no rule run (nor schema validation), and the relative paths
/// named in it (empty when a directory, the root, is named).
pub fn model(opts: &Options) -> Result<(Repository, Vec<String>), Error> {
    let phase = crate::timing::Phases::start();
    let (repo, target, _, _) = load(opts, false, &phase)?;
    let only = target
        .only
        .map(|o| o.into_iter().collect())
        .unwrap_or_default();
    Ok((repo, only))
}

fn pool(threads: usize) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Io(e.to_string()))
}

type Active = Vec<(&'static Rule, Option<Level>)>;

/// Reads the configuration and the files and builds the model (validating
/// schemas only when `rules` is set and a schema rule runs).
fn load(
    opts: &Options,
    rules: bool,
    phase: &crate::timing::Phases,
) -> Result<(Repository, Target, Active, usize), Error> {
    let target = target(opts)?;
    let config_path = opts.config.clone().or_else(|| {
        let p = target.root.join(config::FILE_NAME);
        p.exists().then_some(p)
    });
    let config = match &config_path {
        Some(p) => Config::load(p).map_err(Error::Config)?,
        None => Config::default(),
    };
    let active = active_rules(opts, &config)?;

    let mut exclude = GlobSetBuilder::new();
    for pattern in &config.exclude {
        let glob = Glob::new(pattern)
            .map_err(|e| Error::Usage(format!("exclude pattern `{pattern}`: {e}")))?;
        exclude.add(glob);
    }
    let exclude = exclude.build().map_err(|e| Error::Usage(e.to_string()))?;
    let threads = opts
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = pool(threads)?;

    let mut files = walk::walk(
        &target.root,
        &WalkOptions {
            exclude: &exclude,
            overrides: &target.overrides,
            threads,
        },
    );
    // A file named on the command line is linted even where an ignore file
    // matches it (git may track it all the same); `exclude` still applies.
    if let Some(only) = &target.only {
        let mut added = false;
        for rel in only {
            if !exclude.is_match(rel)
                && !files.iter().any(|f| &f.path == rel)
                && let Some(file) = walk::read_named(&target.root, rel)
            {
                files.push(file);
                added = true;
            }
        }
        if added {
            files.sort_by(|a, b| a.path.cmp(&b.path));
        }
    }
    phase.mark("walk+read+parse");
    let base = config_path
        .as_deref()
        .and_then(Path::parent)
        .map_or_else(|| target.root.clone(), Path::to_path_buf);
    let mut schema = config
        .schema_settings(config_path.as_deref(), &base)
        .map_err(Error::Config)?;
    schema.skip = !rules || !active.iter().any(|(r, _)| r.id.starts_with("schema/"));
    let repo = pool.install(|| {
        Repository::new(
            target.root.clone(),
            files,
            &ModelSettings {
                dual_stack: config.dual_stack,
                listener_ports: config.listener_ports.clone(),
                schema,
            },
        )
    });
    if let Some(e) = repo.schema.errors.first() {
        return Err(Error::Config(ConfigError {
            path: config_path.clone().unwrap_or_default(),
            line: 1,
            column: 1,
            message: e.clone(),
        }));
    }

    Ok((repo, target, active, threads))
}

/// The rules a configuration leaves on, with the severity each reports at.
pub fn configured_rules(config: &Config) -> Vec<(&'static Rule, Option<Level>)> {
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

/// Runs `active` over a built model (in parallel, in the current pool), then
/// applies suppressions and sorts. Findings of files outside the model's focus
/// are left out. With `GITOPS_LINT_TIMING` set, each rule's time goes to stderr.
pub fn lint_model(
    repo: &Repository,
    active: &[(&'static Rule, Option<Level>)],
    phase: &crate::timing::Phases,
) -> Vec<Diagnostic> {
    let on = phase.on;
    let diagnostics: Vec<Diagnostic> = active
        .par_iter()
        .flat_map_iter(|(rule, level)| {
            let mut out = Vec::new();
            if let Some(check) = rule.check {
                let started = Instant::now();
                let mut ctx = rules::Ctx::new(repo, rule);
                check(&mut ctx);
                out = ctx.into_findings();
                undeployed_as_warnings(repo, &mut out);
                if on {
                    eprintln!(
                        "timing:   rule {} {:.2} ms",
                        rule.id,
                        started.elapsed().as_secs_f64() * 1000.0
                    );
                }
            }
            if let Some(Level::On(sev)) = level {
                out.iter_mut().for_each(|d| d.severity = *sev);
            }
            out
        })
        .collect();
    phase.mark("rules");
    let ran = |id: &str| active.iter().any(|(r, _)| r.id == id);
    let mut diagnostics = suppress::apply(repo, diagnostics, &ran);
    let unused = rules::unused_rule().id;
    if let Some((_, Some(Level::On(sev)))) = active.iter().find(|(r, _)| r.id == unused) {
        diagnostics
            .iter_mut()
            .filter(|d| d.rule == unused)
            .for_each(|d| d.severity = *sev);
    }
    sort(&mut diagnostics);
    diagnostics
}

/// Every rule over an already-built model, on this thread, with suppressions
/// applied and findings sorted: for in-memory repositories (fuzzing, editors).
pub fn check_repository(repo: &Repository) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for rule in RULES.iter().filter(|r| r.enabled) {
        if let Some(check) = rule.check {
            let mut ctx = rules::Ctx::new(repo, rule);
            check(&mut ctx);
            diagnostics.extend(ctx.into_findings());
        }
    }
    undeployed_as_warnings(repo, &mut diagnostics);
    let mut diagnostics = suppress::apply(repo, diagnostics, &|id| {
        rules::find(id).is_some_and(|r| r.enabled)
    });
    sort(&mut diagnostics);
    diagnostics
}

/// The severity policy: an error means breakage in a file something deploys.
/// In a file that holds objects none of which reaches a cluster (an
/// `.archive/` tree, an app commented out of its `kustomization.yaml`), the
/// same finding is a warning that says so. A configured severity still wins.
fn undeployed_as_warnings(repo: &Repository, diagnostics: &mut [Diagnostic]) {
    for d in diagnostics {
        if d.severity == Severity::Error && repo.file_deployed(d.file) == Some(false) {
            d.severity = Severity::Warning;
            d.message.push_str(UNDEPLOYED);
        }
    }
}

/// What a finding in a file nothing deploys adds to its message.
pub const UNDEPLOYED: &str = " (nothing deploys this file: no applied Flux Kustomization or top-level kustomization builds it, so this is a warning)";

fn sort(diagnostics: &mut [Diagnostic]) {
    // Files are sorted by path, so the file index orders by path; within a
    // file, byte offsets order as lines and columns do.
    diagnostics.sort_by(|a, b| {
        (a.file, a.span.start, a.rule, &a.message).cmp(&(b.file, b.span.start, b.rule, &b.message))
    });
}
