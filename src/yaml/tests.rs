use super::*;

fn text_at(text: &str, span: Span) -> &str {
    &text[span.start as usize..span.end as usize]
}

#[test]
fn spans_are_bytes_even_after_non_ascii() {
    let text = "a: é€\nkey: value\n";
    let y = parse(text);
    let doc = y.documents().next().unwrap();
    let (k, v) = doc.entry("key").unwrap();
    assert_eq!(text_at(text, k.span()), "key");
    assert_eq!(text_at(text, v.span()), "value");
}

#[test]
fn documents_and_recovery_after_error() {
    let text = "a: 1\n---\nb: [1\n---\nc: 3\n";
    let y = parse(text);
    assert_eq!(y.errors.len(), 1);
    let docs: Vec<_> = y.documents().collect();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].str_at(&["c"]), Some("3"));
}

#[test]
fn duplicate_keys_keep_both_positions() {
    let text = "a: 1\nb: 2\na: 3\n";
    let y = parse(text);
    assert_eq!(y.duplicate_keys.len(), 1);
    let d = y.duplicate_keys[0];
    assert_eq!((d.first.start, d.repeat.start), (0, 10));
    assert_eq!(y.documents().next().unwrap().str_at(&["a"]), Some("3"));
}

#[test]
fn merge_keys_and_redefined_anchors() {
    let text = "base: &x {a: 1, b: 2}\nother: &x {a: 9}\nm:\n  <<: *x\n  b: 3\n";
    let y = parse(text);
    let m = y.documents().next().unwrap().get("m").unwrap();
    assert_eq!(m.str_at(&["a"]), Some("9"));
    assert_eq!(m.str_at(&["b"]), Some("3"));
}

#[test]
fn alias_bomb_is_not_expanded() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    let mut prev = 'a';
    for c in 'b'..='z' {
        text.push_str(&format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        prev = c;
    }
    let y = parse(&text);
    assert!(y.nodes.len() < 1000);
    assert_eq!(y.errors.len(), 1, "{:?}", y.errors);
    assert!(y.errors[0].message.contains("excessive aliasing"));
}

#[test]
fn ordinary_anchors_and_self_reference_are_fine() {
    let text = "defaults: &d {replicas: 1, image: x}\na: *d\nb: *d\nc: &x {self: *x}\n";
    let y = parse(text);
    assert!(y.errors.is_empty(), "{:?}", y.errors);
}

#[test]
fn deep_nesting_does_not_overflow() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let y = parse(&text);
    drop(y);
}

#[test]
fn empty_and_comment_only() {
    assert!(parse("").docs.is_empty());
    let y = parse("# just a comment\n");
    assert!(y.errors.is_empty());
}
#[test]
fn alias_as_key_reads_like_kubernetes() {
    let y = parse("---\nmetadata:\n  name: &app x\nspec:\n  c:\n    *app:\n      s: 1\n");
    assert!(y.errors.is_empty(), "{:?}", y.errors);
    let y = parse("a: &app x\nc:\n  *app :\n    s: 1\n");
    assert!(y.errors.is_empty(), "{:?}", y.errors);
}

#[test]
fn alias_key_spans_map_back() {
    let text = "a: &app x\nc:\n  *app:\n    s: 1\n";
    let y = parse(text);
    let c = y.documents().next().unwrap().get("c").unwrap();
    let (k, v) = c.entries().next().unwrap();
    assert_eq!(k.as_str(), Some("x"));
    let s = v.entry("s").unwrap().0.span();
    assert_eq!(&text[s.start as usize..s.end as usize], "s");
}

/// The fast path applies to `text` and builds what the general parser builds.
fn fast_same(text: &str) {
    assert_eq!(differential(text), Ok(true), "{text}");
}

