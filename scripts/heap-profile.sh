#!/usr/bin/env bash
# What each part of a check holds at the moment its heap is largest: source
# text, YAML trees, the model's tables, schema validation, findings. Builds the
# binary with the system allocator (`--features system-alloc`) so that
# heaptrack sees every allocation, runs one check under heaptrack, and groups
# the peak by the innermost gitops-lint function of each allocation.
# Not part of CI.
#
#   bash scripts/heap-profile.sh DIR      # e.g. target/bench/corpora-x6
#
# Peak RSS is more than the peak heap: the binary, thread stacks and what
# jemalloc keeps of freed memory (`/usr/bin/time -f %M` gives it).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: bash scripts/heap-profile.sh DIR}
command -v heaptrack > /dev/null || { echo "heaptrack is needed (Debian: apt-get install heaptrack)"; exit 2; }
target=target/heap
CARGO_PROFILE_RELEASE_DEBUG=1 cargo build --release --quiet --features system-alloc \
  --bin gitops-lint --target-dir "$target"
out=$PWD/$target/profile
rm -f "$out".*
# heaptrack's own analysis at exit may fail on a large trace; the trace is kept.
heaptrack -o "$out" "$target/release/gitops-lint" check "$dir" --format compact --no-cache \
  > /dev/null 2>&1 || true
heaptrack_print -f "$out.zst" --print-peaks 0 --print-allocators 0 --print-temporary 0 \
  --print-leaks 0 -F "$out.stacks" --flamegraph-cost-type peak 2> /dev/null \
  | grep -E "peak heap memory|calls to allocation"
python3 - "$out.stacks" <<'EOF'
import collections, re, sys

# The first pattern found in the innermost gitops-lint frame names the part.
PARTS = [
    ("source text and YAML trees, packed", ("shared::pack", "shared::Text::pack", "shared::Slab")),
    ("source text", ("SourceFile::from_bytes", "walk::from_read")),
    ("YAML trees", ("gitops_lint::yaml::",)),
    ("model: path suggestions", ("model::paths",)),
    ("model: variables", ("model::vars",)),
    ("model: builds", ("model::build::Builds",)),
    ("model: files, objects, kustomizations", ("model::build::", "model::kustomize", "model::live", "model::talos")),
    ("model: other", ("gitops_lint::model::",)),
    ("schema validation", ("gitops_lint::schema::",)),
    ("findings", ("gitops_lint::rules::", "gitops_lint::diagnostic", "gitops_lint::suppress", "gitops_lint::run")),
    ("file list", ("gitops_lint::session", "gitops_lint::walk")),
    ("output", ("gitops_lint::render",)),
]
parts, total = collections.Counter(), 0
for line in open(sys.argv[1]):
    stack, _, cost = line.rstrip().rpartition(" ")
    cost = int(cost)
    total += cost
    ours = [f for f in stack.split(";") if "gitops_lint" in f]
    inner = ours[-1] if ours else ""
    part = next((name for name, pats in PARTS if any(p in inner for p in pats)), "other")
    parts[part] += cost
print(f"{'part':48} {'MiB':>8}")
for name, cost in parts.most_common():
    print(f"{name:48} {cost / 2**20:8.1f}")
print(f"{'total at the peak':48} {total / 2**20:8.1f}")
EOF
