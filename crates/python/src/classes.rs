//! Classes at run time: `__build_class__` (`Python/bltinmodule.c`), calling a class
//! (`type_call`, `object_new`, `slot_tp_init`), attributes of instances and classes
//! (`PyObject_GenericGetAttr`, `_PyObject_GetMethod`, `type_getattro`, `PyObject_GenericSetAttr`,
//! `type_setattro`), bound methods (`PyMethod_New`), `__del__` (`slot_tp_finalize`),
//! `type(x)` and `isinstance` (`Objects/typeobject.c`, `Objects/abstract.c`). The classes
//! themselves are the object layer's ([`objects::Objects::type_new_impl`]).

use objects::{Field, TypeId};

use crate::error::RunError;
use crate::interp::Interp;

/// What `_PyObject_GetMethod` found: a function to call with the object first (no bound
/// method made), or the attribute itself.
pub(crate) enum Method {
    Unbound(u64),
    Attribute(u64),
}

fn not_modelled(construct: String) -> RunError {
    RunError::NotModelled {
        construct,
        filename: String::new(),
        line: 0,
    }
}

/// Whether `name` is a special name (`__x__`), which `object` and `type` answer through slots
/// and descriptors the model mostly lacks.
fn is_special(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__")
}

/// `builtin___build_class__(func, name)`: a new namespace (`type.__prepare__`, `PyDict_New`),
/// the class body run with it as its locals (`_PyEval_Vector`), then `type(name, (), ns)`
/// (`type_call` -> `type_new`); the namespace released. Not modelled: the bound
/// `type.__prepare__` made and freed on the way, and base classes.
pub(crate) fn builtin_build_class(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let [func, name] = *args else {
        return Err(not_modelled("__build_class__ with base classes".into()));
    };
    if i.is_extra(func) || i.o.type_of(func)? != TypeId::Function {
        return Err(RunError::exception(
            "TypeError",
            "__build_class__: func must be a function",
        ));
    }
    if i.is_extra(name) || i.o.type_of(name)? != TypeId::Str {
        return Err(RunError::exception(
            "TypeError",
            "__build_class__: name is not a string",
        ));
    }
    let ns = i.o.dict_new()?;
    i.c_held.push(ns);
    let cell = match i.eval_class_body(func, ns) {
        Ok(cell) => cell,
        Err(e) => {
            i.let_go(&[ns])?;
            return Err(e);
        }
    };
    let cls = i.o.type_new_impl(name, ns);
    i.decref(cell)?;
    i.let_go(&[ns])?;
    Ok(cls?)
}

/// `isinstance(obj, cls)` (`PyObject_IsInstance`): a class or a built-in type, or a tuple of
/// them.
pub(crate) fn builtin_isinstance(i: &mut Interp, args: &[u64]) -> Result<u64, RunError> {
    let [obj, cls] = *args else {
        return Err(RunError::exception(
            "TypeError",
            format!("isinstance expected 2 arguments, got {}", args.len()),
        ));
    };
    let r = i.is_instance(obj, cls)?;
    i.new_bool(r)
}

