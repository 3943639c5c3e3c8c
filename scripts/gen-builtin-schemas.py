#!/usr/bin/env python3
"""Writes schemas/flux.json and schemas/talos.json, the built-in schema bundles.

The bundles are data for the schema/unknown-field and schema/invalid-value rules. This
script is their source: edit it, run it, and commit the JSON it writes. With --check it
only compares and exits 1 when the committed JSON differs from what it would write.

Rule of thumb for every object below: `closed(...)` (additionalProperties: false) only
where the complete field list comes from a verified source named next to it;
`open_obj(...)` otherwise. A closed object with a missing field produces false
"unknown field" findings on real repositories, an open one only misses some typos.
See schemas/README.md for the sources.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def ref(name):
    return {"$ref": f"#/$defs/{name}"}


def closed(props, required=None, **extra):
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    out.update(extra)
    return out


def open_obj(props=None, required=None, **extra):
    out = {"type": "object"}
    if props:
        out["properties"] = props
    if required:
        out["required"] = required
    out.update(extra)
    return out


def array(items):
    return {"type": "array", "items": items}


def string_map(value=None):
    return {"type": "object", "additionalProperties": value or {"type": "string"}}


STR = {"type": "string"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
ANY = {}


def enum(*values):
    return {"type": "string", "enum": list(values)}


# --------------------------------------------------------------------------------------
# Flux
# --------------------------------------------------------------------------------------

# kustomize-controller api/v1 and helm-controller api/v2 both put this pattern on their
# metav1.Duration fields (facts §1.1).
FLUX_DURATION = {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"}


def flux_object(spec):
    """Top level of a Kubernetes custom resource: the CRD's structural root."""
    return closed(
        {
            "apiVersion": STR,
            "kind": STR,
            # Validated by the engine against ObjectMeta; not modelled here.
            "metadata": {"type": "object"},
            "spec": spec,
            "status": {"type": "object"},
            # SOPS metadata of an encrypted manifest (removed when it is decrypted).
            "sops": {"type": "object"},
        },
        required=["apiVersion", "kind"],
    )


