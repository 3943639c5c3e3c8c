#!/usr/bin/env python3
"""Two builds of gitops-lint, the same run, on each real repository of the corpora.

    python3 scripts/compare-corpora.py BASE_BIN NEW_BIN [ROUNDS]    # default: 7 rounds

For every repository in ../shared/corpora (or $CORPORA), alternating the two
binaries, it times a whole check without the cache and a one-file check with a
warm cache (the repository's first `helmrelease.yaml`, or first YAML file;
the cache is filled first and nothing is edited), and prints medians of wall
time and CPU time (user + system), then the totals. Both binaries must give
the same findings: the JSON of each repository's whole check is compared
(without `elapsed_ms`) and a difference is reported.

Not part of CI: it takes a minute or two.
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd, env, cwd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def findings(binary, repo, env):
    out = subprocess.run(
        [binary, "check", str(repo), "--format", "json", "--no-cache"],
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(l for l in out.splitlines() if '"elapsed_ms"' not in l)


def one_file(repo):
    files = sorted(p for p in repo.rglob("*.y*ml") if p.is_file())
    named = [p for p in files if p.name == "helmrelease.yaml"]
    return (named or files)[0].relative_to(repo)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    base, new = (os.path.abspath(b) for b in sys.argv[1:3])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    root = Path(__file__).resolve().parent.parent
    corpora = Path(os.environ.get("CORPORA", root / ".." / "shared" / "corpora"))
    repos = sorted(p for p in corpora.iterdir() if p.is_dir())
    if not repos:
        sys.exit(f"no repositories under {corpora} (set CORPORA=DIR)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITOPS_LINT_")}
    bins = {"base": base, "new": new}
    times = {}
    with tempfile.TemporaryDirectory() as caches:
        for repo in repos:
            if findings(base, repo, env) != findings(new, repo, env):
                print(f"DIFFERENT FINDINGS: {repo.name}")
            file = one_file(repo)
            for name, binary in bins.items():
                cache = os.path.join(caches, f"{repo.name}-{name}")
                subprocess.run(
                    [binary, "check", str(file), "--format", "compact", "--cache-dir", cache],
                    cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
        for _ in range(rounds):
            for repo in repos:
                file = one_file(repo)
                for name, binary in bins.items():
                    cache = os.path.join(caches, f"{repo.name}-{name}")
                    whole = [binary, "check", ".", "--format", "compact", "--no-cache"]
                    one = [binary, "check", str(file), "--format", "compact", "--cache-dir", cache]
                    times.setdefault((repo.name, name, "whole"), []).append(timed(whole, env, repo))
                    times.setdefault((repo.name, name, "one"), []).append(timed(one, env, repo))

    def med(key, i):
        return statistics.median(t[i] for t in times[key])

    print(f"{'repository':36} {'whole check, no cache (wall / CPU ms)':>40} {'one file, warm cache':>34}")
    total = {}
    for repo in repos:
        cells = []
        for run in ("whole", "one"):
            b, n = (repo.name, "base", run), (repo.name, "new", run)
            for key in (b, n):
                for i in (0, 1):
                    total[(key[1], run, i)] = total.get((key[1], run, i), 0) + med(key, i)
            cells.append(f"{med(b, 0):6.1f} -> {med(n, 0):6.1f} / {med(b, 1):6.1f} -> {med(n, 1):6.1f}")
        print(f"{repo.name[:36]:36} {cells[0]:>40} {cells[1]:>34}")
    cells = []
    for run in ("whole", "one"):
        t = lambda who, i: total[(who, run, i)]
        cells.append(f"{t('base', 0):6.0f} -> {t('new', 0):6.0f} / {t('base', 1):6.0f} -> {t('new', 1):6.0f}")
    print(f"{'total':36} {cells[0]:>40} {cells[1]:>34}")


if __name__ == "__main__":
    main()
