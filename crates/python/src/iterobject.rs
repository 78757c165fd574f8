//! `Objects/rangeobject.c`, `Objects/iterobject.c` and the iterators of `listobject.c`,
//! `tupleobject.c` and `unicodeobject.c`: `range(...)` and what `GET_ITER` makes.
//!
//! The object layer has no type for these yet (a new `TypeId` is an edit of `objects`' own
//! files), so the interpreter keeps them itself: each has an address outside the simulated
//! memory, a reference count, and the references CPython's struct holds (a list iterator
//! holds its list until it is exhausted, as `listiter_next` releases it then). What is not
//! modelled is their own memory: a `range_iterator` (48 bytes), a `list_iterator` (32 bytes and
//! a GC head) and a `range` (48 bytes, and the int objects of its fields) take no block of the
//! model's allocators. They live on the value stack and in fast locals; storing one anywhere
//! the object layer would see it (a dict, a list, a tuple) is refused as not modelled.

use objects::{ObjError, TypeId};

use crate::error::RunError;
use crate::interp::Interp;

/// Where the interpreter's own objects get their addresses: above libpython's image, where no
/// mapping of the model ever is.
pub(crate) const EXTRA_BASE: u64 = 0x7ffc_0000_0000;

/// An object the interpreter keeps itself.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Extra {
    /// `rangeobject`.
    Range { start: i128, stop: i128, step: i128 },
    /// `_PyRangeIterObject`: the next value, the step, how many are left.
    RangeIter { next: i128, step: i128, left: i128 },
    /// `listiterobject`, `tupleiterobject`, `unicodeiterobject`: the sequence (a reference,
    /// 0 once exhausted) and the next index.
    SeqIter { seq: u64, index: u64 },
    /// `enumobject`: the iterator it wraps (a reference), the next index, and `en_result`, the
    /// 2-tuple it hands out again while nobody else holds it (a reference).
    Enumerate { it: u64, index: i128, result: u64 },
    /// A dict view (`dict_keys`, `dict_values`, `dict_items`): the dict (a reference).
    DictView { dict: u64, kind: DictViewKind },
    /// `dictiterobject`: the dict (a reference, 0 once exhausted), `di_pos` (the next position
    /// in the dict's order, dummies included), the size it started with, and for items `di_result`.
    DictIter {
        dict: u64,
        pos: u64,
        used: u64,
        kind: DictViewKind,
        result: u64,
    },
    /// `PySliceObject` of ints and `None`s (`bad`: some part is neither).
    Slice {
        start: Option<i128>,
        stop: Option<i128>,
        step: Option<i128>,
        bad: bool,
    },
}

impl Extra {
    /// The references the object holds, in the order its deallocator releases them
    /// (`enum_dealloc`: the iterator, then `en_result`; `dictiter_dealloc`: the dict, then
    /// `di_result`); 0 for none.
    pub(crate) fn held(&self) -> [u64; 2] {
        match *self {
            Extra::SeqIter { seq, .. } => [seq, 0],
            Extra::Enumerate { it, result, .. } => [it, result],
            Extra::DictView { dict, .. } => [dict, 0],
            Extra::DictIter { dict, result, .. } => [dict, result],
            Extra::Range { .. } | Extra::RangeIter { .. } | Extra::Slice { .. } => [0, 0],
        }
    }
}

/// What a dict view or a dict iterator yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DictViewKind {
    Keys,
    Values,
    Items,
}

impl DictViewKind {
    fn view_name(self) -> &'static str {
        match self {
            DictViewKind::Keys => "dict_keys",
            DictViewKind::Values => "dict_values",
            DictViewKind::Items => "dict_items",
        }
    }

    fn iter_name(self) -> &'static str {
        match self {
            DictViewKind::Keys => "dict_keyiterator",
            DictViewKind::Values => "dict_valueiterator",
            DictViewKind::Items => "dict_itemiterator",
        }
    }
}

/// An interpreter-kept object and its count.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExtraObj {
    pub(crate) refcnt: u64,
    pub(crate) kind: Extra,
}

/// `compute_range_length`.
pub(crate) fn range_len(start: i128, stop: i128, step: i128) -> i128 {
    if step > 0 && start < stop {
        (stop - start - 1) / step + 1
    } else if step < 0 && start > stop {
        (start - stop - 1) / (-step) + 1
    } else {
        0
    }
}

impl Interp {
    /// Whether `v` is one of the interpreter's own objects.
    pub(crate) fn is_extra(&self, v: u64) -> bool {
        v >= EXTRA_BASE
    }

    /// A new interpreter-kept object with one reference.
    pub(crate) fn new_extra(&mut self, kind: Extra) -> u64 {
        let op = EXTRA_BASE + 16 * self.next_extra;
        self.next_extra += 1;
        self.extras.insert(op, ExtraObj { refcnt: 1, kind });
        op
    }

