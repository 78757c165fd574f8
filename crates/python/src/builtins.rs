//! `Python/bltinmodule.c` and `Python/sysmodule.c`: the built-in functions the modelled programs
//! call. Each takes borrowed arguments and returns a new reference, as `METH_FASTCALL` functions
//! do.

use objects::TypeId;

use crate::error::RunError;
use crate::interp::{Interp, MethodDef};
use crate::iterobject::{Extra, ExtraObj, range_len};

/// Every built-in function of the model, by module (the index is the `PyMethodDef`'s).
pub(crate) const METHOD_DEFS: &[MethodDef] = &[
    MethodDef {
        module: "builtins",
        name: "print",
        call: builtin_print,
    },
    MethodDef {
        module: "builtins",
        name: "__build_class__",
        call: crate::classes::builtin_build_class,
    },
    MethodDef {
        module: "builtins",
        name: "id",
        call: builtin_id,
    },
    MethodDef {
        module: "builtins",
        name: "isinstance",
        call: crate::classes::builtin_isinstance,
    },
    MethodDef {
        module: "builtins",
        name: "len",
        call: builtin_len,
    },
    MethodDef {
        module: "builtins",
        name: "repr",
        call: builtin_repr,
    },
    MethodDef {
        module: "builtins",
        name: "range",
        call: builtin_range,
    },
    MethodDef {
        module: "builtins",
        name: "abs",
        call: builtin_abs,
    },
    MethodDef {
        module: "builtins",
        name: "min",
        call: builtin_min,
    },
    MethodDef {
        module: "builtins",
        name: "max",
        call: builtin_max,
    },
    MethodDef {
        module: "builtins",
        name: "sum",
        call: builtin_sum,
    },
    MethodDef {
        module: "builtins",
        name: "sorted",
        call: builtin_sorted,
    },
    MethodDef {
        module: "builtins",
        name: "chr",
        call: builtin_chr,
    },
    MethodDef {
        module: "builtins",
        name: "ord",
        call: builtin_ord,
    },
    MethodDef {
        module: "str",
        name: "join",
        call: str_join,
    },
    MethodDef {
        module: "str",
        name: "replace",
        call: str_replace,
    },
    MethodDef {
        module: "list",
        name: "append",
        call: list_append,
    },
    MethodDef {
        module: "list",
        name: "pop",
        call: list_pop,
    },
    MethodDef {
        module: "builtins",
        name: "enumerate",
        call: crate::methods::builtin_enumerate,
    },
    MethodDef {
        module: "list",
        name: "extend",
        call: crate::methods::list_extend,
    },
    MethodDef {
        module: "list",
        name: "insert",
        call: crate::methods::list_insert,
    },
    MethodDef {
        module: "list",
        name: "index",
        call: crate::methods::list_index,
    },
    MethodDef {
        module: "list",
        name: "count",
        call: crate::methods::list_count,
    },
    MethodDef {
        module: "list",
        name: "remove",
        call: crate::methods::list_remove,
    },
    MethodDef {
        module: "list",
        name: "reverse",
        call: crate::methods::list_reverse,
    },
    MethodDef {
        module: "list",
        name: "clear",
        call: crate::methods::list_clear,
    },
    MethodDef {
        module: "dict",
        name: "get",
        call: crate::methods::dict_get,
    },
    MethodDef {
        module: "dict",
        name: "setdefault",
        call: crate::methods::dict_setdefault,
    },
    MethodDef {
        module: "dict",
        name: "pop",
        call: crate::methods::dict_pop,
    },
    MethodDef {
        module: "dict",
        name: "keys",
        call: crate::methods::dict_keys,
    },
    MethodDef {
        module: "dict",
        name: "values",
        call: crate::methods::dict_values,
    },
    MethodDef {
        module: "dict",
        name: "items",
        call: crate::methods::dict_items,
    },
    MethodDef {
        module: "str",
        name: "startswith",
        call: crate::methods::str_startswith,
    },
    MethodDef {
        module: "str",
        name: "endswith",
        call: crate::methods::str_endswith,
    },
    MethodDef {
        module: "str",
        name: "upper",
        call: crate::methods::str_upper,
    },
    MethodDef {
        module: "str",
        name: "lower",
        call: crate::methods::str_lower,
    },
    MethodDef {
        module: "str",
        name: "strip",
        call: crate::methods::str_strip,
    },
    MethodDef {
        module: "str",
        name: "split",
        call: crate::methods::str_split,
    },
    MethodDef {
        module: "sys",
        name: "getrefcount",
        call: sys_getrefcount,
    },
    MethodDef {
        module: "sys",
        name: "getsizeof",
        call: sys_getsizeof,
    },
    MethodDef {
        module: "sys",
        name: "_debugmallocstats",
        call: sys_debugmallocstats,
    },
    MethodDef {
        module: "sys",
        name: "intern",
        call: sys_intern,
    },
    MethodDef {
        module: "type",
        name: "__instancecheck__",
        call: crate::modules::type_instancecheck,
    },
    MethodDef {
        module: "ctypes",
        name: "cast",
        call: crate::modules::ctypes_cast,
    },
    MethodDef {
        module: "_model",
        name: "memory_info",
        call: crate::modules::model_memory_info,
    },
    MethodDef {
        module: "os",
        name: "getpid",
        call: crate::modules::os_getpid,
    },
    MethodDef {
        module: "gc",
        name: "get_count",
        call: crate::modules::gc_get_count,
    },
    MethodDef {
        module: "gc",
        name: "get_threshold",
        call: crate::modules::gc_get_threshold,
    },
    MethodDef {
        module: "gc",
        name: "isenabled",
        call: crate::modules::gc_isenabled,
    },
    MethodDef {
        module: "gc",
        name: "enable",
        call: crate::modules::gc_enable,
    },
    MethodDef {
        module: "gc",
        name: "disable",
        call: crate::modules::gc_disable,
    },
    MethodDef {
        module: "gc",
        name: "collect",
        call: crate::modules::gc_collect,
    },
    MethodDef {
        module: "gc",
        name: "set_threshold",
        call: crate::modules::gc_set_threshold,
    },
    MethodDef {
        module: "gc",
        name: "is_tracked",
        call: crate::modules::gc_is_tracked,
    },
    MethodDef {
        module: "gc",
        name: "freeze",
        call: crate::modules::gc_freeze,
    },
    MethodDef {
        module: "gc",
        name: "unfreeze",
        call: crate::modules::gc_unfreeze,
    },
    MethodDef {
        module: "gc",
        name: "get_freeze_count",
        call: crate::modules::gc_get_freeze_count,
    },
    MethodDef {
        module: "gc",
        name: "set_debug",
        call: crate::modules::gc_set_debug,
    },
    MethodDef {
        module: "gc",
        name: "get_debug",
        call: crate::modules::gc_get_debug,
    },
    MethodDef {
        module: "gc",
        name: "get_stats",
        call: crate::modules::gc_get_stats,
    },
    MethodDef {
        module: "gc",
        name: "get_referents",
        call: crate::modules::gc_get_referents,
    },
    MethodDef {
        module: "gc",
        name: "get_referrers",
        call: crate::modules::gc_get_referrers,
    },
    MethodDef {
        module: "gc",
        name: "get_objects",
        call: crate::modules::gc_get_objects,
    },
];

