//! `gitops-lint lsp` driven as an editor drives it: JSON-RPC with
//! Content-Length framing over the child's standard input and output.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(20);

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        Client::start_with_env(&[])
    }

    fn start_with_env(env: &[(&str, &Path)]) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
            .arg("lsp")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start gitops-lint lsp");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return; // the server closed its output
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = Some(n.parse::<usize>().expect("a length"));
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                reader.read_exact(&mut body).expect("the message body");
                let msg: Value = serde_json::from_slice(&body).expect("JSON");
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            incoming,
            next_id: 0,
        }
    }

    fn send(&mut self, msg: Value) {
        let body = serde_json::to_string(&msg).unwrap();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its result (skipping notifications meanwhile).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let msg = self.wait_for(&format!("the answer to `{method}`"), |m| {
            m.get("id") == Some(&json!(id)) && m.get("method").is_none()
        });
        assert!(msg.get("error").is_none(), "{method} failed: {msg}");
        msg["result"].clone()
    }

    /// Reads messages until one matches, failing after TIMEOUT.
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(msg) if wanted(&msg) => return msg,
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("no {what} within {TIMEOUT:?}");
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed its output while waiting for {what}")
                }
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let msg = self.wait_for(&format!("publishDiagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        msg["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn initialize(&mut self, root: &Path) -> Value {
        self.initialize_with(root, json!({}))
    }

    fn initialize_with(&mut self, root: &Path, capabilities: Value) -> Value {
        let result = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(root),
                "workspaceFolders": [{"uri": uri(root), "name": "repo"}],
                "capabilities": capabilities,
            }),
        );
        self.notify("initialized", json!({}));
        result
    }

    /// shutdown, exit, and the exit status.
    fn finish(mut self) -> std::process::ExitStatus {
        let result = self.request("shutdown", Value::Null);
        assert_eq!(result, Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit after `exit`");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri(path: &Path) -> String {
    gitops_lint::lsp::path_to_uri(path).as_str().to_string()
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const HELMRELEASE: &str = "\
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: sonarr
spec:
  interval: 1h
  retryInterval: 2m
  chartRef:
    kind: OCIRepository
    name: app-template
";

/// Byte offset of an LSP position (0-based line, UTF-16 code units).
fn offset(text: &str, pos: &Value) -> usize {
    let line = pos["line"].as_u64().unwrap() as usize;
    let character = pos["character"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= character {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// Applies LSP text edits (non-overlapping) to a text.
fn apply(text: &str, edits: &Value) -> String {
    let mut edits: Vec<(usize, usize, &str)> = edits
        .as_array()
        .expect("edits")
        .iter()
        .map(|e| {
            (
                offset(text, &e["range"]["start"]),
                offset(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    edits.sort();
    let mut out = text.to_string();
    for (start, end, new) in edits.into_iter().rev() {
        out.replace_range(start..end, new);
    }
    out
}

fn repository() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir(root.join(".git")).unwrap();
    write(&root, "apps/sonarr/helmrelease.yaml", HELMRELEASE);
    (dir, root)
}

fn open(client: &mut Client, uri: &str, text: &str) {
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
    );
}

fn change(client: &mut Client, uri: &str, version: i64, text: &str) {
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"text": text}],
        }),
    );
}

#[test]
fn diagnostics_follow_the_buffer_and_code_actions_disable_a_rule() {
    let (_dir, root) = repository();
    let file = uri(&root.join("apps/sonarr/helmrelease.yaml"));
    let mut client = Client::start();
    let init = client.initialize(&root);
    assert_eq!(init["serverInfo"]["name"], "gitops-lint");
    assert_eq!(init["capabilities"]["textDocumentSync"]["change"], 1); // full

    open(&mut client, &file, HELMRELEASE);
    let found = client.diagnostics(&file);
    assert_eq!(found.len(), 1, "{found:?}");
    let d = &found[0];
    assert_eq!(d["code"], "flux/no-retry-interval");
    assert_eq!(d["severity"], 1); // Error
    assert_eq!(d["source"], "gitops-lint");
    // `retryInterval` on the 8th line (0-based 7), indented by two spaces.
    assert_eq!(
        d["range"],
        json!({"start": {"line": 7, "character": 2}, "end": {"line": 7, "character": 15}})
    );
    let finding = d.clone();

    // The code actions for the finding: "disable for this line" inserts the comment above it.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": file},
            "range": finding["range"],
            "context": {"diagnostics": [finding]},
        }),
    );
    let disable = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Disable flux/no-retry-interval for this line")
        .unwrap_or_else(|| panic!("no disable action in {actions}"));
    assert_eq!(disable["kind"], "quickfix");
    assert_eq!(disable["diagnostics"][0]["code"], "flux/no-retry-interval");
    let edits = &disable["edit"]["changes"][file.as_str()];
    assert_eq!(
        edits,
        &json!([{
            "range": {"start": {"line": 7, "character": 0}, "end": {"line": 7, "character": 0}},
            "newText": "  # gitops-lint: disable-next-line=flux/no-retry-interval\n",
        }])
    );

    // The rule's safe fix is offered too; applied as an editor applies it, the
    // finding goes away.
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "remove `spec.retryInterval`")
        .unwrap_or_else(|| panic!("no fix action in {actions}"));
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["isPreferred"], true);
    let fixed = apply(HELMRELEASE, &fix["edit"]["changes"][file.as_str()]);
    assert_eq!(fixed, HELMRELEASE.replace("  retryInterval: 2m\n", ""));
    change(&mut client, &file, 2, &fixed);
    assert_eq!(client.diagnostics(&file), Vec::<Value>::new());
    // No finding left on that line: no action either.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": file},
            "range": finding["range"],
            "context": {"diagnostics": []},
        }),
    );
    assert_eq!(actions, json!([]));

    // Back to the original text, then with the disable comment applied: suppressed.
    change(&mut client, &file, 3, HELMRELEASE);
    assert_eq!(client.diagnostics(&file).len(), 1);
    // "Fix all" (what editors run on save when asked to) applies every safe fix.
    let all = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": file},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 11, "character": 0}},
            "context": {"diagnostics": [], "only": ["source.fixAll"]},
        }),
    );
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["kind"], "source.fixAll");
    assert_eq!(
        apply(HELMRELEASE, &all[0]["edit"]["changes"][file.as_str()]),
        fixed
    );
    let suppressed = apply(HELMRELEASE, edits);
    assert!(suppressed.contains(
        "  interval: 1h\n  # gitops-lint: disable-next-line=flux/no-retry-interval\n  retryInterval: 2m\n"
    ));
    change(&mut client, &file, 4, &suppressed);
    assert_eq!(client.diagnostics(&file), Vec::<Value>::new());

    let status = client.finish();
    assert_eq!(status.code(), Some(0));
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn has_code(msg: &Value, code: &str) -> bool {
    msg["params"]["diagnostics"]
        .as_array()
        .is_some_and(|d| d.iter().any(|d| d["code"] == code))
}

