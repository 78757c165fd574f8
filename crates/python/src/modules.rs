//! The extension modules the modelled programs import, made when first imported (as CPython's
//! import system runs a module's init function then): `ctypes` (`Modules/_ctypes` and
//! `Lib/ctypes/__init__.py`, only `cast` and `py_object`) and `gc` (`Modules/gcmodule.c`'s
//! interface: the counts the object layer keeps, the collector of `crates/gc`).

use objects::{Field, TypeId};

use crate::error::RunError;
use crate::interp::Interp;

/// The modules [`Interp::import_extension`] can make, by name.
pub(crate) const EXTENSIONS: [&str; 4] = ["ctypes", "gc", "os", "_model"];

/// The model's process id, which `os.getpid()` returns: like its addresses, the same on every
/// run.
pub(crate) const MODEL_PID: i128 = 4242;

impl Interp {
    /// Makes and registers `name` (one of [`EXTENSIONS`]): a new reference to the module, or
    /// `None` for a module the model lacks.
    pub(crate) fn import_extension(&mut self, name: &str) -> Result<Option<u64>, RunError> {
        if !EXTENSIONS.contains(&name) {
            return Ok(None);
        }
        let m = self.new_module(name)?;
        self.add_functions(m, name)?;
        if name == "gc" {
            self.gc_exec(m)?;
        }
        if name == "ctypes" {
            // class py_object(_SimpleCData): _type_ = "O"
            let key = self.intern("py_object")?;
            let dict = self.o.field(m, Field::MdDict)?;
            let ty = self.o.type_object(TypeId::CData);
            self.o.dict_setitem(dict, key, ty)?;
            self.o.decref(key)?;
        }
        Ok(Some(m))
    }

    /// `gc_exec`: the module's `garbage` and `callbacks` (`gcstate`'s lists, made at
    /// start-up) and its `DEBUG_*` flags.
    fn gc_exec(&mut self, m: u64) -> Result<(), RunError> {
        let dict = self.o.field(m, Field::MdDict)?;
        let c = self.o.gc_counts();
        for (name, list) in [("garbage", c.garbage), ("callbacks", c.callbacks)] {
            let key = self.intern(name)?;
            self.o.dict_setitem(dict, key, list)?;
            self.o.decref(key)?;
        }
        for (name, flag) in [
            ("DEBUG_STATS", gc::DEBUG_STATS),
            ("DEBUG_COLLECTABLE", gc::DEBUG_COLLECTABLE),
            ("DEBUG_UNCOLLECTABLE", gc::DEBUG_UNCOLLECTABLE),
            ("DEBUG_SAVEALL", gc::DEBUG_SAVEALL),
            ("DEBUG_LEAK", gc::DEBUG_LEAK),
        ] {
            let key = self.intern(name)?;
            let v = self.new_int(i128::from(flag))?;
            self.o.dict_setitem(dict, key, v)?;
            self.o.decref(v)?;
            self.o.decref(key)?;
        }
        Ok(())
    }

    /// `PyObject_IsInstance(value, type)` where `type`'s metaclass is not `type` (a ctypes
    /// type): `__instancecheck__` is looked up on the metaclass and bound to `type`, which
    /// makes a built-in method object (3.9+; 3.8 takes it from the `PyCFunction` free list),
    /// called, then released. On 3.8–3.10 the first call also makes the identifier's str
    /// (`_Py_IDENTIFIER(__instancecheck__)`): `PyUnicode_InternInPlace` finds the one interned
    /// by start-up (`type`'s dict holds it) and the new str is freed at once.
    fn ctypes_instancecheck(&mut self, ty: u64) -> Result<(), RunError> {
        if self.o.layout().minor <= 10 && !self.identifiers.contains("__instancecheck__") {
            self.identifiers.insert("__instancecheck__");
            let s = self.o.unicode_from_str("__instancecheck__")?;
            self.o.decref(s)?;
        }
        let def = self
            .defs
            .iter()
            .position(|d| d.module == "type" && d.name == "__instancecheck__")
            .expect("type.__instancecheck__ is a MethodDef");
        let bound = self.o.cfunction_new(def, "__instancecheck__", ty, 0)?;
        self.incref(ty)?;
        self.decref(bound)?;
        self.decref(ty)
    }

    /// `py_object`'s `value` getter (`Simple_get_value` -> `O_get`): a new reference to
    /// whatever the pointer names, taken as C's `Py_INCREF` takes it, alive or not; NULL
    /// raises.
    pub(crate) fn cdata_get_value(&mut self, op: u64) -> Result<u64, RunError> {
        let v = self.o.cdata_value(op)?;
        if v == 0 {
            return Err(RunError::exception("ValueError", "PyObject is NULL"));
        }
        self.o.c_incref(v)?;
        Ok(v)
    }
}

