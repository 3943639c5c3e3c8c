//! The CRDs catalog built into the binary: JSON schemas of the custom
//! resources of public operators (`schemas/catalog/`, see its README for the
//! origin and licence). `index.tsv` says where each `(group, kind, version)`
//! lies in `catalog.bin`, one zstd frame per kind; only the frames of the
//! kinds a repository uses are decompressed, each once per validation (the
//! compiled validators are what is kept).
//!
//! The schemas are the generator's (`additionalProperties: false` wherever an
//! object lists its properties); [`normalize`] reads them the way the API
//! server reads the CRDs they come from, as `crd.rs` does for CRDs in the
//! repository.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

static INDEX: &str = include_str!("../../schemas/catalog/index.tsv");
static BLOB: &[u8] = include_bytes!("../../schemas/catalog/catalog.bin");

/// Where one schema lies: its frame in the blob, then its bytes in the frame.
#[derive(Debug, Clone, Copy)]
struct Entry {
    frame: (usize, usize),
    text: (usize, usize),
}

/// `(group, lower-case kind, version)` -> entry, and each frame's size.
struct Index {
    entries: HashMap<(&'static str, &'static str, &'static str), Entry>,
    frame_sizes: HashMap<usize, usize>,
}

fn index() -> &'static Index {
    static CELL: OnceLock<Index> = OnceLock::new();
    CELL.get_or_init(|| parse_index(INDEX))
}

fn parse_index(text: &'static str) -> Index {
    let mut entries = HashMap::new();
    let mut frame_sizes: HashMap<usize, usize> = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let [group, kind, version, rest @ ..] = &f[..] else {
            continue;
        };
        let n: Vec<usize> = rest.iter().filter_map(|x| x.parse().ok()).collect();
        let [offset, len, start, size] = n[..] else {
            continue;
        };
        let end = frame_sizes.entry(offset).or_default();
        *end = (*end).max(start + size);
        entries.insert(
            (*group, *kind, *version),
            Entry {
                frame: (offset, len),
                text: (start, size),
            },
        );
    }
    Index {
        entries,
        frame_sizes,
    }
}

/// Whether the catalog holds `apiVersion kind` (no decompression).
pub fn has(api_version: &str, kind: &str) -> bool {
    lookup(api_version, kind).is_some()
}

fn lookup(api_version: &str, kind: &str) -> Option<Entry> {
    let (group, version) = api_version.rsplit_once('/')?;
    let kind = kind.to_ascii_lowercase();
    index()
        .entries
        .get(&(group, kind.as_str(), version))
        .copied()
}

/// The file name the catalog gives the schema: `external-secrets.io/externalsecret_v1`.
pub fn name(api_version: &str, kind: &str) -> String {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    format!("{group}/{}_{version}", kind.to_ascii_lowercase())
}

/// The frames decompressed during one validation, shared by the versions of
/// a kind that it holds.
#[derive(Default)]
pub struct Frames(Mutex<HashMap<usize, Arc<Vec<u8>>>>);

fn frame(frames: &Frames, offset: usize, len: usize) -> Result<Arc<Vec<u8>>, String> {
    let frames = &frames.0;
    if let Some(hit) = frames.lock().ok().and_then(|f| f.get(&offset).cloned()) {
        return Ok(hit);
    }
    let size = index().frame_sizes.get(&offset).copied().unwrap_or(0);
    let input = BLOB
        .get(offset..offset + len)
        .ok_or("the built-in CRDs catalog is truncated")?;
    let mut out = Vec::with_capacity(size);
    ruzstd::decoding::FrameDecoder::new()
        .decode_all_to_vec(input, &mut out)
        .map_err(|e| format!("the built-in CRDs catalog: {e}"))?;
    let out = Arc::new(out);
    if let Ok(mut f) = frames.lock() {
        f.insert(offset, Arc::clone(&out));
    }
    Ok(out)
}

/// The schema for `apiVersion kind`, normalized, or `None` when the catalog
/// does not hold that exact version (another version's schema is not used:
/// which versions a controller serves is the API-version rules' business).
pub fn schema(api_version: &str, kind: &str, frames: &Frames) -> Option<Result<Value, String>> {
    let entry = lookup(api_version, kind)?;
    Some((|| {
        let frame = frame(frames, entry.frame.0, entry.frame.1)?;
        let text = frame
            .get(entry.text.0..entry.text.0 + entry.text.1)
            .ok_or("the built-in CRDs catalog is truncated")?;
        let value: Value = serde_json::from_slice(text).map_err(|e| {
            format!(
                "the built-in CRDs catalog, {}: {e}",
                name(api_version, kind)
            )
        })?;
        Ok(normalize(value, true))
    })())
}