#[test]
fn fast_path_builds_what_the_general_parser_builds() {
    fast_same("a: 1\nb:\n  c: \"x\\ty\" # note\n  d: 'it''s'\n");
    fast_same("# head\n---\nk: v\n---\n- a\n- b: 1\n  c: [x, \"y\" ] # c\n");
    fast_same("l:\n- a\n-   b  # c\n- k: v\n  j: w\nm: {}\nn: []   \no:\n");
    fast_same("lit: |\n  one\n\n  two\n\nfold: >-\n  a\n  b\n\n  c\n# c\nnext: 1\n");
    fast_same("m: &m\n  a: 1\nn: *m\no: &o x\np: [*o, {k: *o}]\nq: &q\n  - 1\n");
    fast_same("sec: {drop: [ALL], b: \"x\" }  # c\nc: { type: R , d: 1}\ng: [ {a: 1}, {b: 2} ]\n");
    fast_same("a: é€\n\"quoted key\": v\nurl: http://x:8080/y#z\n");
    fast_same("a: 1\na: 2\n");
    fast_same(&format!("{}: b\nc: d\n", "k".repeat(1000)));
}

#[test]
fn fast_path_gives_way_to_the_general_parser() {
    for text in [
        "a: b\n  continued\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: !tag b\n",
        "a: |+\n  x\n\n",
        "a: >\n  x\n    more\n",
        "a: [b,\n  c]\n",
        "? complex\n: key\n",
        "a: b: c\n",
        "%YAML 1.2\n---\na: 1\n",
        "---\n",
        "a: *unknown\n",
        "a: 1\n...\n",
        "*alias: key\n",
        "\u{feff}a: 1\n",
        // Found by generated documents: an empty block scalar, a block scalar
        // whose last line has no line break, an indentless sequence that starts
        // with a flow collection.
        "- >\n\n",
        "empty: |-\nnext: 1\n",
        "a: |\n  x\n\n  ",
        "k:\n- {a: 1}\nb: 2\n",
        // Found in review: a signed hex escape (an error), a flow word of `-` and
        // a flow indicator (an error), `*name:` in a scalar (respaced by the
        // general parser's alias-key handling).
        "a: \"\\x+1\"\n",
        "\"\\u+041\": a\n",
        "a: [-]\n",
        "a: [a -, b]\n",
        "a: {b: -}\n",
        "a: \"x *y: z\"\n",
        "a: |\n  x *y: z\n",
    ] {
        assert_eq!(differential(text), Ok(false), "{text:?}");
    }
    // Implicit keys over 1024 characters are an error the general parser reports
    // (found by the fuzzer: the fast path once took them).
    for text in [
        format!("{}: b\nc: d\n", "k".repeat(1100)),
        format!("\"{}\": b\n", "k".repeat(1100)),
        format!("x: {{{}: b}}\n", "k".repeat(1100)),
        format!(
            "apiVersion: v1\nmetadata:\n  nam{}{}e:  web\n",
            "[".repeat(600),
            "]".repeat(600)
        ),
    ] {
        assert_eq!(differential(&text), Ok(false), "{text:?}");
    }
}

#[test]
fn a_quoted_scalar_ends_at_its_quote_before_a_comment() {
    let text = "a: \"8080\" # http\nb: 'it''s'   # note\nc: \"x\\\" y\" #c\n";
    let y = parse(text);
    let doc = y.documents().next().unwrap();
    assert_eq!(text_at(text, doc.get("a").unwrap().span()), "\"8080\"");
    assert_eq!(text_at(text, doc.get("b").unwrap().span()), "'it''s'");
    assert_eq!(text_at(text, doc.get("c").unwrap().span()), "\"x\\\" y\"");
}

#[test]
fn a_comment_right_after_a_quote_is_a_comment_as_go_yaml_reads_it() {
    // YAML wants a space before `#`; go-yaml and PyYAML do without.
    let text = "a: \"x\"# note\nb: 'y'#note\nc: [\"z\"]\n";
    let y = parse(text);
    assert!(y.errors.is_empty(), "{:?}", y.errors);
    let doc = y.documents().next().unwrap();
    assert_eq!(doc.str_at(&["a"]), Some("x"));
    assert_eq!(doc.str_at(&["b"]), Some("y"));
    assert_eq!(text_at(text, doc.get("b").unwrap().span()), "'y'");
}

