//! The interpreter's state (`PyInterpreterState`): the builtins, `sys` and `__main__` modules,
//! the code objects of what has been compiled, and what the program printed.
//!
//! Start-up builds the `builtins` and `sys` modules and their functions as CPython's
//! `pycore_init_builtins` and `_PySys_Create` do, in the model's own small measure: only the
//! functions the modelled programs call exist, and the references CPython's full start-up holds
//! on static objects are not there (see the chapter's table of differences).

use objects::hash::AddrMap;
use std::collections::HashMap;
use std::rc::Rc;

use objects::{Field, Objects, TypeId};
use pymalloc::Profile;

use crate::compile::{CodeUnit, Compiled, Const, Instr};
use crate::error::RunError;
use crate::opcode::OpcodeTable;

/// A built-in function: what the C function does, given the interpreter and the arguments
/// (borrowed); returns a new reference.
pub(crate) type Builtin = fn(&mut Interp, &[u64]) -> Result<u64, RunError>;

/// A built-in function's `PyMethodDef`: module (or, for a method, the type's name), name, C
/// function.
pub(crate) struct MethodDef {
    pub(crate) module: &'static str,
    pub(crate) name: &'static str,
    pub(crate) call: Builtin,
}

/// The built-in types whose methods the model has (`tp_methods`).
const METHOD_TYPES: [(&str, TypeId); 3] = [
    ("list", TypeId::List),
    ("str", TypeId::Str),
    ("dict", TypeId::Dict),
];

impl MethodDef {
    /// Whether it is a method of a type (its first argument is the object).
    pub(crate) fn is_method(&self) -> bool {
        METHOD_TYPES.iter().any(|(n, _)| *n == self.module)
    }
}

