//! `Objects/abstract.c` and `Objects/object.c`: truth, comparisons, `in`, and the number and
//! sequence operators, for the types the model runs (int, bool, float, str, list, tuple,
//! None). Each returns a new reference, as the C functions do; the operands are borrowed.
//!
//! Ints are computed through the object layer: their values read with `long_value`, the result
//! made by `long_from_i128` (`-5..=256` come from the small-int cache, as in CPython). An int
//! result beyond 128 bits is not modelled.

use std::cmp::Ordering;

use objects::TypeId;

use crate::error::RunError;
use crate::interp::Interp;

/// A number read from an object.
#[derive(Clone, Copy, Debug)]
enum Num {
    Int(i128),
    Float(f64),
}

/// `cmp_op`'s order: `Py_LT` ... `Py_GE`.
pub(crate) const CMP_NAMES: [&str; 6] = ["<", "<=", "==", "!=", ">", ">="];

fn beyond_128_bits() -> RunError {
    RunError::NotModelled {
        construct: "an int beyond 128 bits".into(),
        filename: String::new(),
        line: 0,
    }
}

impl Interp {
    fn num(&self, op: u64) -> Result<Option<Num>, RunError> {
        Ok(match self.o.type_of(op)? {
            TypeId::Int | TypeId::Bool => Some(Num::Int(self.o.long_value(op)?)),
            TypeId::Float => Some(Num::Float(self.o.float_value(op)?)),
            _ => None,
        })
    }

    /// `PyObject_IsTrue`.
    pub(crate) fn is_true(&mut self, op: u64) -> Result<bool, RunError> {
        if let Some(e) = self.extras.get(&op) {
            return Ok(match e.kind {
                crate::iterobject::Extra::Range { start, stop, step } => {
                    crate::iterobject::range_len(start, stop, step) != 0
                }
                _ => true,
            });
        }
        Ok(match self.o.type_of(op)? {
            TypeId::NoneType => false,
            TypeId::Int | TypeId::Bool => self.o.long_value(op)? != 0,
            TypeId::Float => self.o.float_value(op)? != 0.0,
            TypeId::Str => !self.o.unicode_text(op)?.is_empty(),
            TypeId::List => self.o.list_len(op)? != 0,
            TypeId::Tuple | TypeId::VersionInfo => !self.o.tuple_items(op)?.is_empty(),
            TypeId::Dict => self.o.dict_len(op)? != 0,
            _ => true,
        })
    }

    /// `Py_True` or `Py_False`, a new reference.
    pub(crate) fn new_bool(&mut self, b: bool) -> Result<u64, RunError> {
        let op = self.o.bool_object(b);
        self.o.incref(op)?;
        Ok(op)
    }

    /// A new int (`PyLong_FromLong` and friends).
    pub(crate) fn new_int(&mut self, v: i128) -> Result<u64, RunError> {
        Ok(self.o.long_from_i128(v)?)
    }

    /// The items of a list or tuple (borrowed).
    pub(crate) fn seq_items(&self, op: u64) -> Result<Option<Vec<u64>>, RunError> {
        Ok(match self.o.type_of(op)? {
            TypeId::Tuple | TypeId::VersionInfo => Some(self.o.tuple_items(op)?),
            TypeId::List => {
                let n = self.o.list_len(op)?;
                let mut v = Vec::with_capacity(n as usize);
                for i in 0..n {
                    v.push(self.o.list_get(op, i)?);
                }
                Some(v)
            }
            _ => None,
        })
    }

    /// Equality as `PyObject_RichCompare(a, b, Py_EQ)` decides it (identity first, as
    /// `PyObject_RichCompareBool` does for containers' items).
    pub(crate) fn eq(&mut self, a: u64, b: u64) -> Result<bool, RunError> {
        if a == b {
            return Ok(true);
        }
        if let Some(equal) = self.dict_equal(a, b)? {
            return Ok(equal);
        }
        Ok(self.order(a, b)? == Some(Ordering::Equal))
    }

