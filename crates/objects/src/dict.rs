//! `Objects/dictobject.c`: dicts, their keys objects, and the free lists of both.
//!
//! ```text
//!  PyDictObject (GC):  | PyGC_Head | refcnt | type | ma_used | ma_version_tag | ma_keys | ma_values |
//!                                                                               |
//!  PyDictKeysObject:   | header | dk_indices: 2^k indices of 1..8 bytes | dk_entries[usable] |
//!     3.8–3.10 header: dk_refcnt dk_size dk_lookup dk_usable dk_nentries            (40 bytes)
//!     3.11+   header:  dk_refcnt, log2_size log2_index_bytes kind version, dk_usable, dk_nentries (32)
//!     entries: {hash, key, value} (24 bytes); 3.11+ all-str keys: {key, value} (16 bytes)
//! ```
//!
//! The keys object is plain memory here, as in C: the model reads and writes its indices and
//! entries in the simulated memory, probing with CPython's `perturb` sequence. A new dict starts
//! with the static `Py_EMPTY_KEYS`, gets a keys object of 8 slots on its first insertion (from
//! the keys free list when it has one), and grows through `dictresize` to hold `ma_used * 3`.
//! Dicts are not tracked by the collector until they hold something it could track
//! (`MAINTAIN_TRACKING`).

use crate::error::ObjError;
use crate::heavy::{Body, Heavy};
use crate::layout::DICT_MAXFREELIST;
use crate::slots::Kind;
use crate::space::Objects;
use crate::trace::ObjEvent;
use crate::traverse::{Edge, Referent};
use crate::types::TypeId;

/// `sizeof(PyDictObject)`.
pub const DICT_SIZE: u64 = 48;
/// `PyDict_LOG_MINSIZE`: a keys object has at least 8 slots.
const LOG_MINSIZE: u32 = 3;
/// `DKIX_EMPTY`.
const DKIX_EMPTY: i64 = -1;
/// `DKIX_DUMMY`: a deleted entry's index.
const DKIX_DUMMY: i64 = -2;
/// `PERTURB_SHIFT`.
const PERTURB_SHIFT: u32 = 5;

/// `PyDictObject`'s fields after the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DictData {
    /// `ma_used`.
    pub used: u64,
    /// `ma_version_tag`.
    pub version: u64,
    /// `ma_keys`.
    pub keys: u64,
    /// `ma_values` (split tables are not modelled: always NULL).
    pub values: u64,
}

/// The geometry of one keys object, read from its header.
#[derive(Clone, Copy, Debug)]
struct Keys {
    addr: u64,
    log2_size: u32,
    index_bytes: u64,
    unicode: bool,
    usable: i64,
    nentries: u64,
}

impl Objects {
    /// `PyDict_New()`: from the dict free list if it has one, else a new GC object, sharing
    /// the static empty keys. Not tracked.
    pub fn dict_new(&mut self) -> Result<u64, ObjError> {
        let keys = self.empty_keys_addr();
        self.empty_keys_refcnt_add(1);
        self.new_dict(keys, 0)
    }

    /// `dict_new(&PyDict_Type, NULL, NULL)`, what `dict()` starts from: `tp_alloc` (a GC
    /// allocation, never the free list), then a fresh `ma_version_tag` and the shared empty keys.
    /// Not tracked: 3.10's `PyType_GenericAlloc` tracks it and `dict_new` untracks an exact dict
    /// at once; 3.11's `_PyType_AllocNoTrack` never tracks it. Up to 3.9 `dict_new` gives it
    /// a keys object of its own, `new_keys_object(PyDict_MINSIZE)` (`sys.getsizeof(dict())`
    /// is 232 on 3.9.18, 64 on 3.10.13).
    pub fn dict_new_generic(&mut self) -> Result<u64, ObjError> {
        let op = self.malloc_object(DICT_SIZE, true)?;
        let version = self.next_dict_version();
        let keys = if self.layout.minor <= 9 {
            self.new_keys_object(LOG_MINSIZE, true)?.addr
        } else {
            self.empty_keys_refcnt_add(1);
            self.empty_keys_addr()
        };
        let data = DictData {
            used: 0,
            version,
            keys,
            values: 0,
        };
        let word = self.heavy.insert(Heavy {
            ty: TypeId::Dict,
            body: Body::Dict(data),
        });
        self.install_new(op, DICT_SIZE, Kind::Heavy, 0, word, TypeId::Dict);
        Ok(op)
    }

    /// `new_dict(keys, NULL, used)`: a dict object (from the free list if it has one) owning
    /// `keys`. Not tracked.
    fn new_dict(&mut self, keys: u64, used: u64) -> Result<u64, ObjError> {
        let version = self.next_dict_version();
        let data = DictData {
            used,
            version,
            keys,
            values: 0,
        };
        if let Some(op) = self.free.dict.pop() {
            self.new_reference(op);
            *self.dict_data_mut(op)? = data;
            self.trace.record(ObjEvent::New {
                op,
                ty: TypeId::Dict,
                from_free_list: true,
            });
            return Ok(op);
        }
        let op = self.malloc_object(DICT_SIZE, true)?;
        let word = self.heavy.insert(Heavy {
            ty: TypeId::Dict,
            body: Body::Dict(data),
        });
        self.install_new(op, DICT_SIZE, Kind::Heavy, 0, word, TypeId::Dict);
        Ok(op)
    }

    /// `PyDict_Copy` of a combined dict at most a third of whose entries were deleted: its
    /// keys object cloned (`clone_combined_dict_keys`: `PyObject_Malloc` of the same size, a
    /// `memcpy`, a new reference to every live key and value), then `new_dict` with them,
    /// tracked if the original is. A new reference.
    pub fn dict_copy(&mut self, op: u64) -> Result<u64, ObjError> {
        let d = self.live_dict(op)?;
        if d.used == 0 {
            return self.dict_new();
        }
        let k = self.read_keys(d.keys)?;
        if d.values != 0 || d.used < (k.nentries * 2) / 3 {
            return Err(ObjError::NotModelled {
                what: "a copy of a split dict or of one with many deleted entries (dict_merge)",
            });
        }
        let size = self.keys_size(d.keys)?;
        let keys = self.mem_malloc(size)?;
        for w in 0..size / 8 {
            let word = self.keys_word(d.keys + 8 * w)?;
            self.mem.write_word(keys + 8 * w, word)?;
        }
        self.mem.write_word(keys, 1)?; // dk_refcnt
        for ix in 0..k.nentries {
            let (_, key, value) = self.entry(&k, ix)?;
            if value != 0 {
                self.incref(value)?;
                self.incref(key)?;
            }
        }
        let new = self.new_dict(keys, d.used)?;
        if self.gc_is_tracked(op) {
            self.gc_track(new);
        }
        Ok(new)
    }

    fn next_dict_version(&mut self) -> u64 {
        self.dict_version += 1;
        self.dict_version
    }

    pub(crate) fn dict_data(&self, op: u64) -> Result<DictData, ObjError> {
        match self.heavy_of(op).map(|h| &h.body) {
            Some(Body::Dict(d)) => Ok(*d),
            _ => Err(self.wrong_type(op, "dict")),
        }
    }

