//! `gitops-lint lsp`: a language server on standard input and output.
//!
//! The workspace root is walked and parsed once, at start. An edit re-parses
//! only the edited buffer, rebuilds the model (one thread, fast) and runs the
//! rules again, so a finding that depends on other files (a Component and the
//! kustomizations that include it, a cluster's address families) is right in
//! the editor too. Open buffers replace their files on disk; closing a buffer
//! brings the file on disk back.
//!
//! Positions are sent the way LSP wants them: 0-based lines and UTF-16 code
//! units within the line.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use globset::{Glob, GlobSet, GlobSetBuilder};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;

use crate::config::{self, Config, ConfigError};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{ModelSettings, Repository};
use crate::rules;
use crate::source::SourceFile;
use crate::walk::{self, WalkOptions};
use crate::yaml::Span;

const SOURCE: &str = "gitops-lint";

/// Serves one client on standard input and output until it sends `exit`.
/// `Err` when the client left without `shutdown`, or the protocol broke.
pub fn serve() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let result = serve_connection(&connection);
    if result.is_ok() {
        // The reader stopped at `exit`; the writer stops once every sender is gone,
        // after writing what it was given.
        drop(connection);
        io_threads
            .join()
            .map_err(|e| format!("language server I/O: {e}"))?;
    }
    result
}

/// The server over any connection (standard I/O, or in memory for tests).
pub fn serve_connection(connection: &Connection) -> Result<(), String> {
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| format!("language server: {e}"))?;
    let params: lsp::InitializeParams = serde_json::from_value(params)
        .map_err(|e| format!("language server: bad initialize parameters: {e}"))?;
    let result = lsp::InitializeResult {
        capabilities: capabilities(),
        server_info: Some(lsp::ServerInfo {
            name: SOURCE.to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    // `initialized` is taken by the main loop, so that a client that sends
    // something else first is not turned away.
    let mut server = Server::new(connection, &params);
    server.send(Response::new_ok(id, result).into())?;
    server.main_loop()
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::FULL),
                save: Some(lsp::TextDocumentSyncSaveOptions::SaveOptions(
                    lsp::SaveOptions {
                        include_text: Some(false),
                    },
                )),
                ..Default::default()
            },
        )),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![
                    lsp::CodeActionKind::QUICKFIX,
                    lsp::CodeActionKind::SOURCE_FIX_ALL,
                ]),
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

/// The root that `initialize` names: the first workspace folder, else `rootUri`,
/// else `rootPath`.
#[allow(deprecated)] // rootUri and rootPath: older clients send only these.
fn initial_root(params: &lsp::InitializeParams) -> Option<PathBuf> {
    params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .and_then(|f| uri_to_path(&f.uri))
        .or_else(|| params.root_uri.as_ref().and_then(uri_to_path))
        .or_else(|| params.root_path.as_ref().map(PathBuf::from))
}

// ---------------------------------------------------------------------------
// Paths and URIs

/// `file://` URI of an absolute path, percent-encoding all but unreserved characters.
pub fn path_to_uri(path: &Path) -> lsp::Uri {
    let mut s = path.to_string_lossy().replace('\\', "/");
    if !s.starts_with('/') {
        // A Windows drive path: file:///C:/...
        s.insert(0, '/');
    }
    let mut out = String::from("file://");
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    lsp::Uri::from_str(&out).expect("a percent-encoded file URI parses")
}