    /// `dict_richcompare`'s `dict_equal`, if both are dicts: the same length, and each key of
    /// `a`, in order, found in `b` with an equal value. Dicts have no order (`<` raises).
    fn dict_equal(&mut self, a: u64, b: u64) -> Result<Option<bool>, RunError> {
        if self.is_extra(a)
            || self.is_extra(b)
            || self.o.type_of(a)? != TypeId::Dict
            || self.o.type_of(b)? != TypeId::Dict
        {
            return Ok(None);
        }
        if self.o.dict_len(a)? != self.o.dict_len(b)? {
            return Ok(Some(false));
        }
        for (key, aval) in self.o.dict_items(a)? {
            match self.o.dict_getitem(b, key)? {
                Some(bval) if self.eq(aval, bval)? => {}
                _ => return Ok(Some(false)),
            }
        }
        Ok(Some(true))
    }

    /// The order of two objects of comparable types, `None` when the types do not compare
    /// (`==` is then identity).
    fn order(&mut self, a: u64, b: u64) -> Result<Option<Ordering>, RunError> {
        if self.is_extra(a) || self.is_extra(b) {
            return Ok(None);
        }
        if let (Some(x), Some(y)) = (self.num(a)?, self.num(b)?) {
            return Ok(match (x, y) {
                (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
                (Num::Int(x), Num::Float(y)) => (x as f64).partial_cmp(&y),
                (Num::Float(x), Num::Int(y)) => x.partial_cmp(&(y as f64)),
                (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
            });
        }
        let (ta, tb) = (self.o.type_of(a)?, self.o.type_of(b)?);
        if ta == TypeId::Str && tb == TypeId::Str {
            let (x, y) = (self.o.unicode_text(a)?, self.o.unicode_text(b)?);
            return Ok(Some(x.cmp(&y)));
        }
        if ta == tb
            && matches!(ta, TypeId::List | TypeId::Tuple)
            && let (Some(xs), Some(ys)) = (self.seq_items(a)?, self.seq_items(b)?)
        {
            for (x, y) in xs.iter().zip(&ys) {
                if !self.eq(*x, *y)? {
                    return self.order(*x, *y);
                }
            }
            return Ok(Some(xs.len().cmp(&ys.len())));
        }
        Ok(None)
    }

    /// `PyObject_RichCompare(a, b, op)`: a new reference to `True` or `False`.
    pub(crate) fn rich_compare(&mut self, a: u64, b: u64, op: u32) -> Result<u64, RunError> {
        if matches!(op, 2 | 3)
            && let Some(equal) = self.dict_equal(a, b)?
        {
            return self.new_bool(equal == (op == 2));
        }
        let ord = self.order(a, b)?;
        let r = match (op, ord) {
            // object_richcompare: types that do not compare are equal only to themselves.
            (2, None) => a == b,
            (3, None) => a != b,
            (2, o) => o == Some(Ordering::Equal),
            (3, o) => o != Some(Ordering::Equal),
            (_, None) => {
                let (ta, tb) = (self.type_name(a)?, self.type_name(b)?);
                return Err(RunError::exception(
                    "TypeError",
                    format!(
                        "'{}' not supported between instances of '{ta}' and '{tb}'",
                        CMP_NAMES[op as usize]
                    ),
                ));
            }
            (0, Some(o)) => o == Ordering::Less,
            (1, Some(o)) => o != Ordering::Greater,
            (4, Some(o)) => o == Ordering::Greater,
            (_, Some(o)) => o != Ordering::Less,
        };
        self.new_bool(r)
    }

    /// `PySequence_Contains(container, item)`.
    pub(crate) fn contains(&mut self, container: u64, item: u64) -> Result<bool, RunError> {
        if let Some(e) = self.extras.get(&container).copied() {
            return match e.kind {
                crate::iterobject::Extra::Range { start, stop, step } => {
                    // range_contains: ints by arithmetic.
                    if self.is_extra(item)
                        || !matches!(self.o.type_of(item)?, TypeId::Int | TypeId::Bool)
                    {
                        return Err(RunError::NotModelled {
                            construct: "`in` a range of something but an int".into(),
                            filename: String::new(),
                            line: 0,
                        });
                    }
                    let v = self.o.long_value(item)?;
                    let n = crate::iterobject::range_len(start, stop, step);
                    Ok(n > 0 && (v - start) % step == 0 && (0..n).contains(&((v - start) / step)))
                }
                _ => Err(RunError::NotModelled {
                    construct: "`in` an iterator".into(),
                    filename: String::new(),
                    line: 0,
                }),
            };
        }
        self.object_only(item)?;
        match self.o.type_of(container)? {
            TypeId::Str => {
                if self.o.type_of(item)? != TypeId::Str {
                    let t = self.o.type_of(item)?;
                    return Err(RunError::exception(
                        "TypeError",
                        format!("'in <string>' requires string as left operand, not {t}"),
                    ));
                }
                let (h, n) = (self.o.unicode_text(container)?, self.o.unicode_text(item)?);
                Ok(h.contains(&n))
            }
            TypeId::List | TypeId::Tuple => {
                let items = self.seq_items(container)?.unwrap_or_default();
                for x in items {
                    if self.eq(x, item)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            TypeId::Dict => {
                self.hashable(item)?;
                Ok(self.o.dict_getitem(container, item)?.is_some())
            }
            t => Err(RunError::exception(
                "TypeError",
                format!("argument of type '{t}' is not iterable"),
            )),
        }
    }

    /// `BINARY_OP`'s `binary_ops[oparg]`: `PyNumber_Add` ... and their in-place forms (which
    /// for ints and strs compute the same new object).
    pub(crate) fn binary_op(&mut self, a: u64, b: u64, oparg: u32) -> Result<u64, RunError> {
        if self.is_extra(a) || self.is_extra(b) {
            let sym = crate::dis::NB_OPS[oparg as usize];
            return Err(RunError::exception(
                "TypeError",
                format!(
                    "unsupported operand type(s) for {sym}: '{}' and '{}'",
                    self.type_name(a)?,
                    self.type_name(b)?
                ),
            ));
        }
        let nb = oparg % 13;
        let (ta, tb) = (self.o.type_of(a)?, self.o.type_of(b)?);
        if let (Some(x), Some(y)) = (self.num(a)?, self.num(b)?) {
            return self.number_op(x, y, nb, ta, tb);
        }
        match (nb, ta, tb) {
            // PyUnicode_Concat: an empty operand gives the other back.
            (0, TypeId::Str, TypeId::Str) => {
                let (x, y) = (self.o.unicode_text(a)?, self.o.unicode_text(b)?);
                if x.is_empty() || y.is_empty() {
                    let same = if x.is_empty() { b } else { a };
                    self.o.incref(same)?;
                    return Ok(same);
                }
                Ok(self.o.unicode_new(&format!("{x}{y}"))?)
            }
            // unicode_repeat: `s * 1` is `s` itself.
            (5, TypeId::Str, TypeId::Int | TypeId::Bool)
            | (5, TypeId::Int | TypeId::Bool, TypeId::Str) => {
                let (s, n) = if ta == TypeId::Str { (a, b) } else { (b, a) };
                let n = self.o.long_value(n)?.max(0);
                let text = self.o.unicode_text(s)?;
                if n == 1 {
                    self.o.incref(s)?;
                    return Ok(s);
                }
                let len = text.chars().count() as i128;
                if len.saturating_mul(n) > 1 << 30 {
                    return Err(RunError::exception("MemoryError", ""));
                }
                Ok(self.o.unicode_new(&text.repeat(n as usize))?)
            }
            // list_concat: a new list of exactly the items (PyList_New(size)).
            (0, TypeId::List, TypeId::List) if oparg < 13 => {
                let mut items = self.seq_items(a)?.unwrap_or_default();
                items.extend(self.seq_items(b)?.unwrap_or_default());
                let l = self.o.list_new(items.len() as u64)?;
                for (i, &x) in items.iter().enumerate() {
                    self.o.incref(x)?;
                    self.o.list_set(l, i as u64, x)?;
                }
                Ok(l)
            }
            // list_inplace_concat: list_extend, the list itself back.
            (0, TypeId::List, TypeId::List | TypeId::Tuple) if oparg >= 13 => {
                self.o.list_extend(a, b)?;
                self.o.incref(a)?;
                Ok(a)
            }
            // Any other iterable through a tuple of its items; anything else is not iterable.
            (0, TypeId::List, _) if oparg >= 13 => {
                let items = self.collect_iterable(b)?;
                let t = self.o.tuple_pack(&items)?;
                for v in items {
                    self.decref(v)?;
                }
                let r = self.o.list_extend(a, t);
                self.decref(t)?;
                r?;
                self.o.incref(a)?;
                Ok(a)
            }
            // list_repeat, tuple_repeat: a list of exactly the items; `t * 1` is `t`.
            (5, TypeId::List | TypeId::Tuple, TypeId::Int | TypeId::Bool)
            | (5, TypeId::Int | TypeId::Bool, TypeId::List | TypeId::Tuple) => {
                let (seq, n, ts) = if matches!(ta, TypeId::List | TypeId::Tuple) {
                    (a, b, ta)
                } else {
                    (b, a, tb)
                };
                let n = self.o.long_value(n)?.max(0) as usize;
                let items = self.seq_items(seq)?.unwrap_or_default();
                if items.len().saturating_mul(n) > 1 << 28 {
                    return Err(RunError::exception("MemoryError", ""));
                }
                let all: Vec<u64> = (0..n).flat_map(|_| items.iter().copied()).collect();
                if ts == TypeId::Tuple {
                    if n == 1 {
                        self.o.incref(seq)?;
                        return Ok(seq);
                    }
                    return Ok(self.o.tuple_pack(&all)?);
                }
                if oparg >= 13 {
                    return Err(RunError::NotModelled {
                        construct: "list *= n (list_inplace_repeat)".into(),
                        filename: String::new(),
                        line: 0,
                    });
                }
                let l = self.o.list_new(all.len() as u64)?;
                for (i, &x) in all.iter().enumerate() {
                    self.o.incref(x)?;
                    self.o.list_set(l, i as u64, x)?;
                }
                Ok(l)
            }
            // tupleconcat: an empty operand gives the other tuple back.
            (0, TypeId::Tuple, TypeId::Tuple) => {
                let mut items = self.o.tuple_items(a)?;
                let other = self.o.tuple_items(b)?;
                if items.is_empty() || other.is_empty() {
                    let same = if items.is_empty() { b } else { a };
                    self.o.incref(same)?;
                    return Ok(same);
                }
                items.extend(other);
                Ok(self.o.tuple_pack(&items)?)
            }
            (6, TypeId::Str, _) => {
                // PyUnicode_Format.
                let (items, tuple) = match self.seq_items(b)? {
                    Some(items) if tb == TypeId::Tuple => (items, true),
                    _ => (vec![b], false),
                };
                let mut args = Vec::new();
                for x in items {
                    args.push(self.printf_arg(x)?);
                }
                let strict = tuple || !matches!(tb, TypeId::List | TypeId::Dict);
                let fmt = self.o.unicode_text(a)?;
                let text = crate::printf::format(&fmt, &args, strict)?;
                self.unicode_result(&text)
            }
            (0, TypeId::Str | TypeId::List | TypeId::Tuple, _) => Err(RunError::exception(
                "TypeError",
                format!("can only concatenate {ta} (not \"{tb}\") to {ta}"),
            )),
            (5, TypeId::Str | TypeId::List | TypeId::Tuple, _) => Err(RunError::exception(
                "TypeError",
                format!("can't multiply sequence by non-int of type '{tb}'"),
            )),
            (5, _, TypeId::Str | TypeId::List | TypeId::Tuple) => Err(RunError::exception(
                "TypeError",
                format!("can't multiply sequence by non-int of type '{ta}'"),
            )),
            _ => {
                let sym = crate::dis::NB_OPS[oparg as usize];
                Err(RunError::exception(
                    "TypeError",
                    format!("unsupported operand type(s) for {sym}: '{ta}' and '{tb}'"),
                ))
            }
        }
    }

    fn number_op(
        &mut self,
        x: Num,
        y: Num,
        nb: u32,
        ta: TypeId,
        tb: TypeId,
    ) -> Result<u64, RunError> {
        let zero_div = |what: &str| RunError::exception("ZeroDivisionError", what.to_string());
        if let (Num::Int(a), Num::Int(b)) = (x, y) {
            let bools = ta == TypeId::Bool && tb == TypeId::Bool;
            let v = match nb {
                0 => a.checked_add(b),
                10 => a.checked_sub(b),
                5 => a.checked_mul(b),
                2 => {
                    if b == 0 {
                        return Err(zero_div("integer division or modulo by zero"));
                    }
                    Some((a - crate::compile::py_mod(a, b)) / b)
                }
                6 => {
                    if b == 0 {
                        // l_mod's message: 3.11 gave `%` its own.
                        return Err(zero_div(if self.o.layout().minor >= 11 {
                            "integer modulo by zero"
                        } else {
                            "integer division or modulo by zero"
                        }));
                    }
                    Some(crate::compile::py_mod(a, b))
                }
                8 if b >= 0 => match u32::try_from(b) {
                    Ok(e) => a.checked_pow(e),
                    Err(_) => None,
                },
                8 => {
                    if a == 0 {
                        return Err(zero_div("0.0 cannot be raised to a negative power"));
                    }
                    let f = (a as f64).powf(b as f64);
                    return Ok(self.o.float_from_f64(f)?);
                }
                3 => {
                    if b < 0 {
                        return Err(RunError::exception("ValueError", "negative shift count"));
                    }
                    if a == 0 {
                        Some(0)
                    } else if b >= 127 {
                        None
                    } else {
                        a.checked_shl(b as u32).filter(|v| v >> b == a)
                    }
                }
                9 => {
                    if b < 0 {
                        return Err(RunError::exception("ValueError", "negative shift count"));
                    }
                    Some(a >> b.min(127))
                }
                1 | 7 | 12 => {
                    let v = match nb {
                        1 => a & b,
                        7 => a | b,
                        _ => a ^ b,
                    };
                    if bools {
                        // bool & bool is a bool.
                        return self.new_bool(v != 0);
                    }
                    Some(v)
                }
                11 => {
                    if b == 0 {
                        return Err(zero_div("division by zero"));
                    }
                    return Ok(self.o.float_from_f64(a as f64 / b as f64)?);
                }
                _ => {
                    let sym = crate::dis::NB_OPS[nb as usize];
                    return Err(RunError::exception(
                        "TypeError",
                        format!("unsupported operand type(s) for {sym}: '{ta}' and '{tb}'"),
                    ));
                }
            };
            return match v {
                Some(v) => self.new_int(v),
                None => Err(beyond_128_bits()),
            };
        }
        let f = |n: Num| match n {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        };
        let (a, b) = (f(x), f(y));
        let v = match nb {
            0 => a + b,
            10 => a - b,
            5 => a * b,
            11 => {
                if b == 0.0 {
                    return Err(zero_div("float division by zero"));
                }
                a / b
            }
            2 => {
                if b == 0.0 {
                    return Err(zero_div("float floor division by zero"));
                }
                (a / b).floor()
            }
            6 => {
                if b == 0.0 {
                    return Err(zero_div("float modulo"));
                }
                let r = a % b;
                if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
                    r + b
                } else {
                    r
                }
            }
            8 => a.powf(b),
            _ => {
                let sym = crate::dis::NB_OPS[nb as usize];
                return Err(RunError::exception(
                    "TypeError",
                    format!("unsupported operand type(s) for {sym}: '{ta}' and '{tb}'"),
                ));
            }
        };
        Ok(self.o.float_from_f64(v)?)
    }

    /// `UNARY_NEGATIVE`, `UNARY_POSITIVE`, `UNARY_INVERT`.
    pub(crate) fn unary_op(&mut self, v: u64, name: &str) -> Result<u64, RunError> {
        // The interpreter's own objects (ranges, iterators) have no number slots either.
        let t = self.type_name(v)?;
        let extra = self.is_extra(v);
        let is_bool = !extra && self.o.type_of(v)? == TypeId::Bool;
        let num = if extra { None } else { self.num(v)? };
        match (num, name) {
            (Some(Num::Int(i)), "UNARY_NEGATIVE") => match i.checked_neg() {
                Some(n) => self.new_int(n),
                None => Err(beyond_128_bits()),
            },
            (Some(Num::Int(i)), "UNARY_INVERT") => self.new_int(!i),
            (Some(Num::Int(i)), _) if is_bool => self.new_int(i),
            (Some(Num::Int(_)), _) => {
                // long_pos: an exact int is returned as it is.
                self.o.incref(v)?;
                Ok(v)
            }
            (Some(Num::Float(f)), "UNARY_NEGATIVE") => Ok(self.o.float_from_f64(-f)?),
            (Some(Num::Float(_)), "UNARY_POSITIVE") => {
                // float_pos: an exact float is returned as it is.
                self.o.incref(v)?;
                Ok(v)
            }
            _ => {
                let op = match name {
                    "UNARY_NEGATIVE" => "unary -",
                    "UNARY_POSITIVE" => "unary +",
                    _ => "unary ~",
                };
                Err(RunError::exception(
                    "TypeError",
                    format!("bad operand type for {op}: '{t}'"),
                ))
            }
        }
    }

    /// An index into a sequence of `len` items (`PyNumber_AsSsize_t` and the negative-index
    /// adjustment of `PySequence_GetItem`), or `IndexError`.
    fn seq_index(&self, sub: u64, len: u64, what: &str) -> Result<u64, RunError> {
        self.object_only(sub)?;
        let t = self.o.type_of(sub)?;
        if !matches!(t, TypeId::Int | TypeId::Bool) {
            return Err(RunError::exception(
                "TypeError",
                format!("{what} indices must be integers or slices, not {t}"),
            ));
        }
        let i = self.o.long_value(sub)?;
        let i = if i < 0 { i + len as i128 } else { i };
        if i < 0 || i >= len as i128 {
            return Err(RunError::exception(
                "IndexError",
                format!("{what} index out of range"),
            ));
        }
        Ok(i as u64)
    }

    /// `PyObject_GetItem(container, sub)`: a new reference.
    pub(crate) fn getitem(&mut self, container: u64, sub: u64) -> Result<u64, RunError> {
        self.object_only(container)?;
        if let Some(crate::iterobject::ExtraObj {
            kind:
                crate::iterobject::Extra::Slice {
                    start,
                    stop,
                    step,
                    bad,
                },
            ..
        }) = self.extras.get(&sub).copied()
        {
            if bad {
                return Err(RunError::exception(
                    "TypeError",
                    "slice indices must be integers or None or have an __index__ method",
                ));
            }
            return self.get_slice(container, start, stop, step);
        }
        match self.o.type_of(container)? {
            TypeId::List => {
                let i = self.seq_index(sub, self.o.list_len(container)?, "list")?;
                let v = self.o.list_get(container, i)?;
                self.incref(v)?;
                Ok(v)
            }
            TypeId::Tuple | TypeId::VersionInfo => {
                let items = self.o.tuple_items(container)?;
                let i = self.seq_index(sub, items.len() as u64, "tuple")?;
                self.incref(items[i as usize])?;
                Ok(items[i as usize])
            }
            TypeId::Str => {
                // unicode_getitem: unicode_char, the latin-1 cache below 256.
                let text = self.o.unicode_text(container)?;
                let chars: Vec<char> = text.chars().collect();
                let i = self.seq_index(sub, chars.len() as u64, "string")?;
                Ok(self.o.unicode_from_str(&chars[i as usize].to_string())?)
            }
            TypeId::Dict => {
                self.hashable(sub)?;
                match self.o.dict_getitem(container, sub)? {
                    Some(v) => {
                        self.incref(v)?;
                        Ok(v)
                    }
                    None => {
                        let k = self.o.repr(sub)?;
                        Err(RunError::exception("KeyError", k))
                    }
                }
            }
            t => Err(RunError::exception(
                "TypeError",
                format!("'{t}' object is not subscriptable"),
            )),
        }
    }

    /// `PyObject_SetItem(container, sub, v)`: the container takes its own reference.
    pub(crate) fn setitem(&mut self, container: u64, sub: u64, v: u64) -> Result<(), RunError> {
        self.object_only(container)?;
        self.no_slice(sub, "slice assignment")?;
        self.object_only(v)?;
        match self.o.type_of(container)? {
            TypeId::List => {
                let i = self.seq_index(sub, self.o.list_len(container)?, "list assignment")?;
                // list_ass_item: the new item in, then the old one released.
                self.incref(v)?;
                self.o.list_set(container, i, v)?;
                Ok(())
            }
            TypeId::Dict => {
                self.hashable(sub)?;
                Ok(self.o.dict_setitem(container, sub, v)?)
            }
            t => Err(RunError::exception(
                "TypeError",
                format!("'{t}' object does not support item assignment"),
            )),
        }
    }

    /// `PyObject_Hash` succeeds: the key types the model hashes.
    pub(crate) fn hashable(&mut self, k: u64) -> Result<(), RunError> {
        self.object_only(k)?;
        match self.o.type_of(k)? {
            TypeId::Str | TypeId::Int | TypeId::Bool | TypeId::NoneType | TypeId::Float => Ok(()),
            TypeId::Instance => self.instance_hashable(k),
            TypeId::Type if self.o.is_class(k) => Ok(()),
            TypeId::Tuple => {
                for x in self.o.tuple_items(k)? {
                    self.hashable(x)?;
                }
                Ok(())
            }
            t => Err(RunError::exception(
                "TypeError",
                format!("unhashable type: '{t}'"),
            )),
        }
    }

    /// `PyObject_DelItem(container, sub)`: `list_ass_subscript` (the items after it move down,
    /// `list_resize` shrinks, then the item is released) or `dict_ass_sub`.
    pub(crate) fn delitem(&mut self, container: u64, sub: u64) -> Result<(), RunError> {
        self.object_only(container)?;
        if let Some(crate::iterobject::ExtraObj {
            kind:
                crate::iterobject::Extra::Slice {
                    start,
                    stop,
                    step,
                    bad: false,
                },
            ..
        }) = self.extras.get(&sub).copied()
            && matches!(step, None | Some(1))
            && self.o.type_of(container)? == TypeId::List
        {
            // list_ass_subscript: a slice of step 1 is list_ass_slice with NULL.
            let len = self.o.list_len(container)? as i128;
            let (first, _, n) = crate::iterobject::slice_indices(start, stop, step, len)?;
            let ilow = first as u64;
            return Ok(self.o.list_delete_slice(container, ilow, ilow + n as u64)?);
        }
        self.no_slice(sub, "this slice deletion")?;
        match self.o.type_of(container)? {
            TypeId::List => {
                let n = self.o.list_len(container)?;
                let i = self.seq_index(sub, n, "list assignment")?;
                let victim = self.o.list_get(container, i)?;
                // The list's reference to the item is kept here until after the resize.
                self.o.incref(victim)?;
                for j in i..n - 1 {
                    let v = self.o.list_get(container, j + 1)?;
                    self.o.incref(v)?;
                    self.o.list_set(container, j, v)?;
                }
                // The last slot's duplicate goes with the resize.
                let last = self.o.list_pop(container)?;
                self.o.decref(last)?;
                self.o.decref(victim)?;
                Ok(())
            }
            TypeId::Dict => {
                self.hashable(sub)?;
                if self.o.dict_delitem(container, sub)? {
                    Ok(())
                } else {
                    let k = self.o.repr(sub)?;
                    Err(RunError::exception("KeyError", k))
                }
            }
            t => Err(RunError::exception(
                "TypeError",
                format!("'{t}' object doesn't support item deletion"),
            )),
        }
    }

    /// What `%` formatting reads of an argument.
    fn printf_arg(&mut self, x: u64) -> Result<crate::printf::Arg, RunError> {
        use crate::printf::Arg;
        if self.is_extra(x) {
            let r = self.extra_repr(x)?;
            return Ok(Arg::Other(self.type_name(x)?, r.clone(), r));
        }
        Ok(match self.o.type_of(x)? {
            TypeId::Int | TypeId::Bool => Arg::Int(self.o.long_value(x)?, self.o.str_of(x)?),
            TypeId::Float => Arg::Float(self.o.float_value(x)?, self.o.repr(x)?),
            TypeId::Str => Arg::Str(self.o.unicode_text(x)?, self.o.repr(x)?),
            t => Arg::Other(t.name().into(), self.o.str_of(x)?, self.o.repr(x)?),
        })
    }

    /// `_PyUnicodeWriter_Finish` -> `unicode_result`: the writer's new str, except that an
    /// empty result is `''` and a one-character latin-1 one the cached character (the new
    /// str is made and released first, as the writer's buffer is).
    pub(crate) fn unicode_result(&mut self, text: &str) -> Result<u64, RunError> {
        let s = self.o.unicode_new(text)?;
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && u32::from(c) < 256
        {
            self.o.decref(s)?;
            return Ok(self.o.unicode_from_str(text)?);
        }
        Ok(s)
    }

    /// `list_subscript`, `tuplesubscript`, `unicode_subscript` with a slice.
    fn get_slice(
        &mut self,
        container: u64,
        start: Option<i128>,
        stop: Option<i128>,
        step: Option<i128>,
    ) -> Result<u64, RunError> {
        let ty = self.o.type_of(container)?;
        let len = match ty {
            TypeId::List => self.o.list_len(container)? as i128,
            TypeId::Tuple | TypeId::VersionInfo => self.o.tuple_items(container)?.len() as i128,
            TypeId::Str => self.o.unicode_text(container)?.chars().count() as i128,
            t => {
                return Err(RunError::exception(
                    "TypeError",
                    format!("'{t}' object is not subscriptable"),
                ));
            }
        };
        let (first, step, n) = crate::iterobject::slice_indices(start, stop, step, len)?;
        let picks: Vec<usize> = (0..n).map(|k| (first + k * step) as usize).collect();
        let whole = step == 1 && n == len;
        match ty {
            TypeId::List => {
                // list_new_prealloc(n), the items copied in.
                let l = self.o.list_new(n as u64)?;
                for (k, &i) in picks.iter().enumerate() {
                    let v = self.o.list_get(container, i as u64)?;
                    self.incref(v)?;
                    self.o.list_set(l, k as u64, v)?;
                }
                Ok(l)
            }
            // A struct sequence inherits tuplesubscript, whose whole slice is the object itself
            // only for an exact tuple (PyTuple_CheckExact).
            TypeId::Tuple | TypeId::VersionInfo => {
                if whole && ty == TypeId::Tuple {
                    self.incref(container)?;
                    return Ok(container);
                }
                let items = self.o.tuple_items(container)?;
                let picked: Vec<u64> = picks.iter().map(|&i| items[i]).collect();
                Ok(self.o.tuple_pack(&picked)?)
            }
            _ => {
                if whole {
                    // unicode_result_unchanged.
                    self.incref(container)?;
                    return Ok(container);
                }
                let chars: Vec<char> = self.o.unicode_text(container)?.chars().collect();
                let text: String = picks.iter().map(|&i| chars[i]).collect();
                if n == 0 || (n == 1 && step == 1) {
                    // '' and, through PyUnicode_Substring, unicode_char; a slice with a step
                    // builds a new str even of one character.
                    return Ok(self.o.unicode_from_str(&text)?);
                }
                Ok(self.o.unicode_new(&text)?)
            }
        }
    }

    /// Slice assignment and deletion (`list_ass_slice`) are not modelled.
    fn no_slice(&self, sub: u64, what: &str) -> Result<(), RunError> {
        if matches!(
            self.extras.get(&sub).map(|e| e.kind),
            Some(crate::iterobject::Extra::Slice { .. })
        ) {
            return Err(RunError::NotModelled {
                construct: what.into(),
                filename: String::new(),
                line: 0,
            });
        }
        Ok(())
    }
}
