//! `PyObject_Repr`, computed from memory as C computes it.
//!
//! `repr` reads `ob_type` from the object's memory and follows it: a list's `list_repr` reads
//! `ob_size` and `ob_item`, then each item pointer, and so on. It never asks the object layer
//! what it believes is there, so the repr of a dead object (through a stale id) shows whatever
//! its memory holds: `<NULL>` for a null item pointer, `[...]` for a list already being printed
//! (`Py_ReprEnter`), and an error where C would crash.
//!
//! `Py_ReprEnter` keeps the objects being printed in a list, which it makes with `PyList_New(0)`
//! on first use, so it can come off the list free list; `Py_ReprLeave` removes the object again
//! and, when the list empties, `_list_clear` frees its buffer. (CPython keeps that list in the
//! thread state's dict under the key `Py_Repr`; the model keeps it directly, so the dict and its
//! keys object are not allocated.)

use crate::error::ObjError;
use crate::fields::Field;
use crate::heavy::Digits;
use crate::image::Image;
use crate::layout::LONG_DIGITS_OFFSET;
use crate::slots::Kind;
use crate::space::Objects;
use crate::types::TypeId;

/// `offsetof(PyTypeObject, tp_repr)` on every version.
const TP_REPR_OFFSET: u64 = 88;

impl Objects {
    /// `repr(op)`: what `PyObject_Repr` returns for whatever lies at `op`. NULL is `<NULL>`.
    pub fn repr(&mut self, op: u64) -> Result<String, ObjError> {
        if op == 0 {
            return Ok("<NULL>".into());
        }
        let type_word = self.read_word(op + 8)?;
        if self.is_class(type_word) {
            return self.instance_repr(op, type_word);
        }
        let Some(ty) = Image::type_at(type_word) else {
            // C calls through `Py_TYPE(op)->tp_repr`, read from where the word points: the
            // model reads that word (a segmentation fault if nothing is mapped there) and stops,
            // having no code to call at whatever it holds.
            self.read_word(type_word.wrapping_add(TP_REPR_OFFSET) & !7)?;
            return Err(ObjError::NotAnObject { addr: op });
        };
        match ty {
            TypeId::Int => Ok(self.long_repr(op)?),
            // bool_repr (Objects/boolobject.c) asks which object it is, `self == Py_True`, not
            // what it holds: the word after the header is `ob_size` to 3.11, `lv_tag` from 3.12
            // (1 for False, 8 for True).
            TypeId::Bool => Ok(if op == self.image.true_ {
                "True"
            } else {
                "False"
            }
            .into()),
            TypeId::Float => Ok(float_repr(f64::from_bits(self.read_word(op + 16)?))),
            TypeId::Str => Ok(unicode_repr(&self.unicode_from_memory(op)?)),
            TypeId::List => self.list_repr(op),
            TypeId::Tuple => self.tuple_repr(op),
            TypeId::VersionInfo => self.structseq_repr(op),
            TypeId::Dict => self.dict_repr(op),
            TypeId::NoneType => Ok("None".into()),
            TypeId::Type if self.class_data(op).is_ok() => self.class_repr(op),
            TypeId::Type => {
                let name = Image::type_at(op).map_or("?", TypeId::name);
                Ok(format!("<class '{name}'>"))
            }
            TypeId::Instance => Err(ObjError::NotAnObject { addr: op }),
            // getset_repr: "<attribute '%V' of '%s' objects>", d_name and d_type's tp_name.
            TypeId::GetSetDescr => {
                let name = self.str_field(op, Field::DescrName)?;
                let class = self.field(op, Field::DescrType)?;
                let c = self.class_data(class)?;
                let tp_name = self.unicode_text(c.name)?;
                Ok(format!("<attribute '{name}' of '{tp_name}' objects>"))
            }
            TypeId::CFunction => {
                let name = self.cfunction_name(op)?;
                let this = self.read_word(op + 24)?;
                let is_function =
                    this == 0 || Image::type_at(self.read_word(this + 8)?) == Some(TypeId::Module);
                if is_function {
                    return Ok(format!("<built-in function {name}>"));
                }
                let ty = self.type_of(this)?;
                Ok(format!(
                    "<built-in method {name} of {ty} object at {this:#x}>"
                ))
            }
            TypeId::Object => Ok(format!("<object object at {op:#x}>")),
            // PyCArg_repr: a pointer argument shows its value; the others, where they are.
            TypeId::CArg => {
                let tag = self.read_word(op + 24)? as u8 as char;
                Ok(if tag == 'P' {
                    format!("<cparam 'P' ({:#x})>", self.read_word(op + 32)?)
                } else {
                    format!("<cparam '{tag}' at {op:#x}>")
                })
            }
            // py_object.__repr__ (ctypes/__init__.py): Simple_repr, "py_object(<NULL>)" when
            // the getter raises for NULL.
            TypeId::CData => match self.cdata_value(op)? {
                0 => Ok("py_object(<NULL>)".into()),
                v => Ok(format!("py_object({})", self.repr(v)?)),
            },
            TypeId::Bytes => {
                let n = self.read_word(op + 16)?;
                Ok(bytes_repr(&self.read_bytes(op + 32, n)?))
            }
            TypeId::Function => {
                let q = self.str_field(op, Field::FuncQualname)?;
                Ok(format!("<function {q} at {op:#x}>"))
            }
            TypeId::Method => {
                let func = self.read_word(op + 16)?;
                let q = self.str_field(func, Field::FuncQualname)?;
                let this = self.read_word(op + 24)?;
                let s = self.repr(this)?;
                Ok(format!("<bound method {q} of {s}>"))
            }
            TypeId::Module => {
                let name = self.str_field(op, Field::MdName)?;
                Ok(format!("<module '{name}'>"))
            }
            TypeId::Code => {
                let name = self.str_field(op, Field::CoName)?;
                let file = self.str_field(op, Field::CoFilename)?;
                let at = op + self.co_firstlineno_offset();
                let line = (self.read_word(at & !7)? >> ((at & 7) * 8)) as u32 as i32;
                Ok(format!(
                    "<code object {name} at {op:#x}, file \"{file}\", line {line}>"
                ))
            }
            TypeId::Cell => {
                let r = self.read_word(op + 16)?;
                if r == 0 {
                    return Ok(format!("<cell at {op:#x}: empty>"));
                }
                let ty = Image::type_at(self.read_word(r + 8)?).map_or("?", TypeId::name);
                Ok(format!("<cell at {op:#x}: {ty} object at {r:#x}>"))
            }
            // frame_repr names the line being run, which frames here do not keep.
            TypeId::Frame => Err(self.wrong_type(op, "an object whose repr is modelled")),
        }
    }

