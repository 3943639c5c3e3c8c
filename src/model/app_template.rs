//! The bjw-s app-template chart read once: each controller of each release,
//! as each build of the HelmRelease renders it (`enabled`, `type`, replicas,
//! strategy, the persistence items it mounts, the labels of its pods).

use std::collections::HashMap;

use super::{HelmRelease, Instance, Object, Repository};
use crate::diagnostic::FileId;
use crate::yaml::NodeRef;

/// One controller under `values.controllers`, for one build of its release.
pub struct Controller<'r> {
    pub release: &'r HelmRelease,
    pub object: &'r Object,
    pub instance: &'r Instance,
    /// The release's `spec.values`.
    pub values: NodeRef<'r>,
    pub name: &'r str,
    /// The controller's key under `controllers:`.
    pub key: NodeRef<'r>,
    pub node: NodeRef<'r>,
}

/// A controller's `type` after substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControllerType {
    /// Not written: the chart makes a Deployment.
    Default,
    Is(String),
    /// Written, but a variable without a known value.
    Unknown,
}

impl Repository {
    /// A scalar as the instance's build renders it (see [`Repository::render`]).
    pub fn render_node(&self, instance: &Instance, node: NodeRef) -> Option<String> {
        self.render(instance, node.as_str()?)
    }

    /// A replica count: absent is one; `null` (left to an autoscaler) or a
    /// value that does not render to an integer is `None`.
    pub fn replicas(&self, instance: &Instance, node: Option<NodeRef>) -> Option<i64> {
        match node {
            None => Some(1),
            Some(n) => self.render_node(instance, n)?.trim().parse().ok(),
        }
    }

    /// Every app-template controller that is a map, for every build of its
    /// release, in release and `controllers:` order (disabled ones included:
    /// see [`Controller::enabled`]).
    pub fn app_template_controllers(&self) -> impl Iterator<Item = Controller<'_>> + '_ {
        self.app_template_controllers_in(|_| true)
    }

    /// [`Repository::app_template_controllers`] of the releases in the files
    /// `keep` accepts.
    pub fn app_template_controllers_in<'r>(
        &'r self,
        keep: impl Fn(FileId) -> bool + 'r,
    ) -> impl Iterator<Item = Controller<'r>> + 'r {
        self.helm_releases
            .iter()
            .filter(move |hr| hr.app_template && keep(self.objects[hr.object].file))
            .filter_map(move |hr| {
                let object = &self.objects[hr.object];
                let values = self.node(object.file, hr.values?);
                let controllers = values.get("controllers").filter(|c| c.is_map())?;
                Some(self.instances(hr.object).flat_map(move |instance| {
                    controllers.entries().filter_map(move |(key, node)| {
                        Some(Controller {
                            release: hr,
                            object,
                            instance,
                            values,
                            name: key.as_str()?,
                            key,
                            node: Some(node).filter(|n| n.is_map())?,
                        })
                    })
                }))
            })
            .flatten()
    }
}

impl<'r> Controller<'r> {
    /// False only where `enabled:` renders to false.
    pub fn enabled(&self, repo: &Repository) -> bool {
        self.node
            .get("enabled")
            .and_then(|e| repo.render_bool(self.instance, e))
            != Some(false)
    }

    pub fn kind(&self, repo: &Repository) -> ControllerType {
        match self.node.get("type") {
            None => ControllerType::Default,
            Some(t) => match repo.render_node(self.instance, t) {
                Some(t) => ControllerType::Is(t),
                None => ControllerType::Unknown,
            },
        }
    }

    /// Whether the chart makes a Deployment of it.
    pub fn is_deployment(&self, repo: &Repository) -> bool {
        match self.kind(repo) {
            ControllerType::Default => true,
            ControllerType::Is(t) => t == "deployment",
            ControllerType::Unknown => false,
        }
    }

    pub fn replicas(&self, repo: &Repository) -> Option<i64> {
        repo.replicas(self.instance, self.node.get("replicas"))
    }

