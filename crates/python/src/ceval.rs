//! `Python/ceval.c`: the evaluation loop, for 3.11's instructions.
//!
//! Every value on the stack is an owned reference, as in C: `LOAD_CONST`, `LOAD_FAST` and the
//! other loads take one (`Py_INCREF`), and whatever pops a value releases it or passes it on.
//! A call to a Python function moves the arguments off the caller's stack into the new frame's
//! locals (3.11 keeps frames on a data stack, not as objects); the frame also owns the
//! function and a reference to its code, released when it returns (`_PyFrame_Clear`).

use std::rc::Rc;

use objects::{Field, TypeId};

use crate::compile::CodeUnit;
use crate::error::{RunError, TraceLine};
use crate::interp::Interp;

/// `_PyInterpreterFrame`: what one running code object needs.
struct Frame {
    code: Rc<CodeUnit>,
    code_obj: u64,
    globals: u64,
    /// The module's dict when running module code (`f_locals`), else 0.
    locals: u64,
    fast: Vec<u64>,
    stack: Vec<u64>,
}

impl Interp {
    /// Runs a module's code object with `globals` as its globals and locals; returns the
    /// result (a new reference).
    pub(crate) fn eval_module(&mut self, code_obj: u64, globals: u64) -> Result<u64, RunError> {
        let code = self.units[&code_obj].clone();
        let mut frame = Frame {
            code,
            code_obj,
            globals,
            locals: globals,
            fast: Vec::new(),
            stack: Vec::new(),
        };
        self.run_frame(&mut frame)
    }

    /// Runs a frame until it returns (the result) or raises (the traceback gains a line).
    fn run_frame(&mut self, f: &mut Frame) -> Result<u64, RunError> {
        let mut pc = 0;
        loop {
            let Some(instr) = f.code.instrs.get(pc) else {
                return Err(RunError::exception(
                    "SystemError",
                    "ran off the end of the code",
                ));
            };
            let (name, arg, line) = (instr.name, instr.arg, instr.line);
            pc += 1;
            match self.step(f, name, arg) {
                Ok(Some(result)) => return Ok(result),
                Ok(None) => {}
                Err(mut e) => {
                    if let RunError::Exception { traceback, .. } = &mut e {
                        traceback.insert(
                            0,
                            TraceLine {
                                filename: self.filenames[&f.code_obj].clone(),
                                line,
                                name: f.code.name.clone(),
                            },
                        );
                    }
                    self.clear_stack(f)?;
                    return Err(e);
                }
            }
        }
    }

    /// Releases what a frame that raised still holds on its stack.
    fn clear_stack(&mut self, f: &mut Frame) -> Result<(), RunError> {
        while let Some(v) = f.stack.pop() {
            self.o.xdecref(v)?;
        }
        Ok(())
    }

    fn pop(f: &mut Frame) -> u64 {
        f.stack
            .pop()
            .expect("the compiler keeps the stack balanced")
    }

