use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use gitops_lint::diagnostic::Severity;
use gitops_lint::render::{self, Format, RenderOptions};
use gitops_lint::rules::{self, RULES};
use gitops_lint::{Options, run};

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
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Human,
    Compact,
    Json,
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
    /// Only these rules (ids or family prefixes such as `flux/`), comma-separated
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
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
    /// With `-`: the path the standard-input buffer stands for
    #[arg(long)]
    stdin_filename: Option<PathBuf>,
    /// Worker threads (default: one per core)
    #[arg(long)]
    threads: Option<usize>,
}

const SUBCOMMANDS: &[&str] = &[
    "check",
    "rules",
    "rule",
    "help",
    "-h",
    "--help",
    "-V",
    "--version",
];

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
        Command::Rule { id } => match rules::find(&id) {
            Some(r) => print(r.page),
            None => {
                eprintln!("gitops-lint: unknown rule `{id}` (see `gitops-lint rules`)");
                ExitCode::from(2)
            }
        },
    }
}

fn print(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    ExitCode::SUCCESS
}

fn check(args: CheckArgs) -> ExitCode {
    let mut paths = args.paths;
    let stdin = if paths.iter().any(|p| p.as_os_str() == "-") {
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
    } else {
        None
    };
    let opts = Options {
        paths,
        stdin,
        config: args.config,
        select: args.select,
        ignore: args.ignore,
        threads: args.threads,
    };
    let report = match run(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gitops-lint: {e}");
            return ExitCode::from(2);
        }
    };
    let terminal = std::io::stdout().is_terminal();
    let format = match args.format {
        Some(FormatArg::Human) => Format::Human,
        Some(FormatArg::Compact) => Format::Compact,
        Some(FormatArg::Json) => Format::Json,
        None if terminal => Format::Human,
        None => Format::Compact,
    };
    let color =
        terminal && !args.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut text = render::render(&report, format, &RenderOptions { color });
    if args.quiet && format == Format::Human {
        // The summary is the last line.
        let body = text.trim_end_matches('\n');
        text = body
            .rfind('\n')
            .map_or(String::new(), |i| body[..=i].to_string());
    }
    print(&text);
    let fail_on = match args.fail_on {
        SeverityArg::Error => Severity::Error,
        SeverityArg::Warning => Severity::Warning,
        SeverityArg::Info => Severity::Info,
    };
    if report.diagnostics.iter().any(|d| d.severity >= fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