    pub(crate) fn dict_data_mut(&mut self, op: u64) -> Result<&mut DictData, ObjError> {
        let err = self.wrong_type(op, "dict");
        match self.heavy_mut(op).map(|h| &mut h.body) {
            Some(Body::Dict(d)) => Ok(d),
            _ => Err(err),
        }
    }

    fn live_dict(&self, op: u64) -> Result<DictData, ObjError> {
        self.live_view(op)?;
        self.dict_data(op)
    }

    /// `pydict_global_version`: the last `ma_version_tag` handed out. While it stays the same,
    /// no dict has changed.
    pub fn dict_global_version(&self) -> u64 {
        self.dict_version
    }

    /// `ma_version_tag`: changed by every store and deletion, never the same for two states.
    pub fn dict_version(&self, op: u64) -> Result<u64, ObjError> {
        match self.live_view(op)?.body {
            Some(Body::Dict(d)) => Ok(d.version),
            _ => Err(self.wrong_type(op, "dict")),
        }
    }

    /// `len(d)`.
    pub fn dict_len(&self, op: u64) -> Result<u64, ObjError> {
        Ok(self.live_dict(op)?.used)
    }

    /// `PyObject_Hash` for the key types the model supports: str, int, bool, and tuples of them.
    pub fn hash(&mut self, op: u64) -> Result<i64, ObjError> {
        match self.type_of(op)? {
            TypeId::Str => self.unicode_hash(op),
            TypeId::Int | TypeId::Bool => Ok(long_hash(self.long_value(op)?)),
            TypeId::Float => {
                let v = self.float_value(op)?;
                // A NaN hashes by its identity from 3.10, as 0 before (bpo-43475).
                if v.is_nan() {
                    return Ok(if self.layout.minor >= 10 {
                        pointer_hash(op)
                    } else {
                        0
                    });
                }
                Ok(double_hash(v))
            }
            TypeId::Tuple | TypeId::VersionInfo => {
                let items = self.tuple_items(op)?;
                let mut hashes = Vec::with_capacity(items.len());
                for item in items {
                    hashes.push(self.hash(item)?);
                }
                Ok(tuple_hash(&hashes))
            }
            TypeId::NoneType
            | TypeId::Type
            | TypeId::Object
            | TypeId::Instance
            | TypeId::Function
            | TypeId::Module
            | TypeId::Code
            | TypeId::Cell
            | TypeId::CFunction
            | TypeId::CArg
            | TypeId::CData
            | TypeId::Frame => Ok(pointer_hash(op)),
            ty => Err(ObjError::WrongType {
                addr: op,
                expected: "hashable object",
                found: ty.name().into(),
            }),
        }
    }

    /// Key equality as a lookup sees it: identity, else equal hashes and equal values.
    fn keys_equal(&mut self, a: u64, b: u64) -> Result<bool, ObjError> {
        if a == b {
            return Ok(true);
        }
        let (ta, tb) = (self.type_of(a)?, self.type_of(b)?);
        let numeric = |t| matches!(t, TypeId::Int | TypeId::Bool);
        Ok(match (ta, tb) {
            (TypeId::Str, TypeId::Str) => self.unicode_text(a)? == self.unicode_text(b)?,
            (x, y) if numeric(x) && numeric(y) => self.long_value(a)? == self.long_value(b)?,
            (TypeId::Tuple, TypeId::Tuple) => {
                let (ia, ib) = (self.tuple_items(a)?, self.tuple_items(b)?);
                if ia.len() != ib.len() {
                    return Ok(false);
                }
                for (x, y) in ia.into_iter().zip(ib) {
                    if !self.keys_equal(x, y)? {
                        return Ok(false);
                    }
                }
                true
            }
            _ => false,
        })
    }

    // ---- the keys object in memory ---------------------------------------------------------

    fn header_size(&self) -> u64 {
        if self.layout.minor >= 11 { 32 } else { 40 }
    }

    /// A word of a keys object. Keys objects are plain memory, never inside an object's block,
    /// so the read skips the object layer's synthesis: a lookup reads several words a probe.
    fn keys_word(&self, at: u64) -> Result<u64, ObjError> {
        debug_assert_eq!(
            self.mem.read_word(at).ok(),
            self.read_word(at).ok(),
            "{at:#x}"
        );
        Ok(self.mem.read_word(at)?)
    }

    fn read_keys(&self, addr: u64) -> Result<Keys, ObjError> {
        if addr == self.empty_keys_addr() {
            return Ok(Keys {
                addr,
                log2_size: 0,
                index_bytes: 1,
                unicode: true,
                usable: 0,
                nentries: 0,
            });
        }
        let (log2_size, unicode, usable, nentries) = if self.layout.minor >= 11 {
            let w = self.keys_word(addr + 8)?;
            let kind = (w >> 16) & 0xff;
            (
                (w & 0xff) as u32,
                kind != 0, // DICT_KEYS_UNICODE or DICT_KEYS_SPLIT: {key, value} entries
                self.keys_word(addr + 16)? as i64,
                self.keys_word(addr + 24)?,
            )
        } else {
            let size = self.keys_word(addr + 8)?;
            (
                size.trailing_zeros(),
                false,
                self.keys_word(addr + 24)? as i64,
                self.keys_word(addr + 32)?,
            )
        };
        Ok(Keys {
            addr,
            log2_size,
            index_bytes: index_bytes(log2_size),
            unicode,
            usable,
            nentries,
        })
    }

    fn write_keys_counts(&mut self, k: &Keys) -> Result<(), ObjError> {
        let (usable_at, nentries_at) = if self.layout.minor >= 11 {
            (16, 24)
        } else {
            (24, 32)
        };
        self.mem.write_word(k.addr + usable_at, k.usable as u64)?;
        self.mem.write_word(k.addr + nentries_at, k.nentries)?;
        Ok(())
    }

    fn entry_size(k: &Keys) -> u64 {
        if k.unicode { 16 } else { 24 }
    }

    fn entries_start(&self, k: &Keys) -> u64 {
        k.addr + self.header_size() + (k.index_bytes << k.log2_size)
    }

    /// `dictkeys_get_index`.
    fn get_index(&self, k: &Keys, i: u64) -> Result<i64, ObjError> {
        if k.addr == self.empty_keys_addr() {
            return Ok(DKIX_EMPTY);
        }
        let at = k.addr + self.header_size() + i * k.index_bytes;
        let word = self.keys_word(at & !7)?;
        let shift = (at & 7) * 8;
        let bits = k.index_bytes * 8;
        let raw = if bits == 64 {
            word
        } else {
            (word >> shift) & ((1 << bits) - 1)
        };
        // Sign-extend: indices are int8_t, int16_t, int32_t or int64_t.
        Ok(((raw << (64 - bits)) as i64) >> (64 - bits))
    }