/// The local path of a `file:` URI; `None` for other schemes and remote hosts.
pub fn uri_to_path(uri: &lsp::Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.get(..5).filter(|p| p.eq_ignore_ascii_case("file:"))?;
    let mut rest = &s[rest.len()..];
    if let Some(after) = rest.strip_prefix("//") {
        let slash = after.find('/').unwrap_or(after.len());
        let host = &after[..slash];
        if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
            return None;
        }
        rest = &after[slash..];
    }
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let bytes = percent_decode(&rest[..end])?;
    let path = String::from_utf8(bytes).ok()?;
    if cfg!(windows) {
        let b = path.as_bytes();
        if b.len() >= 3 && b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':' {
            return Some(PathBuf::from(&path[1..]));
        }
    }
    Some(PathBuf::from(path))
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Reads one file of the repository again, as the walk reads it (a FIFO or
/// an unreadable file gives a finding, never a hang).
fn read_file(root: &Path, rel: String) -> SourceFile {
    walk::read_path(&root.join(&rel), rel)
}

/// The map key of a document: its URI as the client spells it.
fn key(uri: &lsp::Uri) -> String {
    uri.as_str().to_string()
}

/// A file that may define a CRD, and so change the schemas.
fn has_crd(file: &SourceFile) -> bool {
    file.text.contains("CustomResourceDefinition")
}

fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

// ---------------------------------------------------------------------------
// Positions

/// The LSP position of a byte offset: 0-based line, UTF-16 code units into the line.
pub fn lsp_position(file: &SourceFile, offset: u32) -> lsp::Position {
    let text = &file.text;
    let mut offset = (offset as usize).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line = file.position(offset as u32).line;
    let start = file.line_start(line) as usize;
    let character = text[start..offset].encode_utf16().count();
    lsp::Position::new((line - 1) as u32, character as u32)
}

pub fn lsp_range(file: &SourceFile, span: Span) -> lsp::Range {
    lsp::Range::new(lsp_position(file, span.start), lsp_position(file, span.end))
}

/// UTF-16 length of a string.
fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// Line `line` (0-based) of `text` without its line break, and the break ("" on the last line).
fn nth_line(text: &str, line: u32) -> Option<(&str, &str)> {
    let raw = text.split_inclusive('\n').nth(line as usize).or_else(|| {
        // The empty line after a final line break, or an empty file.
        let count = text.split_inclusive('\n').count();
        (line as usize == count && (text.is_empty() || text.ends_with('\n'))).then_some("")
    })?;
    let body = raw.trim_end_matches(['\n', '\r']);
    Some((body, &raw[body.len()..]))
}

// ---------------------------------------------------------------------------
// Code actions

/// The edit that adds `# gitops-lint: disable-next-line=RULE` above `line`
/// (0-based), indented like that line; when the line above is already such a
/// comment, the rule is added to its list instead.
pub fn disable_edit(text: &str, line: u32, rule: &str) -> lsp::TextEdit {
    const DIRECTIVE: &str = "# gitops-lint: disable-next-line=";
    if line > 0
        && let Some((above, _)) = nth_line(text, line - 1)
    {
        let trimmed = above.trim_start();
        if let Some(ids) = trimmed.strip_prefix(DIRECTIVE) {
            let ids_start = above.len() - ids.len();
            let ids_end = ids_start + ids.find(char::is_whitespace).unwrap_or(ids.len());
            if ids_end > ids_start {
                let at = lsp::Position::new(line - 1, utf16_len(&above[..ids_end]));
                return lsp::TextEdit::new(lsp::Range::new(at, at), format!(",{rule}"));
            }
        }
    }
    let (body, newline) = nth_line(text, line).unwrap_or(("", ""));
    let indent = &body[..body.len() - body.trim_start_matches([' ', '\t']).len()];
    let newline = match newline {
        "" if text.contains("\r\n") => "\r\n",
        "" => "\n",
        other => other,
    };
    let at = lsp::Position::new(line, 0);
    lsp::TextEdit::new(
        lsp::Range::new(at, at),
        format!("{indent}{DIRECTIVE}{rule}{newline}"),
    )
}

/// Findings a `# gitops-lint:` comment cannot silence: the suppression pass's own,
/// and files that were never read.
fn suppressible(rule: &str) -> bool {
    rule != rules::unused_rule().id && rule != rules::lint::skipped_file::RULE.id
}

fn kind_wanted(kind: &lsp::CodeActionKind, only: Option<&Vec<lsp::CodeActionKind>>) -> bool {
    only.is_none_or(|only| {
        only.iter().any(|o| {
            kind.as_str() == o.as_str()
                || kind
                    .as_str()
                    .strip_prefix(o.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    })
}

fn overlaps(a: &lsp::Range, b: &lsp::Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

// ---------------------------------------------------------------------------
// Linting

/// Every rule the configuration leaves on, with its severity, then suppressions:
/// what `run` does, over a model that is already built.
fn lint(repo: &Repository, config: &Config) -> Vec<Diagnostic> {
    let phase = crate::timing::Phases::start();
    crate::run::lint_model(repo, &crate::run::configured_rules(config), &phase)
}

/// A finding as the editor gets it, with what the code actions need.
#[derive(Debug, Clone)]
struct Finding {
    diagnostic: lsp::Diagnostic,
    rule: &'static str,
    /// The fix's title and its edits, with their byte spans to order them.
    fix: Option<(String, Vec<(Span, lsp::TextEdit)>)>,
}

fn severity(s: Severity) -> lsp::DiagnosticSeverity {
    match s {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
    }
}

/// Converts a finding; `uri_of` names the URI of a repository file.
fn to_finding(repo: &Repository, d: &Diagnostic, uri_of: &dyn Fn(&str) -> lsp::Uri) -> Finding {
    let file = &repo.files[d.file];
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .map(|r| {
            let other = &repo.files[r.file];
            lsp::DiagnosticRelatedInformation {
                location: lsp::Location::new(uri_of(&other.path), lsp_range(other, r.span)),
                message: r.message.clone(),
            }
        })
        .collect();
    let diagnostic = lsp::Diagnostic {
        range: lsp_range(file, d.span),
        severity: Some(severity(d.severity)),
        code: Some(lsp::NumberOrString::String(d.rule.to_string())),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    };
    let fix = d.fix.as_ref().map(|fix| {
        let edits = fix
            .edits
            .iter()
            .map(|e| {
                (
                    e.span,
                    lsp::TextEdit::new(lsp_range(file, e.span), e.replacement.clone()),
                )
            })
            .collect();
        (fix.message.clone(), edits)
    });
    Finding {
        diagnostic,
        rule: d.rule,
        fix,
    }
}

// ---------------------------------------------------------------------------
// The workspace: the parsed repository and its configuration

struct Workspace {
    root: PathBuf,
    config: Config,
    exclude: GlobSet,
    settings: ModelSettings,
    repo: Repository,
    /// Set when the configuration could not be read (the defaults are used).
    config_error: Option<ConfigError>,
    /// Files replaced or removed since the last rebuild; only their documents
    /// are validated again against the schemas.
    touched: HashSet<String>,
    /// A CRD was among them: every document is validated again.
    schemas_changed: bool,
}

impl Workspace {
    /// Reads the configuration, walks and parses the root; `overrides` are the
    /// open buffers (relative path -> text).
    fn load(root: PathBuf, overrides: &HashMap<String, String>) -> (Workspace, Vec<String>) {
        let mut problems = Vec::new();
        let config_path = root.join(config::FILE_NAME);
        let (config, config_error) = if config_path.exists() {
            match Config::load(&config_path) {
                Ok(c) => (c, None),
                Err(e) => {
                    problems.push(format!("{e} (using the default configuration)"));
                    (Config::default(), Some(e))
                }
            }
        } else {
            (Config::default(), None)
        };
        let mut builder = GlobSetBuilder::new();
        for pattern in &config.exclude {
            match Glob::new(pattern) {
                Ok(g) => {
                    builder.add(g);
                }
                Err(e) => problems.push(format!("exclude pattern `{pattern}`: {e}")),
            }
        }
        let exclude = builder.build().unwrap_or_else(|e| {
            problems.push(e.to_string());
            GlobSet::empty()
        });
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let files = walk::walk(
            &root,
            &WalkOptions {
                exclude: &exclude,
                overrides,
                threads,
            },
        );
        let mut schema = config
            .schema_settings(Some(&config_path), &root)
            .unwrap_or_else(|e| {
                problems.push(e.to_string());
                Default::default()
            });
        schema.skip = !config.enables("schema/");
        let settings = ModelSettings {
            dual_stack: config.dual_stack,
            listener_ports: config.listener_ports.clone(),
            schema,
        };
        let repo = Repository::new(root.clone(), files, &settings);
        let ws = Workspace {
            root,
            config,
            exclude,
            settings,
            repo,
            config_error,
            touched: HashSet::new(),
            schemas_changed: false,
        };
        (ws, problems)
    }

    fn file_index(&self, rel: &str) -> Result<usize, usize> {
        self.repo
            .files
            .binary_search_by(|f| f.path.as_str().cmp(rel))
    }

    /// Puts `file` in place of the file with its path (or adds it). An edit
    /// that leaves the builds as they were updates the model at once (only the
    /// file is validated against the schemas again); any other waits for `rebuild`.
    fn replace(&mut self, file: SourceFile) {
        let crd = has_crd(&file)
            || self
                .file_index(&file.path)
                .is_ok_and(|i| has_crd(&self.repo.files[i]));
        // With a rebuild pending the model is stale already: it waits too.
        let file = if self.touched.is_empty() && !crd {
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

    /// Validates one file against the schemas again, keeping the findings of the others.
    fn revalidate(&mut self, id: usize) {
        if self.settings.schema.skip {
            return;
        }
        let only = HashSet::from([id]);
        let report = crate::schema::validate_files(&self.repo, &self.settings.schema, Some(&only));
        let schema = &mut self.repo.schema;
        schema.findings.retain(|f| f.file != id);
        schema.findings.extend(report.findings);
        schema.findings.sort_by(|a, b| {
            (a.file, a.span.start, &a.message).cmp(&(b.file, b.span.start, &b.message))
        });
        schema.errors = report.errors;
    }

    fn remove(&mut self, rel: &str) {
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

    /// Rebuilds the model over the files as they now are: no file is read or
    /// parsed, and only the touched files are validated against the schemas
    /// again (the findings of the others are kept).
    fn rebuild(&mut self) {
        if self.touched.is_empty() && !self.schemas_changed {
            return; // every change is in the model already
        }
        let files = std::mem::take(&mut self.repo.files);
        let previous = std::mem::take(&mut self.repo.schema);
        let old_paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        let incremental = !self.settings.schema.skip && !self.schemas_changed;
        let mut settings = self.settings.clone();
        settings.schema.skip |= incremental;
        self.repo = Repository::new(self.root.clone(), files, &settings);
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
            let mut report =
                crate::schema::validate_files(&self.repo, &self.settings.schema, Some(&only));
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
            self.repo.schema = report;
        }
        self.touched.clear();
        self.schemas_changed = false;
    }

    /// The path relative to the root, when `path` is under it.
    fn relative(&self, path: &Path) -> Option<String> {
        if let Ok(rest) = path.strip_prefix(&self.root) {
            return Some(walk::relative(&self.root, &self.root.join(rest)));
        }
        // A path through a symbolic link, or not canonical: resolve what exists.
        let mut existing = path;
        let mut rest = Vec::new();
        while !existing.exists() {
            rest.push(existing.file_name()?);
            existing = existing.parent()?;
        }
        let mut resolved = existing.canonicalize().ok()?;
        resolved.extend(rest.iter().rev());
        resolved
            .starts_with(&self.root)
            .then(|| walk::relative(&self.root, &resolved))
    }

    /// Whether a file the walk did not return is linted: only a new YAML file
    /// (not on disk yet) that the configuration does not exclude.
    fn takes_new_file(&self, rel: &str) -> bool {
        is_yaml(rel)
            && !self.root.join(rel).exists()
            && !self.exclude.is_match(rel)
            && !rel.split('/').any(|c| c == ".git")
    }
}

// ---------------------------------------------------------------------------
// The server

/// How an open document is linted.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Linted {
    /// As this file of the workspace (relative path).
    Repo(String),
    /// On its own: a YAML file outside the workspace root.
    Alone,
    /// Not at all: not YAML, ignored, excluded, or a Helm template.
    No,
}

struct Doc {
    uri: lsp::Uri,
    path: PathBuf,
    text: String,
    version: i32,
    linted: Linted,
    findings: Vec<Finding>,
    published: Option<Vec<lsp::Diagnostic>>,
}

struct Server<'a> {
    connection: &'a Connection,
    client: lsp::ClientCapabilities,
    root: Option<PathBuf>,
    ws: Option<Workspace>,
    /// Open documents by URI (as the client spells it).
    docs: HashMap<String, Doc>,
    /// Documents whose text changed since the last lint (their findings are published).
    changed: BTreeSet<String>,
    /// Files whose content in the model changed (buffers, or files on disk).
    model_dirty: bool,
    /// The configuration changed: walk and parse again.
    reload: bool,
    shutdown: bool,
    next_id: i32,
    /// The diagnostic shown on the configuration file, while it cannot be read.
    config_published: Option<(lsp::Uri, lsp::Diagnostic)>,
}

impl<'a> Server<'a> {
    fn new(connection: &'a Connection, params: &lsp::InitializeParams) -> Self {
        let root = initial_root(params).map(|r| r.canonicalize().unwrap_or(r));
        Server {
            connection,
            client: params.capabilities.clone(),
            root,
            ws: None,
            docs: HashMap::new(),
            changed: BTreeSet::new(),
            model_dirty: false,
            reload: false,
            shutdown: false,
            next_id: 0,
            config_published: None,
        }
    }

    fn send(&self, msg: Message) -> Result<(), String> {
        self.connection
            .sender
            .send(msg)
            .map_err(|_| "language server: the connection closed".to_string())
    }

    fn notify<N: lsp::notification::Notification>(&self, params: N::Params) -> Result<(), String> {
        self.send(Notification::new(N::METHOD.to_string(), params).into())
    }

    fn show_message(&self, typ: lsp::MessageType, message: String) -> Result<(), String> {
        self.notify::<lsp::notification::ShowMessage>(lsp::ShowMessageParams { typ, message })
    }

    /// Asks the client to tell about YAML and configuration files changed on
    /// disk (a `git checkout`, another tool), when it can.
    fn register_watchers(&mut self) -> Result<(), String> {
        let dynamic = self
            .client
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        if !dynamic {
            return Ok(());
        }
        let options = lsp::DidChangeWatchedFilesRegistrationOptions {
            watchers: ["**/*.yaml", "**/*.yml"]
                .into_iter()
                .map(|g| lsp::FileSystemWatcher {
                    glob_pattern: lsp::GlobPattern::String(g.to_string()),
                    kind: None,
                })
                .collect(),
        };
        let params = lsp::RegistrationParams {
            registrations: vec![lsp::Registration {
                id: "gitops-lint-watch".to_string(),
                method: lsp::notification::DidChangeWatchedFiles::METHOD.to_string(),
                register_options: serde_json::to_value(options).ok(),
            }],
        };
        self.next_id += 1;
        let req = Request::new(
            RequestId::from(self.next_id),
            lsp::request::RegisterCapability::METHOD.to_string(),
            params,
        );
        self.send(req.into())
    }

    fn main_loop(&mut self) -> Result<(), String> {
        loop {
            let Ok(msg) = self.connection.receiver.recv() else {
                return Err(
                    "language server: the client closed the connection without `exit`".into(),
                );
            };
            if let Some(done) = self.handle(msg)? {
                return done;
            }
            // Take in what else has arrived, so that a burst of edits lints once.
            while let Ok(msg) = self.connection.receiver.try_recv() {
                if let Some(done) = self.handle(msg)? {
                    return done;
                }
            }
            self.flush()?;
        }
    }

    /// Handles one message; `Some` ends the loop with that result.
    fn handle(&mut self, msg: Message) -> Result<Option<Result<(), String>>, String> {
        match msg {
            Message::Request(req) => self.request(req)?,
            Message::Response(_) => {} // registerCapability's answer
            Message::Notification(n) if n.method == lsp::notification::Exit::METHOD => {
                return Ok(Some(if self.shutdown {
                    Ok(())
                } else {
                    Err("language server: `exit` without `shutdown`".into())
                }));
            }
            Message::Notification(n) => self.notification(n)?,
        }
        Ok(None)
    }

    fn request(&mut self, req: Request) -> Result<(), String> {
        let response = if self.shutdown {
            Response::new_err(
                req.id,
                ErrorCode::InvalidRequest as i32,
                "the server is shutting down".into(),
            )
        } else if req.method == lsp::request::Shutdown::METHOD {
            self.shutdown = true;
            Response::new_ok(req.id, ())
        } else if req.method == lsp::request::CodeActionRequest::METHOD {
            match serde_json::from_value::<lsp::CodeActionParams>(req.params) {
                Ok(params) => {
                    self.flush()?;
                    Response::new_ok(req.id, self.code_actions(&params))
                }
                Err(e) => Response::new_err(req.id, ErrorCode::InvalidParams as i32, e.to_string()),
            }
        } else {
            Response::new_err(
                req.id,
                ErrorCode::MethodNotFound as i32,
                format!("gitops-lint does not handle `{}`", req.method),
            )
        };
        self.send(response.into())
    }

    fn notification(&mut self, n: Notification) -> Result<(), String> {
        use lsp::notification as N;
        let method = n.method.clone();
        let bad =
            |e: serde_json::Error| eprintln!("gitops-lint lsp: bad `{method}` parameters: {e}");
        match n.method.as_str() {
            N::DidOpenTextDocument::METHOD => {
                match serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params) {
                    Ok(p) => self.open(p.text_document)?,
                    Err(e) => bad(e),
                }
            }
            N::DidChangeTextDocument::METHOD => {
                match serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params) {
                    Ok(p) => self.change(p),
                    Err(e) => bad(e),
                }
            }
            N::DidSaveTextDocument::METHOD => {
                match serde_json::from_value::<lsp::DidSaveTextDocumentParams>(n.params) {
                    Ok(p) => self.save(p),
                    Err(e) => bad(e),
                }
            }
            N::DidCloseTextDocument::METHOD => {
                match serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params) {
                    Ok(p) => self.close(p.text_document.uri)?,
                    Err(e) => bad(e),
                }
            }
            N::DidChangeWatchedFiles::METHOD => {
                match serde_json::from_value::<lsp::DidChangeWatchedFilesParams>(n.params) {
                    Ok(p) => self.watched(p),
                    Err(e) => bad(e),
                }
            }
            N::Initialized::METHOD => {
                self.register_watchers()?;
                // Walk and parse now, while the user looks around, not at the first open.
                if let Some(root) = self.root.clone() {
                    self.workspace(&root)?;
                    self.publish_config_error()?;
                }
            }
            _ => {} // $/cancelRequest, $/setTrace, configuration changes...
        }
        Ok(())
    }

    /// The workspace, loaded at first use: the root from `initialize`, or
    /// found from the first document's directory.
    fn workspace(&mut self, hint: &Path) -> Result<&mut Workspace, String> {
        if self.ws.is_none() {
            let root = match &self.root {
                Some(r) => r.clone(),
                None => {
                    let dir = hint.parent().unwrap_or(Path::new("/"));
                    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
                    walk::discover_root(&dir)
                }
            };
            self.root = Some(root.clone());
            let (ws, problems) = Workspace::load(root, &HashMap::new());
            self.ws = Some(ws);
            for p in problems {
                self.show_message(lsp::MessageType::ERROR, format!("gitops-lint: {p}"))?;
            }
        }
        Ok(self.ws.as_mut().expect("loaded above"))
    }

    fn open(&mut self, item: lsp::TextDocumentItem) -> Result<(), String> {
        let Some(path) = uri_to_path(&item.uri) else {
            return Ok(());
        };
        let ws = self.workspace(&path)?;
        let linted = match ws.relative(&path) {
            Some(rel) if ws.file_index(&rel).is_ok() || ws.takes_new_file(&rel) => {
                Linted::Repo(rel)
            }
            Some(_) => Linted::No,
            None if is_yaml(&path.to_string_lossy()) => Linted::Alone,
            None => Linted::No,
        };
        let uri = item.uri;
        self.docs.insert(
            key(&uri),
            Doc {
                uri: uri.clone(),
                path,
                text: item.text,
                version: item.version,
                linted,
                findings: Vec::new(),
                published: None,
            },
        );
        self.changed.insert(key(&uri));
        Ok(())
    }

    fn change(&mut self, p: lsp::DidChangeTextDocumentParams) {
        let Some(doc) = self.docs.get_mut(p.text_document.uri.as_str()) else {
            return;
        };
        // Full synchronisation: the last change holds the whole text.
        if let Some(change) = p
            .content_changes
            .into_iter()
            .rev()
            .find(|c| c.range.is_none())
        {
            doc.text = change.text;
            doc.version = p.text_document.version;
            self.changed.insert(key(&doc.uri));
        }
    }

    fn save(&mut self, p: lsp::DidSaveTextDocumentParams) {
        let Some(doc) = self.docs.get(p.text_document.uri.as_str()) else {
            return;
        };
        if self.is_config(&doc.path) {
            self.reload = true;
        }
        self.changed.insert(key(&doc.uri));
    }

    fn is_config(&self, path: &Path) -> bool {
        self.ws
            .as_ref()
            .and_then(|ws| ws.relative(path))
            .is_some_and(|rel| rel == config::FILE_NAME)
    }

    fn close(&mut self, uri: lsp::Uri) -> Result<(), String> {
        let Some(doc) = self.docs.remove(uri.as_str()) else {
            return Ok(());
        };
        self.changed.remove(uri.as_str());
        if self
            .config_published
            .as_ref()
            .is_some_and(|(u, _)| *u == uri)
        {
            // Shown again under the file's own URI at the next lint.
            self.config_published = None;
            self.model_dirty = true;
        }
        if let (Linted::Repo(rel), Some(ws)) = (&doc.linted, self.ws.as_mut()) {
            // The file on disk is what the repository holds again.
            let on_disk = ws.root.join(rel);
            if on_disk.is_file() {
                let file = read_file(&ws.root, rel.clone());
                ws.replace(file);
            } else {
                ws.remove(rel);
            }
            self.model_dirty = true;
        }
        if doc.published.is_some_and(|p| !p.is_empty()) {
            self.publish(uri, Vec::new(), None)?;
        }
        Ok(())
    }

    fn watched(&mut self, p: lsp::DidChangeWatchedFilesParams) {
        let Some(ws) = self.ws.as_mut() else {
            return;
        };
        let open: BTreeSet<String> = self
            .docs
            .values()
            .filter_map(|d| match &d.linted {
                Linted::Repo(rel) => Some(rel.clone()),
                _ => None,
            })
            .collect();
        for change in p.changes {
            let Some(rel) = uri_to_path(&change.uri).and_then(|p| ws.relative(&p)) else {
                continue;
            };
            if rel == config::FILE_NAME {
                self.reload = true;
            }
            if open.contains(&rel) || !is_yaml(&rel) {
                continue; // the buffer wins over the disk
            }
            if change.typ == lsp::FileChangeType::DELETED {
                ws.remove(&rel);
                self.model_dirty = true;
            } else if ws.file_index(&rel).is_ok() {
                let file = read_file(&ws.root, rel);
                ws.replace(file);
                self.model_dirty = true;
            } else if change.typ == lsp::FileChangeType::CREATED {
                // Whether a new file is linted (ignored, excluded, a chart template)
                // is the walk's to say: walk again.
                self.reload = true;
            }
            // A changed file the walk did not take stays out.
        }
    }

    /// Brings the model up to date with the buffers, lints, and publishes what changed.
    fn flush(&mut self) -> Result<(), String> {
        if self.changed.is_empty() && !self.model_dirty && !self.reload {
            return Ok(());
        }
        if self.reload && self.ws.is_some() {
            let root = self.ws.as_ref().expect("checked").root.clone();
            let overrides: HashMap<String, String> = self
                .docs
                .values()
                .filter_map(|d| match &d.linted {
                    Linted::Repo(rel) => Some((rel.clone(), d.text.clone())),
                    _ => None,
                })
                .collect();
            let (ws, problems) = Workspace::load(root, &overrides);
            self.ws = Some(ws);
            for p in problems {
                self.show_message(lsp::MessageType::ERROR, format!("gitops-lint: {p}"))?;
            }
            // The exclusions may have changed what is linted; a buffer that is
            // linted now and was not replaces what the walk read from disk.
            let ws = self.ws.as_mut().expect("loaded");
            let mut taken = false;
            for doc in self.docs.values_mut() {
                let Some(rel) = ws.relative(&doc.path) else {
                    continue;
                };
                let now = if ws.file_index(&rel).is_ok() {
                    Linted::Repo(rel.clone())
                } else {
                    Linted::No
                };
                if now != Linted::No && doc.linted == Linted::No {
                    ws.replace(SourceFile::from_bytes(rel, doc.text.clone().into_bytes()));
                    taken = true;
                }
                doc.linted = now;
            }
            if taken {
                ws.rebuild();
            }
            self.changed.extend(self.docs.keys().cloned());
        } else if let Some(ws) = self.ws.as_mut() {
            for uri in &self.changed {
                if let Some(Doc {
                    linted: Linted::Repo(rel),
                    text,
                    ..
                }) = self.docs.get(uri)
                {
                    ws.replace(SourceFile::from_bytes(
                        rel.clone(),
                        text.clone().into_bytes(),
                    ));
                    self.model_dirty = true;
                }
            }
            if self.model_dirty {
                ws.rebuild();
            }
        }
        self.reload = false;
        self.model_dirty = false;
        let changed = std::mem::take(&mut self.changed);
        self.publish_config_error()?;

        // Lint the repository, then each document linted on its own.
        let mut found: HashMap<String, Vec<Finding>> = HashMap::new();
        if let Some(ws) = &mut self.ws {
            // Only open documents are published: the rules skip the rest.
            let open: Vec<usize> = self
                .docs
                .values()
                .filter_map(|d| match &d.linted {
                    Linted::Repo(rel) => ws.repo.file_id(rel),
                    _ => None,
                })
                .collect();
            ws.repo.set_focus(Some(&open));
        }
        if let Some(ws) = &self.ws {
            let by_rel: HashMap<&str, &Doc> = self
                .docs
                .values()
                .filter_map(|d| match &d.linted {
                    Linted::Repo(rel) => Some((rel.as_str(), d)),
                    _ => None,
                })
                .collect();
            let uri_of = |rel: &str| match by_rel.get(rel) {
                Some(d) => d.uri.clone(),
                None => path_to_uri(&ws.root.join(rel)),
            };
            for d in lint(&ws.repo, &ws.config) {
                if let Some(doc) = by_rel.get(ws.repo.files[d.file].path.as_str()) {
                    found
                        .entry(key(&doc.uri))
                        .or_default()
                        .push(to_finding(&ws.repo, &d, &uri_of));
                }
            }
        }
        for doc in self
            .docs
            .values()
            .filter(|d| d.linted == Linted::Alone && changed.contains(d.uri.as_str()))
        {
            let dir = doc.path.parent().unwrap_or(Path::new("/")).to_path_buf();
            let name = doc
                .path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let file = SourceFile::from_bytes(name, doc.text.clone().into_bytes());
            let repo = Repository::new(dir.clone(), vec![file], &ModelSettings::default());
            let uri_of = |rel: &str| path_to_uri(&dir.join(rel));
            let findings = lint(&repo, &Config::default())
                .iter()
                .map(|d| to_finding(&repo, d, &uri_of))
                .collect();
            found.insert(key(&doc.uri), findings);
        }

        let mut outgoing = Vec::new();
        for doc in self.docs.values_mut() {
            if doc.linted == Linted::Alone && !changed.contains(doc.uri.as_str()) {
                continue; // nothing it depends on changed
            }
            let findings = found.remove(doc.uri.as_str()).unwrap_or_default();
            let mut diagnostics: Vec<lsp::Diagnostic> =
                findings.iter().map(|f| f.diagnostic.clone()).collect();
            if let Some((uri, d)) = &self.config_published
                && *uri == doc.uri
            {
                diagnostics.insert(0, d.clone());
            }
            doc.findings = findings;
            let fresh = doc.published.as_ref() != Some(&diagnostics);
            if changed.contains(doc.uri.as_str()) || fresh {
                doc.published = Some(diagnostics.clone());
                outgoing.push((doc.uri.clone(), diagnostics, doc.version));
            }
        }
        for (uri, diagnostics, version) in outgoing {
            self.publish(uri, diagnostics, Some(version))?;
        }
        Ok(())
    }

    fn publish(
        &self,
        uri: lsp::Uri,
        diagnostics: Vec<lsp::Diagnostic>,
        version: Option<i32>,
    ) -> Result<(), String> {
        self.notify::<lsp::notification::PublishDiagnostics>(lsp::PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        })
    }

    /// A configuration that cannot be read is shown on the file itself, at its line.
    fn publish_config_error(&mut self) -> Result<(), String> {
        let Some(ws) = &self.ws else {
            return Ok(());
        };
        let wanted = ws.config_error.as_ref().map(|e| {
            let path = ws.root.join(config::FILE_NAME);
            let text = walk::read_text(&path, 1 << 20).unwrap_or_default();
            let line = e.line.saturating_sub(1) as u32;
            let body = nth_line(&text, line).map_or("", |(b, _)| b);
            let prefix: String = body.chars().take(e.column.saturating_sub(1)).collect();
            let at = lsp::Position::new(line, utf16_len(&prefix));
            let diagnostic = lsp::Diagnostic {
                range: lsp::Range::new(at, at),
                severity: Some(lsp::DiagnosticSeverity::ERROR),
                source: Some(SOURCE.to_string()),
                message: format!("{} (the default configuration is used)", e.message),
                ..Default::default()
            };
            // An open configuration file is published under the client's URI.
            let uri = self
                .docs
                .values()
                .find(|d| ws.relative(&d.path).is_some_and(|r| r == config::FILE_NAME))
                .map_or_else(|| path_to_uri(&path), |d| d.uri.clone());
            (uri, diagnostic)
        });
        if wanted == self.config_published {
            return Ok(());
        }
        // An open configuration file gets it with its other findings.
        if let Some((uri, _)) = self.config_published.take()
            && !self.docs.contains_key(uri.as_str())
        {
            self.publish(uri, Vec::new(), None)?;
        }
        if let Some((uri, diagnostic)) = &wanted
            && !self.docs.contains_key(uri.as_str())
        {
            self.publish(uri.clone(), vec![diagnostic.clone()], None)?;
        }
        self.config_published = wanted;
        Ok(())
    }

    fn code_actions(&self, params: &lsp::CodeActionParams) -> Vec<lsp::CodeActionOrCommand> {
        let uri = &params.text_document.uri;
        let Some(doc) = self.docs.get(uri.as_str()) else {
            return Vec::new();
        };
        let only = params.context.only.as_ref();
        let mut actions = Vec::new();
        let edit = |edits: Vec<lsp::TextEdit>| lsp::WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), edits)])),
            ..Default::default()
        };
        let quickfix = lsp::CodeActionKind::QUICKFIX;
        let mut disabled: BTreeSet<(u32, &str)> = BTreeSet::new();
        for f in doc
            .findings
            .iter()
            .filter(|f| overlaps(&f.diagnostic.range, &params.range))
        {
            if let Some((title, edits)) = &f.fix
                && kind_wanted(&quickfix, only)
            {
                actions.push(lsp::CodeAction {
                    title: title.clone(),
                    kind: Some(quickfix.clone()),
                    diagnostics: Some(vec![f.diagnostic.clone()]),
                    edit: Some(edit(edits.iter().map(|(_, e)| e.clone()).collect())),
                    is_preferred: Some(true),
                    ..Default::default()
                });
            }
            let line = f.diagnostic.range.start.line;
            if suppressible(f.rule)
                && kind_wanted(&quickfix, only)
                && disabled.insert((line, f.rule))
            {
                actions.push(lsp::CodeAction {
                    title: format!("Disable {} for this line", f.rule),
                    kind: Some(quickfix.clone()),
                    diagnostics: Some(vec![f.diagnostic.clone()]),
                    edit: Some(edit(vec![disable_edit(&doc.text, line, f.rule)])),
                    ..Default::default()
                });
            }
        }
        // Every safe fix in the file at once (editors run it on save when asked to).
        let fix_all = lsp::CodeActionKind::SOURCE_FIX_ALL;
        if kind_wanted(&fix_all, only) {
            let mut edits: Vec<&(Span, lsp::TextEdit)> = doc
                .findings
                .iter()
                .filter_map(|f| f.fix.as_ref())
                .flat_map(|(_, e)| e)
                .collect();
            edits.sort_by_key(|(s, _)| (s.start, s.end));
            let mut kept: Vec<lsp::TextEdit> = Vec::new();
            let mut end = 0;
            for (i, (span, e)) in edits.iter().enumerate() {
                // Overlapping fixes: the first one wins; the rest wait for the next run.
                if i > 0 && span.start < end {
                    continue;
                }
                end = span.end;
                kept.push(e.clone());
            }
            if !kept.is_empty() {
                actions.push(lsp::CodeAction {
                    title: "Apply every gitops-lint fix".to_string(),
                    kind: Some(fix_all),
                    edit: Some(edit(kept)),
                    ..Default::default()
                });
            }
        }
        actions
            .into_iter()
            .map(lsp::CodeActionOrCommand::CodeAction)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Level;

    fn file(text: &str) -> SourceFile {
        SourceFile::from_bytes("a.yaml".into(), text.as_bytes().to_vec())
    }

    #[test]
    fn positions_count_utf16_code_units() {
        // `é` is 2 bytes and 1 UTF-16 unit; `🚀` is 4 bytes and 2 UTF-16 units.
        let text = "note: é🚀 x\nspec: {a: \"🚀\", retryInterval: 2m}\n";
        let f = file(text);
        let x = text.find('x').unwrap() as u32;
        assert_eq!(lsp_position(&f, x), lsp::Position::new(0, 10));
        let key = text.find("retryInterval").unwrap() as u32;
        assert_eq!(lsp_position(&f, key), lsp::Position::new(1, 16));
        assert_eq!(
            lsp_range(&f, Span::new(key as usize, key as usize + 13)),
            lsp::Range::new(lsp::Position::new(1, 16), lsp::Position::new(1, 29))
        );
        // The end of the file, and an offset inside a character.
        assert_eq!(
            lsp_position(&f, text.len() as u32),
            lsp::Position::new(2, 0)
        );
        let rocket = text.find('🚀').unwrap() as u32;
        assert_eq!(lsp_position(&f, rocket + 1), lsp::Position::new(0, 7));
    }

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/home/me/my repo/ä#1/helmrelease.yaml");
        let uri = path_to_uri(path);
        assert_eq!(
            uri.as_str(),
            "file:///home/me/my%20repo/%C3%A4%231/helmrelease.yaml"
        );
        assert_eq!(uri_to_path(&uri).unwrap(), path);
        let vscode = lsp::Uri::from_str("file://localhost/tmp/a%3Ab.yaml").unwrap();
        assert_eq!(uri_to_path(&vscode).unwrap(), Path::new("/tmp/a:b.yaml"));
        let remote = lsp::Uri::from_str("file://server/share/a.yaml").unwrap();
        assert_eq!(uri_to_path(&remote), None);
        let untitled = lsp::Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(uri_to_path(&untitled), None);
    }

    #[test]
    fn disable_comment_takes_the_line_indentation() {
        let text = "spec:\n  interval: 1h\n  retryInterval: 2m\n";
        let e = disable_edit(text, 2, "flux/no-retry-interval");
        assert_eq!(
            e.range,
            lsp::Range::new(lsp::Position::new(2, 0), lsp::Position::new(2, 0))
        );
        assert_eq!(
            e.new_text,
            "  # gitops-lint: disable-next-line=flux/no-retry-interval\n"
        );
        // Windows line breaks stay Windows line breaks; tabs are kept as written.
        let e = disable_edit("a: 1\r\n\tb: 2\r\n", 1, "yaml/duplicate-key");
        assert_eq!(
            e.new_text,
            "\t# gitops-lint: disable-next-line=yaml/duplicate-key\r\n"
        );
        // The last line, without a final line break.
        let e = disable_edit("a: 1\n  b: 2", 1, "x/y");
        assert_eq!(e.new_text, "  # gitops-lint: disable-next-line=x/y\n");
    }

    #[test]
    fn disable_comment_joins_an_existing_one() {
        let text = "spec:\n  # gitops-lint: disable-next-line=a/b  reason\n  key: 1\n";
        let e = disable_edit(text, 2, "c/d");
        let at = lsp::Position::new(1, 38);
        assert_eq!(e.range, lsp::Range::new(at, at));
        assert_eq!(e.new_text, ",c/d");
    }

    #[test]
    fn the_inserted_comment_suppresses_the_finding() {
        let text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  interval: 1h\n  retryInterval: 2m\n";
        let lint_text = |text: &str| {
            let repo = Repository::new(
                PathBuf::from("/r"),
                vec![file(text)],
                &ModelSettings::default(),
            );
            lint(&repo, &Config::default())
                .iter()
                .map(|d| d.rule)
                .collect::<Vec<_>>()
        };
        assert_eq!(lint_text(text), ["flux/no-retry-interval"]);
        let e = disable_edit(text, 6, "flux/no-retry-interval");
        let at = text.find("  retryInterval").unwrap();
        let fixed = format!("{}{}{}", &text[..at], e.new_text, &text[at..]);
        assert_eq!(lint_text(&fixed), Vec::<&str>::new());
    }

    #[test]
    fn configured_levels_apply() {
        let text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  interval: 1h\n  retryInterval: 2m\n";
        let repo = Repository::new(
            PathBuf::from("/r"),
            vec![file(text)],
            &ModelSettings::default(),
        );
        let mut config = Config::default();
        config
            .rules
            .insert("flux/no-retry-interval".into(), Level::On(Severity::Info));
        let found = lint(&repo, &config);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        config
            .rules
            .insert("flux/no-retry-interval".into(), Level::Off);
        assert!(lint(&repo, &config).is_empty());
    }

    #[test]
    fn code_action_kinds_filter_by_prefix() {
        let fix_all = lsp::CodeActionKind::SOURCE_FIX_ALL;
        assert!(kind_wanted(&fix_all, None));
        assert!(kind_wanted(
            &fix_all,
            Some(&vec![lsp::CodeActionKind::SOURCE])
        ));
        assert!(!kind_wanted(
            &fix_all,
            Some(&vec![lsp::CodeActionKind::QUICKFIX])
        ));
        assert!(!kind_wanted(
            &lsp::CodeActionKind::new("sourcex"),
            Some(&vec![lsp::CodeActionKind::SOURCE])
        ));
    }
}
