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
        name: "id",
        call: builtin_id,
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
        name: "intern",
        call: sys_intern,
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
    let mut sep = " ".to_string();
    let mut end = "\n".to_string();
    for (name, v) in &kwargs {
        if !matches!(name.as_str(), "sep" | "end" | "file" | "flush") {
            return Err(RunError::exception(
                "TypeError",
                format!("'{name}' is an invalid keyword argument for print()"),
            ));
        }
        let text = if *v == i.o.none() {
            None
        } else if !i.is_extra(*v) && i.o.type_of(*v)? == TypeId::Str {
            Some(i.o.unicode_text(*v)?)
        } else {
            return Err(RunError::exception(
                "TypeError",
                format!("{name} must be None or a string, not {}", i.type_name(*v)?),
            ));
        };
        match name.as_str() {
            "sep" => sep = text.unwrap_or_else(|| " ".into()),
            "end" => end = text.unwrap_or_else(|| "\n".into()),
            "file" | "flush" => {
                return Err(RunError::NotModelled {
                    construct: format!("print(..., {name}=...)"),
                    filename: String::new(),
                    line: 0,
                });
            }
            other => {
                return Err(RunError::exception(
                    "TypeError",
                    format!("'{other}' is an invalid keyword argument for print()"),
                ));
            }
        }
    }
    for (k, &a) in args.iter().enumerate() {
        if k > 0 {
            i.stdout.push_str(&sep);
        }
        let text = if i.is_extra(a) {
            i.extra_repr(a)?
        } else if i.o.type_of(a)? == TypeId::Str {
            i.o.unicode_text(a)?
        } else {
            let text = i.o.str_of(a)?;
            // PyObject_Str: a new str, released once written.
            let s = i.o.unicode_new(&text)?;
            i.o.decref(s)?;
            text
        };
        i.stdout.push_str(&text);
    }
    i.stdout.push_str(&end);
    let none = i.o.none();
    i.o.incref(none)?;
    Ok(none)
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
        TypeId::Tuple => i.o.tuple_items(x)?.len() as u64,
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

/// `s.replace(old, new)`: `s` itself when `old` is not there, else the result
/// (`unicode_result`: `''` or the cached character for short ones).
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
    i.unicode_result(&text.replace(&o, &n))
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
    let none = i.o.none();
    i.incref(none)?;
    Ok(none)
}

/// `list.pop()` (`list_pop_impl` with index -1): the last item, whose reference passes to the
/// caller; the list shrinks by `list_resize`.
fn list_pop(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let l = args[0];
    let n = i.o.list_len(l)?;
    if let Some(&index) = args.get(1) {
        let k = i.o.long_value(index)?;
        if k != -1 && k != n as i128 - 1 {
            return Err(RunError::NotModelled {
                construct: "list.pop() of an item but the last".into(),
                filename: String::new(),
                line: 0,
            });
        }
    }
    if n == 0 {
        return Err(RunError::exception("IndexError", "pop from empty list"));
    }
    Ok(i.o.list_pop(l)?)
}

/// `sys_getrefcount`: `Py_REFCNT(object)`, which counts the reference the call itself holds
/// (the argument on the caller's stack).
fn sys_getrefcount(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let x = one_arg("getrefcount", args)?;
    if let Some(e) = i.extras.get(&x) {
        let n = e.refcnt;
        return i.new_int(i128::from(n));
    }
    let n = i.o.refcnt(x)?;
    Ok(i.o.long_from_i128(i128::from(n))?)
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
