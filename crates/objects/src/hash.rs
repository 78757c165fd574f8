//! Hashing: a fast hasher for the model's own address-keyed maps, and the hash functions CPython
//! uses for `str` (`Python/pyhash.c`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Folded-multiply hasher for the model's `u64` keys (addresses): every input bit reaches the
/// low bits, so pool-aligned keys spread well.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let product = u128::from(self.0 ^ n) * 0x9e37_79b9_7f4a_7c15_u128;
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by addresses.
pub type AddrMap<V> = HashMap<u64, V, BuildHasherDefault<AddrHasher>>;

/// SipHash with `c` compression and `d` finalisation rounds, keyed by `(k0, k1)`, as
/// `Python/pyhash.c` computes it (`siphash13` from 3.11, `siphash24` before).
pub fn siphash(c: u32, d: u32, k0: u64, k1: u64, src: &[u8]) -> u64 {
    let mut v0 = k0 ^ 0x736f_6d65_7073_6575;
    let mut v1 = k1 ^ 0x646f_7261_6e64_6f6d;
    let mut v2 = k0 ^ 0x6c79_6765_6e65_7261;
    let mut v3 = k1 ^ 0x7465_6462_7974_6573;
    let round = |v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64| {
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    };
    let mut chunks = src.chunks_exact(8);
    for chunk in &mut chunks {
        let mi = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        v3 ^= mi;
        for _ in 0..c {
            round(&mut v0, &mut v1, &mut v2, &mut v3);
        }
        v0 ^= mi;
    }
    let mut t = (src.len() as u64) << 56;
    for (i, &b) in chunks.remainder().iter().enumerate() {
        t |= u64::from(b) << (8 * i);
    }
    v3 ^= t;
    for _ in 0..c {
        round(&mut v0, &mut v1, &mut v2, &mut v3);
    }
    v0 ^= t;
    v2 ^= 0xff;
    for _ in 0..d {
        round(&mut v0, &mut v1, &mut v2, &mut v3);
    }
    v0 ^ v1 ^ v2 ^ v3
}

/// `_Py_HashBytes` with the hash secret zeroed, as `PYTHONHASHSEED=0` leaves it: the model is
/// deterministic, so its str hashes are those of a real interpreter run with that setting. The
/// empty string hashes to 0, and -1 (the "not computed" mark) becomes -2.
pub fn hash_bytes(rounds: (u32, u32), src: &[u8]) -> i64 {
    if src.is_empty() {
        return 0;
    }
    let x = siphash(rounds.0, rounds.1, 0, 0, src) as i64;
    if x == -1 { -2 } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_real_interpreters_run_with_pythonhashseed_0() {
        // PYTHONHASHSEED=0 python3 -c "print(hash('a'), hash('abc'), hash('가'))"
        assert_eq!(hash_bytes((2, 4), b"a"), -7583489610679606711); // 3.8 to 3.10
        assert_eq!(hash_bytes((2, 4), b"abc"), 4596069200710135518);
        assert_eq!(hash_bytes((1, 3), b"a"), 4644417185603328019); // 3.11 to 3.13
        assert_eq!(hash_bytes((1, 3), b"abc"), -4594863902769663758);
        // '가' is U+AC00: kind 2, hashed as its two little-endian bytes.
        assert_eq!(
            hash_bytes((1, 3), &0xac00u16.to_le_bytes()),
            -7659604139638115878
        );
        assert_eq!(hash_bytes((1, 3), b""), 0);
    }
}
