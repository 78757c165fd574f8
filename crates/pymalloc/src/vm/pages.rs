//! Which pages of a mapping have been written: the mapping's share of RSS.
//!
//! Linux maps an anonymous page on the first write to it (a read maps the shared zero page, which
//! RSS does not count). One bit per 4 KiB page, and a count kept as bits are set, so RSS is a sum
//! of counters rather than a scan.

/// A bitset of touched pages, one bit per page of the mapping.
#[derive(Clone, Debug, Default)]
pub(crate) struct PageSet {
    bits: Vec<u64>,
    count: u64,
}

impl PageSet {
    /// Marks pages `first..=last` touched; returns how many were not touched before.
    pub(crate) fn touch(&mut self, first: u64, last: u64) -> u64 {
        if first == last {
            // One page, as for nearly every write: one bit.
            let (word, bit) = ((first / 64) as usize, 1u64 << (first % 64));
            match self.bits.get_mut(word) {
                Some(w) if *w & bit != 0 => return 0,
                Some(w) => *w |= bit,
                None => {
                    self.bits.resize(word + 1, 0);
                    self.bits[word] = bit;
                }
            }
            self.count += 1;
            return 1;
        }
        let words_needed = (last / 64 + 1) as usize;
        if self.bits.len() < words_needed {
            self.bits.resize(words_needed, 0);
        }
        let before = self.count;
        let mut page = first;
        while page <= last {
            let word = (page / 64) as usize;
            let lo = page % 64;
            let hi = (last - page + lo).min(63);
            let mask = (u64::MAX >> (63 - hi)) & (u64::MAX << lo);
            self.count += u64::from((mask & !self.bits[word]).count_ones());
            self.bits[word] |= mask;
            page += hi - lo + 1;
        }
        self.count - before
    }

    /// Forgets every page from `pages` on (the mapping shrank); returns how many were touched.
    pub(crate) fn truncate(&mut self, pages: u64) -> u64 {
        let before = self.count;
        let keep_words = pages.div_ceil(64) as usize;
        if keep_words < self.bits.len() {
            self.bits.truncate(keep_words);
        }
        if let Some(last) = self.bits.last_mut() {
            let used = pages % 64;
            if used != 0 {
                *last &= u64::MAX >> (64 - used);
            }
        }
        self.count = self.bits.iter().map(|w| u64::from(w.count_ones())).sum();
        before - self.count
    }

    /// How many pages are touched.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Whether page `page` is touched.
    pub(crate) fn contains(&self, page: u64) -> bool {
        self.bits
            .get((page / 64) as usize)
            .is_some_and(|w| w & (1 << (page % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_page_once_across_word_boundaries() {
        let mut p = PageSet::default();
        assert_eq!(p.touch(60, 70), 11);
        assert_eq!(p.touch(65, 130), 60);
        assert_eq!(p.count(), 71);
        assert!(p.contains(60) && p.contains(130) && !p.contains(59));
        assert_eq!(p.truncate(66), 71 - 6);
        assert_eq!(p.count(), 6);
        assert!(!p.contains(66));
    }
}
