//! Phase timings for benchmarks.

use std::time::Instant;

/// Phase timings on standard error when `GITOPS_LINT_TIMING` is set (for benchmarks).
pub struct Phases {
    pub on: bool,
    /// When the last phase ended, and the process's CPU time then.
    last: std::sync::Mutex<(Instant, Option<f64>)>,
}

impl Phases {
    pub fn start() -> Self {
        Phases {
            on: std::env::var_os("GITOPS_LINT_TIMING").is_some(),
            last: std::sync::Mutex::new((Instant::now(), cpu_ms())),
        }
    }

    pub fn mark(&self, name: &str) {
        if self.on {
            let (now, cpu) = (Instant::now(), cpu_ms());
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            let wall = (now - last.0).as_secs_f64() * 1000.0;
            match cpu.zip(last.1) {
                Some((cpu, before)) => {
                    eprintln!("timing: {name} {wall:.2} ms (CPU {:.0} ms)", cpu - before)
                }
                None => eprintln!("timing: {name} {wall:.2} ms"),
            }
            if let Some((rss, peak)) = memory() {
                eprintln!(
                    "timing:   memory after {}: {rss} MiB, peak {peak} MiB",
                    name.trim()
                );
            }
            *last = (now, cpu);
        }
    }
}

/// The CPU time the process has spent so far (user and system, all
/// threads), in milliseconds, where the system says it.
fn cpu_ms() -> Option<f64> {
    #[cfg(unix)]
    {
        // SAFETY: `getrusage` fills the zeroed struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return None;
        }
        let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
        Some(ms(usage.ru_utime) + ms(usage.ru_stime))
    }
    #[cfg(not(unix))]
    None
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

/// What the files read hold, in bytes: their text and their trees (the parts
/// of `Yaml`), and how much of it is borrowed from the cache.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub files: usize,
    pub text: usize,
    pub nodes: usize,
    pub collections: usize,
    pub scalars: usize,
    pub strings: usize,
    /// Documents and duplicate keys.
    pub other: usize,
    /// Of all the above, the bytes borrowed from the cache's shards (mapped
    /// on Unix, else read into one buffer per shard).
    pub borrowed: usize,
    /// Of all the above, the bytes packed into chunks as files were parsed.
    pub packed: usize,
}

impl Held {
    pub fn of(files: &[crate::source::SourceFile]) -> Held {
        /// Bytes borrowed and packed.
        type Where = (usize, usize);
        fn slab<T: crate::shared::Plain>(s: &crate::shared::Slab<T>, at: &mut Where) -> usize {
            let bytes = std::mem::size_of_val::<[T]>(s);
            at.0 += if s.is_shared() { bytes } else { 0 };
            at.1 += if s.is_packed() { bytes } else { 0 };
            bytes
        }
        fn text(t: &crate::shared::Text, at: &mut Where) -> usize {
            at.0 += if t.is_shared() { t.len() } else { 0 };
            at.1 += if t.is_packed() { t.len() } else { 0 };
            t.len()
        }
        let mut at = (0, 0);
        let mut h = Held {
            files: files.len(),
            ..Held::default()
        };
        for f in files {
            let y = &f.yaml;
            h.text += text(f.text(), &mut at);
            h.nodes += slab(&y.nodes, &mut at);
            h.collections += slab(&y.collections, &mut at);
            h.scalars += slab(&y.scalars, &mut at);
            h.strings += text(&y.strings, &mut at);
            h.other += slab(&y.docs, &mut at) + slab(&y.duplicate_keys, &mut at);
        }
        (h.borrowed, h.packed) = at;
        h
    }

    /// One line for `GITOPS_LINT_TIMING`.
    pub fn line(&self) -> String {
        let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
        let trees = self.nodes + self.collections + self.scalars + self.strings + self.other;
        format!(
            "{} files hold text {:.1} MiB and trees {:.1} MiB (nodes {:.1}, collections {:.1}, scalars {:.1}, strings {:.1}, documents and duplicate keys {:.1}); {:.1} MiB of it borrowed from the cache's shards, {:.1} MiB packed",
            self.files,
            mib(self.text),
            mib(trees),
            mib(self.nodes),
            mib(self.collections),
            mib(self.scalars),
            mib(self.strings),
            mib(self.other),
            mib(self.borrowed),
            mib(self.packed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Held;
    use crate::source::SourceFile;

    #[test]
    fn held_counts_text_and_every_part_of_the_trees() {
        let files = vec![
            SourceFile::from_bytes("a.yaml".into(), b"a: 1\nb: [x, y]\n".to_vec()),
            SourceFile::from_bytes("b.yaml".into(), b"c: \"esc\\taped\"\n".to_vec()),
        ];
        let held = Held::of(&files);
        assert_eq!(held.files, 2);
        assert_eq!(held.text, 15 + 15);
        let nodes: usize = files.iter().map(|f| f.yaml.nodes.len()).sum();
        assert_eq!(held.nodes, nodes * std::mem::size_of::<crate::yaml::Node>());
        assert!(held.collections > 0 && held.scalars > 0);
        // The escaped scalar's value is held apart from the text.
        assert_eq!(held.strings, "esc\taped".len());
        assert_eq!(held.borrowed, 0, "parsed files own their storage");
        // A file read for the run is packed, all of it.
        let all =
            held.text + held.nodes + held.collections + held.scalars + held.strings + held.other;
        assert_eq!(held.packed, all);
        assert!(held.line().starts_with("2 files hold text 0.0 MiB"));
    }
}