/// A copy of the fixture where a single-replica Deployment mounts a
/// ReadWriteOnce claim of another file: (its directory, the root, the app's directory).
fn gitea() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let (dir, root) = repository();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/workload/rwo-single-replica-recreate/fires-deployment-default-strategy");
    copy_tree(&fixture, &root);
    std::fs::remove_file(root.join("expected.txt")).unwrap();
    let app = root.join("kubernetes/apps/dev/gitea/app");
    (dir, root, app)
}

#[test]
fn the_rest_of_the_repository_is_context() {
    // A single-replica Deployment whose claim, in another file, is ReadWriteOnce.
    let (_dir, root, app) = gitea();
    let deployment = uri(&app.join("deployment.yaml"));
    let pvc = uri(&app.join("pvc.yaml"));
    const RULE: &str = "workload/rwo-single-replica-recreate";

    let mut client = Client::start();
    client.initialize(&root);
    open(
        &mut client,
        &deployment,
        &std::fs::read_to_string(app.join("deployment.yaml")).unwrap(),
    );
    let found = client.diagnostics(&deployment);
    let finding = found
        .iter()
        .find(|d| d["code"] == RULE)
        .unwrap_or_else(|| panic!("no {RULE} in {found:?}"));
    assert_eq!(
        finding["range"]["start"],
        json!({"line": 6, "character": 2})
    );

    // The claim made ReadWriteMany in its (unsaved) buffer: the finding in the
    // other, open file goes away.
    let pvc_text = std::fs::read_to_string(app.join("pvc.yaml")).unwrap();
    open(&mut client, &pvc, &pvc_text);
    change(
        &mut client,
        &pvc,
        2,
        &pvc_text.replace("ReadWriteOnce", "ReadWriteMany"),
    );
    client.wait_for("the Deployment's finding to clear", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == deployment
            && !has_code(m, RULE)
    });

    // Closing the buffer brings the file on disk back, and the finding with it.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": pvc}}),
    );
    client.wait_for("the finding to come back", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == deployment
            && has_code(m, RULE)
    });

    // The same change made on disk (a `git pull`), as the editor's file watcher reports it.
    std::fs::write(
        app.join("pvc.yaml"),
        pvc_text.replace("ReadWriteOnce", "ReadWriteMany"),
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": pvc, "type": 2}]}),
    );
    client.wait_for("the finding to clear again", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == deployment
            && !has_code(m, RULE)
    });
    assert_eq!(client.finish().code(), Some(0));
}

