//! Phase timings for benchmarks.

use std::time::Instant;

/// Phase timings on standard error when `GITOPS_LINT_TIMING` is set (for benchmarks).
pub struct Phases {
    pub on: bool,
    last: std::sync::Mutex<Instant>,
}

impl Phases {
    pub fn start() -> Self {
        Phases {
            on: std::env::var_os("GITOPS_LINT_TIMING").is_some(),
            last: std::sync::Mutex::new(Instant::now()),
        }
    }

    pub fn mark(&self, name: &str) {
        if self.on {
            let now = Instant::now();
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!(
                "timing: {name} {:.2} ms",
                (now - *last).as_secs_f64() * 1000.0
            );
            if let Some((rss, peak)) = memory() {
                eprintln!(
                    "timing:   memory after {}: {rss} MiB, peak {peak} MiB",
                    name.trim()
                );
            }
            *last = now;
        }
    }
}

/// The process's resident memory and its peak so far, in MiB, where the
/// system says them (`VmRSS` and `VmHWM` in `/proc/self/status` on Linux).
fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()?;
        Some(kib / 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
