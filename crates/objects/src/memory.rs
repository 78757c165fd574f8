//! Reading the process's memory as C would: what lies at an address, whatever is there.
//!
//! A word inside an object is computed from the object's state, at the offsets CPython's structs
//! put its fields; everything else (item buffers, free-list links, allocator metadata, the
//! remains of memory no object describes) is the simulated memory's own word. So a read of a
//! freed list still finds "refcount 0, type list, size 3" and its dangling `ob_item`, and a read
//! of its freed buffer finds pymalloc's link where the first item was.
//!
//! ```text
//!  read_word(addr)
//!    in the image?              -> the static object's field
//!    in a block with a slot?    -> the object's field; a freed block's first word and any word
//!                                  past the object's end come from memory
//!    otherwise                  -> the allocator's memory (a segfault where nothing is mapped)
//! ```

use crate::error::ObjError;
use crate::heavy::{Body, ListData};
use crate::image::Image;
use crate::layout::{GC_HEAD_SIZE, LONG_DIGITS_OFFSET};
use crate::long::long_digits;
use crate::slots::{Kind, Slot, State};
use crate::space::{Objects, View};
use crate::types::TypeId;
use crate::unicode::{kind_bytes, str_data};

impl Objects {
    /// The 8-byte word at `addr` (8-aligned), as the process's memory holds it.
    pub fn read_word(&self, addr: u64) -> Result<u64, ObjError> {
        if !addr.is_multiple_of(8) {
            return Err(pymalloc::MemError::Misaligned { addr }.into());
        }
        if self.image.contains(addr) {
            return Ok(self.image_word(addr));
        }
        if let Some((_, block, slot)) = self.slot_covering(addr)
            && slot.kind != Kind::Empty
        {
            let offset = addr - block;
            let from_memory =
                offset >= self.extent(slot) || (offset == 0 && slot.state == State::Freed);
            if !from_memory {
                return Ok(self.synthesize(block, slot, offset));
            }
        }
        let empty_keys = self.empty_keys_addr();
        if (empty_keys..empty_keys + 48).contains(&addr) {
            return Ok(self.empty_keys_word(addr - empty_keys));
        }
        if let Some(word) = self.gc_head_word(addr) {
            return Ok(word);
        }
        Ok(self.mem.read_word(addr)?)
    }

    /// `len` bytes from `addr`.
    pub fn read_bytes(&self, addr: u64, len: u64) -> Result<Vec<u8>, ObjError> {
        let mut out = Vec::with_capacity(len as usize);
        let mut at = addr & !7;
        while (out.len() as u64) < len {
            let word = self.read_word(at)?.to_le_bytes();
            for (i, &b) in word.iter().enumerate() {
                let a = at + i as u64;
                if a >= addr && (out.len() as u64) < len {
                    out.push(b);
                }
            }
            at += 8;
        }
        Ok(out)
    }

    /// The generation list heads live in the interpreter state.
    fn gc_head_word(&self, addr: u64) -> Option<u64> {
        let head = self.gen0_head();
        if addr != head && addr != head + 8 {
            return None;
        }
        let crate::gclist::GcHead { next, prev, .. } = self.gc_links[&head];
        let word = if addr == head { next } else { prev };
        Some(self.head_of(word))
    }

    /// The `PyGC_Head` address of a tracked object (the list head is one already).
    fn head_of(&self, op: u64) -> u64 {
        if op == self.gen0_head() {
            op
        } else {
            op - GC_HEAD_SIZE
        }
    }

    /// Bytes of the block the object covers, from the block's start (`PyGC_Head` included).
    pub(crate) fn extent(&self, slot: &Slot) -> u64 {
        let gc = self.gc_offset(slot);
        let body = (slot.kind == Kind::Heavy).then(|| &self.heavy.get(slot.word).body);
        gc + self.object_size(slot, body)
    }

    /// Bytes the object itself occupies (`tp_basicsize` plus its items).
    fn object_size(&self, slot: &Slot, body: Option<&Body>) -> u64 {
        match (slot.kind, body) {
            (Kind::Int, _) | (_, Some(Body::Int(_) | Body::Bool(_))) => {
                let n = long_digits(slot, body).digits().len() as u64;
                let n = if self.layout.long_min_one_digit() || self.layout.minor <= 10 {
                    n.max(1)
                } else {
                    n
                };
                LONG_DIGITS_OFFSET + 4 * n
            }
            (Kind::Float, _) => crate::layout::FLOAT_SIZE,
            (Kind::AsciiInline, _) => self.layout.ascii_header() + u64::from(slot.small & 0xff) + 1,
            (_, Some(Body::Str(d))) => self.unicode_nbytes(d),
            (_, Some(Body::List(_))) => crate::layout::LIST_SIZE,
            (_, Some(Body::Tuple(v))) => crate::layout::VAR_HEAD_SIZE + 8 * v.len() as u64,
            (_, Some(Body::Dict(_))) => crate::dict::DICT_SIZE,
            (_, Some(Body::Instance(_))) => self.instance_basicsize(),
            (_, Some(Body::Fields(words))) => 16 + 8 * words.len() as u64,
            (_, Some(Body::Bytes(b))) => 33 + b.len() as u64,
            _ => crate::layout::OBJECT_HEAD_SIZE,
        }
    }

