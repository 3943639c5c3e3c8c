use crate::diagnostic::{FileId, Severity};
use crate::model::subst::has_vars;
use crate::model::{FILE_NAMES, Repository};
use crate::rules::{Ctx, Rule};
use crate::yaml::{NodeRef, Span};

pub static RULE: Rule = Rule {
    id: "secrets/plaintext-secret",
    severity: Severity::Error,
    enabled: true,
    needs_repository: false,
    summary: "a Secret with literal `data`/`stringData` that SOPS does not encrypt, or a `*.sops.yaml` file that is not encrypted",
    page: include_str!("../../../lints/secrets/plaintext-secret.md"),
    check: Some(check),
};

const HELP: &str = "encrypt the file with SOPS (`sops --encrypt --in-place`, which adds the `sops:` metadata), or keep the value out of Git: an ExternalSecret, a SealedSecret, or a `${VAR}` placeholder filled by Flux from an encrypted `substituteFrom` Secret";

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    // Files whose name matters are read document by document: a `*.sops.yaml`
    // must be encrypted, and the model takes every document of a
    // kustomization file for its configuration. Elsewhere the model's index
    // of Secrets finds what to read.
    let read_whole = |path: &str| {
        let name = path.rsplit('/').next().unwrap_or("");
        is_sops_name(name) || FILE_NAMES.contains(&name)
    };
    for (file_id, file) in repo.files.iter().enumerate() {
        if repo.wants(file_id) && read_whole(&file.path) {
            check_file(repo, file_id, ctx);
        }
    }
    for (id, obj) in repo.of_kind("Secret") {
        let file = &repo.files[obj.file];
        if obj.api_version == "v1" && repo.wants(obj.file) && !read_whole(&file.path) {
            check_document(repo.object_node(id), obj.file, None, ctx);
        }
    }
}

fn check_file(repo: &Repository, file_id: FileId, ctx: &mut Ctx) {
    let file = &repo.files[file_id];
    let name = file.path.rsplit('/').next().unwrap_or("");
    let sops_named = is_sops_name(name).then_some(name);
    let mut file_reported = false;
    for doc in file.yaml.documents() {
        if check_document(doc, file_id, sops_named, ctx) {
            file_reported |= sops_named.is_some();
            continue;
        }
        if let Some(name) = sops_named
            && !file_reported
            && doc.is_map()
            && doc.entries().next().is_some()
            && !encrypted(doc)
        {
            file_reported = true;
            let at = doc.entries().next().map_or(doc.span(), |(k, _)| k.span());
            ctx.report(file_id,
                    at,
                    format!("`{name}` is named as a SOPS-encrypted file but this document has no `sops:` metadata: it was committed without being encrypted"),
                )
                .help("run `sops --encrypt --in-place` on the file before committing it (and rotate anything it exposed), or rename it if it holds nothing secret");
        }
    }
}

/// Reports a Secret with a literal value; `sops_named` is the file's name when
/// it says SOPS encrypted it. Returns whether it reported.
fn check_document(doc: NodeRef, file_id: FileId, sops_named: Option<&str>, ctx: &mut Ctx) -> bool {
    if !doc.is_map() || doc.entries().next().is_none() || encrypted(doc) {
        return false;
    }
    let Some((key, literal_in_mixed)) = is_secret(doc).then(|| first_literal(doc)).flatten() else {
        return false;
    };
    let secret = doc
        .str_at(&["metadata", "name"])
        .map_or(String::new(), |n| format!(" `{n}`"));
    let mut message = if literal_in_mixed {
        format!(
            "Secret{secret} takes its other values from `${{VAR}}` placeholders, but this one is a literal in plain text: it is committed unencrypted"
        )
    } else {
        format!(
            "Secret{secret} holds literal values in plain text and has no `sops:` metadata: it is committed unencrypted"
        )
    };
    if let Some(name) = sops_named {
        message.push_str(&format!(
            " (the file is named `{name}`, yet SOPS never encrypted it)"
        ));
    }
    ctx.report(file_id, key, message).help(HELP);
    true
}

/// `*.sops.yaml` / `*.sops.yml`; `.sops.yaml` itself is the SOPS configuration.
fn is_sops_name(name: &str) -> bool {
    [".sops.yaml", ".sops.yml"]
        .iter()
        .any(|s| name.len() > s.len() && name.ends_with(s))
}

/// SOPS writes its metadata as a top-level `sops:` mapping of every document it encrypts.
fn encrypted(doc: NodeRef) -> bool {
    doc.get("sops").is_some_and(|s| s.is_map())
}

fn is_secret(doc: NodeRef) -> bool {
    doc.str_at(&["apiVersion"]) == Some("v1") && doc.str_at(&["kind"]) == Some("Secret")
}

/// A value that is not secret material written in Git: a Flux `${VAR}`
/// placeholder, a 1Password reference (`op inject`), a SOPS-encrypted value,
/// or a Flux Operator ResourceSet input.
fn placeholder(v: &str) -> bool {
    has_vars(v) || v.contains("op://") || v.contains("ENC[") || v.contains("<< inputs.")
}

/// Keys whose literal value is a credential even beside placeholders.
fn sensitive_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "private",
        "credential",
        "auth",
        ".dockerconfigjson",
        "tls.key",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// The key of the first literal value of a Secret's `data`/`stringData`, in
/// source order, and whether other values of the Secret are placeholders.
/// When some values are placeholders the author has moved the secret
/// material out of Git, and only a literal under a credential-like key is
/// reported (the rest are settings such as `type: ephemeral`).
fn first_literal(doc: NodeRef) -> Option<(Span, bool)> {
    let mut values: Vec<(NodeRef, NodeRef)> = ["data", "stringData"]
        .iter()
        .filter_map(|k| doc.get(k))
        .flat_map(|m| m.entries())
        .collect();
    values.sort_by_key(|(k, _)| k.span().start);
    let mut templated = false;
    let mut literals = Vec::new();
    for (k, v) in values {
        let Some(text) = v.as_str() else { continue };
        if text.trim().is_empty() {
            continue;
        }
        if placeholder(text) {
            templated = true;
        } else {
            literals.push(k);
        }
    }
    if !templated {
        return literals.first().map(|k| (k.span(), false));
    }
    literals
        .iter()
        .find(|k| k.as_str().is_some_and(sensitive_key))
        .map(|k| (k.span(), true))
}
