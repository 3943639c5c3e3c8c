//! Flux postBuild variable substitution, for the values the model resolves
//! (names, namespaces, access modes). Grammar: fluxcd/pkg envsubst, facts §1.7.

use std::collections::BTreeMap;

pub type Vars = BTreeMap<String, String>;

/// What a variable holds for a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Known(&'a str),
    /// It exists (or may: a source the repository cannot show), value unknown.
    Unknown,
    Undefined,
}

/// Whether `s` contains a `${` that Flux would substitute.
pub fn has_vars(s: &str) -> bool {
    let b = s.as_bytes();
    // Most values hold no `$` at all: a vectorised search settles them.
    memchr::memchr_iter(b'$', b)
        .any(|i| b.get(i + 1) == Some(&b'{') && (i == 0 || b[i - 1] != b'$'))
}

/// Substitutes `${VAR}`, `${VAR:=default}`, `${VAR:-default}`, `${VAR=default}`
/// (defaults may nest) and collapses `$$`. Returns `None` when a variable has
/// no value and no default, or the expression is one this model does not evaluate.
pub fn substitute(s: &str, vars: &Vars) -> Option<String> {
    substitute_with(s, &|name| match vars.get(name) {
        Some(v) => Lookup::Known(v),
        None => Lookup::Undefined,
    })
}

/// [`substitute`] with the values a lookup gives: a variable that may hold an
/// unknown value renders nothing (not its default).
pub fn substitute_with<'v>(s: &str, vars: &dyn Fn(&str) -> Lookup<'v>) -> Option<String> {
    if !s.contains('$') {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('$') {
            out.push('$');
            rest = a;
        } else if let Some(inner) = after.strip_prefix('{') {
            let close = matching_brace(inner)?;
            out.push_str(&expand(&inner[..close], vars)?);
            rest = &inner[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// Splits a comma-separated value on the commas outside `${...}` (a default
/// value may hold a comma), as Flux renders it before it is split.
pub fn split_commas(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// Index of the `}` closing an expression whose `${` was just consumed.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn expand<'v>(expr: &str, vars: &dyn Fn(&str) -> Lookup<'v>) -> Option<String> {
    let name_end = expr
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expr.len());
    let (name, op) = expr.split_at(name_end);
    if name.is_empty() {
        return None;
    }
    let found = match vars(name) {
        Lookup::Unknown => return None,
        Lookup::Known(v) => Some(v),
        Lookup::Undefined => None,
    };
    if op.is_empty() {
        return found.map(str::to_string);
    }
    for prefix in [":=", ":-", "="] {
        if let Some(default) = op.strip_prefix(prefix) {
            // `=` keeps an empty value; `:=` and `:-` replace it too.
            let value = if prefix == "=" {
                found
            } else {
                found.filter(|v| !v.is_empty())
            };
            return match value {
                Some(v) => Some(v.to_string()),
                None => substitute_with(default, vars),
            };
        }
    }
    None
}

#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    Undefined(String),
    Parse(ParseError),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParseError {
    /// `${VAR-default}`: a dash without a colon.
    Dash,
    /// A character that is neither a name character, an operator nor `}`.
    BadName,
    /// No variable name after `${`.
    NoName,
    /// `${` never closed.
    Unclosed,
}

/// A `${NAME:=default}` (or `:-`, `=`) in `s` whose default is written in
/// quotes: Flux's envsubst takes a default as written up to the closing
/// brace, so the quotes become part of the value (a shell would strip
/// them). Returns the variable's name and the default with its quotes.
pub fn quoted_default(s: &str) -> Option<(&str, &str)> {
    let mut rest = s;
    while let Some(at) = rest.find("${") {
        let expr = &rest[at + 2..];
        let name_len = expr
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(expr.len());
        let (name, after) = expr.split_at(name_len);
        let default = [":=", ":-", "="]
            .iter()
            .find_map(|op| after.strip_prefix(op))
            .and_then(|d| d.find('}').map(|end| &d[..end]))
            .filter(|d| !d.contains("${"));
        if let Some(d) = default
            && d.len() >= 2
            && ((d.starts_with('\'') && d.ends_with('\''))
                || (d.starts_with('"') && d.ends_with('"')))
            && valid_name(name)
        {
            return Some((name, d));
        }
        rest = &rest[at + 2..];
    }
    None
}

/// A variable a value reads, or an expression Flux cannot parse, with its
/// byte range in the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub start: usize,
    pub end: usize,
    pub problem: Problem,
}

/// The variables a value needs and its parse errors, read the way Flux's envsubst does (fluxcd/pkg envsubst, facts
/// §1.7): `$$` collapses to `$` (so `$${VAR}` is literal), `$VAR` is left
/// alone, `${VAR}` and the operators that read the value need the variable,
/// the default operators (`:=`, `:-`, `=`, `:+`, `:?`) do not, but the
/// expressions inside their defaults are evaluated all the same.
pub fn references(s: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    scan_value(s, &mut out);
    out
}

fn scan_value(s: &str, out: &mut Vec<Reference>) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'{') => match parse_expr(s, i, out) {
                Ok(end) => i = end,
                Err(e) => {
                    out.push(e);
                    return;
                }
            },
            Some(b'$') => i += 2,
            _ => i += 1,
        }
    }
}

