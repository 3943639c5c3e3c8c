//! What the flux rules share.

/// Two clusters that may be the same: equal, or either unknown.
pub(super) fn compatible(a: Option<usize>, b: Option<usize>) -> bool {
    a.is_none() || b.is_none() || a == b
}

/// Two namespaces that may be the same: equal, or either unknown.
pub(super) fn same_ns(a: Option<&str>, b: Option<&str>) -> bool {
    a.is_none() || b.is_none() || a == b
}
