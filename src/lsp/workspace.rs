//! The repositories the server keeps: one session per workspace folder (or
//! per repository root found above an opened file when the client names
//! none), and which of them a file belongs to.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use lsp_types as lsp;

use crate::session::{self, Session, SessionOptions};
use crate::walk;

/// One repository root and its session.
pub struct Folder {
    pub session: Session,
    /// The model changed since the last lint: lint again.
    pub dirty: bool,
    /// The configuration or the files on disk changed: open the session again.
    pub reload: bool,
    /// The diagnostic shown on the configuration file while it cannot be read.
    pub config_published: Option<(lsp::Uri, lsp::Diagnostic)>,
}

impl Folder {
    /// Opens the session at `root` with `buffers` (relative path -> text) in
    /// place of the files on disk; the problems met are returned to be shown.
    pub fn open(
        root: PathBuf,
        buffers: &HashMap<String, String>,
        watch_disk: bool,
    ) -> (Folder, Vec<String>) {
        let opts = SessionOptions {
            lenient: true,
            ..Default::default()
        };
        let (mut session, problems) =
            match Session::open(root.clone(), &opts, buffers, &BTreeSet::new()) {
                Ok(opened) => opened,
                // A lenient session reports its problems instead; what is left
                // (the thread pool) is not the repository's fault.
                Err(e) => (Session::empty(root), vec![e.to_string()]),
            };
        if watch_disk {
            session.watch_disk();
        }
        let folder = Folder {
            session,
            dirty: true,
            reload: false,
            config_published: None,
        };
        (folder, problems)
    }

    pub fn root(&self) -> &Path {
        &self.session.root
    }
}

/// The roots the client names in `initialize`: every workspace folder, else
/// `rootUri`, else `rootPath`; canonical.
#[allow(deprecated)] // rootUri and rootPath: older clients send only these.
pub fn client_roots(params: &lsp::InitializeParams) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = match &params.workspace_folders {
        Some(folders) if !folders.is_empty() => folders
            .iter()
            .filter_map(|f| super::conversion::uri_to_path(&f.uri))
            .collect(),
        _ => params
            .root_uri
            .as_ref()
            .and_then(super::conversion::uri_to_path)
            .or_else(|| params.root_path.as_ref().map(PathBuf::from))
            .into_iter()
            .collect(),
    };
    for r in &mut roots {
        if let Ok(c) = r.canonicalize() {
            *r = c;
        }
    }
    roots.dedup();
    roots
}

/// Why a root the client names is not walked, if it is not.
pub fn refused(root: &Path) -> Option<String> {
    session::forbidden_root(root).then(|| {
        format!(
            "gitops-lint: {} is not walked as a repository root (the whole of it would be read); files under it are linted within the nearest directory holding `.gitops-lint.yaml` or `.git`, or alone",
            root.display()
        )
    })
}

/// The folder whose root holds `path`, the innermost one, with the path
/// relative to it.
pub fn find(folders: &[Folder], path: &Path) -> Option<(usize, String)> {
    folders
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.session.relative(path).map(|rel| (i, rel)))
        .max_by_key(|(i, _)| folders[*i].root().as_os_str().len())
}

/// The repository root of a file the client's roots do not hold: the nearest
/// directory above it holding `.gitops-lint.yaml` or `.git`, never `/` or the
/// home directory. `None`: the file is linted alone.
pub fn discover(path: &Path) -> Option<PathBuf> {
    let dir = path.parent()?;
    let dir = dir.canonicalize().ok()?;
    walk::find_marker(&dir).filter(|root| !session::forbidden_root(root))
}

/// Whether a file on disk under a session's root is one the walk would take
/// but the model does not hold: it was created (or renamed to) after the walk.
pub fn unknown_on_disk(session: &Session, rel: &str) -> bool {
    session::is_yaml(rel)
        && !session.has_file(rel)
        && !session.excluded(rel)
        && !rel.split('/').any(|c| c == ".git")
        && session.root.join(rel).is_file()
}
