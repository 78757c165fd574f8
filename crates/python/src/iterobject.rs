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
    /// `PySliceObject` of ints and `None`s (`bad`: some part is neither).
    Slice {
        start: Option<i128>,
        stop: Option<i128>,
        step: Option<i128>,
        bad: bool,
    },
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
            if let Extra::SeqIter { seq, .. } = e.kind {
                self.decref(seq)?;
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
                _ => "iterator",
            }
            .into());
        }
        Ok(self.o.type_of(v)?.name().into())
    }

    /// `PyObject_GetIter`: a new reference to an iterator over `v`.
    pub(crate) fn get_iter(&mut self, v: u64) -> Result<u64, RunError> {
        if self.is_extra(v) {
            return match self.extras.get(&v).map(|e| e.kind) {
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
            // Iterable in CPython (dict_iter, bytes_iter), not yet here.
            t @ (TypeId::Dict | TypeId::Bytes) => Err(RunError::NotModelled {
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
            Extra::Range { .. } | Extra::Slice { .. } => Err(RunError::exception(
                "TypeError",
                format!("'{}' object is not an iterator", self.type_name(it)?),
            )),
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
