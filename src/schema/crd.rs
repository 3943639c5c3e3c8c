//! CustomResourceDefinitions committed in the repository become schemas for
//! their group and versions, read the way the API server reads a structural
//! schema: fields a schema does not specify are pruned, so they are reported,
//! unless `x-kubernetes-preserve-unknown-fields` keeps them.

use serde_json::{Map, Value, json};

use crate::yaml::NodeRef;

use super::instance::plain_json;

/// `(apiVersion kind, schema)` for every version of a CRD that has a schema.
pub fn schemas(crd: NodeRef) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let Some(spec) = crd.get("spec") else {
        return out;
    };
    let (Some(group), Some(kind)) = (spec.str_at(&["group"]), spec.str_at(&["names", "kind"]))
    else {
        return out;
    };
    // apiextensions.k8s.io/v1beta1 kept one schema for all versions.
    let shared = spec.path(&["validation", "openAPIV3Schema"]);
    let mut versions: Vec<(String, Option<NodeRef>)> = spec
        .get("versions")
        .into_iter()
        .flat_map(|v| v.items())
        .filter_map(|v| {
            let name = v.str_at(&["name"])?;
            Some((
                name.to_string(),
                v.path(&["schema", "openAPIV3Schema"]).or(shared),
            ))
        })
        .collect();
    if versions.is_empty()
        && let Some(v) = spec.str_at(&["version"])
    {
        versions.push((v.to_string(), shared));
    }
    for (version, schema) in versions {
        let Some(schema) = schema.filter(|s| s.is_map()) else {
            continue;
        };
        let mut root = structural(plain_json(schema), true);
        if let Value::Object(m) = &mut root {
            m.insert(
                "$schema".into(),
                json!("https://json-schema.org/draft/2020-12/schema"),
            );
        }
        out.push((format!("{group}/{version} {kind}"), root));
    }
    out
}

/// Rewrites an OpenAPI v3 structural schema as JSON Schema: objects with
/// `properties` are closed unless they preserve unknown fields, int-or-string
/// accepts both, embedded resources accept `apiVersion`, `kind`, `metadata`.
/// Value-validation branches (`allOf`, `anyOf`, `oneOf`, `not`) are kept as
/// they are: they may name only some fields.
fn structural(schema: Value, top: bool) -> Value {
    let Value::Object(mut m) = schema else {
        return schema;
    };
    let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if m.remove("x-kubernetes-int-or-string") == Some(Value::Bool(true)) {
        m.remove("type");
        m.insert(
            "anyOf".into(),
            json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    if m.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true)) || top {
        let props = m
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(p) = props {
            for (k, t) in [("apiVersion", "string"), ("kind", "string")] {
                p.entry(k).or_insert_with(|| json!({"type": t}));
            }
            // Object metadata is checked against ObjectMeta separately.
            p.insert("metadata".into(), json!({"type": "object"}));
        }
    }
    if m.remove("nullable") == Some(Value::Bool(true))
        && let Some(Value::String(t)) = m.get("type")
    {
        let t = t.clone();
        m.insert("type".into(), json!([t, "null"]));
    }
    if let Some(Value::Object(props)) = m.remove("properties") {
        let props: Map<String, Value> = props
            .into_iter()
            .map(|(k, v)| (k, structural(v, false)))
            .collect();
        m.insert("properties".into(), Value::Object(props));
        if !preserve && !m.contains_key("additionalProperties") {
            m.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    if let Some(items) = m.remove("items") {
        m.insert("items".into(), structural(items, false));
    }
    if let Some(extra) = m.remove("additionalProperties") {
        let extra = match extra {
            Value::Object(_) => structural(extra, false),
            other => other,
        };
        m.insert("additionalProperties".into(), extra);
    }
    // Formats Kubernetes defines (int-or-string, quantity...) are not JSON
    // Schema's; they are annotations here.
    m.remove("format");
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    fn crd(text: &str) -> Vec<(String, Value)> {
        let yaml = parse(text);
        schemas(yaml.documents().next().unwrap())
    }

    #[test]
    fn versions_and_structural_rules() {
        let s = crd(r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  group: example.com
  names: {kind: Widget}
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                port: {x-kubernetes-int-or-string: true}
                extra: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {a: {type: string}}}
                tmpl: {type: object, x-kubernetes-embedded-resource: true, properties: {spec: {type: object}}}
                free: {type: object}
    - name: v2
"#);
        assert_eq!(s.len(), 1, "v2 has no schema");
        let (key, root) = &s[0];
        assert_eq!(key, "example.com/v1 Widget");
        let spec = &root["properties"]["spec"];
        assert_eq!(spec["additionalProperties"], json!(false));
        assert!(spec["properties"]["port"]["anyOf"].is_array());
        assert!(spec["properties"]["extra"]["additionalProperties"].is_null());
        assert!(spec["properties"]["tmpl"]["properties"]["kind"].is_object());
        assert!(spec["properties"]["free"]["additionalProperties"].is_null());
        assert!(root["properties"]["metadata"].is_object());
    }
}
