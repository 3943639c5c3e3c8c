//! "Did you mean …": the closest of the names a reference could have meant.

/// The candidate nearest to `wanted` by edit distance, when it is close
/// enough to be a likely typo (at most 2 edits, and fewer than half the
/// length). Ties go to the first candidate in the order given.
///
/// A candidate whose length differs from `wanted` by more than the limit is
/// never within it, so it costs a length, not a distance.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let chars = wanted.chars().count();
    let limit = 2.min(chars.saturating_sub(1) / 2).max(1);
    let (shortest, longest) = (chars.saturating_sub(limit), chars + limit);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        // A string has at least as many bytes as characters.
        if c == wanted || c.len() < shortest {
            continue;
        }
        let n = c.chars().count();
        if n < shortest || n > longest {
            continue;
        }
        let d = distance(wanted, c);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// The Levenshtein distance in characters. What two strings share at their
/// start and at their end changes nothing, so only the rest is compared.
pub fn distance(a: &str, b: &str) -> usize {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let mut p = x.iter().zip(y).take_while(|(u, v)| u == v).count();
    while !(a.is_char_boundary(p) && b.is_char_boundary(p)) {
        p -= 1;
    }
    let room = x.len().min(y.len()) - p;
    let mut s = x
        .iter()
        .rev()
        .zip(y.iter().rev())
        .take(room)
        .take_while(|(u, v)| u == v)
        .count();
    // The shared end is the same bytes in both: a boundary in one is one in the other.
    while !a.is_char_boundary(a.len() - s) {
        s -= 1;
    }
    strsim::levenshtein(&a[p..a.len() - s], &b[p..b.len() - s])
}

#[cfg(test)]
mod tests {
    use super::{closest, distance};

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

    #[test]
    fn distance_is_levenshtein() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "kitten",
            "sitting",
            "apps/media/plex",
            "apps/medai/plex",
            "appsx",
            "xapps",
            "é",
            "éa",
            "aé",
            "eé",
            "ée",
            "日本",
            "日本語",
            "本日",
            "aaa",
            "aaaa",
            "ab/é/cd",
            "ab/è/cd",
            "ab/éé/cd",
        ];
        for a in words {
            for b in words {
                assert_eq!(distance(a, b), strsim::levenshtein(a, b), "{a:?} {b:?}");
            }
        }
    }
}
