//! A hasher for the model's `u64` keys (pool addresses, word offsets).
//!
//! std's default SipHash resists hash flooding, which a model fed its own addresses does not need,
//! and costs several times more per lookup; the allocator does a lookup or two per operation.
//! Pool addresses are multiples of 4 or 16 KiB, so a plain multiply would leave the low bits zero:
//! the 128-bit product is folded so that every input bit reaches the low bits too.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Folded-multiply hasher for integer keys.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AddrHasher(u64);

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let product = u128::from(self.0 ^ n) * u128::from(MULTIPLIER);
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by addresses or word offsets.
pub(crate) type AddrMap<V> = HashMap<u64, V, BuildHasherDefault<AddrHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    fn hash(n: u64) -> u64 {
        let mut h = AddrHasher::default();
        n.hash(&mut h);
        h.finish()
    }

    #[test]
    fn pool_aligned_keys_differ_in_their_low_bits() {
        let lows: std::collections::HashSet<u64> = (0..64u64)
            .map(|i| hash(0x7f00_0000_0000 + (i << 14)) & 0x3f)
            .collect();
        assert!(
            lows.len() > 32,
            "only {} distinct low-bit patterns",
            lows.len()
        );
    }
}
