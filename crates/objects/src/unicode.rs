//! `Objects/unicodeobject.c`: compact strs, the caches of `''` and one-character strings, and
//! interning.
//!
//! ```text
//!  ASCII:      | PyASCIIObject: refcnt type length hash state [wstr] | chars... NUL |
//!  otherwise:  | PyCompactUnicodeObject: ... utf8_length utf8 [wstr_length] | chars (1, 2 or 4 bytes each) NUL |
//! ```
//!
//! `PyUnicode_New(size, maxchar)` asks `PyObject_Malloc` for the header plus `(size + 1)` characters
//! of the kind `maxchar` needs: `''` is 49 bytes on 3.11 (48 + NUL) and 41 on 3.12, where `wstr`
//! is gone.

use crate::error::ObjError;
use crate::heavy::{Body, Heavy, StrData};
use crate::layout::Immortality;
use crate::slots::{HASHED, IMMORTAL, INTERNED, Kind};
use crate::space::{Objects, View};
use crate::types::TypeId;

/// Longest ASCII str kept in a slot of its own: eight characters fill its word.
const INLINE_MAX: usize = 8;

impl Objects {
    /// `PyUnicode_FromString(s)` (`unicode_decode_utf8`): `''` and one latin-1 character come
    /// from the caches; a new reference.
    pub fn unicode_from_str(&mut self, s: &str) -> Result<u64, ObjError> {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (None, _) => {
                let op = self.caches.empty_str;
                self.incref(op)?;
                Ok(op)
            }
            (Some(c), None) if u32::from(c) < 256 => self.get_latin1_char(c as u8),
            _ => self.unicode_alloc(s),
        }
    }

    /// `get_latin1_char(ch)`: the cached one-character string. Up to 3.10 the cache fills on first
    /// use and holds a reference of its own; from 3.11 the strings are static.
    fn get_latin1_char(&mut self, ch: u8) -> Result<u64, ObjError> {
        let cached = match &self.image.strings {
            Some(strings) => strings[1 + usize::from(ch)],
            None => self.caches.latin1[usize::from(ch)],
        };
        if cached == 0 {
            let op = self.unicode_alloc(&char::from(ch).to_string())?;
            self.caches.latin1[usize::from(ch)] = op;
            self.incref(op)?;
            return Ok(op);
        }
        self.incref(cached)?;
        Ok(cached)
    }

    /// `PyUnicode_New(len, maxchar)` and a copy of `s`, as `str(i)` builds its result
    /// (`long_to_decimal_string`): a new object even for one character; only `''` is the
    /// singleton.
    pub fn unicode_new(&mut self, s: &str) -> Result<u64, ObjError> {
        if s.is_empty() {
            let op = self.caches.empty_str;
            self.incref(op)?;
            return Ok(op);
        }
        self.unicode_alloc(s)
    }

    /// `PyUnicode_New` and a copy of `s`: a new str, not from any cache.
    pub(crate) fn unicode_alloc(&mut self, s: &str) -> Result<u64, ObjError> {
        if s.len() <= INLINE_MAX && s.is_ascii() {
            // The common case, kept free of heap allocation: header, characters, NUL.
            let nbytes = self.layout.ascii_header() + s.len() as u64 + 1;
            let op = self.malloc_object(nbytes, false)?;
            let mut bytes = [0u8; 8];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            let word = u64::from_le_bytes(bytes);
            let len = s.len() as u16;
            self.install_new(op, nbytes, Kind::AsciiInline, len, word, TypeId::Str);
            return Ok(op);
        }
        let data = StrData::new(s);
        let nbytes = self.unicode_nbytes(&data);
        let op = self.malloc_object(nbytes, false)?;
        let word = self.heavy.insert(Heavy {
            ty: TypeId::Str,
            body: Body::Str(data),
        });
        self.install_new(op, nbytes, Kind::Heavy, 0, word, TypeId::Str);
        Ok(op)
    }

    /// The size `PyUnicode_New` requests: header, characters and the terminating NUL.
    pub(crate) fn unicode_nbytes(&self, data: &StrData) -> u64 {
        self.unicode_header(data.ascii) + (data.length + 1) * u64::from(data.kind)
    }

    /// `sizeof(PyASCIIObject)` or `sizeof(PyCompactUnicodeObject)`.
    pub(crate) fn unicode_header(&self, ascii: bool) -> u64 {
        if ascii {
            self.layout.ascii_header()
        } else {
            self.layout.compact_header()
        }
    }

    /// The text of the str at `op`.
    pub fn unicode_text(&self, op: u64) -> Result<String, ObjError> {
        let v = self.live_view(op)?;
        str_data(&v, self.layout.siphash_rounds())
            .map(|d| d.text.into_string())
            .ok_or_else(|| self.wrong_type(op, "str"))
    }

    /// `PyObject_Hash` of a str: computed once, then cached in the object (`hash` is -1 in
    /// memory until then).
    pub fn unicode_hash(&mut self, op: u64) -> Result<i64, ObjError> {
        let rounds = self.layout.siphash_rounds();
        let v = self.live_view(op)?;
        match (v.slot.kind, v.body) {
            (Kind::AsciiInline, _) => {
                let (word, len, small) = (v.slot.word, (v.slot.small & 0xff) as u8, v.slot.small);
                let hash = self.caches.inline_hashes.hash(rounds, word, len);
                if small & HASHED == 0 {
                    self.slot_mut(op).small |= HASHED;
                }
                Ok(hash)
            }
            (_, Some(Body::Str(d))) => {
                if let Some(hash) = d.hash {
                    return Ok(hash); // `_PyUnicode_HASH(self)`, computed before
                }
                let hash = hash_of(rounds, d);
                if let Some(Body::Str(d)) = self.heavy_mut(op).map(|h| &mut h.body) {
                    d.hash = Some(hash);
                }
                Ok(hash)
            }
            _ => Err(self.wrong_type(op, "str")),
        }
    }

    /// Whether `op` is `''` or one of the one-character strs of `unicode_latin1`, the caches
    /// that up to 3.10 are heap objects start-up code holds references to.
    pub fn is_cached_str(&self, op: u64) -> bool {
        op == self.caches.empty_str || self.caches.latin1.contains(&op)
    }

    /// `sys.intern(s)` (`PyUnicode_InternInPlace`): the interned string equal to `s`, a new
    /// reference; `s` itself is interned if none was. The interned dict's two references are not
    /// counted. On 3.12, a string interned at run time becomes immortal.
    pub fn unicode_intern(&mut self, op: u64) -> Result<u64, ObjError> {
        let text = self.unicode_text(op)?;
        if let Some(&t) = self.caches.interned.get(text.as_str()) {
            self.incref(t)?;
            return Ok(t);
        }
        self.caches.interned.insert(text.into(), op);
        if self.image.contains(op) {
            // Static strings are interned already, in effect: their count does not change.
        } else {
            let immortal = self.layout.immortality() == Immortality::Pinned;
            let flags = INTERNED | if immortal { IMMORTAL } else { 0 };
            let (_, slot) = self.live_slot(op)?;
            if slot.kind == Kind::AsciiInline || immortal {
                self.slot_mut(op).small |= flags;
            }
            if let Some(Body::Str(d)) = self.heavy_mut(op).map(|h| &mut h.body) {
                d.interned = if immortal { 2 } else { 1 };
            }
        }
        self.incref(op)?;
        Ok(op)
    }

    /// A string CPython's C code names by identifier: from 3.11 a static, interned object of
    /// the image (`&_Py_ID(name)`); up to 3.10 made on first use by `_PyUnicode_FromId`,
    /// interned, and kept by the identifier's cache (`_Py_IDENTIFIER(name)`), which holds one
    /// reference. A borrowed reference.
    pub fn py_id(&mut self, name: &'static str) -> Result<u64, ObjError> {
        if let Some(&op) = self.caches.identifiers.get(name) {
            return Ok(op);
        }
        let op = if self.layout.minor >= 11 {
            let op = self.image.place_static_str(self.layout, name);
            self.caches.interned.insert(name.into(), op);
            op
        } else {
            let s = self.unicode_alloc(name)?;
            let interned = self.unicode_intern(s)?;
            self.decref(s)?;
            interned
        };
        self.caches.identifiers.insert(name, op);
        Ok(op)
    }

    /// `unicode_dealloc`: an interned string leaves the interned dict, then its block is freed.
    pub(crate) fn unicode_dealloc(&mut self, op: u64) -> Result<(), ObjError> {
        // Only a str marked interned can be the one the interned dict holds.
        let text = self
            .view(op)
            .ok()
            .filter(is_interned)
            .and_then(|v| str_data(&v, self.layout.siphash_rounds()))
            .map(|d| d.text);
        if let Some(text) = text
            && self.caches.interned.get(&*text) == Some(&op)
        {
            self.caches.interned.remove(&*text);
        }
        self.free_object(op)
    }

    pub(crate) fn slot_mut(&mut self, op: u64) -> &mut crate::slots::Slot {
        match self.place(op) {
            Some(crate::space::Place::Slot { key, .. }) => self.slots.get_mut(key).expect("placed"),
            _ => unreachable!("callers pass objects that live in slots"),
        }
    }
}