    /// One instruction; `Some` result when the frame returns.
    fn step(&mut self, f: &mut Frame, name: &str, arg: u32) -> Result<Option<u64>, RunError> {
        match name {
            "RESUME" | "NOP" => {}
            "LOAD_CONST" => {
                let v = self.const_at(f, arg)?;
                self.o.incref(v)?;
                f.stack.push(v);
            }
            "LOAD_FAST" => {
                let v = f.fast[arg as usize];
                if v == 0 {
                    let n = self.o.unicode_text(f.code.varnames[arg as usize])?;
                    return Err(RunError::exception(
                        "UnboundLocalError",
                        format!(
                            "cannot access local variable '{n}' where it is not associated with a value"
                        ),
                    ));
                }
                self.o.incref(v)?;
                f.stack.push(v);
            }
            "STORE_FAST" => {
                let v = Self::pop(f);
                let old = std::mem::replace(&mut f.fast[arg as usize], v);
                self.o.xdecref(old)?;
            }
            "LOAD_NAME" => {
                let key = f.code.names[arg as usize];
                let v = self.lookup_name(&[f.locals, f.globals, self.builtins], key)?;
                self.o.incref(v)?;
                f.stack.push(v);
            }
            "STORE_NAME" => {
                let key = f.code.names[arg as usize];
                let v = Self::pop(f);
                self.o.dict_setitem(f.locals, key, v)?;
                self.o.decref(v)?;
            }
            "STORE_GLOBAL" => {
                let key = f.code.names[arg as usize];
                let v = Self::pop(f);
                self.o.dict_setitem(f.globals, key, v)?;
                self.o.decref(v)?;
            }
            "LOAD_GLOBAL" => {
                let key = f.code.names[(arg >> 1) as usize];
                let v = self.lookup_name(&[f.globals, self.builtins], key)?;
                self.o.incref(v)?;
                if arg & 1 == 1 {
                    f.stack.push(0);
                }
                f.stack.push(v);
            }
            "PUSH_NULL" => f.stack.push(0),
            "POP_TOP" => {
                let v = Self::pop(f);
                self.o.xdecref(v)?;
            }
            "RETURN_VALUE" => {
                let v = Self::pop(f);
                return Ok(Some(v));
            }
            "LOAD_ATTR" => {
                let owner = Self::pop(f);
                let key = f.code.names[arg as usize];
                let v = self.getattr(owner, key);
                self.o.decref(owner)?;
                let v = v?;
                f.stack.push(v);
            }
            "LOAD_METHOD" => {
                // _PyObject_GetMethod: a module has no method of that name in its type, so the
                // attribute comes from its dict: NULL, then the attribute.
                let owner = Self::pop(f);
                let key = f.code.names[arg as usize];
                let v = self.getattr(owner, key);
                self.o.decref(owner)?;
                let v = v?;
                f.stack.push(0);
                f.stack.push(v);
            }
            "IMPORT_NAME" => {
                let fromlist = Self::pop(f);
                let level = Self::pop(f);
                let key = f.code.names[arg as usize];
                let m = self.import(key);
                self.o.decref(fromlist)?;
                self.o.decref(level)?;
                f.stack.push(m?);
            }
            "BUILD_TUPLE" => {
                let n = arg as usize;
                let items = f.stack.split_off(f.stack.len() - n);
                let t = self.o.tuple_pack(&items)?;
                for v in items {
                    self.o.decref(v)?;
                }
                f.stack.push(t);
            }
            "MAKE_FUNCTION" => {
                let code = Self::pop(f);
                let annotations = if arg & 4 != 0 { Self::pop(f) } else { 0 };
                if arg & !4 != 0 {
                    return Err(RunError::exception(
                        "SystemError",
                        "defaults, keyword defaults and closures are not modelled",
                    ));
                }
                let func = self.make_function(code, f.globals, annotations)?;
                f.stack.push(func);
            }
            "PRECALL" => {}
            "CALL" => {
                let result = self.call(f, arg as usize)?;
                f.stack.push(result);
            }
            other => {
                return Err(RunError::exception(
                    "SystemError",
                    format!("the model has no {other}"),
                ));
            }
        }
        Ok(None)
    }

    fn const_at(&self, f: &Frame, k: u32) -> Result<u64, RunError> {
        let consts = self.o.field(f.code_obj, Field::CoConsts)?;
        Ok(self.o.tuple_items(consts)?[k as usize])
    }

    /// `LOAD_NAME`/`LOAD_GLOBAL`: the first dict that has the name (borrowed).
    fn lookup_name(&mut self, dicts: &[u64], key: u64) -> Result<u64, RunError> {
        for &d in dicts {
            if let Some(v) = self.o.dict_getitem(d, key)? {
                return Ok(v);
            }
        }
        let n = self.o.unicode_text(key)?;
        Err(RunError::exception(
            "NameError",
            format!("name '{n}' is not defined"),
        ))
    }

    /// `PyObject_GetAttr` for the objects the model gives attributes: a module's dict entries.
    fn getattr(&mut self, owner: u64, key: u64) -> Result<u64, RunError> {
        let ty = self.o.type_of(owner)?;
        if ty == TypeId::Module {
            let dict = self.o.field(owner, Field::MdDict)?;
            if let Some(v) = self.o.dict_getitem(dict, key)? {
                self.o.incref(v)?;
                return Ok(v);
            }
            let m = self.o.unicode_text(self.o.field(owner, Field::MdName)?)?;
            let n = self.o.unicode_text(key)?;
            return Err(RunError::exception(
                "AttributeError",
                format!("module '{m}' has no attribute '{n}'"),
            ));
        }
        let n = self.o.unicode_text(key)?;
        Err(RunError::exception(
            "AttributeError",
            format!("'{ty}' object attribute '{n}' is not modelled"),
        ))
    }

    /// `import_name`: the module from `sys.modules` (a new reference).
    fn import(&mut self, key: u64) -> Result<u64, RunError> {
        if let Some(m) = self.o.dict_getitem(self.modules, key)? {
            self.o.incref(m)?;
            return Ok(m);
        }
        let n = self.o.unicode_text(key)?;
        Err(RunError::NotModelled {
            construct: format!("import of the module '{n}'"),
            filename: String::new(),
            line: 0,
        })
    }

