//! The state of objects too big for a [`Slot`](crate::slots::Slot): containers, long strs, big
//! ints, and the statically allocated objects of the interpreter's image.

use crate::types::TypeId;

/// An int's value as CPython stores it: a sign and 30-bit digits, least significant first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digits {
    /// Whether the value is below zero.
    pub negative: bool,
    /// The digits; empty for zero.
    pub digits: Vec<u32>,
}

impl Digits {
    /// The digits of `v`.
    pub fn from_i128(v: i128) -> Digits {
        let mut m = v.unsigned_abs();
        let mut digits = Vec::new();
        while m != 0 {
            digits.push((m & ((1 << crate::layout::PYLONG_SHIFT) - 1)) as u32);
            m >>= crate::layout::PYLONG_SHIFT;
        }
        Digits {
            negative: v < 0,
            digits,
        }
    }

    /// The value, if it fits in an `i128`.
    pub fn to_i128(&self) -> Option<i128> {
        let mut m: u128 = 0;
        for &d in self.digits.iter().rev() {
            m = m.checked_mul(1 << crate::layout::PYLONG_SHIFT)? | u128::from(d);
        }
        let v = i128::try_from(m).ok()?;
        Some(if self.negative { -v } else { v })
    }
}

/// A str's characters and the fields CPython keeps beside them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrData {
    /// The text.
    pub text: Box<str>,
    /// `length`: code points.
    pub length: u64,
    /// `PyUnicode_KIND`: 1 (latin-1, ASCII included), 2 (UCS-2) or 4 (UCS-4) bytes a character.
    pub kind: u8,
    /// Whether every character is ASCII (`state.ascii`): a `PyASCIIObject` header, else a
    /// `PyCompactUnicodeObject` one.
    pub ascii: bool,
    /// `hash`, once computed (-1 in memory until then).
    pub hash: Option<i64>,
    /// `state.interned`: 0 not interned, 1 mortal, 2 immortal (3.8–3.11 names:
    /// `SSTATE_INTERNED_MORTAL`, `SSTATE_INTERNED_IMMORTAL`), 3 immortal and static (3.12+).
    pub interned: u8,
    /// Whether a UTF-8 copy is kept beside the characters (`utf8` set): 3.12+'s static latin-1
    /// strings carry one (`_PyUnicode_LATIN1_INIT`), which `__sizeof__` counts.
    pub utf8: bool,
}

impl StrData {
    /// The data of `text`, with kind and ASCII-ness derived from its largest character.
    pub fn new(text: &str) -> StrData {
        let max = text.chars().map(u32::from).max().unwrap_or(0);
        StrData {
            text: text.into(),
            length: text.chars().count() as u64,
            kind: match max {
                0..=0xff => 1,
                0x100..=0xffff => 2,
                _ => 4,
            },
            ascii: max < 0x80,
            hash: None,
            interned: 0,
            utf8: false,
        }
    }
}

/// `PyListObject`'s fields after the header; the items themselves are words in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListData {
    /// `ob_size`.
    pub size: u64,
    /// `ob_item`: the item buffer's address, or NULL.
    pub item: u64,
    /// `allocated`.
    pub allocated: u64,
}

/// What an object holds, beyond its count and type.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// An int (`PyLongObject`).
    Int(Digits),
    /// A str (`PyASCIIObject` or `PyCompactUnicodeObject`).
    Str(StrData),
    /// A list (`PyListObject`).
    List(ListData),
    /// A tuple's items (`PyTupleObject`).
    Tuple(Vec<u64>),
    /// A dict's fields; its keys object is memory of its own.
    Dict(crate::dict::DictData),
    /// A function, bound method, module, code object or cell: its words after the header.
    Fields(Vec<u64>),
    /// A bytes object's contents.
    Bytes(Vec<u8>),
    /// A type object.
    Type(TypeId),
    /// A plain class (a heap type).
    Class(crate::typeobject::ClassData),
    /// An instance of a plain class.
    Instance(crate::typeobject::InstanceData),
    /// `None`, `NotImplemented`, `Ellipsis`, `object()`: nothing beyond the header.
    Bare,
    /// `True` or `False`: an int with one digit (or none, for False).
    Bool(bool),
}

/// A heavy record: the object's type and body.
#[derive(Clone, Debug, PartialEq)]
pub struct Heavy {
    /// `ob_type`.
    pub ty: TypeId,
    /// The fields.
    pub body: Body,
}

/// The records, reused through a free list of indices.
#[derive(Debug, Default)]
pub(crate) struct HeavyStore {
    records: Vec<Heavy>,
    free: Vec<u32>,
}

impl HeavyStore {
    pub(crate) fn insert(&mut self, h: Heavy) -> u64 {
        match self.free.pop() {
            Some(i) => {
                self.records[i as usize] = h;
                u64::from(i)
            }
            None => {
                self.records.push(h);
                (self.records.len() - 1) as u64
            }
        }
    }

    pub(crate) fn get(&self, i: u64) -> &Heavy {
        &self.records[i as usize]
    }

    pub(crate) fn get_mut(&mut self, i: u64) -> &mut Heavy {
        &mut self.records[i as usize]
    }

    /// Gives the record back; it may be reused by the next insert.
    pub(crate) fn remove(&mut self, i: u64) {
        self.records[i as usize].body = Body::Bare;
        self.free.push(i as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_round_trip() {
        for v in [
            0i128,
            1,
            -1,
            (1 << 30) - 1,
            1 << 30,
            -(1 << 62),
            i128::from(i64::MAX),
        ] {
            assert_eq!(Digits::from_i128(v).to_i128(), Some(v));
        }
        assert_eq!(Digits::from_i128(1 << 30).digits, vec![0, 1]);
    }

    #[test]
    fn str_kinds() {
        assert_eq!((StrData::new("a").kind, StrData::new("a").ascii), (1, true));
        assert_eq!(
            (StrData::new("é").kind, StrData::new("é").ascii),
            (1, false)
        );
        assert_eq!(StrData::new("가").kind, 2);
        assert_eq!(StrData::new("😀").kind, 4);
    }
}
