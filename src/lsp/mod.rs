//! `gitops-lint lsp`: a language server on standard input and output.
//!
//! Each workspace folder is a repository root with its own session (see
//! `crate::session`): walked and parsed once, at start. An edit re-parses
//! only the edited buffer, updates or rebuilds the model and runs the rules
//! again, so a finding that depends on other files is right in the editor
//! too. Open buffers replace their files on disk; closing a buffer brings the
//! file on disk back. A file outside every root is linted alone, without the
//! rules that need the rest of the repository.
//!
//! Bursts of edits are coalesced: messages wait in a queue while the server
//! lints, only the newest text of each document is linted, and findings for
//! a version that a waiting edit replaces are not published.
//!
//! Files created, changed, renamed or deleted on disk are followed from the
//! client's file events where it sends them, and otherwise by a cheap check
//! of the disk every second.

mod actions;
mod conversion;
mod documents;
mod transport;
mod workspace;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;

use crate::config;
use crate::session::{self, Session, buffer_file};
use crate::walk;

pub use actions::disable_edit;
pub use conversion::{lsp_position, lsp_range, path_to_uri, uri_to_path};

use conversion::{Finding, nth_line, to_finding, utf16_len};
use documents::{Doc, Linted, key};
use transport::{Incoming, Received};
use workspace::Folder;

const SOURCE: &str = "gitops-lint";

/// How often the disk is looked at when the client reports no file events.
const POLL: Duration = Duration::from_secs(1);

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
    let incoming = Incoming::start(connection.receiver.clone());
    let mut server = Server::new(connection, incoming, &params);
    server.send(Response::new_ok(id, result).into())?;
    server.main_loop()
}

fn capabilities() -> lsp::ServerCapabilities {
    let yaml_files = lsp::FileOperationRegistrationOptions {
        filters: vec![lsp::FileOperationFilter {
            scheme: Some("file".to_string()),
            pattern: lsp::FileOperationPattern {
                glob: "**/*.{yaml,yml}".to_string(),
                matches: None,
                options: None,
            },
        }],
    };
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
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![
                    lsp::CodeActionKind::QUICKFIX,
                    lsp::CodeActionKind::SOURCE_FIX_ALL,
                ]),
                ..Default::default()
            },
        )),
        workspace: Some(lsp::WorkspaceServerCapabilities {
            workspace_folders: Some(lsp::WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(lsp::OneOf::Left(true)),
            }),
            file_operations: Some(lsp::WorkspaceFileOperationsServerCapabilities {
                did_rename: Some(yaml_files.clone()),
                did_create: Some(yaml_files.clone()),
                did_delete: Some(yaml_files),
                ..Default::default()
            }),
        }),
        ..Default::default()
    }
}

struct Server<'a> {
    connection: &'a Connection,
    incoming: Incoming,
    /// The roots the client named (canonical); empty when it named none.
    client_roots: Vec<PathBuf>,
    folders: Vec<Folder>,
    /// Open documents by URI (as the client spells it).
    docs: HashMap<String, Doc>,
    /// Documents whose text changed since the last lint (their findings are published).
    changed: BTreeSet<String>,
    /// Look at the disk every `POLL`: the client sends no file events.
    poll: bool,
    next_poll: Instant,
    shutdown: bool,
    next_id: i32,
}

