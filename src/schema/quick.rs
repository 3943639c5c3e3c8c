//! A verdict on a document read straight from its YAML tree, without
//! converting it to JSON: most documents are valid, and converting them is
//! most of what validating them costs.
//!
//! The verdict is exact or it is `Unsure`: a schema is compiled here only
//! from the keywords whose meaning is the same in every draft the validator
//! reads, and any other keyword (or a `$ref` beside other keywords, whose
//! meaning the draft decides) makes its place unsure. A document is read
//! the way `instance` converts it (core-schema scalars, Flux placeholders with
//! their defaults, aliases followed), and a mapping with a merge key, an alias
//! as a key, or a file with duplicate keys is unsure. Only a `Valid` verdict
//! is acted on: an unsure or invalid document is converted and validated in
//! full, for its errors. Patterns are matched by the validator itself.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;
use rustc_hash::FxHashMap;
use serde_json::{Number, Value};

use super::instance::{MAX_DEPTH, Plain, convertible, excusable, plain_kind, resolve};
use crate::model::subst;
use crate::yaml::NodeRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Valid, or invalid only by errors the findings leave out: a value
    /// Flux substitutes or SOPS encrypted (see `excusable`), a top-level
    /// `sops` key, a key that holds a placeholder, and in a patch a
    /// `$`-directive or a missing required field. Said only where no
    /// `anyOf`, `oneOf` or `not` is on the way down (they report their own
    /// errors, at their own places).
    Clean,
    Invalid,
    Unsure,
}

use Verdict::{Clean, Invalid, Unsure, Valid};

impl Verdict {
    /// Both hold.
    fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Invalid, _) | (_, Invalid) => Invalid,
            (Unsure, _) | (_, Unsure) => Unsure,
            (Clean, _) | (_, Clean) => Clean,
            (Valid, Valid) => Valid,
        }
    }

    /// Whether validating in full would find nothing to report.
    pub fn clean(self) -> bool {
        matches!(self, Valid | Clean)
    }

    fn of(valid: bool) -> Verdict {
        if valid { Valid } else { Invalid }
    }
}

/// Past this many schemas a compiled schema is cut short (its remaining
/// places are unsure).
const MAX_NODES: usize = 200_000;
/// Past this many steps a document is unsure.
const MAX_STEPS: usize = 1_000_000;
/// Past this many schemas applied to one value without going down the
/// document (references, `allOf` and the like) the value is unsure.
const MAX_HOPS: usize = 32;

type Idx = u32;

/// A schema compiled for quick verdicts.
pub struct Quick {
    nodes: Vec<Node>,
    root: Idx,
}

enum Node {
    /// `true` or `false`.
    Always(bool),
    /// A keyword this reader does not know, or one it cannot read exactly.
    Unsure,
    Checks(Box<Checks>),
}

// Type bits.
const NULL: u8 = 1;
const BOOLEAN: u8 = 2;
const INTEGER: u8 = 4;
const NUMBER: u8 = 8;
const STRING: u8 = 16;
const ARRAY: u8 = 32;
const OBJECT: u8 = 64;

#[derive(Default)]
struct Checks {
    /// Allowed types (bits); 0 when there is no `type`.
    types: u8,
    /// `enum` lists and `const` values, each of which must hold.
    one_of_values: Vec<Vec<Value>>,
    /// The names `properties` or `required` name.
    fields: FxHashMap<String, Field>,
    /// `properties` is given (even empty): `additionalProperties: false` then
    /// reports the names it refuses, which findings may leave out; without
    /// it, the validator reports the first refused value instead.
    has_properties: bool,
    /// How many distinct names `required` lists (64 at most).
    required: u32,
    additional: Option<Idx>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    items: Option<Idx>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<Arc<Pattern>>,
    minimum: Option<Number>,
    maximum: Option<Number>,
    exclusive_minimum: Option<Number>,
    exclusive_maximum: Option<Number>,
    all_of: Vec<Idx>,
    any_of: Vec<Idx>,
    one_of: Vec<Idx>,
    not: Option<Idx>,
    reference: Option<Idx>,
}

#[derive(Default, Clone, Copy)]
struct Field {
    /// Its schema under `properties`.
    schema: Option<Idx>,
    /// Its bit among the required names.
    required: Option<u8>,
}

/// A `pattern`, matched by a validator built for it alone on first use.
struct Pattern {
    source: String,
    validator: OnceLock<Option<Validator>>,
}

