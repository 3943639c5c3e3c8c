//! Schema validation never reaches the network: the same findings come out of
//! a run inside an empty network namespace (`unshare --net`), the built-in
//! CRDs catalog included, and a schema file that refers outside itself is
//! refused with its path.

use std::fs;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_gitops-lint");

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  strateg:\n    type: Recreate\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: \"nginx:1.27\"}]\n",
    )
    .unwrap();
    // No CRD in the repository: only the built-in CRDs catalog knows it.
    fs::write(
        dir.path().join("externalsecret.yaml"),
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: web\nspec:\n  refreshIntervall: 1h\n  secretStoreRef: {kind: ClusterSecretStore, name: vault}\n  target:\n    creationPolicy: Ownr\n",
    )
    .unwrap();
    dir
}

const CATALOG_FIELD: &str = "externalsecret.yaml:6:3: error[schema/unknown-field] `spec.refreshIntervall` is not a field of ExternalSecret (by the built-in CRDs catalog schema external-secrets.io/externalsecret_v1)";
const CATALOG_ENUM: &str = "externalsecret.yaml:9:21: error[schema/invalid-value] `spec.target.creationPolicy`: \"Ownr\" is not one of `Owner`, `Orphan`, `Merge`, `None` (by the built-in CRDs catalog schema external-secrets.io/externalsecret_v1)";