#[test]
fn a_node_is_eight_bytes_and_most_scalars_are_their_span() {
    assert_eq!(std::mem::size_of::<Node>(), 8);
    let text = "a: &x [b, \"c\", 'd''e', \"f\\n\"]\nm: {k: *x}\n";
    let y = parse(text);
    assert!(y.errors.is_empty(), "{:?}", y.errors);
    let kinds: Vec<Kind> = (0..y.nodes.len() as NodeId).map(|i| y.kind(i)).collect();
    assert!(matches!(kinds[0], Kind::Map { len: 2, .. }));
    assert!(matches!(kinds[2], Kind::Seq { len: 4, .. }));
    assert_eq!(kinds[10], Kind::Alias(Some(2)));
    let m = y.documents().next().unwrap().get("m").unwrap();
    assert_eq!(m.get("k").unwrap().items().count(), 4);
    // Only the values that are not their span (less quotes), and aliases,
    // are listed.
    assert_eq!(y.scalars.len(), 3);
    assert_eq!(&*y.strings, "d'ef\n");
}

/// The values of a file's scalars and aliases, in order.
fn values(y: &Yaml) -> Vec<&str> {
    (0..y.nodes.len() as NodeId)
        .filter_map(|id| y.node(id).scalar().map(|s| s.text))
        .collect()
}

#[test]
fn values_written_as_is_are_read_from_the_text() {
    let text = "a: plain\nb: \"q d\" # c\nc: 'it''s'\nd: \"x\\ty\"\ne: &x anchored\n\
        f: *x\ng: |\n  one\nh: >-\n  two\n  lines\n\"k\": [é, 'ü', \"\"]\n";
    let y = parse(text);
    assert!(y.errors.is_empty(), "{:?}", y.errors);
    assert_eq!(
        values(&y),
        [
            "a",
            "plain",
            "b",
            "q d",
            "c",
            "it's",
            "d",
            "x\ty",
            "e",
            "anchored",
            "f",
            "anchored",
            "g",
            "one\n",
            "h",
            "two lines",
            "k",
            "é",
            "ü",
            ""
        ]
    );
    // Only the escaped, doubled-quote and folded values are copied.
    assert_eq!(&*y.strings, "it'sx\tytwo lines");
    assert_eq!(differential(text), Ok(true));
    // The general parser reads the same values the same way.
    let general = format!("%YAML 1.2\n---\n{text}");
    let g = parse(&general);
    assert!(g.errors.is_empty(), "{:?}", g.errors);
    assert_eq!(values(&g), values(&y));
    assert_eq!(&*g.strings, "it'sx\tytwo lines");
    assert_eq!(differential(&general), Ok(false));
}

#[test]
fn respaced_text_copies_its_values() {
    // A space is put before the colon of an alias used as a key: offsets in
    // the respaced text are not the file's, so nothing is read from it.
    let text = "a: &app x\nc:\n  *app:\n    s: \"v\"\n";
    let y = parse(text);
    assert!(y.errors.is_empty(), "{:?}", y.errors);
    assert_eq!(values(&y), ["a", "x", "c", "x", "s", "v"]);
    assert_eq!(&*y.strings, "axcsv");
    assert_eq!(differential(text), Ok(false));
}

#[test]
fn the_tree_shares_the_text() {
    let y = parse_packed("k: v\n");
    assert!(y.text.is_packed() && y.nodes.is_packed() && y.collections.is_packed());
    let v = y.documents().next().unwrap().str_at(&["k"]).unwrap();
    assert_eq!(v, "v");
    // Read from the text, not copied.
    assert!(std::ptr::eq(v.as_ptr(), y.text[3..].as_ptr()));
}

