//! SARIF 2.1.0 (OASIS), for code-scanning services such as GitHub's.
//!
//! One `run`; the driver lists every rule of the registry, with its page from
//! `lints/`; results point at the finding's region, with related locations and
//! the safe fix when the finding has one. Paths are relative to the linted root
//! and carry the `%SRCROOT%` base id, which GitHub code scanning resolves
//! against the checkout: run `gitops-lint check .` from the repository root.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{RULES, Rule};
use crate::run::Report;
use crate::source::SourceFile;
use crate::yaml::Span;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
/// Where rule pages live when the package names no repository.
const DEFAULT_REPOSITORY: &str = "https://github.com/gitops-lint/gitops-lint";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    original_uri_base_ids: BTreeMap<&'static str, BaseUri>,
    /// Our columns count Unicode scalar values (characters). SARIF consumers
    /// such as the .NET SDK assume UTF-16 code units when this is absent, so it
    /// is said explicitly (the two agree outside the astral planes).
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct BaseUri {
    uri: String,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<Descriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    id: &'a str,
    short_description: Text<'a>,
    full_description: Text<'a>,
    help: Markdown<'a>,
    help_uri: String,
    default_configuration: Configuration,
    properties: Properties<'a>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct OwnedText {
    text: String,
}

#[derive(Serialize)]
struct Markdown<'a> {
    text: &'a str,
    markdown: &'a str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
    /// Absent means `true`, so only a rule that is off by default writes it.
    #[serde(skip_serializing_if = "is_true")]
    enabled: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Configuration {
    fn of(rule: &Rule) -> Self {
        Configuration {
            level: level(rule.severity),
            enabled: rule.enabled,
        }
    }
}

#[derive(Serialize)]
struct Properties<'a> {
    tags: Vec<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: OwnedText,
    locations: Vec<Location<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<Fix<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

/// A text region: 1-based lines and columns, the end column exclusive (the
/// column of the character after the region), as in SARIF §3.30.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    /// Only in a fix's deleted region: the exact bytes the edit replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_offset: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_length: Option<u32>,
}

impl Region {
    fn of(file: &SourceFile, span: Span) -> Self {
        let (start, end) = file.range(span);
        Region {
            start_line: start.line,
            start_column: start.column,
            end_line: end.line,
            end_column: end.column,
            byte_offset: None,
            byte_length: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Fix<'a> {
    description: Text<'a>,
    artifact_changes: Vec<ArtifactChange<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'a> {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'a> {
    deleted_region: Region,
    inserted_content: Text<'a>,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The repository the rule pages are in: the package's `repository` field.
fn repository() -> &'static str {
    let url = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    if url.is_empty() {
        DEFAULT_REPOSITORY
    } else {
        url
    }
}

/// The body of a page's `## What it does` section (the summary when absent).
fn what_it_does(rule: &Rule) -> &str {
    let page = rule.page;
    let Some(at) = page.find("\n## What it does\n") else {
        return rule.summary;
    };
    let body = &page[at + "\n## What it does\n".len()..];
    let end = body.find("\n## ").unwrap_or(body.len());
    let text = body[..end].trim();
    if text.is_empty() { rule.summary } else { text }
}

/// Percent-encodes a `/`-separated path into a URI path: every byte but the
/// unreserved characters and `/` (RFC 3986 §2.3).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `file:///abs/root/`: what `%SRCROOT%` stands for on this machine.
fn root_uri(root: &Path) -> String {
    let mut path = root.to_string_lossy().replace('\\', "/");
    if !path.starts_with('/') {
        // A Windows drive path: `file:///C:/...`.
        path.insert(0, '/');
    }
    if !path.ends_with('/') {
        path.push('/');
    }
    format!("file://{}", uri_path(&path).replacen("%3A", ":", 1))
}

fn artifact(file: &SourceFile) -> ArtifactLocation {
    ArtifactLocation {
        uri: uri_path(&file.path),
        uri_base_id: SRCROOT,
    }
}

fn result<'a>(report: &'a Report, d: &'a Diagnostic) -> SarifResult<'a> {
    let files = &report.repo.files;
    let file = &files[d.file];
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let related_locations = d
        .related
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let f = &files[r.file];
            Location {
                id: Some(i + 1),
                physical_location: PhysicalLocation {
                    artifact_location: artifact(f),
                    region: Region::of(f, r.span),
                },
                message: Some(Text { text: &r.message }),
            }
        })
        .collect();
    let fixes = d
        .fix
        .iter()
        .map(|fix| Fix {
            description: Text { text: &fix.message },
            // Every edit of a fix is in the finding's file.
            artifact_changes: vec![ArtifactChange {
                artifact_location: artifact(file),
                replacements: fix
                    .edits
                    .iter()
                    .map(|e| Replacement {
                        deleted_region: Region {
                            byte_offset: Some(e.span.start),
                            byte_length: Some(e.span.end.saturating_sub(e.span.start)),
                            ..Region::of(file, e.span)
                        },
                        inserted_content: Text {
                            text: &e.replacement,
                        },
                    })
                    .collect(),
            }],
        })
        .filter(|f| !f.artifact_changes[0].replacements.is_empty())
        .collect();
    SarifResult {
        rule_id: d.rule,
        rule_index: RULES.iter().position(|r| r.id == d.rule),
        level: level(d.severity),
        message: OwnedText { text },
        locations: vec![Location {
            id: None,
            physical_location: PhysicalLocation {
                artifact_location: artifact(file),
                region: Region::of(file, d.span),
            },
            message: None,
        }],
        related_locations,
        fixes,
    }
}

pub fn render(report: &Report) -> String {
    let base = repository();
    let rules = RULES
        .iter()
        .map(|r| Descriptor {
            id: r.id,
            short_description: Text { text: r.summary },
            full_description: Text {
                text: what_it_does(r),
            },
            help: Markdown {
                text: r.page,
                markdown: r.page,
            },
            help_uri: format!("{base}/blob/main/lints/{}.md", r.id),
            default_configuration: Configuration::of(r),
            properties: Properties {
                tags: r.id.split_once('/').map(|(f, _)| f).into_iter().collect(),
            },
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: env!("CARGO_PKG_NAME"),
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: base,
                    rules,
                },
            },
            original_uri_base_ids: BTreeMap::from([(
                SRCROOT,
                BaseUri {
                    uri: root_uri(&report.repo.root),
                },
            )]),
            column_kind: "unicodeCodePoints",
            // The report is sorted (path, line, column, rule): so are these.
            results: report
                .diagnostics
                .iter()
                .map(|d| result(report, d))
                .collect(),
        }],
    };
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            uri_path("kubernetes/apps/a b/ks.yaml"),
            "kubernetes/apps/a%20b/ks.yaml"
        );
        assert_eq!(uri_path("50%#?é.yaml"), "50%25%23%3F%C3%A9.yaml");
        assert_eq!(root_uri(Path::new("/srv/repo")), "file:///srv/repo/");
        assert_eq!(
            root_uri(Path::new("C:\\work\\repo")),
            "file:///C:/work/repo/"
        );
    }

    #[test]
    fn full_description_is_the_what_it_does_section() {
        let rule = crate::rules::find("flux/no-retry-interval").unwrap();
        let text = what_it_does(rule);
        assert!(
            text.starts_with("Points at the `retryInterval` key"),
            "{text}"
        );
        assert!(!text.contains("## Why"), "{text}");
    }
}