fn check(dir: &Path, prefix: &[&str]) -> Option<(i32, String)> {
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(BIN);
            c
        }
        None => Command::new(BIN),
    };
    let out = cmd
        .args(["check", "--format", "compact", "--select", "schema/"])
        .arg(dir)
        .output()
        .ok()?;
    Some((
        out.status.code()?,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn the_same_findings_without_a_network() {
    let dir = repo();
    let (status, normal) = check(dir.path(), &[]).unwrap();
    assert_eq!(status, 1, "{normal}");
    assert!(
        normal.contains("deploy.yaml:6:3: error[schema/unknown-field] `spec.strateg`"),
        "{normal}"
    );
    assert!(normal.contains(CATALOG_FIELD), "{normal}");
    assert!(normal.contains(CATALOG_ENUM), "{normal}");
    // Root may enter a new network namespace directly; others map themselves to root first.
    let usable = |args: &[&str]| {
        Command::new(args[0])
            .args(&args[1..])
            .arg("true")
            .status()
            .is_ok_and(|s| s.success())
    };
    let prefix: &[&str] = if usable(&["unshare", "--net"]) {
        &["unshare", "--net"]
    } else if usable(&["unshare", "--net", "--map-root-user"]) {
        &["unshare", "--net", "--map-root-user"]
    } else {
        eprintln!("skipped: `unshare --net` is not permitted here");
        return;
    };
    let (status, offline) = check(dir.path(), prefix).unwrap();
    assert_eq!((status, offline), (1, normal));
}

#[test]
fn a_schema_that_refers_outside_itself_is_refused() {
    let dir = repo();
    let schemas = dir.path().join("schemas");
    fs::create_dir(&schemas).unwrap();
    fs::write(
        schemas.join("deployment-apps-v1.json"),
        r#"{"$ref": "https://kubernetesjsonschema.dev/master/deployment.json"}"#,
    )
    .unwrap();
    fs::write(dir.path().join(".gitops-lint.yaml"), "schemas: [schemas]\n").unwrap();
    let out = Command::new(BIN)
        .args(["check", "--format", "compact"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("deployment-apps-v1.json"), "{stderr}");
    assert!(stderr.contains("outside the file"), "{stderr}");
}

#[test]
fn a_configured_directory_overrides_the_built_in_schema() {
    let dir = repo();
    let schemas = dir.path().join("schemas");
    fs::create_dir(&schemas).unwrap();
    // A schema that knows `strateg` and requires `paused`.
    fs::write(
        schemas.join("deployment-apps-v1.json"),
        r#"{"type": "object", "properties": {"spec": {"type": "object", "required": ["paused"]}}}"#,
    )
    .unwrap();
    fs::write(
        dir.path().join(".gitops-lint.yaml"),
        "schemas:\n  paths: [schemas]\n",
    )
    .unwrap();
    let (status, out) = check(dir.path(), &[]).unwrap();
    assert_eq!(status, 1, "{out}");
    assert!(!out.contains("strateg"), "{out}");
    assert!(out.contains("deploy.yaml:5:1: error[schema/invalid-value] `spec` of Deployment is missing the required field `paused` (by the schema "), "{out}");
}

#[test]
fn the_official_talos_schema_can_replace_the_built_in_one() {
    let official = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/schemas/talos-config.schema.json");
    if !official.exists() {
        eprintln!("skipped: {} is not beside the project", official.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("link.yaml"),
        "apiVersion: v1alpha1\nkind: LinkConfig\nname: enp1s0\nmtuu: 9000\n",
    )
    .unwrap();
    let (status, out) = check(dir.path(), &[]).unwrap();
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("link.yaml:4:1: error[schema/unknown-field] `mtuu` is not a field of LinkConfig (by the built-in Talos schema)"),
        "{out}"
    );
    fs::write(
        dir.path().join(".gitops-lint.yaml"),
        format!("schemas:\n  talos: {}\n", official.display()),
    )
    .unwrap();
    let (status, out) = check(dir.path(), &[]).unwrap();
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("link.yaml:4:1: error[schema/unknown-field] `mtuu` is not a field of LinkConfig (by the Talos schema "),
        "{out}"
    );
    // A file that is not a Talos schema is a configuration error.
    fs::write(dir.path().join("bad.json"), "{}").unwrap();
    fs::write(
        dir.path().join(".gitops-lint.yaml"),
        "schemas: {talos: bad.json}\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("check")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".gitops-lint.yaml:1:18: Talos schema"));
}

#[test]
fn the_catalog_suggests_the_closest_field_and_can_be_turned_off() {
    let dir = repo();
    let out = Command::new(BIN)
        .args(["check", "--format", "json", "--select", "schema/"])
        .arg(dir.path())
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(json.contains("did you mean `refreshInterval`?"), "{json}");
    assert!(json.contains("did you mean `Owner`?"), "{json}");

    // `schemas.catalog: false`: the ExternalSecret has no schema any more;
    // the built-in Kubernetes schemas still apply.
    fs::write(
        dir.path().join(".gitops-lint.yaml"),
        "schemas:\n  catalog: false\n",
    )
    .unwrap();
    let (status, out) = check(dir.path(), &[]).unwrap();
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("`spec.strateg`"), "{out}");
    assert!(!out.contains("refreshIntervall"), "{out}");
    assert!(!out.contains("Ownr"), "{out}");
    // `--select schema/` turns on `schema/unknown-kind`, off by default.
    assert!(
        out.contains("externalsecret.yaml:2:7: info[schema/unknown-kind] no schema is known for `external-secrets.io/v1 ExternalSecret`"),
        "{out}"
    );
}

#[test]
fn a_configured_directory_overrides_the_catalog() {
    let dir = repo();
    let group = dir.path().join("schemas/external-secrets.io");
    fs::create_dir_all(&group).unwrap();
    fs::write(
        group.join("externalsecret_v1.json"),
        r#"{"type": "object", "properties": {"spec": {"type": "object", "required": ["data"]}}}"#,
    )
    .unwrap();
    fs::write(dir.path().join(".gitops-lint.yaml"), "schemas: [schemas]\n").unwrap();
    let (status, out) = check(dir.path(), &[]).unwrap();
    assert_eq!(status, 1, "{out}");
    assert!(!out.contains("refreshIntervall"), "{out}");
    assert!(!out.contains("Ownr"), "{out}");
    assert!(
        out.contains("externalsecret.yaml:5:1: error[schema/invalid-value] `spec` of ExternalSecret is missing the required field `data` (by the schema "),
        "{out}"
    );
}
