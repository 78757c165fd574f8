//! A mapping's contents, as a sparse map of 8-byte words.
//!
//! Fresh anonymous memory reads as zero, so only non-zero words are stored, and writing zero
//! removes the entry: a pool full of live blocks whose clients wrote nothing costs nothing here.
//! Keys are word offsets from the mapping's start, so `mremap` can move a mapping without
//! rewriting its contents, and `munmap` drops them all at once.
//!
//! The brk heap keeps an ordered map, because `sbrk` with a negative increment must forget the
//! words above the new break; mmapped mappings keep a hash map, which is faster.

use std::collections::BTreeMap;

use crate::hash::AddrMap;

/// The non-zero words of one mapping, keyed by word index (offset / 8).
#[derive(Clone, Debug)]
pub(crate) enum WordStore {
    /// For mmapped mappings.
    Hashed(AddrMap<u64>),
    /// For the brk heap, which shrinks from the top.
    Ordered(BTreeMap<u64, u64>),
}

impl WordStore {
    pub(crate) fn get(&self, index: u64) -> u64 {
        match self {
            Self::Hashed(m) => m.get(&index).copied().unwrap_or(0),
            Self::Ordered(m) => m.get(&index).copied().unwrap_or(0),
        }
    }

    pub(crate) fn set(&mut self, index: u64, value: u64) {
        match (self, value) {
            (Self::Hashed(m), 0) => {
                m.remove(&index);
            }
            (Self::Hashed(m), v) => {
                m.insert(index, v);
            }
            (Self::Ordered(m), 0) => {
                m.remove(&index);
            }
            (Self::Ordered(m), v) => {
                m.insert(index, v);
            }
        }
    }

    /// How many non-zero words are stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Hashed(m) => m.len(),
            Self::Ordered(m) => m.len(),
        }
    }

    /// Forgets every word at index `from` and above.
    pub(crate) fn truncate(&mut self, from: u64) {
        match self {
            Self::Hashed(m) => m.retain(|&k, _| k < from),
            Self::Ordered(m) => {
                m.split_off(&from);
            }
        }
    }

    /// The non-zero words with index in `from..to`, in index order. Costs the smaller of the
    /// range and the store.
    pub(crate) fn entries(&self, from: u64, to: u64) -> Vec<(u64, u64)> {
        match self {
            Self::Ordered(m) => m.range(from..to).map(|(&k, &v)| (k, v)).collect(),
            Self::Hashed(m) if to - from <= m.len() as u64 => (from..to)
                .filter_map(|k| m.get(&k).map(|&v| (k, v)))
                .collect(),
            Self::Hashed(m) => {
                let mut found: Vec<(u64, u64)> = m
                    .iter()
                    .filter(|&(&k, _)| (from..to).contains(&k))
                    .map(|(&k, &v)| (k, v))
                    .collect();
                found.sort_unstable();
                found
            }
        }
    }

    /// Zeroes the words with index in `from..to`.
    pub(crate) fn clear(&mut self, from: u64, to: u64) {
        for (k, _) in self.entries(from, to) {
            self.set(k, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both() -> [WordStore; 2] {
        [
            WordStore::Hashed(AddrMap::default()),
            WordStore::Ordered(BTreeMap::new()),
        ]
    }

    #[test]
    fn zero_is_absence() {
        for mut w in both() {
            assert_eq!(w.get(5), 0);
            w.set(5, 7);
            assert_eq!((w.get(5), w.len()), (7, 1));
            w.set(5, 0);
            assert_eq!((w.get(5), w.len()), (0, 0));
        }
    }

    #[test]
    fn ranges_truncate_and_clear() {
        for mut w in both() {
            for k in 0..100 {
                w.set(k, k + 1);
            }
            assert_eq!(w.entries(10, 13), vec![(10, 11), (11, 12), (12, 13)]);
            assert_eq!(w.entries(0, 1000).len(), 100);
            w.clear(20, 30);
            assert_eq!(w.len(), 90);
            w.truncate(50);
            assert_eq!(w.len(), 40);
            assert_eq!(w.get(49), 50);
            assert_eq!(w.get(50), 0);
        }
    }
}
