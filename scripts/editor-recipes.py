#!/usr/bin/env python3
"""Runs the README's editor recipes against a gitops-lint binary.

    python3 scripts/editor-recipes.py [BINARY]

BINARY defaults to target/debug/gitops-lint. The snippets are taken from the
README's "Editor" section, so what is tested is what is written there:
- the VS Code settings are parsed as JSON, the Helix configuration as TOML;
- the Vim `makeprg`/`errorformat` command runs, and its lines match the format
  (byte columns, as Vim counts them);
- every Neovim found on PATH (or named by NVIM, several separated by `:`) runs
  headless with the snippet for its version, opens a HelmRelease with a finding
  in a fresh repository, and must show the server's diagnostic.
Exit status 1 when a recipe fails; a Neovim that is not installed is reported as
skipped.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAD_HR = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: a
  annotations: {note: "é"}
spec:
  interval: 1h
  retryInterval: 2m
"""


def section():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    start = text.index("### Editor\n")
    return text[start:text.index("\n## ", start)]


def block_after(text, marker, lang):
    """The first ```lang block after the line holding `marker`."""
    at = text.index(marker)
    m = re.compile(r"```%s\n(.*?)```" % lang, re.S).search(text, at)
    if not m:
        raise SystemExit("no %s block after %r in the README" % (lang, marker))
    return m.group(1)


def repository(base):
    repo = os.path.join(base, "repo")
    os.makedirs(os.path.join(repo, ".git"))
    os.makedirs(os.path.join(repo, "apps"))
    path = os.path.join(repo, "apps", "hr.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(BAD_HR)
    return repo, path


DRIVER = r"""
vim.cmd("filetype on")
local ok, err = pcall(dofile, "%(snippet)s")
if not ok then
  vim.fn.writefile({"snippet failed: " .. tostring(err)}, "%(out)s")
  vim.cmd("qa!")
end
vim.cmd("edit %(file)s")
local found = vim.wait(20000, function()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.code == "flux/no-retry-interval" or (d.user_data and d.user_data.lsp and d.user_data.lsp.code == "flux/no-retry-interval") then
      return true
    end
  end
  return false
end, 100)
local lines = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(lines, string.format("%%d:%%d %%s", d.lnum + 1, d.col + 1, d.message:gsub("\n.*", "")))
end
table.insert(lines, found and "found" or "missing")
vim.fn.writefile(lines, "%(out)s")
vim.cmd("qa!")
"""


def nvim_version(nvim):
    out = subprocess.run([nvim, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def run_nvim(nvim, snippet, binary_dir, base):
    repo, path = repository(tempfile.mkdtemp(dir=base))
    lua = os.path.join(base, "snippet-%d.lua" % os.getpid())
    with open(lua, "w") as f:
        f.write(snippet)
    out = os.path.join(base, "out.txt")
    if os.path.exists(out):
        os.remove(out)
    driver = os.path.join(base, "driver.lua")
    with open(driver, "w") as f:
        f.write(DRIVER % {"snippet": lua, "file": path, "out": out})
    env = dict(os.environ, PATH=binary_dir + os.pathsep + os.environ.get("PATH", ""),
               XDG_CONFIG_HOME=base, XDG_DATA_HOME=base, XDG_STATE_HOME=base)
    subprocess.run([nvim, "--headless", "-u", "NONE", "-i", "NONE", "-c", "luafile " + driver],
                   cwd=repo, env=env, timeout=60, capture_output=True)
    result = open(out).read() if os.path.exists(out) else "no output"
    return result.strip().endswith("found"), result


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                             else os.path.join(ROOT, "target", "debug", "gitops-lint"))
    text = section()
    failed = []

    json.loads(block_after(text, "VS Code, with a generic LSP client", "json"))
    print("ok: VS Code settings are JSON")
    try:
        import tomllib
        tomllib.loads(block_after(text, "Helix (", "toml"))
        print("ok: Helix configuration is TOML")
    except ImportError:
        print("skipped: Helix configuration (Python 3.11's tomllib is needed)")

    vim = block_after(text, "Vim (`:make`", "vim")
    makeprg = re.search(r"makeprg=(.*)", vim).group(1).replace("\\ ", " ").strip()
    with tempfile.TemporaryDirectory() as base:
        repo, path = repository(base)
        cmd = makeprg.replace("%", "apps/hr.yaml").split()
        cmd[0] = binary
        out = subprocess.run(cmd, cwd=repo, capture_output=True, text=True).stdout
        # errorformat %f:%l:%c:\ %m, byte columns: `retryInterval` is at byte 3.
        if re.match(r"^apps/hr\.yaml:8:3: error\[flux/no-retry-interval\]", out):
            print("ok: Vim makeprg and errorformat")
        else:
            failed.append("vim")
            print("FAILED: Vim makeprg output %r" % out)

    snippets = {
        (0, 11): block_after(text, "Neovim 0.11 or later", "lua"),
        (0, 10): block_after(text, "Neovim 0.10:", "lua"),
        (0, 7): block_after(text, "Neovim 0.7 to 0.9 (Debian", "lua"),
    }
    nvims = [n for n in os.environ.get("NVIM", "").split(":") if n] or \
        [n for n in [shutil.which("nvim")] if n]
    if not nvims:
        print("skipped: Neovim recipes (no nvim on PATH; NVIM names others)")
    for nvim in nvims:
        version = nvim_version(nvim)
        if version is None:
            print("skipped: %s (no version)" % nvim)
            continue
        with tempfile.TemporaryDirectory() as base:
            for since, snippet in sorted(snippets.items(), reverse=True):
                if version < since:
                    continue
                ok, result = run_nvim(nvim, snippet, os.path.dirname(binary), base)
                label = "Neovim %d.%d with the %d.%d recipe" % (version + since)
                if ok:
                    print("ok: " + label)
                else:
                    failed.append(label)
                    print("FAILED: %s: %s" % (label, result))
                break
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
