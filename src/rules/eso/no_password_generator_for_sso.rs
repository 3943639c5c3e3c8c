use std::collections::HashSet;

use regex::Regex;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Instance, ObjectId, Repository};
use crate::rules::{Ctx, Rule};

use super::names::{Class, classify, references};
use crate::yaml::NodeRef;

pub static RULE: Rule = Rule {
    id: "eso/no-password-generator-for-sso",
    severity: Severity::Error,
    enabled: true,
    needs_repository: true,
    summary: "an ExternalSecret fills an SSO/OIDC client credential from an ESO `Password` generator",
    page: include_str!("../../../lints/eso/no-password-generator-for-sso.md"),
    check: Some(check),
};

const GENERATORS: &str = "generators.external-secrets.io";

fn check(ctx: &mut Ctx) {
    let repo = ctx.repo;
    let mut seen = HashSet::new();
    // Findings are the ExternalSecrets': none is wanted of a file not reported on.
    for (id, obj) in ctx.objects("external-secrets.io", "ExternalSecret") {
        let node = repo.object_node(id);
        let Some(spec) = node.get("spec") else {
            continue;
        };
        for inst in repo.instances(id) {
            for entry in spec.get("dataFrom").into_iter().flat_map(|d| d.items()) {
                let Some(gen_ref) = entry.path(&["sourceRef", "generatorRef"]) else {
                    continue;
                };
                let Some((kind_key, kind)) = gen_ref.entry("kind") else {
                    continue;
                };
                if !seen.insert((obj.file, kind_key.span())) {
                    continue;
                }
                let Some(finding) = judge(repo, id, inst, spec, entry, gen_ref, kind) else {
                    seen.remove(&(obj.file, kind_key.span()));
                    continue;
                };
                ctx.push(diagnostic(repo, id, spec, kind_key, &finding));
            }
        }
    }
}

/// Why an ExternalSecret's generated value is an SSO client credential.
struct Finding {
    /// What names the credential: "key `OIDC_CLIENT_SECRET`", "name `harbor-oidc`".
    evidence: String,
    /// "`Password` generator `x`" or "`ClusterGenerator` `x` (of kind `Password`)".
    generator: String,
}