    /// `Py_INCREF` of any value. A value that is no live object (what `ctypes`' `.value`
    /// found at a dead object's address) is incremented as C does, word and all.
    pub(crate) fn incref(&mut self, v: u64) -> Result<(), RunError> {
        if self.is_extra(v) {
            if let Some(e) = self.extras.get_mut(&v) {
                e.refcnt += 1;
            }
            return Ok(());
        }
        match self.o.incref(v) {
            Err(ObjError::Dead { .. } | ObjError::NotAnObject { .. }) => Ok(self.o.c_incref(v)?),
            r => Ok(r?),
        }
    }

    /// `Py_XDECREF` of any value: an iterator at count zero releases its sequence.
    pub(crate) fn decref(&mut self, v: u64) -> Result<(), RunError> {
        if v == 0 {
            return Ok(());
        }
        if !self.is_extra(v) {
            return match self.o.decref(v) {
                // C's Py_DECREF on a revived dead object: at zero its deallocator runs again.
                Err(ObjError::Dead { .. } | ObjError::NotAnObject { .. }) => {
                    Ok(self.o.c_decref(v)?)
                }
                r => Ok(r?),
            };
        }
        let Some(e) = self.extras.get_mut(&v) else {
            return Ok(());
        };
        e.refcnt -= 1;
        if e.refcnt == 0 {
            let e = self.extras.remove(&v).expect("present");
            for held in e.kind.held() {
                self.decref(held)?;
            }
        }
        Ok(())
    }

    /// Refuses to let an interpreter-kept object reach the object layer.
    pub(crate) fn object_only(&self, v: u64) -> Result<(), RunError> {
        if self.is_extra(v) {
            return Err(RunError::NotModelled {
                construct: "a range object or an iterator stored in a container".into(),
                filename: String::new(),
                line: 0,
            });
        }
        Ok(())
    }

    /// `type(v).__name__`.
    pub(crate) fn type_name(&self, v: u64) -> Result<String, RunError> {
        if self.is_extra(v) {
            return Ok(match self.extras.get(&v).map(|e| e.kind) {
                Some(Extra::Range { .. }) => "range",
                Some(Extra::RangeIter { .. }) => "range_iterator",
                Some(Extra::Slice { .. }) => "slice",
                Some(Extra::Enumerate { .. }) => "enumerate",
                Some(Extra::DictView { kind, .. }) => kind.view_name(),
                Some(Extra::DictIter { kind, .. }) => kind.iter_name(),
                _ => "iterator",
            }
            .into());
        }
        Ok(self.o.tp_name(v)?)
    }

    /// `PyObject_GetIter`: a new reference to an iterator over `v`.
    pub(crate) fn get_iter(&mut self, v: u64) -> Result<u64, RunError> {
        if self.is_extra(v) {
            return match self.extras.get(&v).map(|e| e.kind) {
                Some(Extra::DictView { dict, kind }) => self.dict_iter(dict, kind),
                Some(Extra::Range { start, stop, step }) => {
                    // range_iter: a fast range iterator.
                    let left = range_len(start, stop, step);
                    Ok(self.new_extra(Extra::RangeIter {
                        next: start,
                        step,
                        left,
                    }))
                }
                _ => {
                    // An iterator's __iter__ is itself.
                    self.incref(v)?;
                    Ok(v)
                }
            };
        }
        match self.o.type_of(v)? {
            TypeId::List | TypeId::Tuple | TypeId::VersionInfo | TypeId::Str => {
                self.o.incref(v)?;
                Ok(self.new_extra(Extra::SeqIter { seq: v, index: 0 }))
            }
            // dict_iter: over the keys.
            TypeId::Dict => self.dict_iter(v, DictViewKind::Keys),
            // Iterable in CPython (bytes_iter), not yet here.
            t @ TypeId::Bytes => Err(RunError::NotModelled {
                construct: format!("iterating over a '{t}' object"),
                filename: String::new(),
                line: 0,
            }),
            t => Err(RunError::exception(
                "TypeError",
                format!("'{t}' object is not iterable"),
            )),
        }
    }

