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
    (0..b.len().saturating_sub(1))
        .any(|i| b[i] == b'$' && b[i + 1] == b'{' && (i == 0 || b[i - 1] != b'$'))
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
    }
}