/// `ctypes.cast(obj, typ)`: `_cast(obj, obj, typ)`, the foreign function `cast` of `_ctypes`
/// with argtypes `(c_void_p, py_object, py_object)` and restype `py_object`
/// (`Lib/ctypes/__init__.py`). `_ctypes_callproc` converts each argument into a
/// `PyCArgObject` through its converter, calls `cast(ptr, src, ctype)` (which makes the
/// `py_object` and stores `ptr` in it), then releases the converted arguments in order.
/// `crates/python/measurements/ctypes_cast.3.X.txt` records these allocations on each version
/// (3.13 also frees a block in `_PyType_LookupRef` on the first call, not modelled here).
pub(crate) fn ctypes_cast(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let [obj, typ] = *args else {
        return Err(RunError::exception(
            "TypeError",
            format!(
                "cast() takes 2 positional arguments but {} were given",
                args.len()
            ),
        ));
    };
    i.object_only(obj)?;
    if typ != i.o.type_object(TypeId::CData) {
        return Err(RunError::NotModelled {
            construct: "ctypes.cast() to a type other than ctypes.py_object".into(),
            filename: String::new(),
            line: 0,
        });
    }
    if i.o.type_of(obj)? != TypeId::Int {
        return Err(RunError::NotModelled {
            construct: format!("ctypes.cast() of a '{}' object", i.type_name(obj)?),
            filename: String::new(),
            line: 0,
        });
    }
    let Some(ptr) = i.o.long_value(obj).ok().and_then(|v| u64::try_from(v).ok()) else {
        return Err(RunError::exception(
            "ctypes.ArgumentError",
            "argument 1: OverflowError: int too long to convert",
        ));
    };
    // c_void_p_from_param (an int): a 'P' argument; P_set keeps None.
    let none = i.o.none();
    i.incref(none)?;
    let arg0 = i.o.carg_new(b'P', ptr, none)?;
    // PyCSimpleType_from_param for py_object, twice: the isinstance check, then an 'O'
    // argument whose obj is the value itself (O_set: a new reference).
    let mut converted = vec![arg0];
    for value in [obj, typ] {
        i.ctypes_instancecheck(typ)?;
        i.incref(value)?;
        converted.push(i.o.carg_new(b'O', value, value)?);
    }
    // cast(): result = PyObject_CallNoArgs(ctype); *(void **)result->b_ptr = ptr.
    let result = i.o.cdata_new(ptr)?;
    for a in converted {
        i.decref(a)?;
    }
    Ok(result)
}

/// `_model.memory_info()`: `(rss, vms)` of the model's address space (the pages written, the
/// bytes mapped), for the model's psutil (`lib/psutil.py`).
pub(crate) fn model_memory_info(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    let a = i.o.allocator();
    let (rss, vms) = (a.rss(), a.vms());
    let t = i.o.tuple_new(2)?;
    let rss = i.new_int(i128::from(rss))?;
    i.o.tuple_set_item(t, 0, rss)?;
    let vms = i.new_int(i128::from(vms))?;
    i.o.tuple_set_item(t, 1, vms)?;
    Ok(t)
}

/// `os.getpid()`.
pub(crate) fn os_getpid(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    i.new_int(MODEL_PID)
}

/// `type.__instancecheck__(cls, instance)` (`type___instancecheck__`): whether `instance`'s
/// type is `cls` (the model's types have no subclasses here).
pub(crate) fn type_instancecheck(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let [cls, instance] = *args else {
        return Err(RunError::exception(
            "TypeError",
            "__instancecheck__() takes exactly one argument",
        ));
    };
    let t = i.o.type_object(i.o.type_of(instance)?);
    let b = i.o.bool_object(t == cls);
    i.incref(b)?;
    Ok(b)
}

/// `gc.get_count()`: `(count0, count1, count2)`.
pub(crate) fn gc_get_count(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    let c = i.o.gc_counts();
    i.new_tuple_of_ints(&[c.count0, c.count1, c.count2].map(i128::from))
}

impl Interp {
    /// `Py_BuildValue("(iii)", a, b, c)`: the tuple first (`do_mktuple`), then each int, set in
    /// place.
    fn new_tuple_of_ints(&mut self, items: &[i128]) -> Result<u64, RunError> {
        let t = self.o.tuple_new(items.len() as u64)?;
        for (k, &v) in items.iter().enumerate() {
            let n = self.new_int(v)?;
            self.o.tuple_set_item(t, k, n)?;
        }
        Ok(t)
    }
}