impl Pattern {
    /// The one `Pattern` of the process for `source`: schemas share many
    /// (a duration, a DNS name), and each validator built costs the
    /// validator's check of its schema.
    fn of(source: &str) -> Arc<Pattern> {
        static ALL: OnceLock<Mutex<HashMap<String, Arc<Pattern>>>> = OnceLock::new();
        let make = || {
            Arc::new(Pattern {
                source: source.to_string(),
                validator: OnceLock::new(),
            })
        };
        match ALL.get_or_init(Default::default).lock() {
            Ok(mut all) => Arc::clone(all.entry(source.to_string()).or_insert_with(make)),
            Err(_) => make(),
        }
    }
}

/// Keywords that never make a value invalid here: annotations, containers of
/// subschemas, and vendor extensions.
fn ignored(keyword: &str) -> bool {
    keyword.starts_with("x-")
        || matches!(
            keyword,
            "description"
                | "title"
                | "default"
                | "examples"
                | "example"
                | "format"
                | "nullable"
                | "readOnly"
                | "writeOnly"
                | "deprecated"
                | "$comment"
                | "$defs"
                | "definitions"
                | "externalDocs"
        )
}

struct Compiler<'v> {
    root: &'v Value,
    /// The root names draft 4, where `const` and numeric exclusive bounds
    /// are not keywords.
    draft4: bool,
    nodes: Vec<Node>,
    seen: HashMap<*const Value, Idx>,
}

impl Quick {
    /// `root` compiled: a place whose keywords cannot be read exactly is
    /// unsure.
    pub fn compile(root: &Value) -> Quick {
        let mut c = Compiler {
            root,
            draft4: root
                .get("$schema")
                .and_then(Value::as_str)
                .is_some_and(|d| d.contains("draft-04")),
            nodes: Vec::new(),
            seen: HashMap::new(),
        };
        let root = c.schema(root);
        Quick {
            nodes: c.nodes,
            root,
        }
    }

    /// The document at `node` against the whole schema: `partial` when it
    /// is a patch, `top` when `node` is the document validated (not its
    /// `metadata`).
    pub fn verdict(&self, node: NodeRef, partial: bool, top: bool) -> Verdict {
        if node.file_has_duplicate_keys() || !convertible(node) {
            return Unsure;
        }
        let mut w = Walk {
            steps: 0,
            partial,
            top,
        };
        w.check(self, self.root, node, 0, 0, true)
    }
}

impl Compiler<'_> {
    fn push(&mut self, node: Node) -> Idx {
        self.nodes.push(node);
        (self.nodes.len() - 1) as Idx
    }

    fn schema(&mut self, schema: &Value) -> Idx {
        if let Some(&i) = self.seen.get(&(schema as *const Value)) {
            return i;
        }
        if self.nodes.len() >= MAX_NODES {
            return self.push(Node::Unsure);
        }
        let map = match schema {
            Value::Bool(b) => return self.push(Node::Always(*b)),
            Value::Object(m) => m,
            _ => return self.push(Node::Unsure),
        };
        // Reserved first, so that a reference back to this schema finds it.
        let at = self.push(Node::Unsure);
        self.seen.insert(schema as *const Value, at);
        if let Some(checks) = self.checks(map) {
            self.nodes[at as usize] = Node::Checks(Box::new(checks));
        }
        at
    }

    /// `None` when a keyword cannot be read exactly.
    fn checks(&mut self, map: &serde_json::Map<String, Value>) -> Option<Checks> {
        let mut c = Checks::default();
        let count = |v: &Value| v.as_u64();
        for (k, v) in map {
            match k.as_str() {
                k if ignored(k) => {}
                // The draft the validator reads: only at the root, and only
                // one this reader knows.
                "$schema" => {
                    let root = self.root.as_object().is_some_and(|r| std::ptr::eq(r, map));
                    let known = v.as_str().is_some_and(|d| {
                        ["draft-04", "draft-06", "draft-07", "2019-09", "2020-12"]
                            .iter()
                            .any(|known| d.contains(known))
                    });
                    if !root || !known {
                        return None;
                    }
                }
                "const" | "exclusiveMinimum" | "exclusiveMaximum" if self.draft4 => return None,
                "type" => c.types = types(v)?,
                "enum" => c.one_of_values.push(v.as_array()?.clone()),
                "const" => c.one_of_values.push(vec![v.clone()]),
                "properties" => {
                    c.has_properties = true;
                    for (name, sub) in v.as_object()? {
                        let schema = self.schema(sub);
                        c.fields.entry(name.clone()).or_default().schema = Some(schema);
                    }
                }
                "additionalProperties" => c.additional = Some(self.schema(v)),
                "required" => {
                    for r in v.as_array()? {
                        let field = c.fields.entry(r.as_str()?.to_string()).or_default();
                        if field.required.is_none() {
                            if c.required == 64 {
                                return None;
                            }
                            field.required = Some(c.required as u8);
                            c.required += 1;
                        }
                    }
                }
                "minProperties" => c.min_properties = Some(count(v)?),
                "maxProperties" => c.max_properties = Some(count(v)?),
                "minItems" => c.min_items = Some(count(v)?),
                "maxItems" => c.max_items = Some(count(v)?),
                "minLength" => c.min_length = Some(count(v)?),
                "maxLength" => c.max_length = Some(count(v)?),
                "uniqueItems" if v == &Value::Bool(false) => {}
                "items" if v.is_object() || v.is_boolean() => c.items = Some(self.schema(v)),
                "pattern" => c.pattern = Some(Pattern::of(v.as_str()?)),
                "minimum" => c.minimum = Some(number(v)?),
                "maximum" => c.maximum = Some(number(v)?),
                "exclusiveMinimum" => c.exclusive_minimum = Some(number(v)?),
                "exclusiveMaximum" => c.exclusive_maximum = Some(number(v)?),
                "allOf" | "anyOf" | "oneOf" => {
                    let subs: Vec<Idx> = nonempty(v)?.iter().map(|s| self.schema(s)).collect();
                    match k.as_str() {
                        "allOf" => c.all_of = subs,
                        "anyOf" => c.any_of = subs,
                        _ => c.one_of = subs,
                    }
                }
                "not" => c.not = Some(self.schema(v)),
                "$ref" => {
                    // Beside other keywords, a reference means what the
                    // draft says: left to the validator.
                    if map
                        .keys()
                        .any(|k| k != "$ref" && k != "$schema" && !ignored(k))
                    {
                        return None;
                    }
                    let target = resolve(self.root, v.as_str()?)?;
                    c.reference = Some(self.schema(target));
                }
                _ => return None,
            }
        }
        Some(c)
    }
}

