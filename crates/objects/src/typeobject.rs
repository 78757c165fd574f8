//! `Objects/typeobject.c`: plain classes (heap types) and their instances, whose attributes
//! share one keys object per class (PEP 412) and keep their values in an array.
//!
//! ```text
//!  3.8–3.10  | PyGC_Head | refcnt | type | __dict__ | __weakref__ |      48 bytes
//!                                            -> dict (split table: keys shared with the class,
//!                                               values in an array of its own, PyMem_Malloc)
//!  3.11      | values | dict | PyGC_Head | refcnt | type | __weakref__ |   56 bytes
//!              -> values array (PyMem_Malloc), no dict object until `__dict__` is asked for
//!  3.12      | weakref | dict_or_values | PyGC_Head | refcnt | type |      48 bytes
//!  3.13      | weakref | dict | PyGC_Head | refcnt | type | values inline ... |
//! ```
//!
//! The class keeps the shared keys (`ht_cached_keys`): 8 slots up to 3.10; from 3.11, 64 slots
//! of which 30 are usable (`SHARED_KEYS_MAX_SIZE`), and each new instance takes one off
//! `dk_usable` (while above 1), so the values arrays shrink as instances are made: measured
//! with `tracemalloc` on 3.11.7, three instances cost 320 (first), 312 and 304 bytes.

use crate::error::ObjError;
use crate::fields::Field;
use crate::heavy::{Body, Heavy};
use crate::slots::{GC, Kind, PREHEADER};
use crate::space::Objects;
use crate::types::TypeId;

/// `SHARED_KEYS_MAX_SIZE` (3.11+).
const SHARED_KEYS_MAX_SIZE: i64 = 30;
/// `NEXT_LOG2_SHARED_KEYS_MAX_SIZE` (3.11+): 64 slots.
const NEXT_LOG2_SHARED_KEYS_MAX_SIZE: u32 = 6;
/// `DICT_KEYS_SPLIT` (3.11+).
const DICT_KEYS_SPLIT: u64 = 2;

/// A heap type's fields the model keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassData {
    /// `ht_name`, a str.
    pub name: u64,
    /// A `__module__` str the class owns ([`Objects::type_new`]'s), or 0 when `__module__` is
    /// the entry of `tp_dict` (a class made by [`Objects::type_new_impl`]).
    pub module: u64,
    /// `tp_dict`.
    pub dict: u64,
    /// `ht_cached_keys`: the keys its instances share, or 0.
    pub cached_keys: u64,
    /// `ht_qualname`, or 0 when it is `ht_name`.
    pub qualname: u64,
    /// `tp_bases`, `(object,)`, or 0.
    pub bases: u64,
    /// `tp_mro`, `(C, object)`: a reference to the class itself, or 0.
    pub mro: u64,
    /// `tp_doc`: a `PyObject_Malloc`ed copy of the docstring's UTF-8, or 0.
    pub doc: u64,
    /// `tp_finalize` is `slot_tp_finalize`: the class's dict has `__del__`.
    pub finalize: bool,
}

/// An instance's fields the model keeps; its attribute values are words in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceData {
    /// `ob_type`: the class.
    pub class: u64,
    /// The `__dict__` object, once there is one (always, once an attribute is set, up to 3.10).
    pub dict: u64,
    /// The values array (3.11, 3.12) or the inline values (3.13), while there is no dict.
    pub values: u64,
    /// `_PyGC_FINALIZED`: its `__del__` has run (PEP 442 runs it once per object).
    pub finalized: bool,
}

impl Objects {
    /// `sizeof(PyHeapTypeObject)`.
    fn heap_type_size(&self) -> u64 {
        match self.layout.minor {
            ..=9 => 880,
            10 => 888,
            11 => 904,
            12 => 920,
            _ => 928,
        }
    }

    /// `PyType_GenericAlloc` of a heap type (`sizeof(PyHeapTypeObject)`, not yet tracked),
    /// holding `name`, `module`, `dict` and `bases` (references stolen).
    fn heap_type_alloc(
        &mut self,
        name: u64,
        module: u64,
        dict: u64,
        bases: u64,
    ) -> Result<u64, ObjError> {
        let size = self.heap_type_size();
        let op = self.malloc_object(size, true)?;
        let data = ClassData {
            name,
            module,
            dict,
            cached_keys: 0,
            qualname: 0,
            bases,
            mro: 0,
            doc: 0,
            finalize: false,
        };
        let word = self.heavy.insert(Heavy {
            ty: TypeId::Type,
            body: Body::Class(data),
        });
        self.install_new(op, size, Kind::Heavy, 0, word, TypeId::Type);
        Ok(op)
    }

    /// `type(name, (), {})` for a plain class: a heap type, its `tp_dict`, and the keys its
    /// instances will share (`_PyDict_NewKeysForClass`).
    pub fn type_new(&mut self, name: &str, module: &str) -> Result<u64, ObjError> {
        let name = self.unicode_from_str(name)?;
        let module = self.unicode_from_str(module)?;
        let dict = self.dict_new()?;
        let op = self.heap_type_alloc(name, module, dict, 0)?;
        self.gc_track(op);
        let keys = self.new_keys_for_class()?;
        self.class_mut(op)?.cached_keys = keys;
        Ok(op)
    }

    /// `_PyDict_NewKeysForClass`.
    fn new_keys_for_class(&mut self) -> Result<u64, ObjError> {
        if self.layout.minor <= 10 {
            return self.keys_object(3, false);
        }
        let keys = self.keys_object(NEXT_LOG2_SHARED_KEYS_MAX_SIZE, true)?;
        // "Set to max size+1 as it will shrink by one before each new object"
        self.mem
            .write_word(keys + 16, SHARED_KEYS_MAX_SIZE as u64)?;
        let w = self.read_word(keys + 8)?;
        self.mem
            .write_word(keys + 8, (w & !(0xff << 16)) | (DICT_KEYS_SPLIT << 16))?;
        Ok(keys)
    }