/// `entry` finds keys however they are written (plain, quoted, escaped,
/// through an alias), the last of duplicates, and only a plain `<<` merges:
/// the same answer as reading every key's value, on every key and on keys of
/// the same length and first letter that are absent.
#[test]
fn keys_are_found_however_they_are_written() {
    let text = "k: &name kind\nm:\n  plain: 1\n  \"quoted\": 2\n  'it''s': 3\n  \"tab\\there\": 4\n  *name : 5\n  plain: 6\n  ? |\n    block\n  : 8\n  <<: {merged: 9, plain: 10}\n  \"<<\": {notmerged: 7}\n";
    let y = parse(text);
    assert!(y.errors.is_empty(), "{:?}", y.errors);
    let m = y.documents().next().unwrap().get("m").unwrap();
    let expected = |key: &str| {
        m.entries()
            .filter(|(k, _)| k.scalar().is_some_and(|s| s.text == key))
            .last()
            .map(|(_, v)| v.span())
    };
    for key in [
        "plain",
        "quoted",
        "it's",
        "tab\there",
        "kind",
        "<<",
        "block\n",
    ] {
        assert!(expected(key).is_some(), "{key:?}");
        assert_eq!(m.get(key).map(|v| v.span()), expected(key), "{key:?}");
    }
    assert_eq!(m.str_at(&["plain"]), Some("6"));
    assert_eq!(m.str_at(&["it's"]), Some("3"));
    assert_eq!(m.str_at(&["kind"]), Some("5"));
    // Only in the mapping merged in with the plain `<<`.
    assert_eq!(m.str_at(&["merged"]), Some("9"));
    for absent in [
        "plaim",
        "pla",
        "quote",
        "it'",
        "kinds",
        "<",
        "block",
        "notmerged",
    ] {
        assert_eq!(m.get(absent).map(|v| v.span()), None, "{absent:?}");
    }
}

#[test]
fn the_deepest_nesting_and_aliases_are_recorded() {
    let y = parse("a: {b: [1, [2]]}\n---\nc: d\n");
    assert_eq!(y.nesting, 4);
    assert!(!y.aliased);
    assert_eq!(parse("just a scalar\n").nesting, 0);
    let y = parse("a: &x {b: 1}\nc: *x\n");
    assert_eq!(y.nesting, 2);
    assert!(y.aliased);
    // An alias of no anchor names no node.
    assert!(!parse("a: *nothing\n").aliased);
    assert!(y.well_formed());
    let mut wrong = parse("a: &x 1\nb: *x\n");
    wrong.aliased = false;
    assert!(!wrong.well_formed());
}

#[test]
fn aliases_of_collections_are_told_from_aliases_of_scalars() {
    // Scalars only: the file decodes to as many values as it has nodes.
    let y = parse("a: &x 1\nb: *x\nc: [*x, *x]\n");
    assert!(y.aliased && !y.collection_aliased);
    assert!(y.node(y.docs[0].root).file_within(2, y.nodes.len()));
    assert!(!y.node(y.docs[0].root).file_within(1, y.nodes.len()));
    assert!(!y.node(y.docs[0].root).file_within(2, y.nodes.len() - 1));
    // A mapping or a sequence named by an alias, a merge key among them.
    for text in [
        "a: &x {b: 1}\nc: *x\n",
        "a: &x [1]\nc: *x\n",
        "base: &b\n  k: v\nuse:\n  <<: *b\n",
    ] {
        let y = parse(text);
        assert!(y.aliased && y.collection_aliased, "{text}");
        assert!(!y.node(y.docs[0].root).file_within(64, 1000), "{text}");
        assert!(y.well_formed(), "{text}");
    }
    assert!(!parse("a: *nothing\n").collection_aliased);
    let mut wrong = parse("a: &x {b: 1}\nc: *x\n");
    wrong.collection_aliased = false;
    assert!(!wrong.well_formed());
    let mut wrong = parse("a: &x 1\nb: *x\n");
    wrong.collection_aliased = true;
    assert!(!wrong.well_formed());
}