/// `gc.get_threshold()`: `(700, 10, 10)` at start, `(2000, 10, 10)` on 3.13.
pub(crate) fn gc_get_threshold(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    let c = i.o.gc_counts();
    i.new_tuple_of_ints(&[c.threshold0, c.threshold1, c.threshold2].map(i128::from))
}

/// `gc.set_threshold(threshold0[, threshold1[, threshold2]])` (`"i|ii:set_threshold"`): any
/// int that fits in a C int, negative ones too (CPython checks nothing more).
pub(crate) fn gc_set_threshold(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    if args.is_empty() || args.len() > 3 {
        let n = args.len();
        return Err(RunError::exception(
            "TypeError",
            if n == 0 {
                "set_threshold() takes at least 1 argument (0 given)".to_string()
            } else {
                format!("set_threshold() takes at most 3 arguments ({n} given)")
            },
        ));
    }
    let mut values = Vec::new();
    for &a in args {
        values.push(c_int(i, a)?);
    }
    let c = i.o.gc_counts_mut();
    for (k, v) in values.into_iter().enumerate() {
        match k {
            0 => c.threshold0 = v,
            1 => c.threshold1 = v,
            _ => c.threshold2 = v,
        }
    }
    i.return_none()
}

/// `gc.is_tracked(obj)`: a GC object linked in one of the collector's lists.
pub(crate) fn gc_is_tracked(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let [obj] = *args else {
        return Err(RunError::exception(
            "TypeError",
            format!(
                "gc.is_tracked() takes exactly one argument ({} given)",
                args.len()
            ),
        ));
    };
    let tracked = !i.is_extra(obj) && i.o.is_gc(obj) && i.o.gc_is_tracked(obj);
    let b = i.o.bool_object(tracked);
    i.incref(b)?;
    Ok(b)
}

/// `gc.isenabled()`.
pub(crate) fn gc_isenabled(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    let b = i.o.bool_object(i.o.gc_counts().enabled);
    i.incref(b)?;
    Ok(b)
}

/// `gc.enable()`.
pub(crate) fn gc_enable(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    i.o.gc_set_enabled(true);
    i.return_none()
}

/// `gc.disable()`.
pub(crate) fn gc_disable(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    i.o.gc_set_enabled(false);
    i.return_none()
}

/// `gc.collect(generation=2)` (`gc_collect_impl`): the number of unreachable objects found,
/// 0 if a collection is already running.
pub(crate) fn gc_collect(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let generation = optional_int(i, args, "collect", false)?.unwrap_or(2);
    let Ok(generation @ 0..=2) = usize::try_from(generation) else {
        return Err(RunError::exception("ValueError", "invalid generation"));
    };
    if i.o.gc_counts().collecting {
        return i.new_int(0);
    }
    i.o.gc_counts_mut().collecting = true;
    let found = i.collect_with_callback(generation);
    i.o.gc_counts_mut().collecting = false;
    i.new_int(found? as i128)
}

/// `gc.set_debug(flags)` (`"i:set_debug"`).
pub(crate) fn gc_set_debug(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let [flags] = *args else {
        return Err(RunError::exception(
            "TypeError",
            format!(
                "set_debug() takes exactly one argument ({} given)",
                args.len()
            ),
        ));
    };
    i.o.gc_counts_mut().debug = c_int(i, flags)?;
    i.return_none()
}

/// `PyArg_Parse`'s `"i"`: an int that fits in a C int.
fn c_int(i: &Interp, a: u64) -> Result<i64, RunError> {
    if !matches!(i.o.type_of(a)?, TypeId::Int | TypeId::Bool) {
        return Err(RunError::exception(
            "TypeError",
            format!(
                "'{}' object cannot be interpreted as an integer",
                i.type_name(a)?
            ),
        ));
    }
    let v = i.o.long_value(a)?;
    i32::try_from(v).map(i64::from).map_err(|_| {
        let bound = if v < 0 {
            "less than minimum"
        } else {
            "greater than maximum"
        };
        RunError::exception("OverflowError", format!("signed integer is {bound}"))
    })
}

/// `gc.get_debug()`.
pub(crate) fn gc_get_debug(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    let flags = i.o.gc_counts().debug;
    i.new_int(i128::from(flags))
}

