//! `.gitops-lint.yaml`: read with the same spanned parser as manifests, so
//! every mistake in it is reported with its line.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostic::Severity;
use crate::rules;
use crate::source::SourceFile;
use crate::yaml::{NodeRef, Span};

pub const FILE_NAME: &str = ".gitops-lint.yaml";

/// The JSON schema of the configuration, committed at the crate root and kept
/// current by `tests/config_schema.rs`.
pub const SCHEMA_FILE: &str = "gitops-lint.schema.json";

/// Where editors fetch that schema (the file in this repository).
pub const SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/gitops-lint/gitops-lint/main/gitops-lint.schema.json";

/// What a rule's setting may be.
const LEVELS: [&str; 4] = ["error", "warning", "info", "off"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Off,
    On(Severity),
}

/// A line and column in the configuration file.
pub type Position = (usize, usize);

#[derive(Debug, Default, Clone)]
pub struct Config {
    pub exclude: Vec<String>,
    /// Rule id -> the level the configuration sets.
    pub rules: BTreeMap<String, Level>,
    pub dual_stack: Option<bool>,
    /// `gateway/listener-ports: {ports: [...]}`.
    pub listener_ports: Option<Vec<u16>>,
    /// `cluster.kubernetes_version`: which built-in Kubernetes schemas to use.
    pub kubernetes_version: Option<String>,
    /// `schemas:` (a list, or `paths:`): schema directories, with the line and
    /// column each was written at.
    pub schema_paths: Vec<(String, Position)>,
    /// `schemas.talos`: the official Talos `config.schema.json`.
    pub talos_schema: Option<(String, Position)>,
    /// `schemas.catalog: false`: do not use the built-in CRDs catalog.
    pub no_catalog: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl Config {
    /// Reads a configuration file; a missing default file is an empty config.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        // A FIFO or device would block the read forever.
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: "the configuration is not a regular file".into(),
            });
        }
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("cannot read configuration: {e}"),
        })?;
        Self::parse(path, bytes)
    }

    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<Config, ConfigError> {
        let file = SourceFile::from_bytes(path.display().to_string(), bytes);
        let err = |span: Span, message: String| {
            let pos = file.position(span.start);
            ConfigError {
                path: path.to_path_buf(),
                line: pos.line,
                column: pos.column,
                message,
            }
        };
        if let Some(e) = file.yaml.errors.first() {
            return Err(err(
                Span::new(e.offset as usize, e.offset as usize),
                format!("invalid YAML: {}", e.message),
            ));
        }
        if file.unreadable.is_some() {
            return Err(err(
                Span::default(),
                "configuration is not UTF-8 text".into(),
            ));
        }
        if let Some(d) = file.yaml.duplicate_keys.first() {
            return Err(err(d.repeat, "duplicate key".into()));
        }
        let mut config = Config::default();
        let Some(root) = file.yaml.documents().next() else {
            return Ok(config);
        };
        if root.is_null() {
            return Ok(config);
        }
        if !root.is_map() {
            return Err(err(
                root.span(),
                "the configuration must be a mapping".into(),
            ));
        }
        for (key, value) in root.entries() {
            match key.as_str().unwrap_or("") {
                "exclude" => {
                    config.exclude = string_list(value)
                        .map_err(|s| err(s, "`exclude` is a list of glob patterns".into()))?
                }
                "rules" => {
                    for (id, setting) in value.entries() {
                        let name = id.as_str().unwrap_or("");
                        if rules::find(name).is_none() {
                            return Err(err(
                                id.span(),
                                format!("unknown rule id `{name}` (see `gitops-lint rules`)"),
                            ));
                        }
                        let level =
                            rule_level(name, setting, &mut config).map_err(|(s, m)| err(s, m))?;
                        config.rules.insert(name.to_string(), level);
                    }
                    if !value.is_map() && !value.is_null() {
                        return Err(err(
                            value.span(),
                            "`rules` maps rule ids to a severity".into(),
                        ));
                    }
                }
                "schemas" => {
                    let at = |n: NodeRef| {
                        let p = file.position(n.span().start);
                        (p.line, p.column)
                    };
                    let list = |n: NodeRef| -> Result<Vec<(String, Position)>, ConfigError> {
                        if n.is_null() {
                            return Ok(Vec::new());
                        }
                        if !n.is_seq() {
                            return Err(err(
                                n.span(),
                                "schema paths are a list of directories".into(),
                            ));
                        }
                        n.items()
                            .map(|i| {
                                i.as_str().map(|s| (s.to_string(), at(i))).ok_or_else(|| {
                                    err(i.span(), "a schema directory is a path".into())
                                })
                            })
                            .collect()
                    };
                    if value.is_map() {
                        for (k, v) in value.entries() {
                            match k.as_str().unwrap_or("") {
                                "paths" => config.schema_paths = list(v)?,
                                "talos" => {
                                    let path = v.as_str().ok_or_else(|| {
                                        err(
                                            v.span(),
                                            "`talos` is the path of Talos' config.schema.json"
                                                .into(),
                                        )
                                    })?;
                                    config.talos_schema = Some((path.to_string(), at(v)));
                                }
                                "catalog" => {
                                    let on = v.as_bool().ok_or_else(|| {
                                        err(v.span(), "`catalog` is true or false".into())
                                    })?;
                                    config.no_catalog = !on;
                                }
                                other => {
                                    return Err(err(
                                        k.span(),
                                        format!(
                                            "unknown key `schemas.{other}` (known: paths, talos, catalog)"
                                        ),
                                    ));
                                }
                            }
                        }
                    } else {
                        config.schema_paths = list(value)?;
                    }
                }
                "cluster" => {
                    if !value.is_map() && !value.is_null() {
                        return Err(err(
                            value.span(),
                            "`cluster` is a mapping (known: dual_stack, kubernetes_version)".into(),
                        ));
                    }
                    for (k, v) in value.entries() {
                        match k.as_str().unwrap_or("") {
                            "dual_stack" => {
                                config.dual_stack = Some(v.as_bool().ok_or_else(|| {
                                    err(v.span(), "`dual_stack` is true or false".into())
                                })?)
                            }
                            "kubernetes_version" => {
                                let known = crate::schema::KUBERNETES_VERSIONS;
                                let text = v
                                    .scalar()
                                    .map(|s| s.text.trim_start_matches('v').to_string());
                                match text {
                                    Some(t) if known.contains(&t.as_str()) => {
                                        config.kubernetes_version = Some(t)
                                    }
                                    _ => {
                                        return Err(err(
                                            v.span(),
                                            format!(
                                                "`kubernetes_version` is one of {}",
                                                known.join(", ")
                                            ),
                                        ));
                                    }
                                }
                            }
                            other => {
                                return Err(err(
                                    k.span(),
                                    format!(
                                        "unknown key `cluster.{other}` (known: dual_stack, kubernetes_version)"
                                    ),
                                ));
                            }
                        }
                    }
                }
                other => {
                    return Err(err(
                        key.span(),
                        format!("unknown key `{other}` (known: exclude, rules, cluster, schemas)"),
                    ));
                }
            }
        }
        Ok(config)
    }
}