#[test]
fn a_span_out_of_the_text_or_inside_a_character_is_not_well_formed() {
    use super::{NodeId, Span};
    // Every node's span moved by `f`; whether the tree is still well formed.
    let moved = |text: &str, f: &dyn Fn(Span) -> Span| {
        let mut y = parse(text);
        assert!(y.well_formed(), "{text:?}");
        for id in 0..y.nodes.len() as NodeId {
            let span = f(y.span(id));
            y.set_span(id, span);
        }
        y.well_formed()
    };
    let past_the_end = |s: Span| Span {
        start: s.start,
        end: s.end + 100,
    };
    // The key's span starting one byte in: inside `é` (two bytes), and
    // after `a`, which in ASCII is a boundary like any offset.
    let one_in = |s: Span| match (s.start, s.end) {
        (0, end @ (1 | 2)) => Span { start: 1, end },
        _ => s,
    };
    assert!(!moved("a: b\n", &past_the_end), "ASCII");
    assert!(!moved("a: é\n", &past_the_end));
    assert!(!moved("é: b\n", &one_in));
    assert!(moved("a: b\n", &one_in));
}

#[test]
fn every_kind_of_node_keeps_where_it_ends() {
    use super::{NodeId, Span};
    // A mapping, a sequence, plain, quoted, escaped and folded scalars, an
    // anchor and its alias: each node's span is where the
    // parser put it, and moving its end out of the text alone is refused.
    let text =
        "m:\n  k: plain\n  q: 'quoted'\n  e: \"esc\\n\"\n  s: [&a x, *a]\n  f: >\n    folded\n";
    let y = parse(text);
    assert!(y.errors.is_empty(), "{:?}", y.errors);
    assert!(y.well_formed());
    let spans: Vec<&str> = (0..y.nodes.len() as NodeId)
        .map(|id| {
            let s = y.span(id);
            &text[s.start as usize..s.end as usize]
        })
        .collect();
    for expected in [
        "plain",
        "'quoted'",
        "\"esc\\n\"",
        "[&a x, *a]",
        "*a",
        "folded\n",
    ] {
        assert!(spans.contains(&expected), "{expected:?} in {spans:?}");
    }
    for id in 0..y.nodes.len() as NodeId {
        let mut moved = parse(text);
        let s = moved.span(id);
        moved.set_span(
            id,
            Span {
                start: s.start,
                end: text.len() as u32 + 1,
            },
        );
        assert!(!moved.well_formed(), "node {id} ({:?})", spans[id as usize]);
        moved.set_span(id, s);
        assert!(moved.well_formed(), "node {id} put back");
    }
}

#[test]
fn several_keys_at_once_read_as_one_at_a_time() {
    let texts = [
        "apiVersion: v1\nkind: A\nmetadata: {name: n}\n",
        "kind: A\nkind: B\napiVersion: v1\n",
        "base: &b {kind: M, name: m}\nx:\n  <<: *b\n  apiVersion: v2\n",
        "x:\n  <<: [{kind: First}, {kind: Second}]\n  <<: {name: last}\n",
        "k: &k kind\nx:\n  *k : aliased\n",
        "x: [1, 2]\n",
        "x: {\"kind\": quoted, 'name': single}\n",
    ];
    for text in texts {
        let y = parse(text);
        for doc in y.documents() {
            let nodes = std::iter::once(doc).chain(doc.get("x"));
            for node in nodes {
                let keys = ["apiVersion", "kind", "name", "absent"];
                let all = node.get_all(keys);
                for (key, got) in keys.iter().zip(all) {
                    assert_eq!(
                        got.map(|n| n.span()),
                        node.get(key).map(|n| n.span()),
                        "{key} in {text:?}"
                    );
                }
            }
        }
    }
    // One of them at least is found in each of these.
    let y = parse("kind: A\nkind: B\n");
    let [kind] = y.documents().next().unwrap().get_all(["kind"]);
    assert_eq!(
        kind.and_then(|k| k.as_str()),
        Some("B"),
        "the last of a repeated key"
    );
    let y = parse("x:\n  <<: {name: merged}\n  kind: K\n");
    let x = y.documents().next().unwrap().get("x").unwrap();
    let [name, kind] = x.get_all(["name", "kind"]);
    assert_eq!(name.and_then(|n| n.as_str()), Some("merged"));
    assert_eq!(kind.and_then(|n| n.as_str()), Some("K"));
}

