#!/usr/bin/env python3
"""Validates real repositories against the built-in schema bundles (schemas/*.json).

A check for the bundles themselves, not part of the linter: every finding printed here
either is a real mistake in that repository or shows a schema that is too strict.

Usage:
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install jsonschema pyyaml
    /tmp/venv/bin/python scripts/check-builtin-schemas.py [CORPORA_DIR ...]

Default directory: ../shared/corpora beside the project (each subdirectory is one corpus).
With --self-test it validates a few documents written for the purpose and checks that
each planted mistake, and nothing else, is reported.

What gets validated, and against which bundle key:
- Flux objects: "<apiVersion> <kind>" when the bundle has that key.
- Talos multi-document config (`apiVersion: v1alpha1`, `kind: X`): "talos.dev/v1alpha1 X".
- Talos legacy v1alpha1 documents and patches (no apiVersion/kind, top-level keys only
  among version/debug/persist/machine/cluster): "talos.dev/v1alpha1 Config".
- talhelper talconfig.yaml: nodes[].networkInterfaces[] (and controlPlane/worker
  .networkInterfaces[]) against "talos.dev/v1alpha1 Device"; inline patch strings are
  parsed and each document is validated as above.

An error whose instance is a string containing "${" is dropped (Flux substitutes it
later; the engine does the same). Findings under a directory named `.archive` or
`archive` are printed but counted apart.
"""

import difflib
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

try:
    import yaml
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover
    sys.exit("needs jsonschema and pyyaml: pip install jsonschema pyyaml")

ROOT = Path(__file__).resolve().parent.parent
BUNDLES = [ROOT / "schemas" / "flux.json", ROOT / "schemas" / "talos.json"]
LEGACY_TALOS_KEYS = {"version", "debug", "persist", "machine", "cluster"}


class Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 timestamps (k8s and Talos keep them as strings)."""


Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_validators():
    validators = {}
    for path in BUNDLES:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema({"$defs": bundle["$defs"]})
        for key, schema in bundle["kinds"].items():
            root = dict(schema)
            root["$schema"] = bundle["$schema"]
            root["$defs"] = bundle["$defs"]
            Draft202012Validator.check_schema(root)
            validators[key] = Draft202012Validator(root)
    return validators


def has_placeholder(value):
    return isinstance(value, str) and "${" in value


def path_str(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "."


def describe(err):
    """(category, message) for one jsonschema error, with a did-you-mean for unknown keys."""
    if err.validator == "additionalProperties":
        props = list(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in props]
        parts = []
        for k in extra:
            close = difflib.get_close_matches(k, props, n=1, cutoff=0.6)
            parts.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return "unknown-field", "unknown field " + ", ".join(parts)
    msg = err.message
    if len(msg) > 200:
        msg = msg[:200] + "..."
    return "invalid-value", f"{err.validator}: {msg}"


def leaf_errors(validator, instance):
    """Errors, descending into anyOf/oneOf so the message names the real culprit."""
    for err in validator.iter_errors(instance):
        if err.validator in ("anyOf", "oneOf") and err.context:
            # keep the sub-errors of the branch that got furthest
            best = max(err.context, key=lambda e: len(e.absolute_path))
            if len(best.absolute_path) > len(err.absolute_path):
                yield best
                continue
        yield err


def talos_key(doc):
    av, kind = doc.get("apiVersion"), doc.get("kind")
    if av == "v1alpha1" and isinstance(kind, str):
        return f"talos.dev/v1alpha1 {kind}"
    if "apiVersion" not in doc and "kind" not in doc and doc:
        if set(doc) <= LEGACY_TALOS_KEYS:
            return "talos.dev/v1alpha1 Config"
    return None


def targets(doc, file_path):
    """(bundle key, instance, base path) triples for one YAML document."""
    if not isinstance(doc, dict):
        return
    av, kind = doc.get("apiVersion"), doc.get("kind")
    if isinstance(av, str) and isinstance(kind, str) and av != "v1alpha1":
        yield f"{av} {kind}", doc, []
        return
    key = talos_key(doc)
    if key:
        yield key, doc, []
        return
    if file_path.name in ("talconfig.yaml", "talconfig.yml") or (
        "clusterName" in doc and isinstance(doc.get("nodes"), list)
    ):
        yield from talconfig_targets(doc)


def patch_targets(patches, base):
    if not isinstance(patches, list):
        return
    for i, patch in enumerate(patches):
        if not isinstance(patch, str) or patch.lstrip().startswith("@"):
            continue
        try:
            docs = list(yaml.load_all(patch, Loader=Loader))
        except yaml.YAMLError:
            continue
        for j, pdoc in enumerate(docs):
            if isinstance(pdoc, dict):
                key = talos_key(pdoc)
                if key:
                    yield key, pdoc, base + [i, f"<patch doc {j}>"]


def talconfig_targets(doc):
    groups = [(["controlPlane"], doc.get("controlPlane")), (["worker"], doc.get("worker"))]
    for i, node in enumerate(doc.get("nodes") or []):
        groups.append((["nodes", i], node))
    yield from patch_targets(doc.get("patches"), ["patches"])
    for base, cfg in groups:
        if not isinstance(cfg, dict):
            continue
        for j, iface in enumerate(cfg.get("networkInterfaces") or []):
            yield "talos.dev/v1alpha1 Device", iface, base + ["networkInterfaces", j]
        yield from patch_targets(cfg.get("patches"), base + ["patches"])


def compare_with_official(path):
    """Field names of our Talos multi-document kinds against the official schema's.

    Prints one line per kind whose top-level property names differ (the `$patch`
    directive we add is not counted). Returns the number of such kinds.
    """
    official = json.loads(path.read_text(encoding="utf-8"))
    ours = json.loads((ROOT / "schemas" / "talos.json").read_text(encoding="utf-8"))
    by_kind = {}
    for name, schema in official["$defs"].items():
        kind = schema.get("properties", {}).get("kind", {}).get("enum", [None])[0]
        if kind:
            by_kind[kind] = name
    # The official schema spells this kind's enum "KubeSpanEndpoints"; the registered
    # document kind is "KubeSpanEndpointsConfig".
    by_kind.setdefault("KubeSpanEndpointsConfig", by_kind.get("KubeSpanEndpoints"))
    diffs = 0
    for key, schema in ours["kinds"].items():
        kind = key.split(" ", 1)[1]
        if kind in ("Config", "Device"):
            continue
        mine = ours["$defs"][schema["$ref"].rsplit("/", 1)[1]]
        theirs = official["$defs"].get(by_kind.get(kind) or "", {})
        a = set(mine.get("properties", {})) - {"$patch"}
        b = set(theirs.get("properties", {}))
        if a != b:
            diffs += 1
            print(f"talos {kind}: only ours {sorted(a - b)}, only official {sorted(b - a)}")
    print(f"talos multi-doc kinds compared with {path}: {diffs} differ")
    return diffs


def in_archive(rel):
    return any(part in (".archive", "archive") for part in rel.parts)


SELF_TEST = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: x}
spec:
  interval: 10m
  retryIntervall: 1m
  prune: "true"
  sourceRef: {kind: GitRepo, name: flux-system}
  timeout: 5 minutes
  targetNamespace: ${NS}
  wait: ${WAIT}
  postBuild:
    substitute: {A: "1"}
    substituteFrom: [{kind: Secret, name: s, optinal: true}]
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: y}
spec:
  interval: 1h
  retryInterval: 5m
  chart:
    spec:
      chart: app-template
      sourceRef: {kind: HelmRepository, name: bjw-s}
  install:
    remediation: {retries: "3"}
    strategy: {retryInterval: 1m}
  upgrade: {cleanupOnFail: true, remediation: {strategy: rollback}}
  values: {anything: [1, 2], goes: {here: true}}
  valuesFrom: [{kind: Secret, name: v, valueKey: x}]
---
version: v1alpha1
machine:
  type: workr
  kubelet: {whatever: 1}
  network:
    interface: []
    interfaces:
      - interface: eth0
        dhcp: yes
        dhcpp: true
        mtu: "1500"
      - {interface: eth1, deviceSelector: {driver: e1000}}
      - {interface: eth2, $patch: delete}
cluster: {anything: {goes: here}}
---
apiVersion: v1alpha1
kind: LinkConfig
name: eth0
mtu: 9000
adresses: [{address: 10.0.0.1/24}]
---
apiVersion: v1alpha1
kind: KubeSpanEndpointsConfig
extraAnnouncedEndpoints: ["1.2.3.4:51820"]
"""