/// The severity of the open document's finding of `rule`, once it is `wanted`.
fn wait_severity(client: &mut Client, uri: &str, rule: &str, wanted: Option<i64>, what: &str) {
    client.wait_for(what, |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["diagnostics"]
                .as_array()
                .map(|ds| {
                    ds.iter()
                        .find(|d| d["code"] == rule)
                        .map(|d| d["severity"].as_i64().unwrap_or(0))
                })
                .unwrap_or(None)
                == wanted
    });
}

#[test]
fn edits_kept_in_place_and_renames_that_rebuild_agree() {
    // The claim's access mode (an edit the model takes in place) and its name
    // (an edit that rebuilds the model) both decide the Deployment's finding.
    let (_dir, root, app) = gitea();
    let deployment = uri(&app.join("deployment.yaml"));
    let pvc = uri(&app.join("pvc.yaml"));
    let deployment_text = std::fs::read_to_string(app.join("deployment.yaml")).unwrap();
    let pvc_text = std::fs::read_to_string(app.join("pvc.yaml")).unwrap();
    const RULE: &str = "workload/rwo-single-replica-recreate";
    const ERROR: Option<i64> = Some(1);
    const WARNING: Option<i64> = Some(2);

    let mut client = Client::start();
    client.initialize(&root);
    open(&mut client, &deployment, &deployment_text);
    wait_severity(&mut client, &deployment, RULE, ERROR, "the error");
    open(&mut client, &pvc, &pvc_text);

    // Renamed: the claim the Deployment mounts is nowhere, its mode unknown.
    let renamed = pvc_text.replace("name: gitea-data", "name: gitea-other");
    change(&mut client, &pvc, 2, &renamed);
    wait_severity(&mut client, &deployment, RULE, WARNING, "the warning");
    // A value of the renamed claim: in place (the Deployment's findings are
    // the same, so only the claim's are published).
    change(&mut client, &pvc, 3, &format!("{renamed}# a comment\n"));
    client.wait_for("the claim's findings", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == pvc
            && m["params"]["version"] == 3
    });
    // The name back, ReadWriteMany: rebuilt, and no finding.
    let shared = pvc_text.replace("ReadWriteOnce", "ReadWriteMany");
    change(&mut client, &pvc, 4, &shared);
    wait_severity(&mut client, &deployment, RULE, None, "no finding");
    // ReadWriteOnce again, in place: the error is back.
    change(&mut client, &pvc, 5, &pvc_text);
    wait_severity(&mut client, &deployment, RULE, ERROR, "the error again");
    // The Deployment's own edits, in place, keep it.
    change(
        &mut client,
        &deployment,
        2,
        &format!("# edited\n{deployment_text}"),
    );
    wait_severity(
        &mut client,
        &deployment,
        RULE,
        ERROR,
        "the error on the edited Deployment",
    );
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn configuration_and_files_on_disk_are_followed() {
    let (_dir, root) = repository();
    write(
        &root,
        ".gitops-lint.yaml",
        "rules:\n  flux/no-retry-interval: warning\n",
    );
    let file = uri(&root.join("apps/sonarr/helmrelease.yaml"));
    let config = uri(&root.join(".gitops-lint.yaml"));
    let mut client = Client::start();
    client.initialize_with(
        &root,
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}),
    );
    // The server asks to be told about YAML files that change on disk.
    let register = client.wait_for("client/registerCapability", |m| {
        m["method"] == "client/registerCapability"
    });
    let registration = &register["params"]["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    let id = register["id"].clone();
    client.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));

    // The configured severity applies.
    open(&mut client, &file, HELMRELEASE);
    let found = client.diagnostics(&file);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["severity"], 2); // Warning

    // A configuration that cannot be read: the error is shown on its line, and
    // the defaults apply.
    write(
        &root,
        ".gitops-lint.yaml",
        "rules:\n  flux/no-retry-interval: warning\n  flux/no-such-rule: error\n",
    );
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": config, "type": 2}]}),
    );
    let shown = client.diagnostics(&config);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0]["range"]["start"]["line"], 2);
    assert!(
        shown[0]["message"]
            .as_str()
            .unwrap()
            .contains("flux/no-such-rule"),
        "{shown:?}"
    );
    let found = client.diagnostics(&file);
    assert_eq!(found[0]["severity"], 1); // Error, the rule's default

    // Fixed again: the error is cleared.
    write(
        &root,
        ".gitops-lint.yaml",
        "rules:\n  flux/no-retry-interval: info\n",
    );
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": config, "type": 2}]}),
    );
    assert_eq!(client.diagnostics(&config), Vec::<Value>::new());
    assert_eq!(client.diagnostics(&file)[0]["severity"], 3); // Information

    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn exit_without_shutdown_is_an_error() {
    let (_dir, root) = repository();
    let mut client = Client::start();
    client.initialize(&root);
    client.notify("exit", Value::Null);
    drop(client.stdin.take());
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(2));
}

