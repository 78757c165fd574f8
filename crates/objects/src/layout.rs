//! What changes between versions: struct layouts, cache and free-list capacities, immortality.
//!
//! A [`Layout`] is derived from a [`Profile`]; nothing here forks the code. Every number was
//! read from the version's headers (`Include/cpython/unicodeobject.h`, `longintrepr.h`,
//! `listobject.h`, `tupleobject.h`, `Include/internal/pycore_*.h`) or measured on the installed
//! interpreters (3.8.18, 3.9.18, 3.10.13, 3.11.7, 3.12.1, 3.13.0, 64-bit Linux, glibc):
//!
//! | `sys.getsizeof` | '' | 'a' | '가' | 0 | 257 | [] | () | (1,) | {} | 1.0 |
//! |-----------------|---:|----:|----:|--:|----:|---:|---:|-----:|---:|----:|
//! | 3.8–3.10        | 49 | 50  | 76  | 24 | 28 | 56 | 40 | 48   | 64 | 24  |
//! | 3.11            | 49 | 50  | 76  | 28 | 28 | 56 | 40 | 48   | 64 | 24  |
//! | 3.12–3.13       | 41 | 42  | 60  | 28 | 28 | 56 | 40 | 48   | 64 | 24  |
//!
//! The book assumes 64-bit Linux with glibc: pointers and `Py_ssize_t` are 8 bytes.

use pymalloc::Profile;

/// `sizeof(PyGC_Head)`: two words in front of every object the collector tracks (3.8+).
pub const GC_HEAD_SIZE: u64 = 16;
/// `sizeof(PyObject)`: `ob_refcnt` and `ob_type`.
pub const OBJECT_HEAD_SIZE: u64 = 16;
/// `sizeof(PyVarObject)`: `PyObject` and `ob_size`.
pub const VAR_HEAD_SIZE: u64 = 24;
/// `sizeof(PyListObject)`: `PyVarObject`, `ob_item`, `allocated`.
pub const LIST_SIZE: u64 = 40;
/// `sizeof(PyFloatObject)`: `PyObject`, `ob_fval`.
pub const FLOAT_SIZE: u64 = 24;
/// `offsetof(PyLongObject, ob_digit)`: after `ob_size` (3.8–3.11) or `lv_tag` (3.12+).
pub const LONG_DIGITS_OFFSET: u64 = 24;
/// `sizeof(digit)`: 30-bit digits in 32-bit words (`PYLONG_BITS_IN_DIGIT` 30 on 64-bit).
pub const DIGIT_SIZE: u64 = 4;
/// `PyLong_SHIFT`.
pub const PYLONG_SHIFT: u32 = 30;
/// `NSMALLNEGINTS`: the cache holds -5 ...
pub const NSMALLNEGINTS: i64 = 5;
/// `NSMALLPOSINTS`: ... to 256.
pub const NSMALLPOSINTS: i64 = 257;
/// `PyList_MAXFREELIST`, the same on every modelled version.
pub const LIST_MAXFREELIST: usize = 80;
/// `PyDict_MAXFREELIST`, for dicts and for their keys objects.
pub const DICT_MAXFREELIST: usize = 80;
/// `PyFloat_MAXFREELIST`, 100 on every modelled version (`objects_freelists` measures it).
pub const FLOAT_MAXFREELIST: usize = 100;
/// `PyTuple_MAXFREELIST`: tuples kept per size.
pub const TUPLE_MAXFREELIST: usize = 2000;
/// `_Py_IMMORTAL_REFCNT` on 64-bit 3.12 and 3.13: `UINT_MAX`. An increment that would carry out
/// of the low 32 bits is skipped, so the count reads this forever.
pub const IMMORTAL_REFCNT: u64 = u32::MAX as u64;
/// 3.11's statically allocated objects start here (`_PyObject_IMMORTAL_INIT`, 999999999) and
/// still count up and down.
pub const STATIC_REFCNT_3_11: u64 = 999_999_999;

/// How a version treats the objects that live in the interpreter's image (small ints, one-char
/// strings, `()`, `''`, the types) and strings interned at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Immortality {
    /// 3.8–3.10: every object is counted, static ones included.
    None,
    /// 3.11: static objects start at 999999999 and still count (`_PyObject_IMMORTAL_INIT`).
    StaticBase,
    /// 3.12: static objects and interned strings are immortal (PEP 683).
    Pinned,
    /// 3.13: as 3.12, but strings interned at run time are mortal again.
    PinnedMortalInterned,
}

/// The layout facts of one CPython version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The allocator's profile this layout belongs to.
    pub profile: Profile,
    /// `(3, minor)`.
    pub minor: u8,
}

impl Layout {
    /// The layout of `profile`'s version.
    pub fn new(profile: Profile) -> Layout {
        Layout {
            profile,
            minor: profile.version().1,
        }
    }