    /// `str(op)`: a str's own text; anything else its repr.
    pub fn str_of(&mut self, op: u64) -> Result<String, ObjError> {
        // A live compact int: `long_to_decimal_string` of the value its slot keeps, which is
        // what its words in memory say (see `long_repr`).
        if let Ok(v) = self.live_view(op)
            && v.slot.kind == Kind::Int
        {
            return Ok((v.slot.word as i64).to_string());
        }
        let type_word = self.read_word(op + 8)?;
        if Image::type_at(type_word) == Some(TypeId::Str) {
            return self.unicode_from_memory(op);
        }
        self.repr(op)
    }

    /// The text of the str a field of `op` points to, read from memory.
    fn str_field(&self, op: u64, field: Field) -> Result<String, ObjError> {
        let off = crate::fields::offset(field, self.layout.minor)
            .ok_or(ObjError::NotAnObject { addr: op })?;
        let s = self.read_word(op + off)?;
        if s == 0 {
            return Ok("?".into());
        }
        self.unicode_from_memory(s)
    }

    /// `long_to_decimal_string`, from the digits in memory.
    fn long_repr(&self, op: u64) -> Result<String, ObjError> {
        // A live compact int's words are made from the value its slot keeps (`long_word`):
        // reading them back one by one would give the same digits.
        if let Ok(v) = self.live_view(op)
            && v.slot.kind == Kind::Int
        {
            return Ok((v.slot.word as i64).to_string());
        }
        let tag = self.read_word(op + 16)?;
        let (negative, n) = if self.layout.long_uses_lv_tag() {
            (tag & 3 == 2, tag >> 3)
        } else {
            let size = tag as i64;
            (size < 0, size.unsigned_abs())
        };
        let mut digits = Vec::with_capacity(n as usize);
        for i in 0..n {
            let word = self.read_word((op + LONG_DIGITS_OFFSET + 4 * i) & !7)?;
            let shift = ((op + LONG_DIGITS_OFFSET + 4 * i) & 7) * 8;
            digits.push((word >> shift) as u32);
        }
        Ok(digits_to_decimal(&Digits { negative, digits }))
    }