def flux_defs():
    d = {}
    # commonMetadata: labels and annotations only (facts §1.6; same type in helm-controller).
    d["CommonMetadata"] = closed({"labels": string_map(), "annotations": string_map()})
    # meta.DependencyReference (fluxcd/pkg apis/meta, facts §1.6).
    d["DependencyReference"] = closed(
        {"name": {"type": "string", "minLength": 1}, "namespace": STR, "readyExpr": STR},
        required=["name"],
    )
    # kustomize-controller api/v1 reference_types.go (facts §1.6).
    d["KustomizationSourceRef"] = closed(
        {
            "apiVersion": STR,
            "kind": enum("OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"),
            "name": {"type": "string", "minLength": 1},
            "namespace": STR,
        },
        required=["kind", "name"],
    )
    d["PostBuild"] = closed(
        {
            "substitute": string_map(),
            "substituteFrom": array(
                closed(
                    {
                        "kind": enum("Secret", "ConfigMap"),
                        "name": {"type": "string", "minLength": 1},
                        "optional": BOOL,
                    },
                    required=["kind", "name"],
                )
            ),
            "substituteStrategy": enum("WithVariables", "Always"),
        }
    )
    # NamespacedObjectKindReference (facts §1.6).
    d["HealthCheck"] = closed(
        {"apiVersion": STR, "kind": STR, "name": STR, "namespace": STR},
        required=["kind", "name"],
    )
    # CustomHealthCheck (facts §1.6): apiVersion, kind, current (required), inProgress, failed.
    d["HealthCheckExpr"] = closed(
        {"apiVersion": STR, "kind": STR, "current": STR, "inProgress": STR, "failed": STR},
        required=["current"],
    )
    # kustomize Selector / Patch as Flux embeds them: patch + target (facts §1.6).
    d["PatchSelector"] = open_obj(
        {
            "group": STR,
            "version": STR,
            "kind": STR,
            "name": STR,
            "namespace": STR,
            "labelSelector": STR,
            "annotationSelector": STR,
        }
    )
    d["Patch"] = closed({"patch": STR, "target": ref("PatchSelector")}, required=["patch"])

    # Kustomization v1 spec: exactly the CRD property list of facts §1.6.
    d["KustomizationSpec"] = closed(
        {
            "buildMetadata": array(enum("originAnnotations", "transformerAnnotations")),
            "commonMetadata": ref("CommonMetadata"),
            "components": array(STR),
            # facts §1.6 names provider (enum sops) and secretRef, but not as a complete
            # list: left open.
            "decryption": open_obj(
                {"provider": enum("sops"), "secretRef": open_obj({"name": STR})},
                required=["provider"],
            ),
            "deletionPolicy": enum("MirrorPrune", "Delete", "WaitForTermination", "Orphan"),
            "dependsOn": array(ref("DependencyReference")),
            "force": BOOL,
            "healthCheckExprs": array(ref("HealthCheckExpr")),
            "healthChecks": array(ref("HealthCheck")),
            "ignore": array({"type": "object"}),
            "ignoreMissingComponents": BOOL,
            "images": array(
                open_obj({"name": STR, "newName": STR, "newTag": STR, "digest": STR})
            ),
            "interval": FLUX_DURATION,
            "kubeConfig": {"type": "object"},
            "namePrefix": STR,
            "nameSuffix": STR,
            "patches": array(ref("Patch")),
            "path": STR,
            "postBuild": ref("PostBuild"),
            "prune": BOOL,
            "retryInterval": FLUX_DURATION,
            "serviceAccountName": STR,
            "sourceRef": ref("KustomizationSourceRef"),
            "suspend": BOOL,
            "targetNamespace": {"type": "string", "minLength": 1, "maxLength": 63},
            "timeout": FLUX_DURATION,
            "wait": BOOL,
        },
        required=["interval", "prune", "sourceRef"],
    )

    # HelmRelease v2 (facts §1.2 - §1.5).
    d["HelmChartSourceRef"] = closed(
        {
            "apiVersion": STR,
            "kind": enum("HelmRepository", "GitRepository", "Bucket"),
            "name": {"type": "string", "minLength": 1},
            "namespace": STR,
        },
        required=["kind", "name"],
    )
    # HelmChartTemplateSpec (facts §1.4).
    d["HelmChartTemplateSpec"] = closed(
        {
            "chart": {"type": "string", "minLength": 1, "maxLength": 2048},
            "version": STR,
            "sourceRef": ref("HelmChartSourceRef"),
            "interval": FLUX_DURATION,
            "reconcileStrategy": enum("ChartVersion", "Revision"),
            "valuesFiles": array(STR),
            "ignoreMissingValuesFiles": BOOL,
            # verify: provider + secretRef (+ matchOIDCIdentity): not listed, left open.
            "verify": {"type": "object"},
        },
        required=["chart", "sourceRef"],
    )
    d["HelmChartTemplate"] = open_obj(
        {"metadata": ref("CommonMetadata"), "spec": ref("HelmChartTemplateSpec")},
        required=["spec"],
    )
    # CrossNamespaceSourceReference for chartRef (facts §1.4).
    d["ChartRef"] = closed(
        {
            "apiVersion": STR,
            "kind": enum("OCIRepository", "HelmChart", "ExternalArtifact"),
            "name": {"type": "string", "minLength": 1},
            "namespace": STR,
        },
        required=["kind", "name"],
    )
    # ValuesReference (facts §1.5).
    d["ValuesReference"] = closed(
        {
            "kind": enum("Secret", "ConfigMap"),
            "name": {"type": "string", "minLength": 1},
            "valuesKey": {"type": "string", "pattern": "^[\\-._a-zA-Z0-9]+$"},
            "targetPath": STR,
            "optional": BOOL,
            "literal": BOOL,
        },
        required=["kind", "name"],
    )
    # InstallStrategy / UpgradeStrategy (facts §1.2): name (required) and retryInterval.
    d["InstallStrategy"] = closed(
        {
            "name": enum("RemediateOnFailure", "RetryOnFailure"),
            "retryInterval": FLUX_DURATION,
        },
        required=["name"],
    )
    # InstallRemediation / UpgradeRemediation (facts §1.3).
    d["InstallRemediation"] = closed(
        {"retries": INT, "ignoreTestFailures": BOOL, "remediateLastFailure": BOOL}
    )
    d["UpgradeRemediation"] = closed(
        {
            "retries": INT,
            "ignoreTestFailures": BOOL,
            "remediateLastFailure": BOOL,
            "strategy": enum("rollback", "uninstall"),
        }
    )
    # install / upgrade carry more fields than the facts list (disableWait, replace,
    # force, ...): open, with the fields we know typed.
    d["Install"] = open_obj(
        {
            "timeout": FLUX_DURATION,
            "remediation": ref("InstallRemediation"),
            "strategy": ref("InstallStrategy"),
            "crds": enum("Skip", "Create", "CreateReplace"),
            "createNamespace": BOOL,
        }
    )
    d["Upgrade"] = open_obj(
        {
            "timeout": FLUX_DURATION,
            "remediation": ref("UpgradeRemediation"),
            "strategy": ref("InstallStrategy"),
            "crds": enum("Skip", "Create", "CreateReplace"),
        }
    )
    # HelmRelease v2 spec: exactly the CRD property list of facts §1.2.
    d["HelmReleaseSpec"] = closed(
        {
            "chart": ref("HelmChartTemplate"),
            "chartRef": ref("ChartRef"),
            "commonMetadata": ref("CommonMetadata"),
            "dependsOn": array(open_obj({"name": STR, "namespace": STR}, required=["name"])),
            "driftDetection": {"type": "object"},
            "healthCheckExprs": array({"type": "object"}),
            "install": ref("Install"),
            "interval": FLUX_DURATION,
            "kubeConfig": {"type": "object"},
            "maxHistory": INT,
            "persistentClient": BOOL,
            "postRenderStrategy": ANY,
            "postRenderers": array({"type": "object"}),
            "releaseName": STR,
            "rollback": {"type": "object"},
            "serviceAccountName": STR,
            "storageNamespace": STR,
            "suspend": BOOL,
            "targetNamespace": STR,
            "test": {"type": "object"},
            "timeout": FLUX_DURATION,
            "uninstall": {"type": "object"},
            "upgrade": ref("Upgrade"),
            # x-kubernetes-preserve-unknown-fields: anything goes.
            "values": ANY,
            "valuesFrom": array(ref("ValuesReference")),
            "waitStrategy": ANY,
        },
        required=["interval"],
    )

    kinds = {
        "kustomize.toolkit.fluxcd.io/v1 Kustomization": flux_object(ref("KustomizationSpec")),
        "helm.toolkit.fluxcd.io/v2 HelmRelease": flux_object(ref("HelmReleaseSpec")),
    }
    return kinds, d