    /// `tp_iternext`: the next item (a new reference), or `None` when exhausted.
    pub(crate) fn iter_next(&mut self, it: u64) -> Result<Option<u64>, RunError> {
        let Some(e) = self.extras.get(&it).map(|e| e.kind) else {
            let t = self.type_name(it)?;
            return Err(RunError::exception(
                "TypeError",
                format!("'{t}' object is not an iterator"),
            ));
        };
        match e {
            Extra::RangeIter { next, step, left } => {
                if left <= 0 {
                    return Ok(None);
                }
                if let Some(x) = self.extras.get_mut(&it) {
                    x.kind = Extra::RangeIter {
                        next: next + step,
                        step,
                        left: left - 1,
                    };
                }
                Ok(Some(self.new_int(next)?))
            }
            Extra::SeqIter { seq: 0, .. } => Ok(None),
            Extra::SeqIter { seq, index } => {
                let item = match self.o.type_of(seq)? {
                    TypeId::List => {
                        if index < self.o.list_len(seq)? {
                            let x = self.o.list_get(seq, index)?;
                            self.o.incref(x)?;
                            Some(x)
                        } else {
                            None
                        }
                    }
                    TypeId::Tuple | TypeId::VersionInfo => {
                        match self.o.tuple_items(seq)?.get(index as usize) {
                            Some(&x) => {
                                self.o.incref(x)?;
                                Some(x)
                            }
                            None => None,
                        }
                    }
                    _ => {
                        // unicodeiter_next: unicode_char, the cached latin-1 strs.
                        match self.o.unicode_text(seq)?.chars().nth(index as usize) {
                            Some(c) => Some(self.o.unicode_from_str(&c.to_string())?),
                            None => None,
                        }
                    }
                };
                match item {
                    Some(x) => {
                        if let Some(e) = self.extras.get_mut(&it) {
                            e.kind = Extra::SeqIter {
                                seq,
                                index: index + 1,
                            };
                        }
                        Ok(Some(x))
                    }
                    None => {
                        // Exhausted: it_seq = NULL; Py_DECREF(seq).
                        if let Some(e) = self.extras.get_mut(&it) {
                            e.kind = Extra::SeqIter { seq: 0, index };
                        }
                        self.o.decref(seq)?;
                        Ok(None)
                    }
                }
            }
            Extra::Enumerate {
                it: inner,
                index,
                result,
            } => self.enum_next(it, inner, index, result),
            Extra::DictIter {
                dict,
                pos,
                used,
                kind,
                result,
            } => self.dictiter_next(it, dict, pos, used, kind, result),
            Extra::Range { .. } | Extra::Slice { .. } | Extra::DictView { .. } => {
                Err(RunError::exception(
                    "TypeError",
                    format!("'{}' object is not an iterator", self.type_name(it)?),
                ))
            }
        }
    }

    /// `repr()` of an interpreter-kept object.
    pub(crate) fn extra_repr(&self, v: u64) -> Result<String, RunError> {
        Ok(match self.extras.get(&v).map(|e| e.kind) {
            Some(Extra::Range {
                start,
                stop,
                step: 1,
            }) => format!("range({start}, {stop})"),
            Some(Extra::Range { start, stop, step }) => format!("range({start}, {stop}, {step})"),
            Some(Extra::Slice {
                start, stop, step, ..
            }) => {
                let f = |x: Option<i128>| x.map_or("None".to_string(), |v| v.to_string());
                format!("slice({}, {}, {})", f(start), f(stop), f(step))
            }
            _ => format!("<{} object at {v:#x}>", self.type_name(v)?),
        })
    }

    /// Every item of an iterable, as new references (`PySequence_List`'s loop).
    pub(crate) fn collect_iterable(&mut self, v: u64) -> Result<Vec<u64>, RunError> {
        let it = self.get_iter(v)?;
        let mut items = Vec::new();
        loop {
            match self.iter_next(it) {
                Ok(Some(x)) => items.push(x),
                Ok(None) => break,
                Err(e) => {
                    for x in items {
                        self.decref(x)?;
                    }
                    self.decref(it)?;
                    return Err(e);
                }
            }
        }
        self.decref(it)?;
        Ok(items)
    }
}

/// `PySlice_Unpack` and `PySlice_AdjustIndices`: start, step and how many items a slice takes
/// of a sequence of `len`.
pub(crate) fn slice_indices(
    start: Option<i128>,
    stop: Option<i128>,
    step: Option<i128>,
    len: i128,
) -> Result<(i128, i128, i128), RunError> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(RunError::exception(
            "ValueError",
            "slice step cannot be zero",
        ));
    }
    let adjust = |x: Option<i128>, default: i128| -> i128 {
        match x {
            None => default,
            Some(mut v) => {
                if v < 0 {
                    v += len;
                    if v < 0 {
                        v = if step < 0 { -1 } else { 0 };
                    }
                } else if v >= len {
                    v = if step < 0 { len - 1 } else { len };
                }
                v
            }
        }
    };
    let (start, stop) = if step < 0 {
        (adjust(start, len - 1), adjust(stop, -1))
    } else {
        (adjust(start, 0), adjust(stop, len))
    };
    let n = if step < 0 {
        if stop < start {
            (start - stop - 1) / (-step) + 1
        } else {
            0
        }
    } else if start < stop {
        (stop - start - 1) / step + 1
    } else {
        0
    };
    Ok((start, step, n))
}