/// `gc.get_stats()` (`gc_get_stats_impl`): a snapshot of each generation's stats, then a list
/// of one dict per generation (`Py_BuildValue("{snsnsn}", ...)`), each appended and released.
pub(crate) fn gc_get_stats(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    if !args.is_empty() {
        return Err(RunError::exception(
            "TypeError",
            format!("get_stats() takes no arguments ({} given)", args.len()),
        ));
    }
    let stats = i.o.gc_counts().stats;
    let result = i.o.list_new(0)?;
    for st in stats {
        let dict = i.dict_of_ints(&[
            ("collections", st.collections),
            ("collected", st.collected),
            ("uncollectable", st.uncollectable),
        ])?;
        i.o.list_append(result, dict)?;
        i.o.decref(dict)?;
    }
    Ok(result)
}

/// `gc.freeze()`: every tracked object into the permanent generation.
pub(crate) fn gc_freeze(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    gc::freeze(&mut i.o)?;
    i.return_none()
}

/// `gc.unfreeze()`: the permanent generation back into the oldest.
pub(crate) fn gc_unfreeze(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    gc::unfreeze(&mut i.o)?;
    i.return_none()
}

/// `gc.get_freeze_count()`.
pub(crate) fn gc_get_freeze_count(i: &mut Interp, _args: &[u64]) -> Result<u64, RunError> {
    let n = gc::freeze_count(&i.o);
    i.new_int(n as i128)
}

/// `gc.get_referents(*objs)`: a new list of what each GC object among `objs` visits in its
/// `tp_traverse`, in order (other objects give nothing).
pub(crate) fn gc_get_referents(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let result = i.o.list_new(0)?;
    for &obj in args {
        if i.is_extra(obj) || !i.o.is_gc(obj) {
            continue;
        }
        for target in i.o.tp_traverse(obj)? {
            i.o.list_append(result, target)?;
        }
    }
    Ok(result)
}

/// `gc.get_referrers(*objs)`: a new list of the tracked objects of generations 0, 1 and 2, in
/// that order and each list's, whose `tp_traverse` visits one of `objs` (`gc_referrers_for`;
/// the result list itself is skipped). The permanent generation is not searched.
pub(crate) fn gc_get_referrers(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let result = i.o.list_new(0)?;
    for generation in 0..objects::gclist::NUM_GENERATIONS {
        let head = i.o.gen_head(generation);
        for obj in i.o.gc_list(head) {
            if obj == result {
                continue;
            }
            if i.o.tp_traverse(obj)?.iter().any(|t| args.contains(t)) {
                i.o.list_append(result, obj)?;
            }
        }
    }
    Ok(result)
}

/// `gc.get_objects(generation=None)`: a new list of the tracked objects of one generation, or
/// of generations 0, 1 and 2 in that order (`append_objects`, the result list skipped).
pub(crate) fn gc_get_objects(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let generations: Vec<usize> = match optional_int(i, args, "get_objects", true)? {
        None => (0..objects::gclist::NUM_GENERATIONS).collect(),
        Some(g) if g < 0 => {
            return Err(RunError::exception(
                "ValueError",
                "generation parameter cannot be negative",
            ));
        }
        Some(g) if g >= objects::gclist::NUM_GENERATIONS as i128 => {
            return Err(RunError::exception(
                "ValueError",
                "generation parameter must be less than the number of available generations (3)",
            ));
        }
        Some(g) => vec![g as usize],
    };
    let result = i.o.list_new(0)?;
    for generation in generations {
        let head = i.o.gen_head(generation);
        for obj in i.o.gc_list(head) {
            if obj != result {
                i.o.list_append(result, obj)?;
            }
        }
    }
    Ok(result)
}

/// One optional int argument, as `gc`'s functions parse it: none given (or `None`, where
/// `none_ok`), an int, or the errors CPython gives for anything else.
fn optional_int(
    i: &Interp,
    args: &[u64],
    name: &str,
    none_ok: bool,
) -> Result<Option<i128>, RunError> {
    match args {
        [] => Ok(None),
        [g] if none_ok && *g == i.o.none() => Ok(None),
        [g] if matches!(i.o.type_of(*g)?, TypeId::Int | TypeId::Bool) => {
            Ok(Some(i.o.long_value(*g)?))
        }
        [g] => Err(RunError::exception(
            "TypeError",
            format!(
                "'{}' object cannot be interpreted as an integer",
                i.type_name(*g)?
            ),
        )),
        _ => Err(RunError::exception(
            "TypeError",
            format!("{name}() takes at most 1 argument ({} given)", args.len()),
        )),
    }
}
