//! One entry for the command line, the tests and editors: options in, report out.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::{Config, ConfigError, Level};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Repository;
use crate::rules::{self, RULES, Rule};
use crate::schema::SchemaReport;
use crate::session::{self, Selection, Session, SessionOptions};
use crate::suppress;
use crate::walk;

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
    /// The persistent cache (off unless asked for).
    pub cache: crate::cache::Location,
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

/// The root that a file (which may not exist yet) belongs to: the nearest
/// marker above it; without one, the current directory when the file lies
/// under it, otherwise the file's directory. Never `/` or the home directory.
fn root_of_file(given: &Path, abs: &Path) -> Result<PathBuf, Error> {
    let dir = abs.parent().unwrap_or(Path::new("/"));
    let root = walk::find_marker(dir).unwrap_or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| cwd.canonicalize().ok())
            .filter(|cwd| abs.starts_with(cwd))
            .unwrap_or_else(|| dir.to_path_buf())
    });
    if session::forbidden_root(&root) {
        return Err(Error::Usage(format!(
            "{} would make {} the repository root, and the whole of it would be read: run from the repository, or mark its root with `.gitops-lint.yaml` (`gitops-lint init`) or `git init`",
            given.display(),
            root.display()
        )));
    }
    Ok(root)
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
        let abs = canonical(existing)?.join(rest);
        let root = root_of_file(path, &abs)?;
        let rel = walk::relative(&root, &abs);
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
            if session::forbidden_root(&abs) {
                return Err(Error::Usage(format!(
                    "{} would make {} the repository root, and the whole of it would be read: run from the repository, or mark its root with `.gitops-lint.yaml` (`gitops-lint init`) or `git init`",
                    p.display(),
                    abs.display()
                )));
            }
            abs.clone()
        } else {
            files.push(abs.clone());
            root_of_file(p, &abs)?
        };
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

pub fn run(opts: &Options) -> Result<Report, Error> {
    let started = Instant::now();
    let (mut session, target) = open(opts, false)?;
    let focus: Option<Vec<usize>> = target.only.as_ref().map(|only| {
        only.iter()
            .filter_map(|p| session.repo.file_id(p))
            .collect()
    });
    let diagnostics = session.lint(focus.as_deref());
    let mut repo = session.repo;
    // An editor's buffer is named as the editor named it: an absolute path
    // stays absolute, a relative one is relative to the current directory.
    if let Some((given, _)) = &opts.stdin
        && let Some(rel) = target.overrides.keys().next()
        && let Some(id) = repo.file_id(rel)
    {
        let shown = given.to_string_lossy().replace('\\', "/");
        repo.files[id].path = crate::shared::Text::from(shown.strip_prefix("./").unwrap_or(&shown));
    }
    Ok(Report {
        repo,
        diagnostics,
        elapsed: started.elapsed(),
    })
}

/// The model of the repository the options name, opened as `run` opens it
/// but with no rule run (nor schema validation), and the relative paths
/// named in it (empty when a directory, the root, is named).
pub fn model(opts: &Options) -> Result<(Repository, Vec<String>), Error> {
    let (session, target) = open(opts, true)?;
    let only = target
        .only
        .map(|o| o.into_iter().collect())
        .unwrap_or_default();
    Ok((session.repo, only))
}

/// The session for the options' target.
fn open(opts: &Options, model_only: bool) -> Result<(Session, Target), Error> {
    let target = target(opts)?;
    let (session, _) = Session::open(
        target.root.clone(),
        &SessionOptions {
            config: opts.config.clone(),
            selection: Selection {
                select: opts.select.clone(),
                extend_select: opts.extend_select.clone(),
                ignore: opts.ignore.clone(),
            },
            threads: opts.threads,
            lenient: false,
            model_only,
            cache: opts.cache.clone(),
            one_shot: true,
        },
        &target.overrides,
        target.only.as_ref().unwrap_or(&BTreeSet::new()),
    )?;
    Ok((session, target))
}

/// The rules a configuration leaves on, with the severity each reports at.
pub fn configured_rules(config: &Config) -> Vec<(&'static Rule, Option<Level>)> {
    session::configured_rules(config)
}

/// Runs `active` over a built model (in parallel, in the current pool), then
/// applies suppressions and sorts. Findings of files outside the model's focus
/// are left out. With `GITOPS_LINT_TIMING` set, each rule's time goes to stderr.
pub fn lint_model(
    repo: &Repository,
    schema: &SchemaReport,
    active: &[(&'static Rule, Option<Level>)],
    phase: &crate::timing::Phases,
) -> Vec<Diagnostic> {
    let on = phase.on;
    let diagnostics: Vec<Diagnostic> = active
        .par_iter()
        .with_max_len(1)
        .flat_map_iter(|(rule, level)| {
            let mut out = Vec::new();
            if let Some(check) = rule.check {
                let started = Instant::now();
                let mut ctx = rules::Ctx::new(repo, schema, rule);
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
    let schema = crate::schema::validate(repo, &Default::default());
    let mut diagnostics = Vec::new();
    for rule in RULES.iter().filter(|r| r.enabled) {
        if let Some(check) = rule.check {
            let mut ctx = rules::Ctx::new(repo, &schema, rule);
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