    /// `sizeof(PyASCIIObject)`: `length`, `hash`, `state`, and `wstr` up to 3.11.
    pub fn ascii_header(self) -> u64 {
        if self.minor >= 12 { 40 } else { 48 }
    }

    /// `sizeof(PyCompactUnicodeObject)`: adds `utf8_length`, `utf8`, and `wstr_length` up to
    /// 3.11.
    pub fn compact_header(self) -> u64 {
        if self.minor >= 12 { 56 } else { 72 }
    }

    /// Whether `sys.getsizeof(0)` counts one digit for zero (3.11+ `long_sizeof`:
    /// `Py_MAX(Py_ABS(Py_SIZE(self)), 1)`), and `_PyLong_New` allocates one.
    pub fn long_min_one_digit(self) -> bool {
        self.minor >= 11
    }

    /// 3.12+ keep an int's sign and digit count in `lv_tag` instead of a signed `ob_size`.
    pub fn long_uses_lv_tag(self) -> bool {
        self.minor >= 12
    }

    /// `PyTuple_MAXSAVESIZE`: tuples of sizes `1..max` are kept (20 on 3.8–3.10, 21 on 3.11+,
    /// where the index became `size - 1`).
    pub fn tuple_maxsavesize(self) -> usize {
        if self.minor >= 11 { 21 } else { 20 }
    }

    /// How static objects and interned strings are counted.
    pub fn immortality(self) -> Immortality {
        match self.minor {
            ..=10 => Immortality::None,
            11 => Immortality::StaticBase,
            12 => Immortality::Pinned,
            _ => Immortality::PinnedMortalInterned,
        }
    }

    /// What `ob_refcnt` of a static object holds before anything refers to it.
    pub fn static_refcnt_base(self) -> u64 {
        match self.immortality() {
            Immortality::None => 0,
            Immortality::StaticBase => STATIC_REFCNT_3_11,
            Immortality::Pinned | Immortality::PinnedMortalInterned => IMMORTAL_REFCNT,
        }
    }

    /// Whether increments and decrements of an object whose count reads
    /// [`IMMORTAL_REFCNT`] are skipped (`_Py_IsImmortal`, 3.12+).
    pub fn has_immortal_objects(self) -> bool {
        self.minor >= 12
    }

    /// The hash function of `bytes`, `str` and memoryviews (`Py_HASH_ALGORITHM`): SipHash-2-4
    /// up to 3.10, SipHash-1-3 from 3.11 (bpo-29410).
    pub fn siphash_rounds(self) -> (u32, u32) {
        if self.minor >= 11 { (1, 3) } else { (2, 4) }
    }

    /// `list_resize`'s new allocation for `newsize` items when `allocated` is too small or too
    /// big, as each version computes it.
    pub fn list_new_allocated(self, newsize: u64, oldsize: u64) -> u64 {
        if newsize == 0 {
            return 0;
        }
        if self.minor <= 8 {
            // 3.8: "The growth pattern is: 0, 4, 8, 16, 25, 35, 46, 58, 72, 88, ..."
            return newsize + (newsize >> 3) + if newsize < 9 { 3 } else { 6 };
        }
        // 3.9+: "Add padding to make the allocated size multiple of 4. The growth pattern is:
        // 0, 4, 8, 16, 24, 32, 40, 52, 64, 76, ..."
        let mut new_allocated = (newsize + (newsize >> 3) + 6) & !3;
        // Do not overallocate if the new size is closer to overallocated size than to the old
        // size.
        if newsize - oldsize.min(newsize) > new_allocated - newsize {
            new_allocated = (newsize + 3) & !3;
        }
        new_allocated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(v: &str) -> Layout {
        Layout::new(Profile::parse(v).unwrap())
    }

    #[test]
    fn list_growth_patterns_match_the_comments_in_listobject_c() {
        let grow = |l: Layout| {
            let (mut allocated, mut seen) = (0, vec![0]);
            for n in 1..=90 {
                if n > allocated {
                    allocated = l.list_new_allocated(n, n - 1);
                    seen.push(allocated);
                }
            }
            seen
        };
        assert_eq!(
            grow(layout("3.8")),
            [0, 4, 8, 16, 25, 35, 46, 58, 72, 88, 106]
        );
        assert_eq!(
            grow(layout("3.11")),
            [0, 4, 8, 16, 24, 32, 40, 52, 64, 76, 92]
        );
    }

    #[test]
    fn immortality_by_version() {
        assert_eq!(layout("3.10").static_refcnt_base(), 0);
        assert_eq!(layout("3.11").static_refcnt_base(), 999_999_999);
        assert_eq!(layout("3.12").static_refcnt_base(), 4_294_967_295);
        assert!(!layout("3.11").has_immortal_objects());
        assert_eq!(
            layout("3.13").immortality(),
            Immortality::PinnedMortalInterned
        );
    }
}
