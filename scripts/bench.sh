#!/usr/bin/env bash
# Benchmarks in one run on this machine: full check at several repository
# sizes against the walk+read floor, peak memory, yamllint on the same corpus,
# and the one-file editor check. Not part of CI (it takes minutes).
#
#   bash scripts/bench.sh [N ...]        # default N: 100 1000 10000 apps
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 10000)
work=${BENCH_DIR:-target/bench}
mkdir -p "$work"

cargo build --release --quiet --examples --bin gitops-lint
bin=target/release/gitops-lint

# yamllint from PyPI, in a venv of its own.
if [ ! -x "$work/venv/bin/yamllint" ]; then
  python3 -m venv "$work/venv" && "$work/venv/bin/pip" install --quiet yamllint==1.37.1 || echo "yamllint unavailable: its ratio is skipped"
fi

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m)"
for n in "${sizes[@]}"; do
  dir="$work/corpus-$n"
  [ -d "$dir" ] || target/release/examples/gen_corpus "$dir" "$n"
  echo
  echo "== $n apps"
  target/release/examples/bench "$dir" 7
  # Peak RSS of one full check.
  /usr/bin/time -f "peak RSS (full check): %M KB" "$bin" check "$dir" --format compact > /dev/null 2> "$work/time.txt" || true
  grep "peak RSS" "$work/time.txt"
  # One changed file, the editor way: the buffer on stdin, the rest from disk.
  one=$(find "$dir/kubernetes/apps" -name helmrelease.yaml | sort | sed -n 1p)
  start=$(date +%s%N)
  "$bin" check - --stdin-filename "$one" --format compact < "$one" > /dev/null || true
  end=$(date +%s%N)
  echo "one-file editor check (one process): $(( (end - start) / 1000000 )) ms"
  # The language server keeps the model: the time of one edit.
  python3 scripts/lsp-bench.py "$dir" "$bin" "${one#"$dir"/}" 15
  # Schema validation's share: the full check without the schema rules.
  s=$(date +%s%N); "$bin" check "$dir" --format compact > /dev/null || true
  m=$(date +%s%N); "$bin" check "$dir" --format compact --ignore schema/ > /dev/null || true
  e=$(date +%s%N)
  echo "schema validation: $(awk "BEGIN {printf \"%.2f\", ($m - $s) / ($e - $m)}")x the check without it"
  # yamllint takes about a second per 20 apps: its ratio is measured up to 1,000 apps.
  if [ -x "$work/venv/bin/yamllint" ] && [ "$n" -le "${YAMLLINT_MAX:-1000}" ]; then
    s=$(date +%s%N)
    "$bin" check "$dir" --format compact > /dev/null || true
    m=$(date +%s%N)
    "$work/venv/bin/yamllint" -d relaxed -f parsable "$dir" > /dev/null || true
    e=$(date +%s%N)
    gl=$(( (m - s) / 1000000 )); yl=$(( (e - m) / 1000000 ))
    echo "yamllint: ${yl} ms, gitops-lint: ${gl} ms, ratio $(awk "BEGIN {printf \"%.1f\", $yl / ($gl > 0 ? $gl : 1)}")x"
  fi
done