/// A list of subschemas that is not empty.
fn nonempty(v: &Value) -> Option<&Vec<Value>> {
    v.as_array().filter(|a| !a.is_empty())
}

/// The type bits `type` allows; `None` for a name that is not a type.
fn types(v: &Value) -> Option<u8> {
    let bit = |t: &Value| match t.as_str()? {
        "null" => Some(NULL),
        "boolean" => Some(BOOLEAN),
        "integer" => Some(INTEGER),
        "number" => Some(NUMBER),
        "string" => Some(STRING),
        "array" => Some(ARRAY),
        "object" => Some(OBJECT),
        _ => None,
    };
    match v {
        Value::Array(ts) if !ts.is_empty() => ts.iter().try_fold(0, |acc, t| Some(acc | bit(t)?)),
        Value::Array(_) => None,
        t => bit(t),
    }
}

/// A bound that is a number (draft 4's boolean `exclusiveMinimum` is not).
fn number(v: &Value) -> Option<Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        _ => None,
    }
}

/// A value of the document, as `instance` converts it.
enum Inst<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Array(NodeRef<'a>),
    Object(NodeRef<'a>),
}

impl<'a> Inst<'a> {
    fn of(node: NodeRef<'a>) -> Inst<'a> {
        if let Some(s) = node.scalar() {
            // A Flux placeholder reads as its defaults, when they are all
            // given, and as written otherwise.
            if subst::has_vars(s.text) {
                return match subst::substitute(s.text, &Default::default()) {
                    Some(with) if s.plain => match plain_kind(&with) {
                        Plain::Str => Inst::Str(Cow::Owned(with)),
                        typed => Inst::plain(typed, ""),
                    },
                    Some(with) => Inst::Str(Cow::Owned(with)),
                    None => Inst::Str(Cow::Borrowed(s.text)),
                };
            }
            if s.plain {
                return Inst::plain(plain_kind(s.text), s.text);
            }
            return Inst::Str(Cow::Borrowed(s.text));
        }
        if node.is_seq() {
            return Inst::Array(node);
        }
        if node.is_map() {
            return Inst::Object(node);
        }
        // An alias to an unknown anchor.
        Inst::Null
    }

    fn plain(kind: Plain, text: &'a str) -> Inst<'a> {
        match kind {
            Plain::Null => Inst::Null,
            Plain::Bool(b) => Inst::Bool(b),
            Plain::Int(n) => Inst::Int(n),
            Plain::Float(f) => Inst::Float(f),
            Plain::Str => Inst::Str(Cow::Borrowed(text)),
        }
    }
}

/// Integers up to this size convert to floats exactly.
const EXACT: i64 = 1 << 53;

/// `a` compared with `b`, when the comparison is exact.
fn compare(a: &Inst, b: &Number) -> Option<std::cmp::Ordering> {
    let bound_int = b.as_i64();
    match a {
        Inst::Int(i) => match bound_int {
            Some(j) => Some(i.cmp(&j)),
            None if i.unsigned_abs() <= EXACT as u64 => (*i as f64).partial_cmp(&b.as_f64()?),
            None => None,
        },
        Inst::Float(f) => match bound_int {
            Some(j) if j.unsigned_abs() <= EXACT as u64 => f.partial_cmp(&(j as f64)),
            Some(_) => None,
            None if b.is_f64() => f.partial_cmp(&b.as_f64()?),
            None => None,
        },
        _ => None,
    }
}

/// Whether `value` is one of `options`, by JSON equality.
fn member(value: &Inst, options: &[Value]) -> Verdict {
    let found = match value {
        Inst::Null => options.iter().any(Value::is_null),
        Inst::Bool(b) => options.iter().any(|o| o.as_bool() == Some(*b)),
        Inst::Str(s) => options.iter().any(|o| o.as_str() == Some(s.as_ref())),
        Inst::Int(i) => {
            if options.iter().any(|o| o.as_i64() == Some(*i)) {
                return Valid;
            }
            // Equal numbers may be written differently (1 and 1.0).
            if options.iter().any(Value::is_number) {
                return Unsure;
            }
            false
        }
        Inst::Float(_) => {
            if options.iter().any(Value::is_number) {
                return Unsure;
            }
            false
        }
        Inst::Array(_) | Inst::Object(_) => {
            if options.iter().any(|o| o.is_array() || o.is_object()) {
                return Unsure;
            }
            false
        }
    };
    Verdict::of(found)
}

struct Walk {
    steps: usize,
    partial: bool,
    top: bool,
}

impl Walk {
    /// `node`, within `depth` collections of the document, against schema
    /// `at`, reached through `hops` schemas since the last step down;
    /// `lenient` when no `anyOf`, `oneOf` or `not` is on the way (a verdict
    /// may be `Clean` only then).
    fn check(
        &mut self,
        q: &Quick,
        at: Idx,
        node: NodeRef,
        depth: usize,
        hops: usize,
        lenient: bool,
    ) -> Verdict {
        self.steps += 1;
        if self.steps > MAX_STEPS || hops > MAX_HOPS || depth > MAX_DEPTH {
            return Unsure;
        }
        let c = match &q.nodes[at as usize] {
            Node::Always(b) => return Verdict::of(*b),
            Node::Unsure => return Unsure,
            Node::Checks(c) => c,
        };
        let value = Inst::of(node);
        // Every error about such a value is left out.
        if lenient
            && let Inst::Str(s) = &value
            && excusable(s)
        {
            return Clean;
        }
        let mut v = self.type_check(c.types, &value);
        for options in &c.one_of_values {
            v = v.and(member(&value, options));
        }
        if v == Invalid {
            return v;
        }
        v = v.and(match &value {
            Inst::Str(s) => self.string(c, s),
            Inst::Int(_) | Inst::Float(_) => numeric(c, &value),
            Inst::Array(a) => self.array(q, c, *a, depth, lenient),
            Inst::Object(o) => self.object(q, c, *o, depth, lenient),
            Inst::Null | Inst::Bool(_) => Valid,
        });
        if v == Invalid {
            return v;
        }
        if let Some(r) = c.reference {
            v = v.and(self.check(q, r, node, depth, hops + 1, lenient));
        }
        for &s in &c.all_of {
            if v == Invalid {
                return v;
            }
            v = v.and(self.check(q, s, node, depth, hops + 1, lenient));
        }
        if !c.any_of.is_empty() && v != Invalid {
            let mut any = Invalid;
            for &s in &c.any_of {
                match self.check(q, s, node, depth, hops + 1, false) {
                    Valid => {
                        any = Valid;
                        break;
                    }
                    Unsure | Clean => any = Unsure,
                    Invalid => {}
                }
            }
            v = v.and(any);
        }
        if !c.one_of.is_empty() && v != Invalid {
            let (mut valid, mut unsure) = (0, 0);
            for &s in &c.one_of {
                match self.check(q, s, node, depth, hops + 1, false) {
                    Valid => valid += 1,
                    Unsure | Clean => unsure += 1,
                    Invalid => {}
                }
            }
            v = v.and(match (valid, unsure) {
                (2.., _) => Invalid,
                (1, 0) => Valid,
                (0, 0) => Invalid,
                _ => Unsure,
            });
        }
        if let Some(n) = c.not
            && v != Invalid
        {
            v = v.and(match self.check(q, n, node, depth, hops + 1, false) {
                Valid => Invalid,
                Invalid => Valid,
                Unsure | Clean => Unsure,
            });
        }
        v
    }

    fn type_check(&self, types: u8, value: &Inst) -> Verdict {
        if types == 0 {
            return Valid;
        }
        let bits = match value {
            Inst::Null => NULL,
            Inst::Bool(_) => BOOLEAN,
            Inst::Int(_) => INTEGER | NUMBER,
            Inst::Float(f) => {
                if types & NUMBER != 0 {
                    return Valid;
                }
                // A whole float may count as an integer, depending on the draft.
                if types & INTEGER != 0 && f.fract() == 0.0 {
                    return Unsure;
                }
                NUMBER
            }
            Inst::Str(_) => STRING,
            Inst::Array(_) => ARRAY,
            Inst::Object(_) => OBJECT,
        };
        Verdict::of(types & bits != 0)
    }

    fn string(&self, c: &Checks, s: &str) -> Verdict {
        let mut v = Valid;
        if c.min_length.is_some() || c.max_length.is_some() {
            let len = s.chars().count() as u64;
            v = v.and(within(len, c.min_length, c.max_length));
        }
        if let Some(p) = &c.pattern
            && v != Invalid
        {
            let validator = p.validator.get_or_init(|| {
                let schema = serde_json::json!({ "pattern": p.source });
                super::check::compile(&schema)
            });
            v = v.and(match validator {
                Some(validator) => Verdict::of(validator.is_valid(&Value::String(s.to_string()))),
                None => Unsure,
            });
        }
        v
    }

    fn array(
        &mut self,
        q: &Quick,
        c: &Checks,
        node: NodeRef,
        depth: usize,
        lenient: bool,
    ) -> Verdict {
        let mut v = Valid;
        if c.min_items.is_some() || c.max_items.is_some() {
            let n = node.items().count() as u64;
            v = v.and(within(n, c.min_items, c.max_items));
        }
        if let Some(items) = c.items {
            for item in node.items() {
                if v == Invalid {
                    break;
                }
                v = v.and(self.check(q, items, item, depth + 1, 0, lenient));
            }
        }
        v
    }

    fn object(
        &mut self,
        q: &Quick,
        c: &Checks,
        node: NodeRef,
        depth: usize,
        lenient: bool,
    ) -> Verdict {
        if c.fields.is_empty()
            && c.additional.is_none()
            && c.min_properties.is_none()
            && c.max_properties.is_none()
        {
            return Valid;
        }
        // Merge keys and aliases as keys are read by the conversion only
        // (either may bring or replace any entry).
        if node.has_merge_or_alias_key() {
            return Unsure;
        }
        let mut v = Valid;
        let (mut found, mut count) = (0u64, 0u64);
        for (k, value) in node.entries() {
            let Some(key) = k.scalar() else { continue };
            // Keys are distinct: a file with duplicates is not read here.
            count += 1;
            let field = c.fields.get(key.text).copied().unwrap_or_default();
            if let Some(bit) = field.required {
                found |= 1 << bit;
            }
            let Some(sub) = field.schema.or(c.additional) else {
                continue;
            };
            // A key `additionalProperties: false` refuses, which the
            // findings leave out (they are told the names only beside
            // `properties`).
            if lenient
                && c.has_properties
                && field.schema.is_none()
                && matches!(q.nodes[sub as usize], Node::Always(false))
                && (subst::has_vars(key.text)
                    || (self.partial && key.text.starts_with('$'))
                    || (self.top && depth == 0 && key.text == "sops"))
            {
                v = v.and(Clean);
                continue;
            }
            v = v.and(self.check(q, sub, value, depth + 1, 0, lenient));
            if v == Invalid {
                return v;
            }
        }
        // A patch may leave out required fields.
        let required = if found.count_ones() == c.required {
            Valid
        } else if lenient && self.partial {
            Clean
        } else {
            Invalid
        };
        v.and(required)
            .and(within(count, c.min_properties, c.max_properties))
    }
}

/// Whether a count is within its bounds.
fn within(n: u64, min: Option<u64>, max: Option<u64>) -> Verdict {
    Verdict::of(min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m))
}

/// `minimum` and the like, for a number.
fn numeric(c: &Checks, value: &Inst) -> Verdict {
    use std::cmp::Ordering::{Greater, Less};
    let mut v = Valid;
    let bounds = [
        (&c.minimum, [Less].as_slice()),
        (&c.maximum, &[Greater]),
        (&c.exclusive_minimum, &[Less, std::cmp::Ordering::Equal]),
        (&c.exclusive_maximum, &[Greater, std::cmp::Ordering::Equal]),
    ];
    for (bound, fails) in bounds {
        if let Some(b) = bound {
            v = v.and(match compare(value, b) {
                Some(o) => Verdict::of(!fails.contains(&o)),
                None => Unsure,
            });
        }
    }
    v
}

#[cfg(test)]
mod tests_support {
    use super::*;
    use crate::schema::instance::instance;
    use crate::yaml::parse;

    /// The quick verdict on the first document of `yaml` (a whole document,
    /// not a patch), after holding a valid or invalid one to the validator's.
    pub fn verdict(schema: &Value, yaml: &str) -> Verdict {
        let y = parse(yaml);
        let doc = y.documents().next().expect("a document");
        let v = Quick::compile(schema).verdict(doc, false, true);
        if matches!(v, Valid | Invalid) {
            let validator = super::super::check::compile(schema).expect("compiles");
            let inst = instance(doc).expect("converts");
            assert_eq!(
                validator.is_valid(&inst.value),
                v == Valid,
                "{v:?} on {yaml}"
            );
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::*;
    use super::*;
    use crate::schema::instance::instance;
    use crate::yaml::parse;
    use serde_json::json;

    fn object() -> Value {
        json!({
            "type": "object",
            "required": ["name"],
            "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "minLength": 2, "maxLength": 3},
                "port": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                "replicas": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10},
                "mode": {"enum": ["a", "b"]},
                "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "maxItems": 2},
                "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "ratio": {"type": "number", "maximum": 1.5}
            }
        })
    }

    #[test]
    fn a_valid_document_is_valid_without_converting_it() {
        let s = object();
        assert_eq!(verdict(&s, "name: ab\n"), Valid);
        assert_eq!(
            verdict(
                &s,
                "name: abc\nport: http\nreplicas: 9\nmode: b\ntags: [x, y]\nvalues: {a: [1, {b: 2}]}\nratio: 1.5\n"
            ),
            Valid
        );
        assert_eq!(verdict(&s, "name: ab\nport: 8080\n"), Valid);
        // Code points, not bytes.
        assert_eq!(verdict(&s, "name: ééé\n"), Valid);
        // An alias reads as the node it names.
        assert_eq!(verdict(&s, "name: &n ab\nport: *n\n"), Valid);
        assert_eq!(verdict(&s, "name: &n ab\nreplicas: *n\n"), Invalid);
    }

    #[test]
    fn an_invalid_document_is_invalid() {
        let s = object();
        for yaml in [
            "port: 1\n",
            "name: ab\nextra: 1\n",
            "name: a\n",
            "name: abcd\n",
            "name: ab\nreplicas: -1\n",
            "name: ab\nreplicas: 10\n",
            "name: ab\nreplicas: \"3\"\n",
            "name: ab\nreplicas: 1.5\n",
            "name: ab\nmode: c\n",
            "name: ab\nmode: 1\n",
            "name: ab\ntags: [x, y, z]\n",
            "name: ab\ntags: [X]\n",
            "name: ab\nport: [1]\n",
            "name: ab\nvalues: [1]\n",
            "name: ab\nratio: 2\n",
            "- name\n",
        ] {
            assert_eq!(verdict(&s, yaml), Invalid, "{yaml}");
        }
    }

    #[test]
    fn what_the_reader_cannot_tell_exactly_is_unsure() {
        let s = object();
        for yaml in [
            // A whole float is an integer in some drafts only.
            "name: ab\nreplicas: 1.0\n",
            // Merge keys, aliases as keys and duplicate keys are read by the
            // conversion only.
            "<<: {name: ab}\n",
            "name: &n ab\n<<: {port: 1}\n",
            "name: &k ab\n*k : ab\n",
            "name: ab\nname: abc\n",
        ] {
            assert_eq!(verdict(&s, yaml), Unsure, "{yaml}");
        }
        // `1` and `1.0` are equal numbers: an enum of numbers is unsure.
        let numbers = json!({"enum": [1.0, 2]});
        assert_eq!(verdict(&numbers, "1\n"), Unsure);
        assert_eq!(verdict(&numbers, "2\n"), Valid);
        assert_eq!(verdict(&numbers, "x\n"), Invalid);
        // Keywords it does not read, and a reference beside other keywords
        // (its meaning depends on the draft).
        for schema in [
            json!({"patternProperties": {"^a": {"type": "string"}}}),
            json!({"multipleOf": 2}),
            json!({"uniqueItems": true}),
            json!({"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "minLength": 1}),
            json!({"$ref": "other.json"}),
            json!({"type": "strange"}),
        ] {
            assert_eq!(verdict(&schema, "a: b\n"), Unsure, "{schema}");
        }
        // Deeper than the conversion goes: not validated at all.
        let deep = format!("{}1{}\n", "[".repeat(130), "]".repeat(130));
        let y = parse(&deep);
        let doc = y.documents().next().unwrap();
        assert!(instance(doc).is_none());
        assert_eq!(
            Quick::compile(&json!({"type": "array"})).verdict(doc, false, true),
            Unsure
        );
    }

    #[test]
    fn a_pattern_is_built_once_for_every_schema_that_holds_it() {
        let a = Quick::compile(&json!({"pattern": "^q+$"}));
        let b = Quick::compile(&json!({"properties": {"x": {"pattern": "^q+$"}}}));
        let pattern = |q: &Quick| {
            q.nodes
                .iter()
                .find_map(|n| match n {
                    Node::Checks(c) => c.pattern.clone(),
                    _ => None,
                })
                .expect("a pattern")
        };
        assert!(Arc::ptr_eq(&pattern(&a), &pattern(&b)));
        assert_eq!(verdict(&json!({"pattern": "^q+$"}), "qq\n"), Valid);
        assert_eq!(verdict(&json!({"pattern": "^q+$"}), "qx\n"), Invalid);
    }

    #[test]
    fn combinators_references_and_boolean_schemas() {
        let one_of = json!({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]});
        assert_eq!(verdict(&one_of, "a: 1\n"), Valid);
        assert_eq!(verdict(&one_of, "a: 1\nb: 2\n"), Invalid);
        assert_eq!(verdict(&one_of, "c: 1\n"), Invalid);
        let not = json!({"not": {"required": ["a"]}});
        assert_eq!(verdict(&not, "b: 1\n"), Valid);
        assert_eq!(verdict(&not, "a: 1\n"), Invalid);
        let all_of =
            json!({"allOf": [{"required": ["a"]}, {"properties": {"a": {"type": "string"}}}]});
        assert_eq!(verdict(&all_of, "a: x\n"), Valid);
        assert_eq!(verdict(&all_of, "a: 1\n"), Invalid);
        let reference = json!({
            "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}, "additionalProperties": false}},
            "$ref": "#/$defs/node"
        });
        assert_eq!(verdict(&reference, "next: {next: {}}\n"), Valid);
        assert_eq!(verdict(&reference, "next: {next: {other: 1}}\n"), Invalid);
        assert_eq!(verdict(&json!(true), "a: 1\n"), Valid);
        assert_eq!(verdict(&json!(false), "a: 1\n"), Invalid);
        assert_eq!(verdict(&json!({"const": "x"}), "x\n"), Valid);
        assert_eq!(verdict(&json!({"const": "x"}), "y\n"), Invalid);
    }

    #[test]
    fn scalars_read_as_the_conversion_reads_them() {
        let s = json!({
            "type": "object",
            "properties": {
                "n": {"type": "integer"},
                "s": {"type": "string"},
                "b": {"type": "boolean"},
                "z": {"type": "null"}
            }
        });
        assert_eq!(verdict(&s, "n: 0x1f\ns: \"1\"\nb: True\nz: ~\n"), Valid);
        assert_eq!(verdict(&s, "s: 1\n"), Invalid);
        assert_eq!(verdict(&s, "b: yes\n"), Invalid);
        assert_eq!(verdict(&s, "s: |\n  text\n"), Valid);
        // A placeholder reads as its default, or as written without one.
        assert_eq!(verdict(&s, "n: ${N:=5}\n"), Valid);
        assert_eq!(verdict(&s, "n: \"${N:=5}\"\n"), Invalid);
        // Without a default it stays as written, and its errors are left out.
        assert_eq!(verdict(&s, "n: ${N}\n"), Clean);
        assert_eq!(verdict(&s, "s: ${S}\n"), Clean);
    }
}

#[cfg(test)]
mod edge_tests {
    use super::tests_support::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn what_the_draft_decides_is_unsure() {
        // Draft 4 has no `const`, nor numeric exclusive bounds.
        let d4 =
            json!({"$schema": "http://json-schema.org/draft-04/schema#", "not": {"const": "x"}});
        assert_eq!(verdict(&d4, "y\n"), Unsure);
        let d4 = json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "string"});
        assert_eq!(verdict(&d4, "y\n"), Valid);
        // A draft named below the root.
        let nested = json!({"not": {"properties": {"a": {"$schema": "http://json-schema.org/draft-04/schema#", "const": "x"}}}});
        assert_eq!(verdict(&nested, "a: y\n"), Unsure);
        // The root a bundle gives: its draft beside a reference.
        let bundled = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": "#/$defs/s",
            "$defs": {"s": {"type": "string"}}
        });
        assert_eq!(verdict(&bundled, "y\n"), Valid);
        assert_eq!(verdict(&bundled, "1\n"), Invalid);
        let unknown = json!({"$schema": "https://example.com/meta", "type": "string"});
        assert_eq!(verdict(&unknown, "y\n"), Unsure);
        // A reference with percent-escapes.
        let escaped = json!({"$defs": {"a b": {"type": "integer"}, "a%20b": {"type": "string"}}, "$ref": "#/$defs/a%20b"});
        assert_eq!(verdict(&escaped, "x\n"), Unsure);
    }

    #[test]
    fn an_alias_key_makes_its_mapping_unsure_whatever_comes_before_it() {
        let s = json!({"not": {"properties": {"a": {"type": "string"}}}});
        assert_eq!(verdict(&s, "x: &k a\na: 1\n*k : s\n"), Unsure);
        let s = json!({"properties": {"a": {"type": "string"}}});
        assert_eq!(verdict(&s, "x: &k a\na: 1\n*k : s\n"), Unsure);
    }

    #[test]
    fn bounds_at_the_ends_of_the_integers() {
        let s = json!({"minimum": i64::MIN, "maximum": u64::MAX});
        // Neither bound converts to a float exactly.
        assert_eq!(verdict(&s, "1.5\n"), Unsure);
        assert_eq!(verdict(&s, "-3\n"), Valid);
        assert_eq!(
            verdict(&json!({"maximum": 1.5}), "9007199254740993\n"),
            Unsure
        );
    }

    fn route() -> Value {
        json!({
            "type": "object",
            "required": ["spec"],
            "additionalProperties": false,
            "properties": {
                "spec": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["hostnames"],
                    "properties": {
                        "hostnames": {"type": "array", "items": {"type": "string", "pattern": "^[a-z.]+$"}},
                        "port": {"type": "integer"}
                    }
                },
                "choice": {"anyOf": [{"type": "object", "properties": {"h": {"pattern": "^[a-z]+$"}}}]}
            }
        })
    }

    fn of(schema: &Value, yaml: &str, partial: bool, top: bool) -> Verdict {
        let y = crate::yaml::parse(yaml);
        Quick::compile(schema).verdict(y.documents().next().unwrap(), partial, top)
    }

    #[test]
    fn errors_the_findings_leave_out_make_a_document_clean() {
        let s = route();
        // (document, a patch, the document itself rather than its metadata, verdict)
        let cases = [
            // A value Flux substitutes, or SOPS encrypted.
            (
                "spec:\n  hostnames: [\"a.${DOMAIN}\"]\n",
                false,
                true,
                Clean,
            ),
            (
                "spec:\n  hostnames: [x]\n  port: ENC[AES256_GCM,data:x]\n",
                false,
                true,
                Clean,
            ),
            ("spec:\n  hostnames: [\"A\"]\n", false, true, Invalid),
            // Under `anyOf` the error is the combinator's, at the mapping.
            (
                "spec: {hostnames: [x]}\nchoice: {h: \"${H}\"}\n",
                false,
                true,
                Invalid,
            ),
            // SOPS metadata at the top of the document only.
            (
                "spec: {hostnames: [x]}\nsops: {mac: x}\n",
                false,
                true,
                Clean,
            ),
            (
                "spec: {hostnames: [x]}\nsops: {mac: x}\n",
                false,
                false,
                Invalid,
            ),
            ("spec: {hostnames: [x], sops: 1}\n", false, true, Invalid),
            // A key that holds a placeholder.
            ("spec: {hostnames: [x], \"${K}\": 1}\n", false, true, Clean),
            // A patch: `$` directives and missing required fields.
            ("spec: {port: 1, $patch: replace}\n", true, true, Clean),
            ("spec: {port: 1}\n", false, true, Invalid),
            (
                "spec: {hostnames: [x], $patch: replace}\n",
                false,
                true,
                Invalid,
            ),
        ];
        for (yaml, partial, top, expected) in cases {
            assert_eq!(of(&s, yaml, partial, top), expected, "{yaml}");
        }
        assert!(Clean.clean() && Valid.clean() && !Invalid.clean() && !Unsure.clean());
    }
}