fn one_arg(name: &str, args: &[u64]) -> Result<u64, RunError> {
    match args {
        [x] => Ok(*x),
        _ => Err(RunError::exception(
            "TypeError",
            format!("{name}() takes exactly one argument ({} given)", args.len()),
        )),
    }
}

/// `builtin_print`: `str()` of each argument, separated by spaces, then a newline. `str()` of
/// anything but a str makes a new str object, written and released, as `PyFile_WriteObject`
/// does.
fn builtin_print(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    // sep= and end= (None for the default); the keyword values are the last arguments.
    let kwargs = std::mem::take(&mut i.kwargs);
    let args = &args[..args.len() - kwargs.len()];
    i.print_parser_init(!kwargs.is_empty())?;
    let varargs = i.print_pack_varargs(args)?;
    let printed = print_impl(i, args, kwargs);
    if let Some(t) = varargs {
        i.decref(t)?;
    }
    printed
}

/// `builtin_print_impl` after its argument parsing: the keywords checked, then each argument,
/// the separators and the end written to `sys.stdout`.
fn print_impl(i: &mut Interp, args: &[u64], kwargs: Vec<(String, u64)>) -> Result<u64, RunError> {
    let (mut sep, mut end, mut flush) = (None, None, false);
    if i.o.layout().minor >= 13 {
        // 3.13's print is Argument Clinic's: _PyArg_UnpackKeywords checks every name first
        // (error_unexpected_keyword_arg, with a suggestion).
        let known = ["sep", "end", "file", "flush"].map(String::from);
        if let Some((name, _)) = kwargs.iter().find(|(n, _)| !known.contains(n)) {
            return Err(RunError::exception(
                "TypeError",
                crate::suggestions::unexpected_keyword("print", name, &known),
            ));
        }
    }
    for (name, v) in &kwargs {
        match name.as_str() {
            "flush" => {
                flush = i.is_true(*v)?;
                continue;
            }
            "file" => {
                return Err(RunError::NotModelled {
                    construct: format!("print(..., {name}=...)"),
                    filename: String::new(),
                    line: 0,
                });
            }
            "sep" | "end" => {}
            other => {
                return Err(RunError::exception(
                    "TypeError",
                    format!("'{other}' is an invalid keyword argument for print()"),
                ));
            }
        }
        let value = if *v == i.o.none() {
            None
        } else if !i.is_extra(*v) && i.o.type_of(*v)? == TypeId::Str {
            Some(*v)
        } else {
            return Err(RunError::exception(
                "TypeError",
                format!("{name} must be None or a string, not {}", i.type_name(*v)?),
            ));
        };
        if name == "sep" {
            sep = value;
        } else {
            end = value;
        }
    }
    // builtin_print_impl: each argument through PyFile_WriteObject, a default separator and
    // end through PyFile_WriteString, all into sys.stdout's TextIOWrapper.
    for (k, &a) in args.iter().enumerate() {
        if k > 0 {
            match sep {
                Some(s) => i.file_write_object(s)?,
                None => i.file_write_string(" ")?,
            }
        }
        i.file_write_object(a)?;
    }
    match end {
        Some(e) => i.file_write_object(e)?,
        None => i.file_write_string("\n")?,
    }
    if flush {
        // file.flush(): TextIOWrapper.flush writes what is pending.
        i.textiowrapper_writeflush()?;
    }
    i.return_none()
}