/// The model of one CPython process running one program.
pub struct Interp {
    /// The objects and, beneath them, the allocators.
    pub o: Objects,
    /// What the program wrote to standard output.
    pub stdout: String,
    /// `sys.modules`.
    pub(crate) modules: u64,
    /// The `builtins` module's dict.
    pub(crate) builtins: u64,
    /// The code units behind each code object.
    pub(crate) units: AddrMap<Rc<CodeUnit>>,
    /// The file each code object came from.
    pub(crate) filenames: HashMap<u64, String>,
    /// The source of each file compiled, by name: the lines a traceback shows (CPython
    /// reads them from the file again).
    pub(crate) sources: HashMap<String, String>,
    /// What each `LOAD_GLOBAL` of a code object found last, by instruction.
    pub(crate) global_hints: AddrMap<Vec<Option<crate::ceval::GlobalHint>>>,
    /// Which `CALL` instructions of a code object have run (3.12+): their adaptive counter is
    /// down to zero, so the next run specializes them.
    pub(crate) call_warmup: AddrMap<Vec<bool>>,
    pub(crate) defs: &'static [MethodDef],
    /// The objects the interpreter keeps itself (ranges, iterators), by address.
    pub(crate) extras: AddrMap<crate::iterobject::ExtraObj>,
    pub(crate) next_extra: u64,
    /// How many Python frames are running.
    pub(crate) depth: u32,
    /// The keyword arguments of the call being made (names, borrowed values).
    pub(crate) kwargs: Vec<(String, u64)>,
    /// The call's `kwnames` tuple (borrowed), whose strs key a `**kwargs` dict.
    pub(crate) kwnames: u64,
    /// 3.8–3.10's `tstate->frame`: the frame object running now (0 outside any).
    pub(crate) frame: u64,
    /// 3.13's `CALL_KW`: the reference to `kwnames` its stack held, released once the
    /// callee's frame is initialised (a Python function) or the call has returned.
    pub(crate) kwnames_held: u64,
    /// The method descriptors in the built-in types' dicts: type, name, descriptor.
    pub(crate) method_descrs: Vec<(TypeId, &'static str, u64)>,
    /// The main script's directory (`sys.path[0]`), where imports find `.py` files.
    pub(crate) script_dir: Option<std::path::PathBuf>,
    /// The trace being written, when the run is traced.
    pub(crate) tracer: Option<crate::trace::Tracer>,
    /// The `_Py_IDENTIFIER`s whose str has been made (3.8–3.10 make each on first use).
    pub(crate) identifiers: std::collections::HashSet<&'static str>,
    /// What `pyrun_file` holds while the main script runs.
    pub(crate) script: crate::pythonrun::Script,
    /// Who looks at the run, if anyone ([`crate::refs`]).
    pub(crate) inspector: Option<Box<dyn crate::refs::Inspector>>,
    /// The frames below the running one, kept only while an inspector is set.
    pub(crate) frames: Vec<crate::refs::FrameRoots>,
    /// Instances whose `__del__` is due or running: each holds the one reference
    /// `PyObject_CallFinalizerFromDealloc` gave it back until it is released again.
    pub(crate) finalizing: Vec<u64>,
    /// References C code holds while it calls back into Python code (`type_call`'s argument
    /// tuple, keyword dict and new instance, `lookup_method`'s `__init__` or `__del__`,
    /// `_PyStack_UnpackDict`'s array and names).
    pub(crate) c_held: Vec<u64>,
    /// How many checks of the eval breaker pass before a SIGINT is due, if one is arranged.
    pub(crate) sigint_after: Option<u64>,
    /// `sys.stdout`'s `pending_bytes` (0 for NULL): what was written and not yet flushed.
    pub(crate) stdout_pending: u64,
    /// `pending_bytes_count`.
    pub(crate) stdout_pending_count: u64,
    /// The `kwtuple` of `print`'s argument parser, once made (0 before).
    pub(crate) print_kwtuple: u64,
}

impl Interp {
    /// A process of `profile`'s version after start-up: `builtins` and `sys` imported.
    pub fn new(profile: Profile) -> Result<Interp, RunError> {
        let o = Objects::new(profile)?;
        let mut interp = Interp {
            o,
            stdout: String::new(),
            modules: 0,
            builtins: 0,
            units: AddrMap::default(),
            filenames: HashMap::new(),
            sources: HashMap::new(),
            global_hints: AddrMap::default(),
            call_warmup: AddrMap::default(),
            defs: crate::builtins::METHOD_DEFS,
            extras: AddrMap::default(),
            next_extra: 0,
            method_descrs: Vec::new(),
            kwargs: Vec::new(),
            kwnames: 0,
            frame: 0,
            kwnames_held: 0,
            depth: 0,
            identifiers: std::collections::HashSet::new(),
            tracer: None,
            script_dir: None,
            script: crate::pythonrun::Script::default(),
            inspector: None,
            frames: Vec::new(),
            finalizing: Vec::new(),
            c_held: Vec::new(),
            sigint_after: None,
            stdout_pending: 0,
            stdout_pending_count: 0,
            print_kwtuple: 0,
        };
        // Up to 3.11 an allocation collects when a collection is due (_PyObject_GC_Alloc).
        interp.o.set_collector(gc::collect_generations);
        // _PyGC_Init: the lists gc.garbage and gc.callbacks name, made with the interpreter.
        interp.o.gc_counts_mut().garbage = interp.o.list_new(0)?;
        interp.o.gc_counts_mut().callbacks = interp.o.list_new(0)?;
        interp.add_method_descriptors()?;
        interp.modules = interp.o.dict_new()?;
        let builtins = interp.new_module("builtins")?;
        interp.builtins = interp.o.field(builtins, Field::MdDict)?;
        interp.add_functions(builtins, "builtins")?;
        for (name, ty) in [
            ("list", TypeId::List),
            ("dict", TypeId::Dict),
            ("tuple", TypeId::Tuple),
            ("object", TypeId::Object),
            ("int", TypeId::Int),
            ("str", TypeId::Str),
            ("type", TypeId::Type),
        ] {
            let key = interp.intern(name)?;
            let t = interp.o.type_object(ty);
            interp.o.dict_setitem(interp.builtins, key, t)?;
            interp.o.decref(key)?;
        }
        let sys = interp.new_module("sys")?;
        interp.add_functions(sys, "sys")?;
        let key = interp.intern("modules")?;
        let dict = interp.o.field(sys, Field::MdDict)?;
        interp.o.dict_setitem(dict, key, interp.modules)?;
        interp.o.decref(key)?;
        interp.add_version_info(dict)?;
        interp.o.decref(builtins)?;
        interp.o.decref(sys)?;
        Ok(interp)
    }