/// Every read a tree serves, on every node: what must not panic on a tree
/// `well_formed` accepts.
fn read_everything(y: &Yaml) {
    for id in 0..y.nodes.len() as NodeId {
        let kind = y.kind(id);
        let span = y.span(id);
        let _ = &y.text[span.start as usize..span.end as usize];
        let _ = (y.key_bytes(id), y.scalar_of(id), y.alias_target(id));
        let _ = (
            y.collection(id).map(|(_, c)| c.count()),
            y.children(id).count(),
        );
        if let Kind::Scalar {
            at, len, verbatim, ..
        } = kind
        {
            let _ = y.text_of(at, len, verbatim);
        }
        let n = y.node(id);
        let _ = (n.span(), n.scalar(), n.as_i64(), n.has_merge_or_alias_key());
        for (k, v) in n.entries() {
            let _ = (k.span(), v.span(), k.scalar(), v.scalar());
        }
        for item in n.items() {
            let _ = (item.span(), item.scalar());
        }
        let _ = (
            n.get("a"),
            n.get("<<"),
            n.get_all(["a", "b", "k"]),
            n.key_span("x"),
        );
    }
    let _ = y.has_aliases();
    for d in y.documents() {
        let _ = d.span();
    }
}

#[test]
fn damaged_trees_the_check_accepts_are_read_without_a_panic() {
    // A cache entry is input like any other: parsed trees damaged at random
    // (node starts and words, children, listed values, document roots), and
    // every one that `well_formed` accepts read in full.
    let texts = [
        "a: &x [b, \"c\", 'd''e', \"f\\n\"]\nm: {k: *x}\n",
        "base: &b\n  k: v\nuse:\n  <<: *b\n  x: *nothing\n",
        "m:\n  k: plain\n  q: 'quoted'\n  s: [&a x, *a]\n  f: >\n    folded\n",
        "é: \"€x\"\n'ü': |\n  ä\n  b\n*q : 1\n",
        "- a\n- &s b\n- *s\n- {*s : c}\n---\nx: y\n",
    ];
    let mut rng = crate::testing::Rng::new(0x1234_5678_9abc_def1);
    let mut next = move |n: usize| rng.below(n);
    let mut accepted = 0;
    for round in 0..30_000 {
        let text = texts[round % texts.len()];
        let mut y = parse(text);
        for _ in 0..1 + next(3) {
            // A value near the bounds the check compares with.
            let v = match next(7) {
                0 => next(usize::MAX) as u32,
                1 => next(text.len() + 3) as u32,
                2 => next(y.nodes.len() + 2) as u32,
                3 => next(y.collections.len() + 3) as u32,
                4 => next(y.scalars.len() + 2) as u32,
                5 => PAYLOAD + next(2) as u32,
                _ => u32::MAX - next(3) as u32,
            };
            match next(6) {
                0 if !y.nodes.is_empty() => {
                    let i = next(y.nodes.len());
                    y.nodes.edit(|n| n[i].start = v);
                }
                1 if !y.nodes.is_empty() => {
                    let i = next(y.nodes.len());
                    let (start, word) = (y.nodes[i].start, y.nodes[i].word());
                    let tag = if next(2) == 0 {
                        word >> TAG_SHIFT
                    } else {
                        next(16) as u32
                    };
                    let payload = if next(2) == 0 {
                        word & PAYLOAD
                    } else {
                        v & PAYLOAD
                    };
                    y.nodes
                        .edit(|n| n[i] = Node::from_parts(start, tag << TAG_SHIFT | payload));
                }
                2 if !y.collections.is_empty() => {
                    let i = next(y.collections.len());
                    y.collections.edit(|c| c[i] = v);
                }
                3 if !y.scalars.is_empty() => {
                    let i = next(y.scalars.len());
                    let field = next(3);
                    y.scalars.edit(|s| {
                        let s = &mut s[i];
                        *[&mut s.at, &mut s.len, &mut s.end][field] = v;
                    });
                }
                4 if !y.docs.is_empty() => {
                    let i = next(y.docs.len());
                    y.docs.edit(|d| d[i].root = v);
                }
                _ => y.collections.edit(|c| c.push(v)),
            }
        }
        // The flags are checked too: the ones this damage gives, if any.
        for (aliased, collections) in [(false, false), (true, false), (true, true)] {
            (y.aliased, y.collection_aliased) = (aliased, collections);
            if y.well_formed() {
                read_everything(&y);
                accepted += 1;
                break;
            }
        }
    }
    // Both outcomes occur, so the damage reaches what the check looks at.
    assert!(accepted > 1_000 && accepted < 29_000, "{accepted}");
}