impl Interp {
    fn is_instance(&mut self, obj: u64, cls: u64) -> Result<bool, RunError> {
        if !self.is_extra(cls) && self.o.type_of(cls)? == TypeId::Tuple {
            for c in self.o.tuple_items(cls)? {
                if self.is_instance(obj, c)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        if self.o.is_class(cls) {
            // PyType_IsSubtype through the mro: a class without bases has only itself.
            return Ok(!self.is_extra(obj)
                && self.o.type_of(obj)? == TypeId::Instance
                && self.o.class_of(obj)? == cls);
        }
        let Some(t) = self.o.static_type_at(cls) else {
            return Err(RunError::exception(
                "TypeError",
                "isinstance() arg 2 must be a type, a tuple of types, or a union",
            ));
        };
        if self.is_extra(obj) {
            return Ok(t == TypeId::Object);
        }
        let own = self.o.type_of(obj)?;
        Ok(own == t || t == TypeId::Object || (t == TypeId::Int && own == TypeId::Bool))
    }

    /// An instance hashes as `object_hash` does (its address, `_Py_HashPointer`) unless its
    /// class defines `__hash__` (`slot_tp_hash`, Python code) or `__eq__` (which makes
    /// `__hash__` None): those are not modelled.
    pub(crate) fn instance_hashable(&mut self, obj: u64) -> Result<(), RunError> {
        let cls = self.o.class_of(obj)?;
        for name in ["__hash__", "__eq__"] {
            let key = self.o.py_id(name)?;
            if self.type_lookup(cls, key)?.is_some() {
                return Err(not_modelled(format!("an instance of a class with {name}")));
            }
        }
        Ok(())
    }

    /// `type(x)`: the class of an instance, else the built-in type (a new reference).
    pub(crate) fn type_of_object(&mut self, x: u64) -> Result<u64, RunError> {
        if self.is_extra(x) {
            return Err(not_modelled(format!(
                "type() of a '{}'",
                self.type_name(x)?
            )));
        }
        let t = match self.o.type_of(x)? {
            TypeId::Instance => self.o.class_of(x)?,
            ty => self.o.type_object(ty),
        };
        self.incref(t)?;
        Ok(t)
    }

    /// `type_call` of a class through `_PyObject_MakeTpCall`, which packs the positional
    /// arguments into a tuple and the keyword arguments into a dict (`_PyStack_AsDict`):
    /// `object_new` (an instance), then `slot_tp_init` when the class has `__init__`. The
    /// arguments are borrowed; the keyword ones are the last, named in `self.kwargs`.
    pub(crate) fn type_call(&mut self, cls: u64, args: &[u64]) -> Result<u64, RunError> {
        let kwargs = std::mem::take(&mut self.kwargs);
        let nargs = args.len() - kwargs.len();
        let tuple = self.o.tuple_pack(&args[..nargs])?;
        let kwdict = if kwargs.is_empty() {
            0
        } else {
            let d = self.o.dict_new()?;
            let names = self.o.tuple_items(self.kwnames)?;
            for (&key, &value) in names.iter().zip(&args[nargs..]) {
                self.o.dict_setitem(d, key, value)?;
            }
            d
        };
        self.c_held.extend([tuple, kwdict]);
        let result = self.type_call_tuple(cls, tuple, kwdict);
        self.let_go(&[tuple, kwdict])?;
        result
    }

    /// Releases references C code held (in [`Interp::c_held`] meanwhile).
    pub(crate) fn let_go(&mut self, refs: &[u64]) -> Result<(), RunError> {
        for &r in refs {
            if let Some(k) = self.c_held.iter().rposition(|&h| h == r) {
                self.c_held.remove(k);
            }
            self.decref(r)?;
        }
        Ok(())
    }

    fn type_call_tuple(&mut self, cls: u64, args: u64, kwds: u64) -> Result<u64, RunError> {
        let init_key = self.o.py_id("__init__")?;
        let init = self.type_lookup(cls, init_key)?;
        let items = self.o.tuple_items(args)?;
        let nkw = if kwds == 0 { 0 } else { self.o.dict_len(kwds)? };
        if init.is_none() && (!items.is_empty() || nkw != 0) {
            // object_new: excess arguments and neither __new__ nor __init__ overridden.
            let name = self.o.unicode_text(self.o.class_name(cls, false)?)?;
            return Err(RunError::exception(
                "TypeError",
                format!("{name}() takes no arguments"),
            ));
        }
        let obj = self.o.instance_new(cls)?;
        let Some(init) = init else {
            return Ok(obj);
        };
        self.c_held.push(obj);
        let res = self.slot_tp_init(obj, init, &items, kwds);
        if let Some(k) = self.c_held.iter().rposition(|&h| h == obj) {
            self.c_held.remove(k);
        }
        match res {
            Ok(()) => Ok(obj),
            Err(e) => {
                self.decref(obj)?;
                Err(e)
            }
        }
    }

    /// `slot_tp_init`: `__init__` (found by `lookup_method`, a new reference held meanwhile)
    /// called with the instance prepended (`_PyObject_Call_Prepend`); anything but None is a
    /// `TypeError`.
    fn slot_tp_init(
        &mut self,
        obj: u64,
        init: u64,
        args: &[u64],
        kwds: u64,
    ) -> Result<(), RunError> {
        self.incref(init)?;
        self.c_held.push(init);
        let res = self.call_prepend(init, obj, args, kwds);
        self.let_go(&[init])?;
        let res = res?;
        if res != self.o.none() {
            let t = self.type_name(res)?;
            self.decref(res)?;
            return Err(RunError::exception(
                "TypeError",
                format!("__init__() should return None, not '{t}'"),
            ));
        }
        self.decref(res)
    }

    /// `_PyObject_Call_Prepend(func, obj, args, kwds)`: the arguments with `obj` first,
    /// borrowed, on the C stack up to 5 (`_PY_FASTCALL_SMALL_STACK`), else in a
    /// `PyMem_Malloc`ed array; then `_PyObject_FastCallDictTstate`.
    fn call_prepend(
        &mut self,
        func: u64,
        obj: u64,
        args: &[u64],
        kwds: u64,
    ) -> Result<u64, RunError> {
        let argcount = args.len() as u64;
        let stack = if argcount + 1 > 5 {
            self.o.pymem_malloc((argcount + 1) * 8)?
        } else {
            0
        };
        let mut stack_args = vec![obj];
        stack_args.extend_from_slice(args);
        let result = self.fast_call_dict(func, &stack_args, kwds);
        if stack != 0 {
            self.o.pymem_free(stack)?;
        }
        result
    }

    /// `_PyObject_FastCallDictTstate`: without keywords, the function called with `args`;
    /// with a non-empty `kwds`, `_PyStack_UnpackDict` first: a `PyMem_Malloc`ed array of new
    /// references to the arguments and the keyword values, and a tuple of the names, released
    /// after the call (`_PyStack_UnpackDict_Free`).
    fn fast_call_dict(&mut self, func: u64, args: &[u64], kwds: u64) -> Result<u64, RunError> {
        let items = if kwds == 0 {
            Vec::new()
        } else {
            self.o.dict_items(kwds)?
        };
        if items.is_empty() {
            return self.vectorcall(func, args, &[]);
        }
        let n = (args.len() + items.len()) as u64;
        let array = self.o.pymem_malloc((1 + n) * 8)?;
        let keys: Vec<u64> = items.iter().map(|&(k, _)| k).collect();
        let kwnames = self.o.tuple_pack(&keys)?;
        let values: Vec<u64> = items.iter().map(|&(_, v)| v).collect();
        let unpacked: Vec<u64> = args.iter().chain(&values).copied().collect();
        for &v in &unpacked {
            self.incref(v)?;
        }
        self.c_held.push(kwnames);
        self.c_held.extend(&unpacked);
        let mut names = Vec::new();
        for &k in &keys {
            names.push(self.o.unicode_text(k)?);
        }
        self.kwargs = names.into_iter().zip(values.iter().copied()).collect();
        self.kwnames = kwnames;
        let result = self.vectorcall(func, args, &values);
        self.let_go(&unpacked)?;
        self.o.pymem_free(array)?;
        self.let_go(&[kwnames])?;
        result
    }

    /// Calls `func` with `obj` as its only argument (`call_unbound_noarg`): a new reference
    /// to the result.
    fn call_unbound_noarg(&mut self, func: u64, obj: u64) -> Result<u64, RunError> {
        self.vectorcall(func, &[obj], &[])
    }

    /// `_PyFunction_Vectorcall` -> `_PyEval_Vector`: the frame takes new references to the
    /// function, the arguments and the keyword values (named in `self.kwargs`), all borrowed
    /// here.
    pub(crate) fn vectorcall(
        &mut self,
        func: u64,
        args: &[u64],
        kwvalues: &[u64],
    ) -> Result<u64, RunError> {
        if self.is_extra(func) || self.o.type_of(func)? != TypeId::Function {
            self.kwargs.clear();
            return Err(not_modelled(
                "a special method that is not a Python function".into(),
            ));
        }
        let stack: Vec<u64> = args.iter().chain(kwvalues).copied().collect();
        self.incref(func)?;
        for &a in &stack {
            self.incref(a)?;
        }
        self.call_function(func, stack, kwvalues.len())
    }

    /// The attribute `key` of `owner`'s class (`_PyType_Lookup`: the class's dict; `object`'s
    /// is not modelled), borrowed.
    fn type_lookup(&mut self, cls: u64, key: u64) -> Result<Option<u64>, RunError> {
        let dict = self.o.class_dict(cls)?;
        Ok(self.o.dict_getitem(dict, key)?)
    }

    /// `PyObject_GenericGetAttr` on an instance: a data descriptor of the class (`__dict__`,
    /// `__weakref__`, and `object`'s `__class__`), the instance's own attribute, a function of
    /// the class bound to it (`PyMethod_New`), another class attribute. A new reference.
    pub(crate) fn instance_getattr(&mut self, obj: u64, key: u64) -> Result<u64, RunError> {
        let cls = self.o.class_of(obj)?;
        let descr = self.type_lookup(cls, key)?;
        if let Some(d) = descr
            && self.o.type_of(d)? == TypeId::GetSetDescr
        {
            return self.getset_get(d, obj);
        }
        let name = self.o.unicode_text(key)?;
        if descr.is_none() && name == "__class__" {
            self.incref(cls)?;
            return Ok(cls);
        }
        if let Some(v) = self.o.instance_getattr(obj, key)? {
            self.incref(v)?;
            return Ok(v);
        }
        match descr {
            Some(d) if self.o.type_of(d)? == TypeId::Function => self.method_new(d, obj),
            Some(d) => {
                self.incref(d)?;
                Ok(d)
            }
            None if is_special(&name) => Err(not_modelled(format!(
                "the attribute '{name}' of an instance (object's own)"
            ))),
            None => {
                let t = self.o.unicode_text(self.o.class_name(cls, false)?)?;
                Err(RunError::exception(
                    "AttributeError",
                    format!("'{t}' object has no attribute '{name}'"),
                ))
            }
        }
    }

    /// `subtype_dict` and `subtype_getweakref`: the instance's `__dict__` (made now if need
    /// be), or None (the model makes no weak references).
    fn getset_get(&mut self, descr: u64, obj: u64) -> Result<u64, RunError> {
        let name = self
            .o
            .unicode_text(self.o.field(descr, Field::DescrName)?)?;
        if name == "__dict__" {
            return Ok(self.o.instance_dict(obj)?);
        }
        let none = self.o.none();
        self.incref(none)?;
        Ok(none)
    }

    /// `PyMethod_New(func, self)`: a bound method holding both.
    fn method_new(&mut self, func: u64, obj: u64) -> Result<u64, RunError> {
        let m = self.o.fields_new(TypeId::Method, 0)?;
        self.incref(func)?;
        self.o.set_field(m, Field::ImFunc, func)?;
        self.incref(obj)?;
        self.o.set_field(m, Field::ImSelf, obj)?;
        Ok(m)
    }

    /// `_PyObject_GetMethod` on an instance (`LOAD_METHOD`, 3.12's `LOAD_ATTR` with the method
    /// bit): a function of the class, unless the instance has an attribute of that name, is
    /// returned unbound; anything else as `getattr` finds it. A new reference.
    pub(crate) fn instance_get_method(&mut self, obj: u64, key: u64) -> Result<Method, RunError> {
        let cls = self.o.class_of(obj)?;
        if let Some(d) = self.type_lookup(cls, key)?
            && self.o.type_of(d)? == TypeId::Function
            && self.o.instance_getattr(obj, key)?.is_none()
        {
            self.incref(d)?;
            return Ok(Method::Unbound(d));
        }
        Ok(Method::Attribute(self.instance_getattr(obj, key)?))
    }

    /// `type_getattro` on a class: `type`'s data descriptors (`__name__`, `__qualname__`,
    /// `__module__`, `__doc__`, `__basicsize__`, `__bases__`, `__mro__`), then the class's
    /// dict (a function is returned as it is: `func_descr_get` with no instance). A new
    /// reference.
    pub(crate) fn type_getattr(&mut self, cls: u64, key: u64) -> Result<u64, RunError> {
        let name = self.o.unicode_text(key)?;
        let dict = self.o.class_dict(cls)?;
        let v = match name.as_str() {
            "__name__" => Some(self.o.class_name(cls, false)?),
            "__qualname__" => Some(self.o.class_name(cls, true)?),
            "__module__" | "__doc__" => self.o.dict_getitem(dict, key)?,
            "__basicsize__" => {
                let size = self.o.class_basicsize();
                return Ok(self.o.long_from_i64(size as i64)?);
            }
            "__bases__" | "__mro__" => Some(self.o.class_tuple(cls, name == "__mro__")?),
            // type's own `__dict__` getset (a data descriptor of the metatype) comes before the
            // class's dict, whose `__dict__` entry is its instances' descriptor.
            "__dict__" => {
                return Err(not_modelled(
                    "a class's __dict__ (type_dict's mappingproxy)".into(),
                ));
            }
            _ => self.type_lookup(cls, key)?,
        };
        if let Some(v) = v {
            self.incref(v)?;
            return Ok(v);
        }
        if is_special(&name) {
            return Err(not_modelled(format!(
                "the attribute '{name}' of a class (type's own)"
            )));
        }
        let t = self.o.unicode_text(self.o.class_name(cls, false)?)?;
        Err(RunError::exception(
            "AttributeError",
            format!("type object '{t}' has no attribute '{name}'"),
        ))
    }

    /// `STORE_ATTR`: `PyObject_GenericSetAttr` on an instance (its values or its dict),
    /// `type_setattro` on a class. `value` is borrowed.
    pub(crate) fn setattr(&mut self, owner: u64, key: u64, value: u64) -> Result<(), RunError> {
        self.object_only(value)?;
        if self.is_extra(owner) {
            return Err(not_modelled(format!(
                "setting an attribute of a '{}'",
                self.type_name(owner)?
            )));
        }
        if self.o.is_class(owner) {
            return Ok(self.o.class_setattr(owner, key, value)?);
        }
        if self.o.type_of(owner)? != TypeId::Instance {
            return Err(not_modelled(format!(
                "setting an attribute of a '{}'",
                self.type_name(owner)?
            )));
        }
        let cls = self.o.class_of(owner)?;
        if let Some(d) = self.type_lookup(cls, key)?
            && self.o.type_of(d)? == TypeId::GetSetDescr
        {
            return Err(not_modelled(
                "assigning __dict__ or __weakref__ of an instance".into(),
            ));
        }
        Ok(self.o.instance_setattr(owner, key, value)?)
    }

    /// `CALL` of a bound method (3.11's `PRECALL`, 3.12's `CALL`): its function called with its
    /// `self` first; the method released. `args` are owned, as the stack held them.
    pub(crate) fn call_method(
        &mut self,
        method: u64,
        mut args: Vec<u64>,
        nkw: usize,
    ) -> Result<u64, RunError> {
        let func = self.o.field(method, Field::ImFunc)?;
        let obj = self.o.field(method, Field::ImSelf)?;
        self.incref(obj)?;
        self.incref(func)?;
        self.decref(method)?;
        args.insert(0, obj);
        if self.o.type_of(func)? != TypeId::Function {
            self.decref(func)?;
            for a in args {
                self.decref(a)?;
            }
            return Err(not_modelled("a bound method of a built-in function".into()));
        }
        self.call_function(func, args, nkw)
    }

    /// The `__del__`s due (`slot_tp_finalize`, called from `subtype_dealloc` through
    /// `PyObject_CallFinalizerFromDealloc`), oldest first: each run with the instance, which is
    /// then marked finalized and released again (deallocated now, unless `__del__` kept it).
    /// As in C, each finishes, and what its release finalizes in turn, before the next: the
    /// frames a `__del__` runs see only the finalizers their own instructions made due. A
    /// collection an allocation started and left for its finalizers goes first.
    #[inline]
    pub(crate) fn call_finalizers(&mut self) -> Result<(), RunError> {
        // Asked after every instruction: nothing to take, nothing to do.
        if !self.o.finalizers_due() && !self.o.has_parked_collection() {
            return Ok(());
        }
        self.call_finalizers_due()
    }

    /// [`Interp::call_finalizers`] when there is something to call.
    pub(crate) fn call_finalizers_due(&mut self) -> Result<(), RunError> {
        self.run_parked_collection()?;
        let due = self.o.take_pending_finalizers();
        self.finalizing.extend(&due);
        for obj in due {
            self.slot_tp_finalize(obj)?;
            self.o.set_finalized(obj)?;
            self.finalizing.retain(|&f| f != obj);
            self.decref(obj)?;
            self.call_finalizers()?;
        }
        Ok(())
    }

    /// `slot_tp_finalize`: the class's `__del__`, called with the instance.
    pub(crate) fn slot_tp_finalize(&mut self, obj: u64) -> Result<(), RunError> {
        let cls = self.o.class_of(obj)?;
        let key = self.o.py_id("__del__")?;
        let Some(del) = self.type_lookup(cls, key)? else {
            return Ok(());
        };
        // lookup_maybe_method: a new reference, held while __del__ runs.
        self.incref(del)?;
        self.c_held.push(del);
        let res = self.call_unbound_noarg(del, obj);
        self.let_go(&[del])?;
        match res {
            Ok(res) => self.decref(res),
            // The exception goes no further: PyErr_WriteUnraisable(del).
            Err(e @ RunError::Exception { .. }) => self.write_unraisable(del, &e),
            Err(e) => Err(e),
        }
    }

    /// `PyErr_WriteUnraisable(obj)` with the default `sys.unraisablehook`: `Exception ignored
    /// in: ` and the object's repr, then the traceback, on stderr; the program goes on. (The
    /// exception is a Rust value here, not an object: what making it allocates is not modelled.)
    pub(crate) fn write_unraisable(&mut self, obj: u64, e: &RunError) -> Result<(), RunError> {
        let what = self.o.repr(obj)?;
        self.o
            .write_stderr(&format!("Exception ignored in: {what}\n{e}\n"));
        Ok(())
    }
}