    /// A str's text read from its memory: length, state (kind, ascii) and characters.
    pub(crate) fn unicode_from_memory(&self, op: u64) -> Result<String, ObjError> {
        let length = self.read_word(op + 16)?;
        let state = self.read_word(op + 32)? as u32;
        let kind = u64::from((state >> 2) & 7);
        let ascii = state & (1 << 6) != 0;
        let header = self.unicode_header(ascii);
        if !matches!(kind, 1 | 2 | 4) || length > 1 << 32 {
            return Err(ObjError::NotAnObject { addr: op });
        }
        let bytes = self.read_bytes(op + header, length * kind)?;
        Ok(bytes
            .chunks(kind as usize)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                char::from_u32(u32::from_le_bytes(b)).unwrap_or('\u{fffd}')
            })
            .collect())
    }

    /// `list_repr`.
    fn list_repr(&mut self, op: u64) -> Result<String, ObjError> {
        if self.read_word(op + 16)? == 0 {
            return Ok("[]".into());
        }
        if self.repr_enter(op)? {
            return Ok("[...]".into());
        }
        let mut out = String::from("[");
        // "Note that this may mutate the list, so must refetch the list size on each iteration."
        let mut i = 0;
        while i < self.read_word(op + 16)? {
            if i > 0 {
                out.push_str(", ");
            }
            let item = self.read_word(self.read_word(op + 24)? + 8 * i)?;
            let s = self.repr(item);
            let s = s.inspect_err(|_| {
                let _ = self.repr_leave(op);
            })?;
            out.push_str(&s);
            i += 1;
        }
        out.push(']');
        self.repr_leave(op)?;
        Ok(out)
    }

    /// `structseq_repr`: the type's name, then each field as `name=repr`.
    fn structseq_repr(&mut self, op: u64) -> Result<String, ObjError> {
        const FIELDS: [&str; 5] = ["major", "minor", "micro", "releaselevel", "serial"];
        let items = self.tuple_items(op)?;
        let mut parts = Vec::with_capacity(items.len());
        for (name, item) in FIELDS.iter().zip(items) {
            parts.push(format!("{name}={}", self.repr(item)?));
        }
        Ok(format!("sys.version_info({})", parts.join(", ")))
    }

    /// `tuplerepr`.
    fn tuple_repr(&mut self, op: u64) -> Result<String, ObjError> {
        let n = self.read_word(op + 16)?;
        if n == 0 {
            return Ok("()".into());
        }
        if self.repr_enter(op)? {
            return Ok("(...)".into());
        }
        let mut out = String::from("(");
        for i in 0..n {
            if i > 0 {
                out.push_str(", ");
            }
            let item = self.read_word(op + 24 + 8 * i)?;
            let s = self.repr(item);
            let s = s.inspect_err(|_| {
                let _ = self.repr_leave(op);
            })?;
            out.push_str(&s);
        }
        if n == 1 {
            out.push(',');
        }
        out.push(')');
        self.repr_leave(op)?;
        Ok(out)
    }

    /// `Py_ReprEnter(obj)`: true if `obj` is already being printed; otherwise it is appended to
    /// the `Py_Repr` list (which takes a reference).
    pub(crate) fn repr_enter(&mut self, obj: u64) -> Result<bool, ObjError> {
        let list = self.py_repr_list()?;
        let d = self.list_data(list)?;
        for i in (0..d.size).rev() {
            if self.read_word(d.item + 8 * i)? == obj {
                return Ok(true);
            }
        }
        self.list_append_unchecked(list, obj)?;
        Ok(false)
    }

    /// `Py_ReprLeave(obj)`: removes the last occurrence of `obj` (`PyList_SetSlice(list, i,
    /// i + 1, NULL)`).
    pub(crate) fn repr_leave(&mut self, obj: u64) -> Result<(), ObjError> {
        let list = self.py_repr_list()?;
        let d = self.list_data(list)?;
        for i in (0..d.size).rev() {
            if self.read_word(d.item + 8 * i)? == obj {
                return self.list_del_item(list, i);
            }
        }
        Ok(())
    }

    /// The `Py_Repr` list in the thread state's dict: `PyThreadState_GetDict` makes the dict on
    /// first use (`PyDict_New`), and the list is made with `PyList_New(0)` and stored under the
    /// key `'Py_Repr'` the first time a repr needs it.
    fn py_repr_list(&mut self) -> Result<u64, ObjError> {
        if self.tstate_dict == 0 {
            self.tstate_dict = self.dict_new()?;
        }
        let key = self.py_repr_key()?;
        if let Some(list) = self.dict_getitem(self.tstate_dict, key)? {
            return Ok(list);
        }
        let list = self.list_new(0)?;
        self.dict_setitem(self.tstate_dict, key, list)?;
        self.decref(list)?;
        Ok(list)
    }

    /// The key `'Py_Repr'` (see [`Objects::py_id`]).
    fn py_repr_key(&mut self) -> Result<u64, ObjError> {
        self.py_id("Py_Repr")
    }

    /// `list_ass_slice(a, i, i + 1, NULL)`: the last item removed empties the list through
    /// `_list_clear`; otherwise the tail moves down, the list shrinks (`list_resize`), and the
    /// removed item is released last.
    pub fn list_del_item(&mut self, list: u64, i: u64) -> Result<(), ObjError> {
        let d = self.list_data(list)?;
        if d.size == 1 {
            return self.list_clear(list);
        }
        let removed = self.read_word(d.item + 8 * i)?;
        for k in i + 1..d.size {
            let w = self.read_word(d.item + 8 * k)?;
            self.mem.write_word(d.item + 8 * (k - 1), w)?;
        }
        self.list_resize(list, d.size - 1)?;
        self.xdecref(removed)
    }

    /// `PyList_Append` through memory: the `Py_Repr` list may hold dead objects (a stale id being
    /// printed), which the checked [`Objects::list_append`] would refuse; the increment is C's
    /// blind `Py_INCREF`.
    fn list_append_unchecked(&mut self, list: u64, obj: u64) -> Result<(), ObjError> {
        let n = self.list_data(list)?.size;
        if self.is_live(obj) {
            self.incref(obj)?;
        }
        self.list_resize(list, n + 1)?;
        let d = self.list_data(list)?;
        self.mem.write_word(d.item + 8 * n, obj)?;
        Ok(())
    }
}