    /// `dictkeys_set_index`.
    fn set_index(&mut self, k: &Keys, i: u64, ix: i64) -> Result<(), ObjError> {
        let at = k.addr + self.header_size() + i * k.index_bytes;
        let bits = k.index_bytes * 8;
        let shift = (at & 7) * 8;
        let old = self.read_word(at & !7)?;
        let mask = if bits == 64 {
            u64::MAX
        } else {
            ((1u64 << bits) - 1) << shift
        };
        let new = (old & !mask) | (((ix as u64) << shift) & mask);
        self.mem.write_word(at & !7, new)?;
        Ok(())
    }

    /// Entry `ix`: (hash, key, value). A str-keys entry has no hash field: the key's.
    fn entry(&mut self, k: &Keys, ix: u64) -> Result<(i64, u64, u64), ObjError> {
        let (key, value) = self.entry_refs(k, ix)?;
        if !k.unicode {
            let at = self.entries_start(k) + ix * Self::entry_size(k);
            return Ok((self.keys_word(at)? as i64, key, value));
        }
        let hash = if key == 0 {
            -1
        } else {
            self.unicode_hash(key)?
        };
        Ok((hash, key, value))
    }

    /// Entry `ix`'s references: `me_key`, `me_value` (NULL in a split table's keys).
    fn entry_refs(&self, k: &Keys, ix: u64) -> Result<(u64, u64), ObjError> {
        let at = self.entries_start(k) + ix * Self::entry_size(k);
        let at = if k.unicode { at } else { at + 8 };
        Ok((self.keys_word(at)?, self.keys_word(at + 8)?))
    }

    /// The references a dict owns, in `dict_dealloc`'s order: a combined table's entries
    /// forwards, each key before its value; a split table's values only (its keys are the
    /// shared keys object's, [`Objects::keys_referents`]).
    pub(crate) fn dict_referents(&self, d: &DictData) -> Result<Vec<Referent>, ObjError> {
        let k = self.read_keys(d.keys)?;
        let mut out = Vec::new();
        if d.values != 0 && self.values_embedded(d.values)? {
            // 3.13: an instance's inline values, which the instance owns; dict_traverse
            // visits none of them (`!mp->ma_values->embedded`).
            return Ok(out);
        }
        for ix in 0..k.nentries {
            let (key, value, value_edge) = if d.values != 0 {
                (0, self.read_word(d.values + 8 * ix)?, Edge::Values(ix))
            } else {
                let (key, value) = self.entry_refs(&k, ix)?;
                (key, value, Edge::Value(ix))
            };
            for (edge, target) in [(Edge::Key(ix), key), (value_edge, value)] {
                if target != 0 {
                    out.push(Referent { edge, target });
                }
            }
        }
        Ok(out)
    }