impl<'a> Server<'a> {
    fn new(connection: &'a Connection, incoming: Incoming, params: &lsp::InitializeParams) -> Self {
        let watches = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        Server {
            connection,
            incoming,
            client_roots: workspace::client_roots(params),
            folders: Vec::new(),
            docs: HashMap::new(),
            changed: BTreeSet::new(),
            poll: !watches,
            next_poll: Instant::now() + POLL,
            shutdown: false,
            next_id: 0,
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
        if self.poll {
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
            let timeout = self
                .poll
                .then(|| self.next_poll.saturating_duration_since(Instant::now()));
            match self.incoming.recv(timeout) {
                Received::Message(msg) => {
                    if let Some(done) = self.handle(msg)? {
                        return done;
                    }
                    // Take in what else has arrived, so that a burst of edits lints once.
                    while let Some(msg) = self.incoming.try_recv() {
                        if let Some(done) = self.handle(msg)? {
                            return done;
                        }
                    }
                }
                Received::Timeout => {}
                Received::Closed => {
                    return Err(
                        "language server: the client closed the connection without `exit`".into(),
                    );
                }
            }
            if self.poll && Instant::now() >= self.next_poll {
                self.look_at_disk();
                self.next_poll = Instant::now() + POLL;
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
                    let found = self.docs.get(params.text_document.uri.as_str());
                    let result = found.map_or_else(Vec::new, |doc| {
                        actions::code_actions(&params, &doc.text, &doc.findings)
                    });
                    Response::new_ok(req.id, result)
                }
                Err(e) => Response::new_err(req.id, ErrorCode::InvalidParams as i32, e.to_string()),
            }
        } else if req.method == lsp::request::HoverRequest::METHOD {
            match serde_json::from_value::<lsp::HoverParams>(req.params) {
                Ok(params) => {
                    self.flush()?;
                    let at = params.text_document_position_params;
                    Response::new_ok(
                        req.id,
                        self.hover(at.text_document.uri.as_str(), at.position),
                    )
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

    /// What explain says of the object whose `kind` or name is under the
    /// cursor, in short: for a document of a repository (a file linted alone
    /// has no builds to explain).
    fn hover(&self, uri: &str, pos: lsp::Position) -> Option<lsp::Hover> {
        let doc = self.docs.get(uri)?;
        let Linted::Repo { root, rel } = &doc.linted else {
            return None;
        };
        let folder = self.folders.iter().find(|f| f.root() == root)?;
        let repo = &folder.session.repo;
        let file = repo.file_id(rel)?;
        let offset = conversion::byte_offset(repo.files[file].text(), pos)?;
        let value = crate::explain::hover(repo, file, offset)?;
        Some(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value,
            }),
            range: None,
        })
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
            N::DidRenameFiles::METHOD => {
                match serde_json::from_value::<lsp::RenameFilesParams>(n.params) {
                    Ok(p) => {
                        let paths = p.files.iter().flat_map(|f| [&f.old_uri, &f.new_uri]);
                        self.files_moved(paths.map(String::as_str));
                    }
                    Err(e) => bad(e),
                }
            }
            N::DidCreateFiles::METHOD => {
                match serde_json::from_value::<lsp::CreateFilesParams>(n.params) {
                    Ok(p) => self.files_moved(p.files.iter().map(|f| f.uri.as_str())),
                    Err(e) => bad(e),
                }
            }
            N::DidDeleteFiles::METHOD => {
                match serde_json::from_value::<lsp::DeleteFilesParams>(n.params) {
                    Ok(p) => self.files_moved(p.files.iter().map(|f| f.uri.as_str())),
                    Err(e) => bad(e),
                }
            }
            N::DidChangeWorkspaceFolders::METHOD => {
                match serde_json::from_value::<lsp::DidChangeWorkspaceFoldersParams>(n.params) {
                    Ok(p) => self.folders_changed(p)?,
                    Err(e) => bad(e),
                }
            }
            N::Initialized::METHOD => {
                self.register_watchers()?;
                // Walk and parse now, while the user looks around, not at the first open.
                for root in self.client_roots.clone() {
                    self.open_folder(root)?;
                }
            }
            _ => {} // $/cancelRequest, $/setTrace, configuration changes...
        }
        Ok(())
    }

    /// Opens a session for a root (once), unless the root may not be walked.
    fn open_folder(&mut self, root: PathBuf) -> Result<Option<usize>, String> {
        if let Some(i) = self.folders.iter().position(|f| f.root() == root) {
            return Ok(Some(i));
        }
        if let Some(why) = workspace::refused(&root) {
            self.show_message(lsp::MessageType::WARNING, why)?;
            return Ok(None);
        }
        let (folder, problems) = Folder::open(root, &HashMap::new(), self.poll);
        self.folders.push(folder);
        for p in problems {
            self.show_message(lsp::MessageType::ERROR, format!("gitops-lint: {p}"))?;
        }
        Ok(Some(self.folders.len() - 1))
    }

    fn folders_changed(&mut self, p: lsp::DidChangeWorkspaceFoldersParams) -> Result<(), String> {
        for removed in &p.event.removed {
            let Some(root) = uri_to_path(&removed.uri) else {
                continue;
            };
            let root = root.canonicalize().unwrap_or(root);
            self.client_roots.retain(|r| *r != root);
            self.folders.retain(|f| f.root() != root);
        }
        for added in &p.event.added {
            let Some(root) = uri_to_path(&added.uri) else {
                continue;
            };
            let root = root.canonicalize().unwrap_or(root);
            if !self.client_roots.contains(&root) {
                self.client_roots.push(root.clone());
            }
            self.open_folder(root)?;
        }
        // Every document finds its place again.
        let uris: Vec<String> = self.docs.keys().cloned().collect();
        for uri in uris {
            self.place(&uri)?;
        }
        Ok(())
    }

