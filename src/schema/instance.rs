//! YAML documents as the JSON the API server sees: YAML 1.2 core scalars,
//! aliases and merge keys read through, Flux placeholders noted by path.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use crate::model::subst;
use crate::yaml::NodeRef;

/// Past this depth a document is not validated (the parser accepts deeper
/// nesting; the validator recurses).
pub(super) const MAX_DEPTH: usize = 128;
/// Aliases are expanded here: past this many values a document (an alias
/// bomb) is not validated.
const MAX_VALUES: usize = 200_000;

/// A value Flux substitutes at apply time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// No default: any value may come.
    Any,
    /// Every variable has a default; the value was checked with it, but its
    /// type stays open when the default reads as a number or boolean, since
    /// quoting does not survive the build.
    Default { typed: bool },
}

pub struct Instance {
    pub value: Value,
    /// JSON pointer -> placeholder at that path.
    pub placeholders: HashMap<String, Placeholder>,
}

/// The instance of a document, or `None` when it is too deep or too large.
pub fn instance(node: NodeRef) -> Option<Instance> {
    instance_within(node, None).map(|(i, _)| i)
}

/// The instance of a document with the mappings found where `opaque` says
/// the schema accepts any mapping left empty (they cannot change the
/// verdict), and whether any was: such an instance only tells whether the
/// document is valid. `None` exactly when `instance` gives `None`.
pub fn instance_within(node: NodeRef, opaque: Option<&Opaque>) -> Option<(Instance, bool)> {
    let mut c = Converter::new(true);
    let value = c.convert(node, 0, opaque)?;
    Some((
        Instance {
            value,
            placeholders: c.placeholders,
        },
        c.emptied,
    ))
}

/// Where a schema accepts any mapping whatever it holds (Flux's
/// `spec.values`, a CRD's `x-kubernetes-preserve-unknown-fields` objects,
/// `metadata` in CRDs), by property names from the root.
#[derive(Debug, Default)]
pub struct Opaque {
    /// Any mapping is valid here.
    any: bool,
    children: HashMap<String, Opaque>,
}

/// Keywords that constrain a mapping's own keys, or nothing at all: with
/// them, a property's value is checked by its own subschema only.
fn level_keyword(k: &str) -> bool {
    leaf_keyword(k)
        || matches!(
            k,
            "properties"
                | "additionalProperties"
                | "required"
                | "minProperties"
                | "maxProperties"
                | "$defs"
                | "definitions"
                | "$schema"
        )
}

/// Keywords that accept any mapping (`type` is checked apart).
fn leaf_keyword(k: &str) -> bool {
    k.starts_with("x-kubernetes-")
        || matches!(
            k,
            "type"
                | "$ref"
                | "description"
                | "title"
                | "default"
                | "format"
                | "nullable"
                | "example"
                | "examples"
                | "$comment"
                | "readOnly"
                | "writeOnly"
                | "deprecated"
        )
}

impl Opaque {
    /// The places in `root` (a schema) where any mapping is valid.
    pub fn of(root: &Value) -> Opaque {
        // A bound on the subschemas visited: references may nest deeply.
        let mut budget = 4096;
        Opaque::level(root, root, 0, &mut budget)
    }

    fn level(root: &Value, schema: &Value, depth: usize, budget: &mut usize) -> Opaque {
        let mut out = Opaque::default();
        if *budget == 0 {
            return out;
        }
        *budget -= 1;
        let Some(maps) = applying(root, schema) else {
            return out;
        };
        if depth > 16 || !maps.iter().all(|m| m.keys().all(|k| level_keyword(k))) {
            return out;
        }
        let mut names = Vec::new();
        for m in &maps {
            match m.get("properties") {
                None => {}
                Some(Value::Object(p)) => names.extend(p.keys()),
                Some(_) => return out,
            }
        }
        names.sort_unstable();
        names.dedup();
        for name in names {
            let mut subschemas = Vec::new();
            let mut safe = true;
            for m in &maps {
                match m.get("properties").and_then(|p| p.get(name.as_str())) {
                    Some(s) => subschemas.push(s),
                    // Another key of this mapping: only a schema for every
                    // other key would look at its value.
                    None => {
                        safe &= matches!(m.get("additionalProperties"), None | Some(Value::Bool(_)))
                    }
                }
            }
            if !safe {
                continue;
            }
            let child = if subschemas.iter().all(|s| any_mapping(root, s)) {
                Opaque {
                    any: true,
                    children: HashMap::new(),
                }
            } else if let [s] = subschemas[..] {
                Opaque::level(root, s, depth + 1, budget)
            } else {
                continue;
            };
            if child.any || !child.children.is_empty() {
                out.children.insert(name.clone(), child);
            }
        }
        out
    }
}

