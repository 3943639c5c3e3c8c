//! The persistent cache gives exactly what a run without it gives: the
//! sample repository is copied, then edited, added to, pruned and renamed
//! between runs, and after each change a run with the cache is compared byte
//! for byte with a `--no-cache` run (whole repository, one file, standard
//! input). The timing line says what the cache did, so the test also knows
//! the cache was used and not silently bypassed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_gitops-lint");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

struct Repo {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    cache: PathBuf,
}

impl Repo {
    /// The sample repository, its files older than the racy window, so that
    /// unchanged files are reused without being read.
    fn new() -> Repo {
        let repo = Repo::fresh();
        std::thread::sleep(std::time::Duration::from_millis(2100));
        repo
    }

    /// The sample repository, just written (as after a checkout).
    fn fresh() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample-repo"),
            &root,
        );
        std::fs::write(root.join(".gitops-lint.yaml"), "rules: {}\n").unwrap();
        let cache = tmp.path().join("cache");
        Repo {
            _tmp: tmp,
            root,
            cache,
        }
    }

    /// Where the runs' git configuration and global ignore file are (not
    /// the user's).
    fn home(&self) -> PathBuf {
        self.root.parent().unwrap().join("home")
    }

    fn run(&self, args: &[&str], cached: bool, stdin: Option<&str>) -> Output {
        self.run_in(&self.root, args, cached, stdin)
    }

    fn run_in(&self, cwd: &Path, args: &[&str], cached: bool, stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(cwd)
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env_remove("GIT_CONFIG_GLOBAL")
            .env("GIT_CONFIG_SYSTEM", "/dev/null")
            .arg("check")
            .args(["--format", "json"])
            .args(args)
            .env_remove("GITOPS_LINT_NO_CACHE")
            .env_remove("GITOPS_LINT_CACHE_DIR")
            .env("GITOPS_LINT_TIMING", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if cached {
            cmd.arg("--cache-dir").arg(&self.cache);
        } else {
            cmd.arg("--no-cache");
        }
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.unwrap_or("").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs with and without the cache and asserts the same output; returns
    /// the cache's counts (reused, verified, parsed, written).
    fn same(&self, args: &[&str], stdin: Option<&str>) -> [usize; 4] {
        counts(&self.compared(args, stdin))
    }

    /// Runs the whole repository with and without the cache, asserts the same
    /// output, and says whether the cached run took the kept listing again.
    fn listing_taken(&self) -> bool {
        listing_taken(&self.compared(&[], None))
    }

    /// The cached run, once compared with a `--no-cache` run.
    fn compared(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.compared_in(&self.root, args, stdin)
    }

    fn compared_in(&self, cwd: &Path, args: &[&str], stdin: Option<&str>) -> Output {
        let fresh = self.run_in(cwd, args, false, stdin);
        let cached = self.run_in(cwd, args, true, stdin);
        assert_eq!(cached.status.code(), fresh.status.code());
        assert_eq!(
            findings(&cached),
            findings(&fresh),
            "{args:?}: the cached run differs"
        );
        let err = String::from_utf8_lossy(&fresh.stderr);
        assert!(!err.contains("cache:"), "--no-cache used the cache: {err}");
        assert!(
            !err.contains("listing:"),
            "--no-cache used the cache: {err}"
        );
        cached
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// The JSON output without the run's duration.
fn findings(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.contains("\"elapsed_ms\""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn counts(o: &Output) -> [usize; 4] {
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("cache:"))
        .unwrap_or_else(|| panic!("no cache line in {err}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    [n[0], n[1], n[2], n[3]]
}

/// Whether a cached run took the listing an earlier run kept, or walked.
fn listing_taken(o: &Output) -> bool {
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("listing:"))
        .unwrap_or_else(|| panic!("no listing line in {err}"));
    line.contains("taken again")
}

/// Longer than the window within which a change could go unseen.
const RACY: std::time::Duration = std::time::Duration::from_millis(2100);

const JELLYFIN: &str = "kubernetes/apps/media/jellyfin/app/deployment.yaml";
const JELLYFIN_KUSTOMIZATION: &str = "kubernetes/apps/media/jellyfin/app/kustomization.yaml";

#[test]
fn cached_runs_equal_fresh_runs_through_edits_adds_removals_and_renames() {
    let repo = Repo::new();
    let [reused, _, parsed, written] = repo.same(&[], None);
    assert_eq!(reused, 0);
    assert!(parsed > 30, "{parsed}");
    assert!(written > 0);
    let total = parsed;

    // Nothing changed: nothing is read, nothing written.
    assert_eq!(repo.same(&[], None), [total, 0, 0, 0]);

    // An edit that changes the size, and the findings.
    let text = std::fs::read_to_string(repo.root.join(JELLYFIN)).unwrap();
    let edited = text.replacen("replicas: 1", "replicas: 2", 1);
    assert_ne!(edited, text);
    repo.write(JELLYFIN, &edited);
    let [reused, verified, parsed, written] = repo.same(&[], None);
    assert_eq!((reused + verified, parsed, written), (total - 1, 1, 1));

    // An edit of the same size (a name changes by one letter): the times tell.
    let text = std::fs::read_to_string(repo.root.join(JELLYFIN)).unwrap();
    let same_size = text.replacen("jellyfin", "jellyfim", 1);
    assert_eq!(same_size.len(), text.len());
    repo.write(JELLYFIN, &same_size);
    let [_, _, parsed, _] = repo.same(&[], None);
    assert_eq!(parsed, 1);

    // A file added (a new finding: a kustomization naming a missing file).
    repo.write(
        "kubernetes/apps/media/extra/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./missing.yaml\n",
    );
    let [_, _, parsed, _] = repo.same(&[], None);
    assert_eq!(parsed, 1);

    // A file removed that a kustomization lists: its finding appears.
    std::fs::remove_file(
        repo.root
            .join("kubernetes/apps/media/jellyfin/app/pvc.yaml"),
    )
    .unwrap();
    let [reused, verified, parsed, _] = repo.same(&[], None);
    assert_eq!((reused + verified, parsed), (total, 0));

    // A rename: the old path's entry goes, the new path is read.
    std::fs::rename(
        repo.root
            .join("kubernetes/apps/media/jellyfin/app/service.yaml"),
        repo.root
            .join("kubernetes/apps/media/jellyfin/app/svc.yaml"),
    )
    .unwrap();
    let [_, _, parsed, _] = repo.same(&[], None);
    assert_eq!(parsed, 1);

    // The kustomization follows the rename: an edit in the same run.
    let k = std::fs::read_to_string(repo.root.join(JELLYFIN_KUSTOMIZATION)).unwrap();
    repo.write(
        JELLYFIN_KUSTOMIZATION,
        &k.replace("service.yaml", "svc.yaml"),
    );
    repo.same(&[], None);

    // A directory renamed, with everything in it.
    std::fs::rename(
        repo.root.join("kubernetes/apps/media/plex"),
        repo.root.join("kubernetes/apps/media/plex2"),
    )
    .unwrap();
    let [_, _, parsed, _] = repo.same(&[], None);
    assert_eq!(parsed, 4);

    // One file, as pre-commit runs it, and an editor's buffer on standard input.
    repo.same(&[JELLYFIN], None);
    repo.same(&[JELLYFIN_KUSTOMIZATION, JELLYFIN], None);
    // Once the file's entry is older than the racy window (verified and
    // written again by a run), a buffer standing in for it leaves it as is.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    repo.same(&[], None);
    let buffer = same_size.replacen("replicas: 2", "replicas: 1", 1);
    repo.same(&["-", "--stdin-filename", JELLYFIN], Some(&buffer));
    // The buffer did not replace the file's entry: the disk's content is
    // what the next run sees.
    assert_eq!(repo.same(&[], None)[2], 0);

    // Files excluded by the configuration leave the model, and come back.
    repo.write(
        ".gitops-lint.yaml",
        "exclude: [\"kubernetes/apps/media/sonarr/**\"]\n",
    );
    repo.same(&[], None);
    repo.write(".gitops-lint.yaml", "rules: {}\n");
    repo.same(&[], None);
}

#[test]
fn a_file_changed_within_the_clocks_resolution_is_read_again() {
    let repo = Repo::new();
    // The first run writes entries for files that are not racy; then a file
    // is written twice in a row, the second time keeping size and times.
    repo.same(&[], None);
    let path = repo.root.join(JELLYFIN);
    let text = std::fs::read_to_string(&path).unwrap();
    repo.write(JELLYFIN, &text.replacen("jellyfin", "jellyfix", 1));
    // The run right after the write records the new entry within two seconds
    // of the file's times: the next run must check its content.
    repo.same(&[], None);
    let [_, verified, _, _] = repo.same(&[], None);
    assert_eq!(verified, 1, "a racy entry is verified by its content");
}

#[test]
fn entries_written_right_after_a_checkout_are_trusted_once_verified() {
    let repo = Repo::fresh();
    // Written within two seconds of the files' times, every entry is racy
    // (the cached run comes first, right after the files are written).
    let [_, _, parsed, _] = counts(&repo.run(&[], true, None));
    assert!(parsed > 10, "{parsed}");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    // Verified by content once, and written again with a later time...
    let [reused, verified, parsed_again, _] = repo.same(&[], None);
    assert_eq!((reused, verified, parsed_again), (0, parsed, 0));
    // ... they are then taken without reading the files.
    let [reused, verified, _, written] = repo.same(&[], None);
    assert_eq!((reused, verified, written), (parsed, 0, 0));
}

/// The repository's YAML files that share a cache shard with another one.
fn sharing_a_shard(repo: &Repo) -> Vec<String> {
    let rels: Vec<String> = walk_files(&repo.root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| !p.starts_with(repo.root.join(".gitops-lint.yaml")))
        .map(|p| {
            p.strip_prefix(&repo.root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut out = Vec::new();
    let shards = walk_files(&repo.cache).into_iter().filter(|p| {
        p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("files-")
    });
    for shard in shards {
        let bytes = std::fs::read(&shard).unwrap();
        let has = |rel: &String| bytes.windows(rel.len()).any(|w| w == rel.as_bytes());
        let inside: Vec<&String> = rels.iter().filter(|r| has(r)).collect();
        if inside.len() > 1 {
            out.extend(inside.into_iter().cloned());
        }
    }
    out.sort();
    out
}

#[test]
fn a_buffers_racy_entry_is_not_trusted_when_its_shard_is_written_again() {
    let repo = Repo::fresh();
    // Every entry is racy; later, each is verified and its shard written
    // again, except the entry of the file an editor's buffer stands in for.
    counts(&repo.run(&[], true, None));
    let shared = sharing_a_shard(&repo);
    // A file whose name is the prefix of another's would be found in its shard.
    let rel = shared
        .iter()
        .find(|r| !shared.iter().any(|o| o != *r && o.contains(r.as_str())))
        .expect("two files share a shard")
        .clone();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let text = std::fs::read_to_string(repo.root.join(&rel)).unwrap();
    let out = repo.run(&["-", "--stdin-filename", &rel], true, Some(&text));
    let [_, verified, _, written] = counts(&out);
    assert!(
        verified > 0 && written > 0,
        "{verified} verified, {written} written"
    );
    // The buffer's racy entry was not carried into the shard written again
    // under the later time: the next run reads the file.
    let [_, verified, parsed, _] = repo.same(&[], None);
    assert_eq!(verified + parsed, 1, "{rel} was taken without being read");
}

/// A change to the repository.
type Change<'a> = dyn Fn(&Repo) + 'a;

#[test]
fn a_kept_listing_is_taken_again_only_while_what_decides_it_is_unchanged() {
    let repo = Repo::new();
    // Ignore files in a directory, the root's and a nested repository's
    // exclude files, the global ignore file, and a Helm chart's templates.
    repo.write("kubernetes/apps/media/.gitignore", "# nothing yet\n");
    repo.write("kubernetes/apps/.ignore", "# nothing yet\n");
    repo.write(".git/info/exclude", "# nothing yet\n");
    repo.write(
        "kubernetes/apps/media/plex/.git/info/exclude",
        "# nothing yet\n",
    );
    let global = repo.home().join(".config/git/ignore");
    std::fs::create_dir_all(global.parent().unwrap()).unwrap();
    std::fs::write(&global, "# nothing yet\n").unwrap();
    repo.write("charts/app/templates/deployment.yaml", "a: [\n");
    std::thread::sleep(RACY);
    assert!(!repo.listing_taken(), "no listing was kept yet");
    assert!(repo.listing_taken());
    // A file edited in place leaves its directory as it was.
    let text = std::fs::read_to_string(repo.root.join(JELLYFIN)).unwrap();
    repo.write(JELLYFIN, &text.replacen("replicas: 1", "replicas: 3", 1));
    assert!(repo.listing_taken());
    assert_eq!(repo.same(&[], None)[2], 0);

    let parent = repo.root.parent().unwrap().to_path_buf();
    let changes: [(&str, &Change<'_>); 11] = [
        ("an ignore file edited in place", &|r| {
            r.write("kubernetes/apps/media/.gitignore", "sonarr/\n")
        }),
        ("an .ignore file edited in place", &|r| {
            r.write(
                "kubernetes/apps/.ignore",
                "media/jellyfin/app/service.yaml\n",
            )
        }),
        ("the root's exclude file edited", &|r| {
            r.write(
                ".git/info/exclude",
                "kubernetes/apps/media/kustomization.yaml\n",
            )
        }),
        ("the global ignore file edited", &|_| {
            std::fs::write(&global, "/kubernetes/apps/media/namespace.yaml\n").unwrap()
        }),
        ("a Helm chart's Chart.yaml added", &|r| {
            r.write("charts/app/Chart.yaml", "apiVersion: v2\nname: app\n")
        }),
        ("a nested repository's exclude file edited", &|r| {
            r.write("kubernetes/apps/media/plex/.git/info/exclude", "app/\n")
        }),
        ("an ignore file added above the root", &|_| {
            std::fs::write(
                parent.join(".gitignore"),
                "repo/kubernetes/apps/media/jellyfin/app/pvc.yaml\n",
            )
            .unwrap()
        }),
        ("a file added", &|r| {
            r.write("kubernetes/apps/media/jellyfin/app/extra.yaml", "a: 1\n")
        }),
        ("a file removed", &|r| {
            std::fs::remove_file(r.root.join("kubernetes/apps/media/jellyfin/app/extra.yaml"))
                .unwrap()
        }),
        ("a directory renamed", &|r| {
            std::fs::rename(
                r.root.join("kubernetes/apps/media/plex"),
                r.root.join("kubernetes/apps/media/plex2"),
            )
            .unwrap()
        }),
        ("the configuration's excludes", &|r| {
            r.write(
                ".gitops-lint.yaml",
                "exclude: [\"kubernetes/apps/media/plex2/**\"]\n",
            )
        }),
    ];
    for (what, change) in changes {
        change(&repo);
        // Past the window: only what the listing records can tell.
        std::thread::sleep(RACY);
        assert!(!repo.listing_taken(), "{what}: the kept listing was taken");
        assert!(repo.listing_taken(), "{what}: the new listing was not kept");
    }
    // A run from elsewhere (the global ignore file's patterns are relative
    // to the root, wherever the run starts).
    std::fs::write(&global, "/kubernetes/apps/media/jellyfin/\n").unwrap();
    std::thread::sleep(RACY);
    assert!(!repo.listing_taken());
    let below = repo.root.join("kubernetes/apps");
    assert!(listing_taken(&repo.compared_in(&below, &["../.."], None)));
}

#[test]
fn a_listing_kept_right_after_a_change_is_not_taken_until_the_window_passes() {
    let repo = Repo::new();
    assert!(!repo.listing_taken());
    assert!(repo.listing_taken());
    // The directory changes, and the listing is kept again at once: within
    // the window, a second change could leave the same times.
    repo.write("kubernetes/apps/media/jellyfin/app/extra.yaml", "a: 1\n");
    assert!(!repo.listing_taken());
    assert!(!repo.listing_taken(), "taken within the window");
    std::thread::sleep(RACY);
    assert!(!repo.listing_taken());
    assert!(repo.listing_taken());
}

#[cfg(unix)]
#[test]
fn no_listing_is_kept_past_a_symbolic_link_or_a_git_file() {
    let repo = Repo::new();
    std::os::unix::fs::symlink("media/plex", repo.root.join("kubernetes/apps/plex-link")).unwrap();
    std::thread::sleep(RACY);
    // What a link leads to can change while every directory on the way to
    // it stays as it was.
    for _ in 0..2 {
        assert!(!repo.listing_taken());
    }
    std::fs::remove_file(repo.root.join("kubernetes/apps/plex-link")).unwrap();
    // The walker follows a link an ignore file or the configuration leaves
    // out too (whether it leads to a directory decides a pattern like
    // `out/`; one that leads nowhere is reported).
    let target = repo.root.parent().unwrap().join("elsewhere");
    std::fs::create_dir_all(&target).unwrap();
    repo.write("kubernetes/.gitignore", "result\n");
    std::os::unix::fs::symlink(&target, repo.root.join("kubernetes/result")).unwrap();
    std::thread::sleep(RACY);
    for _ in 0..2 {
        assert!(!repo.listing_taken());
    }
    std::fs::remove_dir(&target).unwrap();
    assert!(!repo.listing_taken());
    std::fs::remove_file(repo.root.join("kubernetes/result")).unwrap();
    repo.write(".gitops-lint.yaml", "exclude: [\"linked.yaml\"]\n");
    std::os::unix::fs::symlink("kubernetes", repo.root.join("linked.yaml")).unwrap();
    std::thread::sleep(RACY);
    for _ in 0..2 {
        assert!(!repo.listing_taken());
    }
    std::fs::remove_file(repo.root.join("linked.yaml")).unwrap();
    repo.write(".gitops-lint.yaml", "rules: {}\n");
    // A `.git` file (a worktree, a submodule) points to an exclude file
    // elsewhere.
    repo.write("kubernetes/apps/media/sonarr/.git", "gitdir: /elsewhere\n");
    std::thread::sleep(RACY);
    for _ in 0..2 {
        assert!(!repo.listing_taken());
    }
    std::fs::remove_file(repo.root.join("kubernetes/apps/media/sonarr/.git")).unwrap();
    std::thread::sleep(RACY);
    assert!(!repo.listing_taken());
    assert!(repo.listing_taken());
}

#[test]
fn damaged_caches_are_read_as_misses() {
    let repo = Repo::new();
    let [_, _, total, _] = repo.same(&[], None);
    let mut shards: Vec<PathBuf> = walk_files(&repo.cache)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    shards.sort();
    assert!(!shards.is_empty());
    for (i, shard) in shards.iter().enumerate() {
        let mut bytes = std::fs::read(shard).unwrap();
        match i % 4 {
            0 => bytes.truncate(bytes.len() / 2),
            1 => {
                let mid = bytes.len() / 2;
                bytes[mid] ^= 0x55;
            }
            2 => bytes[0] = b'X',
            _ => bytes.clear(),
        }
        std::fs::write(shard, bytes).unwrap();
    }
    let [reused, _, parsed, written] = repo.same(&[], None);
    assert!(parsed > 0 && reused + parsed == total, "{reused} {parsed}");
    assert!(written > 0);
    // Written again whole: the next run reads everything from the cache.
    assert_eq!(repo.same(&[], None), [total, 0, 0, 0]);
}

#[test]
fn concurrent_runs_each_give_the_same_findings() {
    let repo = Repo::new();
    let expected = findings(&repo.run(&[], false, None));
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(BIN)
                .current_dir(&repo.root)
                .env_remove("GITOPS_LINT_NO_CACHE")
                .args(["check", "--format", "json", "--cache-dir"])
                .arg(&repo.cache)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(findings(&out), expected);
    }
    assert_eq!(findings(&repo.run(&[], true, None)), expected);
    // No temporary file is left behind.
    assert!(
        walk_files(&repo.cache)
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".tmp")),
    );
}

#[test]
fn the_default_cache_is_at_the_root_and_ignored_by_git_and_the_walk() {
    let repo = Repo::new();
    let out = Command::new(BIN)
        .current_dir(&repo.root)
        .args(["check", "--format", "compact", "."])
        .env_remove("GITOPS_LINT_NO_CACHE")
        .env_remove("GITOPS_LINT_CACHE_DIR")
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1));
    let dir = repo.root.join(".gitops-lint-cache");
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore")).unwrap(),
        "# Written by gitops-lint.\n*\n"
    );
    assert!(dir.join("CACHEDIR.TAG").is_file());
    // A YAML file inside the cache directory is never linted.
    std::fs::write(dir.join("bad.yaml"), "a: [\n").unwrap();
    let again = Command::new(BIN)
        .current_dir(&repo.root)
        .args(["check", "--format", "compact", "."])
        .env_remove("GITOPS_LINT_NO_CACHE")
        .env("GITOPS_LINT_TIMING", "1")
        .output()
        .unwrap();
    assert_eq!(again.stdout, out.stdout);
    assert_eq!(counts(&again)[2], 0, "the second run read nothing");

    // --no-cache and GITOPS_LINT_NO_CACHE neither read nor write it.
    std::fs::remove_dir_all(&dir).unwrap();
    for (flag, env) in [(Some("--no-cache"), None), (None, Some("1"))] {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&repo.root)
            .args(["check", "."])
            .args(flag)
            .env_remove("GITOPS_LINT_NO_CACHE");
        if let Some(v) = env {
            cmd.env("GITOPS_LINT_NO_CACHE", v);
        }
        assert_eq!(cmd.output().unwrap().stdout, out.stdout);
        assert!(!dir.exists());
    }
}

#[test]
fn a_cache_that_cannot_be_written_is_no_error() {
    let repo = Repo::new();
    let fresh = repo.run(&[], false, None);
    // The cache directory's place is taken by a file.
    std::fs::write(&repo.cache, "not a directory").unwrap();
    let cached = repo.run(&[], true, None);
    assert_eq!(cached.status.code(), fresh.status.code());
    assert_eq!(findings(&cached), findings(&fresh));
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().unwrap().is_dir() {
                out.extend(walk_files(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}
