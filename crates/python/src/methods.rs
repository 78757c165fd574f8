//! The methods of the built-in containers and strs the modelled programs call, each as its C
//! function does it (`Objects/listobject.c`, `Objects/dictobject.c`,
//! `Objects/unicodeobject.c`), and `enumerate` (`Objects/enumobject.c`). Every one takes
//! borrowed arguments, the object first, and returns a new reference.

use objects::TypeId;

use crate::error::RunError;
use crate::interp::Interp;
use crate::iterobject::DictViewKind;

fn none(i: &mut Interp) -> Result<u64, RunError> {
    let n = i.o.none();
    i.incref(n)?;
    Ok(n)
}

fn arity(name: &str, args: &[u64], min: usize, max: usize) -> Result<(), RunError> {
    let given = args.len() - 1;
    if given < min || given > max {
        let wanted = if min == max {
            format!("exactly one argument ({given} given)")
        } else {
            format!("at most {max} arguments, got {given}")
        };
        let message = match (min, max) {
            (0, 0) => format!("{name}() takes no arguments ({given} given)"),
            _ => format!("{name}() takes {wanted}"),
        };
        return Err(RunError::exception("TypeError", message));
    }
    Ok(())
}

/// `enumerate(iterable)`.
pub(crate) fn builtin_enumerate(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    match args {
        [x] => i.enumerate(*x),
        [_, start] if !i.is_extra(*start) => Err(RunError::NotModelled {
            construct: "enumerate() with a start".into(),
            filename: String::new(),
            line: 0,
        }),
        _ => Err(RunError::exception(
            "TypeError",
            format!(
                "enumerate() takes at most 2 arguments ({} given)",
                args.len()
            ),
        )),
    }
}

// ---- list ---------------------------------------------------------------------------------

/// `list.extend(iterable)` (`list_extend`): a list or a tuple through the fast path.
pub(crate) fn list_extend(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    arity("list.extend", args, 1, 1)?;
    let (l, x) = (args[0], args[1]);
    if i.is_extra(x) || !matches!(i.o.type_of(x)?, TypeId::List | TypeId::Tuple) {
        return Err(RunError::NotModelled {
            construct: "list.extend() of an iterable other than a list or a tuple".into(),
            filename: String::new(),
            line: 0,
        });
    }
    i.o.list_extend(l, x)?;
    none(i)
}

/// `list.insert(index, object)` (`ins1`): the index clamped to the list, then `list_resize`
/// and the items after it moved up one.
pub(crate) fn list_insert(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let [l, index, x] = *args else {
        return Err(RunError::exception(
            "TypeError",
            format!("insert expected 2 arguments, got {}", args.len() - 1),
        ));
    };
    i.object_only(x)?;
    let n = i.o.list_len(l)? as i128;
    let mut at = i.o.long_value(index)?;
    if at < 0 {
        at = (at + n).max(0);
    }
    i.o.list_insert(l, at.min(n) as u64, x)?;
    none(i)
}

/// `list.index(value)` and `list.count(value)`: `PyObject_RichCompareBool(item, value, Py_EQ)`
/// over the items, identity first.
fn list_matches(i: &mut Interp, l: u64, x: u64) -> Result<Vec<bool>, RunError> {
    let n = i.o.list_len(l)?;
    let mut out = Vec::with_capacity(n as usize);
    for k in 0..n {
        let item = i.o.list_get(l, k)?;
        let equal = if item == x {
            true
        } else {
            let r = i.rich_compare(item, x, 2)?;
            let t = i.is_true(r)?;
            i.decref(r)?;
            t
        };
        out.push(equal);
    }
    Ok(out)
}

/// `list.index(value)`.
pub(crate) fn list_index(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    arity("index", args, 1, 1)?;
    match list_matches(i, args[0], args[1])?.iter().position(|&m| m) {
        Some(k) => i.new_int(k as i128),
        None => Err(RunError::exception(
            "ValueError",
            "list.index(x): x not in list",
        )),
    }
}

