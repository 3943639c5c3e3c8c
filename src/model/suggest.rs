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
        if let Some(d) = within(wanted, c, limit)
            && best.is_none_or(|(bd, _)| d < bd)
        {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `a` and `b` without what they share at their start and at their end,
/// which changes no edit distance.
fn unshared<'s>(a: &'s str, b: &'s str) -> (&'s str, &'s str) {
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
    (&a[p..a.len() - s], &b[p..b.len() - s])
}

/// The Levenshtein distance in characters. What two strings share at their
/// start and at their end changes nothing, so only the rest is compared.
pub fn distance(a: &str, b: &str) -> usize {
    let (a, b) = unshared(a, b);
    strsim::levenshtein(a, b)
}

/// Characters compared on the stack by `within`; longer strings take `distance`.
const SHORT: usize = 64;

/// The Levenshtein distance in characters when it is at most `limit`:
/// only the cells of the table within `limit` of its diagonal are computed,
/// on the stack, and the comparison stops at the first row where every cell
/// is over the limit.
pub fn within(a: &str, b: &str, limit: usize) -> Option<usize> {
    let (a, b) = unshared(a, b);
    let (mut x, mut y) = (['\0'; SHORT], ['\0'; SHORT]);
    let (mut n, mut m) = (0, 0);
    for c in a.chars() {
        if n == SHORT {
            return Some(distance(a, b)).filter(|&d| d <= limit);
        }
        x[n] = c;
        n += 1;
    }
    for c in b.chars() {
        if m == SHORT {
            return Some(distance(a, b)).filter(|&d| d <= limit);
        }
        y[m] = c;
        m += 1;
    }
    if n.abs_diff(m) > limit {
        return None;
    }
    // Cells off the band hold more than any distance within the limit.
    const FAR: usize = usize::MAX / 2;
    let (mut prev, mut cur) = ([FAR; SHORT + 1], [FAR; SHORT + 1]);
    for (j, cell) in prev.iter_mut().enumerate().take(m.min(limit) + 1) {
        *cell = j;
    }
    for i in 1..=n {
        let (lo, hi) = (i.saturating_sub(limit), (i + limit).min(m));
        cur[..=m].fill(FAR);
        let mut least = FAR;
        if lo == 0 {
            cur[0] = i;
            least = i;
        }
        for j in lo.max(1)..=hi {
            let cost = usize::from(x[i - 1] != y[j - 1]);
            let v = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            cur[j] = v;
            least = least.min(v);
        }
        if least > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[m]).filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::{closest, distance, within};

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
            "kube-prometheus-stack",
            "kube-promethues-stack",
            "kube-prometheus-stak",
            "xkube-prometheus-stack",
            "prometheus-operator-crds",
            "abcdefgh",
            "badcfehg",
            "abcdxfgh",
            "abcdefghij",
        ];
        // Past the characters compared on the stack.
        let long = format!("a{}b", "x".repeat(70));
        let longer = format!("c{}d", "x".repeat(70));
        let words: Vec<&str> = words
            .into_iter()
            .chain([long.as_str(), longer.as_str()])
            .collect();
        for &a in &words {
            for &b in &words {
                let d = strsim::levenshtein(a, b);
                assert_eq!(distance(a, b), d, "{a:?} {b:?}");
                for limit in 0..4 {
                    assert_eq!(
                        within(a, b, limit),
                        (d <= limit).then_some(d),
                        "{a:?} {b:?} within {limit}"
                    );
                }
            }
        }
    }
}