/// The schemas that apply where `schema` does: itself and what it refers to
/// within `root`. `None` when one is not a plain object schema.
fn applying<'v>(root: &'v Value, schema: &'v Value) -> Option<Vec<&'v Map<String, Value>>> {
    let mut out = Vec::new();
    let mut at = schema;
    for _ in 0..8 {
        let m = at.as_object()?;
        out.push(m);
        match m.get("$ref") {
            None => return Some(out),
            Some(Value::String(r)) => at = resolve(root, r)?,
            Some(_) => return None,
        }
    }
    None
}

/// The schema a local reference (`#/$defs/X`) names, read from the root;
/// `None` for any other reference, or when the root or a schema on the way
/// names another base for references (`$id`, draft 4's `id`).
pub(super) fn resolve<'v>(root: &'v Value, reference: &str) -> Option<&'v Value> {
    let names_base = |v: &Value| {
        v.as_object().is_some_and(|m| {
            ["$id", "id"]
                .iter()
                .any(|k| m.get(*k).is_some_and(Value::is_string))
        })
    };
    let pointer = reference.strip_prefix('#')?;
    // Percent-escapes are decoded by the validator, not here.
    if pointer.contains('%') {
        return None;
    }
    let mut at = root;
    if !pointer.is_empty() {
        for seg in pointer.strip_prefix('/')?.split('/') {
            if names_base(at) {
                return None;
            }
            let seg = seg.replace("~1", "/").replace("~0", "~");
            at = match at {
                Value::Object(m) => m.get(&seg)?,
                Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
    }
    (!names_base(at)).then_some(at)
}

/// Whether `schema` accepts any mapping, whatever it holds.
fn any_mapping(root: &Value, schema: &Value) -> bool {
    applying(root, schema).is_some_and(|maps| {
        maps.iter().all(|m| {
            m.keys().all(|k| leaf_keyword(k))
                && match m.get("type") {
                    None => true,
                    Some(Value::String(t)) => t == "object",
                    Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                    Some(_) => false,
                }
        })
    })
}

/// A string whose errors findings leave out: it holds a placeholder Flux
/// (`${VAR}`) or flux-operator (`<< inputs.x >>`) substitutes, or a value
/// SOPS encrypted (Flux decrypts it first).
pub fn excusable(s: &str) -> bool {
    // Most strings hold neither `$` nor `<`: one vectorised search settles them.
    if memchr::memchr2(b'$', b'<', s.as_bytes()).is_none() {
        return s.starts_with("ENC[");
    }
    subst::has_vars(s) || s.contains("<<") || s.starts_with("ENC[")
}

/// Whether `instance` converts the document: it is neither too deep nor too
/// large (what is counted is what `instance` counts).
pub fn convertible(node: NodeRef) -> bool {
    if node.file_within(MAX_DEPTH, MAX_VALUES) {
        return true;
    }
    let mut c = Converter::new(false);
    c.count(node, 0).is_some()
}

/// A schema written in YAML (a CRD's `openAPIV3Schema`) as JSON. Returns null
/// for a schema too deep or too large.
pub fn plain_json(node: NodeRef) -> Value {
    let mut c = Converter::new(false);
    c.convert(node, 0, None).unwrap_or(Value::Null)
}

/// A step of the path to a value: kept borrowed, and written out as a JSON
/// pointer only for the rare value that holds a placeholder.
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

struct Converter<'a> {
    values: usize,
    path: Vec<Seg<'a>>,
    placeholders: HashMap<String, Placeholder>,
    track: bool,
    /// A mapping was left empty where the schema accepts any.
    emptied: bool,
}