/// `list.count(value)`.
pub(crate) fn list_count(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    arity("count", args, 1, 1)?;
    let n = list_matches(i, args[0], args[1])?
        .iter()
        .filter(|&&m| m)
        .count();
    i.new_int(n as i128)
}

/// `list.remove(value)`: the first equal item deleted (`list_ass_slice(self, i, i+1, NULL)`).
pub(crate) fn list_remove(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    arity("remove", args, 1, 1)?;
    match list_matches(i, args[0], args[1])?.iter().position(|&m| m) {
        Some(k) => {
            i.o.list_del_item(args[0], k as u64)?;
            none(i)
        }
        None => Err(RunError::exception(
            "ValueError",
            "list.remove(x): x not in list",
        )),
    }
}

/// `list.reverse()`: the items swapped in place.
pub(crate) fn list_reverse(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    arity("reverse", args, 0, 0)?;
    i.o.list_reverse(args[0])?;
    none(i)
}

/// `list.clear()` (`_list_clear`).
pub(crate) fn list_clear(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    arity("clear", args, 0, 0)?;
    i.o.list_clear(args[0])?;
    none(i)
}

// ---- dict ---------------------------------------------------------------------------------

/// The argument check of `dict.get`, `setdefault` and `pop`: a key (hashable) and maybe a
/// default.
fn key_and_default(name: &str, i: &mut Interp, args: &[u64]) -> Result<(), RunError> {
    if !(2..=3).contains(&args.len()) {
        return Err(RunError::exception(
            "TypeError",
            format!(
                "{name} expected at most 2 arguments, got {}",
                args.len() - 1
            ),
        ));
    }
    i.hashable(args[1])
}

/// `dict.get(key, default=None)`.
pub(crate) fn dict_get(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    key_and_default("get", i, args)?;
    let v = match i.o.dict_getitem(args[0], args[1])? {
        Some(v) => v,
        None => args.get(2).copied().unwrap_or(i.o.none()),
    };
    i.incref(v)?;
    Ok(v)
}

/// `dict.setdefault(key, default=None)`: the value, inserting the default first if missing.
pub(crate) fn dict_setdefault(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    key_and_default("setdefault", i, args)?;
    let v = match i.o.dict_getitem(args[0], args[1])? {
        Some(v) => v,
        None => {
            let d = args.get(2).copied().unwrap_or(i.o.none());
            i.object_only(d)?;
            i.o.dict_setitem(args[0], args[1], d)?;
            d
        }
    };
    i.incref(v)?;
    Ok(v)
}

/// `dict.pop(key[, default])`: the value, its entry deleted; the default, or KeyError.
pub(crate) fn dict_pop(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    key_and_default("pop", i, args)?;
    match i.o.dict_getitem(args[0], args[1])? {
        Some(v) => {
            // _PyDict_Pop: the value's reference moves to the caller; the key's is released.
            i.incref(v)?;
            i.o.dict_delitem(args[0], args[1])?;
            Ok(v)
        }
        None => match args.get(2) {
            Some(&d) => {
                i.incref(d)?;
                Ok(d)
            }
            None => {
                let k = i.o.repr(args[1])?;
                Err(RunError::exception("KeyError", k))
            }
        },
    }
}

fn view(i: &mut Interp, args: &[u64], name: &str, kind: DictViewKind) -> Result<u64, RunError> {
    arity(name, args, 0, 0)?;
    i.dict_view(args[0], kind)
}

/// `dict.keys()`.
pub(crate) fn dict_keys(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    view(i, args, "keys", DictViewKind::Keys)
}

/// `dict.values()`.
pub(crate) fn dict_values(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    view(i, args, "values", DictViewKind::Values)
}

/// `dict.items()`.
pub(crate) fn dict_items(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    view(i, args, "items", DictViewKind::Items)
}

// ---- str ----------------------------------------------------------------------------------

