//! Properties of parsing and linting over generated input: block-style documents
//! like the ones repositories hold (built from a small grammar, so most take the
//! fast path), and arbitrary text over YAML's punctuation (so most are errors).
//! For all of them: every span of the tree and of every finding lies within the
//! file and starts and ends at character boundaries, and the fast path, where it
//! applies, builds exactly what the general parser builds.

use std::fmt::Write;
use std::path::PathBuf;

use gitops_lint::model::{ModelSettings, Repository};
use gitops_lint::run::check_repository;
use gitops_lint::source::SourceFile;
use gitops_lint::yaml::{self, Span};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Scalar {
    Plain(String),
    Single(String),
    Double(String),
}

#[derive(Debug, Clone)]
enum Node {
    Scalar(Scalar),
    Alias,
    Map(Vec<(Scalar, Node)>),
    Seq(Vec<Node>),
    Flow(Vec<Scalar>),
    Block {
        folded: bool,
        strip: bool,
        lines: Vec<String>,
    },
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        6 => "[a-z][a-z0-9./_-]{0,8}( [a-z0-9]{1,4})?".prop_map(Scalar::Plain),
        1 => "[0-9]{1,4}|true|null|~|-[0-9]|é[a-z]|日本|x#y|a:b|http://x:8/y|\\$\\{APP\\}".prop_map(Scalar::Plain),
        2 => "[a-z '\"#:é\\\\]{0,10}".prop_map(Scalar::Single),
        2 => "[a-z '\"#:é\\\\\t]{0,10}".prop_map(Scalar::Double),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        8 => scalar().prop_map(Node::Scalar),
        1 => Just(Node::Alias),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(Node::Flow),
        1 => (any::<bool>(), any::<bool>(), prop::collection::vec("[a-z #:é]{0,12}", 0..5))
            .prop_map(|(folded, strip, lines)| Node::Block { folded, strip, lines }),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            3 => prop::collection::vec((scalar(), inner.clone()), 1..5).prop_map(Node::Map),
            1 => prop::collection::vec(inner, 1..4).prop_map(Node::Seq),
        ]
    })
}

fn render_scalar(s: &Scalar, out: &mut String) {
    match s {
        Scalar::Plain(t) => out.push_str(t),
        Scalar::Single(t) => {
            let _ = write!(out, "'{}'", t.replace('\'', "''"));
        }
        Scalar::Double(t) => {
            out.push('"');
            for c in t.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
    }
}

/// Writes `node` as the value after `key: ` or `- ` (the rest of the line is
/// ours), for a collection whose entries sit at column `col`.
fn render_value(node: &Node, col: usize, step: usize, out: &mut String) {
    match node {
        Node::Scalar(s) => {
            render_scalar(s, out);
            out.push('\n');
        }
        Node::Alias => out.push_str("*anchor\n"),
        Node::Flow(items) => {
            out.push('[');
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_scalar(s, out);
            }
            out.push_str("]  # flow\n");
        }
        Node::Block {
            folded,
            strip,
            lines,
        } => {
            out.push(if *folded { '>' } else { '|' });
            if *strip {
                out.push('-');
            }
            out.push('\n');
            for l in lines {
                if !l.trim().is_empty() {
                    let _ = write!(out, "{}{}", " ".repeat(col + step), l.trim_start());
                }
                out.push('\n');
            }
        }
        Node::Map(_) | Node::Seq(_) => {
            out.push('\n');
            render_block(node, col + step, step, out);
        }
    }
}

fn render_block(node: &Node, col: usize, step: usize, out: &mut String) {
    let pad = " ".repeat(col);
    match node {
        Node::Map(entries) => {
            for (k, v) in entries {
                out.push_str(&pad);
                render_scalar(k, out);
                out.push_str(": ");
                render_value(v, col, step, out);
            }
        }
        Node::Seq(items) => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                render_value(item, col, step, out);
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str("value: ");
            render_value(other, col, step, out);
        }
    }
}

fn document() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(node(), 1..3),
        prop_oneof![Just(2usize), Just(4)],
        any::<bool>(),
    )
        .prop_map(|(docs, step, comments)| {
            let mut out = String::new();
            for (i, doc) in docs.iter().enumerate() {
                if i > 0 || comments {
                    out.push_str("---\n");
                }
                if comments {
                    out.push_str("# generated\n");
                }
                out.push_str("anchor: &anchor base\n");
                render_block(doc, 0, step, &mut out);
            }
            out
        })
}

fn span_ok(text: &str, span: Span) -> Result<(), String> {
    let (s, e) = (span.start as usize, span.end as usize);
    if s <= e && e <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(e) {
        Ok(())
    } else {
        Err(format!("span {s}..{e} in a text of {} bytes", text.len()))
    }
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let tree = yaml::parse(text);
    for id in 0..tree.nodes.len() as u32 {
        span_ok(text, tree.span(id)).map_err(TestCaseError::fail)?;
    }
    for d in &tree.docs {
        span_ok(text, d.span).map_err(TestCaseError::fail)?;
    }
    for e in &tree.errors {
        span_ok(
            text,
            Span {
                start: e.offset,
                end: e.offset,
            },
        )
        .map_err(TestCaseError::fail)?;
    }
    yaml::differential(text).map_err(TestCaseError::fail)?;
    let files = vec![SourceFile::from_bytes(
        "app/helmrelease.yaml".into(),
        text.as_bytes().to_vec(),
    )];
    let repo = Repository::new(PathBuf::from("/repo"), files, &ModelSettings::default());
    for d in check_repository(&repo) {
        span_ok(repo.files[d.file].text(), d.span).map_err(TestCaseError::fail)?;
    }
    Ok(())
}

proptest! {
    // PROPTEST_CASES=50000 for a longer search than CI's.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_documents(text in document()) {
        check(&text)?;
    }

    #[test]
    fn arbitrary_text(text in "([a-z:#'\"&*!|>{}\\[\\],é\t-]|  |\n|\n  |\n- |: |---\n){0,60}") {
        check(&text)?;
    }
}

/// The generator is not idle: most generated documents take the fast path.
#[test]
fn generated_documents_mostly_take_the_fast_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = document();
    let (mut fast, total) = (0, 300);
    for _ in 0..total {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        if yaml::differential(&text) == Ok(true) {
            fast += 1;
        }
    }
    eprintln!("{fast} of {total} generated documents took the fast path");
    assert!(
        fast * 5 > total * 2,
        "{fast} of {total} documents took the fast path"
    );
}