    /// The word at `offset` from the start of a slot's block.
    pub(crate) fn synthesize(&self, block: u64, slot: &Slot, offset: u64) -> u64 {
        let gc = self.gc_offset(slot);
        let op = block + gc;
        if offset + 16 < gc {
            return self.preheader_word(slot, offset);
        }
        if offset < gc {
            return self.gc_word(op, offset + 16 - gc);
        }
        let body = (slot.kind == Kind::Heavy).then(|| &self.heavy.get(slot.word).body);
        let view = View {
            is_static: false,
            refcnt: if slot.small & crate::slots::IMMORTAL != 0 {
                crate::layout::IMMORTAL_REFCNT
            } else {
                u64::from(slot.refcnt)
            },
            ty: self.slot_type(slot),
            slot: *slot,
            body,
        };
        self.field_word(op, &view, offset - gc)
    }

    /// The two words before a 3.11+ instance's `PyGC_Head`: values and managed dict (3.11),
    /// weakref list and dict-or-values (3.12: the values pointer less one, so bit 0 says which,
    /// `_PyDictOrValues_SetValues`), weakref list and managed dict (3.13).
    fn preheader_word(&self, slot: &Slot, offset: u64) -> u64 {
        let Some(Body::Instance(i)) =
            (slot.kind == Kind::Heavy).then(|| &self.heavy.get(slot.word).body)
        else {
            return 0;
        };
        match (self.layout.minor, offset) {
            (11, 0) => i.values,
            (11, _) => i.dict,
            (_, 0) => 0,
            (12, _) if i.dict == 0 && i.values != 0 => i.values - 1,
            (_, _) => i.dict,
        }
    }

    /// A `PyGC_Head` word: the links while tracked; 0 once untracked (`_gc_prev` keeps only
    /// flags, none of which the model sets), unless a corrupt list wrote there since.
    fn gc_word(&self, op: u64, offset: u64) -> u64 {
        match self.gc_links.get(&op) {
            Some(h) => match if offset == 0 { h.next } else { h.prev } {
                0 => 0,
                link => self.head_of(link),
            },
            None => 0,
        }
    }

    fn image_word(&self, addr: u64) -> u64 {
        let Some((op, obj)) = self.image.object_at(addr) else {
            return 0;
        };
        let view = View {
            is_static: true,
            refcnt: obj.refcnt,
            ty: obj.heavy.ty,
            slot: Slot::STATIC,
            body: Some(&obj.heavy.body),
        };
        self.field_word(op, &view, addr - op)
    }

    /// The word at `offset` into the object `op` described by `v`.
    fn field_word(&self, op: u64, v: &View<'_>, offset: u64) -> u64 {
        match offset {
            0 => return v.refcnt,
            8 => return self.ob_type_word(op, v),
            _ => {}
        }
        match v.ty {
            TypeId::Int | TypeId::Bool => self.long_word(v, offset),
            TypeId::Float => v.slot.word,
            TypeId::Str => self.unicode_word(v, offset),
            TypeId::List => match v.body {
                Some(Body::List(ListData {
                    size,
                    item,
                    allocated,
                })) => [*size, *item, *allocated][((offset - 16) / 8) as usize % 3],
                _ => 0,
            },
            TypeId::Tuple | TypeId::VersionInfo => match v.body {
                Some(Body::Tuple(items)) if offset == 16 => items.len() as u64,
                Some(Body::Tuple(items)) => {
                    let i = ((offset - 24) / 8) as usize;
                    if i == 0 && v.slot.state == State::Listed {
                        self.free_list_link(&self.free.tuple[items.len()], op)
                    } else {
                        items.get(i).copied().unwrap_or(0)
                    }
                }
                _ => 0,
            },
            TypeId::Dict => match v.body {
                Some(Body::Dict(d)) => {
                    [d.used, d.version, d.keys, d.values][((offset - 16) / 8) as usize % 4]
                }
                _ => 0,
            },
            TypeId::Function
            | TypeId::Method
            | TypeId::Module
            | TypeId::Code
            | TypeId::Cell
            | TypeId::CFunction
            | TypeId::CArg
            | TypeId::CData
            | TypeId::GetSetDescr
            | TypeId::Frame => match v.body {
                Some(Body::Fields(words)) => words
                    .get(((offset - 16) / 8) as usize)
                    .copied()
                    .unwrap_or(0),
                _ => 0,
            },
            TypeId::Bytes => match v.body {
                Some(Body::Bytes(b)) => match offset {
                    16 => b.len() as u64,
                    24 => u64::MAX, // ob_shash: -1, not computed
                    o => {
                        let mut word = [0u8; 8];
                        for (k, x) in word.iter_mut().enumerate() {
                            *x = b.get((o - 32) as usize + k).copied().unwrap_or(0);
                        }
                        u64::from_le_bytes(word)
                    }
                },
                _ => 0,
            },
            TypeId::Instance => match (v.body, offset) {
                (Some(Body::Instance(i)), 16) if self.layout.minor <= 10 => i.dict,
                _ => 0, // __weakref__: no weak references are modelled
            },
            TypeId::Type | TypeId::Object | TypeId::NoneType => 0,
        }
    }