    /// Decides how a document is linted (and puts its buffer in its session).
    fn place(&mut self, uri: &str) -> Result<(), String> {
        let Some(doc) = self.docs.get(uri) else {
            return Ok(());
        };
        let path = doc.path.clone();
        let mut found = workspace::find(&self.folders, &path);
        // No root from the client, or one that is not walked (`/`, home): the
        // repository the file is in.
        let own_root = self.client_roots.is_empty()
            || self
                .client_roots
                .iter()
                .any(|r| workspace::refused(r).is_some() && path.starts_with(r));
        if found.is_none()
            && own_root
            && let Some(root) = workspace::discover(&path)
            && let Some(i) = self.open_folder(root)?
        {
            found = self.folders[i].session.relative(&path).map(|rel| (i, rel));
        }
        let linted = match found {
            Some((i, rel)) => {
                if workspace::unknown_on_disk(&self.folders[i].session, &rel) {
                    // Created or renamed on disk since the walk: walk again.
                    self.reload(i)?;
                }
                let session = &self.folders[i].session;
                if session.has_file(&rel) || session.takes_new_file(&rel) {
                    Linted::Repo {
                        root: session.root.clone(),
                        rel,
                    }
                } else {
                    Linted::No
                }
            }
            None if session::is_yaml(&path.to_string_lossy()) => Linted::Alone,
            None => Linted::No,
        };
        let doc = self.docs.get_mut(uri).expect("checked above");
        let was = std::mem::replace(&mut doc.linted, linted);
        if let Linted::Repo { root, rel } = was
            && doc.linted.rel_in(&root) != Some(rel.as_str())
            && let Some(f) = self.folders.iter_mut().find(|f| f.root() == root)
        {
            f.session.reread(&rel);
            f.dirty = true;
        }
        self.changed.insert(uri.to_string());
        Ok(())
    }

    /// Opens folder `i`'s session again (configuration, walk), with the
    /// open buffers in place of their files; every document in it is placed again.
    fn reload(&mut self, i: usize) -> Result<(), String> {
        let root = self.folders[i].root().to_path_buf();
        let buffers: HashMap<String, String> = self
            .docs
            .values()
            .filter_map(|d| Some((d.linted.rel_in(&root)?.to_string(), d.text.clone())))
            .collect();
        let published = self.folders[i].config_published.take();
        let (mut folder, problems) = Folder::open(root.clone(), &buffers, self.poll);
        folder.config_published = published;
        self.folders[i] = folder;
        for p in problems {
            self.show_message(lsp::MessageType::ERROR, format!("gitops-lint: {p}"))?;
        }
        // What is linted may have changed (exclusions, files on disk).
        let session = &mut self.folders[i].session;
        for doc in self.docs.values_mut() {
            let Some(rel) = session.relative(&doc.path) else {
                continue;
            };
            let now = if session.has_file(&rel) || session.takes_new_file(&rel) {
                Linted::Repo {
                    root: root.clone(),
                    rel: rel.clone(),
                }
            } else {
                Linted::No
            };
            doc.linted = now;
            self.changed.insert(key(&doc.uri));
        }
        Ok(())
    }

    fn open(&mut self, item: lsp::TextDocumentItem) -> Result<(), String> {
        let Some(path) = uri_to_path(&item.uri) else {
            return Ok(());
        };
        let uri = key(&item.uri);
        if self.docs.contains_key(&uri) {
            // Opened again without a close: the old one goes first.
            self.close(item.uri.clone())?;
        }
        self.docs.insert(uri.clone(), Doc::new(item, path));
        self.place(&uri)
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
        let uri = p.text_document.uri.as_str();
        let Some(doc) = self.docs.get(uri) else {
            return;
        };
        if let Some((i, rel)) = workspace::find(&self.folders, &doc.path) {
            let session = &self.folders[i].session;
            // The configuration, or a file the walk has not seen (written
            // for the first time, or under a new name).
            if rel == config::FILE_NAME || workspace::unknown_on_disk(session, &rel) {
                self.folders[i].reload = true;
            }
        }
        self.changed.insert(uri.to_string());
    }

