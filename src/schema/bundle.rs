//! A schema bundle: `kinds` (one schema per `apiVersion kind`) over shared
//! `$defs`. Built-in bundles, the Talos schema and Kubernetes definitions all
//! take this shape; a kind's validator is compiled from its schema and only the
//! definitions it reaches.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

pub struct Bundle {
    kinds: Map<String, Value>,
    defs: Defs,
}

/// A bundle's `$defs`, each read from its JSON text when a kind first
/// reaches it: a run reads the few definitions its kinds need, not the
/// whole bundle (the Kubernetes one holds hundreds).
struct Defs {
    index: HashMap<String, usize>,
    text: Vec<Option<Box<RawValue>>>,
    read: Vec<OnceLock<Option<Value>>>,
}

impl Defs {
    fn from_text(defs: BTreeMap<String, Box<RawValue>>) -> Defs {
        let mut index = HashMap::with_capacity(defs.len());
        let mut text = Vec::with_capacity(defs.len());
        for (i, (name, raw)) in defs.into_iter().enumerate() {
            index.insert(name, i);
            text.push(Some(raw));
        }
        let read = text.iter().map(|_| OnceLock::new()).collect();
        Defs { index, text, read }
    }

    fn from_values(defs: Map<String, Value>) -> Defs {
        let mut index = HashMap::with_capacity(defs.len());
        let mut read = Vec::with_capacity(defs.len());
        for (i, (name, value)) in defs.into_iter().enumerate() {
            index.insert(name, i);
            read.push(OnceLock::from(Some(value)));
        }
        let text = read.iter().map(|_| None).collect();
        Defs { index, text, read }
    }

    fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    fn get(&self, name: &str) -> Option<&Value> {
        let &i = self.index.get(name)?;
        self.read[i]
            .get_or_init(|| {
                // The text was read as JSON already, as part of the bundle.
                let text = self.text[i].as_ref()?;
                serde_json::from_str(text.get()).ok()
            })
            .as_ref()
    }
}

impl Bundle {
    /// Reads `{"kinds": {...}, "$defs": {...}}`.
    pub fn parse(text: &str) -> Result<Bundle, String> {
        let mut top: BTreeMap<String, Box<RawValue>> = serde_json::from_str(text)
            .map_err(|e| format!("a schema bundle is a JSON object: {e}"))?;
        let kinds = top
            .remove("kinds")
            .and_then(|k| serde_json::from_str::<Map<String, Value>>(k.get()).ok())
            .ok_or("a schema bundle has a `kinds` object")?;
        let defs = match top.remove("$defs") {
            Some(d) => serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(d.get())
                .map_err(|_| "`$defs` must be an object")?,
            None => BTreeMap::new(),
        };
        Ok(Bundle {
            kinds,
            defs: Defs::from_text(defs),
        })
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
        Ok(Bundle {
            kinds,
            defs: Defs::from_values(defs),
        })
    }

    /// The `apiVersion kind` keys of the bundle's kinds.
    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.kinds.keys().map(String::as_str)
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
        self.defs.contains(name).then_some(())?;
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

    /// Definitions are read when first reached: every kind's schema must be
    /// the one reading the whole bundle at once gives.
    #[test]
    fn definitions_read_on_first_use_give_the_schemas_of_a_whole_read() {
        for text in [
            include_str!("../../schemas/flux.json"),
            include_str!("../../schemas/talos.json"),
            include_str!("../../schemas/kubernetes/v1.37.json"),
        ] {
            let lazy = Bundle::parse(text).unwrap();
            let mut top: Map<String, Value> = serde_json::from_str(text).unwrap();
            let Some(Value::Object(kinds)) = top.remove("kinds") else {
                panic!("no kinds");
            };
            let Some(Value::Object(defs)) = top.remove("$defs") else {
                panic!("no $defs");
            };
            let names: Vec<String> = defs.keys().cloned().collect();
            let whole = Bundle {
                kinds: kinds.clone(),
                defs: Defs::from_values(defs),
            };
            assert!(!kinds.is_empty());
            for key in kinds.keys() {
                assert!(lazy.has_root(key), "{key}");
                assert_eq!(lazy.root_for(key), whole.root_for(key), "{key}");
            }
            for name in &names {
                assert_eq!(lazy.root_for_def(name), whole.root_for_def(name), "{name}");
            }
        }
    }
}