/// `builtin_id`: the object's address (`PyLong_FromVoidPtr`).
fn builtin_id(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("id", args)?;
    i.object_only(x)?;
    Ok(i.o.long_from_i128(i128::from(x))?)
}

/// `builtin_len` for lists, tuples, strs, dicts and ranges.
fn builtin_len(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("len", args)?;
    if let Some(ExtraObj {
        kind: Extra::Range { start, stop, step },
        ..
    }) = i.extras.get(&x).copied()
    {
        return i.new_int(range_len(start, stop, step));
    }
    i.object_only(x)?;
    let n = match i.o.type_of(x)? {
        TypeId::List => i.o.list_len(x)?,
        TypeId::Tuple | TypeId::VersionInfo => i.o.tuple_items(x)?.len() as u64,
        TypeId::Str => i.o.unicode_text(x)?.chars().count() as u64,
        TypeId::Dict => i.o.dict_len(x)?,
        ty => {
            return Err(RunError::exception(
                "TypeError",
                format!("object of type '{ty}' has no len()"),
            ));
        }
    };
    Ok(i.o.long_from_i64(n as i64)?)
}

/// `builtin_repr`.
fn builtin_repr(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("repr", args)?;
    let text = if i.is_extra(x) {
        i.extra_repr(x)?
    } else {
        i.o.repr(x)?
    };
    Ok(i.o.unicode_new(&text)?)
}