    /// `make_version_info`: `sys.version_info`, a struct sequence of the interpreter's version
    /// (the patch level is that of the interpreter the book's captures come from).
    fn add_version_info(&mut self, sys_dict: u64) -> Result<(), RunError> {
        let (major, minor) = self.o.layout().profile.version();
        let micro = match minor {
            8 | 9 => 18,
            10 => 13,
            11 => 7,
            12 => 1,
            _ => 0,
        };
        let mut items = Vec::new();
        for v in [major, minor, micro] {
            items.push(self.o.long_from_i128(i128::from(v))?);
        }
        items.push(self.o.unicode_from_str("final")?);
        items.push(self.o.long_from_i128(0)?);
        let v = self.o.structseq_new(TypeId::VersionInfo, &items)?;
        let key = self.intern("version_info")?;
        self.o.dict_setitem(sys_dict, key, v)?;
        self.o.decref(key)?;
        self.o.decref(v)?;
        Ok(())
    }

    /// Sets who is called at each [`Event`](crate::refs::Event) of the runs to come.
    pub fn set_inspector(&mut self, inspector: Option<Box<dyn crate::refs::Inspector>>) {
        self.inspector = inspector;
    }

    /// Arranges for Ctrl-C to be pressed after `checks` checks of the eval breaker (each
    /// function's start and each backward jump): the run then ends in `KeyboardInterrupt`.
    /// For running programs that might never end (a fuzzer's).
    pub fn interrupt_after(&mut self, checks: Option<u64>) {
        self.sigint_after = checks;
    }

    /// Calls the inspector, if one is set, with `frame` as the running frame.
    pub(crate) fn inspect(
        &mut self,
        frame: Option<crate::refs::FrameRoots>,
        event: &crate::refs::Event<'_>,
    ) {
        let Some(mut inspector) = self.inspector.take() else {
            return;
        };
        let running = frame.is_some();
        self.frames.extend(frame);
        inspector.inspect(self, event);
        if running {
            self.frames.pop();
        }
        self.inspector = Some(inspector);
    }

    /// An interned str (a new reference).
    pub(crate) fn intern(&mut self, text: &str) -> Result<u64, RunError> {
        let s = self.o.unicode_from_str(text)?;
        let i = self.o.unicode_intern(s)?;
        self.o.decref(s)?;
        Ok(i)
    }

    /// `PyModule_New(name)`, entered in `sys.modules`: a new reference.
    pub(crate) fn new_module(&mut self, name: &str) -> Result<u64, RunError> {
        let m = self.o.fields_new(TypeId::Module, 0)?;
        let dict = self.o.dict_new()?;
        self.o.set_field(m, Field::MdDict, dict)?;
        let n = self.intern(name)?;
        self.o.incref(n)?;
        self.o.set_field(m, Field::MdName, n)?;
        let key = self.o.py_id("__name__")?;
        self.o.dict_setitem(dict, key, n)?;
        self.o.dict_setitem(self.modules, n, m)?;
        self.o.decref(n)?;
        Ok(m)
    }

    /// `Py_RETURN_NONE`: a new reference to `None`, a built-in function's result.
    pub(crate) fn return_none(&mut self) -> Result<u64, RunError> {
        let none = self.o.none();
        self.incref(none)?;
        Ok(none)
    }

    /// The module's built-in functions (`PyModule_AddFunctions`): each a `PyCFunction` whose
    /// `m_self` is the module and `m_module` its name.
    pub(crate) fn add_functions(&mut self, module: u64, name: &str) -> Result<(), RunError> {
        let dict = self.o.field(module, Field::MdDict)?;
        let module_name = self.o.field(module, Field::MdName)?;
        for (k, def) in self.defs.iter().enumerate() {
            if def.module != name {
                continue;
            }
            let f = self.o.cfunction_new(k, def.name, module, module_name)?;
            let key = self.intern(def.name)?;
            self.o.dict_setitem(dict, key, f)?;
            self.o.decref(key)?;
            self.o.decref(f)?;
        }
        Ok(())
    }

