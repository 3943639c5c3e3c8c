//! The human form of an explanation and of the tree.

use std::fmt::Write;

use super::{Build, Explanation, FluxRef, FluxReport, Reason, Tree, TreeNode, label};

fn flux_label(r: &FluxRef) -> String {
    label(r.namespace.as_deref(), r.name.as_deref())
}

fn reason_text(r: &Reason) -> String {
    let mut text = r.message.clone();
    if let Some(b) = &r.because {
        text.push_str(", because ");
        text.push_str(&reason_text(b));
    }
    text
}

pub fn render_human(e: &Explanation) -> String {
    let mut out = String::new();
    for (i, f) in e.files.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let state = match (f.deployed, &f.not_deployed) {
            (_, Some(r)) => format!("not deployed: {}", reason_text(r)),
            (Some(true), None) => "deployed".to_string(),
            (Some(false), None) => "not deployed".to_string(),
            (None, None) => "no object".to_string(),
        };
        let _ = writeln!(out, "{}: {state}", f.path);
        for o in &f.objects {
            let _ = writeln!(
                out,
                "  {} {} (line {})",
                o.kind,
                label(o.namespace.as_deref(), o.name.as_deref()),
                o.line
            );
            if o.sync_root {
                let _ = writeln!(out, "    a sync root: Flux's bootstrap applies it");
            } else if o.builds.is_empty() {
                let _ = writeln!(out, "    no build produces it");
            }
            for (n, b) in o.builds.iter().enumerate() {
                build(&mut out, b, n + 1, o.builds.len());
            }
            if let Some(fr) = &o.flux_kustomization {
                flux(&mut out, fr);
            }
        }
    }
    out
}

fn build(out: &mut String, b: &Build, n: usize, of: usize) {
    let by = match &b.flux {
        Some(f) => format!("Flux Kustomization {}", flux_label(f)),
        None => "kustomize build (no Flux Kustomization)".to_string(),
    };
    let cluster = match &b.cluster {
        Some(c) => format!(", cluster {} ({}:{})", flux_label(c), c.path, c.line),
        None => String::new(),
    };
    let applied = if b.applied { "" } else { ", not applied" };
    let head = if of > 1 {
        format!("build {n} of {of}: ")
    } else {
        String::new()
    };
    let _ = writeln!(out, "    {head}{by}{cluster}{applied}");
    let _ = writeln!(
        out,
        "      name: {}",
        b.name.as_deref().unwrap_or("(unknown)")
    );
    let _ = writeln!(
        out,
        "      namespace: {}",
        b.namespace.as_deref().unwrap_or("(none)")
    );
    if !b.chain.is_empty() {
        let _ = writeln!(out, "      chain:");
        for s in &b.chain {
            let what = match s.step {
                "flux-kustomization" => format!("Flux Kustomization {}", s.text),
                "kustomization" => format!("kustomization {}", s.text),
                "component" => format!("components: {}", s.text),
                _ => format!("resources: {}", s.text),
            };
            let _ = writeln!(out, "        {}:{}  {what}", s.path, s.line);
        }
    }
    if !b.variables.is_empty() || b.variables_open {
        let _ = writeln!(out, "      variables:");
        for v in &b.variables {
            let value = v.value.as_deref().unwrap_or("(unknown)");
            let mut whence = v.source.to_string();
            if let Some(from) = &v.from {
                whence.push(' ');
                whence.push_str(from);
            }
            if let Some(at) = &v.at {
                let _ = write!(whence, ", {}:{}", at.path, at.line);
            }
            let used = if v.used { "  [used]" } else { "" };
            let _ = writeln!(out, "        {} = {value}  ({whence}){used}", v.name);
        }
        if b.variables_open {
            let _ = writeln!(
                out,
                "        (more may come from a source not readable here)"
            );
        }
    }
    if !b.substitute_from.is_empty() {
        let _ = writeln!(out, "      substituteFrom:");
        for s in &b.substitute_from {
            let status = match s.status {
                "readable" => "read here",
                "unreadable" => "values unknown here",
                _ if s.optional => "not in the repository (optional)",
                _ => "not in the repository",
            };
            let at: Vec<String> =
                s.at.iter()
                    .map(|p| format!("{}:{}", p.path, p.line))
                    .collect();
            let at = if at.is_empty() {
                String::new()
            } else {
                format!("  {}", at.join(", "))
            };
            let _ = writeln!(
                out,
                "        {}/{}: {status}{at}",
                s.kind,
                s.name.as_deref().unwrap_or("(unknown)")
            );
        }
    }
    if !b.patches.is_empty() {
        let _ = writeln!(out, "      patches:");
        for p in &b.patches {
            let at = p.at.as_ref().map_or_else(
                || "(in a parent's patch)".to_string(),
                |a| format!("{}:{}", a.path, a.line),
            );
            let maybe = if p.certain { "" } else { " (may apply)" };
            let _ = writeln!(out, "        {at}  of {}{maybe}", flux_label(&p.by));
        }
    }
    if !b.components.is_empty() {
        let _ = writeln!(out, "      components:");
        for c in &b.components {
            let _ = writeln!(out, "        {}:{}  {}", c.path, c.line, c.text);
        }
    }
}

