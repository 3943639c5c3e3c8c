use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use gitops_lint::config;
use gitops_lint::diagnostic::Severity;
use gitops_lint::render::{self, Columns, Format, RenderOptions};
use gitops_lint::rules::{self, RULES};
use gitops_lint::{Options, Report, fix, run};

#[derive(Parser)]
#[command(
    name = "gitops-lint",
    version,
    about = "An offline linter for GitOps repositories: Flux, kustomize, Talos, Cilium, External Secrets"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint a repository (the default command)
    Check(CheckArgs),
    /// List every rule: id, default severity, enabled, summary
    Rules,
    /// Show a rule's page: what it does, why, a bad and a good example
    Rule {
        /// The rule id, such as flux/no-retry-interval
        id: String,
    },
    /// Language server on standard input and output (for editors)
    Lsp,
    /// Write a starter .gitops-lint.yaml that lists every rule at its default level
    Init {
        /// The directory to write it in
        #[arg(long, default_value = ".")]
        path: PathBuf,
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script to standard output
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output
    Man,
    /// Explain what Flux does with a file or directory: the builds that
    /// deploy each object, its name, namespace, variables, patches and
    /// cluster, or why nothing deploys it
    Explain(ExplainArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum ExplainFormat {
    Human,
    Json,
}

#[derive(Args)]
struct ExplainArgs {
    /// Files or directories to explain (with --tree: the part of the tree to show)
    paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    format: ExplainFormat,
    /// The whole deployment tree: sync roots, Flux Kustomizations, kustomizations
    #[arg(long)]
    tree: bool,
    /// The repository root (default: found from the first path, as `check` finds it)
    #[arg(long)]
    root: Option<PathBuf>,
    /// Configuration file (default: .gitops-lint.yaml at the root)
    #[arg(long)]
    config: Option<PathBuf>,
    /// Worker threads (default: one per core)
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Human,
    Compact,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColumnsArg {
    /// Characters (Unicode scalar values)
    Chars,
    /// Bytes of UTF-8, as Vim's and Emacs's error formats count them
    Bytes,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeverityArg {
    Error,
    Warning,
    Info,
}

#[derive(Args)]
struct CheckArgs {
    /// Repository roots or files (`-` reads the buffer from standard input); default: the current directory
    paths: Vec<PathBuf>,
    /// Output format (default: human on a terminal, compact otherwise)
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Configuration file (default: .gitops-lint.yaml at the root)
    #[arg(long)]
    config: Option<PathBuf>,
    /// Only these rules (ids or family prefixes such as `flux/`), comma-separated;
    /// turns on rules that are off by default
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// These rules besides the configured ones (ids or family prefixes), comma-separated
    #[arg(long, value_delimiter = ',')]
    extend_select: Vec<String>,
    /// Not these rules (ids or family prefixes), comma-separated
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Lowest severity that makes the exit status 1
    #[arg(long, value_enum, default_value = "error")]
    fail_on: SeverityArg,
    /// No colours (NO_COLOR is honoured too)
    #[arg(long)]
    no_color: bool,
    /// Print findings only: no summary line
    #[arg(long)]
    quiet: bool,
    /// With `-`: the path the standard-input buffer stands for (findings name it as given)
    #[arg(long)]
    stdin_filename: Option<PathBuf>,
    /// What a column counts in the compact, json and github formats
    #[arg(long, value_enum, default_value = "chars")]
    columns: ColumnsArg,
    /// Worker threads (default: one per core)
    #[arg(long)]
    threads: Option<usize>,
    /// Apply the safe fixes to the files, then report the findings that remain
    #[arg(long, conflicts_with = "diff")]
    fix: bool,
    /// Print the safe fixes as a unified diff and write nothing (exit 1 when there is one)
    #[arg(long)]
    diff: bool,
    /// Read and parse every file, and neither read nor write the cache
    /// (also: GITOPS_LINT_NO_CACHE=1)
    #[arg(long)]
    no_cache: bool,
    /// Where to keep the cache (default: .gitops-lint-cache at the repository
    /// root; also: GITOPS_LINT_CACHE_DIR)
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
}

const SUBCOMMANDS: &[&str] = &[
    "check",
    "rules",
    "rule",
    "lsp",
    "init",
    "completions",
    "man",
    "explain",
    "help",
    "-h",
    "--help",
    "-V",
    "--version",
];

// See Cargo.toml: measured in BENCHMARKS.md.
#[cfg(all(not(target_env = "msvc"), not(feature = "system-alloc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read once at its start (the environment's
/// `_RJEM_MALLOC_CONF` comes after and wins). One arena for every thread:
/// with more, which threads shared one changed from run to run, and so did
/// the peak (a tenth more in some runs); and pages left free for 200 ms
/// handed back. A whole check of a large repository peaks lower, and no
/// slower (BENCHMARKS.md).
#[cfg(all(not(target_env = "msvc"), not(feature = "system-alloc")))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: MallocConf = MallocConf(c"narenas:1,dirty_decay_ms:200".as_ptr());

/// A C string for jemalloc to read (a pointer, which is not `Sync` alone).
#[cfg(all(not(target_env = "msvc"), not(feature = "system-alloc")))]
#[repr(transparent)]
struct MallocConf(*const std::ffi::c_char);

// SAFETY: the pointer is to a static string that is never written.
#[cfg(all(not(target_env = "msvc"), not(feature = "system-alloc")))]
unsafe impl Sync for MallocConf {}

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `gitops-lint PATH` means `gitops-lint check PATH`.
    if args
        .get(1)
        .is_none_or(|a| !SUBCOMMANDS.contains(&a.to_string_lossy().as_ref()))
    {
        args.insert(1, "check".into());
    }
    let cli = Cli::parse_from(args);
    match cli.command {
        Command::Check(args) => check(args),
        Command::Init { path, force } => init(&path, force),
        Command::Explain(args) => {
            let request = gitops_lint::explain::Request {
                paths: args.paths,
                root: args.root,
                tree: args.tree,
                json: matches!(args.format, ExplainFormat::Json),
                config: args.config,
                threads: args.threads,
            };
            match gitops_lint::explain::run(&request) {
                Ok(text) => print(&text),
                Err(e) => {
                    eprintln!("gitops-lint: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "gitops-lint", &mut out);
            let mut script = String::from_utf8_lossy(&out).into_owned();
            if shell == clap_complete::Shell::Bash {
                // clap_complete spells the state of a hyphenated binary one way
                // and its case arms another, so nothing after the subcommand
                // completes (clap-rs/clap#6421).
                script = script.replace("gitops__subcmd__lint__subcmd__", "gitops__lint__subcmd__");
            }
            print(&script)
        }
        Command::Man => match man_page() {
            Ok(page) => print(&page),
            Err(e) => {
                eprintln!("gitops-lint: cannot render the manual page: {e}");
                ExitCode::from(2)
            }
        },
        Command::Rules => {
            let mut out = String::new();
            out.push_str(&format!(
                "{:<40} {:<8} {:<8} {}\n",
                "RULE", "SEVERITY", "ENABLED", "SUMMARY"
            ));
            for r in RULES {
                out.push_str(&format!(
                    "{:<40} {:<8} {:<8} {}\n",
                    r.id,
                    r.severity.as_str(),
                    if r.enabled { "yes" } else { "no" },
                    r.summary
                ));
            }
            print(&out)
        }
        Command::Lsp => match gitops_lint::lsp::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("gitops-lint: {e}");
                ExitCode::from(2)
            }
        },
        Command::Rule { id } => match rules::find(&id) {
            Some(r) => print(r.page),
            None => {
                eprintln!("gitops-lint: unknown rule `{id}` (see `gitops-lint rules`)");
                ExitCode::from(2)
            }
        },
    }
}

/// `gitops-lint init`: the starter configuration, never over an existing file
/// unless `--force`.
fn init(dir: &std::path::Path, force: bool) -> ExitCode {
    let path = dir.join(config::FILE_NAME);
    let text = config::starter();
    let written = if force {
        std::fs::write(&path, &text)
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
    };
    match written {
        Ok(()) => {
            eprintln!("gitops-lint: wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "gitops-lint: {} already exists (--force overwrites it)",
                path.display()
            );
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("gitops-lint: cannot write {}: {e}", path.display());
            ExitCode::from(2)
        }
    }
}

/// One manual page: the program, then every command with its description,
/// synopsis and options (clap_mangen alone points at a page per subcommand).
fn man_page() -> std::io::Result<String> {
    use clap_mangen::Man;
    let cli = Cli::command();
    let man = Man::new(cli.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    out.extend_from_slice(b".SH COMMANDS\n");
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("gitops-lint {}", sub.get_name());
        let sub = Man::new(sub.clone().bin_name(&name));
        out.extend_from_slice(format!(".SS \"{}\"\n", name.replace('-', "\\-")).as_bytes());
        for (i, section) in [
            Man::render_description_section,
            Man::render_synopsis_section,
            Man::render_options_section,
        ]
        .into_iter()
        .enumerate()
        {
            let mut part = Vec::new();
            section(&sub, &mut part)?;
            if i > 0 {
                out.extend_from_slice(b".PP\n");
            }
            // The parts go under the command's heading, not as sections.
            for line in String::from_utf8_lossy(&part).lines() {
                if !line.starts_with(".SH ") {
                    out.extend_from_slice(line.as_bytes());
                    out.push(b'\n');
                }
            }
        }
    }
    man.render_version_section(&mut out)?;
    // Each part repeats the string definitions the title already made.
    let text = String::from_utf8_lossy(&out);
    let mut page = String::new();
    for (i, line) in text.lines().enumerate() {
        let preamble = line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq");
        if i < 2 || !preamble {
            page.push_str(line);
            page.push('\n');
        }
    }
    Ok(page)
}

fn print(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    ExitCode::SUCCESS
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `--diff`: the fixes as a unified diff on standard output; nothing written.
fn fix_diff(report: &Report, quiet: bool) -> ExitCode {
    let plan = fix::plan(report);
    print(&plan.diff(report));
    if !quiet {
        eprintln!(
            "would fix {} in {}",
            plural(plan.findings(), "finding"),
            plural(plan.files.len(), "file")
        );
    }
    if plan.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--fix`: writes the fixes, then lints again so that what is reported (and
/// decides the exit status) is what remains, at its new place.
fn fix_files(report: Report, opts: &Options, quiet: bool) -> Result<Report, ExitCode> {
    let plan = fix::plan(&report);
    let written = plan.write(&report);
    for (path, why) in &written.failed {
        eprintln!("gitops-lint: {path}: {why}");
    }
    if !quiet {
        eprintln!(
            "fixed {} in {}",
            plural(written.fixed.len(), "finding"),
            plural(written.files.len(), "file")
        );
    }
    if written.files.is_empty() {
        return Ok(report);
    }
    run(opts).map_err(|e| {
        eprintln!("gitops-lint: {e}");
        ExitCode::from(2)
    })
}

/// The cache a `check` uses: on by default, at the root; the flags first,
/// then the environment.
fn cache_location(no_cache: bool, dir: Option<PathBuf>) -> gitops_lint::cache::Location {
    use gitops_lint::cache::Location;
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if no_cache || env("GITOPS_LINT_NO_CACHE").is_some_and(|v| v != "0" && v != "false") {
        return Location::Off;
    }
    match dir.or_else(|| env("GITOPS_LINT_CACHE_DIR").map(PathBuf::from)) {
        Some(dir) => Location::Dir(dir),
        None => Location::AtRoot,
    }
}

fn check(args: CheckArgs) -> ExitCode {
    let mut paths = args.paths;
    let stdin = if paths.iter().any(|p| p.as_os_str() == "-") {
        if args.fix || args.diff {
            eprintln!("gitops-lint: --fix and --diff change files; they do not read `-`");
            return ExitCode::from(2);
        }
        let Some(name) = args.stdin_filename else {
            eprintln!(
                "gitops-lint: `-` needs --stdin-filename PATH (the file the buffer stands for)"
            );
            return ExitCode::from(2);
        };
        if paths.len() > 1 {
            eprintln!("gitops-lint: `-` cannot be combined with other paths");
            return ExitCode::from(2);
        }
        paths.clear();
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            eprintln!("gitops-lint: cannot read standard input: {e}");
            return ExitCode::from(2);
        }
        Some((name, text))
    } else if let Some(name) = &args.stdin_filename {
        eprintln!(
            "gitops-lint: --stdin-filename {} names the file a buffer on standard input stands for: add `-` to read it",
            name.display()
        );
        return ExitCode::from(2);
    } else {
        None
    };
    let opts = Options {
        paths,
        stdin,
        config: args.config,
        select: args.select,
        extend_select: args.extend_select,
        ignore: args.ignore,
        threads: args.threads,
        // `--diff` writes nothing, the cache included.
        cache: cache_location(args.no_cache || args.diff, args.cache_dir),
    };
    let mut report = match run(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gitops-lint: {e}");
            return ExitCode::from(2);
        }
    };
    if args.diff {
        return fix_diff(&report, args.quiet);
    }
    if args.fix {
        report = match fix_files(report, &opts, args.quiet) {
            Ok(r) => r,
            Err(code) => return code,
        };
    }
    let terminal = std::io::stdout().is_terminal();
    let format = match args.format {
        Some(FormatArg::Human) => Format::Human,
        Some(FormatArg::Compact) => Format::Compact,
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Sarif) => Format::Sarif,
        Some(FormatArg::Github) => Format::Github,
        None if terminal => Format::Human,
        None => Format::Compact,
    };
    let color =
        terminal && !args.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let rendering = std::time::Instant::now();
    let columns = match args.columns {
        ColumnsArg::Chars => Columns::Chars,
        ColumnsArg::Bytes => Columns::Bytes,
    };
    let render_opts = RenderOptions { color };
    if args.quiet && format == Format::Human {
        let text = render::render_columns(&report, format, &render_opts, columns);
        // The summary is the last line.
        let body = text.trim_end_matches('\n');
        print(body.rfind('\n').map_or("", |i| &body[..=i]));
    } else {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = render::write_columns(&report, format, &render_opts, columns, &mut out)
            .and_then(|()| out.flush());
    }
    if std::env::var_os("GITOPS_LINT_TIMING").is_some() {
        eprintln!(
            "timing: render {:.2} ms",
            rendering.elapsed().as_secs_f64() * 1000.0
        );
    }
    let fail_on = match args.fail_on {
        SeverityArg::Error => Severity::Error,
        SeverityArg::Warning => Severity::Warning,
        SeverityArg::Info => Severity::Info,
    };
    let failed = report.diagnostics.iter().any(|d| d.severity >= fail_on);
    // Freeing every file's text and tree one by one takes tens of milliseconds
    // on a large repository; the process is about to exit, which frees it all.
    std::mem::forget(report);
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
