//! "Did you mean …": the closest of the names a reference could have meant.

/// The candidate nearest to `wanted` by edit distance, when it is close
/// enough to be a likely typo (at most 2 edits, and fewer than half the
/// length). Ties go to the first candidate in the order given.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = 2.min(wanted.chars().count().saturating_sub(1) / 2).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == wanted {
            continue;
        }
        let d = strsim::levenshtein(wanted, c);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn near_names_only() {
        let names = ["cilium", "cilium-config", "cert-manager"];
        assert_eq!(closest("cilum", names), Some("cilium"));
        assert_eq!(closest("cert-manger", names), Some("cert-manager"));
        assert_eq!(closest("longhorn", names), None);
        assert_eq!(
            closest("cilium", names),
            None,
            "the name itself is no suggestion"
        );
        assert_eq!(closest("a", ["b"]), Some("b"));
    }
}
