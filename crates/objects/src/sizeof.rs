//! `sys.getsizeof`: the object's `__sizeof__`, plus its `PyGC_Head` when the collector tracks
//! its type (`_PySys_GetSizeOf`).
//!
//! `__sizeof__` is `tp_basicsize` plus `tp_itemsize` times the items, except where a type counts
//! more: a list adds its buffer's `allocated` slots, a str its characters and NUL, and from 3.11
//! an int always counts one digit.

use crate::error::ObjError;
use crate::heavy::Body;
use crate::layout::{GC_HEAD_SIZE, LIST_SIZE, LONG_DIGITS_OFFSET, VAR_HEAD_SIZE};
use crate::long::long_digits;
use crate::space::Objects;
use crate::types::TypeId;
use crate::unicode::str_data;

impl Objects {
    /// `sys.getsizeof(op)`.
    pub fn getsizeof(&self, op: u64) -> Result<u64, ObjError> {
        let v = self.live_view(op)?;
        let gc = if v.ty.is_gc_in(self.layout.minor) {
            GC_HEAD_SIZE
        } else {
            0
        };
        let size = match v.ty {
            TypeId::Int | TypeId::Bool => {
                let n = long_digits(&v.slot, v.body).digits().len() as u64;
                let n = if self.layout.long_min_one_digit() {
                    n.max(1)
                } else {
                    n
                };
                LONG_DIGITS_OFFSET + 4 * n
            }
            TypeId::Float => crate::layout::FLOAT_SIZE,
            TypeId::Str => {
                let d = str_data(&v, self.layout.siphash_rounds()).expect("a str has str data");
                let utf8 = if d.utf8 { d.text.len() as u64 + 1 } else { 0 };
                self.unicode_nbytes(&d) + utf8
            }
            TypeId::List => match v.body {
                Some(Body::List(d)) => LIST_SIZE + 8 * d.allocated,
                _ => LIST_SIZE,
            },
            TypeId::Tuple | TypeId::VersionInfo => match v.body {
                Some(Body::Tuple(items)) => VAR_HEAD_SIZE + 8 * items.len() as u64,
                _ => VAR_HEAD_SIZE,
            },
            TypeId::Dict => self.dict_sizeof(op)?,
            TypeId::Type if self.class_data(op).is_ok() => self.class_sizeof(op)?,
            TypeId::Type => 0x1a0,
            // object.__sizeof__ (tp_basicsize) and the words before the PyGC_Head (3.11+).
            TypeId::Instance => {
                self.instance_basicsize() + if self.layout.minor >= 11 { 16 } else { 0 }
            }
            TypeId::Bytes => match v.body {
                Some(Body::Bytes(b)) => 33 + b.len() as u64,
                _ => 33,
            },
            TypeId::Function
            | TypeId::Method
            | TypeId::Module
            | TypeId::Code
            | TypeId::Cell
            | TypeId::CFunction
            | TypeId::CArg
            | TypeId::CData
            | TypeId::GetSetDescr => match v.body {
                Some(Body::Fields(words)) => 16 + 8 * words.len() as u64,
                _ => 16,
            },
            // frame_sizeof: the struct without its one f_localsplus word, then the items.
            TypeId::Frame => match v.body {
                Some(Body::Fields(words)) => {
                    crate::frame::frame_basicsize(self.layout.minor) - 8 + 8 * words[0]
                }
                _ => 0,
            },
            TypeId::Object | TypeId::NoneType => crate::layout::OBJECT_HEAD_SIZE,
        };
        Ok(size + gc)
    }
}

#[cfg(test)]
mod tests {
    use crate::Objects;
    use pymalloc::Profile;

    /// The table of `sys.getsizeof` measured on the real interpreters
    /// (`tests/captures/objects_sizes`).
    #[test]
    fn sizes_match_the_real_interpreters() {
        for (v, empty, a, ga, zero, big7) in [
            ("3.8", 49, 50, 76, 24, 56),
            ("3.10", 49, 50, 76, 24, 56),
            ("3.11", 49, 50, 76, 28, 56),
            ("3.12", 41, 42, 60, 28, 48),
            ("3.13", 41, 42, 60, 28, 48),
        ] {
            let mut o = Objects::new(Profile::parse(v).unwrap()).unwrap();
            let s0 = o.unicode_from_str("").unwrap();
            let s1 = o.unicode_from_str("a").unwrap();
            let s2 = o.unicode_from_str("가").unwrap();
            let i0 = o.long_from_i64(0).unwrap();
            let s7 = o.unicode_from_str("1234567").unwrap();
            let got = [s0, s1, s2, i0, s7].map(|x| o.getsizeof(x).unwrap());
            assert_eq!(got, [empty, a, ga, zero, big7], "{v}");
            let emoji = o.unicode_from_str("😀").unwrap();
            let expected_emoji = if o.layout().minor >= 12 { 64 } else { 80 };
            assert_eq!(o.getsizeof(emoji).unwrap(), expected_emoji);
            let e_acute = o.unicode_from_str("é").unwrap();
            let expected_e = if o.layout().minor >= 12 { 61 } else { 74 };
            assert_eq!(o.getsizeof(e_acute).unwrap(), expected_e, "{v}: 'é'");
            let i = o.long_from_i128(1 << 60).unwrap();
            assert_eq!(o.getsizeof(i).unwrap(), 36);
            let l = o.list_new(0).unwrap();
            assert_eq!(o.getsizeof(l).unwrap(), 56);
            let one = o.long_from_i64(1).unwrap();
            o.list_append(l, one).unwrap();
            assert_eq!(
                o.getsizeof(l).unwrap(),
                88,
                "{v}: four slots after one append"
            );
            let t0 = o.tuple_new(0).unwrap();
            let t1 = o.tuple_pack(&[one]).unwrap();
            assert_eq!(
                (o.getsizeof(t0).unwrap(), o.getsizeof(t1).unwrap()),
                (40, 48)
            );
            let f = o.float_from_f64(1.0).unwrap();
            assert_eq!(o.getsizeof(f).unwrap(), 24);
        }
    }
}