/// Reads a catalog schema as the API server reads the structural schema it
/// was made from: fields under `x-kubernetes-preserve-unknown-fields` are
/// kept (the generator closed such objects all the same), int-or-string
/// accepts both, `nullable` accepts null, embedded resources accept
/// `apiVersion`, `kind` and `metadata`, formats are annotations. At the top,
/// `metadata` is left to the ObjectMeta check and unknown fields are closed
/// out (the API server prunes them; the generator left the top open).
pub fn normalize(schema: Value, top: bool) -> Value {
    let Value::Object(mut m) = schema else {
        return schema;
    };
    let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if preserve && m.get("additionalProperties") == Some(&Value::Bool(false)) {
        m.remove("additionalProperties");
    }
    if m.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) && !m.contains_key("anyOf") {
        m.remove("type");
        m.insert(
            "anyOf".into(),
            json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    if m.remove("nullable") == Some(Value::Bool(true)) {
        if let Some(Value::String(t)) = m.get("type") {
            let t = t.clone();
            m.insert("type".into(), json!([t, "null"]));
        }
        if let Some(Value::Array(options)) = m.get_mut("enum")
            && !options.contains(&Value::Null)
        {
            options.push(Value::Null);
        }
    }
    let embedded = m.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true));
    if (embedded || top)
        && let Some(Value::Object(p)) = m.get_mut("properties")
    {
        for k in ["apiVersion", "kind"] {
            p.entry(k).or_insert_with(|| json!({"type": "string"}));
        }
        // Object metadata is checked against ObjectMeta separately.
        p.insert("metadata".into(), json!({"type": "object"}));
    }
    if top && !preserve && m.contains_key("properties") && !m.contains_key("additionalProperties") {
        m.insert("additionalProperties".into(), Value::Bool(false));
    }
    m.remove("format");
    for (key, value) in m.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "definitions" | "$defs" => {
                if let Value::Object(props) = value {
                    // In place: the keys stay, so the map is not built again.
                    for v in props.values_mut() {
                        *v = normalize(std::mem::take(v), false);
                    }
                }
            }
            "items" | "additionalProperties" | "not" | "additionalItems" => {
                if value.is_object() {
                    *value = normalize(std::mem::take(value), false);
                } else if let Value::Array(list) = value {
                    for v in list.iter_mut() {
                        *v = normalize(std::mem::take(v), false);
                    }
                }
            }
            "allOf" | "anyOf" | "oneOf" => {
                if let Value::Array(list) = value {
                    for v in list.iter_mut() {
                        *v = normalize(std::mem::take(v), false);
                    }
                }
            }
            _ => {}
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_of_the_index_decompresses_to_a_schema() {
        let index = index();
        assert!(index.entries.len() > 3900, "{}", index.entries.len());
        let mut keys: Vec<_> = index.entries.keys().copied().collect();
        keys.sort();
        let frames = Frames::default();
        for (group, kind, version) in keys {
            let schema = schema(&format!("{group}/{version}"), kind, &frames)
                .expect("indexed")
                .unwrap_or_else(|e| panic!("{group}/{kind}_{version}: {e}"));
            assert!(schema.is_object(), "{group}/{kind}_{version}");
        }
    }

    #[test]
    fn lookups_are_by_exact_group_version_and_kind() {
        assert!(has("external-secrets.io/v1", "ExternalSecret"));
        assert!(has("source.toolkit.fluxcd.io/v1", "OCIRepository"));
        assert!(has("gateway.networking.k8s.io/v1", "HTTPRoute"));
        assert!(has("cilium.io/v2", "CiliumNetworkPolicy"));
        assert!(!has("external-secrets.io/v9", "ExternalSecret"));
        assert!(!has("v1", "ConfigMap"));
        assert!(!has("example.com/v1", "Widget"));
        assert_eq!(
            name("external-secrets.io/v1", "ExternalSecret"),
            "external-secrets.io/externalsecret_v1"
        );
    }

    #[test]
    fn normalized_as_the_api_server_reads_the_crd() {
        let s = normalize(
            json!({
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {
                            "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                       "properties": {"a": {"type": "string"}}, "additionalProperties": false},
                            "port": {"type": "string", "x-kubernetes-int-or-string": true},
                            "mode": {"type": "string", "nullable": true, "enum": ["a", "b"]},
                            "tmpl": {"type": "object", "x-kubernetes-embedded-resource": true,
                                     "properties": {"spec": {"type": "object"}}, "additionalProperties": false},
                            "size": {"type": "integer", "format": "int32"}
                        }
                    }
                }
            }),
            true,
        );
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["properties"]["metadata"], json!({"type": "object"}));
        let spec = &s["properties"]["spec"]["properties"];
        assert!(spec["values"].get("additionalProperties").is_none());
        assert_eq!(
            spec["port"]["anyOf"],
            json!([{"type": "integer"}, {"type": "string"}])
        );
        assert!(spec["port"].get("type").is_none());
        assert_eq!(spec["mode"]["type"], json!(["string", "null"]));
        assert_eq!(spec["mode"]["enum"], json!(["a", "b", null]));
        assert!(spec["tmpl"]["properties"]["kind"].is_object());
        assert!(spec["size"].get("format").is_none());
    }
}