    /// `PyType_Ready`'s `type_add_methods`: a method descriptor for each method of a built-in
    /// type, made at start-up and held by the type's dict. The object layer has no
    /// `method_descriptor` type, so each is a `PyCFunction` with no `m_self`: the same 56 bytes
    /// and GC head, pointing at the method's `PyMethodDef`.
    fn add_method_descriptors(&mut self) -> Result<(), RunError> {
        for (k, def) in self.defs.iter().enumerate() {
            let Some(&(_, ty)) = METHOD_TYPES.iter().find(|(n, _)| *n == def.module) else {
                continue;
            };
            let d = self.o.cfunction_new(k, def.name, 0, 0)?;
            self.method_descrs.push((ty, def.name, d));
        }
        Ok(())
    }

    /// Makes the code objects of a compiled module, innermost first (as `assemble` makes each
    /// when its unit is done); returns their addresses by unit.
    pub(crate) fn make_code_objects(&mut self, compiled: &Compiled) -> Result<Vec<u64>, RunError> {
        let n = compiled.units.len();
        let mut codes = vec![0; n];
        let filename = self.o.unicode_from_str(&compiled.filename)?;
        let order = (1..n).chain(std::iter::once(0));
        for u in order {
            let unit = &compiled.units[u];
            codes[u] = self.code_object(unit, &codes, filename)?;
            if unit.merged {
                // Merged into an equal code object made before it: no constant holds it, and
                // compiler_comprehension's reference was the last.
                self.o.decref(codes[u])?;
                continue;
            }
            // A code object made where a freed one was starts with no hints.
            self.global_hints.remove(&codes[u]);
            self.call_warmup.remove(&codes[u]);
            self.units.insert(codes[u], Rc::new(unit.clone()));
            self.filenames.insert(codes[u], compiled.filename.clone());
        }
        self.o.decref(filename)?;
        // compiler_function's Py_DECREF(co) once compiler_make_closure has made it a constant
        // of the enclosing code: its co_consts holds it from then on.
        for (u, unit) in compiled.units.iter().enumerate().skip(1) {
            if !unit.merged {
                self.o.decref(codes[u])?;
            }
        }
        // compiler_free: c_const_cache's references go once the code objects hold theirs.
        for &op in &compiled.cache_only {
            self.o.decref(op)?;
        }
        Ok(codes)
    }

    /// `_PyCode_New`: the code object and the tuples it owns.
    fn code_object(
        &mut self,
        unit: &CodeUnit,
        codes: &[u64],
        filename: u64,
    ) -> Result<u64, RunError> {
        let table = OpcodeTable::of(self.o.layout().minor);
        if table.minor() <= 10 {
            return self.code_object_3_10(unit, codes, filename, table);
        }
        let (_, size) = crate::dis::offsets(table, &unit.instrs);
        // The instructions live in the code object (co_code_adaptive).
        let code = self.o.fields_new(TypeId::Code, u64::from(size))?;
        let consts = self.consts_tuple(unit, codes)?;
        self.o.set_field(code, Field::CoConsts, consts)?;
        let names = self.o.tuple_pack(&unit.names)?;
        self.o.set_field(code, Field::CoNames, names)?;
        let locals = self.o.tuple_pack(&unit.varnames)?;
        self.o.set_field(code, Field::CoLocalsplusnames, locals)?;
        self.o.incref(filename)?;
        self.o.set_field(code, Field::CoFilename, filename)?;
        let name = self.intern(&unit.name)?;
        self.o.set_field(code, Field::CoName, name)?;
        let qualname = self.intern(&unit.qualname)?;
        self.o.set_field(code, Field::CoQualname, qualname)?;
        let at = self.o.co_firstlineno_offset();
        self.o.set_fields_u32(code, at, unit.firstlineno)?;
        Ok(code)
    }