FLUX_COMMENT = (
    "Built-in schemas for Flux kinds. Field lists: the Flux CRDs "
    "(Kustomization v1 spec = §1.6, from fluxcd/kustomize-controller "
    "config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml @186fb3b; HelmRelease v2 "
    "spec = §1.2-§1.5, from fluxcd/helm-controller "
    "config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml and api/v2/helmrelease_types.go "
    "@0f61a86, fluxcd/pkg apis/meta/reference_types.go @e2cfd1a). Objects are closed only where "
    "that list is complete; everything else is open. Only Kustomization v1 and HelmRelease v2 "
    "are included: the facts give no complete field list for the other Flux kinds. Generated "
    "by scripts/gen-builtin-schemas.py."
)


# --------------------------------------------------------------------------------------
# Talos
# --------------------------------------------------------------------------------------

# Talos decodes its config with go-yaml v3/v4 into typed Go structs:
# - a bool field also takes the YAML 1.1 words (y/yes/on/n/no/off, three casings each;
#   go.yaml.in/yaml decode.go, "compatibility with the 1.1 spec");
# - a string field takes any scalar (the node's text is used), so numbers and booleans
#   are fine there;
# - an integer field takes only an integer (a quoted "1500" is an error).
YAML11_BOOL_WORDS = [
    "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
    "n", "N", "no", "No", "NO", "off", "Off", "OFF",
]
T_BOOL = ref("bool")
T_STR = ref("string")
T_INT = INT


def tclosed(props, required=None, **extra):
    """A closed Talos object. Machine-config patches are strategic merge patches, and
    Talos accepts `$patch: delete` in any mapping of one (to drop that section, list item
    or document), so the directive is allowed wherever an object is closed."""
    props = dict(props)
    props["$patch"] = {"enum": ["delete"]}
    return closed(props, required, **extra)