fn str_arg(i: &Interp, x: u64, what: &str) -> Result<String, RunError> {
    if i.is_extra(x) || i.o.type_of(x)? != TypeId::Str {
        return Err(RunError::exception(
            "TypeError",
            format!("{what} must be str, not {}", i.type_name(x)?),
        ));
    }
    Ok(i.o.unicode_text(x)?)
}

/// A str for a piece of `s`: `s` itself when the piece is all of it
/// (`unicode_result_unchanged`), the cached str of a one-character latin-1 piece, else new.
fn substring(i: &mut Interp, s: u64, whole: &str, piece: &str) -> Result<u64, RunError> {
    if piece.len() == whole.len() {
        i.incref(s)?;
        return Ok(s);
    }
    let mut chars = piece.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && (c as u32) < 256
    {
        return Ok(i.o.unicode_from_str(piece)?);
    }
    if piece.is_empty() {
        return Ok(i.o.unicode_from_str("")?);
    }
    Ok(i.o.unicode_new(piece)?)
}

/// `str.startswith(prefix)`.
pub(crate) fn str_startswith(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    arity("startswith", args, 1, 1)?;
    let s = i.o.unicode_text(args[0])?;
    let p = str_arg(i, args[1], "startswith first arg")?;
    i.new_bool(s.starts_with(&p))
}

/// `str.endswith(suffix)`.
pub(crate) fn str_endswith(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    arity("endswith", args, 1, 1)?;
    let s = i.o.unicode_text(args[0])?;
    let p = str_arg(i, args[1], "endswith first arg")?;
    i.new_bool(s.ends_with(&p))
}

/// `str.upper()` and `str.lower()` of an ASCII str (`ascii_upper_or_lower`): always a new
/// str; others are not modelled (their case mappings are Unicode's).
fn ascii_case(i: &mut Interp, args: &[u64], name: &str, upper: bool) -> Result<u64, RunError> {
    arity(name, args, 0, 0)?;
    let s = i.o.unicode_text(args[0])?;
    if !s.is_ascii() {
        return Err(RunError::NotModelled {
            construct: format!("str.{name}() of a non-ASCII str"),
            filename: String::new(),
            line: 0,
        });
    }
    let t = if upper {
        s.to_ascii_uppercase()
    } else {
        s.to_ascii_lowercase()
    };
    Ok(i.o.unicode_new(&t)?)
}

/// `str.upper()`.
pub(crate) fn str_upper(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    ascii_case(i, args, "upper", true)
}

/// `str.lower()`.
pub(crate) fn str_lower(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    ascii_case(i, args, "lower", false)
}

/// `str.strip()` (`do_strip`): whitespace off both ends.
pub(crate) fn str_strip(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    arity("strip", args, 0, 0)?;
    let s = i.o.unicode_text(args[0])?;
    let piece = s.trim_matches(char::is_whitespace).to_string();
    substring(i, args[0], &s, &piece)
}

/// `str.split()` on whitespace (`split_whitespace`): a list made with room for 12
/// (`PREALLOC_SIZE`), the first 12 pieces set in place and the rest appended, its size then
/// set to the count; a str with no whitespace to split is its own single piece.
pub(crate) fn str_split(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    if args.len() != 1 {
        return Err(RunError::NotModelled {
            construct: "str.split() with a separator or a count".into(),
            filename: String::new(),
            line: 0,
        });
    }
    const MAX_PREALLOC: u64 = 12;
    let s = i.o.unicode_text(args[0])?;
    let pieces: Vec<String> = s.split_whitespace().map(str::to_string).collect();
    let list = i.o.list_new(MAX_PREALLOC)?;
    for (k, piece) in pieces.iter().enumerate() {
        let sub = substring(i, args[0], &s, piece)?;
        if (k as u64) < MAX_PREALLOC {
            i.o.list_set(list, k as u64, sub)?;
        } else {
            i.o.list_append(list, sub)?;
            i.decref(sub)?;
        }
    }
    i.o.list_set_size(list, pieces.len() as u64)?;
    Ok(list)
}