impl Interp {
    /// `enumerate(iterable)` (`enum_new`): the iterable's iterator, index 0, and `en_result`
    /// made at once (`PyTuple_Pack(2, Py_None, Py_None)`).
    pub(crate) fn enumerate(&mut self, iterable: u64) -> Result<u64, RunError> {
        let it = self.get_iter(iterable)?;
        let none = self.o.none();
        let result = self.o.tuple_pack(&[none, none])?;
        Ok(self.new_extra(Extra::Enumerate {
            it,
            index: 0,
            result,
        }))
    }

    /// `enum_next`: the inner iterator's next item and the index, in `en_result` again when
    /// only the enumerate object holds it (its old items released), else in a new 2-tuple.
    fn enum_next(
        &mut self,
        en: u64,
        inner: u64,
        index: i128,
        result: u64,
    ) -> Result<Option<u64>, RunError> {
        let Some(item) = self.iter_next(inner)? else {
            return Ok(None);
        };
        let next_index = self.new_int(index)?;
        if let Some(e) = self.extras.get_mut(&en) {
            e.kind = Extra::Enumerate {
                it: inner,
                index: index + 1,
                result,
            };
        }
        self.reuse_or_new_pair(result, next_index, item).map(Some)
    }

    /// The result-tuple reuse of `enum_next` and `dictiter_iternextitem`: if `result` has one
    /// reference (the iterator's), it is handed out again holding `a` and `b` (stolen), its old
    /// items released after; otherwise a new 2-tuple.
    fn reuse_or_new_pair(&mut self, result: u64, a: u64, b: u64) -> Result<u64, RunError> {
        if self.o.refcnt(result)? == 1 {
            self.incref(result)?;
            let old_a = self.o.tuple_set_item(result, 0, a)?;
            let old_b = self.o.tuple_set_item(result, 1, b)?;
            self.decref(old_a)?;
            self.decref(old_b)?;
            return Ok(result);
        }
        let t = self.o.tuple_new(2)?;
        self.o.tuple_set_item(t, 0, a)?;
        self.o.tuple_set_item(t, 1, b)?;
        Ok(t)
    }

    /// A dict view (`dict.keys()`, `.values()`, `.items()`): a new reference.
    pub(crate) fn dict_view(&mut self, dict: u64, kind: DictViewKind) -> Result<u64, RunError> {
        self.incref(dict)?;
        Ok(self.new_extra(Extra::DictView { dict, kind }))
    }

    /// `dictiter_new`: the dict, its size now, and for items `di_result`.
    fn dict_iter(&mut self, dict: u64, kind: DictViewKind) -> Result<u64, RunError> {
        self.incref(dict)?;
        let used = self.o.dict_len(dict)?;
        let result = if kind == DictViewKind::Items {
            let none = self.o.none();
            self.o.tuple_pack(&[none, none])?
        } else {
            0
        };
        Ok(self.new_extra(Extra::DictIter {
            dict,
            pos: 0,
            used,
            kind,
            result,
        }))
    }

    /// `dictiter_iternextkey` and friends: the entry at `pos` in insertion order; a dict
    /// whose size changed raises; exhausted, the dict is released (`di_dict = NULL`).
    fn dictiter_next(
        &mut self,
        it: u64,
        dict: u64,
        pos: u64,
        used: u64,
        kind: DictViewKind,
        result: u64,
    ) -> Result<Option<u64>, RunError> {
        if dict == 0 {
            return Ok(None);
        }
        if self.o.dict_len(dict)? != used {
            // "di_used = -1: Make this state sticky"
            if let Some(e) = self.extras.get_mut(&it) {
                e.kind = Extra::DictIter {
                    dict,
                    pos,
                    used: u64::MAX,
                    kind,
                    result,
                };
            }
            return Err(RunError::exception(
                "RuntimeError",
                "dictionary changed size during iteration",
            ));
        }
        let Some((next, k, v)) = self.o.dict_next(dict, pos)? else {
            if let Some(e) = self.extras.get_mut(&it) {
                e.kind = Extra::DictIter {
                    dict: 0,
                    pos,
                    used,
                    kind,
                    result,
                };
            }
            self.decref(dict)?;
            return Ok(None);
        };
        if let Some(e) = self.extras.get_mut(&it) {
            e.kind = Extra::DictIter {
                dict,
                pos: next,
                used,
                kind,
                result,
            };
        }
        match kind {
            DictViewKind::Keys => {
                self.incref(k)?;
                Ok(Some(k))
            }
            DictViewKind::Values => {
                self.incref(v)?;
                Ok(Some(v))
            }
            DictViewKind::Items => {
                self.incref(k)?;
                self.incref(v)?;
                self.reuse_or_new_pair(result, k, v).map(Some)
            }
        }
    }
}
