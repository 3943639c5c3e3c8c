//! The model's facts on small repositories held in memory.

use std::path::PathBuf;

use super::subst::Lookup;
use super::vars::Value;
use super::{Field, ModelSettings, Repository};
use crate::source::SourceFile;

pub(super) fn repo(files: &[(&str, &str)]) -> Repository {
    let mut files: Vec<SourceFile> = files
        .iter()
        .map(|(p, t)| SourceFile::from_bytes(p.to_string(), t.as_bytes().to_vec()))
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let settings = ModelSettings::default();
    Repository::new(PathBuf::from("/repo"), files, &settings)
}

/// `repo` of files whose paths and texts are made at run time.
fn repo_owned(files: &[(String, String)]) -> Repository {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    repo(&refs)
}

pub(super) fn flux_named(repo: &Repository, name: &str) -> usize {
    repo.flux
        .iter()
        .position(|f| repo.objects[f.object].name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no Flux Kustomization {name}"))
}

pub(super) fn ks(name: &str, path: &str, extra: &str) -> String {
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

/// A strategic merge patch of `cluster-apps` that writes a variable, for
/// the children `target` selects.
fn var_patch(name: &str, value: &str, target: &str) -> String {
    format!(
        "    - patch: |-\n        apiVersion: kustomize.toolkit.fluxcd.io/v1\n        kind: Kustomization\n        metadata:\n          name: _\n        spec:\n          postBuild:\n            substitute:\n              {name}: {value}\n      target:\n        kind: Kustomization\n{target}"
    )
}

#[test]
fn children_a_patch_gives_the_same_variables_share_them_until_a_patch_changes_one() {
    use super::vars::VarOrigin;
    let all = var_patch("CLUSTER", "lab", "");
    let r = two_apps(&format!("  patches:\n{all}"), "");
    let (a, b) = (flux_named(&r, "app-a"), flux_named(&r, "app-b"));
    let parent = flux_named(&r, "cluster-apps");
    let (va, vb) = (&r.flux[a].vars, &r.flux[b].vars);
    assert!(va.shares_substitute(vb));
    assert_eq!(vb.get("CLUSTER"), Some(&Value::Known("lab".into())));
    assert_eq!(
        vb.origin("CLUSTER"),
        Some(&VarOrigin::Patch {
            flux: parent,
            patch: 0
        })
    );
    // A second patch for one child: that child alone gets its variable.
    let one = var_patch("ONLY_A", "yes", "        name: app-a\n");
    let r = two_apps(&format!("  patches:\n{all}{one}"), "");
    let (va, vb) = (&r.flux[a].vars, &r.flux[b].vars);
    assert!(!va.shares_substitute(vb));
    assert_eq!(va.get("ONLY_A"), Some(&Value::Known("yes".into())));
    assert_eq!(vb.get("ONLY_A"), None);
    assert_eq!(va.get("CLUSTER"), vb.get("CLUSTER"));
    assert!(va.defines("CLUSTER") && !vb.defines("ONLY_A"));
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
    let files: Vec<(String, String)> = vec![
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
    let r = repo_owned(&files);
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
    let names: Vec<_> = r.instances(cm).map(|i| i.name.as_deref()).collect();
    assert_eq!(names, vec![Some("shared")]);
    // The sources it reads must exist: they count as deployed.
    let settings = r
        .objects
        .iter()
        .position(|o| o.name.as_deref() == Some("cluster-settings"))
        .unwrap();
    assert!(r.deployed(settings));
}

#[test]
fn references_to_the_same_sources_share_what_they_found() {
    // Two ConfigMaps of one name that no cluster applies: every reference to
    // the name finds both, and the list is held once.
    let child =
        "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: settings\n";
    let r = repo(&[
        ("flux/cluster/ks.yaml", &ks("cluster-apps", "./apps", "")),
        (
            "apps/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./a/ks.yaml\n  - ./b/ks.yaml\n",
        ),
        ("apps/a/ks.yaml", &ks("app-a", "./apps/a/app", child)),
        ("apps/b/ks.yaml", &ks("app-b", "./apps/b/app", child)),
        ("archive/one.yaml", CM),
        ("archive/two.yaml", CM),
    ]);
    let found = |name: &str| {
        let vars = &r.flux[flux_named(&r, name)].vars;
        assert_eq!(vars.from_refs.len(), 1);
        std::sync::Arc::clone(&vars.from_refs[0].found)
    };
    let (a, b) = (found("app-a"), found("app-b"));
    let paths: Vec<&str> = a
        .iter()
        .map(|&(object, readable)| {
            assert!(readable);
            r.files[r.objects[object.expect("held here")].file]
                .path
                .as_str()
        })
        .collect();
    assert_eq!(paths, ["archive/one.yaml", "archive/two.yaml"]);
    assert!(std::sync::Arc::ptr_eq(&a, &b));
}

#[test]
fn sources_are_read_only_as_far_as_they_can_be() {
    // Generators: `literals` are read, `files` and `envs` are not. A Secret's
    // `data` is base64 (unknown), its `stringData` is read.
    let child = "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: generated\n      - kind: Secret\n        name: from-env\n      - kind: Secret\n        name: plain\n";
    let r = repo(&[
        ("flux/cluster/ks.yaml", &ks("cluster-apps", "./apps", "")),
        (
            "apps/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./a/ks.yaml\n",
        ),
        ("apps/a/ks.yaml", &ks("app-a", "./apps/a/app", child)),
        (
            "flux/vars/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n  - name: generated\n    literals:\n      - ZONE=example.org\n      - EMPTY\nsecretGenerator:\n  - name: from-env\n    envs:\n      - ./secret.env\n    literals:\n      - IGNORED=x\n",
        ),
        (
            "flux/vars/plain.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\n  namespace: flux-system\ndata:\n  ENCODED: eA==\nstringData:\n  CLEAR: visible\n  bad-name: x\n",
        ),
    ]);
    let vars = &r.flux[flux_named(&r, "app-a")].vars;
    assert_eq!(vars.lookup("ZONE"), Lookup::Known("example.org"));
    assert_eq!(vars.lookup("EMPTY"), Lookup::Known(""));
    assert_eq!(vars.lookup("ENCODED"), Lookup::Unknown);
    assert_eq!(vars.lookup("CLEAR"), Lookup::Known("visible"));
    // The generator with an env file cannot be read: a name defined nowhere
    // may still have a value, and its literals are not taken alone.
    assert!(vars.open);
    assert_eq!(vars.lookup("IGNORED"), Lookup::Unknown);
    let readable: Vec<Vec<bool>> = vars
        .from_refs
        .iter()
        .map(|f| f.found.iter().map(|&(_, readable)| readable).collect())
        .collect();
    assert_eq!(readable, vec![vec![true], vec![false], vec![true]]);
    // A key Flux rejects as a variable name, with where it is written.
    let invalid: Vec<(&str, &str)> = vars
        .invalid()
        .map(|(name, file, _)| (name.as_str(), r.files[*file].path.as_str()))
        .collect();
    assert_eq!(invalid, vec![("bad-name", "flux/vars/plain.yaml")]);
    // Where each value is written.
    let at = |name: &str| match vars.origin(name) {
        Some(super::vars::VarOrigin::From { kind, name, at }) => {
            let (file, span) = at.expect("a source of the repository says where");
            let text = &r.files[file].text();
            (
                *kind,
                name.clone(),
                r.files[file].path.to_string(),
                text[span.start as usize..span.end as usize].to_string(),
            )
        }
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(
        at("ZONE"),
        (
            "ConfigMap",
            "generated".to_string(),
            "flux/vars/kustomization.yaml".to_string(),
            "ZONE=example.org".to_string()
        )
    );
    assert_eq!(
        at("CLEAR"),
        (
            "Secret",
            "plain".to_string(),
            "flux/vars/plain.yaml".to_string(),
            "CLEAR".to_string()
        )
    );
}

#[test]
fn an_object_a_build_reaches_twice_is_one_instance() {
    let kustomization = |extra: &str, resources: &str| {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n{extra}resources:\n{resources}"
        )
    };
    let namespaces = |b_extra: &str| {
        let r = repo(&[
            ("flux/cluster/ks.yaml", &ks("cluster-apps", "./apps", "")),
            (
                "apps/kustomization.yaml",
                &kustomization("", "  - ./a\n  - ./b\n"),
            ),
            (
                "apps/a/kustomization.yaml",
                &kustomization("", "  - ../base\n"),
            ),
            (
                "apps/b/kustomization.yaml",
                &kustomization(b_extra, "  - ../base\n"),
            ),
            (
                "apps/base/kustomization.yaml",
                &kustomization("", "  - cm.yaml\n  - other.yaml\n"),
            ),
            ("apps/base/cm.yaml", CM),
            ("apps/base/other.yaml", &CM.replace("settings", "other")),
        ]);
        let named = |name: &str| {
            let id = r
                .objects
                .iter()
                .position(|o| o.name.as_deref() == Some(name))
                .unwrap();
            r.instances(id)
                .map(|i| i.namespace.clone())
                .collect::<Vec<_>>()
        };
        (named("settings"), named("other"))
    };
    // Reached through `a` and through `b` alike: one instance each.
    assert_eq!(namespaces(""), (vec![None], vec![None]));
    // `b` puts them in a namespace of its own: two instances each.
    let (settings, other) = namespaces("namespace: apps\n");
    assert_eq!(settings.len(), 2, "{settings:?}");
    assert!(settings.contains(&None) && settings.contains(&Some("apps".into())));
    assert_eq!(other, settings);
}

#[test]
fn an_object_reached_hundreds_of_times_keeps_one_instance_per_namespace() {
    // 257 directories put the same base in 256 namespaces: the last one in
    // the first's again. More reaches of one object than a byte counts,
    // which the count of reaches must not lose track of.
    let mut files: Vec<(String, String)> = vec![
        ("flux/cluster/ks.yaml".into(), ks("cluster-apps", "./apps", "")),
        (
            "apps/base/kustomization.yaml".into(),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n".into(),
        ),
        ("apps/base/cm.yaml".into(), CM.to_string()),
    ];
    let mut top = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        .to_string();
    for i in 0..257 {
        top.push_str(&format!("  - ./d{i:03}\n"));
        files.push((
            format!("apps/d{i:03}/kustomization.yaml"),
            format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: n{}\nresources:\n  - ../base\n", i % 256),
        ));
    }
    files.push(("apps/kustomization.yaml".into(), top));
    let r = repo_owned(&files);
    let cm = r
        .objects
        .iter()
        .position(|o| o.name.as_deref() == Some("settings"))
        .unwrap();
    let namespaces: Vec<String> = r
        .instances(cm)
        .filter_map(|i| i.namespace.as_deref().map(str::to_string))
        .collect();
    let expected: Vec<String> = (0..256).map(|i| format!("n{i}")).collect();
    let mut sorted = namespaces.clone();
    sorted.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(sorted, expected_sorted);
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

#[test]
fn app_template_controllers_render_enabled_replicas_and_mounts_per_build() {
    let hr = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  chart:\n    spec:\n      chart: app-template\n  values:\n    controllers:\n      main:\n        enabled: ${WEB_ENABLED}\n        replicas: 1\n        strategy: RollingUpdate\n      worker:\n        type: statefulset\n        replicas: ${REPLICAS:=3}\n    persistence:\n      data:\n        existingClaim: web-data\n        advancedMounts:\n          worker: {}\n      cache:\n        type: emptyDir\n";
    let on = ks(
        "web",
        "./apps/web",
        "  postBuild:\n    substitute:\n      WEB_ENABLED: \"false\"\n",
    );
    let r = repo(&[("flux/ks.yaml", &on), ("apps/web/hr.yaml", hr)]);
    let controllers: Vec<_> = r
        .app_template_controllers()
        .filter(|c| c.instance.flux.is_some())
        .collect();
    assert_eq!(
        controllers.iter().map(|c| c.name).collect::<Vec<_>>(),
        ["main", "worker"]
    );
    let (main, worker) = (&controllers[0], &controllers[1]);
    assert!(
        !main.enabled(&r),
        "`enabled: ${{WEB_ENABLED}}` renders to false"
    );
    assert!(main.is_deployment(&r));
    assert_eq!(main.strategy(&r).as_deref(), Some("RollingUpdate"));
    assert_eq!(main.replicas(&r), Some(1));
    assert!(worker.enabled(&r));
    assert!(!worker.is_deployment(&r));
    assert_eq!(
        worker.replicas(&r),
        Some(3),
        "the default of an unset variable"
    );
    // `data` mounts only into `worker` (advancedMounts); `cache` into both.
    let mounts = |c: &super::app_template::Controller| -> Vec<String> {
        c.persistence(&r)
            .map(|(k, _)| k.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(mounts(main), ["cache"]);
    assert_eq!(mounts(worker), ["data", "cache"]);
    let labels = worker.pod_labels(&r).unwrap();
    assert_eq!(labels["app.kubernetes.io/instance"], "web");
    assert_eq!(labels["app.kubernetes.io/controller"], "worker");
}

#[test]
fn claims_know_their_modes_and_node_local_volumes() {
    let r = repo(&[(
        "apps/pvc.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: a\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: local-path\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: b\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: ceph\n",
    )]);
    let claims = r.claims();
    use super::storage::Lookup;
    assert!(matches!(claims.lookup("data", Some("a")), Lookup::Shared));
    assert!(matches!(
        claims.lookup("data", Some("b")),
        Lookup::SingleNode("ReadWriteOnce", _)
    ));
    assert!(matches!(claims.lookup("other", Some("a")), Lookup::Missing));
}

#[test]
fn talhelper_nodes_carry_role_interfaces_and_resolved_patches() {
    let talconfig = "clusterName: lab\nendpoint: https://10.0.0.5:6443\ntalosVersion: v1.12.0\npatches:\n  - \"@./patches/global.yaml\"\n  - \"@./patches/gone.yaml\"\n  - \"@./patches/${ENV}.yaml\"\nworker:\n  networkInterfaces:\n    - interface: eth0\n      dhcp: false\n  patches:\n    - |\n      machine: {}\nnodes:\n  - hostname: cp\n    controlPlane: true\n  - hostname: w1\n    overridePatches: true\n  - hostname: w2\n";
    let r = repo(&[
        ("talos/talconfig.yaml", talconfig),
        ("talos/patches/global.yaml", "machine:\n  time: {}\n"),
    ]);
    let nodes = r.talhelper_nodes();
    assert_eq!(nodes.len(), 3);
    assert!(!nodes[0].worker && nodes[1].worker && nodes[2].worker);
    assert!(nodes[1].multidoc);
    assert!(
        nodes[1].interfaces.is_some(),
        "the worker group's interfaces"
    );
    use super::TalhelperPatch as P;
    let kinds = |n: &super::TalhelperNode| -> Vec<&'static str> {
        n.patches
            .iter()
            .map(|p| match p {
                P::File { .. } => "file",
                P::Missing { .. } => "missing",
                P::Inline { .. } => "inline",
                P::Unknown { .. } => "unknown",
            })
            .collect()
    };
    assert_eq!(kinds(&nodes[1]), ["file", "missing", "unknown"]);
    assert_eq!(kinds(&nodes[2]), ["file", "missing", "unknown", "inline"]);
    let P::Missing { path, .. } = &nodes[2].patches[1] else {
        unreachable!()
    };
    assert_eq!(path, "talos/patches/gone.yaml");
}

#[test]
fn service_views_read_manifests_chart_values_and_gateways() {
    let r = repo(&[
        (
            "apps/svc.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: lb\n  annotations:\n    io.cilium/lb-ipam-ips: 10.0.0.1\nspec:\n  type: LoadBalancer\n  loadBalancerClass: io.cilium/l2-announcer\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: other\nspec:\n  type: LoadBalancer\n  loadBalancerClass: metallb\n",
        ),
        (
            "apps/hr.yaml",
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  targetNamespace: web\n  chart:\n    spec:\n      chart: app-template\n  values:\n    service:\n      app:\n        type: LoadBalancer\n      off:\n        enabled: false\n        type: LoadBalancer\n",
        ),
        (
            "apps/gw.yaml",
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  gatewayClassName: cilium\n",
        ),
    ]);
    use super::services::{LBIPAM_IPS, ServiceSource};
    let views = r.service_views();
    let served: Vec<(ServiceSource, bool)> = views
        .iter()
        .map(|v| {
            let inst = r.instances(v.object).next().unwrap();
            (v.source, v.lbipam_serves(&r, inst))
        })
        .collect();
    assert_eq!(
        served,
        [
            (ServiceSource::Manifest, true),
            (ServiceSource::Manifest, false),
            (ServiceSource::Gateway, true),
            (ServiceSource::ChartValues, true),
        ]
    );
    assert_eq!(
        views[0].annotation(&LBIPAM_IPS).unwrap().0,
        "io.cilium/lb-ipam-ips"
    );
    assert_eq!(views[3].target_namespace, Some("web"));
}

#[test]
fn component_instances_know_the_entry_and_the_name_their_build_leaves() {
    let comp = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./cm.yaml\n  - ./sa.yaml\n";
    let r = repo(&[
        ("components/common/kustomization.yaml", comp),
        ("components/common/cm.yaml", CM),
        (
            "components/common/sa.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n",
        ),
        (
            "apps/a/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: a-\nnameSuffix: -x\ncomponents:\n  - ../../components/common\n",
        ),
    ]);
    let from_component: Vec<_> = r
        .instances
        .iter()
        .filter(|i| i.component.is_some())
        .collect();
    assert_eq!(from_component.len(), 2);
    for inst in from_component {
        let o = &r.objects[inst.object];
        let (_, by) = inst.component.unwrap();
        let expected_entry = if o.kind == "ConfigMap" { 0 } else { 1 };
        assert_eq!(inst.component_entry, expected_entry);
        let built = r.built_name(inst, by, &o.kind, o.name.as_deref().unwrap());
        let expected = if o.kind == "ConfigMap" {
            "a-settings-x"
        } else {
            "a-runner-x"
        };
        assert_eq!(built.as_deref(), Some(expected));
    }
    assert!(!super::names::takes_affixes("Namespace"));
}

#[test]
fn a_quoted_default_is_found_as_written() {
    use super::subst::quoted_default;
    assert_eq!(
        quoted_default("${CRON:='0 * * * *'}"),
        Some(("CRON", "'0 * * * *'"))
    );
    assert_eq!(quoted_default("x-${A:-\"b\"}"), Some(("A", "\"b\"")));
    assert_eq!(quoted_default("${A:=b}"), None);
    assert_eq!(quoted_default("'${A}'"), None);
    assert_eq!(quoted_default("${A:='${B}'}"), None);
    assert_eq!(quoted_default("${A:='}"), None);
}

#[test]
fn a_kustomization_an_earlier_root_build_reaches_is_not_built_as_a_root_again() {
    const K: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
    let cm = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    let files = [
        // Nothing lists `base`, `other` or `base/sub/inner`: each could be a
        // root. `base` lists `sub`, which has no kustomization: its
        // subdirectory `inner`, which has one, is built whole by `base`'s
        // build, so `inner` is not built as a root of its own.
        (
            "base/kustomization.yaml",
            format!("{K}resources:\n  - ./sub\n"),
        ),
        (
            "other/kustomization.yaml",
            format!("{K}resources:\n  - cm.yaml\n"),
        ),
        ("other/cm.yaml", cm("other")),
        (
            "base/sub/inner/kustomization.yaml",
            format!("{K}resources:\n  - cm.yaml\n"),
        ),
        ("base/sub/inner/cm.yaml", cm("inner")),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let r = repo(&files);
    let root_of = |dir: &str| r.kustomize_id(dir).unwrap();
    let roots = |name: &str| -> Vec<Option<usize>> {
        let (id, _) = r
            .objects
            .iter()
            .enumerate()
            .find(|(_, o)| o.name.as_deref() == Some(name))
            .unwrap();
        r.instances(id).map(|i| i.root).collect()
    };
    assert_eq!(roots("inner"), [Some(root_of("base"))]);
    assert_eq!(roots("other"), [Some(root_of("other"))]);
    // Only `base`'s build reaches `inner`.
    let inner = root_of("base/sub/inner");
    assert_eq!(r.kustomize_reach[inner], [(None, Some(root_of("base")))]);
    // The same, whatever the number of threads the builds run on.
    for threads in [1, 2, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let again = pool.install(|| repo(&files));
        let roots: Vec<_> = again.instances.iter().map(|i| (i.object, i.root)).collect();
        let first: Vec<_> = r.instances.iter().map(|i| (i.object, i.root)).collect();
        assert_eq!(roots, first, "{threads} threads");
        assert_eq!(
            again.kustomize_reach, r.kustomize_reach,
            "{threads} threads"
        );
    }
}
