//! `gitops-lint.schema.json`, the JSON schema editors use to complete
//! `.gitops-lint.yaml`: current with the registry, and in agreement with the
//! configuration parser.

use std::path::{Path, PathBuf};

use gitops_lint::config::{self, Config};
use gitops_lint::rules::RULES;
use gitops_lint::source::SourceFile;
use gitops_lint::yaml::NodeRef;
use serde_json::Value;

fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(config::SCHEMA_FILE)
}

fn rendered() -> String {
    let mut text = serde_json::to_string_pretty(&config::json_schema()).unwrap();
    text.push('\n');
    text
}

#[test]
fn the_committed_schema_is_current() {
    let path = schema_path();
    let want = rendered();
    if std::env::var_os("GITOPS_LINT_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: run GITOPS_LINT_BLESS=1 cargo test --test config_schema",
        path.display()
    );
}

#[test]
fn the_schema_is_a_valid_draft_7_schema() {
    let schema = config::json_schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("not a valid JSON schema: {e}");
    }
}

/// A YAML node as JSON, typed the way the configuration parser reads it
/// (YAML 1.2 core: `true`/`false`, integers, null; anything else a string).
fn to_json(node: NodeRef) -> Value {
    if node.is_map() {
        Value::Object(
            node.entries()
                .map(|(k, v)| (k.as_str().unwrap_or("").to_string(), to_json(v)))
                .collect(),
        )
    } else if node.is_seq() {
        Value::Array(node.items().map(to_json).collect())
    } else if node.is_null() {
        Value::Null
    } else if let Some(b) = node.as_bool() {
        Value::Bool(b)
    } else if let Some(i) = node.as_i64() {
        Value::from(i)
    } else {
        Value::from(node.as_str().unwrap_or(""))
    }
}

fn yaml_to_json(text: &str) -> Value {
    let file = SourceFile::from_bytes("c.yaml".into(), text.as_bytes().to_vec());
    assert!(file.yaml.errors.is_empty(), "test case is not YAML: {text}");
    file.yaml.documents().next().map_or(Value::Null, to_json)
}

/// Whether the parser and the schema both accept, or both refuse, `text`.
fn assert_agree(text: &str, accepted: bool) {
    let validator = jsonschema::validator_for(&config::json_schema()).unwrap();
    let instance = yaml_to_json(text);
    let by_schema = validator.is_valid(&instance);
    let by_parser = Config::parse(Path::new("c.yaml"), text.as_bytes().to_vec());
    assert_eq!(
        by_parser.is_ok(),
        accepted,
        "parser on {text:?}: {by_parser:?}"
    );
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| e.to_string())
        .collect();
    assert_eq!(by_schema, accepted, "schema on {text:?}: {errors:?}");
}

#[test]
fn schema_and_parser_accept_the_same_configurations() {
    for text in [
        "",
        "exclude: [\"archive/**\"]\n",
        "exclude:\n",
        "rules:\n",
        "cluster:\n",
        "rules:\n  flux/no-retry-interval: warning\n",
        "rules:\n  yaml/syntax: {severity: off}\n",
        "rules:\n  yaml/syntax:\n    severity: info\n",
        "cluster:\n  dual_stack: false\n",
        "exclude: [\"archive/**\"]\nrules:\n  flux/no-retry-interval: warning\n  workload/rwo-single-replica-recreate:\n    severity: error\ncluster:\n  dual_stack: true\n",
    ] {
        assert_agree(text, true);
    }
}

#[test]
fn schema_and_parser_refuse_the_same_configurations() {
    for text in [
        "extra: 1\n",
        "[1, 2]\n",
        "exclude: \"archive/**\"\n",
        "rules: [flux/no-retry-interval]\n",
        "rules:\n  flux/nope: error\n",
        "rules:\n  flux/: error\n",
        "rules:\n  yaml/syntax: loud\n",
        "rules:\n  yaml/syntax: true\n",
        "rules:\n  yaml/syntax: {}\n",
        "rules:\n  yaml/syntax: {severity: error, ports: [1]}\n",
        "cluster: yes\n",
        "cluster:\n  dual_stack: maybe\n",
        "cluster:\n  ipv6: true\n",
    ] {
        assert_agree(text, false);
    }
}

#[test]
fn every_rule_takes_every_level_in_both_forms() {
    for rule in RULES {
        for level in ["error", "warning", "info", "off"] {
            assert_agree(&format!("rules:\n  {}: {level}\n", rule.id), true);
            assert_agree(
                &format!("rules:\n  {}:\n    severity: {level}\n", rule.id),
                true,
            );
        }
    }
}

#[test]
fn the_starter_configuration_follows_the_schema() {
    let starter = config::starter();
    assert!(
        starter.starts_with(&format!(
            "# yaml-language-server: $schema={}\n",
            config::SCHEMA_URL
        )),
        "the schema comment comes first"
    );
    assert!(
        config::SCHEMA_URL.ends_with(&format!("/{}", config::SCHEMA_FILE)),
        "the URL names the committed file"
    );
    assert_agree(&starter, true);
}
