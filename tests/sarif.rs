//! `--format sarif`: SARIF 2.1.0 that validates against the official schema,
//! and that says the right things field by field.

use std::path::{Path, PathBuf};
use std::process::Command;

use gitops_lint::diagnostic::{Diagnostic, Edit, Fix, Severity};
use gitops_lint::render::{Format, RenderOptions, render};
use gitops_lint::rules::RULES;
use gitops_lint::yaml::Span;
use gitops_lint::{Options, Report, run};
use serde_json::Value;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample-repo")
}

fn lint_sample(format: &str) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .args(["check", sample().to_str().unwrap(), "--format", format])
        .output()
        .unwrap();
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stdout).unwrap(),
    )
}

fn sample_sarif() -> Value {
    let (code, out) = lint_sample("sarif");
    assert_eq!(code, 1, "the sample repository holds errors");
    serde_json::from_str(&out).unwrap()
}

/// The official SARIF 2.1.0 schema, when the workspace has it (a fresh clone
/// of the project does not).
fn schema() -> Option<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/schemas/sarif-schema-2.1.0.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        Err(_) => {
            eprintln!(
                "skipped: the SARIF 2.1.0 schema is not at {} (the field-by-field tests still run)",
                path.display()
            );
            None
        }
    }
}

/// Every schema violation, as `instance path: message`.
fn violations(schema: &Value, log: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the SARIF schema compiles offline");
    validator
        .iter_errors(log)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The one result at `uri` and `line`.
fn result_at<'a>(results: &'a [Value], uri: &str, line: u64) -> &'a Value {
    let found: Vec<&Value> = results
        .iter()
        .filter(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            loc["artifactLocation"]["uri"] == uri && loc["region"]["startLine"] == line
        })
        .collect();
    assert_eq!(found.len(), 1, "results at {uri}:{line}: {found:?}");
    found[0]
}

fn region(v: &Value) -> [u64; 4] {
    ["startLine", "startColumn", "endLine", "endColumn"].map(|k| v[k].as_u64().unwrap())
}

#[test]
fn sample_repository_validates_against_the_sarif_schema() {
    let Some(schema) = schema() else { return };
    let log = sample_sarif();
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());
    let errors = violations(&schema, &log);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_validation_catches_a_broken_log() {
    // The check above means something only if the validator rejects bad SARIF.
    let Some(schema) = schema() else { return };
    let mut log = sample_sarif();
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"] =
        0.into();
    let errors = violations(&schema, &log);
    assert!(
        errors.iter().any(|e| e.contains("/level"))
            && errors.iter().any(|e| e.contains("/startColumn")),
        "{errors:?}"
    );
}

#[test]
fn sample_repository_rules_come_from_the_registry() {
    let log = sample_sarif();
    assert_eq!(log["version"], "2.1.0");
    assert!(
        log["$schema"]
            .as_str()
            .unwrap()
            .ends_with("sarif-schema-2.1.0.json")
    );
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .unwrap()
            .strip_prefix("file://")
            .unwrap()
            .trim_end_matches('/'),
        sample().canonicalize().unwrap().to_str().unwrap()
    );
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "gitops-lint");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let base = driver["informationUri"].as_str().unwrap();
    assert!(base.starts_with("https://"), "{base}");

    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), RULES.len());
    for (r, rule) in rules.iter().zip(RULES) {
        assert_eq!(r["id"], rule.id);
        assert_eq!(r["shortDescription"]["text"], rule.summary);
        let full = r["fullDescription"]["text"].as_str().unwrap();
        assert!(
            !full.is_empty() && !full.contains("\n## "),
            "{}: {full}",
            rule.id
        );
        assert!(rule.page.contains(full), "{}: not from its page", rule.id);
        assert_eq!(r["help"]["markdown"], rule.page);
        assert_eq!(r["help"]["text"], rule.page);
        assert_eq!(
            r["helpUri"],
            format!("{base}/blob/main/lints/{}.md", rule.id)
        );
        let level = match rule.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        let config = &r["defaultConfiguration"];
        assert_eq!(config["level"], level, "{}", rule.id);
        assert_eq!(config["enabled"].as_bool().unwrap_or(true), rule.enabled);
    }
    let retry = &rules[RULES
        .iter()
        .position(|r| r.id == "flux/no-retry-interval")
        .unwrap()];
    assert!(
        retry["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Points at the `retryInterval` key")
    );
}