    /// `dict_traverse`: a str-keyed table visits each value (a split table's in its values
    /// array), any other table each entry's value, then its key. Up to 3.10 a table is str-keyed
    /// while its lookup function is one of the `lookdict_unicode` ones; the model takes that as
    /// every key being a str.
    pub(crate) fn dict_traverse(&self, d: &DictData) -> Result<Vec<u64>, ObjError> {
        let k = self.read_keys(d.keys)?;
        let referents = self.dict_referents(d)?;
        let unicode = if self.layout.minor >= 11 {
            k.unicode || d.values != 0
        } else {
            let mut all_str = true;
            for r in &referents {
                if matches!(r.edge, Edge::Key(_)) && self.type_of(r.target)? != TypeId::Str {
                    all_str = false;
                }
            }
            all_str
        };
        let mut out = Vec::new();
        let mut key = 0;
        for r in referents {
            match r.edge {
                Edge::Key(_) => key = r.target,
                _ if unicode => out.push(r.target),
                _ => {
                    out.push(r.target);
                    if key != 0 {
                        out.push(key);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The keys a shared keys object owns (`dictkeys_decref` releases them with it).
    pub fn keys_referents(&self, keys: u64) -> Result<Vec<Referent>, ObjError> {
        let k = self.read_keys(keys)?;
        let mut out = Vec::new();
        for ix in 0..k.nentries {
            let (target, _) = self.entry_refs(&k, ix)?;
            if target != 0 {
                out.push(Referent {
                    edge: Edge::Key(ix),
                    target,
                });
            }
        }
        Ok(out)
    }

    fn set_entry(
        &mut self,
        k: &Keys,
        ix: u64,
        hash: i64,
        key: u64,
        value: u64,
    ) -> Result<(), ObjError> {
        let at = self.entries_start(k) + ix * Self::entry_size(k);
        if k.unicode {
            self.mem.write_word(at, key)?;
            self.mem.write_word(at + 8, value)?;
        } else {
            self.mem.write_word(at, hash as u64)?;
            self.mem.write_word(at + 8, key)?;
            self.mem.write_word(at + 16, value)?;
        }
        Ok(())
    }

    /// Entry `ix` of the dict `d`: a split table's value is in its values array.
    fn dict_entry(&mut self, d: &DictData, k: &Keys, ix: u64) -> Result<(i64, u64, u64), ObjError> {
        let (h, key, value) = self.entry(k, ix)?;
        if d.values == 0 {
            return Ok((h, key, value));
        }
        Ok((h, key, self.read_word(d.values + 8 * ix)?))
    }

    /// The entries of `d` in its order: a combined table's in index order; a split table's in
    /// the order its values were set, which 3.11 and 3.12 keep in the values array's prefix
    /// (`get_index_from_order`; up to 3.10 a split table only grows in index order).
    fn entry_order(&self, d: &DictData, k: &Keys) -> Result<Vec<u64>, ObjError> {
        (0..self.order_len(d, k)?)
            .map(|i| self.order_at(d, i))
            .collect()
    }

    /// Whether the entries' order is kept with the values (a split table from 3.11: in the
    /// values array's prefix on 3.11 and 3.12, after the values on 3.13), not the entries' own.
    fn ordered_by_values(&self, d: &DictData) -> bool {
        d.values != 0 && self.layout.minor >= 11
    }

    /// How many positions [`Objects::entry_order`] has.
    fn order_len(&self, d: &DictData, k: &Keys) -> Result<u64, ObjError> {
        if !self.ordered_by_values(d) {
            return Ok(k.nentries);
        }
        let header = self.read_word(d.values - 8)?;
        Ok(if self.layout.minor >= 13 {
            (header >> 8) & 0xff
        } else {
            (header >> 48) & 0xff
        })
    }

    /// The entry index at position `i` of the dict's order (`get_index_from_order`).
    fn order_at(&self, d: &DictData, i: u64) -> Result<u64, ObjError> {
        if !self.ordered_by_values(d) {
            return Ok(i);
        }
        let at = if self.layout.minor >= 13 {
            // get_insertion_order_array: after the `capacity` values.
            d.values + 8 * (self.read_word(d.values - 8)? & 0xff) + i
        } else {
            d.values - 3 - i
        };
        Ok((self.read_word(at & !7)? >> ((at & 7) * 8)) & 0xff)
    }

    /// 3.13's `values->embedded`: the values are an instance's inline values (the header
    /// word before them: `capacity`, `size`, `embedded`, `valid`, a byte each).
    pub(crate) fn values_embedded(&self, values: u64) -> Result<bool, ObjError> {
        Ok(self.layout.minor >= 13 && (self.read_word(values - 8)? >> 16) & 0xff != 0)
    }

    /// `_PyDict_Next`: from position `pos` of the dict's order, the next entry that holds a
    /// value: the position after it, its key and its value (borrowed); `None` at the end.
    pub fn dict_next(
        &mut self,
        op: u64,
        mut pos: u64,
    ) -> Result<Option<(u64, u64, u64)>, ObjError> {
        let d = self.live_dict(op)?;
        let k = self.read_keys(d.keys)?;
        let n = self.order_len(&d, &k)?;
        while pos < n {
            let ix = self.order_at(&d, pos)?;
            let (_, key, value) = self.dict_entry(&d, &k, ix)?;
            pos += 1;
            if key != 0 && value != 0 {
                return Ok(Some((pos, key, value)));
            }
        }
        Ok(None)
    }

    /// `dictkeys_incref` / `dictkeys_decref` of a shared keys object: when the last user lets
    /// go, its keys are released and it is freed.
    pub(crate) fn dictkeys_decref(&mut self, keys: u64) -> Result<(), ObjError> {
        if keys == self.empty_keys_addr() {
            self.empty_keys_refcnt_add(-1);
            return Ok(());
        }
        let refcnt = self.read_word(keys)?;
        self.mem.write_word(keys, refcnt - 1)?;
        if refcnt > 1 {
            return Ok(());
        }
        let k = self.read_keys(keys)?;
        for ix in 0..k.nentries {
            let (_, key, value) = self.entry(&k, ix)?;
            self.xdecref(key)?;
            self.xdecref(value)?;
        }
        self.release_keys_object(&k)
    }

    pub(crate) fn dictkeys_incref(&mut self, keys: u64) -> Result<(), ObjError> {
        if keys == self.empty_keys_addr() {
            self.empty_keys_refcnt_add(1);
            return Ok(());
        }
        let refcnt = self.read_word(keys)?;
        Ok(self.mem.write_word(keys, refcnt + 1)?)
    }

    /// A dict sharing `keys` with its class, its values in `values` (`new_dict` with a split
    /// table): `used` values are set.
    pub(crate) fn dict_new_split(
        &mut self,
        keys: u64,
        values: u64,
        used: u64,
    ) -> Result<u64, ObjError> {
        let op = self.dict_new()?;
        self.empty_keys_refcnt_add(-1);
        self.dictkeys_incref(keys)?;
        let d = self.dict_data_mut(op)?;
        d.keys = keys;
        d.values = values;
        d.used = used;
        Ok(op)
    }

    /// `_Py_dict_lookup`: the slot of the index table and the entry for `key`, if present.
    fn lookup(&mut self, k: &Keys, key: u64, hash: i64) -> Result<(u64, Option<u64>), ObjError> {
        let mask = (1u64 << k.log2_size) - 1;
        let mut perturb = hash as u64;
        let mut i = (hash as u64) & mask;
        loop {
            let ix = self.get_index(k, i)?;
            if ix == DKIX_EMPTY {
                return Ok((i, None));
            }
            if ix >= 0 {
                let (h, ek, _) = self.entry(k, ix as u64)?;
                if ek == key || (h == hash && self.keys_equal(ek, key)?) {
                    return Ok((i, Some(ix as u64)));
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i.wrapping_mul(5).wrapping_add(perturb).wrapping_add(1)) & mask;
        }
    }

    /// `find_empty_slot`: the first index slot on the probe sequence that holds no entry.
    fn find_empty_slot(&self, k: &Keys, hash: i64) -> Result<u64, ObjError> {
        let mask = (1u64 << k.log2_size) - 1;
        let mut perturb = hash as u64;
        let mut i = (hash as u64) & mask;
        while self.get_index(k, i)? >= 0 {
            perturb >>= PERTURB_SHIFT;
            i = (i.wrapping_mul(5).wrapping_add(perturb).wrapping_add(1)) & mask;
        }
        Ok(i)
    }

    /// `new_keys_object(log2_size, unicode)`: from the keys free list for the smallest str-keys
    /// table (any smallest table up to 3.10), else `PyObject_Malloc`.
    fn new_keys_object(&mut self, log2_size: u32, unicode: bool) -> Result<Keys, ObjError> {
        let unicode = unicode && self.layout.minor >= 11;
        let size = 1u64 << log2_size;
        let usable = (size << 1) / 3; // USABLE_FRACTION
        let ib = index_bytes(log2_size);
        let entry = if unicode { 16 } else { 24 };
        let listable = log2_size == LOG_MINSIZE && (unicode || self.layout.minor <= 10);
        // Only a table the list may serve takes from it (the keys stay listed otherwise).
        let addr = match listable.then(|| self.free.dict_keys.pop()).flatten() {
            Some(addr) => addr,
            None => {
                let nbytes = self.header_size() + (ib << log2_size) + entry * usable;
                self.mem_malloc(nbytes)?
            }
        };
        self.mem.write_word(addr, 1)?; // dk_refcnt
        if self.layout.minor >= 11 {
            let log2_index_bytes = u64::from(log2_size) + ib.trailing_zeros() as u64;
            let kind = u64::from(!unicode) ^ 1; // DICT_KEYS_UNICODE 1, GENERAL 0
            let version = 0u64; // dk_version: 0 until a specializing instruction asks
            self.mem.write_word(
                addr + 8,
                u64::from(log2_size) | (log2_index_bytes << 8) | (kind << 16) | (version << 32),
            )?;
        } else {
            self.mem.write_word(addr + 8, size)?;
            self.mem.write_word(addr + 16, 0)?; // dk_lookup: a function pointer
        }
        let k = Keys {
            addr,
            log2_size,
            index_bytes: ib,
            unicode,
            usable: usable as i64,
            nentries: 0,
        };
        self.write_keys_counts(&k)?;
        // memset(&dk->dk_indices[0], 0xff, ...): every index empty.
        let indices = self.header_size();
        for w in 0..(ib << log2_size).div_ceil(8) {
            self.mem.write_word(addr + indices + 8 * w, u64::MAX)?;
        }
        // memset(DK_ENTRIES(dk), 0, ...)
        let start = self.entries_start(&k);
        for w in 0..(entry * usable) / 8 {
            self.mem.write_word(start + 8 * w, 0)?;
        }
        Ok(k)
    }

    /// A keys object of `2^log2_size` slots (`new_keys_object`): its address.
    pub(crate) fn keys_object(&mut self, log2_size: u32, unicode: bool) -> Result<u64, ObjError> {
        Ok(self.new_keys_object(log2_size, unicode)?.addr)
    }

    /// `_PyDict_KeysSize`: what the keys object was allocated with.
    pub(crate) fn keys_size(&self, keys: u64) -> Result<u64, ObjError> {
        let k = self.read_keys(keys)?;
        let usable = ((1u64 << k.log2_size) << 1) / 3;
        Ok(self.header_size() + (k.index_bytes << k.log2_size) + Self::entry_size(&k) * usable)
    }

    /// Makes a dict's table split: its values are in `values`.
    pub(crate) fn set_dict_values(&mut self, dict: u64, values: u64) -> Result<(), ObjError> {
        self.dict_data_mut(dict)?.values = values;
        Ok(())
    }

    /// The index of `name` in a shared keys object, if there.
    pub(crate) fn shared_keys_lookup(
        &mut self,
        keys: u64,
        name: u64,
    ) -> Result<Option<u64>, ObjError> {
        let hash = self.hash(name)?;
        let k = self.read_keys(keys)?;
        Ok(self.lookup(&k, name, hash)?.1)
    }

    /// `insert_into_dictkeys` (3.11+): `name`'s index in the shared keys, appending it (with a
    /// reference) while `dk_usable` allows; `None` when the keys are full.
    pub(crate) fn shared_keys_insert(
        &mut self,
        keys: u64,
        name: u64,
    ) -> Result<Option<u64>, ObjError> {
        let hash = self.hash(name)?;
        let mut k = self.read_keys(keys)?;
        if let (_, Some(ix)) = self.lookup(&k, name, hash)? {
            return Ok(Some(ix));
        }
        if k.usable <= 0 {
            return Ok(None);
        }
        self.incref(name)?;
        let slot = self.find_empty_slot(&k, hash)?;
        let ix = k.nentries;
        self.set_index(&k, slot, ix as i64)?;
        self.set_entry(&k, ix, hash, name, 0)?;
        k.usable -= 1;
        k.nentries += 1;
        self.write_keys_counts(&k)?;
        Ok(Some(ix))
    }

    /// `PyMem_Malloc` for a buffer that is not an object.
    pub(crate) fn mem_malloc(&mut self, nbytes: u64) -> Result<u64, ObjError> {
        let p = self.mem.object_malloc(nbytes as usize);
        self.sync_allocator();
        let p = p?;
        self.trace.record(ObjEvent::BufferAlloc { addr: p, nbytes });
        self.raw_block(p, nbytes)?;
        Ok(p)
    }

    /// Frees a keys object whose entries have been released or moved: onto the keys free list
    /// when it is a smallest one (str keys only from 3.11), else `PyObject_Free`.
    fn release_keys_object(&mut self, k: &Keys) -> Result<(), ObjError> {
        let listable = k.log2_size == LOG_MINSIZE && (k.unicode || self.layout.minor <= 10);
        if listable && self.free.dict_keys.len() < DICT_MAXFREELIST {
            self.free.dict_keys.push(k.addr);
            return Ok(());
        }
        self.mem_free(k.addr)
    }

    /// `dictresize(mp, log2_newsize, unicode)`: a new keys object, the live entries copied in
    /// order, the indices rebuilt, the old keys object released.
    fn dictresize(&mut self, op: u64, log2_newsize: u32, unicode: bool) -> Result<Keys, ObjError> {
        let d = self.dict_data(op)?;
        let old = self.read_keys(d.keys)?;
        let mut live = Vec::with_capacity(d.used as usize);
        for ix in self.entry_order(&d, &old)? {
            let (h, key, value) = self.dict_entry(&d, &old, ix)?;
            if key != 0 && value != 0 {
                if d.values != 0 {
                    // "Convert split table into new combined table. We must incref keys; we can
                    // transfer values."
                    self.incref(key)?;
                }
                live.push((h, key, value));
            }
        }
        let mut k = self.new_keys_object(log2_newsize, unicode)?;
        for (n, &(h, key, value)) in live.iter().enumerate() {
            self.set_entry(&k, n as u64, h, key, value)?;
            let slot = self.find_empty_slot(&k, h)?;
            self.set_index(&k, slot, n as i64)?;
        }
        k.usable -= live.len() as i64;
        k.nentries = live.len() as u64;
        self.write_keys_counts(&k)?;
        self.dict_data_mut(op)?.keys = k.addr;
        if d.values != 0 {
            self.dict_data_mut(op)?.values = 0;
            self.dictkeys_decref(old.addr)?;
            if self.values_embedded(d.values)? {
                // 3.13: the instance's inline values, whose references moved to the new
                // table, are no longer `valid`; the instance's dict holds its attributes.
                let header = self.read_word(d.values - 8)?;
                self.mem.write_word(d.values - 8, header & !(0xff << 24))?;
            } else {
                self.free_values(d.values)?;
            }
        } else if old.addr == self.empty_keys_addr() {
            self.empty_keys_refcnt_add(-1);
        } else {
            self.release_keys_object(&old)?;
        }
        Ok(k)
    }

    /// `PyDict_SetItem(op, key, value)`: the dict takes new references to both.
    pub fn dict_setitem(&mut self, op: u64, key: u64, value: u64) -> Result<(), ObjError> {
        self.live_dict(op)?;
        self.live_view(key)?;
        self.live_view(value)?;
        let hash = self.hash(key)?;
        self.incref(key)?;
        self.incref(value)?;
        self.insertdict(op, key, hash, value)
    }

    /// `insertdict`: replace the value of an equal key (its old value released after), or
    /// append a new entry, growing the table first when no entry is usable. Steals `key` and
    /// `value`.
    fn insertdict(&mut self, op: u64, key: u64, hash: i64, value: u64) -> Result<(), ObjError> {
        let str_key = self.type_of(key)? == TypeId::Str;
        let d = self.dict_data(op)?;
        let mut k = self.read_keys(d.keys)?;
        if d.values != 0 {
            return self.insert_split(op, key, hash, value);
        }
        if k.unicode && !str_key && k.addr != self.empty_keys_addr() {
            // A non-str key in a str-keys table: insertion_resize(mp, 0) makes it general.
            k = self.dictresize(op, k.log2_size, false)?;
        }
        self.maintain_tracking(op, key, value);
        let (_, found) = self.lookup(&k, key, hash)?;
        if let Some(ix) = found {
            let (h, ek, old) = self.entry(&k, ix)?;
            self.set_entry(&k, ix, h, ek, value)?;
            self.dict_data_mut(op)?.version = self.next_dict_version();
            self.decref(old)?;
            return self.decref(key); // the dict keeps its own key
        }
        if k.usable <= 0 {
            let used = self.dict_data(op)?.used;
            let unicode = str_key && (k.unicode || k.addr == self.empty_keys_addr());
            k = self.dictresize(op, log2_keysize(used * 3), unicode)?;
        }
        let slot = self.find_empty_slot(&k, hash)?;
        let ix = k.nentries;
        self.set_index(&k, slot, ix as i64)?;
        self.set_entry(&k, ix, hash, key, value)?;
        k.usable -= 1;
        k.nentries += 1;
        self.write_keys_counts(&k)?;
        let version = self.next_dict_version();
        let d = self.dict_data_mut(op)?;
        d.used += 1;
        d.version = version;
        Ok(())
    }

    /// `insertdict` on a split table (3.8–3.10 instance dicts): a key already shared gets its
    /// value in the values array; a new key is appended to the shared keys when this dict has
    /// every earlier one in order and the keys have room. Anything else makes the table combined
    /// first (`insertion_resize`).
    fn insert_split(&mut self, op: u64, key: u64, hash: i64, value: u64) -> Result<(), ObjError> {
        let d = self.dict_data(op)?;
        let mut k = self.read_keys(d.keys)?;
        self.maintain_tracking(op, key, value);
        let (_, found) = self.lookup(&k, key, hash)?;
        let old = match found {
            Some(ix) => self.read_word(d.values + 8 * ix)?,
            None => 0,
        };
        // Up to 3.10 a split table only grows in index order: a key is shared when the dict
        // has every earlier one. From 3.11 the values keep their own insertion order, and
        // insertdict adds any new str key to the shared keys while they have room.
        let in_order = match (found, self.layout.minor >= 11) {
            (Some(_), true) => true,
            (Some(ix), false) => old != 0 || d.used == ix,
            (None, true) => str_or(self, key) && k.usable > 0,
            (None, false) => d.used == k.nentries && str_or(self, key) && k.usable > 0,
        };
        if !in_order {
            // insertion_resize: from 3.11 a str key with no room left in the shared keys makes
            // a combined table of str keys (`insertion_resize(mp, 1)`), any other key a
            // general one (`insertion_resize(mp, 0)`).
            let unicode = self.layout.minor >= 11 && str_or(self, key);
            let used = d.used;
            self.dictresize(op, log2_keysize(used * 3), unicode)?;
            return self.insertdict(op, key, hash, value);
        }
        let version = self.next_dict_version();
        match found {
            Some(ix) => {
                self.mem.write_word(d.values + 8 * ix, value)?;
                if old == 0 && self.layout.minor >= 11 {
                    self.add_to_insertion_order(d.values, ix)?;
                }
                self.decref(key)?;
                let dd = self.dict_data_mut(op)?;
                dd.version = version;
                if old == 0 {
                    dd.used += 1;
                }
                self.xdecref(old)
            }
            None => {
                let slot = self.find_empty_slot(&k, hash)?;
                let ix = k.nentries;
                self.set_index(&k, slot, ix as i64)?;
                self.set_entry(&k, ix, hash, key, 0)?;
                self.mem.write_word(d.values + 8 * ix, value)?;
                if self.layout.minor >= 11 {
                    self.add_to_insertion_order(d.values, ix)?;
                }
                k.usable -= 1;
                k.nentries += 1;
                self.write_keys_counts(&k)?;
                let dd = self.dict_data_mut(op)?;
                dd.used += 1;
                dd.version = version;
                Ok(())
            }
        }
    }

    /// `free_values`: a split table's values array goes back (`PyMem_Free`).
    pub(crate) fn free_values(&mut self, values: u64) -> Result<(), ObjError> {
        let prefix = if self.layout.minor >= 13 {
            // The header word (capacity, size, embedded, valid) before the values.
            8
        } else if self.layout.minor >= 11 {
            // The array starts after its prefix, whose last byte says how long it is.
            (self.read_word((values - 8) & !7)? >> 56) & 0xff
        } else {
            0
        };
        self.mem_free(values - prefix)
    }

    /// `MAINTAIN_TRACKING`: an untracked dict is tracked once it holds an object the collector
    /// may track.
    fn maintain_tracking(&mut self, op: u64, key: u64, value: u64) {
        if self.gc_is_tracked(op) {
            return;
        }
        let may_be_tracked = |o: &Objects, x: u64| {
            o.type_of(x).is_ok_and(|t| t.is_gc_in(o.layout.minor))
                && (o.type_of(x) != Ok(TypeId::Tuple) || o.gc_is_tracked(x))
        };
        if may_be_tracked(self, key) || may_be_tracked(self, value) {
            self.gc_track(op);
        }
    }

    /// `d[key]`: a borrowed reference, or `None`.
    pub fn dict_getitem(&mut self, op: u64, key: u64) -> Result<Option<u64>, ObjError> {
        let d = self.live_dict(op)?;
        let hash = self.hash(key)?;
        let k = self.read_keys(d.keys)?;
        match self.lookup(&k, key, hash)? {
            (_, Some(ix)) => Ok(Some(self.dict_entry(&d, &k, ix)?.2).filter(|&v| v != 0)),
            (_, None) => Ok(None),
        }
    }

    /// `del d[key]` (`delitem_common`): the index becomes a dummy, the entry is cleared, then the
    /// key and the value are released. False if the key was not there.
    pub fn dict_delitem(&mut self, op: u64, key: u64) -> Result<bool, ObjError> {
        let mut d = self.live_dict(op)?;
        let hash = self.hash(key)?;
        if d.values != 0 {
            // A key the table does not hold is a KeyError before anything changes.
            let k = self.read_keys(d.keys)?;
            match self.lookup(&k, key, hash)?.1 {
                Some(ix) if self.read_word(d.values + 8 * ix)? != 0 => {}
                _ => return Ok(false),
            }
            if self.layout.minor >= 11 {
                return self.delitem_split(op, d, key, hash);
            }
            // A split table is made combined first (`dictresize(mp, DK_LOG_SIZE(mp->ma_keys))`).
            let log2 = self.read_keys(d.keys)?.log2_size;
            self.dictresize(op, log2, false)?;
            d = self.dict_data(op)?;
        }
        let k = self.read_keys(d.keys)?;
        let (slot, Some(ix)) = self.lookup(&k, key, hash)? else {
            return Ok(false);
        };
        let (_, old_key, old_value) = self.entry(&k, ix)?;
        self.set_index(&k, slot, DKIX_DUMMY)?;
        self.set_entry(&k, ix, 0, 0, 0)?;
        let version = self.next_dict_version();
        let d = self.dict_data_mut(op)?;
        d.used -= 1;
        d.version = version;
        self.decref(old_key)?;
        self.decref(old_value)?;
        Ok(true)
    }

    /// `delitem_common` on a 3.11+ split table: the value goes and its index leaves the order
    /// (`delete_index_from_values`); the shared keys stay as they are.
    fn delitem_split(
        &mut self,
        op: u64,
        d: DictData,
        key: u64,
        hash: i64,
    ) -> Result<bool, ObjError> {
        let k = self.read_keys(d.keys)?;
        let Some(ix) = self.lookup(&k, key, hash)?.1 else {
            return Ok(false);
        };
        let old = self.read_word(d.values + 8 * ix)?;
        self.mem.write_word(d.values + 8 * ix, 0)?;
        self.delete_index_from_values(d.values, ix)?;
        let version = self.next_dict_version();
        let dd = self.dict_data_mut(op)?;
        dd.used -= 1;
        dd.version = version;
        self.decref(old)?;
        Ok(true)
    }

    /// The entries in insertion order: (key, value), borrowed.
    pub fn dict_items(&mut self, op: u64) -> Result<Vec<(u64, u64)>, ObjError> {
        let d = self.live_dict(op)?;
        self.dict_items_raw(&d)
    }

    fn dict_items_raw(&mut self, d: &DictData) -> Result<Vec<(u64, u64)>, ObjError> {
        let k = self.read_keys(d.keys)?;
        let mut out = Vec::new();
        for ix in self.entry_order(d, &k)? {
            let (_, key, value) = self.dict_entry(d, &k, ix)?;
            if key != 0 && value != 0 {
                out.push((key, value));
            }
        }
        Ok(out)
    }

    /// `dict_dealloc`: untrack; release the keys object (its entries forwards, each key before
    /// its value); then onto the dict free list while it holds fewer than 80, else
    /// `PyObject_GC_Del`.
    pub(crate) fn dict_dealloc(&mut self, op: u64) -> Result<(), ObjError> {
        self.gc_untrack(op)?;
        if !self.trashcan_begin(op) {
            return Ok(());
        }
        let d = self.dict_data(op)?;
        let referents = self.dict_referents(&d)?;
        if d.values != 0 {
            // A split table: its values, then its share of the keys.
            for r in referents {
                self.c_xdecref(r.target)?;
            }
            // 3.13: embedded values are the instance's, neither released nor freed here.
            if !self.values_embedded(d.values)? {
                self.free_values(d.values)?;
            }
            self.dictkeys_decref(d.keys)?;
        } else if d.keys == self.empty_keys_addr() {
            self.empty_keys_refcnt_add(-1);
        } else {
            // dictkeys_decref -> free_keys_object: each entry's key, then its value.
            let k = self.read_keys(d.keys)?;
            self.mem.write_word(k.addr, 0)?;
            for r in referents {
                self.c_xdecref(r.target)?;
            }
            self.release_keys_object(&k)?;
        }
        if self.free.dict.len() < DICT_MAXFREELIST {
            self.free.dict.push(op);
            self.mark_listed(op);
            self.trace.record(ObjEvent::ToFreeList {
                op,
                ty: TypeId::Dict,
                numfree: self.free.dict.len(),
            });
        } else {
            self.free_object(op)?;
        }
        self.trashcan_end()
    }

    /// `PyDict_Clear` (`dict_tp_clear`, `dict.clear()`): the dict emptied first (the shared
    /// empty keys, a new version), then what it held released: a split table's values in
    /// order, its values array, its share of the keys; a combined table's keys object with each
    /// entry's key, then its value.
    pub fn dict_clear(&mut self, op: u64) -> Result<(), ObjError> {
        let d = self.live_dict(op)?;
        if d.keys == self.empty_keys_addr() {
            return Ok(());
        }
        if d.values != 0 && self.values_embedded(d.values)? {
            return Err(ObjError::NotModelled {
                what: "clearing an instance's __dict__ on 3.13 (its inline values)",
            });
        }
        let referents = self.dict_referents(&d)?;
        self.empty_keys_refcnt_add(1);
        let version = self.next_dict_version();
        *self.dict_data_mut(op)? = DictData {
            used: 0,
            version,
            keys: self.empty_keys_addr(),
            values: 0,
        };
        if d.values != 0 {
            for r in referents {
                self.c_xdecref(r.target)?;
            }
            self.free_values(d.values)?;
            return self.dictkeys_decref(d.keys);
        }
        // dictkeys_decref -> free_keys_object, as dict_dealloc releases them.
        let k = self.read_keys(d.keys)?;
        self.mem.write_word(k.addr, 0)?;
        for r in referents {
            self.c_xdecref(r.target)?;
        }
        self.release_keys_object(&k)
    }

    /// `dict.__sizeof__` plus the GC head: the object, and its keys object unless shared.
    pub(crate) fn dict_sizeof(&self, op: u64) -> Result<u64, ObjError> {
        let d = self.dict_data(op)?;
        if d.keys == self.empty_keys_addr() {
            return Ok(DICT_SIZE);
        }
        let k = self.read_keys(d.keys)?;
        let usable = ((1u64 << k.log2_size) << 1) / 3;
        if d.values != 0 {
            // "If the dictionary is split, the keys portion is accounted-for in the type
            // object." Its values: USABLE_FRACTION of the keys up to 3.10, then
            // shared_keys_usable_size.
            let n = if self.layout.minor >= 11 {
                k.nentries + k.usable.max(0) as u64
            } else {
                usable
            };
            return Ok(DICT_SIZE + 8 * n);
        }
        Ok(DICT_SIZE
            + self.header_size()
            + (k.index_bytes << k.log2_size)
            + Self::entry_size(&k) * usable)
    }

    /// `dict_repr`: `{key: value, ...}`, through `Py_ReprEnter`.
    pub(crate) fn dict_repr(&mut self, op: u64) -> Result<String, ObjError> {
        let d = DictData {
            used: self.read_word(op + 16)?,
            version: self.read_word(op + 24)?,
            keys: self.read_word(op + 32)?,
            values: self.read_word(op + 40)?,
        };
        let items = self.dict_items_raw(&d)?;
        if items.is_empty() {
            return Ok("{}".into());
        }
        if self.repr_enter(op)? {
            return Ok("{...}".into());
        }
        let mut out = String::from("{");
        for (n, (key, value)) in items.into_iter().enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            let parts = self.repr(key).and_then(|k| Ok((k, self.repr(value)?)));
            let (k, v) = parts.inspect_err(|_| {
                let _ = self.repr_leave(op);
            })?;
            out.push_str(&k);
            out.push_str(": ");
            out.push_str(&v);
        }
        out.push('}');
        self.repr_leave(op)?;
        Ok(out)
    }

    /// The static `Py_EMPTY_KEYS` (`empty_keys_struct`), in the image.
    pub(crate) fn empty_keys_addr(&self) -> u64 {
        crate::image::EMPTY_KEYS
    }

    fn empty_keys_refcnt_add(&mut self, delta: i64) {
        if !self.layout.has_immortal_objects() {
            self.empty_keys_refcnt = self.empty_keys_refcnt.wrapping_add_signed(delta);
        }
    }

    /// A word of `empty_keys_struct`.
    pub(crate) fn empty_keys_word(&self, offset: u64) -> u64 {
        let refcnt = if self.layout.has_immortal_objects() {
            crate::layout::IMMORTAL_REFCNT
        } else {
            self.empty_keys_refcnt
        };
        match (offset, self.layout.minor >= 11) {
            (0, _) => refcnt,
            (8, true) => 1 << 16, // log2_size 0, log2_index_bytes 0, DICT_KEYS_UNICODE
            (8, false) => 1,      // dk_size 1
            (o, true) if o >= 32 => u64::MAX,
            (o, false) if o >= 40 => u64::MAX,
            _ => 0,
        }
    }
}

/// Whether `key` is an exact str (a split table takes no other key).
fn str_or(o: &Objects, key: u64) -> bool {
    o.type_of(key) == Ok(TypeId::Str)
}

/// `DK_IXSIZE`: bytes per index for a table of `2^log2_size` slots.
pub(crate) fn index_bytes(log2_size: u32) -> u64 {
    match log2_size {
        ..8 => 1,
        8..16 => 2,
        16..32 => 4,
        _ => 8,
    }
}

/// `calculate_log2_keysize(minsize)`: the smallest table of at least 8 slots holding `minsize`.
fn log2_keysize(minsize: u64) -> u32 {
    let mut log2 = LOG_MINSIZE;
    while (1u64 << log2) < minsize {
        log2 += 1;
    }
    log2
}

/// `_PyHASH_MODULUS`: 2^61 - 1.
const HASH_MODULUS: i128 = (1 << 61) - 1;

/// `long_hash`: the value modulo 2^61 - 1, with the sign; -1 becomes -2.
pub(crate) fn long_hash(v: i128) -> i64 {
    let m = (v.abs() % HASH_MODULUS) as i64;
    let h = if v < 0 { -m } else { m };
    if h == -1 { -2 } else { h }
}

/// `_Py_HashDouble` of a number that is no NaN: the value modulo 2^61 - 1 like an int's, so
/// that `hash(1.0) == hash(1)`, reduced 28 bits of mantissa at a time; infinities hash to
/// ±314159.
pub(crate) fn double_hash(v: f64) -> i64 {
    const BITS: i32 = 61;
    const MODULUS: u64 = (1 << 61) - 1;
    const INF: i64 = 314_159;
    if v.is_infinite() {
        return if v > 0.0 { INF } else { -INF };
    }
    let (mut m, mut e) = frexp(v);
    let sign: i64 = if m < 0.0 {
        m = -m;
        -1
    } else {
        1
    };
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & MODULUS) | (x >> (BITS - 28));
        m *= 268_435_456.0; // 2**28
        e -= 28;
        let y = m as u64; // the integer part
        m -= y as f64;
        x += y;
        if x >= MODULUS {
            x -= MODULUS;
        }
    }
    let e = if e >= 0 {
        e % BITS
    } else {
        BITS - 1 - ((-1 - e) % BITS)
    };
    x = ((x << e) & MODULUS) | (x >> (BITS - e));
    let h = (x as i64).wrapping_mul(sign);
    if h == -1 { -2 } else { h }
}

/// C's `frexp`: `v` as `m * 2**e` with `0.5 <= |m| < 1` (0 for 0).
fn frexp(v: f64) -> (f64, i32) {
    if v == 0.0 {
        return (v, 0);
    }
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // A subnormal: scaled into the normal range first.
        let (m, e) = frexp(v * 2f64.powi(54));
        return (m, e - 54);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022)
}

/// `_Py_HashPointer`: the address rotated by 4 bits.
fn pointer_hash(p: u64) -> i64 {
    let h = p.rotate_right(4) as i64;
    if h == -1 { -2 } else { h }
}

/// `tuplehash` (3.8+): xxHash's round over the items' hashes.
pub(crate) fn tuple_hash(hashes: &[i64]) -> i64 {
    const P1: u64 = 11_400_714_785_074_694_791;
    const P2: u64 = 14_029_467_366_897_019_727;
    const P5: u64 = 2_870_177_450_012_600_261;
    let mut acc = P5;
    for &h in hashes {
        acc = acc.wrapping_add((h as u64).wrapping_mul(P2));
        acc = acc.rotate_left(31);
        acc = acc.wrapping_mul(P1);
    }
    acc = acc.wrapping_add((hashes.len() as u64) ^ (P5 ^ 3_527_539));
    if acc == u64::MAX {
        return 1_546_275_796;
    }
    acc as i64
}

#[cfg(test)]
mod tests {
    /// `hash(x)` of these floats on CPython 3.11.7 (the same on every 64-bit build).
    #[test]
    fn floats_hash_as_cpython_s() {
        let cases: [(f64, i64); 10] = [
            (1.5, 1_152_921_504_606_846_977),
            (-0.25, -576_460_752_303_423_488),
            (0.1, 230_584_300_921_369_408),
            (1e300, 1_224_995_262_755_759_164),
            (2.0, 2),
            (-1.0, -2),
            (5e-324, 16_777_216),
            (1e-310, 615_709_907_932_414_099),
            (f64::INFINITY, 314_159),
            (-2.5e-8, -789_396_629_831_109_982),
        ];
        for (v, h) in cases {
            assert_eq!(super::double_hash(v), h, "{v}");
        }
    }

    use super::*;
    use pymalloc::Profile;

    #[test]
    fn hashes_of_ints_and_tuples_match_cpython() {
        // python3 -c "print(hash(-1), hash(2**61), hash((1, 2)), hash(()))"
        assert_eq!(long_hash(-1), -2);
        assert_eq!(long_hash(1 << 61), 1);
        assert_eq!(tuple_hash(&[1, 2]), -3550055125485641917);
        assert_eq!(tuple_hash(&[]), 5740354900026072187);
    }

    #[test]
    fn a_dict_grows_and_keeps_insertion_order() {
        for p in Profile::ALL {
            let mut o = Objects::new(p).unwrap();
            let d = o.dict_new().unwrap();
            assert_eq!(o.getsizeof(d).unwrap(), 64, "{p}: {{}}");
            let mut keys = Vec::new();
            for i in 0..40 {
                let k = o.unicode_from_str(&format!("key{i}")).unwrap();
                let v = o.long_from_i64(i).unwrap();
                o.dict_setitem(d, k, v).unwrap();
                o.decref(k).unwrap();
                o.decref(v).unwrap();
                keys.push(k);
            }
            assert_eq!(o.dict_len(d).unwrap(), 40);
            // python3 -c "import sys; d = {}; ...; print(sys.getsizeof(d))" with 40 str keys
            let expected = if o.layout().minor >= 11 { 832 } else { 1176 };
            assert_eq!(o.getsizeof(d).unwrap(), expected, "{p}: 40 keys");
            for (i, &k) in keys.iter().enumerate() {
                let probe = o.unicode_from_str(&format!("key{i}")).unwrap();
                let v = o
                    .dict_getitem(d, probe)
                    .unwrap()
                    .unwrap_or_else(|| panic!("{p} key{i} missing"));
                assert_eq!(o.long_value(v).unwrap(), i as i128);
                o.decref(probe).unwrap();
                assert!(o.is_live(k));
            }
            let first = o.dict_items(d).unwrap()[0].0;
            assert_eq!(o.unicode_text(first).unwrap(), "key0");
            assert!(o.dict_delitem(d, keys[0]).unwrap());
            assert!(!o.is_live(keys[0]), "the dict held the last reference");
            assert!(o.dict_delitem(d, keys[1]).unwrap());
            assert_eq!(o.dict_len(d).unwrap(), 38);
            o.decref(d).unwrap();
            assert!(keys[2..].iter().all(|&k| !o.is_live(k)));
        }
    }

    #[test]
    fn sizes_of_small_dicts_match_cpython() {
        // python3 -c "import sys; print(sys.getsizeof({'a': 1}), sys.getsizeof({1: 1}))"
        for (p, str_keys, int_keys) in [
            (Profile::CPYTHON_3_8, 232, 232),
            (Profile::CPYTHON_3_11, 184, 224),
            (Profile::CPYTHON_3_12, 184, 224),
        ] {
            let mut o = Objects::new(p).unwrap();
            let one = o.long_from_i64(1).unwrap();
            let a = o.unicode_from_str("a").unwrap();
            let d1 = o.dict_new().unwrap();
            o.dict_setitem(d1, a, one).unwrap();
            let d2 = o.dict_new().unwrap();
            o.dict_setitem(d2, one, one).unwrap();
            assert_eq!(o.getsizeof(d1).unwrap(), str_keys, "{p}");
            assert_eq!(o.getsizeof(d2).unwrap(), int_keys, "{p}");
            assert_eq!(o.repr(d1).unwrap(), "{'a': 1}");
        }
    }
}