fn flux(out: &mut String, f: &FluxReport) {
    let _ = writeln!(out, "    as a Flux Kustomization:");
    let _ = writeln!(
        out,
        "      path: {}{}",
        f.path.as_deref().unwrap_or("(another source)"),
        if f.applied { "" } else { " (not applied)" }
    );
    if f.builds.is_empty() {
        let _ = writeln!(out, "      builds: nothing here");
    } else {
        let counts: Vec<String> = f.builds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(out, "      builds: {}", counts.join(", "));
    }
    if !f.spec.is_empty() {
        let _ = writeln!(out, "      effective spec:");
        for s in &f.spec {
            let value = s
                .value
                .as_ref()
                .map_or_else(|| "(unknown)".to_string(), |v| v.to_string());
            let _ = writeln!(out, "        {} = {value}  ({})", s.field, s.source);
        }
    }
    if !f.depends_on.is_empty() {
        let _ = writeln!(out, "      depends on:");
        for d in &f.depends_on {
            let found: Vec<String> = d
                .found
                .iter()
                .map(|r| format!("{}:{}", r.path, r.line))
                .collect();
            let found = if found.is_empty() {
                "not in the repository".to_string()
            } else {
                found.join(", ")
            };
            let _ = writeln!(
                out,
                "        {}  ({found})",
                label(d.namespace.as_deref(), Some(&d.name))
            );
        }
    }
    if !f.dependents.is_empty() {
        let _ = writeln!(out, "      needed by:");
        for d in &f.dependents {
            let _ = writeln!(out, "        {}  ({}:{})", flux_label(d), d.path, d.line);
        }
    }
}

pub fn render_tree_human(t: &Tree) -> String {
    let mut out = String::new();
    for r in &t.roots {
        node(&mut out, r, "", None);
    }
    if !t.kustomize_roots.is_empty() {
        if !t.roots.is_empty() {
            out.push('\n');
        }
        for k in &t.kustomize_roots {
            let state = if k.deployed { "" } else { "  (not applied)" };
            let _ = writeln!(out, "kustomization {}{state}", k.path);
            for (i, child) in k.kustomizations.iter().enumerate() {
                let last = i + 1 == k.kustomizations.len();
                let _ = writeln!(out, "{}{child}", if last { "└── " } else { "├── " });
            }
        }
    }
    if out.is_empty() {
        out.push_str("no Flux Kustomization and no kustomization\n");
    }
    out
}

/// One Flux Kustomization and what lies below it; `last` says whether it
/// is its parent's last entry (`None`: a root).
fn node(out: &mut String, n: &TreeNode, prefix: &str, last: Option<bool>) {
    let (branch, inner) = match last {
        None => ("", String::new()),
        Some(true) => ("└── ", format!("{prefix}    ")),
        Some(false) => ("├── ", format!("{prefix}│   ")),
    };
    let path = n
        .source_path
        .as_deref()
        .map(|p| if p.is_empty() { "." } else { p })
        .unwrap_or("(another source)");
    let state = if n.applied { "" } else { "  (not applied)" };
    let _ = writeln!(
        out,
        "{prefix}{branch}Kustomization {}  path: {path}  ({}:{}){state}",
        flux_label(&n.flux),
        n.flux.path,
        n.flux.line
    );
    let total = n.kustomizations.len() + n.children.len();
    for (i, k) in n.kustomizations.iter().enumerate() {
        let last = i + 1 == total;
        let _ = writeln!(out, "{inner}{}{k}", if last { "└── " } else { "├── " });
    }
    for (i, c) in n.children.iter().enumerate() {
        let last = n.kustomizations.len() + i + 1 == total;
        node(out, c, &inner, Some(last));
    }
}
