//! A talhelper patch `@./file.yaml` that names no file: `talhelper genconfig`
//! stops at it, and no node config is written.

use std::collections::BTreeSet;

use crate::diagnostic::Severity;
use crate::model::TalhelperPatch;
use crate::rules::{Ctx, Rule};

pub static RULE: Rule = Rule {
    id: "talos/talhelper-patch-exists",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "a talhelper `@file` patch names a file that does not exist",
    page: include_str!("../../../lints/talos/talhelper-patch-exists.md"),
    check: Some(check),
};

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // A global or group patch is listed once for many nodes: report it once.
    let mut seen = BTreeSet::new();
    for node in repo.talhelper_nodes() {
        let file = node.config.file;
        if !ctx.wants(file) {
            continue;
        }
        for patch in &node.patches {
            let TalhelperPatch::Missing { entry, path } = patch else {
                continue;
            };
            if !seen.insert(entry.span().start) {
                continue;
            }
            let written = entry.as_str().unwrap_or_default().trim();
            ctx.report(
                file,
                entry.span(),
                format!("talhelper patch `{written}` names `{path}`, which does not exist: `talhelper genconfig` fails to read it and writes no config"),
            )
            .help("fix the path (it is read from the directory of `talconfig.yaml`), or remove the entry");
        }
    }
}
