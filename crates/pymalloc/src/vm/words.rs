//! A mapping's contents, as 8-byte words.
//!
//! Fresh anonymous memory reads as zero. Keys are word offsets from the mapping's start, so
//! `mremap` can move a mapping without rewriting its contents, and `munmap` drops them all at
//! once. Two representations, chosen by what a mapping holds:
//!
//! * **Sparse** (a hash map of the non-zero words) for pymalloc's arenas: the object layer keeps
//!   its objects' fields beside the memory, so an arena's stored words are few (free-list
//!   links, small buffers), and a full arena costs nothing here.
//! * **Dense** (a vector, one `u64` a word, grown to the highest word written) for glibc's heap
//!   and its mmapped chunks, which hold buffers written word by word (list items, dict tables):
//!   there a vector costs what the process's own memory does, and reads, writes and copies are
//!   array operations.

use crate::hash::AddrMap;

/// The words of one mapping, keyed by word index (offset / 8).
#[derive(Clone, Debug)]
pub(crate) enum WordStore {
    /// The non-zero words.
    Sparse(AddrMap<u64>),
    /// Every word up to the highest one written.
    Dense(Vec<u64>),
}

impl WordStore {
    pub(crate) fn get(&self, index: u64) -> u64 {
        match self {
            Self::Sparse(m) => m.get(&index).copied().unwrap_or(0),
            Self::Dense(v) => v.get(index as usize).copied().unwrap_or(0),
        }
    }

    pub(crate) fn set(&mut self, index: u64, value: u64) {
        match self {
            Self::Sparse(m) if value == 0 => {
                m.remove(&index);
            }
            Self::Sparse(m) => {
                m.insert(index, value);
            }
            Self::Dense(v) => {
                let i = index as usize;
                if i >= v.len() {
                    if value == 0 {
                        return;
                    }
                    grow(v, i + 1);
                }
                v[i] = value;
            }
        }
    }

    /// How many words are stored (the model's own cost).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Sparse(m) => m.len(),
            Self::Dense(v) => v.iter().filter(|&&w| w != 0).count(),
        }
    }

    /// Forgets every word at index `from` and above.
    pub(crate) fn truncate(&mut self, from: u64) {
        match self {
            Self::Sparse(m) => m.retain(|&k, _| k < from),
            Self::Dense(v) => v.truncate(from as usize),
        }
    }

    /// The words with index in `from..to`, zeros included.
    pub(crate) fn read_range(&self, from: u64, to: u64) -> Vec<u64> {
        match self {
            Self::Sparse(m) => (from..to)
                .map(|k| m.get(&k).copied().unwrap_or(0))
                .collect(),
            Self::Dense(v) => {
                let mut out = vec![0; (to - from) as usize];
                let (lo, hi) = ((from as usize).min(v.len()), (to as usize).min(v.len()));
                out[..hi - lo].copy_from_slice(&v[lo..hi]);
                out
            }
        }
    }

    /// Writes `words` from index `to` on.
    pub(crate) fn write_range(&mut self, to: u64, words: &[u64]) {
        match self {
            Self::Dense(v) => {
                let to = to as usize;
                // Words past the vector's end read zero already: store up to the last non-zero.
                let needed = words
                    .iter()
                    .rposition(|&w| w != 0)
                    .map_or(0, |i| to + i + 1);
                if needed > v.len() {
                    grow(v, needed);
                }
                let n = words.len().min(v.len().saturating_sub(to));
                if n > 0 {
                    v[to..to + n].copy_from_slice(&words[..n]);
                }
            }
            Self::Sparse(_) => {
                for (k, &w) in words.iter().enumerate() {
                    self.set(to + k as u64, w);
                }
            }
        }
    }

    /// Zeroes the words with index in `from..to`.
    pub(crate) fn clear(&mut self, from: u64, to: u64) {
        match self {
            Self::Sparse(m) if to - from > m.len() as u64 => {
                m.retain(|&k, _| !(from..to).contains(&k))
            }
            Self::Sparse(m) => {
                for k in from..to {
                    m.remove(&k);
                }
            }
            Self::Dense(v) => {
                let (lo, hi) = ((from as usize).min(v.len()), (to as usize).min(v.len()));
                v[lo..hi].fill(0);
            }
        }
    }
}

/// Extends a dense store to `len` words. Capacity grows by an eighth at a time rather than
/// doubling: a buffer written word by word (a list's items) then costs the model about what it
/// costs the process, where doubling would hold up to twice that.
fn grow(v: &mut Vec<u64>, len: usize) {
    if len > v.capacity() {
        let target = len.max(v.len() + v.len() / 8 + 64);
        v.reserve_exact(target - v.len());
    }
    v.resize(len, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both() -> [WordStore; 2] {
        [
            WordStore::Sparse(AddrMap::default()),
            WordStore::Dense(Vec::new()),
        ]
    }

    #[test]
    fn zero_is_the_default() {
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
            assert_eq!(w.read_range(10, 13), vec![11, 12, 13]);
            assert_eq!(w.read_range(98, 102), vec![99, 100, 0, 0]);
            w.clear(20, 30);
            assert_eq!(w.len(), 90);
            w.truncate(50);
            assert_eq!(w.len(), 40);
            assert_eq!(w.get(49), 50);
            assert_eq!(w.get(50), 0);
            w.write_range(48, &[5, 0, 7]);
            assert_eq!(w.read_range(47, 52), vec![48, 5, 0, 7, 0]);
            w.write_range(200, &[0, 0]);
            assert_eq!(w.get(200), 0);
        }
    }
}
