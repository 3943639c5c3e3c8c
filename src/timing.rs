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
            *last = now;
        }
    }
}