/// Decimal digits of an int from its 30-bit digits (`long_to_decimal_string`).
pub(crate) fn digits_to_decimal(d: &Digits) -> String {
    if let Some(v) = d.to_i128() {
        return v.to_string();
    }
    // Repeated division by 10^9 of the little-endian base-2^30 digits.
    let mut mag: Vec<u32> = d.digits.clone();
    let mut chunks = Vec::new();
    while mag.iter().any(|&x| x != 0) {
        let mut rem: u64 = 0;
        for x in mag.iter_mut().rev() {
            let cur = (rem << 30) | u64::from(*x);
            *x = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem);
    }
    let mut s = String::from(if d.negative { "-" } else { "" });
    for (k, c) in chunks.iter().rev().enumerate() {
        if k == 0 {
            s.push_str(&c.to_string());
        } else {
            s.push_str(&format!("{c:09}"));
        }
    }
    s
}

/// `float_repr`: the shortest digits that round-trip, in fixed notation when the decimal point
/// falls within 16 places, else in exponent notation (`format_float_short` with `'r'`).
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let decpt = exp.parse::<i32>().expect("exponent") + 1;
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    if (-4 < decpt) && (decpt <= 16) {
        let n = digits.len() as i32;
        let body = if decpt <= 0 {
            format!("0.{}{digits}", "0".repeat((-decpt) as usize))
        } else if decpt >= n {
            format!("{digits}{}.0", "0".repeat((decpt - n) as usize))
        } else {
            format!(
                "{}.{}",
                &digits[..decpt as usize],
                &digits[decpt as usize..]
            )
        };
        return format!("{sign}{body}");
    }
    let e = decpt - 1;
    let m = if digits.len() > 1 {
        format!("{}.{}", &digits[..1], &digits[1..])
    } else {
        digits.clone()
    };
    let esign = if e < 0 { '-' } else { '+' };
    format!("{sign}{m}e{esign}{:02}", e.abs())
}