#[test]
fn sample_repository_results_have_the_findings_regions() {
    let log = sample_sarif();
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();

    // Every result names its rule by id and by index, with a relative URI.
    for r in results {
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc["uriBaseId"], "%SRCROOT%");
        assert!(!loc["uri"].as_str().unwrap().starts_with('/'));
        // A fix edits the finding's own file.
        for fix in r["fixes"].as_array().into_iter().flatten() {
            for change in fix["artifactChanges"].as_array().unwrap() {
                assert_eq!(change["artifactLocation"], *loc);
                assert!(!change["replacements"].as_array().unwrap().is_empty());
            }
        }
    }

    let hr = result_at(
        results,
        "kubernetes/apps/media/sonarr/app/helmrelease.yaml",
        9,
    );
    assert_eq!(hr["ruleId"], "flux/no-retry-interval");
    assert_eq!(hr["level"], "error");
    assert_eq!(
        region(&hr["locations"][0]["physicalLocation"]["region"]),
        [9, 3, 9, 16]
    );
    let text = hr["message"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("`spec.retryInterval` is not a HelmRelease field"),
        "{text}"
    );
    assert!(
        text.contains("\nhelp: remove it"),
        "help is appended: {text}"
    );

    let ks = result_at(results, "kubernetes/flux/cluster/ks.yaml", 10);
    assert_eq!(ks["ruleId"], "flux/no-retry-interval");
    assert_eq!(ks["level"], "warning");
    assert_eq!(
        region(&ks["locations"][0]["physicalLocation"]["region"]),
        [10, 3, 10, 16]
    );

    let rwo = result_at(
        results,
        "kubernetes/apps/media/jellyfin/app/deployment.yaml",
        11,
    );
    assert_eq!(rwo["ruleId"], "workload/rwo-single-replica-recreate");
    assert_eq!(
        region(&rwo["locations"][0]["physicalLocation"]["region"]),
        [11, 3, 11, 11]
    );
    let related = rwo["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 1);
    assert_eq!(related[0]["id"], 1);
    assert_eq!(
        related[0]["physicalLocation"]["artifactLocation"]["uri"],
        "kubernetes/apps/media/jellyfin/app/pvc.yaml"
    );
    assert_eq!(
        region(&related[0]["physicalLocation"]["region"])[..2],
        [7, 3]
    );
    assert_eq!(
        related[0]["message"]["text"],
        "claim `jellyfin-config` is ReadWriteOnce"
    );
}

#[test]
fn results_follow_the_report_order_and_the_output_is_stable() {
    let (_, first) = lint_sample("sarif");
    let (_, second) = lint_sample("sarif");
    assert_eq!(first, second, "the same input gives byte-identical SARIF");

    let log: Value = serde_json::from_str(&first).unwrap();
    let (_, json) = lint_sample("json");
    let json: Value = serde_json::from_str(&json).unwrap();
    let from_sarif: Vec<(String, u64, u64, String)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                loc["region"]["startLine"].as_u64().unwrap(),
                loc["region"]["startColumn"].as_u64().unwrap(),
                r["ruleId"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let from_json: Vec<(String, u64, u64, String)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(from_sarif, from_json);
}

const HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: a
  annotations:
    note: \"é → ü\"
spec:
  interval: 1h
  retryInterval: 2m
";

/// A report on a one-file repository, with a fix and a finding placed after
/// non-ASCII text added by hand (no rule has to make them).
fn report_with_fix(dir: &Path) -> Report {
    std::fs::create_dir(dir.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("apps/my app")).unwrap();
    std::fs::write(dir.join("apps/my app/hr.yaml"), HR).unwrap();
    let mut report = run(&Options {
        paths: vec![dir.to_path_buf()],
        threads: Some(1),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(report.diagnostics.len(), 1, "{:?}", report.diagnostics);
    let line = HR.find("  retryInterval").unwrap() as u32;
    let end = line + "  retryInterval: 2m\n".len() as u32;
    report.diagnostics[0].fix = Some(Box::new(Fix {
        message: "remove `spec.retryInterval`".into(),
        edits: vec![Edit {
            span: Span { start: line, end },
            replacement: String::new(),
        }],
    }));
    let u = HR.find('ü').unwrap() as u32;
    let file = report.diagnostics[0].file;
    report.diagnostics.insert(
        0,
        Diagnostic::new(
            "yaml/duplicate-key",
            Severity::Info,
            file,
            Span {
                start: u,
                end: u + 'ü'.len_utf8() as u32,
            },
            "a finding after non-ASCII text",
        ),
    );
    report
}

#[test]
fn fixes_and_columns_in_characters() {
    let dir = tempfile::tempdir().unwrap();
    let report = report_with_fix(dir.path());
    let text = render(&report, Format::Sarif, &RenderOptions { color: false });
    let log: Value = serde_json::from_str(&text).unwrap();
    if let Some(schema) = schema() {
        let errors = violations(&schema, &log);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);

    // `    note: "é → ü"`: ü is the 16th character of its line (the 19th byte).
    let info = &results[0];
    assert_eq!(info["level"], "note");
    let loc = &info["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "apps/my%20app/hr.yaml");
    assert_eq!(region(&loc["region"]), [6, 16, 6, 17]);
    assert!(info.get("fixes").is_none() && info.get("relatedLocations").is_none());

    let fixed = &results[1];
    assert_eq!(fixed["ruleId"], "flux/no-retry-interval");
    let fixes = fixed["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 1);
    assert_eq!(
        fixes[0]["description"]["text"],
        "remove `spec.retryInterval`"
    );
    let change = &fixes[0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "apps/my%20app/hr.yaml");
    assert_eq!(change["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    let replacement = &change["replacements"][0];
    let deleted = &replacement["deletedRegion"];
    // The whole line 9, up to the start of line 10.
    assert_eq!(region(deleted), [9, 1, 10, 1]);
    assert_eq!(deleted["byteOffset"], HR.find("  retryInterval").unwrap());
    assert_eq!(deleted["byteLength"], "  retryInterval: 2m\n".len());
    assert_eq!(replacement["insertedContent"]["text"], "");
}
