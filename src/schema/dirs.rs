//! Schema directories named in the configuration, in the layouts kubeconform
//! and the CRDs catalog use: `{group}/{kind}_{version}.json` and
//! `{kind}-{group}-{version}.json` (group cut to its first label, none for the
//! core group). Files are indexed by name; only those the repository needs are
//! read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

#[derive(Debug, Default, Clone)]
pub struct SchemaDirs {
    /// (group, lowercase kind, version) -> file, first directory first.
    files: HashMap<(String, String, String), PathBuf>,
}

impl SchemaDirs {
    /// Indexes the directories; an unreadable directory is an error.
    pub fn index(dirs: &[PathBuf]) -> Result<SchemaDirs, String> {
        let mut out = SchemaDirs::default();
        for dir in dirs {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| format!("schema directory {}: {e}", dir.display()))?;
            let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
            paths.sort();
            for path in paths {
                if path.is_dir() {
                    let group = file_name(&path);
                    let mut inner: Vec<PathBuf> = std::fs::read_dir(&path)
                        .map_err(|e| format!("schema directory {}: {e}", path.display()))?
                        .filter_map(|e| Some(e.ok()?.path()))
                        .collect();
                    inner.sort();
                    for file in inner {
                        if let Some((kind, version)) = catalog_name(&file) {
                            out.files
                                .entry((group.clone(), kind, version))
                                .or_insert(file);
                        }
                    }
                } else if let Some(key) = kubeconform_name(&path) {
                    out.files.entry(key).or_insert(path);
                }
            }
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The file for `apiVersion`/`kind`, in either layout.
    pub fn find(&self, api_version: &str, kind: &str) -> Option<&Path> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let kind = kind.to_ascii_lowercase();
        let short = group.split('.').next().unwrap_or("");
        [group, short].iter().find_map(|g| {
            self.files
                .get(&(g.to_string(), kind.clone(), version.to_string()))
                .map(PathBuf::as_path)
        })
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `helmrelease_v2.json` -> (helmrelease, v2).
fn catalog_name(path: &Path) -> Option<(String, String)> {
    let stem = file_name(path).strip_suffix(".json")?.to_string();
    let (kind, version) = stem.rsplit_once('_')?;
    Some((kind.to_ascii_lowercase(), version.to_string()))
}

/// `deployment-apps-v1.json` -> (apps, deployment, v1); `service-v1.json` ->
/// ("", service, v1).
fn kubeconform_name(path: &Path) -> Option<(String, String, String)> {
    let stem = file_name(path).strip_suffix(".json")?.to_string();
    let parts: Vec<&str> = stem.split('-').collect();
    match parts[..] {
        [kind, version] => Some((String::new(), kind.to_ascii_lowercase(), version.into())),
        [kind, group, version] => Some((group.into(), kind.to_ascii_lowercase(), version.into())),
        _ => None,
    }
}

/// Reads one schema file and makes it self-contained: references into a
/// sibling `_definitions.json` (kubeconform's non-standalone flavour) are
/// inlined; any other reference outside the file is refused, never fetched.
pub fn load(path: &Path) -> Result<Value, String> {
    let read = |p: &Path| -> Result<Value, String> {
        let text = crate::walk::read_text(p, super::MAX_SCHEMA_BYTES)
            .map_err(|e| format!("schema file {}: {e}", p.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("schema file {}: {e}", p.display()))
    };
    let mut schema = read(path)?;
    let mut external = Vec::new();
    collect_external(&schema, &mut external);
    if external.is_empty() {
        return Ok(schema);
    }
    if let Some(bad) = external.iter().find(|r| !r.contains("_definitions.json#")) {
        return Err(format!(
            "schema file {}: refers to `{bad}` outside the file; use self-contained (standalone) schemas",
            path.display()
        ));
    }
    let defs_path = path.with_file_name("_definitions.json");
    let defs = read(&defs_path)?;
    rewrite(&mut schema);
    if let (Value::Object(root), Some(Value::Object(d))) = (&mut schema, defs.get("definitions")) {
        let target = root
            .entry("definitions")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(t) = target {
            for (k, v) in d {
                let mut v = v.clone();
                rewrite(&mut v);
                t.entry(k.clone()).or_insert(v);
            }
        }
    }
    Ok(schema)
}

fn collect_external(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::String(r) if k == "$ref" && !r.starts_with('#') => out.push(r.clone()),
                    _ => collect_external(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_external(v, out)),
        _ => {}
    }
}

fn rewrite(value: &mut Value) {
    match value {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                match v {
                    Value::String(r) if k == "$ref" => {
                        if let Some(i) = r.find("_definitions.json#") {
                            *r = r[i + "_definitions.json".len()..].to_string();
                        }
                    }
                    _ => rewrite(v),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let g = dir.path().join("helm.toolkit.fluxcd.io");
        std::fs::create_dir(&g).unwrap();
        std::fs::write(g.join("helmrelease_v2.json"), "{}").unwrap();
        std::fs::write(dir.path().join("deployment-apps-v1.json"), "{}").unwrap();
        std::fs::write(dir.path().join("service-v1.json"), "{}").unwrap();
        let d = SchemaDirs::index(&[dir.path().to_path_buf()]).unwrap();
        assert!(d.find("helm.toolkit.fluxcd.io/v2", "HelmRelease").is_some());
        assert!(d.find("apps/v1", "Deployment").is_some());
        assert!(d.find("v1", "Service").is_some());
        assert!(d.find("v1", "Pod").is_none());
        assert!(SchemaDirs::index(&[dir.path().join("missing")]).is_err());
    }

    #[test]
    fn definitions_are_inlined_and_other_references_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("_definitions.json"),
            r##"{"definitions": {"x": {"type": "string"}}}"##,
        )
        .unwrap();
        let ok = dir.path().join("a-v1.json");
        std::fs::write(
            &ok,
            r##"{"properties": {"a": {"$ref": "_definitions.json#/definitions/x"}}}"##,
        )
        .unwrap();
        let s = load(&ok).unwrap();
        assert_eq!(s["properties"]["a"]["$ref"], "#/definitions/x");
        assert_eq!(s["definitions"]["x"]["type"], "string");
        let bad = dir.path().join("b-v1.json");
        std::fs::write(&bad, r##"{"$ref": "https://example.com/s.json"}"##).unwrap();
        assert!(load(&bad).unwrap_err().contains("outside the file"));
    }
}
