//! The short form of an explanation, for an editor's hover on an object's
//! `kind` or `metadata.name`.

use std::fmt::Write;

use super::{Ctx, label, object_report};
use crate::diagnostic::FileId;
use crate::model::Repository;

/// Markdown for the object whose `kind` or `metadata.name` value holds the
/// byte `offset` of `file`: what deploys it, under which name and namespace,
/// in which cluster, with which variables (those its text reads). `None`
/// when no such value is there.
pub fn hover(repo: &Repository, file: FileId, offset: u32) -> Option<String> {
    let object = repo.objects_in(file).find(|&o| {
        let node = repo.object_node(o);
        [node.get("kind"), node.path(&["metadata", "name"])]
            .into_iter()
            .flatten()
            .any(|n| n.span().start <= offset && offset <= n.span().end)
    })?;
    let ctx = Ctx {
        repo,
        dependencies: std::cell::OnceCell::new(),
    };
    let report = object_report(&ctx, object);
    let mut out = format!(
        "**{}** `{}`\n",
        report.kind,
        label(report.namespace.as_deref(), report.name.as_deref())
    );
    if !report.deployed {
        let why = repo
            .why_not_deployed(file)
            .map(|w| super::reason(repo, w, &mut Vec::new()).message)
            .unwrap_or_else(|| "no build of a sync root produces it".into());
        let _ = write!(out, "\nNot deployed: {why}\n");
    }
    for b in &report.builds {
        out.push('\n');
        match &b.flux {
            Some(f) => {
                let _ = write!(
                    out,
                    "Deployed by Flux Kustomization `{}` ({}:{})",
                    label(f.namespace.as_deref(), f.name.as_deref()),
                    f.path,
                    f.line
                );
            }
            None => out.push_str("Built by kustomize alone"),
        }
        if let Some(c) = &b.cluster {
            let _ = write!(
                out,
                ", cluster `{}`",
                label(c.namespace.as_deref(), c.name.as_deref())
            );
        }
        if !b.applied {
            out.push_str(" (not applied)");
        }
        out.push_str("\n\n");
        let _ = writeln!(
            out,
            "- name: `{}`",
            b.name.as_deref().unwrap_or("(unknown)")
        );
        let _ = writeln!(
            out,
            "- namespace: `{}`",
            b.namespace.as_deref().unwrap_or("(none)")
        );
        for v in b.variables.iter().filter(|v| v.used) {
            let value = v
                .value
                .as_deref()
                .map_or_else(|| "unknown".to_string(), |v| format!("`{v}`"));
            let from = v.from.as_deref().map_or(String::new(), |f| format!(" {f}"));
            let _ = writeln!(out, "- `${{{}}}` = {value} ({}{from})", v.name, v.source);
        }
    }
    Some(out)
}