/// `bytes_repr`: `b'...'`, double quotes if the bytes hold a single quote and no double one;
/// `\t`, `\n`, `\r`, the quote and the backslash escaped; other bytes outside 32..127 as `\xhh`.
pub fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(char::from(quote));
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(char::from(c));
            }
            32..=126 => out.push(char::from(c)),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(char::from(quote));
    out
}

/// `unicode_repr`: single quotes unless the text has a single quote and no double one; escapes
/// for backslash, the quote, `\t`, `\n`, `\r`, other control characters, and characters that are
/// not printable (approximated by Rust's control and whitespace classes).
pub fn unicode_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if !c.is_ascii() && (c.is_control() || (c.is_whitespace())) => {
                let v = u32::from(c);
                if v <= 0xff {
                    out.push_str(&format!("\\x{v:02x}"));
                } else if v <= 0xffff {
                    out.push_str(&format!("\\u{v:04x}"));
                } else {
                    out.push_str(&format!("\\U{v:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_prints_them() {
        for (x, s) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (123456.789, "123456.789"),
            (1.5e300, "1.5e+300"),
            (-0.0, "-0.0"),
        ] {
            assert_eq!(float_repr(x), s);
        }
    }

    #[test]
    fn strs_are_quoted_and_escaped_as_python_does() {
        assert_eq!(unicode_repr("abc"), "'abc'");
        assert_eq!(unicode_repr("it's"), "\"it's\"");
        assert_eq!(unicode_repr("a'\""), "'a\\'\"'");
        assert_eq!(unicode_repr("\n\x01가"), "'\\n\\x01가'");
        assert_eq!(unicode_repr("\u{a0}"), "'\\xa0'");
    }

    #[test]
    fn bytes_print_as_python_prints_them() {
        assert_eq!(bytes_repr(b"abc"), "b'abc'");
        assert_eq!(bytes_repr(b"a'b"), "b\"a'b\"");
        assert_eq!(bytes_repr(b"\x00\n\xff\\"), "b'\\x00\\n\\xff\\\\'");
    }

    #[test]
    fn false_and_true_print_as_themselves_on_every_version() -> Result<(), ObjError> {
        for profile in pymalloc::Profile::ALL {
            let mut o = Objects::new(profile)?;
            for (b, want) in [(false, "False"), (true, "True")] {
                let op = o.bool_object(b);
                assert_eq!(o.repr(op)?, want, "{profile:?}");
            }
        }
        Ok(())
    }

    #[test]
    fn big_ints_print_in_decimal() {
        let d = Digits::from_i128(-(1i128 << 100));
        assert_eq!(digits_to_decimal(&d), "-1267650600228229401496703205376");
        let mut huge = Digits::from_i128(1);
        huge.digits = vec![0, 0, 0, 0, 0, 1]; // 2**150
        assert_eq!(
            digits_to_decimal(&huge),
            "1427247692705959881058285969449495136382746624"
        );
    }
}
