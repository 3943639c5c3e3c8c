//! What unit tests share.

/// A small deterministic generator (xorshift64) for tests that try many
/// made-up inputs: the same seed gives the same inputs on every run.
pub(crate) struct Rng(u64);

impl Rng {
    /// `seed` must not be 0.
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}