    /// `PyFunction_New(code, globals)` with `func_annotations` (stolen): the function owns
    /// `code` (the reference the stack held).
    fn make_function(
        &mut self,
        code: u64,
        globals: u64,
        annotations: u64,
    ) -> Result<u64, RunError> {
        let func = self.o.fields_new(TypeId::Function, 0)?;
        let name = self.o.field(code, Field::CoName)?;
        let qualname = self.o.field(code, Field::CoQualname)?;
        let consts = self.o.field(code, Field::CoConsts)?;
        let doc = self.o.tuple_items(consts)?[0];
        let doc = if self.o.type_of(doc)? == TypeId::Str {
            doc
        } else {
            self.o.none()
        };
        let module_key = self.o.py_id("__name__")?;
        let module = self.o.dict_getitem(globals, module_key)?.unwrap_or(0);
        for (field, value) in [
            (Field::FuncGlobals, globals),
            (Field::FuncBuiltins, self.builtins),
            (Field::FuncName, name),
            (Field::FuncQualname, qualname),
            (Field::FuncDoc, doc),
            (Field::FuncModule, module),
        ] {
            if value != 0 {
                self.o.incref(value)?;
                self.o.set_field(func, field, value)?;
            }
        }
        self.o.set_field(func, Field::FuncCode, code)?;
        if annotations != 0 {
            self.o
                .set_field(func, Field::FuncAnnotations, annotations)?;
        }
        Ok(func)
    }

    /// `CALL n` (with `PRECALL`'s unpacking of bound methods): the callable and the `self` or
    /// NULL beneath the arguments; a Python function runs in a new frame that takes the
    /// arguments and the function from the stack; anything else is called and then the stack
    /// released.
    fn call(&mut self, f: &mut Frame, n: usize) -> Result<u64, RunError> {
        let base = f.stack.len() - n - 2;
        let is_meth = f.stack[base] != 0;
        let callable = if is_meth {
            f.stack[base]
        } else {
            f.stack[base + 1]
        };
        let args: Vec<u64> = if is_meth {
            f.stack[base + 1..].to_vec()
        } else {
            f.stack[base + 2..].to_vec()
        };
        f.stack.truncate(base);
        match self.o.type_of(callable)? {
            TypeId::Function => self.call_function(callable, args),
            TypeId::CFunction => {
                let def = self.o.cfunction_def(callable)?;
                let call = self.defs[def].call;
                let result = call(self, &args);
                self.o.decref(callable)?;
                for a in args {
                    self.o.decref(a)?;
                }
                result
            }
            TypeId::Type
                if self.o.static_type_at(callable) == Some(TypeId::List) && args.is_empty() =>
            {
                // list(): list_vectorcall, PyType_GenericAlloc (never the free list).
                let l = self.o.list_new_generic()?;
                self.o.decref(callable)?;
                Ok(l)
            }
            ty => {
                let e = RunError::exception(
                    "TypeError",
                    format!("calling a '{ty}' object is not modelled"),
                );
                self.o.decref(callable)?;
                for a in args {
                    self.o.decref(a)?;
                }
                Err(e)
            }
        }
    }

    /// `_PyEvalFramePushAndInit`, the frame's run, and `_PyFrame_Clear`.
    fn call_function(&mut self, func: u64, args: Vec<u64>) -> Result<u64, RunError> {
        let code_obj = self.o.field(func, Field::FuncCode)?;
        let globals = self.o.field(func, Field::FuncGlobals)?;
        let code = self.units[&code_obj].clone();
        if args.len() != code.argcount as usize {
            let e = RunError::exception(
                "TypeError",
                format!(
                    "{}() takes {} positional arguments but {} were given",
                    code.name,
                    code.argcount,
                    args.len()
                ),
            );
            self.o.decref(func)?;
            for a in args {
                self.o.decref(a)?;
            }
            return Err(e);
        }
        self.o.incref(code_obj)?; // frame->f_code = Py_NewRef(func->func_code)
        let mut fast = args;
        fast.resize(code.varnames.len(), 0);
        let mut frame = Frame {
            code,
            code_obj,
            globals,
            locals: 0,
            fast,
            stack: Vec::new(),
        };
        let result = self.run_frame(&mut frame);
        let fast = frame.fast;
        for v in fast {
            self.o.xdecref(v)?;
        }
        self.o.decref(func)?;
        self.o.decref(code_obj)?;
        result
    }
}