#[test]
fn schema_findings_follow_edits_and_crds() {
    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n                size: {type: integer}\n";
    const WIDGET: &str =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  colour: red\n";
    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  strateg: {type: Recreate}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: \"nginx:1.27\"}]\n";
    let (_dir, root) = repository();
    write(&root, "crd.yaml", CRD);
    write(&root, "widget.yaml", WIDGET);
    write(&root, "deploy.yaml", DEPLOY);
    let (crd, widget, deploy) = (
        uri(&root.join("crd.yaml")),
        uri(&root.join("widget.yaml")),
        uri(&root.join("deploy.yaml")),
    );
    const RULE: &str = "schema/unknown-field";
    let mut client = Client::start();
    client.initialize(&root);
    open(&mut client, &widget, WIDGET);
    assert!(
        client
            .diagnostics(&widget)
            .iter()
            .any(|d| d["code"] == RULE)
    );
    open(&mut client, &deploy, DEPLOY);
    assert!(
        client
            .diagnostics(&deploy)
            .iter()
            .any(|d| d["code"] == RULE)
    );

    // Fixing the Deployment clears its finding; the Widget's stays.
    change(
        &mut client,
        &deploy,
        2,
        &DEPLOY.replace("strateg:", "strategy:"),
    );
    client.wait_for("the Deployment's finding to clear", |m| {
        m["params"]["uri"] == deploy && !has_code(m, RULE)
    });
    // The CRD learns `colour`: the Widget, in another file, is valid now.
    open(&mut client, &crd, CRD);
    change(
        &mut client,
        &crd,
        2,
        &CRD.replace(
            "size: {type: integer}",
            "size: {type: integer}\n                colour: {type: string}",
        ),
    );
    client.wait_for("the Widget's finding to clear", |m| {
        m["params"]["uri"] == widget && !has_code(m, RULE)
    });
    // A typo typed again comes back.
    change(&mut client, &deploy, 3, DEPLOY);
    client.wait_for("the Deployment's finding to return", |m| {
        m["params"]["uri"] == deploy && has_code(m, RULE)
    });
    assert_eq!(client.finish().code(), Some(0));
}