impl Config {
    /// Whether any rule whose id starts with `prefix` is on.
    pub fn enables(&self, prefix: &str) -> bool {
        rules::RULES.iter().any(|r| {
            r.id.starts_with(prefix)
                && match self.rules.get(r.id) {
                    Some(Level::Off) => false,
                    Some(_) => true,
                    None => r.enabled,
                }
        })
    }

    /// The schema settings: directories indexed and the Talos schema read.
    /// Paths are relative to `base`, the directory of the configuration file.
    pub fn schema_settings(
        &self,
        config_path: Option<&Path>,
        base: &Path,
    ) -> Result<crate::schema::SchemaSettings, ConfigError> {
        use crate::schema::{SchemaDirs, SchemaSettings, TalosSchema};
        let err = |(line, column): Position, message: String| ConfigError {
            path: config_path.map(Path::to_path_buf).unwrap_or_default(),
            line,
            column,
            message,
        };
        let mut dirs = Vec::new();
        for (path, at) in &self.schema_paths {
            let dir = base.join(path);
            if !dir.is_dir() {
                return Err(err(
                    *at,
                    format!("schema directory `{path}` does not exist"),
                ));
            }
            dirs.push(dir);
        }
        let dirs = SchemaDirs::index(&dirs).map_err(|e| err(self.schema_paths[0].1, e))?;
        let talos = match &self.talos_schema {
            Some((path, at)) => Some(std::sync::Arc::new(
                TalosSchema::load(base.join(path)).map_err(|e| err(*at, e))?,
            )),
            None => None,
        };
        Ok(SchemaSettings {
            skip: false,
            kubernetes_version: self.kubernetes_version.clone(),
            dirs,
            talos,
            no_catalog: self.no_catalog,
            one_shot: false,
        })
    }
}

