//! The model's facts on small repositories held in memory.

use std::path::PathBuf;

use super::subst::Lookup;
use super::vars::Value;
use super::{Field, ModelSettings, Repository};
use crate::source::SourceFile;

fn repo(files: &[(&str, &str)]) -> Repository {
    let mut files: Vec<SourceFile> = files
        .iter()
        .map(|(p, t)| SourceFile::from_bytes(p.to_string(), t.as_bytes().to_vec()))
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let settings = ModelSettings {
        schema: crate::schema::SchemaSettings {
            skip: true,
            ..Default::default()
        },
        ..Default::default()
    };
    Repository::new(PathBuf::from("/repo"), files, &settings)
}

fn flux_named(repo: &Repository, name: &str) -> usize {
    repo.flux
        .iter()
        .position(|f| repo.objects[f.object].name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no Flux Kustomization {name}"))
}

fn ks(name: &str, path: &str, extra: &str) -> String {
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 1h\n  prune: true\n  path: {path}\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{extra}"
    )
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n";

/// `cluster-apps` builds `apps/`, which lists two apps; its patches are `extra`.
fn two_apps(parent_extra: &str, child: &str) -> Repository {
    let cluster = ks("cluster-apps", "./apps", parent_extra);
    let a = ks("app-a", "./apps/a/app", child);
    let b = ks("app-b", "./apps/b/app", child);
    repo(&[
        ("flux/cluster/ks.yaml", &cluster),
        (
            "apps/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./a/ks.yaml\n  - ./b/ks.yaml\n",
        ),
        ("apps/a/ks.yaml", &a),
        ("apps/b/ks.yaml", &b),
        ("apps/a/app/cm.yaml", CM),
        ("apps/b/app/cm.yaml", CM),
    ])
}

#[test]
fn a_strategic_merge_patch_of_the_parent_writes_fields_of_the_children_it_selects() {
    let parent = "  patches:\n    - patch: |-\n        apiVersion: kustomize.toolkit.fluxcd.io/v1\n        kind: Kustomization\n        metadata:\n          name: _\n        spec:\n          timeout: 5m\n      target:\n        kind: Kustomization\n        name: app-a\n";
    let r = two_apps(parent, "");
    let (a, b) = (flux_named(&r, "app-a"), flux_named(&r, "app-b"));
    assert_eq!(r.flux[a].parent, Some(flux_named(&r, "cluster-apps")));
    match r.flux_field(a, &["spec", "timeout"]) {
        Field::Patched(Some(n)) => assert_eq!(n.as_str(), Some("5m")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        r.flux_field(b, &["spec", "timeout"]),
        Field::Absent
    ));
    assert!(matches!(
        r.flux_field(b, &["spec", "interval"]),
        Field::Own(_)
    ));
}

#[test]
fn json_6902_operations_and_regular_expressions() {
    let parent = "  patches:\n    - patch: |-\n        - op: add\n          path: /spec/postBuild/substitute/APP\n          value: web\n        - op: remove\n          path: /spec/interval\n      target:\n        kind: Kustomization\n        name: app-.*\n";
    let r = two_apps(parent, "  postBuild:\n    substitute:\n      OWN: x\n");
    let a = flux_named(&r, "app-a");
    // A regular expression the model does not evaluate: the patch may apply.
    assert!(matches!(
        r.flux_field(a, &["spec", "interval"]),
        Field::Unknown
    ));
    let vars = &r.flux[a].vars;
    assert!(
        vars.open,
        "a patch that may write variables leaves them open"
    );
    assert_eq!(vars.get("APP"), Some(&Value::Known("web".into())));
    assert_eq!(vars.get("OWN"), Some(&Value::Known("x".into())));
}

#[test]
fn variables_come_from_substitute_from_and_unreadable_values_are_unknown() {
    let child = "  postBuild:\n    substitute:\n      OWN: x\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-settings\n      - kind: Secret\n        name: cluster-secrets\n";
    let mut files: Vec<(String, String)> = vec![
        ("flux/cluster/ks.yaml".into(), ks("cluster-apps", "./apps", "")),
        (
            "apps/kustomization.yaml".into(),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./a/ks.yaml\n".into(),
        ),
        ("apps/a/ks.yaml".into(), ks("app-a", "./apps/a/app", child)),
        ("apps/a/app/cm.yaml".into(), CM.replace("name: settings", "name: ${NAME}")),
        (
            "flux/vars/settings.yaml".into(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n  namespace: flux-system\ndata:\n  NAME: shared\n  OWN: from-configmap\n".into(),
        ),
        (
            "flux/vars/secrets.sops.yaml".into(),
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-secrets\n  namespace: flux-system\nstringData:\n  TOKEN: ENC[AES256_GCM,data:x,type:str]\nsops:\n  version: 3.9.0\n".into(),
        ),
    ];
    files.sort();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let r = repo(&refs);
    let a = flux_named(&r, "app-a");
    let vars = &r.flux[a].vars;
    assert!(vars.active && !vars.open);
    // `substitute` wins over `substituteFrom`.
    assert_eq!(vars.lookup("OWN"), Lookup::Known("x"));
    assert_eq!(vars.lookup("NAME"), Lookup::Known("shared"));
    assert_eq!(vars.lookup("TOKEN"), Lookup::Unknown);
    assert_eq!(vars.lookup("NOPE"), Lookup::Undefined);
    assert_eq!(vars.render("${TOKEN:=default}"), None);
    assert_eq!(vars.render("${NOPE:=default}").as_deref(), Some("default"));
    // The builds render names with them (a second pass once they are known).
    let cm = r
        .objects
        .iter()
        .position(|o| r.files[o.file].path == "apps/a/app/cm.yaml")
        .unwrap();
    let names: Vec<_> = r.instances(cm).map(|i| i.name.clone()).collect();
    assert_eq!(names, vec![Some("shared".to_string())]);
    // The sources it reads must exist: they count as deployed.
    let settings = r
        .objects
        .iter()
        .position(|o| o.name.as_deref() == Some("cluster-settings"))
        .unwrap();
    assert!(r.deployed(settings));
}

#[test]
fn what_nothing_applies_is_not_deployed() {
    let r = repo(&[
        ("flux/cluster/ks.yaml", &ks("cluster-apps", "./apps", "")),
        (
            "apps/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./a/ks.yaml\n  # - ./b/ks.yaml\n",
        ),
        ("apps/a/ks.yaml", &ks("app-a", "./apps/a/app", "")),
        ("apps/b/ks.yaml", &ks("app-b", "./apps/b/app", "")),
        ("apps/a/app/cm.yaml", CM),
        ("apps/b/app/cm.yaml", CM),
        (".archive/c/ks.yaml", &ks("app-c", "./apps/a/app", "")),
        (
            ".archive/c/app/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./missing.yaml\n",
        ),
    ]);
    let applied = |n: &str| r.flux[flux_named(&r, n)].applied;
    assert!(applied("cluster-apps") && applied("app-a"));
    // Commented out of the kustomization that lists its neighbours.
    assert!(!applied("app-b"));
    // In an archive, outside every tree Flux builds.
    assert!(!applied("app-c"));
    let file = |p: &str| r.file_id(p).unwrap();
    assert_eq!(r.file_deployed(file("apps/a/app/cm.yaml")), Some(true));
    assert_eq!(r.file_deployed(file("apps/b/app/cm.yaml")), Some(false));
    assert_eq!(r.file_deployed(file("apps/b/ks.yaml")), Some(false));
    assert_eq!(
        r.file_deployed(file(".archive/c/app/kustomization.yaml")),
        Some(false)
    );
    assert_eq!(r.file_deployed(file("apps/kustomization.yaml")), Some(true));
}

#[test]
fn a_flux_instance_names_what_is_synced() {
    let instance = "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\nspec:\n  sync:\n    kind: GitRepository\n    url: https://git.example.com/ops.git\n    path: ./clusters/main\n";
    let r = repo(&[
        ("bootstrap/instance.yaml", instance),
        ("clusters/main/apps.yaml", &ks("apps", "./apps", "")),
        ("clusters/old/apps.yaml", &ks("old-apps", "./apps", "")),
        ("apps/cm.yaml", CM),
    ]);
    assert_eq!(r.sync.paths, vec!["clusters/main".to_string()]);
    assert!(r.flux[flux_named(&r, "apps")].applied);
    assert!(!r.flux[flux_named(&r, "old-apps")].applied);
}

#[test]
fn an_artifact_root_is_where_the_paths_that_use_it_resolve() {
    let art = |name: &str, path: &str| {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\nspec:\n  path: {path}\n  sourceRef:\n    kind: OCIRepository\n    name: infra\n"
        )
    };
    let r = repo(&[
        (
            "clusters/main/infra.yaml",
            &format!(
                "{}---\n{}",
                art("controllers", "./controllers"),
                art("configs", "./configs")
            ),
        ),
        ("infrastructure/controllers/cm.yaml", CM),
        ("infrastructure/configs/cm.yaml", CM),
        ("other/controllers/cm.yaml", CM),
    ]);
    let c = flux_named(&r, "controllers");
    assert_eq!(r.flux[c].source_root.as_deref(), Some("infrastructure"));
    assert_eq!(
        r.flux[c].path.as_deref(),
        Some("infrastructure/controllers")
    );
}
