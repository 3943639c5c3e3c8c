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

/// The index's schema lines, as offsets into `INDEX`. The file is sorted by
/// `(group, kind, version)` (a test holds it to that), so a lookup is a
/// binary search: nothing is parsed but the lines it compares.
fn index() -> &'static [(u32, u32)] {
    static CELL: OnceLock<Vec<(u32, u32)>> = OnceLock::new();
    CELL.get_or_init(|| schema_lines(INDEX))
}

/// Where each line of `text` that is neither empty nor a comment lies,
/// without its line end (a checkout may have made them CRLF).
fn schema_lines(text: &str) -> Vec<(u32, u32)> {
    let mut lines = Vec::with_capacity(4096);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]) {
        let line = &text[start..end];
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !line.is_empty() && !line.starts_with('#') {
            lines.push((start as u32, (start + line.len()) as u32));
        }
        start = end + 1;
    }
    lines
}

fn line(i: usize) -> &'static str {
    let (start, end) = index()[i];
    &INDEX[start as usize..end as usize]
}

/// A line's `(group, kind, version)`.
fn key(line: &str) -> (&str, &str, &str) {
    let mut f = line.split('\t');
    let mut next = || f.next().unwrap_or("");
    (next(), next(), next())
}

/// A line's entry; `None` when its numbers do not read.
fn entry(line: &str) -> Option<Entry> {
    let n: Vec<usize> = line
        .split('\t')
        .skip(3)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [offset, len, start, size] = n[..] else {
        return None;
    };
    Some(Entry {
        frame: (offset, len),
        text: (start, size),
    })
}

/// Whether the catalog holds `apiVersion kind` (no decompression).
pub fn has(api_version: &str, kind: &str) -> bool {
    lookup(api_version, kind).is_some()
}

fn position(api_version: &str, kind: &str) -> Option<usize> {
    let (group, version) = api_version.rsplit_once('/')?;
    let kind = kind.to_ascii_lowercase();
    let wanted = (group, kind.as_str(), version);
    index()
        .binary_search_by(|&(start, end)| key(&INDEX[start as usize..end as usize]).cmp(&wanted))
        .ok()
}

fn lookup(api_version: &str, kind: &str) -> Option<Entry> {
    entry(line(position(api_version, kind)?))
}

/// The size of the frame that holds the schema at `position`, decompressed:
/// the end of the furthest schema in it. The versions of a kind share a
/// frame, and their lines lie next to each other.
fn frame_size(position: usize) -> usize {
    let Some(at) = entry(line(position)) else {
        return 0;
    };
    let same = |i: usize| entry(line(i)).filter(|e| e.frame == at.frame);
    let before = (0..position).rev().map_while(same);
    let after = (position..index().len()).map_while(same);
    before
        .chain(after)
        .map(|e| e.text.0 + e.text.1)
        .max()
        .unwrap_or(0)
}

/// The file name the catalog gives the schema: `external-secrets.io/externalsecret_v1`.
pub fn name(api_version: &str, kind: &str) -> String {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    format!("{group}/{}_{version}", kind.to_ascii_lowercase())
}

/// The catalog's schemas the validator does not compile: each holds a
/// `pattern` its regular expressions refuse (a test holds the list to what
/// compiles). Their documents are not validated, as for any schema that does
/// not compile; every other catalog schema compiles, so its validator is
/// compiled only when a document needs it.
const UNCOMPILABLE: &[&str] = &[
    "apps.emqx.io/emqx_v2beta1",
    "projectcontour.io/extensionservice_v1alpha1",
    "projectcontour.io/httpproxy_v1",
];

/// Whether the catalog's schema for `apiVersion kind` compiles.
pub fn compiles(api_version: &str, kind: &str) -> bool {
    !UNCOMPILABLE.contains(&name(api_version, kind).as_str())
}

/// Every `(apiVersion, kind)` the catalog holds.
#[cfg(test)]
pub fn keys() -> Vec<(String, String)> {
    (0..index().len())
        .map(|i| {
            let (group, kind, version) = key(line(i));
            (format!("{group}/{version}"), kind.to_string())
        })
        .collect()
}

/// The frames decompressed during one validation, shared by the versions of
/// a kind that it holds.
#[derive(Default)]
pub struct Frames(Mutex<HashMap<usize, Arc<Vec<u8>>>>);

/// The frame that holds the schema at `position`, decompressed.
fn frame(frames: &Frames, position: usize, entry: Entry) -> Result<Arc<Vec<u8>>, String> {
    let frames = &frames.0;
    let (offset, len) = entry.frame;
    if let Some(hit) = frames.lock().ok().and_then(|f| f.get(&offset).cloned()) {
        return Ok(hit);
    }
    let size = frame_size(position);
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
    let position = position(api_version, kind)?;
    let entry = entry(line(position))?;
    Some((|| {
        let frame = frame(frames, position, entry)?;
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
        let lines = index();
        assert!(lines.len() > 3900, "{}", lines.len());
        let frames = Frames::default();
        for i in 0..lines.len() {
            let (group, kind, version) = key(line(i));
            let schema = schema(&format!("{group}/{version}"), kind, &frames)
                .expect("indexed")
                .unwrap_or_else(|e| panic!("{group}/{kind}_{version}: {e}"));
            assert!(schema.is_object(), "{group}/{kind}_{version}");
        }
    }

    /// Lookups are binary searches: the lines must be sorted and unique by
    /// key, each must read, and the schemas of a frame must lie together.
    #[test]
    fn the_index_is_sorted_and_a_frames_schemas_lie_together() {
        let lines = index();
        for i in 1..lines.len() {
            assert!(
                key(line(i - 1)) < key(line(i)),
                "{} / {}",
                line(i - 1),
                line(i)
            );
        }
        let mut sizes: HashMap<usize, usize> = HashMap::new();
        let mut last = None;
        let mut seen = std::collections::HashSet::new();
        for i in 0..lines.len() {
            let e = entry(line(i)).unwrap_or_else(|| panic!("{}", line(i)));
            let end = sizes.entry(e.frame.0).or_default();
            *end = (*end).max(e.text.0 + e.text.1);
            if last != Some(e.frame.0) {
                assert!(
                    seen.insert(e.frame.0),
                    "frame {} is split: {}",
                    e.frame.0,
                    line(i)
                );
            }
            last = Some(e.frame.0);
        }
        for i in 0..lines.len() {
            let e = entry(line(i)).unwrap();
            assert_eq!(frame_size(i), sizes[&e.frame.0], "{}", line(i));
        }
    }

    #[test]
    fn index_lines_are_read_without_their_line_ends() {
        let text = "# a comment\r\ng\tk\tv1\t0\t10\t0\t5\r\n\r\ng\tk\tv2\t0\t10\t5\t5";
        let lines: Vec<&str> = schema_lines(text)
            .into_iter()
            .map(|(s, e)| &text[s as usize..e as usize])
            .collect();
        assert_eq!(lines, ["g\tk\tv1\t0\t10\t0\t5", "g\tk\tv2\t0\t10\t5\t5"]);
        let e = entry(lines[0]).expect("its numbers read");
        assert_eq!((e.frame, e.text), ((0, 10), (0, 5)));
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
