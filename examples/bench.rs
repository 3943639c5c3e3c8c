//! Full check against its floor, in one run:
//! `cargo run --release --example bench -- DIR [ROUNDS]`.
//!
//! Rounds alternate the three measurements so machine noise falls on all of
//! them alike; medians are reported, with ratios to walking and reading the
//! same files (the I/O floor).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gitops_lint::walk::{self, WalkOptions};
use gitops_lint::{Options, run};

// The allocator the binary uses (see src/main.rs), so the figures are the binary's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Walk and read every YAML file with the same walker settings, parse nothing.
fn walk_read(root: &Path) -> (usize, usize) {
    let files = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    ignore::WalkBuilder::new(root)
        .hidden(false)
        .follow_links(true)
        .require_git(false)
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                if let Ok(e) = entry {
                    let p = e.path();
                    if e.file_type().is_some_and(|t| t.is_file())
                        && matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
                        && let Ok(b) = std::fs::read(p)
                    {
                        files.fetch_add(1, Ordering::Relaxed);
                        bytes.fetch_add(b.len(), Ordering::Relaxed);
                    }
                }
                ignore::WalkState::Continue
            })
        });
    (files.into_inner(), bytes.into_inner())
}

/// CPU time (user and system) the process has used so far, on every thread.
#[cfg(unix)]
fn cpu() -> Duration {
    // SAFETY: `getrusage` fills the zeroed struct it is given and reads nothing else.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}
#[cfg(not(unix))]
fn cpu() -> Duration {
    Duration::ZERO
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1) else {
        eprintln!("usage: bench DIR [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(15);
    let root = Path::new(dir).canonicalize().unwrap();
    let exclude = globset::GlobSet::empty();
    let overrides = HashMap::new();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (mut t_read, mut t_parse, mut t_full) = (Vec::new(), Vec::new(), Vec::new());
    let (mut c_read, mut c_parse, mut c_full) = (Vec::new(), Vec::new(), Vec::new());
    let (mut files, mut bytes, mut documents, mut findings) = (0, 0, 0, 0);
    for _ in 0..rounds {
        let (t, c) = (Instant::now(), cpu());
        (files, bytes) = walk_read(&root);
        t_read.push(t.elapsed());
        c_read.push(cpu() - c);

        let (t, c) = (Instant::now(), cpu());
        let parsed = walk::walk(
            &root,
            &WalkOptions {
                exclude: &exclude,
                overrides: &overrides,
                threads,
            },
        );
        t_parse.push(t.elapsed());
        c_parse.push(cpu() - c);
        documents = parsed.iter().map(|f| f.yaml.docs.len()).sum();
        drop(parsed);

        let (t, c) = (Instant::now(), cpu());
        let report = run(&Options {
            paths: vec![root.clone()],
            ..Options::default()
        })
        .unwrap();
        t_full.push(t.elapsed());
        c_full.push(cpu() - c);
        findings = report.diagnostics.len();
    }
    let (read, parse, full) = (median(t_read), median(t_parse), median(t_full));
    let (cread, cparse, cfull) = (median(c_read), median(c_parse), median(c_full));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "repository: {} ({files} YAML files, {documents} documents, {:.1} MB, {findings} findings)",
        root.display(),
        bytes as f64 / 1e6
    );
    println!("threads: {threads}, rounds: {rounds} (medians)");
    println!(
        "walk+read (floor)       {:8.1} ms  1.00x  (CPU {:.0} ms)",
        ms(read),
        ms(cread)
    );
    println!(
        "walk+read+parse         {:8.1} ms  {:.2}x  (CPU {:.0} ms)",
        ms(parse),
        ms(parse) / ms(read),
        ms(cparse)
    );
    println!(
        "full check              {:8.1} ms  {:.2}x  ({:.2}x of walk+read+parse; CPU {:.0} ms)",
        ms(full),
        ms(full) / ms(read),
        ms(full) / ms(parse),
        ms(cfull)
    );
    println!(
        "throughput (full check) {:8.0} files/s, {:.0} documents/s, {:.1} MB/s",
        files as f64 / full.as_secs_f64(),
        documents as f64 / full.as_secs_f64(),
        bytes as f64 / 1e6 / full.as_secs_f64()
    );
}
