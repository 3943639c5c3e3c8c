//! Phase timings for benchmarks.

use std::time::Instant;

/// Phase timings on standard error when `GITOPS_LINT_TIMING` is set (for benchmarks).
pub struct Phases {
    pub on: bool,
    last: std::cell::Cell<Instant>,
}

impl Phases {
    pub fn start() -> Self {
        Phases {
            on: std::env::var_os("GITOPS_LINT_TIMING").is_some(),
            last: std::cell::Cell::new(Instant::now()),
        }
    }

    pub fn mark(&self, name: &str) {
        if self.on {
            let now = Instant::now();
            eprintln!(
                "timing: {name} {:.2} ms",
                (now - self.last.get()).as_secs_f64() * 1000.0
            );
            self.last.set(now);
        }
    }
}