    fn close(&mut self, uri: lsp::Uri) -> Result<(), String> {
        let Some(doc) = self.docs.remove(uri.as_str()) else {
            return Ok(());
        };
        self.changed.remove(uri.as_str());
        for f in &mut self.folders {
            if f.config_published.as_ref().is_some_and(|(u, _)| *u == uri) {
                // Shown again under the file's own URI at the next lint.
                f.config_published = None;
                f.dirty = true;
            }
        }
        if let Linted::Repo { root, rel } = &doc.linted
            && let Some(f) = self.folders.iter_mut().find(|f| f.root() == root)
        {
            // The file on disk is what the repository holds again.
            f.session.reread(rel);
            f.dirty = true;
        }
        if doc.published.is_some_and(|p| !p.is_empty()) {
            self.publish(uri, Vec::new(), None)?;
        }
        Ok(())
    }

    fn is_open(&self, root: &Path, rel: &str) -> bool {
        self.docs
            .values()
            .any(|d| d.linted.rel_in(root) == Some(rel))
    }

    fn watched(&mut self, p: lsp::DidChangeWatchedFilesParams) {
        for change in p.changes {
            let Some(path) = uri_to_path(&change.uri) else {
                continue;
            };
            let Some((i, rel)) = workspace::find(&self.folders, &path) else {
                continue;
            };
            let root = self.folders[i].root().to_path_buf();
            if rel == config::FILE_NAME {
                self.folders[i].reload = true;
            }
            if self.is_open(&root, &rel) || !session::is_yaml(&rel) {
                continue; // the buffer wins over the disk
            }
            let f = &mut self.folders[i];
            if change.typ == lsp::FileChangeType::DELETED || f.session.has_file(&rel) {
                f.session.reread(&rel);
                f.dirty = true;
            } else if change.typ == lsp::FileChangeType::CREATED {
                // Whether a new file is linted (ignored, excluded, a chart template)
                // is the walk's to say: walk again.
                f.reload = true;
            }
        }
    }