impl<'a> Converter<'a> {
    /// `track`: placeholders are noted and read with their defaults.
    fn new(track: bool) -> Self {
        Converter {
            values: 0,
            path: Vec::new(),
            placeholders: HashMap::new(),
            track,
            emptied: false,
        }
    }

    fn convert(
        &mut self,
        node: NodeRef<'a>,
        depth: usize,
        opaque: Option<&Opaque>,
    ) -> Option<Value> {
        self.values += 1;
        if depth > MAX_DEPTH || self.values > MAX_VALUES {
            return None;
        }
        if let Some(s) = node.scalar() {
            if self.track && subst::has_vars(s.text) {
                return Some(self.placeholder(s.text, s.plain));
            }
            return Some(if s.plain {
                plain_scalar(s.text)
            } else {
                Value::String(s.text.to_string())
            });
        }
        if node.is_seq() {
            let mut out = Vec::new();
            for (i, item) in node.items().enumerate() {
                self.path.push(Seg::Index(i));
                let v = self.convert(item, depth + 1, None);
                self.path.pop();
                out.push(v?);
            }
            return Some(Value::Array(out));
        }
        if node.is_map() {
            let mut out = Map::new();
            self.merge_into(node, &mut out, depth, 0, opaque)?;
            return Some(Value::Object(out));
        }
        // An alias to an unknown anchor.
        Some(Value::Null)
    }

    /// Explicit keys first (the last of duplicates wins), then merged maps,
    /// which never override.
    fn merge_into(
        &mut self,
        node: NodeRef<'a>,
        out: &mut Map<String, Value>,
        depth: usize,
        merges: usize,
        opaque: Option<&Opaque>,
    ) -> Option<()> {
        let mut merged = Vec::new();
        for (k, v) in node.entries() {
            let Some(key) = k.scalar() else { continue };
            if key.plain && key.text == "<<" {
                merged.push(v);
                continue;
            }
            let inner = opaque.and_then(|o| o.children.get(key.text));
            if inner.is_some_and(|o| o.any) && v.is_map() {
                // Counted as converted, so the same documents are refused.
                self.count(v, depth + 1)?;
                self.emptied = true;
                out.insert(key.text.to_string(), Value::Object(Map::new()));
                continue;
            }
            self.path.push(Seg::Key(key.text));
            let value = self.convert(v, depth + 1, inner);
            self.path.pop();
            out.insert(key.text.to_string(), value?);
        }
        for m in merged {
            if merges > 16 {
                break;
            }
            for source in merge_sources(m) {
                let mut extra = Map::new();
                self.merge_into(source, &mut extra, depth, merges + 1, opaque)?;
                for (k, v) in extra {
                    out.entry(k).or_insert(v);
                }
            }
        }
        Some(())
    }

    /// What `convert` counts and refuses, without converting.
    fn count(&mut self, node: NodeRef<'a>, depth: usize) -> Option<()> {
        self.values += 1;
        if depth > MAX_DEPTH || self.values > MAX_VALUES {
            return None;
        }
        if node.scalar().is_some() {
            return Some(());
        }
        if node.is_seq() {
            for item in node.items() {
                self.count(item, depth + 1)?;
            }
            return Some(());
        }
        if node.is_map() {
            self.count_map(node, depth, 0)?;
        }
        Some(())
    }

    /// What `merge_into` counts and refuses, without converting.
    fn count_map(&mut self, node: NodeRef<'a>, depth: usize, merges: usize) -> Option<()> {
        let mut merged = Vec::new();
        for (k, v) in node.entries() {
            let Some(key) = k.scalar() else { continue };
            if key.plain && key.text == "<<" {
                merged.push(v);
                continue;
            }
            self.count(v, depth + 1)?;
        }
        for m in merged {
            if merges > 16 {
                break;
            }
            for source in merge_sources(m) {
                self.count_map(source, depth, merges + 1)?;
            }
        }
        Some(())
    }