fn judge(
    repo: &Repository,
    es: ObjectId,
    inst: &Instance,
    spec: NodeRef,
    entry: NodeRef,
    gen_ref: NodeRef,
    kind: NodeRef,
) -> Option<Finding> {
    let gen_name = gen_ref.str_at(&["name"]);
    let gen_shown = gen_name.map(|g| repo.render(inst, g).unwrap_or_else(|| g.to_string()));
    let shown = gen_shown.as_deref().unwrap_or("?");
    let (password_spec, generator) = match kind.as_str()? {
        "Password" => {
            let obj = find_generator(
                repo,
                "Password",
                gen_shown.as_deref(),
                inst.namespace.as_deref(),
            );
            (
                obj.and_then(|o| repo.object_node(o).get("spec")),
                format!("`Password` generator `{shown}`"),
            )
        }
        "ClusterGenerator" => {
            // Its kind is known only when the ClusterGenerator is in the repository.
            let obj = find_generator(repo, "ClusterGenerator", gen_shown.as_deref(), None)?;
            let cg = repo.object_node(obj).get("spec")?;
            if cg.str_at(&["kind"]) != Some("Password") {
                return None;
            }
            (
                cg.path(&["generator", "passwordSpec"]),
                format!("`ClusterGenerator` `{shown}` (of kind `Password`)"),
            )
        }
        _ => return None,
    };

    // The keys the generator writes, after this entry's rewrites (`None`: unknown).
    let mut generated: Option<Vec<String>> =
        Some(match password_spec.and_then(|s| s.get("secretKeys")) {
            Some(keys) if keys.is_seq() => keys
                .items()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect(),
            _ => vec!["password".to_string()],
        });
    let mut rewrite_targets = Vec::new();
    for rewrite in entry.get("rewrite").into_iter().flat_map(|r| r.items()) {
        if let Some(re) = rewrite.get("regexp") {
            let (Some(source), Some(target)) = (re.str_at(&["source"]), re.str_at(&["target"]))
            else {
                generated = None;
                continue;
            };
            rewrite_targets.push(target.to_string());
            match Regex::new(source) {
                Ok(re) => {
                    if let Some(keys) = &mut generated {
                        for k in keys.iter_mut() {
                            *k = re.replace_all(k, target).into_owned();
                        }
                    }
                }
                Err(_) => generated = None,
            }
        } else {
            generated = None; // a template transform: the keys are not known
        }
    }

    // The Secret keys the generated value flows into.
    let template = spec.path(&["target", "template"]);
    let template_data = template.and_then(|t| t.get("data")).filter(|d| d.is_map());
    let merge = template.and_then(|t| t.str_at(&["mergePolicy"])) == Some("Merge");
    let flow: Vec<String> = match (&generated, template_data) {
        (Some(keys), Some(data)) => {
            let mut fed: Vec<String> = data
                .entries()
                .filter(|(_, v)| {
                    v.as_str()
                        .is_some_and(|v| keys.iter().any(|k| references(v, k)))
                })
                .filter_map(|(k, _)| k.as_str().map(str::to_string))
                .collect();
            if fed.is_empty() {
                // Used in a way this rule does not follow: every key may hold it.
                fed = data
                    .entries()
                    .filter_map(|(k, _)| k.as_str().map(str::to_string))
                    .collect();
                fed.extend(keys.iter().cloned());
            } else if merge {
                fed.extend(keys.iter().cloned());
            }
            fed
        }
        (Some(keys), None) => keys.clone(),
        (None, Some(data)) => data
            .entries()
            .filter_map(|(k, _)| k.as_str().map(str::to_string))
            .collect(),
        (None, None) => rewrite_targets,
    };

    let found = |evidence: String| {
        Some(Finding {
            evidence,
            generator: generator.clone(),
        })
    };
    let classes: Vec<(Class, &String)> = flow.iter().map(|k| (classify(k), k)).collect();
    if let Some((_, key)) = classes
        .iter()
        .find(|(c, _)| matches!(c, Class::Credential | Class::Sso))
    {
        return found(format!("the key `{key}`"));
    }
    if classes
        .iter()
        .any(|(c, _)| matches!(c, Class::AppOnly | Class::Other))
    {
        return None; // the keys say what the value is, and it is not an SSO credential
    }

    // The keys say nothing (`password`): the names decide.
    let es_name = inst
        .name
        .as_deref()
        .or(repo.objects[es].name.as_deref())
        .unwrap_or_default()
        .to_string();
    let target = spec
        .str_at(&["target", "name"])
        .map(|t| repo.render(inst, t).unwrap_or_else(|| t.to_string()));
    let mut names = vec![(
        format!("the ExternalSecret's name `{es_name}`"),
        es_name.clone(),
    )];
    if let Some(t) = target {
        names.push((format!("the target Secret `{t}`"), t));
    }
    if let Some(g) = gen_shown {
        names.push((format!("the generator's name `{g}`"), g));
    }
    let named = |want: fn(&Class) -> bool| names.iter().find(|(_, n)| want(&classify(n)));
    if let Some((shown, _)) = named(|c| matches!(c, Class::Credential)) {
        return found(shown.clone());
    }
    if named(|c| matches!(c, Class::AppOnly)).is_some() {
        return None; // e.g. an `oauth2-proxy-cookie` generator
    }
    named(|c| matches!(c, Class::Sso)).and_then(|(shown, _)| found(shown.clone()))
}

fn diagnostic(
    repo: &Repository,
    es: ObjectId,
    spec: NodeRef,
    kind_key: NodeRef,
    f: &Finding,
) -> Diagnostic {
    let created_once = spec.str_at(&["refreshPolicy"]) == Some("CreatedOnce");
    let minted = if created_once {
        "mints a value of its own (once here, with `refreshPolicy: CreatedOnce`)"
    } else {
        "mints a value of its own, and a new one at every refresh (unless `refreshPolicy: CreatedOnce`)"
    };
    Diagnostic::new(
        RULE.id,
        Severity::Error,
        repo.objects[es].file,
        kind_key.span(),
        format!(
            "this ExternalSecret fills an SSO/OIDC client credential ({}) from the {}: the generator {minted}, independent of the one the identity provider holds, so the app and the provider disagree and logins fail with invalid client credentials",
            f.evidence, f.generator
        ),
    )
    .help(
        "read the credential from the store the identity provider's configuration writes: a `secretStoreRef` with `data[].remoteRef` (or `dataFrom[].extract`) on the secret the provider's client configuration uses, for example the Vault path Terraform writes the client secret to",
    )
}

/// A generator object of `kind` named `name`, in `namespace` when one is given
/// and found there, else anywhere in the repository.
fn find_generator(
    repo: &Repository,
    kind: &str,
    name: Option<&str>,
    namespace: Option<&str>,
) -> Option<ObjectId> {
    let name = name?;
    let candidates: Vec<ObjectId> = repo
        .of_kind(kind)
        .filter(|(id, o)| {
            o.group() == GENERATORS && repo.instances(*id).any(|i| i.name.as_deref() == Some(name))
        })
        .map(|(id, _)| id)
        .collect();
    candidates
        .iter()
        .copied()
        .find(|&id| {
            namespace.is_some()
                && repo
                    .instances(id)
                    .any(|i| i.namespace.as_deref() == namespace)
        })
        .or(candidates.first().copied())
}