/// `range(stop)`, `range(start, stop[, step])` (`range_new`): ints only.
fn builtin_range(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let mut v = Vec::new();
    for &a in args {
        i.object_only(a)?;
        match i.o.type_of(a)? {
            TypeId::Int | TypeId::Bool => v.push(i.o.long_value(a)?),
            t => {
                return Err(RunError::exception(
                    "TypeError",
                    format!("'{t}' object cannot be interpreted as an integer"),
                ));
            }
        }
    }
    let (start, stop, step) = match v.as_slice() {
        [stop] => (0, *stop, 1),
        [start, stop] => (*start, *stop, 1),
        [start, stop, step] => (*start, *stop, *step),
        [] => {
            return Err(RunError::exception(
                "TypeError",
                "range expected at least 1 argument, got 0",
            ));
        }
        _ => {
            return Err(RunError::exception(
                "TypeError",
                format!("range expected at most 3 arguments, got {}", v.len()),
            ));
        }
    };
    if step == 0 {
        return Err(RunError::exception(
            "ValueError",
            "range() arg 3 must not be zero",
        ));
    }
    Ok(i.new_extra(Extra::Range { start, stop, step }))
}

/// `abs(x)`: `long_abs` (a non-negative exact int is itself), `float_abs` (a new float).
fn builtin_abs(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("abs", args)?;
    i.object_only(x)?;
    match i.o.type_of(x)? {
        TypeId::Int | TypeId::Bool => {
            let v = i.o.long_value(x)?;
            if v >= 0 && i.o.type_of(x)? == TypeId::Int {
                i.incref(x)?;
                return Ok(x);
            }
            match v.checked_abs() {
                Some(a) => i.new_int(a),
                None => Err(RunError::NotModelled {
                    construct: "an int beyond 128 bits".into(),
                    filename: String::new(),
                    line: 0,
                }),
            }
        }
        TypeId::Float => {
            let f = i.o.float_value(x)?;
            Ok(i.o.float_from_f64(f.abs())?)
        }
        t => Err(RunError::exception(
            "TypeError",
            format!("bad operand type for abs(): '{t}'"),
        )),
    }
}

/// The items `min`/`max` look at: the one iterable's, or the arguments themselves (new
/// references either way).
fn min_max_items(i: &mut Interp, name: &str, args: &[u64]) -> Result<Vec<u64>, RunError> {
    match args {
        [] => Err(RunError::exception(
            "TypeError",
            format!("{name} expected at least 1 argument, got 0"),
        )),
        [one] => i.collect_iterable(*one),
        many => {
            for &a in many {
                i.incref(a)?;
            }
            Ok(many.to_vec())
        }
    }
}