/// Whether a str is marked interned (`state.interned`), inline or heavy.
fn is_interned(v: &View<'_>) -> bool {
    match (v.slot.kind, v.body) {
        (Kind::AsciiInline, _) => v.slot.small & (INTERNED | IMMORTAL) != 0,
        (_, Some(Body::Str(d))) => d.interned != 0,
        _ => false,
    }
}

/// A str's data from its view, whether inline or heavy.
pub(crate) fn str_data(v: &View<'_>, rounds: (u32, u32)) -> Option<StrData> {
    match (v.slot.kind, v.body) {
        (Kind::AsciiInline, _) => {
            let len = usize::from(v.slot.small & 0xff);
            let bytes = v.slot.word.to_le_bytes();
            let text = std::str::from_utf8(&bytes[..len]).expect("ASCII");
            let mut d = StrData::new(text);
            d.interned = u8::from(v.slot.small & INTERNED != 0);
            if v.slot.small & IMMORTAL != 0 {
                d.interned = 2;
            }
            if v.slot.small & HASHED != 0 {
                // An inline str keeps only the fact that its hash was computed.
                d.hash = Some(hash_of(rounds, &d));
            }
            Some(d)
        }
        (_, Some(Body::Str(d))) => Some(d.clone()),
        _ => None,
    }
}