/// A rule's level when the configuration does not mention it.
fn default_level(rule: &rules::Rule) -> &'static str {
    if rule.enabled {
        rule.severity.as_str()
    } else {
        "off"
    }
}

/// The JSON schema (draft-07) of `.gitops-lint.yaml`, made from the rule
/// registry: every rule id is a property, so editors complete ids and levels.
/// It accepts what [`Config::parse`] accepts.
pub fn json_schema() -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let rule_schemas: Map<String, Value> = rules::RULES
        .iter()
        .map(|r| {
            let default = default_level(r);
            let schema = json!({
                "description": format!(
                    "{} (default: {default}; `gitops-lint rule {}` explains it)",
                    r.summary, r.id
                ),
                "default": default,
                "anyOf": [
                    {"$ref": "#/definitions/level"},
                    rule_settings_schema(r.id)
                ]
            });
            (r.id.to_string(), schema)
        })
        .collect();
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "gitops-lint configuration (.gitops-lint.yaml)",
        "description": "Which files gitops-lint reads, how each rule reports, and facts about the cluster.",
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": {
            "exclude": {
                "description": "Glob patterns, relative to the repository root, of files not to read (.gitignore and .ignore are honoured too).",
                "type": ["array", "null"],
                "items": {"type": "string"}
            },
            "rules": {
                "description": "Rule id -> error, warning, info or off (or {severity: ...}). `gitops-lint rules` lists them.",
                "type": ["object", "null"],
                "additionalProperties": false,
                "properties": rule_schemas
            },
            "cluster": {
                "description": "Facts about the cluster that the repository may not reveal.",
                "type": ["object", "null"],
                "additionalProperties": false,
                "properties": {
                    "dual_stack": {
                        "description": "Whether the cluster serves both IPv4 and IPv6; by default inferred from the repository (address pools and Services).",
                        "type": "boolean"
                    },
                    "kubernetes_version": {
                        "description": "The Kubernetes minor version whose built-in schemas validate core objects (default: the latest built in).",
                        "enum": crate::schema::KUBERNETES_VERSIONS
                    }
                }
            },
            "schemas": {
                "description": "Where schemas for the schema/ rules come from besides the CRDs in the repository and the built-in ones: schema directories (kubeconform or CRDs-catalog layout), as a list or under `paths`, `talos`, the official Talos config.schema.json, and `catalog`, whether the built-in CRDs catalog is used. Paths are relative to this file. Nothing is ever downloaded.",
                "anyOf": [
                    {"type": "null"},
                    {"$ref": "#/definitions/schemaPaths"},
                    {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {
                            "paths": {"$ref": "#/definitions/schemaPaths"},
                            "talos": {
                                "description": "The official Talos config.schema.json (siderolabs/talos pkg/machinery/config/schemas).",
                                "type": "string"
                            },
                            "catalog": {
                                "description": "Whether custom resources are validated against the built-in CRDs catalog (datreeio/CRDs-catalog) when neither the repository nor a schema directory has their schema (default: true).",
                                "type": "boolean"
                            }
                        }
                    }
                ]
            }
        },
        "definitions": {
            "schemaPaths": {
                "description": "Directories of JSON schemas: `{group}/{kind}_{version}.json` (CRDs catalog) or `{kind}-{group}-{version}.json` (kubeconform).",
                "type": ["array", "null"],
                "items": {"type": "string"}
            },
            "level": {
                "description": "The severity a rule's findings are reported with, or off.",
                "enum": LEVELS
            },
            "ruleSettings": {
                "type": "object",
                "additionalProperties": false,
                "required": ["severity"],
                "properties": {
                    "severity": {"$ref": "#/definitions/level"}
                }
            }
        }
    })
}

