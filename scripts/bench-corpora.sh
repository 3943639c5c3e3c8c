#!/usr/bin/env bash
# Real content: the shared corpora (../shared/corpora, third-party YAML that
# is never committed) copied N times under one root, then, in one run: the
# walk+read floor, walk+read+parse and the full check (bench example,
# alternated rounds, medians), documents/s, peak RSS against the bytes read,
# the one-file check (what pre-commit runs) without the cache, with a cold one
# and with a warm one, and the same figures on the
# generated corpus of 10,000 apps. Not part of CI (it takes minutes).
#
#   bash scripts/bench-corpora.sh [COPIES] [ROUNDS]    # default: 6 copies, 7 rounds
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-6}
rounds=${2:-7}
corpora=${CORPORA:-../shared/corpora}
work=${BENCH_DIR:-target/bench}
[ -d "$corpora" ] || { echo "no corpora at $corpora (set CORPORA=DIR)"; exit 2; }
mkdir -p "$work"

cargo build --release --quiet --examples --bin gitops-lint
bin=$PWD/target/release/gitops-lint

real="$work/corpora-x$copies"
if [ ! -f "$real/.complete" ]; then
  rm -rf "$real"
  for i in $(seq 1 "$copies"); do
    mkdir -p "$real/copy-$i"
    cp -R "$corpora"/. "$real/copy-$i/"
  done
  touch "$real/.complete"
fi
# The copy is one repository: the marker makes it the root of a one-file check
# (without it, the root would be the nearest `.git` above, where `target/` is ignored).
touch "$real/.gitops-lint.yaml"
generated="$work/corpus-10000"
[ -d "$generated" ] || target/release/examples/gen_corpus "$generated" 10000
[ -f "$generated/.gitops-lint.yaml" ] || touch "$generated/.gitops-lint.yaml"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m)"
for dir in "$real" "$generated"; do
  echo
  echo "== $dir"
  bytes=$(find "$dir/" -type f \( -name '*.yaml' -o -name '*.yml' \) -printf '%s\n' | awk '{s += $1} END {print s}')
  echo "YAML bytes: $bytes ($(awk "BEGIN {printf \"%.1f\", $bytes / 1048576}") MiB)"
  target/release/examples/bench "$dir" "$rounds"
  /usr/bin/time -f "%M" "$bin" check "$dir" --format compact --no-cache > /dev/null 2> "$work/time.txt" || true
  rss=$(tail -1 "$work/time.txt")
  echo "peak RSS (full check): $((rss / 1024)) MiB, $(awk "BEGIN {printf \"%.2f\", $rss * 1024 / $bytes}")x the YAML bytes"
  # The one-file check pre-commit runs: the whole root is read for cross-file
  # rules. The corpora have no `.git`, so it runs from the root, which makes
  # the current directory the root.
  one=$(cd "$dir" && find . -name 'kustomization.yaml' | sort | sed -n 1p)
  # Each timed run starts once the files the last one wrote are on disk, so
  # that the kernel writing them out (the cache, 155 MB on the copied
  # corpora) is not timed with it.
  ms() { local s e; sync; s=$(date +%s%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
  median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
  # Alternated: the full check and the one-file check without the cache, the
  # one-file check with a cold cache (removed before each run) and with a
  # warm one (the same file edited in place before each run, as before a
  # commit), then with the file saved as some editors save, by writing a new
  # file and renaming it over the old one: its directory changes, and the
  # run walks the repository again.
  cache="$work/cache-$(basename "$dir")"
  full=(); one_file=(); cold=(); warm=(); renamed=()
  for _ in $(seq 1 "$rounds"); do
    full+=("$(cd "$dir" && ms "$bin" check . --format compact --no-cache)")
    one_file+=("$(cd "$dir" && ms "$bin" check "$one" --format compact --no-cache)")
    rm -rf "$cache"
    cold+=("$(cd "$dir" && ms "$bin" check "$one" --format compact --cache-dir "$OLDPWD/$cache")")
    echo "# edited" >> "$dir/$one"
    warm+=("$(cd "$dir" && ms "$bin" check "$one" --format compact --cache-dir "$OLDPWD/$cache")")
    truncate -s -9 "$dir/$one"
    cp "$dir/$one" "$dir/$one.new" && echo "# edited" >> "$dir/$one.new" && mv "$dir/$one.new" "$dir/$one"
    renamed+=("$(cd "$dir" && ms "$bin" check "$one" --format compact --cache-dir "$OLDPWD/$cache")")
    truncate -s -9 "$dir/$one"
  done
  (cd "$dir" && /usr/bin/time -f "%M" "$bin" check "$one" --format compact --no-cache > /dev/null 2> "$OLDPWD/$work/time.txt") || true
  echo "full check (process, no cache): $(median "${full[@]}") ms (median of $rounds)"
  echo "one-file check, no cache: $(median "${one_file[@]}") ms, peak RSS $(( $(tail -1 "$work/time.txt") / 1024 )) MiB"
  echo "one-file check, cold cache: $(median "${cold[@]}") ms; warm cache (the file edited in place): $(median "${warm[@]}") ms; (saved by rename): $(median "${renamed[@]}") ms"
  rm -rf "$cache"
  # Phase and per-rule times of one full check; the slowest rules.
  GITOPS_LINT_TIMING=1 "$bin" check "$dir" --format compact --no-cache 2> "$work/timing.txt" > /dev/null || true
  grep -v "rule " "$work/timing.txt" | grep -v "  model:" | grep -v "memory after model:"
  grep "rule " "$work/timing.txt" | sort -k4 -g -r | head -3
done