    /// Files created, renamed or deleted by the client: the folders that
    /// hold them are walked again.
    fn files_moved<'u>(&mut self, uris: impl Iterator<Item = &'u str>) {
        for uri in uris {
            let Some(path) = uri.parse::<lsp::Uri>().ok().as_ref().and_then(uri_to_path) else {
                continue;
            };
            if let Some((i, _)) = workspace::find(&self.folders, &path) {
                self.folders[i].reload = true;
            }
        }
    }

    /// The cheap look at the disk, for clients that report no file events.
    fn look_at_disk(&mut self) {
        for i in 0..self.folders.len() {
            let changes = self.folders[i].session.disk_changes();
            if changes.config || changes.rescan {
                self.folders[i].reload = true;
                continue;
            }
            let root = self.folders[i].root().to_path_buf();
            for rel in changes.changed {
                if !self.is_open(&root, &rel) {
                    self.folders[i].session.reread(&rel);
                    self.folders[i].dirty = true;
                }
            }
        }
    }

    /// Brings the sessions up to date with the buffers, lints, and publishes what changed.
    fn flush(&mut self) -> Result<(), String> {
        for i in 0..self.folders.len() {
            if self.folders[i].reload {
                self.reload(i)?;
            }
        }
        for uri in &self.changed {
            if let Some(Doc {
                linted: Linted::Repo { root, rel },
                text,
                ..
            }) = self.docs.get(uri)
                && let Some(f) = self.folders.iter_mut().find(|f| f.root() == root)
            {
                f.session.replace(buffer_file(rel.clone(), text));
                f.dirty = true;
            }
        }
        if self.changed.is_empty() && !self.folders.iter().any(|f| f.dirty) {
            return Ok(());
        }
        for i in 0..self.folders.len() {
            if self.folders[i].dirty {
                self.publish_config_error(i)?;
            }
        }
        let changed = std::mem::take(&mut self.changed);

        // Each folder with a change is linted for its open documents; each
        // document alone whose text changed is linted on its own.
        let mut found: HashMap<String, Vec<Finding>> = HashMap::new();
        for i in 0..self.folders.len() {
            if !self.folders[i].dirty {
                continue;
            }
            self.folders[i].dirty = false;
            let f = &mut self.folders[i];
            let root = f.root().to_path_buf();
            let by_rel: HashMap<&str, &Doc> = self
                .docs
                .values()
                .filter_map(|d| Some((d.linted.rel_in(&root)?, d)))
                .collect();
            let open: Vec<&str> = by_rel.keys().copied().collect();
            let diagnostics = f.session.lint_files(&open);
            let repo = &f.session.repo;
            let uri_of = |rel: &str| match by_rel.get(rel) {
                Some(d) => d.uri.clone(),
                None => path_to_uri(&root.join(rel)),
            };
            for d in by_rel.values() {
                found.entry(key(&d.uri)).or_default();
            }
            for d in &diagnostics {
                if let Some(doc) = by_rel.get(repo.files[d.file].path.as_str()) {
                    found
                        .entry(key(&doc.uri))
                        .or_default()
                        .push(to_finding(repo, d, &uri_of));
                }
            }
        }
        for doc in self
            .docs
            .values()
            .filter(|d| d.linted == Linted::Alone && changed.contains(d.uri.as_str()))
        {
            let mut alone = Session::alone(&doc.path, &doc.text);
            let dir = alone.root.clone();
            let uri_of = |rel: &str| path_to_uri(&dir.join(rel));
            let findings = alone
                .lint(None)
                .iter()
                .map(|d| to_finding(&alone.repo, d, &uri_of))
                .collect();
            found.insert(key(&doc.uri), findings);
        }
        // Documents linted no more (excluded now, outside every root).
        for uri in &changed {
            if self.docs.get(uri).is_some_and(|d| d.linted == Linted::No) {
                found.entry(uri.clone()).or_default();
            }
        }

        let mut outgoing = Vec::new();
        for (uri, findings) in found {
            // A newer text is waiting: these findings are stale already.
            if self.incoming.supersedes(&uri) {
                continue;
            }
            let Some(doc) = self.docs.get_mut(&uri) else {
                continue;
            };
            let mut diagnostics: Vec<lsp::Diagnostic> =
                findings.iter().map(|f| f.diagnostic.clone()).collect();
            for f in &self.folders {
                if let Some((u, d)) = &f.config_published
                    && *u == doc.uri
                {
                    diagnostics.insert(0, d.clone());
                }
            }
            doc.findings = findings;
            let fresh = doc.published.as_ref() != Some(&diagnostics);
            if changed.contains(&uri) || fresh {
                doc.published = Some(diagnostics.clone());
                outgoing.push((doc.uri.clone(), diagnostics, doc.version));
            }
        }
        outgoing.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
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
    fn publish_config_error(&mut self, i: usize) -> Result<(), String> {
        let f = &self.folders[i];
        let session = &f.session;
        let wanted = session.config_error.as_ref().map(|e| {
            let path = session.root.join(config::FILE_NAME);
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
                .find(|d| {
                    session
                        .relative(&d.path)
                        .is_some_and(|r| r == config::FILE_NAME)
                })
                .map_or_else(|| path_to_uri(&path), |d| d.uri.clone());
            (uri, diagnostic)
        });
        if wanted == f.config_published {
            return Ok(());
        }
        let old = self.folders[i].config_published.take();
        // An open configuration file gets it with its other findings.
        if let Some((uri, _)) = old {
            match self.docs.get(uri.as_str()) {
                None => self.publish(uri, Vec::new(), None)?,
                Some(_) => {
                    self.changed.insert(key(&uri));
                }
            }
        }
        if let Some((uri, diagnostic)) = &wanted {
            match self.docs.get(uri.as_str()) {
                None => self.publish(uri.clone(), vec![diagnostic.clone()], None)?,
                Some(_) => {
                    self.changed.insert(key(uri));
                }
            }
        }
        self.folders[i].config_published = wanted;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Level};
    use crate::diagnostic::{Diagnostic, Severity};
    use crate::model::{ModelSettings, Repository};
    use crate::source::SourceFile;
    use crate::yaml::Span;
    use actions::kind_wanted;
    use std::str::FromStr;

    fn lint(repo: &Repository, config: &Config) -> Vec<Diagnostic> {
        let phase = crate::timing::Phases::start();
        let schema = crate::schema::validate(repo, &Default::default());
        crate::run::lint_model(repo, &schema, &session::configured_rules(config), &phase)
    }

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