/// The bytes of a str's characters in its kind, as `_Py_HashBytes` and memory see them.
pub(crate) fn kind_bytes(d: &StrData) -> Vec<u8> {
    let mut out = Vec::with_capacity(d.length as usize * usize::from(d.kind));
    for c in d.text.chars() {
        let c = u32::from(c);
        out.extend_from_slice(&c.to_le_bytes()[..usize::from(d.kind)]);
    }
    out
}

/// The hashes of inline strs (ASCII, up to 8 characters), by their text. Such a str keeps only
/// the fact that its hash was computed (`HASHED`), not the hash; the names an interpreter looks
/// up on every instruction are such strs, and hashing them again each time was a third of a
/// loop's time. The hash depends on the text alone, so a small direct-mapped table keyed by the
/// text serves every str with that text.
#[derive(Clone, Debug)]
pub(crate) struct InlineHashes(Box<[(u64, u8, i64)]>);

impl Default for InlineHashes {
    fn default() -> Self {
        // Length 0 marks an empty entry; an empty inline str (3.8–3.10's `''`) is hashed anew
        // each time, which costs nothing.
        InlineHashes(vec![(0, 0, 0); 4096].into_boxed_slice())
    }
}

impl InlineHashes {
    /// The hash of the `len` ASCII bytes in `word` (little-endian), from the table or computed
    /// and kept.
    fn hash(&mut self, rounds: (u32, u32), word: u64, len: u8) -> i64 {
        let at = ((word.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize ^ usize::from(len))
            % self.0.len();
        let (w, l, h) = self.0[at];
        if (w, l) == (word, len) && len != 0 {
            return h;
        }
        let hash = crate::hash::hash_bytes(rounds, &word.to_le_bytes()[..usize::from(len)]);
        self.0[at] = (word, len, hash);
        hash
    }
}

/// The hash of a str's data.
pub(crate) fn hash_of(rounds: (u32, u32), d: &StrData) -> i64 {
    crate::hash::hash_bytes(rounds, &kind_bytes(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memo of inline strs' hashes gives what SipHash gives, the first time and after, for
    /// any str of the same text, and after another text took its entry.
    #[test]
    fn inline_str_hashes_are_siphash_of_their_text_every_time() -> Result<(), ObjError> {
        let mut o = Objects::new(pymalloc::Profile::CPYTHON_3_11)?;
        let abc = o.unicode_new("abc")?;
        let again = o.unicode_new("abc")?;
        assert_ne!(abc, again, "two objects of one text");
        let want = crate::hash::hash_bytes((1, 3), b"abc"); // -4594863902769663758 with seed 0
        assert_eq!(o.unicode_hash(abc)?, want);
        assert_eq!(o.unicode_hash(abc)?, want);
        assert_eq!(o.unicode_hash(again)?, want);
        // Enough other texts to evict every entry the table has.
        for i in 0..20_000 {
            let s = o.unicode_new(&format!("{i}"))?;
            let h = o.unicode_hash(s)?;
            assert_eq!(
                h,
                crate::hash::hash_bytes((1, 3), format!("{i}").as_bytes())
            );
            o.decref(s)?;
        }
        assert_eq!(o.unicode_hash(abc)?, want);
        Ok(())
    }
}
