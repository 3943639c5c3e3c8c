//! Safe fixes: the edits rules attach to their findings, and how `--fix` and
//! `--diff` apply them.
//!
//! A fix is a list of byte-range replacements on the text the finding's file
//! was read with. Everything outside those ranges stays byte for byte as it
//! was: comments, key order, quoting, indentation, line breaks. The builders
//! in the first half make such edits for whole lines of block mappings and
//! refuse (`None`) whenever the layout is not the plain one they understand:
//! a finding without a fix is better than a fix that breaks a file.
//!
//! Building edits (`edit`, used by rules) is apart from applying them
//! (`apply`, used by the command line), so rules never depend on the run.

mod apply;
mod edit;

pub use apply::*;
pub use edit::*;

#[cfg(test)]
mod tests {
    use super::apply::valid;
    use super::*;
    use crate::diagnostic::Edit;
    use crate::yaml::{NodeRef, Span};
    use crate::yaml::{Yaml, parse};
    use std::fs;

    fn root(y: &Yaml) -> NodeRef<'_> {
        y.documents().next().unwrap()
    }

    fn apply(text: &str, edit: Option<Edit>) -> Option<String> {
        edit.map(|e| apply_edits(text, &[e]))
    }

    fn remove(text: &str, path: &[&str], key: &str, single: bool) -> Option<String> {
        let y = parse(text);
        let map = root(&y).path(path).unwrap();
        let (k, v) = written(map, key).unwrap().unwrap();
        apply(text, remove_entry(text, k, v, single))
    }

    #[test]
    fn removes_a_one_line_entry_with_its_comment() {
        let t = "spec:\n  a: 1\n  b: 2   # why\n  c: 3\n";
        assert_eq!(
            remove(t, &["spec"], "b", true).unwrap(),
            "spec:\n  a: 1\n  c: 3\n"
        );
        let crlf = "spec:\r\n  a: 1\r\n  b: 2\r\n  c: 3\r\n";
        assert_eq!(
            remove(crlf, &["spec"], "b", true).unwrap(),
            "spec:\r\n  a: 1\r\n  c: 3\r\n"
        );
        // The last line, without a line break: the file still ends without one.
        let last = "spec:\n  a: 1\n  b: 2";
        assert_eq!(remove(last, &["spec"], "b", true).unwrap(), "spec:\n  a: 1");
    }

    #[test]
    fn refuses_layouts_it_does_not_understand() {
        // Flow mapping, block scalar, value on the next line, anchors, tags.
        assert!(remove("spec: {a: 1, b: 2}\n", &["spec"], "b", true).is_none());
        assert!(remove("spec:\n  b: |\n    x\n  c: 1\n", &["spec"], "b", false).is_none());
        assert!(remove("spec:\n  b:\n    2m\n  c: 1\n", &["spec"], "b", true).is_none());
        assert!(remove("spec:\n  b: &x 2m\n  c: *x\n", &["spec"], "b", true).is_none());
        assert!(remove("spec:\n  b: !!str 2m\n  c: 1\n", &["spec"], "b", true).is_none());
        assert!(remove("spec:\n  b:\n    x: &y 1\n  c: *y\n", &["spec"], "b", false).is_none());
        // A value that goes on past a comment at a lower indentation.
        assert!(
            remove(
                "spec:\n  b:\n    x: 1\n# c\n    y: 2\n  c: 1\n",
                &["spec"],
                "b",
                false
            )
            .is_none()
        );
    }

    #[test]
    fn removes_a_block_with_its_inner_comments() {
        let t = "s:\n  type: R\n  rollingUpdate:\n    # inner\n    maxSurge: 1\n\n    maxUnavailable: 0\n\n  # next\n  n: 1\n";
        assert_eq!(
            remove(t, &["s"], "rollingUpdate", false).unwrap(),
            "s:\n  type: R\n\n  # next\n  n: 1\n"
        );
        assert!(remove(t, &["s"], "rollingUpdate", true).is_none());
        let seq = "s:\n  list:\n  - a\n  - b\n  n: 1\n";
        assert_eq!(remove(seq, &["s"], "list", false).unwrap(), "s:\n  n: 1\n");
    }

    #[test]
    fn inserts_after_an_item_key_at_its_column() {
        let t = "ifs:\n  -   interface: eth0 # main\n      mtu: 1500\n";
        let y = parse(t);
        let item = root(&y).get("ifs").unwrap().items().next().unwrap();
        let (k, v) = written(item, "interface").unwrap().unwrap();
        let l = entry_lines(t, k, v, true).unwrap();
        assert!(entry_lines(t, k, v, false).is_none());
        let e = insert_lines(t, l.end, l.column, &["dhcp: false"]);
        assert_eq!(
            apply_edits(t, &[e]),
            "ifs:\n  -   interface: eth0 # main\n      dhcp: false\n      mtu: 1500\n"
        );
        let no_break = "a:\n  b: 1";
        let e = insert_lines(no_break, no_break.len(), 2, &["c: 2", "d: 3"]);
        assert_eq!(apply_edits(no_break, &[e]), "a:\n  b: 1\n  c: 2\n  d: 3");
    }

    #[test]
    fn replaces_an_entry_and_fills_an_empty_value() {
        let t = "s:\n  rollingUpdate:   # r\n    maxSurge: 1\n  # after\nn: 1\n";
        let y = parse(t);
        let s = root(&y).get("s").unwrap();
        let (k, v) = written(s, "rollingUpdate").unwrap().unwrap();
        let got = apply(t, replace_entry(t, k, v, &["type: Recreate"]));
        assert_eq!(got.unwrap(), "s:\n  type: Recreate\n  # after\nn: 1\n");
        let last = "s:\n  r:\n    m: 1";
        let y = parse(last);
        let (k, v) = written(root(&y).get("s").unwrap(), "r").unwrap().unwrap();
        assert_eq!(
            apply(last, replace_entry(last, k, v, &["t: R"])).unwrap(),
            "s:\n  t: R"
        );

        for (t, want) in [
            (
                "a:\n  s:   # c\n  b: 1\n",
                Some("a:\n  s: {t: R}   # c\n  b: 1\n"),
            ),
            ("a:\n  s:\n", Some("a:\n  s: {t: R}\n")),
            ("a:\n  s: ~\n", None),
            ("a:\n  s: {}\n", None),
        ] {
            let y = parse(t);
            let a = root(&y).get("a").unwrap();
            let (k, v) = written(a, "s").unwrap().unwrap();
            let got = apply(t, set_empty_value(t, k, v, "{t: R}"));
            assert_eq!(got.as_deref(), want, "{t}");
        }
    }

    #[test]
    fn finds_where_first_entries_go() {
        let t = "spec:   # c\n    # lead\n    a: 1\n";
        let y = parse(t);
        let (k, v) = written(root(&y), "spec").unwrap().unwrap();
        assert_eq!(block_start(t, k, v), Some((12, 4)));
        let flow = "spec: {a: 1}\n";
        let y = parse(flow);
        let (k, v) = written(root(&y), "spec").unwrap().unwrap();
        assert_eq!(block_start(flow, k, v), None);
    }

    #[test]
    fn replaces_scalars_keeping_quotes_out() {
        for (t, want) in [
            ("t: RollingUpdate\n", Some("t: Recreate\n")),
            ("t: \"RollingUpdate\" # q\n", Some("t: Recreate # q\n")),
            ("t: 'RollingUpdate'\n", Some("t: Recreate\n")),
            ("t: ${S}\n", None),
            ("t: \"Rolling\\x55pdate\"\n", None),
        ] {
            let y = parse(t);
            let v = root(&y).get("t").unwrap();
            let got = apply(t, replace_scalar(t, v, "RollingUpdate", "Recreate"));
            assert_eq!(got.as_deref(), want, "{t}");
        }
    }

    #[test]
    fn written_refuses_merges_and_repeats() {
        let y = parse("a: &x {k: 1}\nb:\n  <<: *x\n  j: 2\nc: {k: 1, k: 2}\nd: {j: 1}\n");
        let r = root(&y);
        assert!(written(r.get("b").unwrap(), "k").is_none());
        assert!(written(r.get("c").unwrap(), "k").is_none());
        assert!(written(r.get("d").unwrap(), "k").unwrap().is_none());
        assert!(written(r.get("d").unwrap(), "j").unwrap().is_some());
    }

    #[test]
    fn edits_apply_in_order_and_overlaps_are_told() {
        let e = |s: usize, t: usize, r: &str| Edit {
            span: Span::new(s, t),
            replacement: r.into(),
        };
        assert_eq!(
            apply_edits("abcdef", &[e(4, 5, "X"), e(0, 1, ""), e(2, 2, "+")]),
            "b+cdXf"
        );
        assert!(valid("abc", &[e(0, 1, ""), e(1, 2, "")]));
        assert!(!valid("abc", &[e(0, 2, ""), e(1, 2, "")]));
        assert!(!valid("abc", &[e(1, 1, "x"), e(1, 1, "y")]));
        assert!(!valid("abc", &[e(2, 9, "")]));
        assert!(!valid("é", &[e(1, 2, "")]));
        assert!(!valid("abc", &[]));
    }

    #[test]
    fn a_file_changed_on_disk_is_not_touched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        fs::write(&p, "a: 2\n").unwrap();
        let err = write_if_unchanged(&p, b"a: 1\n", b"a: 3\n").unwrap_err();
        assert!(err.contains("changed on disk"), "{err}");
        assert_eq!(fs::read(&p).unwrap(), b"a: 2\n");
        write_if_unchanged(&p, b"a: 2\n", b"a: 3\n").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"a: 3\n");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn writes_keep_permissions_and_follow_links() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        fs::write(&p, "a: 1\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.yaml");
        symlink(&p, &link).unwrap();
        write_if_unchanged(&link, b"a: 1\n", b"a: 2\n").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&p).unwrap(), b"a: 2\n");
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}