#[test]
fn a_collection_records_two_words_and_its_children_follow_it() {
    let text = "a:\n  b: [1, {c: d}, 2]\n  e: f\ng: [h]\n";
    let y = parse(text);
    assert!(y.errors.is_empty(), "{:?}", y.errors);
    let collections = (0..y.nodes.len() as NodeId)
        .filter(|&id| matches!(y.kind(id), Kind::Map { .. } | Kind::Seq { .. }))
        .count();
    assert_eq!(collections, 5);
    // Where each one's span ends and the id after its descendants: no list
    // of children.
    assert_eq!(y.collections.len(), 2 * collections);
    let doc = y.documents().next().unwrap();
    let a = doc.get("a").unwrap();
    let keys: Vec<&str> = a.entries().map(|(k, _)| k.as_str().unwrap()).collect();
    assert_eq!(keys, ["b", "e"], "the sequence under `b` is skipped whole");
    let items: Vec<_> = a.get("b").unwrap().items().collect();
    assert_eq!(items.len(), 3);
    assert_eq!(items[1].get("c").and_then(|c| c.as_str()), Some("d"));
    assert_eq!(items[2].as_i64(), Some(2));
    assert_eq!(text_at(text, a.span()), "b: [1, {c: d}, 2]\n  e: f");
    assert!(doc.str_at(&["g"]).is_none(), "a sequence is no string");
    assert_eq!(
        doc.get("g").unwrap().items().next().unwrap().as_str(),
        Some("h")
    );
    assert!(matches!(y.kind(0), Kind::Map { len: 2, .. }));
}

#[test]
fn a_key_an_alias_writes_is_compared_before_a_lookup_stops_early() {
    // No key is written twice, but an alias as a key names the same one as
    // a later key: the later one wins, whichever reads the mapping.
    let y = parse("k: &k name\nm:\n  *k : first\n  name: second\n");
    assert!(y.duplicate_keys.is_empty() && y.aliased);
    let m = y.documents().next().unwrap().get("m").unwrap();
    assert_eq!(m.get("name").and_then(|v| v.as_str()), Some("second"));
    let [name] = m.get_all(["name"]);
    assert_eq!(name.and_then(|v| v.as_str()), Some("second"));
    // Without aliases or repeated keys, the first key that matches is the one.
    let y = parse("m:\n  name: only\n  other: x\n");
    let m = y.documents().next().unwrap().get("m").unwrap();
    assert_eq!(m.get("name").and_then(|v| v.as_str()), Some("only"));
    assert_eq!(
        m.get_all(["other", "name"])
            .map(|v| v.and_then(|v| v.as_str())),
        [Some("x"), Some("only")]
    );
}
