#!/usr/bin/env python3
"""Repacks the CRDs catalog (datreeio/CRDs-catalog, MIT) for the binary.

Usage: scripts/pack-crds-catalog.py CATALOG.tar.zst [OUT_DIR]

Reads `{group}/{kind}_{version}.json` from the archive (subdirectories such as
`openshift/v4.15-strict/` are other layouts and are left out), removes what does
not take part in validation (descriptions, examples, defaults, titles, formats,
the list/map-type annotations and CEL rules), minifies each schema, and writes
into OUT_DIR (default `schemas/catalog`):

- `catalog.bin`: one zstd frame per (group, kind), holding that kind's versions
  one after another;
- `index.tsv`: `group kind version frame_offset frame_len start len` per schema
  (kind in lower case, as in the file names), sorted; the engine reads it to
  find a schema and decompresses only the frame that holds it.

Needs the `zstd` command. The output is deterministic for a given archive.
"""

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import io

# Keys of a schema object that never change what validates.
DROPPED = {
    "description",
    "example",
    "examples",
    "default",
    "title",
    "format",
    "$comment",
    "readOnly",
    "writeOnly",
    "externalDocs",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
}
# Keys whose value is a map of names to schemas.
SCHEMA_MAPS = {"properties", "patternProperties", "definitions", "$defs", "dependencies"}
# Keys whose value is a schema, or a list of schemas.
SCHEMA_VALUES = {"items", "additionalProperties", "additionalItems", "not", "contains", "propertyNames"}
SCHEMA_LISTS = {"allOf", "anyOf", "oneOf"}


def strip(schema):
    if isinstance(schema, list):
        return [strip(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in DROPPED:
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            value = {k: strip(v) if isinstance(v, dict) else v for k, v in value.items()}
        elif key in SCHEMA_VALUES or key in SCHEMA_LISTS:
            value = strip(value)
        out[key] = value
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    source = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else "schemas/catalog"
    raw = open(source, "rb").read()
    digest = hashlib.sha256(raw).hexdigest()
    tar_bytes = subprocess.run(["zstd", "-dc", source], check=True, capture_output=True).stdout
    kinds = {}
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for member in tar.getmembers():
            parts = member.name.lstrip("./").split("/")
            if not member.isfile() or len(parts) != 2 or not parts[1].endswith(".json"):
                continue
            group, name = parts
            stem = name[: -len(".json")]
            if "_" not in stem:
                continue
            kind, version = stem.rsplit("_", 1)
            schema = json.load(tar.extractfile(member))
            text = json.dumps(strip(schema), separators=(",", ":"), sort_keys=True)
            kinds.setdefault((group, kind.lower()), []).append((version, text.encode()))
    os.makedirs(out_dir, exist_ok=True)
    blob = bytearray()
    rows = []
    for (group, kind) in sorted(kinds):
        versions = sorted(kinds[(group, kind)])
        plain = bytearray()
        spans = []
        for version, text in versions:
            spans.append((version, len(plain), len(text)))
            plain += text
        frame = subprocess.run(
            ["zstd", "-19", "-q", "-c", "--no-check"], input=bytes(plain), check=True, capture_output=True
        ).stdout
        offset = len(blob)
        blob += frame
        for version, start, length in spans:
            rows.append(f"{group}\t{kind}\t{version}\t{offset}\t{len(frame)}\t{start}\t{length}\n")
    with open(os.path.join(out_dir, "catalog.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(out_dir, "index.tsv"), "w") as f:
        f.write(f"# packed from crds-catalog.tar.zst sha256:{digest} by scripts/pack-crds-catalog.py\n")
        f.write("# group\tkind\tversion\tframe_offset\tframe_len\tstart\tlen\n")
        f.writelines(rows)
    print(f"{len(rows)} schemas of {len(kinds)} kinds, {len(blob)} bytes packed", file=sys.stderr)


if __name__ == "__main__":
    main()
