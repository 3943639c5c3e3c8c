//! The registry keeps rules, pages, fixtures and the README in step.

use std::fs;
use std::path::{Path, PathBuf};

use gitops_lint::rules::RULES;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn ids_are_sorted_unique_and_well_formed() {
    let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "RULES must be sorted by id, without repeats");
    for id in ids {
        let (family, name) = id
            .split_once('/')
            .unwrap_or_else(|| panic!("{id}: ids are family/name"));
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        assert!(ok(family) && ok(name), "{id}: lowercase kebab-case");
        let module = root()
            .join("src/rules")
            .join(family)
            .join(format!("{}.rs", name.replace('-', "_")));
        assert!(module.exists(), "{id}: no module {}", module.display());
    }
}

#[test]
fn every_rule_has_its_page() {
    for rule in RULES {
        let path = root().join("lints").join(format!("{}.md", rule.id));
        let page = fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{}: no page {}", rule.id, path.display()));
        assert_eq!(page, rule.page, "{}: the embedded page is stale", rule.id);
        assert!(
            page.starts_with(&format!("# {}\n", rule.id)),
            "{}: the page starts with `# {}`",
            rule.id,
            rule.id
        );
        let mut last = 0;
        for heading in ["## What it does", "## Why", "## Bad", "## Good"] {
            let at = page
                .find(&format!("\n{heading}\n"))
                .unwrap_or_else(|| panic!("{}: page lacks `{heading}`", rule.id));
            assert!(at > last, "{}: `{heading}` out of order", rule.id);
            last = at;
        }
        assert!(
            !rule.summary.is_empty() && !rule.summary.contains("TODO"),
            "{}: summary",
            rule.id
        );
    }
    // No page without a rule.
    for family in fs::read_dir(root().join("lints")).unwrap() {
        let family = family.unwrap().path();
        for page in fs::read_dir(&family).unwrap() {
            let page = page.unwrap().path();
            let id = format!(
                "{}/{}",
                family.file_name().unwrap().to_string_lossy(),
                page.file_stem().unwrap().to_string_lossy()
            );
            assert!(
                RULES.iter().any(|r| r.id == id),
                "{}: a page for no rule",
                page.display()
            );
        }
    }
}

fn cases(dir: &Path, prefix: &str) -> usize {
    fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir() && e.file_name().to_string_lossy().starts_with(prefix))
            .count()
    })
}

#[test]
fn every_rule_has_fixtures_that_fire_and_stay_silent() {
    for rule in RULES {
        let dir = root().join("fixtures").join(rule.id);
        assert!(
            cases(&dir, "fires-") >= 1,
            "{}: no fires-* case in {}",
            rule.id,
            dir.display()
        );
        assert!(
            cases(&dir, "silent-") >= 1,
            "{}: no silent-* case in {}",
            rule.id,
            dir.display()
        );
    }
}

/// The README's rule table, made from the registry.
fn table() -> String {
    let mut t = String::from("| rule | default | summary |\n|---|---|---|\n");
    for r in RULES {
        let severity = if r.enabled {
            r.severity.as_str()
        } else {
            "off"
        };
        t.push_str(&format!(
            "| [`{}`](lints/{}.md) | {} | {} |\n",
            r.id,
            r.id,
            severity,
            r.summary.replace('|', "\\|")
        ));
    }
    t
}

#[test]
fn readme_rule_table_is_current() {
    let path = root().join("README.md");
    let readme = fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- rules:start -->\n", "<!-- rules:end -->");
    let a = readme
        .find(start)
        .expect("README lacks <!-- rules:start -->")
        + start.len();
    let b = readme.find(end).expect("README lacks <!-- rules:end -->");
    let want = table();
    if std::env::var_os("GITOPS_LINT_BLESS").is_some() {
        fs::write(&path, format!("{}{}{}", &readme[..a], want, &readme[b..])).unwrap();
        return;
    }
    assert_eq!(
        &readme[a..b],
        want,
        "README rule table is stale: run GITOPS_LINT_BLESS=1 cargo test --test registry"
    );
}