/// Parses the expression whose `${` is at `start`; the index after its `}`.
fn parse_expr(s: &str, start: usize, out: &mut Vec<Reference>) -> Result<usize, Reference> {
    let p = start + 2;
    let rest = &s[p..];
    let ident_len = |t: &str| {
        t.char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(t.len(), |(i, _)| i)
    };
    let err = |end: usize, e: ParseError| Reference {
        start,
        end,
        problem: Problem::Parse(e),
    };
    // The end of what looks like the expression, for the span of an error.
    let apparent_end = || s[p..].find('}').map_or(s.len(), |i| p + i + 1);
    if let Some(after) = rest.strip_prefix('#') {
        // ${#VAR}: the length of the value.
        let n = ident_len(after);
        let close = p + 1 + n;
        if n == 0 || s.as_bytes().get(close) != Some(&b'}') {
            return Err(err(apparent_end(), ParseError::BadName));
        }
        out.push(need(&s[p + 1..close], start, close + 1));
        return Ok(close + 1);
    }
    let n = ident_len(rest);
    if n == 0 {
        return Err(err(apparent_end(), ParseError::NoName));
    }
    let name = &rest[..n];
    let q = p + n;
    let next = s[q..].chars().next();
    let next2 = s[q..].chars().nth(1);
    match next {
        Some('}') => {
            out.push(need(name, start, q + 1));
            Ok(q + 1)
        }
        Some(':') if matches!(next2, Some('=' | '-' | '?' | '+')) => {
            let mut nested = Vec::new();
            let end = parse_args(s, start, q + 2, &mut nested)?;
            out.extend(nested);
            Ok(end)
        }
        Some('=') => {
            let mut nested = Vec::new();
            let end = parse_args(s, start, q + 1, &mut nested)?;
            out.extend(nested);
            Ok(end)
        }
        Some(':' | ',' | '^' | '/' | '#' | '%') => {
            let mut nested = Vec::new();
            let end = parse_args(s, start, q + 1, &mut nested)?;
            out.push(need(name, start, end));
            out.extend(nested);
            Ok(end)
        }
        Some('-') => Err(err(apparent_end(), ParseError::Dash)),
        Some(_) => Err(err(apparent_end(), ParseError::BadName)),
        None => Err(err(s.len(), ParseError::Unclosed)),
    }
}

fn need(name: &str, start: usize, end: usize) -> Reference {
    Reference {
        start,
        end,
        problem: Problem::Undefined(name.to_string()),
    }
}

