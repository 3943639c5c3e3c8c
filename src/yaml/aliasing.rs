//! Excessive aliasing ("billion laughs"). The tree never expands aliases, so
//! linting one is cheap; but Kubernetes' YAML decoder (go-yaml) refuses a
//! document whose decoding goes mostly through aliases, and so does Flux. This
//! counts what that decoder would decode, without expanding anything.

use super::{NodeId, Yaml};

/// go-yaml's `allowedAliasRatio`: the share of decoded nodes that may come
/// through aliases, by how many nodes the document decodes to.
fn allowed_ratio(decoded: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    match decoded {
        d if d <= LOW => 0.99,
        d if d >= HIGH => 0.10,
        d => 0.99 - 0.89 * ((d - LOW) as f64 / (HIGH - LOW) as f64),
    }
}

/// Nodes a node decodes to (`size`) and, of those, how many through an alias
/// (`aliased`), memoised per node; computed without recursion.
struct Counts {
    size: Vec<Option<u64>>,
    aliased: Vec<Option<u64>>,
    /// Entered but not finished: an alias back to such a node is a cycle.
    open: Vec<bool>,
}

impl Counts {
    /// What a node decodes through: its items, keys and values, or the node an alias names.
    fn children(yaml: &Yaml, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        yaml.children(id).chain(yaml.alias_target(id))
    }

    fn compute(&mut self, yaml: &Yaml, root: NodeId) {
        let mut stack = vec![(root, false)];
        while let Some((id, expanded)) = stack.pop() {
            let i = id as usize;
            if self.size[i].is_some() {
                continue;
            }
            let children = Self::children(yaml, id);
            if !expanded {
                if self.open[i] {
                    continue;
                }
                self.open[i] = true;
                stack.push((id, true));
                // An alias to its own ancestor (a cycle) is not followed: it counts 0.
                let pending = children
                    .filter(|c| self.size[*c as usize].is_none() && !self.open[*c as usize]);
                stack.extend(pending.map(|c| (c, false)));
                continue;
            }
            let (size, aliased) = match yaml.alias_target(id) {
                Some(t) => {
                    let s = self.size[t as usize].unwrap_or(0);
                    (s, s)
                }
                _ => children.fold((1u64, 0u64), |(s, a), c| {
                    let c = c as usize;
                    (
                        s.saturating_add(self.size[c].unwrap_or(0)),
                        a.saturating_add(self.aliased[c].unwrap_or(0)),
                    )
                }),
            };
            self.size[i] = Some(size);
            self.aliased[i] = Some(aliased);
        }
    }
}

/// For each document that go-yaml would refuse: its root and how many nodes it decodes to.
pub fn excessive(yaml: &Yaml) -> Vec<(NodeId, u64)> {
    if !yaml.aliased {
        return Vec::new();
    }
    let mut counts = Counts {
        size: vec![None; yaml.nodes.len()],
        aliased: vec![None; yaml.nodes.len()],
        open: vec![false; yaml.nodes.len()],
    };
    let mut out = Vec::new();
    for doc in &yaml.docs {
        counts.compute(yaml, doc.root);
        let decoded = counts.size[doc.root as usize].unwrap_or(0);
        let aliased = counts.aliased[doc.root as usize].unwrap_or(0);
        if aliased > 100
            && decoded > 1000
            && aliased as f64 / decoded as f64 > allowed_ratio(decoded)
        {
            out.push((doc.root, decoded));
        }
    }
    out
}