/// `initialize` with these parameters (no root unless they name one).
fn initialize_params(client: &mut Client, params: Value) -> Value {
    let result = client.request("initialize", params);
    client.notify("initialized", json!({}));
    result
}

/// Every publishDiagnostics for `uri` until one is for `version`, then
/// `quiet` more of waiting for any other: (how many, when the last came).
fn publishes_until(
    client: &mut Client,
    uri: &str,
    version: i64,
    quiet: Duration,
) -> (Vec<Value>, Instant) {
    let mut seen = Vec::new();
    let last = loop {
        let msg = client.wait_for(&format!("diagnostics of version {version}"), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        let at = Instant::now();
        let v = msg["params"]["version"].as_i64();
        seen.push(msg);
        if v == Some(version) {
            break at;
        }
    };
    let deadline = Instant::now() + quiet;
    while let Ok(msg) = client
        .incoming
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
            seen.push(msg);
        }
    }
    (seen, last)
}

/// A repository of `apps` apps, each a Flux Kustomization's directory with a
/// kustomization and a HelmRelease: `2 * apps` files.
fn generated(apps: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir(root.join(".git")).unwrap();
    for i in 0..apps {
        write(
            &root,
            &format!("apps/app-{i}/kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - helmrelease.yaml\n",
        );
        write(
            &root,
            &format!("apps/app-{i}/helmrelease.yaml"),
            &HELMRELEASE.replace("sonarr", &format!("app-{i}")),
        );
    }
    (dir, root)
}

/// Types `edits` versions of a document as fast as the pipe takes them and
/// checks that few lints are published, the last for the final text, soon
/// after the last edit: within 1 s in an optimized build; in a debug build,
/// where one lint of a large file takes longer than that, within the time of
/// two lints (linting every version would take `edits` of them).
fn fast_typist(root: &Path, rel: &str, text: &str, edits: i64) {
    let file = uri(&root.join(rel));
    let mut client = Client::start();
    client.initialize(root);
    open(&mut client, &file, text);
    client.diagnostics(&file);
    // One edit alone: what a lint takes here.
    change(&mut client, &file, 2, &format!("{text}# one edit\n"));
    let started = Instant::now();
    let (_, done) = publishes_until(&mut client, &file, 2, Duration::ZERO);
    let one = done.duration_since(started);
    // A loaded machine (a build beside the tests) can slow the burst's lints
    // more than the single one measured before it: room for a third lint.
    let bound = if cfg!(debug_assertions) {
        (one * 3 + Duration::from_secs(1)).max(Duration::from_secs(2))
    } else {
        Duration::from_secs(1)
    };
    for v in 3..=edits + 2 {
        change(&mut client, &file, v, &format!("{text}# edit {v}\n"));
    }
    let sent = Instant::now();
    let (seen, last) = publishes_until(&mut client, &file, edits + 2, Duration::from_secs(2));
    let versions: Vec<_> = seen
        .iter()
        .map(|m| m["params"]["version"].clone())
        .collect();
    assert!(seen.len() <= 5, "{} publishes: {versions:?}", seen.len());
    assert_eq!(
        seen.last().unwrap()["params"]["version"],
        edits + 2,
        "{versions:?}"
    );
    let settle = last.duration_since(sent);
    assert!(
        settle <= bound,
        "the last findings came {settle:?} after the last edit (one edit alone: {one:?})"
    );
    assert!(has_code(seen.last().unwrap(), "flux/no-retry-interval"));
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn a_burst_of_edits_on_a_large_repository_lints_a_few_times() {
    let (_dir, root) = generated(1000);
    let rel = "apps/app-7/helmrelease.yaml";
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    fast_typist(&root, rel, &text, 40);
}

#[test]
fn a_burst_of_edits_of_a_large_file_lints_a_few_times() {
    let (_dir, root) = repository();
    let mut text = HELMRELEASE.to_string();
    text.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    let mut i = 0;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&format!("  key{i}: \"{}\"\n", "x".repeat(100)));
        i += 1;
    }
    write(&root, "apps/big/big.yaml", &text);
    fast_typist(&root, "apps/big/big.yaml", &text, 10);
}