def uint(bits):
    return {"type": "integer", "minimum": 0, "maximum": 2**bits - 1}


def talos_str_pattern(pattern):
    return {"type": ["string", "number", "boolean"], "pattern": pattern}


# Go time.ParseDuration syntax (time.Duration fields): "10s", "1h30m", "1.5h", "0".
GO_DURATION = talos_str_pattern("^[-+]?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$")
# netip.ParsePrefix / ParseAddr / net.ParseMAC inputs, loosely: the official schema's
# patterns ([0-9a-f.:]) reject upper-case hex, which Go parses fine.
IP_PREFIX = talos_str_pattern("^[0-9a-fA-F.:]+/[0-9]{1,3}$")
IP_ADDR = talos_str_pattern("^[0-9a-fA-F.:]+$")
MAC = talos_str_pattern("^[0-9a-fA-F:]+$")


def talos_doc(kind, props, named=True):
    """A multi-document config document: apiVersion v1alpha1 + kind (+ name)."""
    head = {"apiVersion": {"enum": ["v1alpha1"]}, "kind": {"enum": [kind]}}
    if named:
        head["name"] = T_STR
    head.update(props)
    # Only the identifying fields are required: a machine-config patch may carry a
    # partial document that is merged into the full one by kind and name.
    return tclosed(head, required=["apiVersion", "kind"] + (["name"] if named else []))


def common_link(extra=None):
    """Fields shared by every link document (network.CommonLinkConfig)."""
    props = dict(extra or {})
    props.update(
        {
            "up": T_BOOL,
            "mtu": T_INT,
            "addresses": array(ref("AddressConfig")),
            "routes": array(ref("RouteConfig")),
            "multicast": T_BOOL,
        }
    )
    return props