/// `{severity, ...options}` for one rule.
fn rule_settings_schema(id: &str) -> serde_json::Value {
    use serde_json::json;
    let mut properties = serde_json::Map::new();
    properties.insert("severity".into(), json!({"$ref": "#/definitions/level"}));
    for (rule, option) in RULE_OPTIONS {
        if *rule == id && *option == "ports" {
            properties.insert(
                "ports".into(),
                json!({
                    "description": "The ports listeners may use (default: 8000 and 8443, Traefik's entrypoints).",
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": 65535}
                }),
            );
        }
    }
    json!({"type": "object", "additionalProperties": false, "required": ["severity"], "properties": properties})
}

/// The starter configuration `gitops-lint init` writes: every rule with its
/// default level, so a user changes a word rather than looks up an id.
pub fn starter() -> String {
    let mut s = format!(
        "# yaml-language-server: $schema={SCHEMA_URL}\n\
         # gitops-lint configuration. Every rule is listed with its default level:\n\
         # set one to error, warning, info or off. `gitops-lint rule ID` explains a rule.\n\
         \n\
         # Globs, relative to the repository root, of files not to read\n\
         # (.gitignore and .ignore are honoured too).\n\
         exclude: []\n\
         \n\
         rules:\n"
    );
    for r in rules::RULES {
        for line in r.summary.lines() {
            s.push_str(&format!("  # {}\n", line.trim_end()));
        }
        s.push_str(&format!("  {}: {}\n", r.id, default_level(r)));
    }
    s.push_str(
        "\n\
         # Whether the cluster serves both IPv4 and IPv6; by default inferred from the\n\
         # repository (address pools and Services).\n\
         # cluster:\n\
         #   dual_stack: true\n\
         #   # The built-in Kubernetes schemas to validate with (default: the latest).\n\
         #   kubernetes_version: \"1.37\"\n\
         \n\
         # Schema directories (kubeconform or CRDs-catalog layout) and the official\n\
         # Talos config.schema.json, for the schema/ rules. Never downloaded.\n\
         # `catalog: false` turns off the built-in CRDs catalog.\n\
         # schemas:\n\
         #   paths: [schemas/]\n\
         #   talos: talos/config.schema.json\n\
         #   catalog: true\n",
    );
    s
}

fn string_list(node: NodeRef) -> Result<Vec<String>, Span> {
    if node.is_null() {
        return Ok(Vec::new());
    }
    if !node.is_seq() {
        return Err(node.span());
    }
    node.items()
        .map(|i| i.as_str().map(str::to_string).ok_or(i.span()))
        .collect()
}

fn parse_level(node: NodeRef) -> Result<Level, (Span, String)> {
    match node.as_str() {
        Some("off") => Ok(Level::Off),
        Some(s) => Severity::parse(s).map(Level::On).ok_or((
            node.span(),
            format!("unknown severity `{s}` (error, warning, info or off)"),
        )),
        None => Err((
            node.span(),
            "a severity is error, warning, info or off".into(),
        )),
    }
}

/// Rule options the configuration accepts beside `severity`.
pub const RULE_OPTIONS: &[(&str, &str)] = &[("gateway/listener-ports", "ports")];