/// The arguments of an operator, up to the closing `}`: text and nested expressions.
fn parse_args(
    s: &str,
    start: usize,
    mut a: usize,
    out: &mut Vec<Reference>,
) -> Result<usize, Reference> {
    let b = s.as_bytes();
    loop {
        match b.get(a) {
            None => {
                return Err(Reference {
                    start,
                    end: s.len(),
                    problem: Problem::Parse(ParseError::Unclosed),
                });
            }
            Some(b'}') => return Ok(a + 1),
            Some(b'$') if b.get(a + 1) == Some(&b'{') => a = parse_expr(s, a, out)?,
            Some(_) => a += 1,
        }
    }
}

/// A valid variable name: letters, digits and `_`, not starting with a digit.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The annotation (or label) that turns substitution off for one object.
pub const DISABLE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Whether an object opts out with `kustomize.toolkit.fluxcd.io/substitute: disabled`.
pub fn disabled(root: crate::yaml::NodeRef) -> bool {
    ["labels", "annotations"].iter().any(|m| {
        root.path(&["metadata", m])
            .and_then(|n| n.str_at(&[DISABLE_KEY]))
            == Some("disabled")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_nest_and_escapes_collapse() {
        let v = vars(&[("APP", "plex"), ("EMPTY", "")]);
        assert_eq!(substitute("${APP}-data", &v).as_deref(), Some("plex-data"));
        assert_eq!(
            substitute("${VOLSYNC_PVC:=${APP}}", &v).as_deref(),
            Some("plex")
        );
        assert_eq!(substitute("${EMPTY:=x}", &v).as_deref(), Some("x"));
        assert_eq!(substitute("$${APP}", &v).as_deref(), Some("${APP}"));
        assert_eq!(substitute("${UNSET}", &v), None);
        assert_eq!(substitute("${APP", &v), None);
        assert!(has_vars("a-${B}") && !has_vars("$${B}") && !has_vars("plain"));
        for (text, expected) in [
            ("${A}", true),
            ("$", false),
            ("${", true),
            ("x$", false),
            ("$$${A}", false),
            ("$${A} ${B}", true),
            ("$ {A}", false),
            ("é${A}", true),
        ] {
            assert_eq!(has_vars(text), expected, "{text}");
        }
    }

    fn problems(s: &str) -> Vec<(String, Problem)> {
        references(s)
            .into_iter()
            .map(|i| (s[i.start..i.end].to_string(), i.problem))
            .collect()
    }

    fn undefined(name: &str) -> Problem {
        Problem::Undefined(name.to_string())
    }

    #[test]
    fn grammar_follows_flux_envsubst() {
        assert_eq!(problems("${A}-x"), vec![("${A}".into(), undefined("A"))]);
        assert!(problems("${A:=d}${B:-d}${C=d}${D:+x}${E:?y}").is_empty());
        assert!(problems("$${A} $$B $C").is_empty());
        assert_eq!(problems("$$${A}"), vec![("${A}".into(), undefined("A"))]);
        assert_eq!(
            problems("${PVC:=${APP}}"),
            vec![("${APP}".into(), undefined("APP"))]
        );
        assert_eq!(
            problems("${A-d}"),
            vec![("${A-d}".into(), Problem::Parse(ParseError::Dash))]
        );
        assert_eq!(
            problems("${bad.name}"),
            vec![("${bad.name}".into(), Problem::Parse(ParseError::BadName))]
        );
        assert_eq!(
            problems("x ${A"),
            vec![("${A".into(), Problem::Parse(ParseError::Unclosed))]
        );
        assert_eq!(
            problems("${!X}"),
            vec![("${!X}".into(), Problem::Parse(ParseError::NoName))]
        );
        assert_eq!(
            problems("${A,,} ${#B}"),
            vec![
                ("${A,,}".into(), undefined("A")),
                ("${#B}".into(), undefined("B"))
            ]
        );
        assert!(problems("{{ .Values.x }} $(date) <<inputs.x>>").is_empty());
    }
}