def talos_defs():
    d = {}
    d["bool"] = {"enum": [True, False] + YAML11_BOOL_WORDS}
    d["string"] = {"type": ["string", "number", "boolean"]}

    # ---- legacy v1alpha1 document, machine.network ----------------------------------
    # Source for every list in this section: siderolabs/talos
    # pkg/machinery/config/types/v1alpha1/v1alpha1_types.go (stored commit 04a6dbf, the
    # 1.12 line where these types are marked deprecated and docgen:nodoc, so the official
    # 1.12+ JSON schema no longer lists them), plus KubeSpanFilters.excludeAdvertisedNetworks
    # from the v1.12 website schema (website/content/v1.12/schemas/config.schema.json).
    d["DeviceSelector"] = tclosed(
        {
            "busPath": T_STR,
            "hardwareAddr": T_STR,
            "permanentAddr": T_STR,
            "pciID": T_STR,
            "driver": T_STR,
            "physical": T_BOOL,
        }
    )
    d["Route"] = tclosed(
        {
            "network": T_STR,
            "gateway": T_STR,
            "source": T_STR,
            "metric": uint(32),
            "mtu": uint(32),
        }
    )
    d["Bond"] = tclosed(
        {
            "interfaces": array(T_STR),
            "deviceSelectors": array(ref("DeviceSelector")),
            "arpIPTarget": array(T_STR),
            "mode": T_STR,
            "xmitHashPolicy": T_STR,
            "lacpRate": T_STR,
            "adActorSystem": T_STR,
            "arpValidate": T_STR,
            "arpAllTargets": T_STR,
            "primary": T_STR,
            "primaryReselect": T_STR,
            "failOverMac": T_STR,
            "adSelect": T_STR,
            "miimon": uint(32),
            "updelay": uint(32),
            "downdelay": uint(32),
            "arpInterval": uint(32),
            "resendIgmp": uint(32),
            "minLinks": uint(32),
            "lpInterval": uint(32),
            "packetsPerSlave": uint(32),
            "numPeerNotif": uint(8),
            "tlbDynamicLb": uint(8),
            "allSlavesActive": uint(8),
            "useCarrier": T_BOOL,
            "adActorSysPrio": uint(16),
            "adUserPortKey": uint(16),
            "peerNotifyDelay": uint(32),
        }
    )
    d["Bridge"] = tclosed(
        {
            "interfaces": array(T_STR),
            "stp": tclosed({"enabled": T_BOOL}),
            "vlan": tclosed({"vlanFiltering": T_BOOL}),
        }
    )
    d["DHCPOptions"] = tclosed(
        {"routeMetric": uint(32), "ipv4": T_BOOL, "ipv6": T_BOOL, "duidv6": T_STR}
    )
    d["VIPConfig"] = tclosed(
        {
            "ip": T_STR,
            "equinixMetal": tclosed({"apiToken": T_STR}),
            "hcloud": tclosed({"apiToken": T_STR}),
        }
    )
    d["Vlan"] = tclosed(
        {
            "addresses": array(T_STR),
            "cidr": T_STR,
            "routes": array(ref("Route")),
            "dhcp": T_BOOL,
            "vlanId": uint(16),
            "mtu": uint(32),
            "vip": ref("VIPConfig"),
            "dhcpOptions": ref("DHCPOptions"),
        }
    )
    d["DeviceWireguard"] = tclosed(
        {
            "privateKey": T_STR,
            "listenPort": T_INT,
            "firewallMark": T_INT,
            "peers": array(
                tclosed(
                    {
                        "publicKey": T_STR,
                        "endpoint": T_STR,
                        "persistentKeepaliveInterval": GO_DURATION,
                        "allowedIPs": array(T_STR),
                    }
                )
            ),
        }
    )
    # machine.network.interfaces[] (facts §4). `interface` and `deviceSelector` are
    # mutually exclusive and one of them is needed (facts §4: "interface XOR
    # deviceSelector"); it is also the key a strategic-merge patch matches on.
    d["Device"] = tclosed(
        {
            "interface": T_STR,
            "deviceSelector": ref("DeviceSelector"),
            "addresses": array(T_STR),
            "cidr": T_STR,
            "routes": array(ref("Route")),
            "bond": ref("Bond"),
            "bridge": ref("Bridge"),
            "bridgePort": tclosed({"master": T_STR}),
            "vlans": array(ref("Vlan")),
            "mtu": T_INT,
            "dhcp": T_BOOL,
            "ignore": T_BOOL,
            "dummy": T_BOOL,
            "dhcpOptions": ref("DHCPOptions"),
            "wireguard": ref("DeviceWireguard"),
            "vip": ref("VIPConfig"),
        },
        anyOf=[{"required": ["interface"]}, {"required": ["deviceSelector"]}],
        **{"not": {"required": ["interface", "deviceSelector"]}},
    )
    d["NetworkConfig"] = tclosed(
        {
            "hostname": T_STR,
            "interfaces": array(ref("Device")),
            "nameservers": array(T_STR),
            "searchDomains": array(T_STR),
            "extraHostEntries": array(tclosed({"ip": T_STR, "aliases": array(T_STR)})),
            "kubespan": tclosed(
                {
                    "enabled": T_BOOL,
                    "advertiseKubernetesNetworks": T_BOOL,
                    "allowDownPeerBypass": T_BOOL,
                    "harvestExtraEndpoints": T_BOOL,
                    "mtu": uint(32),
                    "filters": tclosed(
                        {
                            "endpoints": array(T_STR),
                            "excludeAdvertisedNetworks": array(T_STR),
                        }
                    ),
                }
            ),
            "disableSearchDomain": T_BOOL,
        }
    )
    # Only type and network are modelled; every other machine field stays open.
    d["MachineConfig"] = open_obj(
        {
            # ParseType (facts §4): "" parses as worker; init and join are accepted.
            "type": {"enum": ["controlplane", "worker", "init", "join", ""]},
            "network": ref("NetworkConfig"),
        }
    )
    d["Config"] = tclosed(
        {
            "version": {"enum": ["v1alpha1"]},
            "debug": T_BOOL,
            # Deprecated, "Not supported anymore", but still a field of the struct.
            "persist": T_BOOL,
            "machine": ref("MachineConfig"),
            "cluster": {"type": "object"},
        }
    )

    # ---- multi-document network config ----------------------------------------------
    # Field names and types read in the official schema
    # (Talos' config.schema.json, Talos 1.14 development
    # line, $defs network.*). Kind strings are the registered ones: the official schema's
    # enum for KubeSpanEndpointsConfig says "KubeSpanEndpoints", but the document kind
    # registered in pkg/machinery/config/types/network is "KubeSpanEndpointsConfig".
    d["AddressConfig"] = tclosed(
        {"address": IP_PREFIX, "routePriority": T_INT}, required=["address"]
    )
    d["RouteConfig"] = tclosed(
        {
            "destination": IP_PREFIX,
            "gateway": IP_ADDR,
            "source": IP_ADDR,
            "metric": T_INT,
            "mtu": T_INT,
            # nethelpers.RoutingTable: a name or a number.
            "table": T_STR,
        }
    )
    bond_modes = ["balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad",
                  "balance-tlb", "balance-alb"]
    d["BondConfig"] = talos_doc(
        "BondConfig",
        common_link(
            {
                "hardwareAddr": MAC,
                "links": array(T_STR),
                "bondMode": {"enum": bond_modes},
                "miimon": T_INT,
                "updelay": T_INT,
                "downdelay": T_INT,
                "useCarrier": T_BOOL,
                "xmitHashPolicy": {
                    "enum": ["layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4"]
                },
                "arpInterval": T_INT,
                "arpIpTargets": array(IP_ADDR),
                "nsIp6Targets": array(IP_ADDR),
                "arpValidate": {
                    "enum": ["none", "active", "backup", "all", "filter", "filter-active",
                             "filter-backup"]
                },
                "arpAllTargets": {"enum": ["any", "all"]},
                "lacpRate": {"enum": ["slow", "fast"]},
                "failOverMac": {"enum": ["none", "active", "follow"]},
                "adSelect": {"enum": ["stable", "bandwidth", "count"]},
                "adActorSysPrio": T_INT,
                "adUserPortKey": T_INT,
                "adLACPActive": {"enum": ["on", "off"]},
                "primary": T_STR,
                "primaryReselect": {"enum": ["always", "better", "failure"]},
                "resendIGMP": T_INT,
                "minLinks": T_INT,
                "lpInterval": T_INT,
                "packetsPerSlave": T_INT,
                "numPeerNotif": T_INT,
                "tlbLogicalLb": T_INT,
                "allSlavesActive": T_INT,
                "peerNotifDelay": T_INT,
                "missedMax": T_INT,
            }
        ),
    )
    d["BridgeConfig"] = talos_doc(
        "BridgeConfig",
        common_link(
            {
                "hardwareAddr": MAC,
                "links": array(T_STR),
                "stp": tclosed({"enabled": T_BOOL}),
                "vlan": tclosed({"filtering": T_BOOL}),
            }
        ),
    )
    d["DummyLinkConfig"] = talos_doc("DummyLinkConfig", common_link({"hardwareAddr": MAC}))
    d["LinkConfig"] = talos_doc("LinkConfig", common_link())
    d["LinkAliasConfig"] = talos_doc(
        "LinkAliasConfig", {"selector": tclosed({"match": T_STR})}
    )
    d["VLANConfig"] = talos_doc(
        "VLANConfig",
        common_link(
            {"vlanID": T_INT, "vlanMode": {"enum": ["802.1q", "802.1ad"]}, "parent": T_STR}
        ),
    )
    d["VRFConfig"] = talos_doc(
        "VRFConfig",
        common_link({"hardwareAddr": MAC, "links": array(T_STR), "table": T_STR}),
    )
    d["VethConfig"] = talos_doc(
        "VethConfig",
        common_link(
            {"peer": tclosed(common_link({"name": T_STR}), required=["name"])}
        ),
    )
    d["WireguardConfig"] = talos_doc(
        "WireguardConfig",
        common_link(
            {
                "privateKey": T_STR,
                "listenPort": T_INT,
                "firewallMark": T_INT,
                "peers": array(
                    tclosed(
                        {
                            "publicKey": T_STR,
                            "presharedKey": T_STR,
                            "endpoint": talos_str_pattern(
                                "^([0-9a-fA-F.:]+|\\[[0-9a-fA-F:.]+\\]):[0-9]{1,5}$"
                            ),
                            "persistentKeepaliveInterval": GO_DURATION,
                            "allowedIPs": array(IP_PREFIX),
                        },
                        required=["publicKey"],
                    )
                ),
            }
        ),
    )
    dhcp_common = {
        "routeMetric": T_INT,
        "ignoreHostname": T_BOOL,
        "clientIdentifier": {"enum": ["none", "mac", "duid"]},
        "duidRaw": talos_str_pattern("^([0-9a-fA-F]{2}(:[0-9a-fA-F]{2})+)$"),
    }
    d["DHCPv4Config"] = talos_doc("DHCPv4Config", dict(dhcp_common, ignoreRoutes=T_BOOL))
    d["DHCPv6Config"] = talos_doc("DHCPv6Config", dict(dhcp_common))
    d["Layer2VIPConfig"] = talos_doc("Layer2VIPConfig", {"link": T_STR})
    d["HCloudVIPConfig"] = talos_doc("HCloudVIPConfig", {"link": T_STR, "apiToken": T_STR})
    d["HostnameConfig"] = talos_doc(
        "HostnameConfig", {"auto": {"enum": ["stable", "off"]}, "hostname": T_STR}, named=False
    )
    d["ResolverConfig"] = talos_doc(
        "ResolverConfig",
        {
            "nameservers": array(
                tclosed(
                    {
                        "address": IP_ADDR,
                        "protocol": {"enum": ["Do53", "DoT", "DoH"]},
                        "tlsServerName": T_STR,
                    }
                )
            ),
            "searchDomains": tclosed({"domains": array(T_STR), "disableDefault": T_BOOL}),
            "hostDNS": tclosed(
                {
                    "enabled": T_BOOL,
                    "forwardKubeDNSToHost": T_BOOL,
                    "resolveMemberNames": T_BOOL,
                }
            ),
        },
        named=False,
    )
    d["StaticHostConfig"] = talos_doc("StaticHostConfig", {"hostnames": array(T_STR)})
    d["TimeSyncConfig"] = talos_doc(
        "TimeSyncConfig",
        {
            "enabled": T_BOOL,
            "bootTimeout": GO_DURATION,
            "ntp": tclosed({"servers": array(T_STR), "useNTS": T_BOOL}),
            "ptp": tclosed({"devices": array(T_STR)}),
        },
        named=False,
    )
    d["EthernetConfig"] = talos_doc(
        "EthernetConfig",
        {
            "features": {"type": "object", "additionalProperties": T_BOOL},
            "rings": tclosed(
                {
                    "rx": T_INT,
                    "tx": T_INT,
                    "rx-mini": T_INT,
                    "rx-jumbo": T_INT,
                    "rx-buf-len": T_INT,
                    "cqe-size": T_INT,
                    "tx-push": T_BOOL,
                    "rx-push": T_BOOL,
                    "tx-push-buf-len": T_INT,
                    "tcp-data-split": T_BOOL,
                }
            ),
            "channels": tclosed(
                {"rx": T_INT, "tx": T_INT, "other": T_INT, "combined": T_INT}
            ),
            "wakeOnLan": array(T_STR),
        },
    )
    d["KubeSpanEndpointsConfig"] = talos_doc(
        "KubeSpanEndpointsConfig", {"extraAnnouncedEndpoints": array(T_STR)}, named=False
    )
    d["KubeSpanConfig"] = talos_doc(
        "KubeSpanConfig",
        {
            "enabled": T_BOOL,
            "advertiseKubernetesNetworks": T_BOOL,
            "allowDownPeerBypass": T_BOOL,
            "harvestExtraEndpoints": T_BOOL,
            "mtu": T_INT,
            "filters": tclosed(
                {"endpoints": array(T_STR), "excludeAdvertisedNetworks": array(IP_PREFIX)}
            ),
        },
        named=False,
    )
    d["NetworkRuleConfig"] = talos_doc(
        "NetworkRuleConfig",
        {
            "portSelector": tclosed(
                {
                    # a port number or a "from-to" range
                    "ports": array({"type": ["integer", "string"]}),
                    "protocol": {"enum": ["tcp", "udp", "icmp", "icmpv6"]},
                }
            ),
            "ingress": array(tclosed({"subnet": IP_PREFIX, "except": IP_PREFIX})),
        },
    )
    d["NetworkDefaultActionConfig"] = talos_doc(
        "NetworkDefaultActionConfig", {"ingress": {"enum": ["accept", "block"]}}, named=False
    )
    d["BlackholeRouteConfig"] = talos_doc("BlackholeRouteConfig", {"metric": T_INT})
    d["RoutingRuleConfig"] = talos_doc(
        "RoutingRuleConfig",
        {
            "src": T_STR,
            "dst": T_STR,
            "table": T_STR,
            # nethelpers.RoutingRuleAction: the official schema says integer, the doc
            # says it defaults to "unicast"; not typed here.
            "action": ANY,
            "iifName": T_STR,
            "oifName": T_STR,
            "fwMark": T_INT,
            "fwMask": T_INT,
        },
    )
    probe = {"interval": GO_DURATION, "failureThreshold": T_INT, "timeout": GO_DURATION}
    d["TCPProbeConfig"] = talos_doc("TCPProbeConfig", dict(probe, endpoint=T_STR))
    d["HTTPProbeConfig"] = talos_doc(
        "HTTPProbeConfig", dict(probe, url=talos_str_pattern("^(http|https)://"))
    )
    d["BGPInstanceConfig"] = talos_doc(
        "BGPInstanceConfig",
        {
            "vrf": T_STR,
            "localASN": T_INT,
            "routerID": T_STR,
            "routeSource": T_STR,
            "advertise": array(T_STR),
            "multipath": T_BOOL,
            "maxPaths": T_INT,
            "installRoutes": T_BOOL,
            "importRoutes": array(
                tclosed(
                    {"bgpInstance": T_STR, "prefixes": array(IP_PREFIX)},
                    required=["bgpInstance", "prefixes"],
                )
            ),
            "neighbors": array(
                tclosed(
                    {
                        "address": T_STR,
                        "link": T_STR,
                        "peerASN": T_INT,
                        "localASN": T_INT,
                        "passive": T_BOOL,
                        "holdTime": GO_DURATION,
                        "bfd": tclosed(
                            {
                                "transmitInterval": GO_DURATION,
                                "receiveInterval": GO_DURATION,
                                "detectMultiplier": T_INT,
                            }
                        ),
                    }
                )
            ),
        },
    )

    multidoc = [
        # Talos 1.12 (facts §4)
        "LinkConfig", "LinkAliasConfig", "BondConfig", "BridgeConfig", "VLANConfig",
        "DummyLinkConfig", "WireguardConfig", "DHCPv4Config", "DHCPv6Config",
        "Layer2VIPConfig", "HCloudVIPConfig", "HostnameConfig", "ResolverConfig",
        "StaticHostConfig", "TimeSyncConfig", "EthernetConfig", "KubeSpanEndpointsConfig",
        "NetworkRuleConfig", "NetworkDefaultActionConfig",
        # 1.13 additions
        "BlackholeRouteConfig", "KubeSpanConfig", "RoutingRuleConfig", "TCPProbeConfig",
        "VRFConfig",
        # HEAD (1.14 development) additions
        "BGPInstanceConfig", "HTTPProbeConfig", "VethConfig",
    ]
    kinds = {"talos.dev/v1alpha1 Config": ref("Config"), "talos.dev/v1alpha1 Device": ref("Device")}
    for kind in multidoc:
        kinds[f"talos.dev/v1alpha1 {kind}"] = ref(kind)
    return kinds, d


