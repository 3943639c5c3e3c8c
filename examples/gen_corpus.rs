//! Lays out a home-ops-like repository of N apps, deterministically, for
//! benchmarks: `cargo run --release --example gen_corpus -- DIR N`.
//!
//! Each app: a Flux ks.yaml with the volsync component and `${APP}`, an app/
//! kustomization, an app-template HelmRelease with its OCIRepository, and on
//! some apps a plain Deployment + PVC + Service, an ExternalSecret. Plus a
//! talconfig.yaml, a CRD bundle the size of gotk-components.yaml, and a few
//! known incidents so the benchmark also counts findings.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(n)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: gen_corpus DIR N");
        std::process::exit(2);
    };
    let root = Path::new(dir);
    generate(root, n);
}

fn generate(root: &Path, n: usize) {
    let namespaces = (n / 25).clamp(1, 400);
    write(root, ".git/HEAD", "ref: refs/heads/main\n");
    write(
        root,
        "kubernetes/flux/cluster/ks.yaml",
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: cluster-apps\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./kubernetes/apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    );
    write(
        root,
        "kubernetes/components/volsync/kustomization.yaml",
        "---\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./pvc.yaml\n  - ./replicationsource.yaml\n",
    );
    write(
        root,
        "kubernetes/components/volsync/pvc.yaml",
        "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: ${VOLSYNC_CLAIM:=${APP}}\nspec:\n  accessModes: [\"${VOLSYNC_ACCESSMODES:=ReadWriteOnce}\"]\n  resources:\n    requests:\n      storage: ${VOLSYNC_CAPACITY:=5Gi}\n  storageClassName: ceph-block\n",
    );
    write(
        root,
        "kubernetes/components/volsync/replicationsource.yaml",
        "---\napiVersion: volsync.backube/v1alpha1\nkind: ReplicationSource\nmetadata:\n  name: ${APP}\nspec:\n  sourcePVC: ${VOLSYNC_CLAIM:=${APP}}\n  trigger:\n    schedule: \"0 * * * *\"\n  restic:\n    copyMethod: Snapshot\n    repository: ${APP}-volsync-secret\n    retain:\n      daily: 7\n",
    );
    write(
        root,
        "kubernetes/apps/kube-system/cilium/app/pool.yaml",
        "---\napiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: pool\nspec:\n  blocks:\n    - cidr: 10.0.10.0/24\n    - cidr: fd00:10::/64\n",
    );
    write(
        root,
        "kubernetes/apps/kube-system/cilium/app/kustomization.yaml",
        "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./pool.yaml\n",
    );
    write(
        root,
        "kubernetes/apps/kube-system/kustomization.yaml",
        "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: kube-system\nresources:\n  - ./cilium/app\n",
    );
    crd_bundle(root);
    talconfig(root, n);
    let mut ns_resources: Vec<Vec<String>> = vec![Vec::new(); namespaces];
    for i in 0..n {
        let ns = i % namespaces;
        let app = format!("app{i:05}");
        ns_resources[ns].push(format!("./{app}/ks.yaml"));
        app_files(root, i, &format!("ns{ns:03}"), &app);
    }
    for (ns, resources) in ns_resources.iter().enumerate() {
        let mut k = format!(
            "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ns{ns:03}\nresources:\n  - ./namespace.yaml\n"
        );
        for r in resources {
            let _ = writeln!(k, "  - {r}");
        }
        write(
            root,
            &format!("kubernetes/apps/ns{ns:03}/kustomization.yaml"),
            &k,
        );
        write(
            root,
            &format!("kubernetes/apps/ns{ns:03}/namespace.yaml"),
            &format!("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns{ns:03}\n"),
        );
    }
}