    /// `type(name, (), namespace)` as `__build_class__` calls it (`type_new` ->
    /// `type_new_impl`, 3.11 and 3.12): `tp_bases` `(object,)`; `tp_dict` a copy of the
    /// namespace (`type_new_init`); the heap type; `ht_qualname` taken out of the dict
    /// (`type_new_set_ht_name`); `tp_doc` a copy of a str `__doc__` (`type_new_set_doc`);
    /// `PyType_Ready`: `tp_mro` `(C, object)`, the `__dict__` and `__weakref__` getset
    /// descriptors (`type_add_getset`, `PyDict_SetDefault`), `__doc__` None when absent
    /// (`type_dict_set_doc`); `fixup_slot_dispatchers` (`tp_finalize` for `__del__`); the keys
    /// its instances will share. Not modelled: `object.__subclasses__`'s weak reference to the
    /// class (`add_subclass`) and the `super` object `type_new_init_subclass` makes and frees.
    pub fn type_new_impl(&mut self, name: u64, orig_dict: u64) -> Result<u64, ObjError> {
        let object = self.type_object(TypeId::Object);
        let bases = self.tuple_pack(&[object])?;
        let dict = self.dict_copy(orig_dict)?;
        self.incref(name)?;
        let op = self.heap_type_alloc(name, 0, dict, bases)?;
        self.incref(object)?; // tp_base
        self.type_new_set_ht_name(op, dict)?;
        self.type_new_set_doc(op, dict)?;
        self.gc_track(op);
        self.type_ready(op, dict)?;
        let del = self.py_id("__del__")?;
        let finalize = self.dict_getitem(dict, del)?.is_some();
        self.class_mut(op)?.finalize = finalize;
        let keys = self.new_keys_for_class()?;
        self.class_mut(op)?.cached_keys = keys;
        Ok(op)
    }

    /// `type_new_set_ht_name`: `__qualname__` from the dict (a str), then deleted from it.
    fn type_new_set_ht_name(&mut self, op: u64, dict: u64) -> Result<(), ObjError> {
        let key = self.py_id("__qualname__")?;
        let Some(q) = self.dict_getitem(dict, key)? else {
            return Ok(());
        };
        if self.type_of(q)? != TypeId::Str {
            return Err(self.wrong_type(q, "str (__qualname__)"));
        }
        self.incref(q)?;
        self.class_mut(op)?.qualname = q;
        self.dict_delitem(dict, key)?;
        Ok(())
    }