TALOS_COMMENT = (
    "Built-in schemas for Talos machine configuration. Legacy v1alpha1 document (top level, "
    "machine.type, machine.network and its Device type): facts §4 and siderolabs/talos "
    "pkg/machinery/config/types/v1alpha1/v1alpha1_types.go (1.12 line; the official JSON "
    "schema of 1.12+ no longer lists the deprecated machine.network types). Everything else "
    "under machine, and all of cluster, is left open. Multi-document network kinds (facts §4: "
    "1.12 list, 1.13 and HEAD additions): field names and types checked against the official "
    "schema (talos-config.schema.json, Talos 1.14 development, MPL-2.0), written here "
    "independently; only apiVersion, kind and name are required because patches may carry "
    "partial documents. Generated by scripts/gen-builtin-schemas.py."
)


def bundle(comment, kinds, defs):
    return {"$schema": DRAFT, "$comment": comment, "kinds": kinds, "$defs": defs}


def render(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def main():
    check = "--check" in sys.argv[1:]
    outputs = {
        ROOT / "schemas" / "flux.json": render(bundle(FLUX_COMMENT, *flux_defs())),
        ROOT / "schemas" / "talos.json": render(bundle(TALOS_COMMENT, *talos_defs())),
    }
    stale = []
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if check and stale:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run scripts/gen-builtin-schemas.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
