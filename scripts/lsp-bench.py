#!/usr/bin/env python3
"""One-file editor time: starts `gitops-lint lsp` on a repository, opens one file,
then changes it N times and reports how long each change takes to give its
diagnostics back (didChange -> publishDiagnostics), median/min/max, for three
kinds of edit:
- a comment added at the end;
- a value changed (the first `interval:`);
- the first object renamed (its `name:` under `metadata`): the file then holds
  other objects, and the model is built again.

    python3 scripts/lsp-bench.py ROOT BINARY RELATIVE_FILE [CHANGES]

With GITOPS_LINT_BURST=N, it then sends N edits (a comment added) without
waiting, as a fast typist's editor does, and reports how many times the
diagnostics were published and how long after the last edit the final
text's came (publishes of the following 2 s are counted too).
"""
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse


def main():
    root, binary, rel = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    changes = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    proc = subprocess.Popen([binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(msg):
        body = json.dumps(msg).encode()
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        proc.stdin.flush()

    def recv():
        length = None
        while True:
            line = proc.stdout.readline().strip()
            if not line:
                break
            if line.startswith(b"Content-Length:"):
                length = int(line.split(b":")[1])
        return json.loads(proc.stdout.read(length))

    def diagnostics_for(uri):
        while True:
            m = recv()
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                return m

    uri = "file://" + urllib.parse.quote(os.path.join(root, rel))
    start = time.time()
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
          "params": {"processId": None, "rootUri": "file://" + root, "capabilities": {}}})
    while "id" not in recv():
        pass
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    text = open(os.path.join(root, rel)).read()
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
          "params": {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}})
    first = diagnostics_for(uri)
    print("initialize + first diagnostics: %.0f ms (%d findings)"
          % ((time.time() - start) * 1000, len(first["params"]["diagnostics"])))
    version = 1
    lines = text.split("\n")

    def replaced(prefix, make):
        """The text with the first line that starts with `prefix` rewritten."""
        for i, line in enumerate(lines):
            if line.lstrip().startswith(prefix):
                indent = line[: len(line) - len(line.lstrip())]
                return "\n".join(lines[:i] + [indent + make(line.lstrip())] + lines[i + 1:])
        return None

    edits = [
        ("comment added", lambda v: text + "# edit %d\n" % v),
        ("value changed", lambda v: replaced("interval:", lambda _: "interval: %dm" % v)),
        ("object renamed", lambda v: replaced("name:", lambda l: "%s-e%d" % (l, v))),
    ]
    for what, edit in edits:
        if edit(0) is None:
            continue
        latencies = []
        for _ in range(changes):
            version += 1
            t = time.time()
            send({"jsonrpc": "2.0", "method": "textDocument/didChange",
                  "params": {"textDocument": {"uri": uri, "version": version},
                             "contentChanges": [{"text": edit(version)}]}})
            diagnostics_for(uri)
            latencies.append((time.time() - t) * 1000)
        print("one edit, %s (didChange -> publishDiagnostics): median %.0f ms, min %.0f, max %.0f"
              % (what, statistics.median(latencies), min(latencies), max(latencies)))
    burst = int(os.environ.get("GITOPS_LINT_BURST", "0"))
    if burst:
        first_version = version + 1
        began = time.time()
        for _ in range(burst):
            version += 1
            send({"jsonrpc": "2.0", "method": "textDocument/didChange",
                  "params": {"textDocument": {"uri": uri, "version": version},
                             "contentChanges": [{"text": text + "# burst %d\n" % version}]}})
        sent = time.time()
        publishes = 0
        while True:
            m = diagnostics_for(uri)
            publishes += 1
            if m["params"].get("version") == version:
                settled = time.time() - sent
                total = time.time() - began
                break
        # Anything published later (a stale version) counts too.
        import select
        deadline = time.time() + 2
        while time.time() < deadline:
            if select.select([proc.stdout], [], [], max(0, deadline - time.time()))[0]:
                m = recv()
                if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                    publishes += 1
            else:
                break
        print("burst of %d edits (versions %d-%d): %d publishes, final text's %.0f ms after the last edit, %.0f ms after the first"
              % (burst, first_version, version, publishes, settled * 1000, total * 1000))
    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
    while recv().get("id") != 2:
        pass
    send({"jsonrpc": "2.0", "method": "exit", "params": None})
    proc.wait()


if __name__ == "__main__":
    main()