fn app_files(root: &Path, i: usize, ns: &str, app: &str) {
    let dir = format!("kubernetes/apps/{ns}/{app}");
    // Incidents, one in every few dozen apps.
    let retry = if i % 97 == 3 {
        "  retryInterval: 2m\n"
    } else {
        ""
    };
    let strategy = if i % 89 == 5 {
        "        strategy: RollingUpdate\n"
    } else {
        ""
    };
    write(
        root,
        &format!("{dir}/ks.yaml"),
        &format!(
            "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: &app {app}\n  namespace: flux-system\nspec:\n  targetNamespace: {ns}\n  commonMetadata:\n    labels:\n      app.kubernetes.io/name: *app\n  path: ./kubernetes/apps/{ns}/{app}/app\n  components:\n    - ../../../../components/volsync\n  interval: 1h\n  prune: true\n  wait: false\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n  postBuild:\n    substitute:\n      APP: *app\n      VOLSYNC_CAPACITY: 10Gi\n"
        ),
    );
    let mut resources = vec!["./helmrelease.yaml", "./ocirepository.yaml"];
    if i.is_multiple_of(3) {
        resources.push("./externalsecret.yaml");
        write(
            root,
            &format!("{dir}/app/externalsecret.yaml"),
            &format!(
                "---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: {app}\nspec:\n  secretStoreRef:\n    kind: ClusterSecretStore\n    name: onepassword\n  target:\n    name: {app}-secret\n    template:\n      data:\n        API_KEY: \"{{{{ .api_key }}}}\"\n  dataFrom:\n    - extract:\n        key: {app}\n"
            ),
        );
    }
    if i % 4 == 1 {
        resources.extend(["./deployment.yaml", "./pvc.yaml", "./service.yaml"]);
        let replicas = if i % 8 == 1 { 1 } else { 2 };
        write(
            root,
            &format!("{dir}/app/deployment.yaml"),
            &format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}-worker\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {app}-worker\n  template:\n    metadata:\n      labels:\n        app: {app}-worker\n    spec:\n      containers:\n        - name: worker\n          image: ghcr.io/example/worker:1.{i}.0\n          volumeMounts:\n            - name: data\n              mountPath: /data\n      volumes:\n        - name: data\n          persistentVolumeClaim:\n            claimName: {app}-worker\n"
            ),
        );
        write(
            root,
            &format!("{dir}/app/pvc.yaml"),
            &format!(
                "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {app}-worker\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n"
            ),
        );
        let ips = if i % 16 == 1 {
            format!("10.0.10.{}", i % 250 + 2)
        } else {
            format!("10.0.10.{0},fd00:10::{0}", i % 250 + 2)
        };
        write(
            root,
            &format!("{dir}/app/service.yaml"),
            &format!(
                "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {app}-lb\n  annotations:\n    lbipam.cilium.io/ips: \"{ips}\"\nspec:\n  type: LoadBalancer\n  ipFamilyPolicy: PreferDualStack\n  selector:\n    app: {app}-worker\n  ports:\n    - port: 80\n"
            ),
        );
    }
    let mut k = String::from(
        "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for r in resources {
        let _ = writeln!(k, "  - {r}");
    }
    write(root, &format!("{dir}/app/kustomization.yaml"), &k);
    write(
        root,
        &format!("{dir}/app/ocirepository.yaml"),
        &format!(
            "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: {app}\nspec:\n  interval: 1h\n  layerSelector:\n    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip\n    operation: copy\n  ref:\n    tag: 4.4.0\n  url: oci://ghcr.io/bjw-s-labs/helm/app-template\n"
        ),
    );
    write(
        root,
        &format!("{dir}/app/helmrelease.yaml"),
        &format!(
            "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: &app {app}\nspec:\n  interval: 1h\n{retry}  chartRef:\n    kind: OCIRepository\n    name: {app}\n  install:\n    remediation:\n      retries: -1\n  upgrade:\n    cleanupOnFail: true\n    remediation:\n      retries: 3\n  values:\n    controllers:\n      {app}:\n{strategy}        annotations:\n          reloader.stakater.com/auto: \"true\"\n        containers:\n          app:\n            image:\n              repository: ghcr.io/home-operations/{app}\n              tag: 1.{i}.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n            env:\n              TZ: Europe/Paris\n              {app_upper}__PORT: &port 8080\n            probes:\n              liveness: &probes\n                enabled: true\n                custom: true\n                spec:\n                  httpGet:\n                    path: /ping\n                    port: *port\n              readiness: *probes\n            resources:\n              requests:\n                cpu: 10m\n              limits:\n                memory: 1Gi\n    defaultPodOptions:\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 1000\n        fsGroup: 1000\n    service:\n      app:\n        controller: *app\n        ports:\n          http:\n            port: *port\n    route:\n      app:\n        hostnames: [\"{{{{ .Release.Name }}}}.example.com\"]\n        parentRefs:\n          - name: internal\n            namespace: kube-system\n            sectionName: https\n    persistence:\n      config:\n        existingClaim: *app\n      tmp:\n        type: emptyDir\n",
            app_upper = app.to_uppercase()
        ),
    );
}

fn talconfig(root: &Path, n: usize) {
    let mut t = String::from(
        "---\nclusterName: bench\ntalosVersion: v1.11.5\nkubernetesVersion: v1.34.1\nendpoint: https://10.0.0.10:6443\nnodes:\n",
    );
    for i in 0..(n / 100).clamp(3, 50) {
        let cp = i < 3;
        let _ = write!(
            t,
            "  - hostname: node-{i}\n    ipAddress: 10.0.0.{}\n    controlPlane: {cp}\n    installDisk: /dev/sda\n    networkInterfaces:\n      - interface: eth0\n        dhcp: false\n        addresses: [10.0.0.{}/24]\n        routes:\n          - network: 0.0.0.0/0\n            gateway: 10.0.0.1\n",
            11 + i,
            11 + i
        );
    }
    write(root, "talos/talconfig.yaml", &t);
}

/// About the size of Flux's gotk-components.yaml: CRDs with deep schemas.
fn crd_bundle(root: &Path) {
    let mut b = String::new();
    for c in 0..12 {
        let _ = write!(
            b,
            "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: kind{c}s.example.toolkit.fluxcd.io\nspec:\n  group: example.toolkit.fluxcd.io\n  names:\n    kind: Kind{c}\n    plural: kind{c}s\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n"
        );
        for f in 0..120 {
            let _ = write!(
                b,
                "                field{f}:\n                  description: Field {f} of the kind {c}; a long description as the real bundle carries for every property of every version.\n                  type: object\n                  properties:\n                    retryInterval:\n                      type: string\n                      pattern: ^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$\n                    name:\n                      type: string\n                      maxLength: 253\n"
            );
        }
    }
    write(root, "kubernetes/flux/components/gotk-components.yaml", &b);
}