    /// `ob_type`, except for a float on the free list, where it is the next float's address.
    fn ob_type_word(&self, op: u64, v: &View<'_>) -> u64 {
        if v.ty == TypeId::Float && v.slot.state == State::Listed {
            return self.free_list_link(&self.free.float, op);
        }
        match v.body {
            Some(Body::Instance(i)) => i.class,
            _ => Image::type_addr(v.ty),
        }
    }

    /// The object pushed on `list` before `op`: what its link points to (NULL at the bottom).
    fn free_list_link(&self, list: &[u64], op: u64) -> u64 {
        match list.iter().position(|&x| x == op) {
            Some(i) if i > 0 => list[i - 1],
            _ => 0,
        }
    }

    fn long_word(&self, v: &View<'_>, offset: u64) -> u64 {
        let d = long_digits(&v.slot, v.body);
        let n = d.digits().len() as u64;
        if offset == 16 {
            return if self.layout.long_uses_lv_tag() {
                // lv_tag: digit count << 3 | sign (0 positive, 1 zero, 2 negative).
                let sign = if n == 0 {
                    1
                } else if d.negative() {
                    2
                } else {
                    0
                };
                (n << 3) | sign
            } else if d.negative() {
                (-(n as i64)) as u64
            } else {
                n
            };
        }
        let i = ((offset - LONG_DIGITS_OFFSET) / 4) as usize;
        let digit = |k: usize| u64::from(d.digits().get(k).copied().unwrap_or(0));
        digit(i) | (digit(i + 1) << 32)
    }

    fn unicode_word(&self, v: &View<'_>, offset: u64) -> u64 {
        let Some(d) = str_data(v, self.layout.siphash_rounds()) else {
            return 0;
        };
        let header = self.unicode_header(d.ascii);
        match offset {
            16 => d.length,
            24 => d.hash.map_or(u64::MAX, |h| h as u64), // -1: not computed yet
            32 => u64::from(self.unicode_state(&d, v)),
            o if o < header => 0, // wstr, utf8_length, utf8, wstr_length: NULL and 0
            o => {
                let mut data = kind_bytes(&d);
                data.resize(data.len() + usize::from(d.kind), 0); // the NUL
                let start = (o - header) as usize;
                let mut word = [0u8; 8];
                for (k, b) in word.iter_mut().enumerate() {
                    *b = data.get(start + k).copied().unwrap_or(0);
                }
                u64::from_le_bytes(word)
            }
        }
    }

    /// The `state` bit field: interned (2 bits), kind (3), compact, ascii, and `ready` up to
    /// 3.11 or `statically_allocated` from 3.12.
    fn unicode_state(&self, d: &crate::heavy::StrData, v: &View<'_>) -> u32 {
        let last = if self.layout.minor <= 11 {
            1
        } else {
            u32::from(v.is_static)
        };
        u32::from(d.interned)
            | (u32::from(d.kind) << 2)
            | (1 << 5)
            | (u32::from(d.ascii) << 6)
            | (last << 7)
    }
}

/// Reads that must fail cleanly: used by tests.
#[cfg(test)]
mod tests {
    use crate::Objects;
    use pymalloc::Profile;

    #[test]
    fn a_str_reads_as_its_struct() {
        let mut o = Objects::new(Profile::CPYTHON_3_11).unwrap();
        let s = o.unicode_from_str("hello").unwrap();
        assert_eq!(o.read_word(s).unwrap(), 1);
        assert_eq!(o.read_word(s + 16).unwrap(), 5);
        assert_eq!(o.read_word(s + 24).unwrap(), u64::MAX, "hash not computed");
        assert_eq!(o.read_bytes(s + 48, 6).unwrap(), b"hello\0");
        // state: kind 1, compact, ascii, ready.
        assert_eq!(
            o.read_word(s + 32).unwrap(),
            (1 << 2) | (1 << 5) | (1 << 6) | (1 << 7)
        );
        let h = o.unicode_hash(s).unwrap();
        assert_eq!(o.read_word(s + 24).unwrap(), h as u64);
        assert!(o.read_word(s + 3).is_err());
    }
}
