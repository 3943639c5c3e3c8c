use super::{NodeId, Span, Yaml};

#[derive(Debug, Clone, Copy)]
pub struct Scalar<'a> {
    pub text: &'a str,
    /// Plain (unquoted, not a block scalar): only these can be null, bool or numbers.
    pub plain: bool,
}

/// Merge keys nest; past this depth a merge chain is ignored (and cycles end).
const MERGE_DEPTH: usize = 16;

/// A node of a parsed file, with the accessors rules read values through.
/// Aliases are followed one hop; merge keys (`<<`) are read through by `get`.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    yaml: &'a Yaml,
    id: NodeId,
}

impl std::fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeRef({} {:?})", self.id, self.span())
    }
}

impl<'a> NodeRef<'a> {
    pub(super) fn new(yaml: &'a Yaml, id: NodeId) -> Self {
        let node = NodeRef { yaml, id };
        node.resolve()
    }

    /// The node an alias names (or the node itself).
    fn resolve(self) -> Self {
        match self.yaml.alias_target(self.id) {
            Some(target) => NodeRef {
                yaml: self.yaml,
                id: target,
            },
            None => self,
        }
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn span(&self) -> Span {
        self.yaml.span(self.id)
    }

    pub fn scalar(&self) -> Option<Scalar<'a>> {
        let (text, plain) = self.yaml.scalar_of(self.id)?;
        Some(Scalar { text, plain })
    }

    /// `part` (of this node's file) as a view of the file's text where it
    /// is written as is, else a copy (see `Text::view`).
    pub fn text_view(&self, part: &str) -> crate::shared::Text {
        self.yaml.text.view(part)
    }

    /// The text of a scalar that is not null.
    pub fn as_str(&self) -> Option<&'a str> {
        self.scalar().filter(|s| !is_null(s)).map(|s| s.text)
    }

    pub fn is_null(&self) -> bool {
        self.scalar().is_some_and(|s| is_null(&s))
    }

    pub fn as_bool(&self) -> Option<bool> {
        let s = self.scalar().filter(|s| s.plain)?;
        match s.text {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        let s = self.scalar().filter(|s| s.plain)?;
        s.text.parse().ok()
    }

    pub fn is_map(&self) -> bool {
        self.yaml.map_children(self.id).is_some()
    }

    pub fn is_seq(&self) -> bool {
        self.yaml.seq_children(self.id).is_some()
    }

    /// Whether a key of this mapping is a merge key (`<<`) or an alias (of
    /// a node the file has).
    pub fn has_merge_or_alias_key(&self) -> bool {
        let Some(children) = self.yaml.map_children(self.id) else {
            return false;
        };
        children
            .pairs()
            .any(|(k, _)| self.yaml.alias_target(k).is_some() || self.yaml.key_is(k, b"<<").1)
    }

    /// Whether no document of the file holds more than `values` values, nor
    /// a value within more than `depth` collections, once its aliases are
    /// expanded (no alias names a collection, and it has that many nodes at
    /// most: an alias of a scalar is one value, and nests nothing).
    pub fn file_within(&self, depth: usize, values: usize) -> bool {
        let y = self.yaml;
        !y.collection_aliased && y.nesting as usize <= depth && y.nodes.len() <= values
    }

    /// Whether the file this node is in has a mapping with a key written twice.
    pub fn file_has_duplicate_keys(&self) -> bool {
        !self.yaml.duplicate_keys.is_empty()
    }

    /// Entries of a mapping in source order, keys and values resolved. Merge keys
    /// are returned as they are written; use `get` to read through them.
    pub fn entries(self) -> impl Iterator<Item = (NodeRef<'a>, NodeRef<'a>)> + 'a {
        let yaml = self.yaml;
        yaml.map_children(self.id)
            .into_iter()
            .flat_map(|c| c.pairs())
            .map(move |(k, v)| (NodeRef::new(yaml, k), NodeRef::new(yaml, v)))
    }

    /// Items of a sequence, resolved.
    pub fn items(self) -> impl Iterator<Item = NodeRef<'a>> + 'a {
        let yaml = self.yaml;
        yaml.seq_children(self.id)
            .into_iter()
            .flatten()
            .map(move |i| NodeRef::new(yaml, i))
    }

    /// The value of `key` with its key node: explicit entries first (the last
    /// one wins, as in Kubernetes), then the mappings merged in with `<<`.
    pub fn entry(&self, key: &str) -> Option<(NodeRef<'a>, NodeRef<'a>)> {
        self.entry_depth(key, 0)
    }

    fn entry_depth(&self, key: &str, depth: usize) -> Option<(NodeRef<'a>, NodeRef<'a>)> {
        let children = self.yaml.map_children(self.id)?;
        let (mut found, mut merged) = (None, None);
        let wanted = key.as_bytes();
        let unique = self.yaml.keys_unique();
        // In source order: the last of a repeated key, and of merge keys, wins.
        for (k, v) in children.pairs() {
            // Keys are read as written (an alias as a key is resolved).
            let (is, merge) = self.yaml.key_is(k, wanted);
            if is {
                found = Some((k, v));
                if unique {
                    break;
                }
            }
            if merge {
                merged = Some(v);
            }
        }
        if let Some((k, v)) = found {
            return Some((NodeRef::new(self.yaml, k), NodeRef::new(self.yaml, v)));
        }
        if depth >= MERGE_DEPTH {
            return None;
        }
        let merged = NodeRef::new(self.yaml, merged?);
        if merged.is_seq() {
            merged.items().find_map(|m| m.entry_depth(key, depth + 1))
        } else {
            merged.entry_depth(key, depth + 1)
        }
    }

    pub fn get(&self, key: &str) -> Option<NodeRef<'a>> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The values of several keys, as `get` gives each, with one pass over
    /// the mapping's keys (each key node read once, whatever the number of
    /// keys asked for). A key not written in the mapping is looked for in
    /// what merge keys bring, as `get` does.
    pub fn get_all<const N: usize>(&self, keys: [&str; N]) -> [Option<NodeRef<'a>>; N] {
        let mut out: [Option<NodeId>; N] = [None; N];
        let Some(children) = self.yaml.map_children(self.id) else {
            return [None; N];
        };
        let mut merge = false;
        let (unique, mut left) = (self.yaml.keys_unique(), N);
        // In source order: the last of a repeated key wins, as in `get`.
        for (k, v) in children.pairs() {
            let Some((written, plain)) = self.yaml.key_bytes(k) else {
                continue;
            };
            merge |= plain && written == b"<<";
            for (slot, key) in out.iter_mut().zip(keys) {
                if written.len() == key.len() && written == key.as_bytes() {
                    left -= usize::from(slot.is_none());
                    *slot = Some(v);
                }
            }
            if unique && left == 0 {
                break;
            }
        }
        let mut out = out.map(|v| v.map(|v| NodeRef::new(self.yaml, v)));
        if merge {
            for (slot, key) in out.iter_mut().zip(keys) {
                if slot.is_none() {
                    *slot = self.get(key);
                }
            }
        }
        out
    }

    /// Follows a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<NodeRef<'a>> {
        keys.iter().try_fold(*self, |node, key| node.get(key))
    }

    /// The string at a path of keys.
    pub fn str_at(&self, keys: &[&str]) -> Option<&'a str> {
        self.path(keys)?.as_str()
    }

    /// The span of `key` itself within this mapping.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.entry(key).map(|(k, _)| k.span())
    }
}

fn is_null(s: &Scalar) -> bool {
    s.plain && matches!(s.text, "" | "~" | "null" | "Null" | "NULL")
}
