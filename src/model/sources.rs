//! Where the artifact of a Flux source lies in this repository. A
//! Kustomization's `spec.path` is relative to the root of its source's
//! artifact: for the `flux-system` GitRepository (or one with its URL, or
//! one bootstrapped outside Git) that is the repository root. An
//! OCIRepository, ExternalArtifact or Bucket often holds a subdirectory of
//! the repository (`flux push artifact --path=./apps`, an ArtifactGenerator
//! copying `apps/**`): its root is the directory under which the paths of
//! every Kustomization that uses it exist. A source whose paths resolve
//! nowhere here is another repository's, or unknown: its paths mean nothing.

use rustc_hash::FxHashMap as HashMap;

use super::{Repository, join};
use crate::yaml::NodeRef;

/// A Kustomization's source reference and path, as the builds read them.
pub(super) struct SourceUse<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    /// `spec.path` when it holds no variable.
    pub path: Option<&'a str>,
}

impl<'a> SourceUse<'a> {
    pub(super) fn read(source: Option<NodeRef<'a>>, path: Option<&'a str>) -> Self {
        SourceUse {
            kind: source
                .and_then(|s| s.str_at(&["kind"]))
                .unwrap_or("GitRepository"),
            name: source
                .and_then(|s| s.str_at(&["name"]))
                .unwrap_or("flux-system"),
            path: path.filter(|p| !super::subst::has_vars(p)),
        }
    }
}

/// The artifact root of each use's source in the repository (`None`: not here).
pub(super) fn roots(repo: &Repository, uses: &[SourceUse]) -> Vec<Option<String>> {
    let flux_system_url =
        source_url(repo, "GitRepository", "flux-system").or(repo.sync.url.as_deref());
    let mut by_source: HashMap<(&str, &str), Vec<&str>> = HashMap::default();
    for u in uses {
        let paths = by_source.entry((u.kind, u.name)).or_default();
        if let Some(p) = u.path {
            paths.push(p);
        }
    }
    let mut memo: HashMap<(&str, &str), Option<String>> = HashMap::default();
    uses.iter()
        .map(|u| {
            memo.entry((u.kind, u.name))
                .or_insert_with(|| {
                    root(
                        repo,
                        u.kind,
                        u.name,
                        &by_source[&(u.kind, u.name)],
                        flux_system_url,
                    )
                })
                .clone()
        })
        .collect()
}

fn root(
    repo: &Repository,
    kind: &str,
    name: &str,
    paths: &[&str],
    flux_system_url: Option<&str>,
) -> Option<String> {
    if kind == "GitRepository" {
        if name == "flux-system" {
            return Some(String::new());
        }
        match source_url(repo, kind, name) {
            // Not defined here: bootstrapped outside Git, this repository.
            None if !defined(repo, kind, name) => return Some(String::new()),
            Some(url) if flux_system_url.is_some_and(|u| same_repository(u, url)) => {
                return Some(String::new());
            }
            // Another repository's URL.
            Some(_) if flux_system_url.is_some() => return None,
            // The URL of this repository is not known: the paths tell.
            _ => {}
        }
    }
    infer(repo, paths)
}

/// The directory under which every path exists, the repository root first.
/// Paths that name only the root (`./`) tell nothing.
fn infer(repo: &Repository, paths: &[&str]) -> Option<String> {
    let paths: Vec<String> = paths
        .iter()
        .filter_map(|p| join("", p))
        .filter(|p| !p.is_empty())
        .collect();
    let first = paths.first()?;
    let fits = |root: &str| {
        paths
            .iter()
            .all(|p| join(root, p).is_some_and(|d| repo.is_dir(&d)))
    };
    if fits("") {
        return Some(String::new());
    }
    let suffix = format!("/{first}");
    let mut found: Vec<&str> = repo
        .dirs
        .paths(&repo.files)
        .filter_map(|d| d.strip_suffix(suffix.as_str()))
        .filter(|root| fits(root))
        .collect();
    found.sort_unstable();
    match found[..] {
        [only] => Some(only.to_string()),
        _ => None,
    }
}

pub(super) fn source_url<'r>(repo: &'r Repository, kind: &str, name: &str) -> Option<&'r str> {
    repo.of_kind(kind)
        .find(|(_, o)| o.name.as_deref() == Some(name) && o.group() == "source.toolkit.fluxcd.io")
        .and_then(|(id, _)| repo.object_node(id).str_at(&["spec", "url"]))
}

fn defined(repo: &Repository, kind: &str, name: &str) -> bool {
    repo.of_kind(kind)
        .any(|(_, o)| o.name.as_deref() == Some(name) && o.group() == "source.toolkit.fluxcd.io")
}

/// Whether two Git URLs name one repository (`.git`, a trailing `/` and the
/// scheme aside).
fn same_repository(a: &str, b: &str) -> bool {
    let norm = |u: &str| {
        let u = u.trim_end_matches('/');
        let u = u.strip_suffix(".git").unwrap_or(u);
        let u = u.split_once("://").map_or(u, |(_, rest)| rest);
        let u = u.strip_prefix("git@").unwrap_or(u);
        u.replacen(':', "/", 1).to_ascii_lowercase()
    };
    norm(a) == norm(b)
}