    fn placeholder(&mut self, text: &str, plain: bool) -> Value {
        let (value, kind) = match subst::substitute(text, &Default::default()) {
            Some(with_defaults) => {
                let typed = plain_scalar(&with_defaults);
                let is_typed = !typed.is_string();
                let value = if plain {
                    typed
                } else {
                    Value::String(with_defaults)
                };
                (value, Placeholder::Default { typed: is_typed })
            }
            None => (Value::String(text.to_string()), Placeholder::Any),
        };
        self.placeholders.insert(pointer(&self.path), kind);
        value
    }
}

/// A JSON pointer from path segments.
fn pointer(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        s.push('/');
        match seg {
            Seg::Key(k) => s.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Seg::Index(i) => s.push_str(&i.to_string()),
        }
    }
    s
}

/// A plain scalar by the YAML 1.2 core schema (what kustomize and Flux's
/// YAML libraries read).
pub fn plain_scalar(text: &str) -> Value {
    match plain_kind(text) {
        Plain::Null => Value::Null,
        Plain::Bool(b) => Value::Bool(b),
        Plain::Int(n) => Value::Number(n.into()),
        // `plain_kind` gives only finite floats.
        Plain::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Plain::Str => Value::String(text.to_string()),
    }
}

/// What a plain scalar reads as, by the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    /// Finite.
    Float(f64),
    /// The text itself.
    Str,
}

pub(super) fn plain_kind(text: &str) -> Plain {
    // Only these can start a null, a boolean or a number.
    if let Some(first) = text.bytes().next()
        && !matches!(
            first,
            b'0'..=b'9' | b'+' | b'-' | b'.' | b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F'
        )
    {
        return Plain::Str;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        _ => {}
    }
    if let Some(n) = integer(text) {
        return Plain::Int(n);
    }
    if is_float(text)
        && let Ok(f) = text.parse::<f64>()
        && f.is_finite()
    {
        return Plain::Float(f);
    }
    Plain::Str
}