    /// `type_new_set_doc`: a str `__doc__` copied, NUL-terminated, into `tp_doc`.
    fn type_new_set_doc(&mut self, op: u64, dict: u64) -> Result<(), ObjError> {
        let key = self.py_id("__doc__")?;
        let Some(doc) = self.dict_getitem(dict, key)? else {
            return Ok(());
        };
        if self.type_of(doc)? != TypeId::Str {
            return Ok(());
        }
        let mut bytes = self.unicode_text(doc)?.into_bytes();
        bytes.push(0);
        let p = self.mem_malloc(bytes.len() as u64)?;
        for (w, chunk) in bytes.chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mem
                .write_word(p + 8 * w as u64, u64::from_le_bytes(word))?;
        }
        self.class_mut(op)?.doc = p;
        Ok(())
    }

    /// `type_ready` of a new class: `tp_mro` (`mro_implementation`'s single-base path: the
    /// class, then its base's mro), then `type_ready_fill_dict`.
    fn type_ready(&mut self, op: u64, dict: u64) -> Result<(), ObjError> {
        let object = self.type_object(TypeId::Object);
        let mro = self.tuple_pack(&[op, object])?;
        self.class_mut(op)?.mro = mro;
        for name in ["__dict__", "__weakref__"] {
            // PyDescr_NewGetSet: d_type and d_name (PyUnicode_InternFromString) referenced.
            let descr = self.fields_new(TypeId::GetSetDescr, 0)?;
            self.incref(op)?;
            self.set_field(descr, Field::DescrType, op)?;
            let n = self.py_id(name)?;
            self.incref(n)?;
            self.set_field(descr, Field::DescrName, n)?;
            if self.dict_getitem(dict, n)?.is_none() {
                self.dict_setitem(dict, n, descr)?;
            }
            self.decref(descr)?;
        }
        let key = self.py_id("__doc__")?;
        if self.dict_getitem(dict, key)?.is_none() {
            let none = self.none();
            self.dict_setitem(dict, key, none)?;
        }
        Ok(())
    }

    /// The class's `__module__`: its own str, or its dict's entry (borrowed; 0 if none).
    fn type_module(&mut self, c: &ClassData) -> Result<u64, ObjError> {
        if c.module != 0 {
            return Ok(c.module);
        }
        let key = self.py_id("__module__")?;
        Ok(self.dict_getitem(c.dict, key)?.unwrap_or(0))
    }

    /// `type.__name__` or `type.__qualname__` of a class (borrowed).
    pub fn class_name(&self, op: u64, qualified: bool) -> Result<u64, ObjError> {
        let c = self.class_data(op)?;
        Ok(if qualified && c.qualname != 0 {
            c.qualname
        } else {
            c.name
        })
    }

    /// `Py_TYPE(op)->tp_name`: a plain class's instance names its class (`__name__`), any
    /// other object its built-in type.
    pub fn tp_name(&self, op: u64) -> Result<String, ObjError> {
        match self.type_of(op)? {
            TypeId::Instance => self.unicode_text(self.class_name(self.class_of(op)?, false)?),
            ty => Ok(ty.name().to_string()),
        }
    }

    /// `tp_dict` of a class (borrowed).
    pub fn class_dict(&self, op: u64) -> Result<u64, ObjError> {
        Ok(self.class_data(op)?.dict)
    }

    /// `type.__basicsize__` of a plain class.
    pub fn class_basicsize(&self) -> u64 {
        self.instance_basicsize()
    }

    /// `tp_mro` or `tp_bases` of a class (borrowed).
    pub fn class_tuple(&self, op: u64, mro: bool) -> Result<u64, ObjError> {
        let c = self.class_data(op)?;
        let t = if mro { c.mro } else { c.bases };
        if t == 0 {
            return Err(ObjError::NotModelled {
                what: "the bases of a class made without them",
            });
        }
        Ok(t)
    }

    /// Whether `op` is a class (a heap type) the model made.
    pub fn is_class(&self, op: u64) -> bool {
        matches!(self.heavy_of(op).map(|h| &h.body), Some(Body::Class(_)))
    }

    /// `type_setattro` on a class: the dict entry set, then `update_slot` (`__del__` sets or
    /// clears `tp_finalize`).
    pub fn class_setattr(&mut self, op: u64, name: u64, value: u64) -> Result<(), ObjError> {
        self.attribute_name(name)?;
        let c = self.class_data(op)?;
        self.dict_setitem(c.dict, name, value)?;
        if self.unicode_text(name)? == "__del__" {
            self.class_mut(op)?.finalize = true;
        }
        Ok(())
    }

    pub(crate) fn class_data(&self, op: u64) -> Result<ClassData, ObjError> {
        match self.heavy_of(op).map(|h| &h.body) {
            Some(Body::Class(c)) => Ok(*c),
            _ => Err(self.wrong_type(op, "class")),
        }
    }

    fn class_mut(&mut self, op: u64) -> Result<&mut ClassData, ObjError> {
        let err = self.wrong_type(op, "class");
        match self.heavy_mut(op).map(|h| &mut h.body) {
            Some(Body::Class(c)) => Ok(c),
            _ => Err(err),
        }
    }

    pub(crate) fn instance_data(&self, op: u64) -> Result<InstanceData, ObjError> {
        match self.heavy_of(op).map(|h| &h.body) {
            Some(Body::Instance(i)) => Ok(*i),
            _ => Err(self.wrong_type(op, "instance")),
        }
    }

    fn instance_mut(&mut self, op: u64) -> Result<&mut InstanceData, ObjError> {
        let err = self.wrong_type(op, "instance");
        match self.heavy_mut(op).map(|h| &mut h.body) {
            Some(Body::Instance(i)) => Ok(i),
            _ => Err(err),
        }
    }

    /// How many values an instance's values array has: its class's shared keys' `dk_nentries`.
    pub(crate) fn instance_nvalues(&self, class: u64) -> Result<u64, ObjError> {
        let c = self.class_data(class)?;
        self.read_word(c.cached_keys + 24)
    }

    /// The class of an instance.
    pub fn class_of(&self, op: u64) -> Result<u64, ObjError> {
        Ok(self.instance_data(op)?.class)
    }

    /// `tp_basicsize` of a plain class's instances: `__dict__` and `__weakref__` slots up to
    /// 3.10; from 3.11 the dict moves before the object, from 3.12 the weakref too.
    pub(crate) fn instance_basicsize(&self) -> u64 {
        match self.layout.minor {
            ..=10 => 32,
            11 => 24,
            _ => 16,
        }
    }

    /// `C()` (`object_new` -> `PyType_GenericAlloc`): a new instance, with a reference to its
    /// class; from 3.11 its values array (or inline values) is ready, every value NULL.
    pub fn instance_new(&mut self, class: u64) -> Result<u64, ObjError> {
        let c = self.class_data(class)?;
        let minor = self.layout.minor;
        let preheader = if minor >= 11 { 16 } else { 0 };
        // The object and, on 3.13, its inline values (_PyInlineValuesSize, computed before the
        // instance takes one off dk_usable); the words before it come on top.
        let mut nbytes = self.instance_basicsize();
        if minor >= 13 {
            let size = self.shared_keys_usable_size(c.cached_keys)?;
            nbytes += size.next_multiple_of(8) + (size + 1) * 8;
        }
        let block_op = self.malloc_object(preheader + nbytes, true)?;
        let op = block_op + preheader;
        let word = self.heavy.insert(Heavy {
            ty: TypeId::Instance,
            body: Body::Instance(InstanceData {
                class,
                dict: 0,
                values: 0,
                finalized: false,
            }),
        });
        let flags = GC | if preheader != 0 { PREHEADER } else { 0 };
        self.install_new(op, nbytes, Kind::Heavy, flags, word, TypeId::Instance);
        self.incref(class)?;
        if minor >= 11 {
            let values = self.init_values(op, c.cached_keys)?;
            self.instance_mut(op)?.values = values;
        }
        self.gc_track(op);
        Ok(op)
    }

    /// `shared_keys_usable_size`: `dk_nentries + dk_usable`.
    fn shared_keys_usable_size(&self, keys: u64) -> Result<u64, ObjError> {
        Ok(self.read_word(keys + 24)? + self.read_word(keys + 16)?)
    }

    /// `init_inline_values` (3.11, 3.12: `new_values` in a block of its own) or
    /// `_PyObject_InitInlineValues` (3.13: after the object): one off `dk_usable` while above
    /// 1, then an array of `dk_nentries + dk_usable` NULL values.
    fn init_values(&mut self, op: u64, keys: u64) -> Result<u64, ObjError> {
        let usable = self.read_word(keys + 16)? as i64;
        if usable > 1 {
            self.mem.write_word(keys + 16, (usable - 1) as u64)?;
        }
        let size = self.shared_keys_usable_size(keys)?;
        if self.layout.minor >= 13 {
            // struct { uint8_t capacity, size, embedded, valid; PyObject *values[]; }
            let values = op + self.instance_basicsize() + 8;
            self.mem
                .write_word(values - 8, size | (1 << 16) | (1 << 24))?;
            for i in 0..size {
                self.mem.write_word(values + 8 * i, 0)?;
            }
            return Ok(values);
        }
        // new_values: a prefix of size + 2 bytes rounded to a word (the insertion order, its
        // length, and the prefix's own size in its last byte), then the values.
        let prefix = (size + 2).next_multiple_of(8);
        let mem = self.mem_malloc(prefix + size * 8)?;
        for w in 0..prefix / 8 {
            self.mem.write_word(mem + 8 * w, 0)?;
        }
        let values = mem + prefix;
        self.mem.write_word(values - 8, prefix << 56)?;
        for i in 0..size {
            self.mem.write_word(values + 8 * i, 0)?;
        }
        Ok(values)
    }

    /// `_PyDictValues_AddToInsertionOrder`: `ix` goes at the end of the order array.
    pub(crate) fn add_to_insertion_order(&mut self, values: u64, ix: u64) -> Result<(), ObjError> {
        if self.layout.minor >= 13 {
            let header = self.read_word(values - 8)?;
            let (capacity, size) = (header & 0xff, (header >> 8) & 0xff);
            let at = values + 8 * capacity + size;
            self.write_byte(at, ix as u8)?;
            return Ok(self
                .mem
                .write_word(values - 8, (header & !0xff00) | ((size + 1) << 8))?);
        }
        let size = (self.read_word(values - 8)? >> 48) & 0xff;
        self.write_byte(values - 3 - size, ix as u8)?;
        self.write_byte(values - 2, (size + 1) as u8)
    }

    /// `delete_index_from_values`: `ix` leaves the order array (3.11, 3.12: in the prefix,
    /// read backwards; 3.13: after the values), the later entries moving up one.
    pub(crate) fn delete_index_from_values(
        &mut self,
        values: u64,
        ix: u64,
    ) -> Result<(), ObjError> {
        if self.layout.minor >= 13 {
            let header = self.read_word(values - 8)?;
            let (capacity, size) = (header & 0xff, (header >> 8) & 0xff);
            let array = values + 8 * capacity;
            let byte = |o: &Objects, at: u64| -> Result<u64, ObjError> {
                Ok((o.read_word(at & !7)? >> ((at & 7) * 8)) & 0xff)
            };
            let mut i = 0;
            while i < size && byte(self, array + i)? != ix {
                i += 1;
            }
            while i + 1 < size {
                let next = byte(self, array + i + 1)?;
                self.write_byte(array + i, next as u8)?;
                i += 1;
            }
            let size = size.saturating_sub(1);
            return Ok(self
                .mem
                .write_word(values - 8, (header & !0xff00) | (size << 8))?);
        }
        let size = (self.read_word(values - 8)? >> 48) & 0xff;
        let byte = |o: &Objects, at: u64| -> Result<u64, ObjError> {
            Ok((o.read_word(at & !7)? >> ((at & 7) * 8)) & 0xff)
        };
        let mut i = 1;
        while i <= size && byte(self, values - 2 - i)? != ix {
            i += 1;
        }
        while i < size {
            let next = byte(self, values - 3 - i)?;
            self.write_byte(values - 2 - i, next as u8)?;
            i += 1;
        }
        self.write_byte(values - 2, size.saturating_sub(1) as u8)
    }

    fn write_byte(&mut self, at: u64, b: u8) -> Result<(), ObjError> {
        let word = self.read_word(at & !7)?;
        let shift = (at & 7) * 8;
        let new = (word & !(0xff << shift)) | (u64::from(b) << shift);
        Ok(self.mem.write_word(at & !7, new)?)
    }

    /// `setattr(obj, name, value)` (`PyObject_GenericSetAttr`) for an instance of a plain
    /// class; the instance takes a new reference to `value`.
    pub fn instance_setattr(&mut self, op: u64, name: u64, value: u64) -> Result<(), ObjError> {
        self.live_view(op)?;
        self.live_view(value)?;
        let i = self.instance_data(op)?;
        self.attribute_name(name)?;
        let c = self.class_data(i.class)?;
        if self.layout.minor <= 10 {
            return self.object_dict_setitem(op, i, c, name, value);
        }
        let values = self.live_values(&i)?;
        if values == 0 {
            // The dict holds the attributes (3.13: made now if the inline values were
            // cleared, PyObject_GenericGetDict).
            let dict = match i.dict {
                0 => self.instance_dict_new(op)?,
                d => d,
            };
            return self.dict_setitem(dict, name, value);
        }
        // _PyObject_StoreInstanceAttribute (3.13: store_instance_attr_lock_held, also while a
        // materialized __dict__ shares the inline values)
        let ix = self.insert_into_dictkeys(c.cached_keys, name)?;
        let Some(ix) = ix else {
            let dict = match i.dict {
                0 => self.make_dict_from_instance_attributes(op)?,
                d => d,
            };
            return self.dict_setitem(dict, name, value);
        };
        self.incref(value)?;
        let old = self.read_word(values + 8 * ix)?;
        self.mem.write_word(values + 8 * ix, value)?;
        if old == 0 {
            self.add_to_insertion_order(values, ix)?;
            if i.dict != 0 {
                self.dict_data_mut(i.dict)?.used += 1;
            }
            Ok(())
        } else {
            self.decref(old)
        }
    }

    /// The values holding an instance's attributes, or 0: 3.11's and 3.12's array until a
    /// dict takes it over; 3.13's inline values while `valid` (a resized `__dict__` or
    /// `subtype_clear` ends that).
    pub(crate) fn live_values(&self, i: &InstanceData) -> Result<u64, ObjError> {
        if i.values != 0
            && self.layout.minor >= 13
            && (self.read_word(i.values - 8)? >> 24) & 0xff == 0
        {
            return Ok(0);
        }
        Ok(i.values)
    }

    /// 3.13: an empty dict for an instance whose inline values are no longer valid
    /// (`_PyObject_MaterializeManagedDict`'s `PyDict_New`), published in the object.
    fn instance_dict_new(&mut self, op: u64) -> Result<u64, ObjError> {
        let dict = self.dict_new()?;
        self.instance_mut(op)?.dict = dict;
        Ok(dict)
    }

    /// `PyObject_SetAttr` and `PyObject_GetAttr`: "attribute name must be string" (a
    /// `TypeError`) for anything but a live str.
    fn attribute_name(&self, name: u64) -> Result<(), ObjError> {
        self.live_view(name)?;
        if self.type_of(name)? != TypeId::Str {
            return Err(self.wrong_type(name, "str (an attribute name)"));
        }
        Ok(())
    }

    /// `_PyObjectDict_SetItem` (3.8–3.10): the instance's dict, made on first use as a split
    /// table sharing the class's keys; if the insertion made it combined, the class shares the
    /// new keys when this dict was their only user (`make_keys_shared`), else none.
    fn object_dict_setitem(
        &mut self,
        op: u64,
        i: InstanceData,
        c: ClassData,
        name: u64,
        value: u64,
    ) -> Result<(), ObjError> {
        let mut dict = i.dict;
        if dict == 0 {
            dict = if c.cached_keys != 0 {
                let size = ((8u64 << self.read_keys_log2(c.cached_keys)?) >> 3) * 2 / 3;
                let values = self.mem_malloc(size * 8)?;
                for k in 0..size {
                    self.mem.write_word(values + 8 * k, 0)?;
                }
                self.dict_new_split(c.cached_keys, values, 0)?
            } else {
                self.dict_new()?
            };
            self.instance_mut(op)?.dict = dict;
        }
        let was_shared = c.cached_keys != 0 && self.dict_data(dict)?.keys == c.cached_keys;
        self.dict_setitem(dict, name, value)?;
        let keys_now = self.dict_data(dict)?.keys;
        if was_shared && keys_now != c.cached_keys {
            let refcnt = self.read_word(c.cached_keys)?;
            let shared = if refcnt == 1 {
                self.make_keys_shared(dict)?
            } else {
                0
            };
            self.class_mut(i.class)?.cached_keys = shared;
            self.dictkeys_decref(c.cached_keys)?;
        }
        Ok(())
    }

    fn read_keys_log2(&self, keys: u64) -> Result<u32, ObjError> {
        Ok(self.read_word(keys + 8)?.trailing_zeros())
    }

    /// `make_keys_shared` (3.8–3.10): a combined dict becomes split again (its values move to
    /// an array of their own) and its keys are shared.
    fn make_keys_shared(&mut self, dict: u64) -> Result<u64, ObjError> {
        let d = self.dict_data(dict)?;
        if d.values == 0 {
            let log2 = self.read_keys_log2(d.keys)?;
            let size = ((1u64 << log2) << 1) / 3;
            let values = self.mem_malloc(size * 8)?;
            // The entries follow the indices: 1 byte each below 256 slots, 2 from 256.
            let entries = d.keys + 40 + (crate::dict::index_bytes(log2) << log2);
            for k in 0..size {
                let v = self.read_word(entries + 24 * k + 16)?;
                self.mem.write_word(values + 8 * k, v)?;
                self.mem.write_word(entries + 24 * k + 16, 0)?;
            }
            self.set_dict_values(dict, values)?;
        }
        self.dictkeys_incref(d.keys)?;
        Ok(d.keys)
    }

    /// `insert_into_dictkeys` (3.11+): the index of `name` in the shared keys, appended when
    /// new and there is room; `None` when it cannot be shared (no room, or not an exact str).
    fn insert_into_dictkeys(&mut self, keys: u64, name: u64) -> Result<Option<u64>, ObjError> {
        if self.type_of(name)? != TypeId::Str {
            return Ok(None);
        }
        self.shared_keys_insert(keys, name)
    }

    /// `make_dict_from_instance_attributes`: a dict sharing the class's keys and the
    /// instance's values array; the instance then points at the dict, which on 3.11 and 3.12
    /// takes the array over, while on 3.13 the inline values stay the object's
    /// (`_PyObject_MaterializeManagedDict`; a new empty dict once they are not `valid`).
    fn make_dict_from_instance_attributes(&mut self, op: u64) -> Result<u64, ObjError> {
        let i = self.instance_data(op)?;
        let c = self.class_data(i.class)?;
        let minor = self.layout.minor;
        if self.live_values(&i)? == 0 {
            return self.instance_dict_new(op);
        }
        let header = self.read_word(i.values - 8)?;
        let used = if minor >= 13 {
            header >> 8
        } else {
            header >> 48
        } & 0xff;
        let dict = self.dict_new_split(c.cached_keys, i.values, used)?;
        // "track all the values": the dict is tracked if a value may be.
        let size = self.shared_keys_usable_size(c.cached_keys)?;
        for ix in 0..size {
            let v = self.read_word(i.values + 8 * ix)?;
            let ty = if v == 0 { None } else { self.type_of(v).ok() };
            if ty.is_some_and(|t| {
                t.is_gc_in(self.layout.minor) && (t != TypeId::Tuple || self.gc_is_tracked(v))
            }) {
                self.gc_track(dict);
                break;
            }
        }
        let inst = self.instance_mut(op)?;
        inst.dict = dict;
        if minor <= 12 {
            inst.values = 0;
        }
        Ok(dict)
    }

    /// `obj.__dict__`: the dict holding the instance's attributes (made now from 3.11 if there
    /// is none; up to 3.10 made empty if no attribute was ever set). A new reference.
    pub fn instance_dict(&mut self, op: u64) -> Result<u64, ObjError> {
        self.live_view(op)?;
        let i = self.instance_data(op)?;
        let dict = match (i.dict, self.layout.minor) {
            (0, ..=10) => {
                let d = self.dict_new()?;
                self.instance_mut(op)?.dict = d;
                d
            }
            (0, _) => self.make_dict_from_instance_attributes(op)?,
            (d, _) => d,
        };
        self.incref(dict)?;
        Ok(dict)
    }

    /// `getattr(obj, name)` for an attribute of the instance itself: a borrowed reference.
    pub fn instance_getattr(&mut self, op: u64, name: u64) -> Result<Option<u64>, ObjError> {
        self.live_view(op)?;
        let i = self.instance_data(op)?;
        self.attribute_name(name)?;
        if i.dict != 0 {
            return self.dict_getitem(i.dict, name);
        }
        let values = self.live_values(&i)?;
        if values == 0 {
            return Ok(None);
        }
        let c = self.class_data(i.class)?;
        match self.shared_keys_lookup(c.cached_keys, name)? {
            Some(ix) => Ok(Some(self.read_word(values + 8 * ix)?).filter(|&v| v != 0)),
            None => Ok(None),
        }
    }

    /// `subtype_dealloc` for a plain class's instance: untrack; release the dict, or the values
    /// (forwards) and their array (3.13: `PyObject_ClearManagedDict`); free the object; then
    /// release the class.
    pub(crate) fn instance_dealloc(&mut self, op: u64) -> Result<(), ObjError> {
        let i = self.instance_data(op)?;
        self.gc_untrack(op)?;
        if self.class_data(i.class)?.finalize && !i.finalized {
            // PyObject_CallFinalizerFromDealloc: tracked again, the count set back to 1 while
            // `__del__` runs. The model's object layer cannot call Python code, so the
            // interpreter runs it ([`Objects::take_pending_finalizers`]) once the instruction
            // that dropped the last reference is done, then drops that reference again.
            self.gc_track(op);
            self.new_reference(op);
            self.pending_finalizers.push(op);
            return Ok(());
        }
        if !self.trashcan_begin(op) {
            return Ok(());
        }
        if self.layout.minor >= 13 {
            self.clear_managed_dict(op)?;
        } else if i.dict != 0 {
            self.instance_mut(op)?.dict = 0;
            self.decref(i.dict)?;
        } else if i.values != 0 {
            // _PyObject_FreeInstanceAttributes
            for r in self.referents(op)? {
                if let crate::traverse::Edge::Values(_) = r.edge {
                    self.c_xdecref(r.target)?;
                }
            }
            self.free_values(i.values)?;
        }
        self.free_object(op)?;
        self.trashcan_end()?;
        self.decref(i.class)
    }

    /// `subtype_clear` of an instance of a plain class: its attributes released in index
    /// order, each slot set to NULL first (`Py_CLEAR`). 3.11's `_PyObject_ClearInstanceAttributes`
    /// leaves the values array for the deallocator; 3.12's `_PyObject_ClearManagedDict` frees
    /// it; 3.13's is [`Objects::clear_managed_dict`]. An instance whose `__dict__` was made
    /// has it released instead.
    pub(crate) fn instance_clear(&mut self, op: u64) -> Result<(), ObjError> {
        if self.layout.minor >= 13 {
            return self.clear_managed_dict(op);
        }
        let i = self.instance_data(op)?;
        if i.values != 0 {
            for ix in 0..self.instance_nvalues(i.class)? {
                let at = i.values + 8 * ix;
                let v = self.read_word(at)?;
                if v != 0 {
                    self.mem.write_word(at, 0)?;
                    self.decref(v)?;
                }
            }
            if self.layout.minor >= 12 {
                self.instance_mut(op)?.values = 0;
                self.free_values(i.values)?;
            }
        }
        if i.dict != 0 {
            self.instance_mut(op)?.dict = 0;
            self.decref(i.dict)?;
        }
        Ok(())
    }

    /// 3.13's `PyObject_ClearManagedDict` (`subtype_dealloc` and `subtype_clear`): without a
    /// dict, `clear_inline_values`; a dict still sharing the inline values first gets a copy
    /// of them (`_PyDict_DetachFromObject`), then the dict is released.
    fn clear_managed_dict(&mut self, op: u64) -> Result<(), ObjError> {
        let i = self.instance_data(op)?;
        let values = self.live_values(&i)?;
        if i.dict == 0 {
            if values != 0 {
                self.clear_inline_values(values)?;
            }
            return Ok(());
        }
        if values != 0 && self.dict_data(i.dict)?.values == values {
            self.detach_from_object(i.dict, values)?;
        }
        self.instance_mut(op)?.dict = 0;
        self.decref(i.dict)
    }

    /// 3.13's `clear_inline_values`: no longer `valid`, then each of the `capacity` values
    /// cleared (`Py_CLEAR`) in index order.
    fn clear_inline_values(&mut self, values: u64) -> Result<(), ObjError> {
        let header = self.read_word(values - 8)?;
        self.mem.write_word(values - 8, header & !(0xff << 24))?;
        for ix in 0..header & 0xff {
            let v = self.read_word(values + 8 * ix)?;
            if v != 0 {
                self.mem.write_word(values + 8 * ix, 0)?;
                self.decref(v)?;
            }
        }
        Ok(())
    }

    /// 3.13's `_PyDict_DetachFromObject`: the dict gets its own copy of the inline values
    /// (`copy_values`: `new_values(capacity)`, a `PyMem_Malloc` of the header word, the values
    /// and the order array rounded to a word, with the size, order and values copied; its
    /// references move with them), and the object's are no longer `valid`.
    fn detach_from_object(&mut self, dict: u64, values: u64) -> Result<(), ObjError> {
        let header = self.read_word(values - 8)?;
        let capacity = header & 0xff;
        let order_words = capacity.div_ceil(8);
        let mem = self.mem_malloc((capacity + 1) * 8 + order_words * 8)?;
        let copy = mem + 8;
        // capacity and size; embedded 0 (valid is not set by new_values: left 0).
        self.mem.write_word(mem, header & 0xffff)?;
        for w in 0..capacity + order_words {
            let word = self.read_word(values + 8 * w)?;
            self.mem.write_word(copy + 8 * w, word)?;
        }
        self.set_dict_values(dict, copy)?;
        self.mem.write_word(values - 8, header & !(0xff << 24))?;
        Ok(())
    }

    /// The instances whose `__del__` is due (`slot_tp_finalize`), in the order their counts
    /// reached zero; the caller runs each, calls [`Objects::set_finalized`], and releases the
    /// reference the instance was given back.
    pub fn take_pending_finalizers(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.pending_finalizers)
    }

    /// Whether some instance's `__del__` is due.
    #[inline]
    pub fn finalizers_due(&self) -> bool {
        !self.pending_finalizers.is_empty()
    }

    /// Whether the instance's class has `__del__` (`tp_finalize`) and it has not run yet
    /// (`_PyGC_FINALIZED`): what `finalize_garbage` would call.
    pub fn has_finalizer_due(&self, op: u64) -> Result<bool, ObjError> {
        let i = self.instance_data(op)?;
        Ok(self.class_data(i.class)?.finalize && !i.finalized)
    }

    /// `_PyGC_SET_FINALIZED`: the instance's `__del__` has run.
    pub fn set_finalized(&mut self, op: u64) -> Result<(), ObjError> {
        self.instance_mut(op)?.finalized = true;
        Ok(())
    }

    /// `type_dealloc` for a heap type: the references [`Objects::referents`] lists (base,
    /// dict, bases, mro, names), its doc, its shared keys, then itself.
    pub(crate) fn class_dealloc(&mut self, op: u64) -> Result<(), ObjError> {
        let c = self.class_data(op)?;
        self.gc_untrack(op)?;
        for r in self.referents(op)? {
            self.decref(r.target)?;
        }
        if c.doc != 0 {
            self.mem_free(c.doc)?;
        }
        if c.cached_keys != 0 {
            self.dictkeys_decref(c.cached_keys)?;
        }
        self.free_object(op)
    }

    /// `type.__sizeof__` of a heap type: the struct and its shared keys.
    pub(crate) fn class_sizeof(&self, op: u64) -> Result<u64, ObjError> {
        let c = self.class_data(op)?;
        let keys = if c.cached_keys == 0 {
            0
        } else {
            self.keys_size(c.cached_keys)?
        };
        Ok(self.heap_type_size() + keys)
    }

    /// `repr` of an instance (`object_repr`): `<module.Qualname object at 0x...>`.
    pub(crate) fn instance_repr(&mut self, op: u64, class: u64) -> Result<String, ObjError> {
        let c = self.class_data(class)?;
        for special in ["__repr__", "__str__"] {
            let key = self.py_id(special)?;
            if self.dict_getitem(c.dict, key)?.is_some() {
                return Err(ObjError::NotModelled {
                    what: "a class's own __repr__ or __str__ (slot_tp_repr, Python code)",
                });
            }
        }
        let name = self.qualified_name(class)?;
        Ok(format!("<{name} object at {op:#x}>"))
    }

    /// `repr` of a class (`type_repr`): `<class 'module.Qualname'>`.
    pub(crate) fn class_repr(&mut self, op: u64) -> Result<String, ObjError> {
        let name = self.qualified_name(op)?;
        Ok(format!("<class '{name}'>"))
    }

    /// `module.Qualname`, or `Qualname` alone when the module is `builtins` or not a str.
    fn qualified_name(&mut self, op: u64) -> Result<String, ObjError> {
        let c = self.class_data(op)?;
        let q = self.unicode_text(self.class_name(op, true)?)?;
        let module = self.type_module(&c)?;
        if module != 0 && self.type_of(module)? == TypeId::Str {
            let m = self.unicode_text(module)?;
            if m != "builtins" {
                return Ok(format!("{m}.{q}"));
            }
        }
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use crate::{ObjEvent, Objects};
    use pymalloc::Profile;

    /// Bytes asked of the allocator for the values arrays while `f` runs.
    fn buffers(o: &mut Objects, f: impl FnOnce(&mut Objects) -> u64) -> (u64, Vec<u64>) {
        o.set_trace(true);
        let op = f(o);
        let sizes = o
            .take_trace()
            .into_iter()
            .filter_map(|e| match e {
                ObjEvent::BufferAlloc { nbytes, .. } => Some(nbytes),
                _ => None,
            })
            .collect();
        o.set_trace(false);
        (op, sizes)
    }

    #[test]
    fn instances_cost_what_tracemalloc_measures() {
        // tracemalloc.get_traced_memory() around each `C()` of a fresh class, less the reading's
        // own int (tests/captures/objects_instances): 3.11.7 320, 312, 304 bytes (56 + 264,
        // 56 + 256, 56 + 248); 3.12.1 312, 304, 296; 3.13.0 328, 320, 312. 3.8 and 3.10: 48
        // each; the first attribute adds 104 (a dict of 64 and a values array of 5 words) when
        // the dict free list is empty.
        for (p, instance, values) in [
            (Profile::CPYTHON_3_8, 48, vec![]),
            (Profile::CPYTHON_3_11, 56, vec![264, 256, 248]),
            (Profile::CPYTHON_3_12, 48, vec![264, 256, 248]),
        ] {
            let mut o = Objects::new(p).unwrap();
            let c = o.type_new("C", "__main__").unwrap();
            let mut got = Vec::new();
            for _ in 0..3 {
                let (x, sizes) = buffers(&mut o, |o| o.instance_new(c).unwrap());
                assert_eq!(o.getsizeof(x).unwrap(), instance, "{p}");
                got.extend(sizes);
            }
            assert_eq!(got, values, "{p}");
        }
        // 3.13: the values are inside the object: 48 + prefix + (size + 1) words.
        let mut o = Objects::new(Profile::CPYTHON_3_13).unwrap();
        let c = o.type_new("C", "__main__").unwrap();
        let _first = o.instance_new(c).unwrap();
        let second = o.instance_new(c).unwrap();
        let block = o.allocator().what_is_at(second - 32).unwrap();
        let pymalloc::Location::Block(b) = block else {
            panic!("{block}")
        };
        assert_eq!(b.size, 320, "48 + 32 + 30 * 8, in a 320-byte block");
    }

    #[test]
    fn attributes_share_keys_and_die_in_insertion_order() {
        for p in Profile::ALL {
            let mut o = Objects::new(p).unwrap();
            let c = o.type_new("C", "__main__").unwrap();
            let x = o.instance_new(c).unwrap();
            let y = o.instance_new(c).unwrap();
            let names: Vec<u64> = ["a", "b", "c", "d", "e", "f", "g"]
                .iter()
                .map(|n| o.unicode_from_str(n).unwrap())
                .collect();
            let mut values = Vec::new();
            for (k, &n) in names.iter().enumerate() {
                let v = o.long_from_i64(1000 + k as i64).unwrap();
                o.instance_setattr(x, n, v).unwrap();
                o.decref(v).unwrap();
                values.push(v);
            }
            let b = o.instance_getattr(x, names[1]).unwrap().unwrap();
            assert_eq!(o.long_value(b).unwrap(), 1001, "{p}");
            assert_eq!(o.instance_getattr(y, names[1]).unwrap(), None, "{p}");
            let one = o.long_from_i64(5000).unwrap();
            o.instance_setattr(y, names[0], one).unwrap();
            o.decref(one).unwrap();
            assert_eq!(o.repr(x).unwrap(), format!("<__main__.C object at {x:#x}>"));
            assert_eq!(o.repr(c).unwrap(), "<class '__main__.C'>");
            o.set_trace(true);
            o.decref(x).unwrap();
            let order: Vec<u64> = o
                .take_trace()
                .into_iter()
                .filter_map(|e| match e {
                    ObjEvent::Dealloc {
                        op,
                        ty: crate::TypeId::Int,
                    } => Some(op),
                    _ => None,
                })
                .collect();
            assert_eq!(order, values, "{p}: forwards, as a b c d e f g");
            o.decref(y).unwrap();
            o.decref(c).unwrap();
            assert!(!o.is_live(c), "{p}: the last instance let go of its class");
        }
    }

    #[test]
    fn an_instance_dict_stays_split_from_3_11() {
        // x = C(); x.a = 1; d = x.__dict__; d['z'] = 3; del d['a']; y = C(); y.q = 5:
        // getsizeof(d) 104, 104, 232 on 3.10.13 (combined by the del); 296 throughout on 3.11.7
        // and 3.12.1 (the key z joins the shared keys, the del happens in place); y's dict 104
        // and 288.
        for (p, sizes, y_size) in [
            (Profile::CPYTHON_3_10, [104, 104, 232], 104),
            (Profile::CPYTHON_3_11, [296, 296, 296], 288),
            (Profile::CPYTHON_3_12, [296, 296, 296], 288),
        ] {
            let mut o = Objects::new(p).unwrap();
            let c = o.type_new("C", "__main__").unwrap();
            let x = o.instance_new(c).unwrap();
            let [a, z, q] = ["a", "z", "q"].map(|n| o.unicode_from_str(n).unwrap());
            let [one, three, five] = [1, 3, 5].map(|v| o.long_from_i64(v).unwrap());
            o.instance_setattr(x, a, one).unwrap();
            let d = o.instance_dict(x).unwrap();
            let mut got = vec![o.getsizeof(d).unwrap()];
            o.dict_setitem(d, z, three).unwrap();
            got.push(o.getsizeof(d).unwrap());
            assert!(o.dict_delitem(d, a).unwrap());
            got.push(o.getsizeof(d).unwrap());
            assert_eq!(got, sizes, "{p}");
            let items = o.dict_items(d).unwrap();
            assert_eq!(items.len(), 1);
            assert_eq!(o.unicode_text(items[0].0).unwrap(), "z");
            let y = o.instance_new(c).unwrap();
            o.instance_setattr(y, q, five).unwrap();
            let dy = o.instance_dict(y).unwrap();
            assert_eq!(o.getsizeof(dy).unwrap(), y_size, "{p}");
        }
    }

    /// The namespace a class body filled in: `__module__`, `__qualname__`, a docstring and an
    /// entry standing for a method (any object does here), plus `extra` entries.
    fn namespace(o: &mut Objects, extra: &[&str]) -> (u64, u64) {
        let ns = o.dict_new().unwrap();
        let name = o.unicode_from_str("D").unwrap();
        let main = o.unicode_from_str("__main__").unwrap();
        let doc = o.unicode_from_str("A doc.").unwrap();
        let one = o.long_from_i64(1).unwrap();
        for (key, value) in [
            ("__module__", main),
            ("__qualname__", name),
            ("__doc__", doc),
            ("m", one),
        ] {
            let k = o.unicode_from_str(key).unwrap();
            o.dict_setitem(ns, k, value).unwrap();
        }
        for key in extra {
            let k = o.unicode_from_str(key).unwrap();
            o.dict_setitem(ns, k, one).unwrap();
        }
        (ns, name)
    }

    #[test]
    fn type_new_copies_the_namespace_as_cpython_does() {
        // list(D.__dict__) on 3.11.7 and 3.12.1 for `class D: "A doc."; m = 1`:
        // ['__module__', '__doc__', 'm', '__dict__', '__weakref__']; sys.getrefcount(D) 5
        // (the module's name, tp_mro, the two getset descriptors, the argument). 3.13.0 the same
        // but for the two names its class bodies store, which stay in the dict:
        // ['__module__', '__firstlineno__', '__doc__', 'm', '__static_attributes__', ...].
        for p in [
            Profile::CPYTHON_3_11,
            Profile::CPYTHON_3_12,
            Profile::CPYTHON_3_13,
        ] {
            let mut o = Objects::new(p).unwrap();
            let (ns, name) = namespace(&mut o, &[]);
            let c = o.type_new_impl(name, ns).unwrap();
            let dict = o.class_dict(c).unwrap();
            let keys: Vec<String> = o
                .dict_items(dict)
                .unwrap()
                .into_iter()
                .map(|(k, _)| o.unicode_text(k).unwrap())
                .collect();
            assert_eq!(
                keys,
                ["__module__", "__doc__", "m", "__dict__", "__weakref__"]
            );
            assert_eq!(
                o.refcnt(c).unwrap(),
                4,
                "{p}: one reference, tp_mro, two descriptors"
            );
            assert_eq!(o.repr(c).unwrap(), "<class '__main__.D'>");
            assert_eq!(
                o.dict_len(ns).unwrap(),
                4,
                "{p}: the namespace keeps __qualname__"
            );
            let x = o.instance_new(c).unwrap();
            assert_eq!(o.refcnt(c).unwrap(), 5, "{p}: the instance holds its class");
            o.decref(x).unwrap();
            assert!(o.take_pending_finalizers().is_empty(), "{p}: no __del__");
        }
    }

    #[test]
    fn a_finalizer_is_due_once_per_instance() {
        let mut o = Objects::new(Profile::CPYTHON_3_11).unwrap();
        let (ns, name) = namespace(&mut o, &["__del__"]);
        let c = o.type_new_impl(name, ns).unwrap();
        let x = o.instance_new(c).unwrap();
        o.decref(x).unwrap();
        // PyObject_CallFinalizerFromDealloc: alive again with one reference, tracked.
        assert_eq!(o.take_pending_finalizers(), [x]);
        assert_eq!(o.refcnt(x).unwrap(), 1);
        assert!(o.gc_is_tracked(x));
        o.set_finalized(x).unwrap();
        o.decref(x).unwrap();
        assert!(!o.is_live(x), "finalized: deallocated the second time");
        assert!(o.take_pending_finalizers().is_empty());
    }

    #[test]
    fn a_dict_object_appears_only_when_the_version_makes_one() {
        // sys.getsizeof(c.__dict__) of the fourth instance of a class, after `c.x = 1000`: 104 on
        // 3.8–3.10 (a split table, 5 values); 3.11, 3.12 make a dict of the instance's values
        // when asked: 272 (dk_nentries + dk_usable = 1 + 25: 30 less one per instance and one
        // for the key `x`), and so does 3.13.0, whose dict points at the inline values until
        // the instance goes (`_PyDict_DetachFromObject` gives it a copy): `d = x.__dict__;
        // del x; print(d)` prints {'x': 1000} on each.
        for (p, size) in [
            (Profile::CPYTHON_3_8, 104),
            (Profile::CPYTHON_3_10, 104),
            (Profile::CPYTHON_3_11, 272),
            (Profile::CPYTHON_3_12, 272),
            (Profile::CPYTHON_3_13, 272),
        ] {
            let mut o = Objects::new(p).unwrap();
            let c = o.type_new("C", "__main__").unwrap();
            let xs: Vec<u64> = (0..3).map(|_| o.instance_new(c).unwrap()).collect();
            let x = o.instance_new(c).unwrap();
            let n = o.unicode_from_str("x").unwrap();
            let one = o.long_from_i64(1000).unwrap();
            o.instance_setattr(x, n, one).unwrap();
            let d = o.instance_dict(x).unwrap();
            assert_eq!(o.getsizeof(d).unwrap(), size, "{p}");
            assert_eq!(o.repr(d).unwrap(), "{'x': 1000}", "{p}");
            o.decref(x).unwrap();
            assert!(!o.is_live(x), "{p}");
            assert_eq!(
                o.repr(d).unwrap(),
                "{'x': 1000}",
                "{p}: the dict outlives x"
            );
            assert_eq!(o.refcnt(one).unwrap(), 2, "{p}: the dict's value, ours");
            o.decref(d).unwrap();
            assert_eq!(o.refcnt(one).unwrap(), 1, "{p}");
            for x in xs {
                o.decref(x).unwrap();
            }
        }
    }
}