SELF_TEST_EXPECTED = {
    (0, "spec", "unknown-field"),
    (0, "spec.prune", "invalid-value"),
    (0, "spec.sourceRef.kind", "invalid-value"),
    (0, "spec.timeout", "invalid-value"),
    (0, "spec.postBuild.substituteFrom[0]", "unknown-field"),
    (1, "spec", "unknown-field"),
    (1, "spec.install.remediation.retries", "invalid-value"),
    (1, "spec.install.strategy", "invalid-value"),
    (1, "spec.valuesFrom[0]", "unknown-field"),
    (2, "machine.type", "invalid-value"),
    (2, "machine.network", "unknown-field"),
    (2, "machine.network.interfaces[0]", "unknown-field"),
    (2, "machine.network.interfaces[0].mtu", "invalid-value"),
    (2, "machine.network.interfaces[1]", "invalid-value"),
    (3, ".", "unknown-field"),
}


def self_test():
    validators = load_validators()
    got = set()
    for n, doc in enumerate(yaml.load_all(SELF_TEST, Loader=Loader)):
        for key, inst, base in targets(doc, Path("self-test.yaml")):
            for err in leaf_errors(validators[key], inst):
                if not has_placeholder(err.instance):
                    got.add((n, path_str(base + list(err.absolute_path)), describe(err)[0]))
    missing, extra = SELF_TEST_EXPECTED - got, got - SELF_TEST_EXPECTED
    for item in sorted(missing):
        print(f"self-test: expected, not reported: {item}")
    for item in sorted(extra):
        print(f"self-test: reported, not expected: {item}")
    ok = not missing and not extra
    print(f"self-test: {len(got & SELF_TEST_EXPECTED)} passed, {len(missing) + len(extra)} failed")
    return 0 if ok else 1


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    dirs = [Path(a) for a in argv] or [Path(__file__).resolve().parents[2] / "shared" / "corpora"]
    validators = load_validators()
    stats = defaultdict(Counter)
    findings = []
    for top in dirs:
        corpora = sorted(p for p in top.iterdir() if p.is_dir()) if not any(
            top.glob("*.y*ml")
        ) else [top]
        for corpus in corpora:
            files = sorted(
                p for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
            )
            for f in files:
                rel = f.relative_to(corpus)
                try:
                    docs = list(yaml.load_all(f.read_text(encoding="utf-8"), Loader=Loader))
                except (yaml.YAMLError, UnicodeDecodeError):
                    stats[corpus.name]["files unparsable (skipped)"] += 1
                    continue
                stats[corpus.name]["files"] += 1
                for n, doc in enumerate(docs):
                    for key, inst, base in targets(doc, f):
                        v = validators.get(key)
                        if v is None:
                            continue
                        stats[corpus.name]["documents validated"] += 1
                        stats[corpus.name][f"  {key}"] += 1
                        for err in leaf_errors(v, inst):
                            if has_placeholder(err.instance):
                                stats[corpus.name]["placeholder errors dropped"] += 1
                                continue
                            cat, msg = describe(err)
                            archived = in_archive(rel)
                            bucket = ("archived " if archived else "") + cat
                            stats[corpus.name][bucket] += 1
                            where = path_str(base + list(err.absolute_path))
                            findings.append(
                                (corpus.name, f"{rel}", n, where, key, cat, msg, archived)
                            )
    for corpus, rel, n, where, key, cat, msg, archived in findings:
        tag = " [archive]" if archived else ""
        print(f"{corpus}/{rel} (doc {n}) {where}: schema/{cat}: {msg}  <{key}>{tag}")
    print()
    for corpus in sorted(stats):
        print(f"== {corpus}")
        for k, v in sorted(stats[corpus].items(), key=lambda kv: (kv[0].startswith("  "), kv[0])):
            print(f"   {k}: {v}")
    total = sum(1 for f in findings if not f[-1])
    print(f"\nfindings outside archives: {total}; in archives: {len(findings) - total}")
    official = Path(__file__).resolve().parents[2] / "shared" / "reference" / "schemas" / "talos-config.schema.json"
    if official.exists():
        print()
        compare_with_official(official)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