    /// `co_consts`: the constants, a str of name characters made the interned one
    /// (`intern_string_constants`).
    fn consts_tuple(&mut self, unit: &CodeUnit, codes: &[u64]) -> Result<u64, RunError> {
        let mut consts: Vec<u64> = unit
            .consts
            .iter()
            .map(|c| match *c {
                Const::Object(op) => op,
                Const::Code(i) => codes[i],
            })
            .collect();
        let mut interned = Vec::new();
        for c in consts.iter_mut().rev() {
            if self.o.type_of(*c)? == TypeId::Str && all_name_chars(&self.o.unicode_text(*c)?) {
                let i = self.o.unicode_intern(*c)?;
                interned.push(i);
                *c = i;
            }
        }
        let consts = self.o.tuple_pack(&consts)?;
        for i in interned {
            self.o.decref(i)?;
        }
        Ok(consts)
    }

    /// A 3.8–3.10 code object, in the order 3.10's compiler makes its parts: `co_code` (a
    /// bytes object of the instructions, `EXTENDED_ARG`s included, as `assemble` writes it),
    /// then `makecode`'s tuples (`co_consts`, `co_names`, `co_varnames`, `co_cellvars`,
    /// `co_freevars`: what 3.11 folds into `co_localsplusnames`), then
    /// `PyCode_NewWithPosOnlyArgs`' `co_cell2arg` and the object itself.
    fn code_object_3_10(
        &mut self,
        unit: &CodeUnit,
        codes: &[u64],
        filename: u64,
        table: OpcodeTable,
    ) -> Result<u64, RunError> {
        let co_code = self.o.bytes_new(&co_code(table, &unit.instrs)?)?;
        let consts = self.consts_tuple(unit, codes)?;
        let names = self.o.tuple_pack(&unit.names)?;
        let n = unit.nlocals as usize;
        let ncells = unit.varnames.len() - n - unit.nfreevars as usize;
        let (locals, rest) = unit.varnames.split_at(n);
        let (cells, frees) = rest.split_at(ncells);
        let varnames = self.o.tuple_pack(locals)?;
        let cellvars = self.o.tuple_pack(cells)?;
        let freevars = self.o.tuple_pack(frees)?;
        let nargs =
            unit.argcount as usize + usize::from(unit.varargs) + usize::from(unit.varkeywords);
        let cell_parameter = cells.iter().any(|c| locals[..nargs].contains(c));
        let cell2arg = self.o.code_cell2arg_new(ncells as u64, cell_parameter)?;
        let code = self.o.fields_new(TypeId::Code, 0)?;
        for (field, value) in [
            (Field::CoCode, co_code),
            (Field::CoConsts, consts),
            (Field::CoNames, names),
            (Field::CoVarnames, varnames),
            (Field::CoFreevars, freevars),
            (Field::CoCellvars, cellvars),
        ] {
            self.o.set_field(code, field, value)?;
        }
        self.o.set_code_cell2arg(code, cell2arg)?;
        self.o.incref(filename)?;
        self.o.set_field(code, Field::CoFilename, filename)?;
        let name = self.intern(&unit.name)?;
        self.o.set_field(code, Field::CoName, name)?;
        let at = self.o.co_firstlineno_offset();
        self.o.set_fields_u32(code, at, unit.firstlineno)?;
        Ok(code)
    }
}

/// `co_code` up to 3.10: each instruction's opcode and argument byte, after an `EXTENDED_ARG`
/// for each further byte of its argument.
pub(crate) fn co_code(table: OpcodeTable, instrs: &[Instr]) -> Result<Vec<u8>, RunError> {
    let mut bytes = Vec::new();
    for i in instrs {
        let op = table.number(i.name).ok_or_else(|| RunError::NotModelled {
            construct: format!("the instruction {} on 3.{}", i.name, table.minor()),
            filename: String::new(),
            line: i.line.unwrap_or(0),
        })?;
        let (_, size) = crate::dis::offsets(table, std::slice::from_ref(i));
        for k in (1..size / 2).rev() {
            bytes.push(table.number("EXTENDED_ARG").expect("every version has it") as u8);
            bytes.push((i.arg >> (8 * k)) as u8);
        }
        bytes.push(op as u8);
        bytes.push(i.arg as u8);
    }
    Ok(bytes)
}

/// `all_name_chars`: ASCII letters, digits and underscores only.
pub(crate) fn all_name_chars(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