    /// `strategy:` after substitution.
    pub fn strategy(&self, repo: &Repository) -> Option<String> {
        repo.render_node(self.instance, self.node.get("strategy")?)
    }

    /// The rollout's surge: v5 accepts the Kubernetes key beside the chart's
    /// own, and the Kubernetes key wins.
    pub fn surge(&self) -> Option<NodeRef<'r>> {
        let rolling = self.node.get("rollingUpdate")?;
        rolling.get("maxSurge").or_else(|| rolling.get("surge"))
    }

    /// The namespace its objects land in: `spec.targetNamespace` rendered,
    /// else the HelmRelease's. `None` when `targetNamespace` cannot be rendered.
    pub fn namespace(&self, repo: &Repository) -> Option<Option<String>> {
        match repo
            .object_node(self.release.object)
            .path(&["spec", "targetNamespace"])
        {
            Some(t) => repo.render_node(self.instance, t).map(Some),
            None => Some(self.instance.namespace.as_deref().map(str::to_string)),
        }
    }

    /// The Helm release name: `spec.releaseName`, else
    /// `<targetNamespace>-<name>` with a target namespace, else the
    /// HelmRelease's name. `None` when it cannot be rendered.
    pub fn release_name(&self, repo: &Repository) -> Option<String> {
        let spec = repo.object_node(self.release.object).get("spec");
        let hr_name = self.instance.name.clone()?;
        match spec.and_then(|s| s.get("releaseName")) {
            Some(r) => repo.render_node(self.instance, r),
            None => match spec.and_then(|s| s.get("targetNamespace")) {
                Some(t) => Some(format!("{}-{hr_name}", repo.render_node(self.instance, t)?)),
                None => Some(hr_name.to_string()),
            },
        }
    }

    /// The labels of its pods: `app.kubernetes.io/{name,instance,controller}`
    /// (name: `global.nameOverride`, else the release name) over
    /// `defaultPodOptions.labels` and `pod.labels`. `None` when the release
    /// name or the name override cannot be rendered.
    pub fn pod_labels(&self, repo: &Repository) -> Option<HashMap<String, String>> {
        let release = self.release_name(repo)?;
        let name_label = match self.values.path(&["global", "nameOverride"]) {
            Some(n) => repo.render_node(self.instance, n)?,
            None => release.clone(),
        };
        let mut labels = HashMap::new();
        for node in [
            self.values.path(&["defaultPodOptions", "labels"]),
            self.node.path(&["pod", "labels"]),
        ] {
            for (k, v) in node.into_iter().flat_map(|n| n.entries()) {
                if let (Some(k), Some(v)) = (k.as_str(), repo.render_node(self.instance, v)) {
                    labels.insert(k.to_string(), v);
                }
            }
        }
        labels.insert("app.kubernetes.io/name".into(), name_label);
        labels.insert("app.kubernetes.io/instance".into(), release);
        labels.insert("app.kubernetes.io/controller".into(), self.name.to_string());
        Some(labels)
    }

    /// The `persistence:` items mounted into this controller and enabled in
    /// this build: `(key, item)`. `advancedMounts` alone names the
    /// controllers; otherwise an item mounts into every controller.
    pub fn persistence<'a>(
        &'a self,
        repo: &'a Repository,
    ) -> impl Iterator<Item = (NodeRef<'r>, NodeRef<'r>)> + 'a {
        self.values
            .get("persistence")
            .into_iter()
            .flat_map(|p| p.entries())
            .filter(move |(k, p)| {
                k.as_str().is_some()
                    && p.is_map()
                    && p.get("enabled")
                        .and_then(|e| repo.render_bool(self.instance, e))
                        != Some(false)
                    && mounts_into(*p, self.name)
            })
    }
}

fn mounts_into(p: NodeRef, controller: &str) -> bool {
    if p.get("globalMounts").is_some() {
        return true;
    }
    match p.get("advancedMounts").filter(|a| a.is_map()) {
        Some(adv) => adv.entries().any(|(k, _)| k.as_str() == Some(controller)),
        None => true,
    }
}
