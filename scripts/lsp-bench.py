#!/usr/bin/env python3
"""One-file editor time: starts `gitops-lint lsp` on a repository, opens one file,
then changes it N times and reports how long each change takes to give its
diagnostics back (didChange -> publishDiagnostics), median/min/max.

    python3 scripts/lsp-bench.py ROOT BINARY RELATIVE_FILE [CHANGES]
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
    latencies = []
    for version in range(2, 2 + changes):
        t = time.time()
        send({"jsonrpc": "2.0", "method": "textDocument/didChange",
              "params": {"textDocument": {"uri": uri, "version": version},
                         "contentChanges": [{"text": text + "# edit %d\n" % version}]}})
        diagnostics_for(uri)
        latencies.append((time.time() - t) * 1000)
    print("one edit (didChange -> publishDiagnostics): median %.0f ms, min %.0f, max %.0f"
          % (statistics.median(latencies), min(latencies), max(latencies)))
    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
    while recv().get("id") != 2:
        pass
    send({"jsonrpc": "2.0", "method": "exit", "params": None})
    proc.wait()


if __name__ == "__main__":
    main()