fn rule_level(id: &str, setting: NodeRef, config: &mut Config) -> Result<Level, (Span, String)> {
    if !setting.is_map() {
        return parse_level(setting);
    }
    let mut level = None;
    for (k, v) in setting.entries() {
        match (id, k.as_str().unwrap_or("")) {
            (_, "severity") => level = Some(parse_level(v)?),
            ("gateway/listener-ports", "ports") => {
                let ports: Option<Vec<u16>> = v
                    .items()
                    .map(|p| {
                        p.as_i64()
                            .and_then(|n| u16::try_from(n).ok())
                            .filter(|n| *n > 0)
                    })
                    .collect();
                match ports {
                    Some(p) if v.is_seq() => config.listener_ports = Some(p),
                    _ => {
                        return Err((
                            v.span(),
                            "`ports` is a list of port numbers (1-65535)".into(),
                        ));
                    }
                }
            }
            (_, other) => return Err((k.span(), format!("unknown rule option `{other}`"))),
        }
    }
    level.ok_or((setting.span(), "a rule's settings need `severity`".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("c.yaml"), text.as_bytes().to_vec())
    }

    #[test]
    fn listener_ports_option() {
        let c = parse(
            "rules:\n  gateway/listener-ports:\n    severity: error\n    ports: [8000, 8443]\n",
        )
        .unwrap();
        assert_eq!(c.listener_ports, Some(vec![8000, 8443]));
        assert_eq!(
            c.rules["gateway/listener-ports"],
            Level::On(Severity::Error)
        );
        let e = parse("rules:\n  gateway/listener-ports:\n    severity: error\n    ports: [0]\n")
            .unwrap_err();
        assert_eq!((e.line, e.column), (4, 12));
        let e =
            parse("rules:\n  yaml/syntax:\n    severity: error\n    ports: [80]\n").unwrap_err();
        assert!(e.message.contains("unknown rule option"), "{e}");
    }

    #[test]
    fn schema_keys() {
        let c = parse("schemas: [a, b]\ncluster: {kubernetes_version: \"1.35\"}\n").unwrap();
        let paths: Vec<&str> = c.schema_paths.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["a", "b"]);
        assert_eq!(c.kubernetes_version.as_deref(), Some("1.35"));
        let c = parse("schemas:\n  paths: [x]\n  talos: t.json\n").unwrap();
        assert_eq!(c.schema_paths[0].1, (2, 11));
        assert_eq!(c.talos_schema.unwrap().0, "t.json");
        assert!(!c.no_catalog);
        let c = parse("schemas:\n  catalog: false\n").unwrap();
        assert!(c.no_catalog);
        let dir = tempfile::tempdir().unwrap();
        assert!(c.schema_settings(None, dir.path()).unwrap().no_catalog);
        let e = parse("schemas: {catalog: maybe}\n").unwrap_err();
        assert!(e.message.contains("true or false"), "{e}");
        let e = parse("cluster:\n  kubernetes_version: \"1.20\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 23));
        let e = parse("schemas: {path: [x]}\n").unwrap_err();
        assert!(e.message.contains("schemas.path"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let c = parse("schemas: [missing]\n").unwrap();
        let e = c
            .schema_settings(Some(Path::new("c.yaml")), dir.path())
            .unwrap_err();
        assert_eq!((e.line, e.column), (1, 11));
        assert!(e.message.contains("does not exist"), "{e}");
    }

    #[test]
    fn reads_every_key() {
        let c = parse("exclude: [\"archive/**\"]\nrules:\n  flux/no-retry-interval: warning\n  yaml/syntax: {severity: off}\ncluster:\n  dual_stack: true\n").unwrap();
        assert_eq!(c.exclude, vec!["archive/**"]);
        assert_eq!(
            c.rules["flux/no-retry-interval"],
            Level::On(Severity::Warning)
        );
        assert_eq!(c.rules["yaml/syntax"], Level::Off);
        assert_eq!(c.dual_stack, Some(true));
    }

    #[test]
    fn unknown_keys_and_ids_have_their_line() {
        let e = parse("rules:\n  flux/nope: error\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        let e = parse("exclude: []\nextra: 1\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("extra"));
        let e = parse("rules:\n  yaml/syntax: loud\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 16));
        let e = parse("cluster: yes\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 10));
    }

    #[test]
    fn the_starter_lists_every_rule_at_its_default_level() {
        let c = parse(&starter()).unwrap();
        assert_eq!(c.rules.len(), rules::RULES.len());
        for r in rules::RULES {
            let want = if r.enabled {
                Level::On(r.severity)
            } else {
                Level::Off
            };
            assert_eq!(c.rules[r.id], want, "{}", r.id);
        }
        assert!(c.exclude.is_empty());
        assert_eq!(c.dual_stack, None);
    }
}