/// `min_max`: the first item no other is less than (`Py_LT`) or greater than (`Py_GT`).
fn min_max(i: &mut Interp, args: &[u64], op: u32, name: &str) -> Result<u64, RunError> {
    let items = min_max_items(i, name, args)?;
    let mut best: Option<u64> = None;
    let mut err = None;
    for &x in &items {
        match best {
            None => best = Some(x),
            Some(b) => {
                let r = i.rich_compare(x, b, op);
                match r.and_then(|r| {
                    let t = i.is_true(r);
                    i.decref(r)?;
                    t
                }) {
                    Ok(true) => best = Some(x),
                    Ok(false) => {}
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
        }
    }
    if let (None, Some(b)) = (&err, best) {
        i.incref(b)?;
    }
    for x in items {
        i.decref(x)?;
    }
    if let Some(e) = err {
        return Err(e);
    }
    best.ok_or_else(|| {
        RunError::exception("ValueError", format!("{name}() arg is an empty sequence"))
    })
}

/// `min(iterable)`, `min(a, b, ...)`.
fn builtin_min(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    min_max(i, args, 0, "min")
}

/// `max(iterable)`, `max(a, b, ...)`.
fn builtin_max(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    min_max(i, args, 4, "max")
}

/// `sum(iterable[, start])`: ints are added as C longs and made an int at the end (no
/// intermediate objects, as `builtin_sum_impl`'s fast path does); floats as doubles; strs are
/// refused as CPython refuses them; other items through `+`.
fn builtin_sum(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let (iterable, start) = match args {
        [it] => (*it, None),
        [it, st] => (*it, Some(*st)),
        _ => {
            return Err(RunError::exception(
                "TypeError",
                format!("sum() takes at most 2 arguments ({} given)", args.len()),
            ));
        }
    };
    if let Some(st) = start
        && !i.is_extra(st)
        && i.o.type_of(st)? == TypeId::Str
    {
        return Err(RunError::exception(
            "TypeError",
            "sum() can't sum strings [use ''.join(seq) instead]",
        ));
    }
    let items = i.collect_iterable(iterable)?;
    let result = sum_items(i, start, &items);
    for x in items {
        i.decref(x)?;
    }
    result
}

fn sum_items(i: &mut Interp, start: Option<u64>, items: &[u64]) -> Result<u64, RunError> {
    let is_int = |i: &Interp, x: u64| -> Result<bool, RunError> {
        Ok(!i.is_extra(x) && matches!(i.o.type_of(x)?, TypeId::Int | TypeId::Bool))
    };
    let is_num = |i: &Interp, x: u64| -> Result<bool, RunError> {
        Ok(!i.is_extra(x) && matches!(i.o.type_of(x)?, TypeId::Int | TypeId::Bool | TypeId::Float))
    };
    let start_int = match start {
        None => true,
        Some(s) => is_int(i, s)?,
    };
    let mut all_int = start_int;
    let mut all_num = start.map_or(Ok(true), |s| is_num(i, s))?;
    for &x in items {
        all_int &= is_int(i, x)?;
        all_num &= is_num(i, x)?;
    }
    if all_int {
        let mut total: i64 = match start {
            Some(s) => i64::try_from(i.o.long_value(s)?).map_err(|_| big())?,
            None => 0,
        };
        for &x in items {
            let v = i64::try_from(i.o.long_value(x)?).map_err(|_| big())?;
            total = total.checked_add(v).ok_or_else(big)?;
        }
        if let (Some(s), true) = (start, items.is_empty()) {
            i.incref(s)?;
            return Ok(s);
        }
        return i.new_int(i128::from(total));
    }
    if all_num {
        return Err(RunError::NotModelled {
            construct: "sum() of floats".into(),
            filename: String::new(),
            line: 0,
        });
    }
    let mut acc = match start {
        Some(s) => {
            i.incref(s)?;
            s
        }
        None => i.new_int(0)?,
    };
    for &x in items {
        let r = i.binary_op(acc, x, 0);
        i.decref(acc)?;
        acc = r?;
    }
    Ok(acc)
}

fn big() -> RunError {
    RunError::NotModelled {
        construct: "sum() beyond a C long".into(),
        filename: String::new(),
        line: 0,
    }
}

/// `sorted(iterable)`: `PySequence_List` (a list from `PyList_New(0)` extended), then
/// `list.sort()`, stable, comparing with `<` as timsort's binary insertion does (lists of up
/// to 256 items, which sort with no memory of their own).
fn builtin_sorted(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("sorted", args)?;
    let items = i.collect_iterable(x)?;
    if items.len() > 256 {
        for v in items {
            i.decref(v)?;
        }
        return Err(RunError::NotModelled {
            construct: "sorted() of more than 256 items (timsort's merge memory)".into(),
            filename: String::new(),
            line: 0,
        });
    }
    let t = i.o.tuple_pack(&items)?;
    let l = i.o.list_new(0)?;
    let extended = i.o.list_extend(l, t);
    i.decref(t)?;
    for &v in &items {
        i.decref(v)?;
    }
    extended?;
    // Binary insertion sort: each item goes after the items not greater than it.
    let mut sorted: Vec<u64> = Vec::with_capacity(items.len());
    for &pivot in &items {
        let (mut lo, mut hi) = (0, sorted.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let r = match i.rich_compare(pivot, sorted[mid], 0) {
                Ok(r) => r,
                Err(e) => {
                    i.decref(l)?;
                    return Err(e);
                }
            };
            let lt = i.is_true(r)?;
            i.decref(r)?;
            if lt {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        sorted.insert(lo, pivot);
    }
    for &v in &sorted {
        i.incref(v)?;
    }
    for (k, &v) in sorted.iter().enumerate() {
        i.o.list_set(l, k as u64, v)?;
    }
    Ok(l)
}

/// `chr(i)` (`PyUnicode_FromOrdinal` -> `unicode_char`): the cached str below 256.
fn builtin_chr(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("chr", args)?;
    i.object_only(x)?;
    let t = i.o.type_of(x)?;
    if !matches!(t, TypeId::Int | TypeId::Bool) {
        return Err(RunError::exception(
            "TypeError",
            format!("'{t}' object cannot be interpreted as an integer"),
        ));
    }
    let n = i.o.long_value(x)?;
    match u32::try_from(n).ok().and_then(char::from_u32) {
        Some(c) => Ok(i.o.unicode_from_str(&c.to_string())?),
        None => Err(RunError::exception(
            "ValueError",
            "chr() arg not in range(0x110000)",
        )),
    }
}

/// `ord(c)`.
fn builtin_ord(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("ord", args)?;
    i.object_only(x)?;
    let t = i.o.type_of(x)?;
    if t != TypeId::Str {
        return Err(RunError::exception(
            "TypeError",
            format!("ord() expected string of length 1, but {t} found"),
        ));
    }
    let text = i.o.unicode_text(x)?;
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => i.new_int(i128::from(u32::from(c))),
        _ => Err(RunError::exception(
            "TypeError",
            format!(
                "ord() expected a character, but string of length {} found",
                text.chars().count()
            ),
        )),
    }
}

/// `sep.join(iterable)` (`PyUnicode_Join` -> `_PyUnicode_JoinArray`): one exact str is
/// returned as it is, none gives `''`, otherwise a new str.
fn str_join(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let [sep, seq] = args else {
        return Err(RunError::exception(
            "TypeError",
            format!(
                "str.join() takes exactly one argument ({} given)",
                args.len().saturating_sub(1)
            ),
        ));
    };
    i.object_only(*seq)?;
    let items = match i.o.type_of(*seq)? {
        TypeId::List | TypeId::Tuple => i.seq_items(*seq)?.unwrap_or_default(),
        _ => {
            return Err(RunError::NotModelled {
                construct: "str.join of an iterable other than a list or a tuple".into(),
                filename: String::new(),
                line: 0,
            });
        }
    };
    let mut texts = Vec::new();
    for (k, &v) in items.iter().enumerate() {
        if i.o.type_of(v)? != TypeId::Str {
            return Err(RunError::exception(
                "TypeError",
                format!(
                    "sequence item {k}: expected str instance, {} found",
                    i.o.type_of(v)?
                ),
            ));
        }
        texts.push(i.o.unicode_text(v)?);
    }
    if let [one] = items.as_slice() {
        i.incref(*one)?;
        return Ok(*one);
    }
    let sep = i.o.unicode_text(*sep)?;
    Ok(i.o.unicode_new(&texts.join(&sep))?)
}

/// `s.replace(old, new)`: `s` itself when `old` is not there, else a new str (`''` when
/// nothing is left).
fn str_replace(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let [s, old, new] = args else {
        return Err(RunError::NotModelled {
            construct: "str.replace with a count".into(),
            filename: String::new(),
            line: 0,
        });
    };
    for &x in [old, new] {
        i.object_only(x)?;
        if i.o.type_of(x)? != TypeId::Str {
            return Err(RunError::exception(
                "TypeError",
                format!("replace() argument must be str, not {}", i.o.type_of(x)?),
            ));
        }
    }
    let (text, o, n) = (
        i.o.unicode_text(*s)?,
        i.o.unicode_text(*old)?,
        i.o.unicode_text(*new)?,
    );
    if !text.contains(&o) || (o.is_empty() && n.is_empty()) {
        i.incref(*s)?;
        return Ok(*s);
    }
    // replace(): a new str ('' when nothing is left), never the cached character.
    Ok(i.o.unicode_new(&text.replace(&o, &n))?)
}

/// `list.append(x)` (`list_append`, METH_O): the list takes a new reference; `None`.
fn list_append(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let [l, x] = args else {
        return Err(RunError::exception(
            "TypeError",
            format!(
                "list.append() takes exactly one argument ({} given)",
                args.len().saturating_sub(1)
            ),
        ));
    };
    i.object_only(*x)?;
    i.o.list_append(*l, *x)?;
    i.return_none()
}

/// `list.pop()` (`list_pop_impl` with index -1): the last item, whose reference passes to the
/// caller; the list shrinks by `list_resize`.
fn list_pop(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    // Argument Clinic's `pop($self, index=-1, /)`: at most one argument, a Py_ssize_t.
    let l = args[0];
    let index = match &args[1..] {
        [] => -1,
        [x] => ssize_arg(i, *x)?,
        more => {
            return Err(RunError::exception(
                "TypeError",
                format!("pop expected at most 1 argument, got {}", more.len()),
            ));
        }
    };
    // list_pop_impl
    let n = i128::from(i.o.list_len(l)?);
    if n == 0 {
        return Err(RunError::exception("IndexError", "pop from empty list"));
    }
    let index = if index < 0 { index + n } else { index };
    if !(0..n).contains(&index) {
        return Err(RunError::exception("IndexError", "pop index out of range"));
    }
    if index != n - 1 {
        return Err(RunError::NotModelled {
            construct: "list.pop() of an item but the last".into(),
            filename: String::new(),
            line: 0,
        });
    }
    Ok(i.o.list_pop(l)?)
}

/// A `Py_ssize_t` argument as Argument Clinic converts it (`_PyNumber_Index`, then
/// `PyLong_AsSsize_t`).
fn ssize_arg(i: &Interp, x: u64) -> Result<i128, RunError> {
    let t = i.type_name(x)?;
    if i.is_extra(x) || !matches!(i.o.type_of(x)?, TypeId::Int | TypeId::Bool) {
        return Err(RunError::exception(
            "TypeError",
            format!("'{t}' object cannot be interpreted as an integer"),
        ));
    }
    let v = i.o.long_value(x)?;
    if i64::try_from(v).is_err() {
        return Err(RunError::exception(
            "OverflowError",
            "Python int too large to convert to C ssize_t",
        ));
    }
    Ok(v)
}

/// `sys_getrefcount`: `Py_REFCNT(object)`, which counts the reference the call itself holds
/// (the argument on the caller's stack).
fn sys_getrefcount(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("getrefcount", args)?;
    if let Some(e) = i.extras.get(&x) {
        let n = e.refcnt;
        return i.new_int(i128::from(n));
    }
    if i.o.layout().minor <= 10 && held_by_start_up(i, x)? {
        return Err(RunError::NotModelled {
            construct: format!(
                "sys.getrefcount of None, True, False, (), '', a one-character str or a small \
                 int on 3.{} (the references CPython's start-up holds to them are not modelled)",
                i.o.layout().minor
            ),
            filename: String::new(),
            line: 0,
        });
    }
    let n = i.o.refcnt(x)?;
    Ok(i.o.long_from_i128(i128::from(n))?)
}

/// Up to 3.10 `None`, `True`, `False`, `()`, `''`, the one-character strs and the small ints
/// are ordinary objects whose counts include references made at start-up (`getrefcount(())`
/// is above 1000 on 3.10.13, `getrefcount('')` 61); from 3.11 they are static, counted from
/// 999999999 or immortal.
fn held_by_start_up(i: &Interp, x: u64) -> Result<bool, RunError> {
    if x == i.o.none() || x == i.o.bool_object(true) || x == i.o.bool_object(false) {
        return Ok(true);
    }
    Ok(match i.o.type_of(x)? {
        TypeId::Tuple => i.o.tuple_items(x)?.is_empty(),
        TypeId::Int => (-5..=256).contains(&i.o.long_value(x)?),
        TypeId::Str => i.o.is_cached_str(x),
        _ => false,
    })
}

/// `sys._debugmallocstats()` (`sys__debugmallocstats_impl`): pymalloc's report
/// (`_PyObject_DebugMallocStats`), a blank line, then the free lists
/// (`_PyObject_DebugTypeStats`), written by C to the process's stderr.
fn sys_debugmallocstats(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    if !args.is_empty() {
        return Err(RunError::exception(
            "TypeError",
            format!(
                "_debugmallocstats() takes no arguments ({} given)",
                args.len()
            ),
        ));
    }
    let mut report = i.o.allocator().debugmallocstats();
    report.push('\n');
    report.push_str(&i.o.debug_type_stats());
    i.o.write_stderr(&report);
    i.return_none()
}

/// `sys_getsizeof`.
fn sys_getsizeof(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("getsizeof", args)?;
    i.object_only(x)?;
    let n = i.o.getsizeof(x)?;
    Ok(i.o.long_from_i128(i128::from(n))?)
}

/// `sys_intern`.
fn sys_intern(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("intern", args)?;
    i.object_only(x)?;
    if i.o.type_of(x)? != TypeId::Str {
        return Err(RunError::exception(
            "TypeError",
            "intern() argument must be str",
        ));
    }
    Ok(i.o.unicode_intern(x)?)
}
