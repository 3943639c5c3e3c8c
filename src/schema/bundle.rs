//! A schema bundle: `kinds` (one schema per `apiVersion kind`) over shared
//! `$defs`. Built-in bundles, the Talos schema and Kubernetes definitions all
//! take this shape; a kind's validator is compiled from its schema and only the
//! definitions it reaches.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

pub struct Bundle {
    kinds: Map<String, Value>,
    defs: Map<String, Value>,
}

impl Bundle {
    /// Reads `{"kinds": {...}, "$defs": {...}}`.
    pub fn parse(text: &str) -> Result<Bundle, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Value::Object(mut top) = value else {
            return Err("a schema bundle is a JSON object".into());
        };
        let kinds = match top.remove("kinds") {
            Some(Value::Object(k)) => k,
            _ => return Err("a schema bundle has a `kinds` object".into()),
        };
        let defs = match top.remove("$defs") {
            Some(Value::Object(d)) => d,
            None => Map::new(),
            _ => return Err("`$defs` must be an object".into()),
        };
        Ok(Bundle { kinds, defs })
    }

    /// The official Talos `config.schema.json`: one `$defs` entry per document
    /// type, found by the `kind` it declares (the legacy document is
    /// `v1alpha1.Config`, its interfaces `v1alpha1.Device`).
    pub fn from_talos_schema(text: &str) -> Result<Bundle, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Some(Value::Object(defs)) = value.get("$defs").cloned() else {
            return Err("expected the Talos config.schema.json (no `$defs`)".into());
        };
        let mut kinds = Map::new();
        for (name, key) in [("v1alpha1.Config", "Config"), ("v1alpha1.Device", "Device")] {
            if defs.contains_key(name) {
                kinds.insert(format!("{TALOS} {key}"), reference(name));
            }
        }
        for (name, def) in &defs {
            if let Some(Value::Array(kinds_enum)) = def.pointer("/properties/kind/enum")
                && let [Value::String(kind)] = &kinds_enum[..]
            {
                kinds.insert(format!("{TALOS} {kind}"), reference(name));
            }
        }
        if kinds.is_empty() {
            return Err("no Talos document types found in the schema".into());
        }
        Ok(Bundle { kinds, defs })
    }

    pub fn has(&self, key: &str) -> bool {
        self.kinds.contains_key(key)
    }

    /// Whether `root_for` gives a schema for `key`.
    pub fn has_root(&self, key: &str) -> bool {
        matches!(self.kinds.get(key), Some(Value::Object(_)))
    }

    /// A self-contained schema for `key` (draft 2020-12): its schema plus the
    /// definitions it reaches.
    pub fn root_for(&self, key: &str) -> Option<Value> {
        self.root_of(self.kinds.get(key)?.clone())
    }

    /// A self-contained schema for one definition.
    pub fn root_for_def(&self, name: &str) -> Option<Value> {
        self.defs.contains_key(name).then_some(())?;
        self.root_of(reference(name))
    }

    fn root_of(&self, schema: Value) -> Option<Value> {
        let mut seen = BTreeSet::new();
        let mut todo = Vec::new();
        refs(&schema, &mut todo);
        while let Some(name) = todo.pop() {
            if let Some(def) = self.defs.get(&name)
                && seen.insert(name)
            {
                refs(def, &mut todo);
            }
        }
        let mut root = match schema {
            Value::Object(m) => m,
            _ => return None,
        };
        let defs: Map<String, Value> = seen
            .into_iter()
            .filter_map(|n| self.defs.get(&n).map(|d| (n, d.clone())))
            .collect();
        root.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        root.insert("$defs".into(), Value::Object(defs));
        Some(Value::Object(root))
    }
}

/// The key prefix Talos documents are looked up under.
pub const TALOS: &str = "talos.dev/v1alpha1";

fn reference(name: &str) -> Value {
    let escaped = name.replace('~', "~0").replace('/', "~1");
    json!({ "$ref": format!("#/$defs/{escaped}") })
}

/// The `$defs` names a schema refers to.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref"
                    && let Some(r) = v.as_str()
                    && let Some(rest) = r.strip_prefix("#/$defs/")
                {
                    let name = rest.split('/').next().unwrap_or(rest);
                    out.push(name.replace("~1", "/").replace("~0", "~"));
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_takes_only_the_definitions_it_reaches() {
        let b = Bundle::parse(
            r##"{"kinds": {"v1 A": {"$ref": "#/$defs/A"}},
                "$defs": {"A": {"properties": {"b": {"$ref": "#/$defs/B"}}},
                          "B": {"type": "string"}, "C": {"type": "integer"}}}"##,
        )
        .unwrap();
        let root = b.root_for("v1 A").unwrap();
        let defs = root["$defs"].as_object().unwrap();
        assert_eq!(defs.keys().collect::<Vec<_>>(), ["A", "B"]);
        assert!(b.root_for("v1 C").is_none());
        assert!(Bundle::parse("[]").is_err());
    }
}