const KUSTOMIZATION: &str =
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - a.yaml\n";
const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
const MISSING: &str = "kustomize/missing-reference";

#[test]
fn a_file_created_on_disk_after_start_gets_cross_file_findings() {
    let (_dir, root) = repository();
    let mut client = Client::start();
    client.initialize(&root);
    // Created after the walk, then opened: the files beside it are known.
    write(&root, "apps/new/kustomization.yaml", KUSTOMIZATION);
    let file = uri(&root.join("apps/new/kustomization.yaml"));
    open(&mut client, &file, KUSTOMIZATION);
    let found = client.diagnostics(&file);
    assert!(found.iter().any(|d| d["code"] == MISSING), "{found:?}");
    // a.yaml appears on disk, with no word from the client: the finding goes.
    write(&root, "apps/new/a.yaml", CONFIGMAP);
    client.wait_for("the missing reference to clear", |m| {
        m["params"]["uri"] == file && !has_code(m, MISSING)
    });
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn a_rename_on_disk_updates_the_kustomization_that_lists_the_old_name() {
    let (_dir, root) = repository();
    write(&root, "apps/x/kustomization.yaml", KUSTOMIZATION);
    write(&root, "apps/x/a.yaml", CONFIGMAP);
    let file = uri(&root.join("apps/x/kustomization.yaml"));
    let mut client = Client::start();
    client.initialize(&root);
    open(&mut client, &file, KUSTOMIZATION);
    let found = client.diagnostics(&file);
    assert!(!found.iter().any(|d| d["code"] == MISSING), "{found:?}");
    std::fs::rename(root.join("apps/x/a.yaml"), root.join("apps/x/b.yaml")).unwrap();
    client.wait_for("the missing reference to a.yaml", |m| {
        m["params"]["uri"] == file && has_code(m, MISSING)
    });
    // Fixed in the buffer: the new name resolves.
    change(
        &mut client,
        &file,
        2,
        &KUSTOMIZATION.replace("a.yaml", "b.yaml"),
    );
    client.wait_for("the finding to clear", |m| {
        m["params"]["uri"] == file && m["params"]["version"] == 2 && !has_code(m, MISSING)
    });
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn a_kustomization_outside_the_root_is_linted_alone() {
    let (_dir, root) = repository();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().canonicalize().unwrap();
    write(&outside, "kustomization.yaml", KUSTOMIZATION);
    write(&outside, "hr.yaml", HELMRELEASE);
    let mut client = Client::start();
    client.initialize(&root);
    let k = uri(&outside.join("kustomization.yaml"));
    open(&mut client, &k, KUSTOMIZATION);
    assert_eq!(client.diagnostics(&k), Vec::<Value>::new());
    // The rules of a single file still run.
    let hr = uri(&outside.join("hr.yaml"));
    open(&mut client, &hr, HELMRELEASE);
    let found = client.diagnostics(&hr);
    assert!(found.iter().any(|d| d["code"] == "flux/no-retry-interval"));
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn without_a_root_a_file_without_a_marker_above_is_linted_alone() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    write(&base, "loose/kustomization.yaml", KUSTOMIZATION);
    write(&base, "repo/.gitops-lint.yaml", "rules: {}\n");
    write(&base, "repo/k/kustomization.yaml", KUSTOMIZATION);
    let mut client = Client::start();
    initialize_params(
        &mut client,
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    let loose = uri(&base.join("loose/kustomization.yaml"));
    open(&mut client, &loose, KUSTOMIZATION);
    assert_eq!(client.diagnostics(&loose), Vec::<Value>::new());
    // Under a marker: that repository is the root, and the reference is missing.
    let inside = uri(&base.join("repo/k/kustomization.yaml"));
    open(&mut client, &inside, KUSTOMIZATION);
    let found = client.diagnostics(&inside);
    assert!(found.iter().any(|d| d["code"] == MISSING), "{found:?}");
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn two_workspace_folders_keep_their_own_configurations() {
    let (_a, one) = repository();
    let (_b, two) = repository();
    write(
        &two,
        ".gitops-lint.yaml",
        "rules:\n  flux/no-retry-interval: warning\n",
    );
    let mut client = Client::start();
    initialize_params(
        &mut client,
        json!({
            "processId": null,
            "rootUri": uri(&one),
            "workspaceFolders": [{"uri": uri(&one), "name": "one"}, {"uri": uri(&two), "name": "two"}],
            "capabilities": {},
        }),
    );
    let (f1, f2) = (
        uri(&one.join("apps/sonarr/helmrelease.yaml")),
        uri(&two.join("apps/sonarr/helmrelease.yaml")),
    );
    open(&mut client, &f1, HELMRELEASE);
    assert_eq!(client.diagnostics(&f1)[0]["severity"], 1);
    open(&mut client, &f2, HELMRELEASE);
    assert_eq!(client.diagnostics(&f2)[0]["severity"], 2);
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn an_exclusion_saved_while_the_file_is_open_clears_it() {
    let (_dir, root) = repository();
    write(&root, ".gitops-lint.yaml", "rules: {}\n");
    let file = uri(&root.join("apps/sonarr/helmrelease.yaml"));
    let config = uri(&root.join(".gitops-lint.yaml"));
    let mut client = Client::start();
    client.initialize(&root);
    open(&mut client, &file, HELMRELEASE);
    assert_eq!(client.diagnostics(&file).len(), 1);
    // The configuration edited in the editor and saved.
    let excluded = "exclude: [\"apps/sonarr/**\"]\nrules: {}\n";
    open(&mut client, &config, "rules: {}\n");
    change(&mut client, &config, 2, excluded);
    write(&root, ".gitops-lint.yaml", excluded);
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": config}}),
    );
    client.wait_for("the excluded file's findings to clear", |m| {
        m["params"]["uri"] == file && m["params"]["diagnostics"] == json!([])
    });
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn code_actions_for_every_finding_on_the_line() {
    let (_dir, root) = repository();
    let file = uri(&root.join("apps/sonarr/helmrelease.yaml"));
    let mut client = Client::start();
    client.initialize(&root);
    open(&mut client, &file, HELMRELEASE);
    let found = client.diagnostics(&file);
    let line = found[0]["range"]["start"]["line"].clone();
    // The cursor at the end of the line, past the finding's range.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": file},
            "range": {"start": {"line": line, "character": 40}, "end": {"line": line, "character": 40}},
            "context": {"diagnostics": []},
        }),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"Disable flux/no-retry-interval for this line"),
        "{titles:?}"
    );
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn an_open_buffer_over_the_size_limit_is_not_parsed() {
    let (_dir, root) = repository();
    let file = uri(&root.join("apps/sonarr/helmrelease.yaml"));
    let mut client = Client::start();
    client.initialize(&root);
    let big = format!("{HELMRELEASE}# {}\n", "x".repeat(9 * 1024 * 1024));
    open(&mut client, &file, &big);
    let found = client.diagnostics(&file);
    let codes: Vec<_> = found.iter().map(|d| d["code"].clone()).collect();
    assert_eq!(codes, [json!("lint/skipped-file")], "{found:?}");
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn the_home_directory_as_root_is_not_walked() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().canonicalize().unwrap();
    write(&home, "notes/kustomization.yaml", KUSTOMIZATION);
    write(&home, "repo/k/kustomization.yaml", KUSTOMIZATION);
    std::fs::create_dir(home.join("repo/.git")).unwrap();
    let mut client = Client::start_with_env(&[("HOME", &home)]);
    client.initialize(&home);
    let warning = client.wait_for("a message about the root", |m| {
        m["method"] == "window/showMessage"
    });
    assert!(
        warning["params"]["message"]
            .as_str()
            .unwrap()
            .contains("is not walked"),
        "{warning}"
    );
    // Without a marker above: alone.
    let notes = uri(&home.join("notes/kustomization.yaml"));
    open(&mut client, &notes, KUSTOMIZATION);
    assert_eq!(client.diagnostics(&notes), Vec::<Value>::new());
    // In a repository under it: that repository is the root.
    let inside = uri(&home.join("repo/k/kustomization.yaml"));
    open(&mut client, &inside, KUSTOMIZATION);
    let found = client.diagnostics(&inside);
    assert!(found.iter().any(|d| d["code"] == MISSING), "{found:?}");
    assert_eq!(client.finish().code(), Some(0));
}

#[test]
fn hover_on_an_objects_name_says_what_deploys_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir(root.join(".git")).unwrap();
    write(
        &root,
        "cluster/flux-system/ks.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./cluster\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    );
    write(
        &root,
        "cluster/apps.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./apps\n  prune: true\n  targetNamespace: web\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  postBuild:\n    substitute:\n      DOMAIN: example.org\n",
    );
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site # é\ndata:\n  host: www.${DOMAIN}\n";
    write(&root, "apps/cm.yaml", cm);
    let file = uri(&root.join("apps/cm.yaml"));
    let mut client = Client::start();
    let init = client.initialize(&root);
    assert_eq!(init["capabilities"]["hoverProvider"], true);
    open(&mut client, &file, cm);
    client.diagnostics(&file);
    let hover = |client: &mut Client, line: u32, character: u32| {
        client.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": file}, "position": {"line": line, "character": character}}),
        )
    };
    // On the name (line 3, after `  name: `).
    let on_name = hover(&mut client, 3, 9);
    let text = on_name["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(on_name["contents"]["kind"], "markdown");
    assert!(text.contains("`flux-system/apps`"), "{on_name}");
    assert!(text.contains("`web`"), "{on_name}");
    assert!(text.contains("example.org"), "{on_name}");
    // On `kind`, the same; on another key, nothing.
    assert_eq!(hover(&mut client, 1, 7)["contents"]["value"], text.as_str());
    assert!(hover(&mut client, 5, 3).is_null());
    client.finish();
}

#[test]
fn a_new_buffer_before_an_open_file_keeps_that_files_findings() {
    let (_dir, root) = repository();
    let file = uri(&root.join("apps/sonarr/helmrelease.yaml"));
    let mut client = Client::start();
    client.initialize(&root);
    open(&mut client, &file, HELMRELEASE);
    assert_eq!(client.diagnostics(&file).len(), 1);
    // A new file, not on disk yet, that sorts before the open one: the model
    // is built again with one file more, and the open file's id moves.
    let new = uri(&root.join("apps/radarr/helmrelease.yaml"));
    open(
        &mut client,
        &new,
        &HELMRELEASE.replace("  retryInterval: 2m\n", ""),
    );
    // The new buffer's own publish comes, then an edit of the new buffer
    // makes the folder lint again: the open file keeps its finding.
    let found = client.diagnostics(&new);
    assert!(found.is_empty(), "{found:?}");
    change(&mut client, &file, 2, &format!("{HELMRELEASE}# edited\n"));
    let found = client.diagnostics(&file);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["code"], "flux/no-retry-interval");
    client.finish();
}
