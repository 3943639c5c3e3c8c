//! YAML documents as the JSON the API server sees: YAML 1.2 core scalars,
//! aliases and merge keys read through, Flux placeholders noted by path.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use crate::model::subst;
use crate::yaml::NodeRef;

/// Past this depth a document is not validated (the parser accepts deeper
/// nesting; the validator recurses).
const MAX_DEPTH: usize = 128;
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
    let mut c = Converter::<'_> {
        values: 0,
        path: Vec::new(),
        placeholders: HashMap::new(),
        track: true,
    };
    let value = c.convert(node, 0)?;
    Some(Instance {
        value,
        placeholders: c.placeholders,
    })
}

/// A schema written in YAML (a CRD's `openAPIV3Schema`) as JSON. Returns null
/// for a schema too deep or too large.
pub fn plain_json(node: NodeRef) -> Value {
    let mut c = Converter {
        values: 0,
        path: Vec::new(),
        placeholders: HashMap::new(),
        track: false,
    };
    c.convert(node, 0).unwrap_or(Value::Null)
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
}

impl<'a> Converter<'a> {
    fn convert(&mut self, node: NodeRef<'a>, depth: usize) -> Option<Value> {
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
                let v = self.convert(item, depth + 1);
                self.path.pop();
                out.push(v?);
            }
            return Some(Value::Array(out));
        }
        if node.is_map() {
            let mut out = Map::new();
            self.merge_into(node, &mut out, depth, 0)?;
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
    ) -> Option<()> {
        let mut merged = Vec::new();
        for (k, v) in node.entries() {
            let Some(key) = k.scalar() else { continue };
            if key.plain && key.text == "<<" {
                merged.push(v);
                continue;
            }
            self.path.push(Seg::Key(key.text));
            let value = self.convert(v, depth + 1);
            self.path.pop();
            out.insert(key.text.to_string(), value?);
        }
        for m in merged {
            if merges > 16 {
                break;
            }
            let sources: Vec<NodeRef<'a>> = if m.is_seq() {
                m.items().collect()
            } else {
                vec![m]
            };
            for source in sources.into_iter().filter(|s| s.is_map()) {
                let mut extra = Map::new();
                self.merge_into(source, &mut extra, depth, merges + 1)?;
                for (k, v) in extra {
                    out.entry(k).or_insert(v);
                }
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
    // Only these can start a null, a boolean or a number.
    if let Some(first) = text.bytes().next()
        && !matches!(
            first,
            b'0'..=b'9' | b'+' | b'-' | b'.' | b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F'
        )
    {
        return Value::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = integer(text) {
        return Value::Number(n.into());
    }
    if is_float(text)
        && let Ok(f) = text.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(text.to_string())
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
}