fn integer(text: &str) -> Option<i64> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let value = if let Some(h) = digits.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = digits.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -value } else { value })
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (infinities and NaN
/// stay strings here: JSON has none).
fn is_float(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => digits(int) && digits(f) && !(int.is_empty() && f.is_empty()),
        None => !int.is_empty() && digits(int),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exp_ok
}

/// The mappings a merge key (`<<`) brings in: its value, or the items of a
/// sequence of them.
fn merge_sources<'a>(m: NodeRef<'a>) -> Vec<NodeRef<'a>> {
    let sources: Vec<NodeRef<'a>> = if m.is_seq() {
        m.items().collect()
    } else {
        vec![m]
    };
    sources.into_iter().filter(|s| s.is_map()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;
    use serde_json::json;

    #[test]
    fn core_schema_scalars() {
        assert_eq!(plain_scalar("3"), json!(3));
        assert_eq!(plain_scalar("-0x1f"), json!(-31));
        assert_eq!(plain_scalar("1.5"), json!(1.5));
        assert_eq!(plain_scalar("1e3"), json!(1000.0));
        assert_eq!(plain_scalar("yes"), json!("yes"));
        assert_eq!(plain_scalar("on"), json!("on"));
        assert_eq!(plain_scalar("~"), Value::Null);
        assert_eq!(plain_scalar("1.2.3"), json!("1.2.3"));
        assert_eq!(plain_scalar("."), json!("."));
        assert_eq!(plain_scalar(".5"), json!(0.5));
        assert_eq!(plain_scalar("+1"), json!(1));
        assert_eq!(plain_scalar("False"), json!(false));
        assert_eq!(plain_scalar("NULL"), Value::Null);
        assert_eq!(plain_scalar(""), Value::Null);
        assert_eq!(plain_scalar("e5"), json!("e5"));
        assert_eq!(plain_scalar("x1"), json!("x1"));
        assert_eq!(plain_scalar("nginx"), json!("nginx"));
    }

    #[test]
    fn excusable_strings_hold_a_placeholder_or_are_encrypted() {
        for s in [
            "a.${DOMAIN}",
            "${X:=1}",
            "<< inputs.name >>",
            "a<<b",
            "ENC[AES256_GCM,data:x]",
        ] {
            assert!(excusable(s), "{s}");
        }
        for s in ["", "plain", "a < b", "cost: 5$", "enc[x]", "x ENC[y]"] {
            assert!(!excusable(s), "{s}");
        }
    }

    #[test]
    fn merges_quotes_and_placeholders() {
        let y = parse(
            "base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n  q: \"4\"\n  r: ${R:=5}\n  s: ${S}\n  t: \"${T:=6}\"\n",
        );
        let doc = y.documents().next().unwrap();
        let i = instance(doc).unwrap();
        assert_eq!(
            i.value["x"],
            json!({"a": 1, "b": 3, "q": "4", "r": 5, "s": "${S}", "t": "6"})
        );
        assert_eq!(i.placeholders["/x/r"], Placeholder::Default { typed: true });
        assert_eq!(i.placeholders["/x/s"], Placeholder::Any);
        assert_eq!(i.placeholders.len(), 3);
    }

    fn validator(schema: &Value) -> jsonschema::Validator {
        jsonschema::options()
            .should_validate_formats(false)
            .build(schema)
            .unwrap()
    }

    #[test]
    fn opaque_places_are_where_any_mapping_is_valid() {
        let root = json!({
            "type": "object",
            "properties": {
                "metadata": {"type": "object"},
                "spec": {"$ref": "#/$defs/Spec"},
                "open": {"x-kubernetes-preserve-unknown-fields": true, "type": "object"},
                "typed": {"type": "object", "additionalProperties": {"type": "string"}},
                "either": {"anyOf": [{"type": "object"}, {"type": "string"}]},
                "patterned": {"type": "object", "patternProperties": {"^a": {}}, "properties": {"values": {}}},
            },
            "additionalProperties": false,
            "required": ["spec"],
            "$defs": {"Spec": {"type": "object", "properties": {"values": {}, "n": {"type": "integer"}}}}
        });
        let o = Opaque::of(&root);
        let mut found: Vec<&str> = o.children.keys().map(String::as_str).collect();
        found.sort();
        assert_eq!(found, ["metadata", "open", "spec"]);
        assert!(!o.children["spec"].any && o.children["spec"].children["values"].any);
        assert_eq!(o.children["spec"].children.len(), 1);
        // A schema for every other key looks at the values of all of them.
        let other = json!({"properties": {"a": {}}, "additionalProperties": {"type": "object"}, "allOf": []});
        assert!(Opaque::of(&other).children.is_empty());
        let other = json!({
            "$ref": "#/$defs/X",
            "additionalProperties": {"type": "object"},
            "$defs": {"X": {"properties": {"a": {}}}}
        });
        assert!(Opaque::of(&other).children.is_empty());
        // It does not look at the keys the mapping names.
        let named = json!({"properties": {"a": {}}, "additionalProperties": {"type": "object"}});
        assert!(Opaque::of(&named).children["a"].any);
        let based = json!({"$id": "https://example.com/s", "properties": {"a": {}}});
        assert!(Opaque::of(&based).children.is_empty());
        let based = json!({
            "properties": {"a": {"$ref": "#/$defs/X/properties/b"}},
            "$defs": {"X": {"$id": "https://example.com/x", "properties": {"b": {}}}}
        });
        assert!(Opaque::of(&based).children.is_empty());
        let local = json!({
            "properties": {"a": {"$ref": "#/$defs/X/properties/b"}},
            "$defs": {"X": {"properties": {"b": {}}}}
        });
        assert!(Opaque::of(&local).children["a"].any);
        // Many references to one recursive schema: the walk is bounded.
        let mut props = serde_json::Map::new();
        for i in 0..12 {
            props.insert(format!("p{i}"), json!({"$ref": "#"}));
        }
        props.insert("v".into(), json!({}));
        let recursive = json!({"type": "object", "properties": props});
        assert!(Opaque::of(&recursive).children["v"].any);
    }

    #[test]
    fn an_emptied_instance_has_the_verdict_of_the_full_one() {
        let root = json!({
            "type": "object",
            "properties": {
                "kind": {"enum": ["A"]},
                "spec": {"$ref": "#/$defs/Spec"},
            },
            "additionalProperties": false,
            "$defs": {"Spec": {
                "type": "object",
                "properties": {"values": {"type": "object"}, "n": {"type": "integer"}},
                "additionalProperties": false,
                "required": ["values"],
            }}
        });
        let v = validator(&root);
        let opaque = Opaque::of(&root);
        for (text, emptied) in [
            ("kind: A\nspec:\n  values: {a: 1, b: [x]}\n", true),
            ("kind: B\nspec:\n  values: {a: 1}\n", true),
            ("kind: A\nspec:\n  values: {a: 1}\n  n: x\n", true),
            ("kind: A\nspec:\n  values: [1]\n", false),
            ("kind: A\nspec:\n  values: 3\n", false),
            ("kind: A\nspec:\n  other: {a: 1}\n", false),
            ("kind: A\nspec:\n  <<: {values: {a: 1}}\n", true),
            ("kind: A\nx: &x {a: 1}\nspec:\n  values: *x\n", true),
        ] {
            let y = parse(text);
            let doc = y.documents().next().unwrap();
            let full = instance(doc).unwrap();
            let (part, was) = instance_within(doc, Some(&opaque)).unwrap();
            assert_eq!(was, emptied, "{text}");
            assert_eq!(v.is_valid(&part.value), v.is_valid(&full.value), "{text}");
        }
        // The values inside count against the limit all the same.
        let mut big = String::from("spec:\n  values:\n");
        for i in 0..MAX_VALUES {
            big.push_str(&format!("    k{i}: {i}\n"));
        }
        let y = parse(&big);
        let doc = y.documents().next().unwrap();
        assert!(instance(doc).is_none());
        assert!(instance_within(doc, Some(&opaque)).is_none());
    }

    #[test]
    fn bombs_and_depth_are_refused() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='k' {
            bomb.push_str(&format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = c;
        }
        let y = parse(&bomb);
        assert!(instance(y.documents().next().unwrap()).is_none());
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let y = parse(&deep);
        assert!(instance(y.documents().next().unwrap()).is_none());
    }

    #[test]
    fn aliases_of_scalars_add_no_value_and_no_depth() {
        // What lets `convertible` count such a file from its nodes: every
        // value read, through merge keys and aliases as keys, is a node of
        // its own, and none is deeper than the file nests.
        fn deepest(n: NodeRef, depth: usize) -> usize {
            if n.is_seq() {
                n.items()
                    .map(|i| deepest(i, depth + 1))
                    .max()
                    .unwrap_or(depth)
            } else if n.is_map() {
                n.entries()
                    .flat_map(|(k, v)| {
                        if k.scalar().is_some_and(|k| k.plain && k.text == "<<") {
                            merge_sources(v)
                                .into_iter()
                                .map(|m| deepest(m, depth))
                                .collect::<Vec<_>>()
                        } else {
                            vec![deepest(v, depth + 1)]
                        }
                    })
                    .max()
                    .unwrap_or(depth)
            } else {
                depth
            }
        }
        for text in [
            "a: &x 1\nb: *x\nc: [*x, *x]\n",
            "k: &m <<\nm:\n  *m : {a: 1, b: [*m, *m]}\n",
            "a: &s v\nm:\n  <<: *s\n  *s : *s\n",
            "a: &s v\nm:\n  <<: [{x: *s}, {y: {z: *s}}, *s]\n",
            "- &a x\n- {*a : *a, <<: {*a : *a}}\n",
        ] {
            let y = parse(text);
            assert!(y.errors.is_empty(), "{text}: {:?}", y.errors);
            assert!(y.aliased && !y.collection_aliased, "{text}");
            let root = y.node(y.docs[0].root);
            assert!(
                root.file_within(y.nesting as usize, y.nodes.len()),
                "{text}"
            );
            let mut c = Converter::new(false);
            assert!(c.count(root, 0).is_some(), "{text}");
            assert!(c.values <= y.nodes.len(), "{text}: {} values", c.values);
            assert!(deepest(root, 0) <= y.nesting as usize, "{text}");
        }
    }
}
