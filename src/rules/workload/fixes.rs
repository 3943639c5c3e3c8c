//! Edits the workload rules attach to their findings.

use crate::diagnostic::Edit;
use crate::fix;
use crate::yaml::NodeRef;

/// The fix for a Deployment: `strategy: {type: Recreate}`. Where `strategy`
/// is not written, its lines go after `replicas:` (or first in the spec), at
/// the spec's indentation; where `type: RollingUpdate` is written, the value
/// becomes `Recreate` and a `rollingUpdate:` block (which Recreate forbids) is
/// removed; a `rollingUpdate:` block without `type` becomes `type: Recreate`;
/// an empty `strategy:` or `strategy: {}` gets `{type: Recreate}`. `None` when
/// the layout is not plain enough to edit safely.
pub fn deployment_fix(text: &str, spec_key: NodeRef, spec: NodeRef) -> Option<Vec<Edit>> {
    if !fix::direct(text, spec_key, spec) {
        return None;
    }
    match fix::written(spec, "strategy")? {
        None => {
            let (at, col) = match fix::written(spec, "replicas")? {
                Some((k, v)) => {
                    let lines = fix::entry_lines(text, k, v, false)?;
                    (lines.end, lines.column)
                }
                None => fix::block_start(text, spec_key, spec)?,
            };
            let step = col.checked_sub(fix::column(text, spec_key.span().start as usize))?;
            if step == 0 {
                return None;
            }
            let kind = format!("{}type: Recreate", " ".repeat(step));
            Some(vec![fix::insert_lines(
                text,
                at,
                col,
                &["strategy:", &kind],
            )])
        }
        Some((skey, strategy)) => {
            if !fix::direct(text, skey, strategy) {
                return None;
            }
            // `strategy:` with nothing, or `strategy: {}` (as Helm renders it).
            if strategy.is_null() {
                let edit = fix::set_empty_value(text, skey, strategy, "{type: Recreate}")?;
                return Some(vec![edit]);
            }
            let span = strategy.span();
            if text.get(span.start as usize..span.end as usize) == Some("{}") {
                let replacement = "{type: Recreate}".to_string();
                return Some(vec![Edit { span, replacement }]);
            }
            let rolling = fix::written(strategy, "rollingUpdate")?;
            let Some((tkey, kind)) = fix::written(strategy, "type")? else {
                // Only `rollingUpdate:`: it becomes `type: Recreate`.
                let (rkey, rolling) = rolling?;
                let edit = fix::replace_entry(text, rkey, rolling, &["type: Recreate"])?;
                return Some(vec![edit]);
            };
            if !fix::direct(text, tkey, kind) {
                return None;
            }
            let mut edits = vec![fix::replace_scalar(
                text,
                kind,
                "RollingUpdate",
                "Recreate",
            )?];
            if let Some((rkey, rolling)) = rolling {
                edits.push(fix::remove_entry(text, rkey, rolling, false)?);
            }
            Some(edits)
        }
    }
}

/// The fix for an app-template controller: `strategy: Recreate`, and its
/// `rollingUpdate:` block removed.
pub fn controller_fix(text: &str, ckey: NodeRef, c: NodeRef) -> Option<Vec<Edit>> {
    if !fix::direct(text, ckey, c) {
        return None;
    }
    let (skey, strategy) = fix::written(c, "strategy")??;
    if !fix::direct(text, skey, strategy) {
        return None;
    }
    let mut edits = vec![fix::replace_scalar(
        text,
        strategy,
        "RollingUpdate",
        "Recreate",
    )?];
    if let Some((rkey, rolling)) = fix::written(c, "rollingUpdate")? {
        edits.push(fix::remove_entry(text, rkey, rolling, false)?);
    }
    Some(edits)
}
