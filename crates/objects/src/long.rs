//! `Objects/longobject.c`: ints, and the cache of small ones.
//!
//! ```text
//!  3.8–3.11  | ob_refcnt | ob_type | ob_size (signed digit count) | digit[0] digit[1] ... |
//!  3.12+     | ob_refcnt | ob_type | lv_tag (count << 3 | sign)   | digit[0] digit[1] ... |
//!                                                                    30 bits in 32 each
//! ```
//!
//! `PyLong_FromLong` returns the cached object for -5..=256 (`get_small_int`): static on 3.8
//! and 3.11+, made at start-up with `_PyLong_New(1)` on 3.9 and 3.10. Other values get a new
//! block of `offsetof(PyLongObject, ob_digit) + ndigits * 4` bytes (at least one digit from
//! 3.11, and for the small ints of 3.9 and 3.10).

use crate::error::ObjError;
use crate::heavy::{Body, Digits, Heavy};
use crate::layout::{DIGIT_SIZE, LONG_DIGITS_OFFSET, NSMALLNEGINTS, NSMALLPOSINTS};
use crate::slots::{GC, Kind, Slot, State};
use crate::space::Objects;
use crate::trace::ObjEvent;
use crate::types::TypeId;

impl Objects {
    /// `PyLong_FromLong(v)`: a new reference.
    pub fn long_from_i64(&mut self, v: i64) -> Result<u64, ObjError> {
        if (-NSMALLNEGINTS..NSMALLPOSINTS).contains(&v) {
            let op = self.small_int(v);
            self.incref(op)?;
            return Ok(op);
        }
        self.long_alloc_inline(v)
    }

    /// An int of any size that fits in 128 bits (`PyLong_FromString` and arithmetic results).
    pub fn long_from_i128(&mut self, v: i128) -> Result<u64, ObjError> {
        match i64::try_from(v) {
            Ok(small) => self.long_from_i64(small),
            Err(_) => {
                let digits = Digits::from_i128(v);
                let nbytes = self.long_nbytes(digits.digits.len() as u64);
                let op = self.malloc_object(nbytes, false)?;
                let word = self.heavy.insert(Heavy {
                    ty: TypeId::Int,
                    body: Body::Int(digits),
                });
                self.install_new(op, nbytes, Kind::Heavy, 0, word, TypeId::Int);
                Ok(op)
            }
        }
    }

    /// The cached object for small `v`.
    fn small_int(&self, v: i64) -> u64 {
        match self.image.small_int(v) {
            Some(op) => op,
            None => self.caches.small_ints[(v + NSMALLNEGINTS) as usize],
        }
    }

    /// `_PyLong_New` and the digits of `v`, in a slot of its own.
    pub(crate) fn long_alloc_inline(&mut self, v: i64) -> Result<u64, ObjError> {
        let mut ndigits = LongDigits::of_i64(v).digits().len() as u64;
        if self.layout.minor <= 10 && (-NSMALLNEGINTS..NSMALLPOSINTS).contains(&v) {
            ndigits = 1; // 3.9/3.10 _PyLong_Init: _PyLong_New(1) for each small int
        }
        let nbytes = self.long_nbytes(ndigits);
        let op = self.malloc_object(nbytes, false)?;
        self.install_new(op, nbytes, Kind::Int, 0, v as u64, TypeId::Int);
        Ok(op)
    }

    /// Bytes `_PyLong_New(ndigits)` asks for: from 3.11 at least one digit is allocated.
    fn long_nbytes(&self, ndigits: u64) -> u64 {
        let n = if self.layout.long_min_one_digit() {
            ndigits.max(1)
        } else {
            ndigits
        };
        LONG_DIGITS_OFFSET + n * DIGIT_SIZE
    }

    /// Fills the slot of a new live object with one reference.
    pub(crate) fn install_new(
        &mut self,
        op: u64,
        nbytes: u64,
        kind: Kind,
        small: u16,
        word: u64,
        ty: TypeId,
    ) {
        let pre = if small & crate::slots::PREHEADER != 0 {
            16
        } else {
            0
        };
        let gc = pre
            + if ty.is_gc_in(self.layout.minor) {
                crate::layout::GC_HEAD_SIZE
            } else {
                0
            };
        let slot = Slot {
            refcnt: 1,
            kind,
            state: State::Live,
            small: small
                | if ty.is_gc_in(self.layout.minor) {
                    GC
                } else {
                    0
                },
            word,
        };
        self.install(op - gc, nbytes + gc, slot);
        self.trace.record(ObjEvent::New {
            op,
            ty,
            from_free_list: false,
        });
    }

    /// The value of the int at `op`, if it fits in 128 bits.
    pub fn long_value(&self, op: u64) -> Result<i128, ObjError> {
        let v = self.live_view(op)?;
        if !matches!(v.ty, TypeId::Int | TypeId::Bool) {
            return Err(self.wrong_type(op, "int"));
        }
        long_digits(&v.slot, v.body)
            .to_i128()
            .ok_or(ObjError::WrongType {
                addr: op,
                expected: "int that fits in 128 bits",
                found: "larger int".into(),
            })
    }
}

/// The digits of an int object (live or not), as they lie in memory.
pub(crate) fn long_digits<'a>(slot: &Slot, body: Option<&'a Body>) -> LongDigits<'a> {
    match (slot.kind, body) {
        (Kind::Int, _) => LongDigits::of_i64(slot.word as i64),
        (_, Some(Body::Int(d))) => LongDigits::Big(d),
        (_, Some(Body::Bool(b))) => LongDigits::of_i64(i64::from(*b)),
        _ => LongDigits::of_i64(0),
    }
}

/// An int's digits, borrowed from a big int's body or worked out from a compact int's value
/// (a word read of an int asks for them, so they are never put in a vector for it).
pub(crate) enum LongDigits<'a> {
    /// A value that fits in an `i64`: at most three 30-bit digits.
    Inline {
        negative: bool,
        digits: [u32; 3],
        len: usize,
    },
    /// A bigger int's digits.
    Big(&'a Digits),
}

impl LongDigits<'_> {
    /// The digits of `v`, as [`Digits::from_i128`] gives them.
    pub(crate) fn of_i64(v: i64) -> LongDigits<'static> {
        let mut m = v.unsigned_abs();
        let mut digits = [0; 3];
        let mut len = 0;
        while m != 0 {
            digits[len] = (m & ((1 << crate::layout::PYLONG_SHIFT) - 1)) as u32;
            m >>= crate::layout::PYLONG_SHIFT;
            len += 1;
        }
        LongDigits::Inline {
            negative: v < 0,
            digits,
            len,
        }
    }

    pub(crate) fn negative(&self) -> bool {
        match self {
            LongDigits::Inline { negative, .. } => *negative,
            LongDigits::Big(d) => d.negative,
        }
    }

    /// The digits, least significant first.
    pub(crate) fn digits(&self) -> &[u32] {
        match self {
            LongDigits::Inline { digits, len, .. } => &digits[..*len],
            LongDigits::Big(d) => &d.digits,
        }
    }

    /// The value, if it fits in an `i128`.
    pub(crate) fn to_i128(&self) -> Option<i128> {
        let mut m: u128 = 0;
        for &d in self.digits().iter().rev() {
            m = m.checked_mul(1 << crate::layout::PYLONG_SHIFT)? | u128::from(d);
        }
        let v = i128::try_from(m).ok()?;
        Some(if self.negative() { -v } else { v })
    }
}
