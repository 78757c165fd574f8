//! `Python/ceval.c`: the evaluation loop, for 3.11's instructions and those 3.10, 3.12 and 3.13
//! changed (3.10's `CALL_FUNCTION`s and operators by name, with frame objects; `Python/bytecodes.c`
//! of 3.12 and 3.13: 3.13's `TO_BOOL`, superinstructions, `CALL` with the callable beneath
//! `self` or NULL, `CALL_KW`, `SET_FUNCTION_ATTRIBUTE`, `FORMAT_SIMPLE`).
//!
//! Every value on the stack is an owned reference, as in C: `LOAD_CONST`, `LOAD_FAST` and the
//! other loads take one (`Py_INCREF`), and whatever pops a value releases it or passes it on.
//! On 3.11+ a call to a Python function moves the arguments off the caller's stack into the
//! new frame's locals (frames live on a data stack, not as objects); the frame also owns the
//! function and a reference to its code, released when it returns (`_PyFrame_Clear`). On
//! 3.10 each call runs in a frame object (`_PyEval_MakeFrameVector`) that takes references of
//! its own to the arguments, which stay on the caller's stack until the call returns.

use std::rc::Rc;

use objects::{Field, TypeId};

use crate::compile::CodeUnit;
use crate::error::{RunError, TraceLine};
use crate::interp::Interp;
use crate::opcode::Op;
use crate::refs::{Event, FrameRoots};

/// `Py_DEFAULT_RECURSION_LIMIT`.
const RECURSION_LIMIT: u32 = 1000;

/// What an instruction does to the flow: go on, take its jump, or return.
enum Flow {
    Next,
    Jump,
    Return(u64),
}

/// `_PyInterpreterFrame`: what one running code object needs.
struct Frame {
    code: Rc<CodeUnit>,
    code_obj: u64,
    globals: u64,
    /// The module's dict when running module code (`f_locals`), else 0.
    locals: u64,
    fast: Vec<u64>,
    stack: Vec<u64>,
    /// The function being run (`f_func`), 0 for module code.
    func: u64,
    /// `call_shape.kwnames`: the keyword names `KW_NAMES` set for the next call (borrowed).
    kwnames: u64,
    /// 3.8–3.10: the `PyFrameObject` the call runs in (0 on 3.11+).
    object: u64,
    /// The index of the instruction being run (`frame->prev_instr`).
    pc: usize,
}

impl Frame {
    /// What the frame holds, for an inspector.
    fn roots(&self) -> FrameRoots {
        FrameRoots {
            code: self.code.clone(),
            code_obj: self.code_obj,
            func: self.func,
            fast: self.fast.clone(),
            stack: self.stack.clone(),
        }
    }
}

/// Whether an exception raised at instruction `at` reaches a `try` statement's handler
/// (`PUSH_EXC_INFO`): following the exception table, through 3.12's inlined comprehensions,
/// whose handler puts the saved locals back and re-raises (`RERAISE`) to the next one.
fn caught_by_try(instrs: &[crate::compile::Instr], at: usize) -> bool {
    let mut handler = instrs[at].handler;
    while let Some(h) = handler {
        if instrs[h.target].name == "PUSH_EXC_INFO" {
            return true;
        }
        let Some(reraise) = instrs[h.target..].iter().find(|i| i.name == "RERAISE") else {
            return false;
        };
        handler = reraise.handler;
    }
    false
}

impl Interp {
    /// What the traceback prints under the frame of `f` for the instruction `at`, which
    /// raised on `line`: the source of the file the code came from (kept when it was
    /// compiled, as `linecache` would read it) and the instruction's `co_positions`.
    fn traceback_source(&self, f: &Frame, at: usize, line: u32) -> Vec<String> {
        let filename = &self.filenames[&f.code_obj];
        let Some(source) = self.sources.get(filename) else {
            return Vec::new();
        };
        let positions = f.code.instrs[at].positions();
        crate::traceback::frame_lines(self.o.layout().minor, source, line, positions)
    }

    /// `offer_suggestions_for_name_error` (3.10, 3.11) and 3.12's `_compute_suggestion_error`
    /// (none before 3.10):
    /// the name nearest to the one a NameError was raised for (`NameError.name`, the name
    /// its message quotes) among the frame's local variables, its globals and the builtins
    /// (CPython's, [`CPYTHON_BUILTINS`]); 3.10 and 3.11 look in `co_varnames`, then the
    /// globals, then the builtins, each alone; 3.12 and later in the bound locals, the
    /// globals and the builtins as one list.
    fn name_error_suggestion(
        &mut self,
        f: &Frame,
        message: &str,
    ) -> Result<Option<String>, RunError> {
        // Suggestions came with 3.10.
        let Some(name) = message
            .split('\'')
            .nth(1)
            .filter(|_| self.o.layout().minor >= 10)
        else {
            return Ok(None);
        };
        let mut globals = Vec::new();
        for (k, _) in self.o.dict_items(f.globals)? {
            globals.push(self.o.unicode_text(k)?);
        }
        let builtins: Vec<String> = CPYTHON_BUILTINS
            .split_whitespace()
            .map(String::from)
            .collect();
        let mut varnames = Vec::new();
        for (&n, &value) in f.code.varnames.iter().zip(&f.fast) {
            varnames.push((self.o.unicode_text(n)?, value));
        }
        if self.o.layout().minor < 12 {
            let varnames = varnames.into_iter().map(|(n, _)| n).collect();
            let lists = [varnames, globals, builtins];
            return Ok(lists
                .iter()
                .find_map(|dir| crate::suggestions::calculate_suggestions(dir, name))
                .map(String::from));
        }
        let mut candidates = if f.locals != 0 {
            globals.clone()
        } else {
            (varnames.into_iter())
                .filter(|&(_, v)| v != 0)
                .map(|(n, _)| n)
                .collect()
        };
        candidates.extend(globals);
        candidates.extend(builtins);
        Ok(crate::suggestions::compute_suggestion(&candidates, name).map(String::from))
    }

    /// Runs a module's code object with `globals` as its globals and locals; returns the
    /// result (a new reference).
    pub(crate) fn eval_module(&mut self, code_obj: u64, globals: u64) -> Result<u64, RunError> {
        let code = self.units[&code_obj].clone();
        // 3.12: the names a comprehension at module level binds are fast locals there.
        let nfast = code.varnames.len();
        let object = if self.legacy() {
            self.push_frame_object(code_obj, &code, globals, globals)?
        } else {
            0
        };
        let mut frame = Frame {
            object,
            code,
            code_obj,
            globals,
            locals: globals,
            fast: vec![0; nfast],
            stack: Vec::new(),
            func: 0,
            kwnames: 0,
            pc: 0,
        };
        let result = self.run_frame(&mut frame);
        if result.as_ref().is_err_and(RunError::is_fatal) {
            return result;
        }
        for v in std::mem::take(&mut frame.fast) {
            self.decref(v)?;
        }
        if self.legacy() {
            self.pop_frame_object(&frame)?;
        }
        self.call_finalizers()?;
        result
    }

    /// `_PyEval_Vector(func, locals=ns)` for a class body (`__build_class__`): a frame whose
    /// `LOAD_NAME`/`STORE_NAME` use the namespace, holding a reference to the function and its
    /// code; its result (None, or the `__classcell__`) as a new reference.
    pub(crate) fn eval_class_body(&mut self, func: u64, ns: u64) -> Result<u64, RunError> {
        let code_obj = self.o.field(func, Field::FuncCode)?;
        let globals = self.o.field(func, Field::FuncGlobals)?;
        let code = self.units[&code_obj].clone();
        self.incref(func)?;
        self.incref(code_obj)?;
        let mut frame = Frame {
            fast: vec![0; code.varnames.len()],
            code,
            code_obj,
            globals,
            locals: ns,
            stack: Vec::new(),
            func,
            kwnames: 0,
            pc: 0,
            // Classes are compiled for 3.11 to 3.13 only: no frame object.
            object: 0,
        };
        let result = self.run_frame(&mut frame);
        for v in std::mem::take(&mut frame.fast) {
            self.decref(v)?;
        }
        self.decref(func)?;
        self.decref(code_obj)?;
        result
    }

    /// 3.8–3.10's `_PyFrame_New_NoTrack`: a frame object for a run of `code` (the code's
    /// zombie frame, one from the free list or a new one, with room for the locals, cells,
    /// free variables and `co_stacksize` values), holding the calling frame (`f_back`), the
    /// code, the builtins, the globals and the locals (module code: the globals again). It
    /// becomes `tstate->frame`.
    fn push_frame_object(
        &mut self,
        code_obj: u64,
        code: &CodeUnit,
        globals: u64,
        locals: u64,
    ) -> Result<u64, RunError> {
        let extras = (code.varnames.len() as u32 + code.stacksize) as u64;
        let f = self.o.frame_alloc(code_obj, extras)?;
        for v in [self.frame, code_obj, self.builtins, globals, locals] {
            if v != 0 {
                self.incref(v)?;
            }
        }
        self.o.set_frame_back(f, self.frame)?;
        self.frame = f;
        Ok(f)
    }

    /// The rest of `frame_dealloc` once the frame's locals are released: `f_back`, the
    /// builtins, the globals and the locals, then the frame itself (kept as its code's zombie
    /// frame or on the free list), then the code; the calling frame runs again.
    fn pop_frame_object(&mut self, f: &Frame) -> Result<(), RunError> {
        let back = self.o.frame_back(f.object)?;
        self.frame = back;
        for v in [back, self.builtins, f.globals, f.locals] {
            if v != 0 {
                self.decref(v)?;
            }
        }
        self.decref(f.object)?;
        self.decref(f.code_obj)
    }

    /// Runs a frame until it returns (the result) or raises (the traceback gains a line).
    fn run_frame(&mut self, f: &mut Frame) -> Result<u64, RunError> {
        // _Py_EnterRecursivePy: at most `sys.getrecursionlimit()` (1000) Python frames, the
        // module's included.
        if self.depth >= RECURSION_LIMIT {
            return Err(RunError::exception(
                "RecursionError",
                "maximum recursion depth exceeded",
            ));
        }
        self.depth += 1;
        if self.legacy() && self.o.code_run_started(f.code_obj)? {
            let table = crate::opcode::OpcodeTable::of(self.o.layout().minor);
            let code = crate::interp::co_code(table, &f.code.instrs)?;
            let opcodes: Vec<u8> = code.iter().step_by(2).copied().collect();
            self.o.code_init_opcache(f.code_obj, &opcodes)?;
        }
        let result = self.run_frame_body(f);
        self.depth -= 1;
        result
    }

    fn run_frame_body(&mut self, f: &mut Frame) -> Result<u64, RunError> {
        let mut pc = 0;
        loop {
            let Some(instr) = f.code.instrs.get(pc) else {
                return Err(RunError::exception(
                    "SystemError",
                    "ran off the end of the code",
                ));
            };
            let (op, name, arg, target) = (instr.op, instr.name, instr.arg, instr.target);
            let line = instr.line.unwrap_or(0);
            f.pc = pc;
            pc += 1;
            if self.tracer.is_some() {
                self.trace_instruction(f.code_obj, line, name, arg);
            }
            // `flow` is changed in place below, never moved: it is a large value, and this
            // loop runs for every instruction.
            let mut flow = self.step(f, op, name, arg);
            // CHECK_EVAL_BREAKER once a backward jump is taken.
            if matches!(flow, Ok(Flow::Jump))
                && name.contains("JUMP_BACKWARD")
                && name != "JUMP_BACKWARD_NO_INTERRUPT"
                && let Err(e) = self.eval_breaker(f)
            {
                flow = Err(e);
            }
            // The __del__s of what the instruction released run before the next one, this
            // frame waiting below theirs.
            let finalized = if self.o.finalizers_due() || self.o.has_parked_collection() {
                self.with_caller_waiting(f, &[], &[], Self::call_finalizers_due)
            } else {
                Ok(())
            };
            if let Err(e) = finalized {
                if let Ok(Flow::Return(v)) = flow {
                    self.decref(v)?;
                }
                flow = Err(e);
            }
            match flow {
                Ok(Flow::Return(result)) => return Ok(result),
                Ok(Flow::Next) => {}
                Ok(Flow::Jump) => {
                    pc = target.expect("a jump has a target");
                    // 3.12: an exhausted FOR_ITER skips the END_FOR it targets; 3.13 the
                    // POP_TOP after it too.
                    if name == "FOR_ITER" {
                        pc += match self.o.layout().minor {
                            12 => 1,
                            13.. => 2,
                            _ => 0,
                        };
                    }
                }
                Err(mut e) => {
                    if matches!(e, RunError::Exception { .. })
                        && caught_by_try(&f.code.instrs, pc - 1)
                    {
                        e = RunError::NotModelled {
                            construct:
                                "an exception caught by a try statement (exceptions as objects)"
                                    .into(),
                            filename: String::new(),
                            line,
                        };
                    }
                    if let RunError::NotModelled {
                        filename, line: at, ..
                    } = &mut e
                        && filename.is_empty()
                    {
                        filename.clone_from(&self.filenames[&f.code_obj]);
                        *at = line;
                    }
                    if let RunError::Exception {
                        kind,
                        message,
                        traceback,
                        suggestion,
                    } = &mut e
                        && kind == "NameError"
                        && traceback.is_empty()
                    {
                        *suggestion = self.name_error_suggestion(f, message)?;
                    }
                    if let RunError::Exception { traceback, .. } = &mut e {
                        traceback.insert(
                            0,
                            TraceLine {
                                filename: self.traceback_filename(&self.filenames[&f.code_obj]),
                                line,
                                name: f.code.name.clone(),
                                source: self.traceback_source(f, pc - 1, line),
                            },
                        );
                    }
                    // A process that faulted stops where it is: nothing is released after.
                    if !e.is_fatal() {
                        self.clear_stack(f)?;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// `_Py_HandlePending` at a check of the eval breaker (a function's `RESUME`, a backward
    /// jump): once the SIGINT that [`Interp::interrupt_after`] arranged is due, every check
    /// raises `KeyboardInterrupt`, as CPython's default SIGINT handler makes it do.
    fn eval_breaker(&mut self, f: &Frame) -> Result<(), RunError> {
        match &mut self.sigint_after {
            None => {}
            Some(0) => return Err(RunError::exception("KeyboardInterrupt", "")),
            Some(n) => *n -= 1,
        }
        self.run_scheduled_gc(f, None)
    }

    /// 3.12+: a collection an allocation scheduled (`_Py_ScheduleGC`) runs at the next check
    /// of the eval breaker (`_Py_HandlePending` -> `_Py_RunGC`); up to 3.11 it ran inside the
    /// allocation. Its finalizers run above the frame `f` (and `held`, a result not yet on
    /// its stack), which an inspector sees as waiting below.
    fn run_scheduled_gc(&mut self, f: &Frame, held: Option<u64>) -> Result<(), RunError> {
        if self.o.layout().minor < 12 || !self.o.gc_counts().collection_due {
            return Ok(());
        }
        self.with_caller_waiting(f, held.as_slice(), &[], |s| {
            gc::collect_generations(&mut s.o)?;
            s.run_parked_collection()
        })
    }

    /// Runs `run`, which may run Python code, with the frame `f` waiting below it: an
    /// inspector sees the frame's references, and `callable` and `args` (what it holds that is
    /// not on its stack any more, or not yet), among the frames.
    fn with_caller_waiting<T>(
        &mut self,
        f: &Frame,
        callable: &[u64],
        args: &[u64],
        run: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let inspected = self.inspector.is_some();
        if inspected {
            let mut roots = f.roots();
            roots.stack.extend_from_slice(callable);
            roots.stack.extend_from_slice(args);
            self.frames.push(roots);
        }
        let result = run(self);
        if inspected {
            self.frames.pop();
        }
        result
    }

    /// Releases what a frame that raised still holds on its stack.
    fn clear_stack(&mut self, f: &mut Frame) -> Result<(), RunError> {
        while let Some(v) = f.stack.pop() {
            self.decref(v)?;
        }
        Ok(())
    }

    /// `format_exc_unbound` (and `format_exc_check_arg` with `UNBOUNDLOCAL_ERROR_MSG`): the
    /// error for reading or deleting local `arg` while it has no value; a free variable's
    /// names its enclosing scope.
    fn format_exc_unbound(
        &mut self,
        f: &Frame,
        name: &str,
        arg: u32,
    ) -> Result<RunError, RunError> {
        let slot = if matches!(name, "LOAD_DEREF" | "DELETE_DEREF") {
            self.deref_slot(f, arg)
        } else {
            arg as usize
        };
        let n = self.o.unicode_text(f.code.varnames[slot])?;
        let free = slot >= f.fast.len() - f.code.nfreevars as usize;
        if self.legacy() {
            // 3.10's UNBOUNDFREE_ERROR_MSG and UNBOUNDLOCAL_ERROR_MSG.
            return Ok(if free {
                RunError::exception(
                    "NameError",
                    format!("free variable '{n}' referenced before assignment in enclosing scope"),
                )
            } else {
                RunError::exception(
                    "UnboundLocalError",
                    format!("local variable '{n}' referenced before assignment"),
                )
            });
        }
        Ok(if free {
            RunError::exception(
                "NameError",
                format!(
                    "cannot access free variable '{n}' where it is not associated with a value in enclosing scope"
                ),
            )
        } else {
            RunError::exception(
                "UnboundLocalError",
                format!(
                    "cannot access local variable '{n}' where it is not associated with a value"
                ),
            )
        })
    }

    /// Whether the bytecode is 3.10's or older.
    fn legacy(&self) -> bool {
        self.o.layout().minor <= 10
    }

    /// The `localsplus` slot of a cell or free variable: 3.10 numbers them from 0 after the
    /// locals (`freevars = f_localsplus + co_nlocals`), 3.11 by their slot.
    fn deref_slot(&self, f: &Frame, arg: u32) -> usize {
        if self.legacy() {
            (f.code.nlocals + arg) as usize
        } else {
            arg as usize
        }
    }

    fn pop(f: &mut Frame) -> u64 {
        f.stack
            .pop()
            .expect("the compiler keeps the stack balanced")
    }

    /// One instruction.
    fn step(&mut self, f: &mut Frame, op: Op, name: &str, arg: u32) -> Result<Flow, RunError> {
        match op {
            Op::RESUME if arg < 2 => self.eval_breaker(f)?,
            Op::RESUME | Op::NOP => {}
            Op::LOAD_CONST => {
                let v = self.const_at(f, arg)?;
                self.incref(v)?;
                f.stack.push(v);
            }
            // 3.12's LOAD_FAST trusts the compiler that the local is bound; the model checks
            // anyway.
            Op::LOAD_FAST | Op::LOAD_FAST_CHECK => {
                let v = f.fast[arg as usize];
                if v == 0 {
                    return Err(self.format_exc_unbound(f, name, arg)?);
                }
                self.incref(v)?;
                f.stack.push(v);
            }
            // 3.12: an inlined comprehension saves the local (perhaps NULL) and clears it.
            Op::LOAD_FAST_AND_CLEAR => {
                let v = std::mem::take(&mut f.fast[arg as usize]);
                f.stack.push(v);
            }
            Op::STORE_FAST => {
                let v = Self::pop(f);
                let old = std::mem::replace(&mut f.fast[arg as usize], v);
                self.decref(old)?;
            }
            // 3.13's superinstructions: two locals in the argument, the first above 4 bits.
            Op::LOAD_FAST_LOAD_FAST => {
                self.step(f, Op::LOAD_FAST, "LOAD_FAST", arg >> 4)?;
                self.step(f, Op::LOAD_FAST, "LOAD_FAST", arg & 15)?;
            }
            Op::STORE_FAST_LOAD_FAST => {
                self.step(f, Op::STORE_FAST, "STORE_FAST", arg >> 4)?;
                self.step(f, Op::LOAD_FAST, "LOAD_FAST", arg & 15)?;
            }
            Op::STORE_FAST_STORE_FAST => {
                self.step(f, Op::STORE_FAST, "STORE_FAST", arg >> 4)?;
                self.step(f, Op::STORE_FAST, "STORE_FAST", arg & 15)?;
            }
            Op::LOAD_NAME => {
                let key = f.code.names[arg as usize];
                let v = self.lookup_name(&[f.locals, f.globals, self.builtins], key)?;
                self.incref(v)?;
                f.stack.push(v);
            }
            Op::STORE_NAME => {
                let key = f.code.names[arg as usize];
                let v = Self::pop(f);
                f.stack.push(v);
                self.object_only(v)?;
                f.stack.pop();
                self.o.dict_setitem(f.locals, key, v)?;
                self.decref(v)?;
            }
            Op::STORE_GLOBAL => {
                let key = f.code.names[arg as usize];
                let v = Self::pop(f);
                f.stack.push(v);
                self.object_only(v)?;
                f.stack.pop();
                self.o.dict_setitem(f.globals, key, v)?;
                self.decref(v)?;
            }
            Op::LOAD_GLOBAL => {
                // 3.11+: the name's index shifted left one, the low bit a NULL pushed first.
                let (index, null) = if self.legacy() {
                    (arg, false)
                } else {
                    (arg >> 1, arg & 1 == 1)
                };
                let key = f.code.names[index as usize];
                let v = self.load_global(f, key)?;
                self.incref(v)?;
                // The NULL beneath the callable up to 3.12, above it from 3.13.
                let minor = self.o.layout().minor;
                if null && minor < 13 {
                    f.stack.push(0);
                }
                f.stack.push(v);
                if arg & 1 == 1 && minor >= 13 {
                    f.stack.push(0);
                }
            }
            Op::PUSH_NULL => f.stack.push(0),
            Op::LOAD_BUILD_CLASS => {
                let key = self.o.py_id("__build_class__")?;
                let Some(v) = self.o.dict_getitem(self.builtins, key)? else {
                    return Err(RunError::exception(
                        "NameError",
                        "__build_class__ not found",
                    ));
                };
                self.incref(v)?;
                f.stack.push(v);
            }
            Op::STORE_ATTR => {
                let key = f.code.names[arg as usize];
                let owner = Self::pop(f);
                let v = Self::pop(f);
                let res = self.setattr(owner, key, v);
                self.decref(v)?;
                self.decref(owner)?;
                res?;
            }
            Op::DELETE_FAST => {
                let v = std::mem::take(&mut f.fast[arg as usize]);
                if v == 0 {
                    return Err(self.format_exc_unbound(f, name, arg)?);
                }
                self.decref(v)?;
            }
            Op::DELETE_NAME | Op::DELETE_GLOBAL => {
                let key = f.code.names[arg as usize];
                let dict = if name == "DELETE_NAME" {
                    f.locals
                } else {
                    f.globals
                };
                if !self.o.dict_delitem(dict, key)? {
                    let n = self.o.unicode_text(key)?;
                    return Err(RunError::exception(
                        "NameError",
                        format!("name '{n}' is not defined"),
                    ));
                }
            }
            Op::DELETE_DEREF => {
                let cell = f.fast[self.deref_slot(f, arg)];
                if self.o.field(cell, Field::CellRef)? == 0 {
                    return Err(self.format_exc_unbound(f, name, arg)?);
                }
                self.o.set_field(cell, Field::CellRef, 0)?;
            }
            Op::DELETE_SUBSCR => {
                let sub = Self::pop(f);
                let container = Self::pop(f);
                let res = self.delitem(container, sub);
                self.decref(container)?;
                self.decref(sub)?;
                res?;
            }
            Op::POP_TOP => {
                let v = Self::pop(f);
                self.decref(v)?;
            }
            Op::RETURN_VALUE => {
                let v = Self::pop(f);
                return Ok(Flow::Return(v));
            }
            Op::RETURN_CONST => {
                let v = self.const_at(f, arg)?;
                self.incref(v)?;
                return Ok(Flow::Return(v));
            }
            // 3.13: END_FOR pops the last value; a POP_TOP after it pops the iterator.
            Op::END_FOR if self.o.layout().minor >= 13 => {
                let v = Self::pop(f);
                self.decref(v)?;
            }
            Op::END_FOR => {
                for _ in 0..2 {
                    let v = Self::pop(f);
                    self.decref(v)?;
                }
            }
            // 3.12: the name's index shifted left one, the low bit LOAD_METHOD's.
            Op::LOAD_ATTR if self.o.layout().minor >= 12 && arg & 1 == 1 => {
                return self.step(f, Op::LOAD_METHOD, "LOAD_METHOD", arg >> 1);
            }
            Op::LOAD_ATTR => {
                let owner = Self::pop(f);
                let arg = if self.o.layout().minor >= 12 {
                    arg >> 1
                } else {
                    arg
                };
                let key = f.code.names[arg as usize];
                let v = self.getattr(owner, key);
                self.decref(owner)?;
                let v = v?;
                f.stack.push(v);
            }
            Op::LOAD_METHOD => {
                // _PyObject_GetMethod: a method descriptor found in the type leaves the
                // descriptor and the object itself (self) on the stack, and no bound method is
                // made; a module has no method of that name in its type, so the attribute comes
                // from its dict: NULL, then the attribute.
                let owner = Self::pop(f);
                let key = f.code.names[arg as usize];
                if !self.is_extra(owner) && self.o.type_of(owner)? == TypeId::Instance {
                    let found = self.instance_get_method(owner, key);
                    match found {
                        Ok(crate::classes::Method::Unbound(func)) => {
                            f.stack.push(func);
                            f.stack.push(owner);
                        }
                        Ok(crate::classes::Method::Attribute(v)) => {
                            self.decref(owner)?;
                            f.stack.push(0);
                            f.stack.push(v);
                        }
                        Err(e) => {
                            self.decref(owner)?;
                            return Err(e);
                        }
                    }
                    return Ok(Flow::Next);
                }
                if let Some(descr) = self.method_descr(owner, key)? {
                    self.incref(descr)?;
                    f.stack.push(descr);
                    f.stack.push(owner);
                    return Ok(Flow::Next);
                }
                let v = self.getattr(owner, key);
                self.decref(owner)?;
                let v = v?;
                // 3.13: the attribute, then NULL.
                if self.o.layout().minor >= 13 {
                    f.stack.push(v);
                    f.stack.push(0);
                } else {
                    f.stack.push(0);
                    f.stack.push(v);
                }
            }
            Op::BUILD_LIST => {
                // PyList_New(n), the items moved in from the stack.
                let n = arg as usize;
                for &v in &f.stack[f.stack.len() - n..] {
                    self.object_only(v)?;
                }
                let items = f.stack.split_off(f.stack.len() - n);
                let l = self.o.list_new(n as u64)?;
                for (i, v) in items.into_iter().enumerate() {
                    self.o.list_set(l, i as u64, v)?;
                }
                f.stack.push(l);
            }
            Op::LIST_EXTEND => {
                let iterable = Self::pop(f);
                let l = f.stack[f.stack.len() - arg as usize];
                let res = self.o.list_extend(l, iterable);
                self.decref(iterable)?;
                res?;
            }
            Op::LIST_APPEND => {
                // _PyList_AppendTakeRef.
                let v = Self::pop(f);
                let l = f.stack[f.stack.len() - arg as usize];
                f.stack.push(v);
                self.object_only(v)?;
                f.stack.pop();
                self.o.list_append(l, v)?;
                self.decref(v)?;
            }
            Op::LIST_TO_TUPLE => {
                let l = Self::pop(f);
                let items = self.seq_items(l)?.unwrap_or_default();
                let t = self.o.tuple_pack(&items)?;
                self.decref(l)?;
                f.stack.push(t);
            }
            Op::BUILD_MAP | Op::BUILD_CONST_KEY_MAP => {
                // _PyDict_FromItems: PyDict_New and PyDict_SetItem of each pair (up to five;
                // more would be dict_new_presized, which the model has not).
                let n = arg as usize;
                let (keys, values) = if name == "BUILD_MAP" {
                    let items = f.stack[f.stack.len() - 2 * n..].to_vec();
                    let keys: Vec<u64> = items.iter().step_by(2).copied().collect();
                    let values: Vec<u64> = items.iter().skip(1).step_by(2).copied().collect();
                    (keys, values)
                } else {
                    let keys = *f.stack.last().expect("the keys");
                    let values = f.stack[f.stack.len() - 1 - n..f.stack.len() - 1].to_vec();
                    (self.o.tuple_items(keys)?, values)
                };
                if n > 5 {
                    return Err(RunError::NotModelled {
                        construct: "a dict display of more than five items (dict_new_presized)"
                            .into(),
                        filename: String::new(),
                        line: 0,
                    });
                }
                for (&k, &v) in keys.iter().zip(&values) {
                    self.object_only(v)?;
                    self.hashable(k)?;
                }
                let d = self.o.dict_new()?;
                for (&k, &v) in keys.iter().zip(&values) {
                    self.o.dict_setitem(d, k, v)?;
                }
                let popped = if name == "BUILD_MAP" { 2 * n } else { n + 1 };
                for _ in 0..popped {
                    let v = Self::pop(f);
                    self.decref(v)?;
                }
                f.stack.push(d);
            }
            Op::UNPACK_SEQUENCE => {
                let seq = *f.stack.last().expect("the sequence");
                let n = arg as usize;
                let items = match self.seq_items(seq)? {
                    Some(items) if !self.is_extra(seq) => items,
                    _ => {
                        return Err(RunError::NotModelled {
                            construct: format!("unpacking a '{}' object", self.type_name(seq)?),
                            filename: String::new(),
                            line: 0,
                        });
                    }
                };
                if items.len() != n {
                    let msg = if items.len() < n {
                        format!(
                            "not enough values to unpack (expected {n}, got {})",
                            items.len()
                        )
                    } else {
                        format!("too many values to unpack (expected {n})")
                    };
                    return Err(RunError::exception("ValueError", msg));
                }
                Self::pop(f);
                for &v in items.iter().rev() {
                    self.incref(v)?;
                    f.stack.push(v);
                }
                self.decref(seq)?;
            }
            // import_from: the attribute of the module under it (which stays for the next).
            Op::IMPORT_FROM => {
                let module = *f.stack.last().expect("the module");
                let key = f.code.names[arg as usize];
                let v = self.getattr(module, key).map_err(|e| match e {
                    RunError::Exception { kind, .. } if kind == "AttributeError" => {
                        let (n, m) = (self.o.unicode_text(key), self.module_name(module));
                        RunError::exception(
                            "ImportError",
                            format!(
                                "cannot import name '{}' from '{}' (unknown location)",
                                n.unwrap_or_default(),
                                m.unwrap_or_default()
                            ),
                        )
                    }
                    e => e,
                })?;
                f.stack.push(v);
            }
            Op::IMPORT_NAME => {
                let fromlist = Self::pop(f);
                let level = Self::pop(f);
                let key = f.code.names[arg as usize];
                let m = self.import(key);
                self.decref(fromlist)?;
                self.decref(level)?;
                f.stack.push(m?);
            }
            Op::BUILD_TUPLE => {
                let n = arg as usize;
                for &v in &f.stack[f.stack.len() - n..] {
                    self.object_only(v)?;
                }
                let items = f.stack.split_off(f.stack.len() - n);
                let t = self.o.tuple_pack(&items)?;
                for v in items {
                    self.decref(v)?;
                }
                f.stack.push(t);
            }
            // 3.13: the function from its code alone; SET_FUNCTION_ATTRIBUTE then moves each
            // attribute beneath it into it.
            Op::MAKE_FUNCTION if self.o.layout().minor >= 13 => {
                let code = Self::pop(f);
                let func = self.make_function(code, 0, f.globals, 0)?;
                f.stack.push(func);
            }
            Op::SET_FUNCTION_ATTRIBUTE => {
                let func = Self::pop(f);
                let attr = Self::pop(f);
                let field = match arg {
                    1 => Field::FuncDefaults,
                    4 => Field::FuncAnnotations,
                    8 => Field::FuncClosure,
                    _ => {
                        return Err(RunError::NotModelled {
                            construct: "keyword-only defaults (SET_FUNCTION_ATTRIBUTE 2)".into(),
                            filename: String::new(),
                            line: 0,
                        });
                    }
                };
                self.o.set_field(func, field, attr)?;
                f.stack.push(func);
            }
            Op::MAKE_FUNCTION => {
                // PyFunction_New, then the closure (8), the annotations (4) and the defaults
                // (1) popped, each reference moving to the function.
                // 3.10: the qualified name above the code.
                let qualname = if self.legacy() { Self::pop(f) } else { 0 };
                let code = Self::pop(f);
                let closure = if arg & 8 != 0 { Self::pop(f) } else { 0 };
                let annotations = if arg & 4 != 0 { Self::pop(f) } else { 0 };
                if arg & 2 != 0 {
                    return Err(RunError::exception(
                        "SystemError",
                        "keyword defaults are not modelled",
                    ));
                }
                let defaults = if arg & 1 != 0 { Self::pop(f) } else { 0 };
                let func = self.make_function(code, qualname, f.globals, annotations)?;
                if qualname != 0 {
                    self.decref(qualname)?;
                }
                if closure != 0 {
                    self.o.set_field(func, Field::FuncClosure, closure)?;
                }
                if defaults != 0 {
                    self.o.set_field(func, Field::FuncDefaults, defaults)?;
                }
                f.stack.push(func);
            }
            Op::MAKE_CELL => {
                // PyCell_New(initial): the cell takes the local's reference.
                let initial = f.fast[arg as usize];
                let cell = self.o.fields_new(TypeId::Cell, 0)?;
                if initial != 0 {
                    self.o.set_field(cell, Field::CellRef, initial)?;
                }
                f.fast[arg as usize] = cell;
            }
            Op::COPY_FREE_VARS => {
                // The closure's cells into the last slots of localsplus.
                let closure = self.o.field(f.func, Field::FuncClosure)?;
                let cells = self.o.tuple_items(closure)?;
                let offset = f.fast.len() - arg as usize;
                for (i, &c) in cells.iter().enumerate().take(arg as usize) {
                    self.incref(c)?;
                    f.fast[offset + i] = c;
                }
            }
            Op::LOAD_CLOSURE => {
                let cell = f.fast[self.deref_slot(f, arg)];
                self.incref(cell)?;
                f.stack.push(cell);
            }
            Op::LOAD_DEREF => {
                let cell = f.fast[self.deref_slot(f, arg)];
                let v = self.o.field(cell, Field::CellRef)?;
                if v == 0 {
                    return Err(self.format_exc_unbound(f, name, arg)?);
                }
                self.incref(v)?;
                f.stack.push(v);
            }
            Op::STORE_DEREF => {
                let v = Self::pop(f);
                f.stack.push(v);
                self.object_only(v)?;
                f.stack.pop();
                let cell = f.fast[self.deref_slot(f, arg)];
                // PyCell_SET, then the old value released.
                self.o.set_field(cell, Field::CellRef, v)?;
            }
            Op::KW_NAMES => f.kwnames = self.const_at(f, arg)?,
            // 3.13: the names are the last item on the stack, held there during the call.
            // 3.13: the keyword names are the last argument, released after the call.
            Op::CALL_KW => {
                let kwnames = *f.stack.last().expect("the names");
                self.kwnames_held = kwnames;
                let result = self.call(f, arg as usize, kwnames);
                let held = std::mem::take(&mut self.kwnames_held);
                self.decref(held)?;
                f.stack.push(result?);
            }
            Op::PRECALL => {}
            Op::CALL => {
                let kwnames = std::mem::take(&mut f.kwnames);
                let result = self.call(f, arg as usize, kwnames)?;
                f.stack.push(result);
            }
            // 3.10's calls: the callable alone below the arguments (no NULL), or LOAD_METHOD's
            // pair, as CALL_METHOD finds them.
            Op::CALL_FUNCTION | Op::CALL_FUNCTION_KW => {
                let kwnames = if name == "CALL_FUNCTION_KW" {
                    Self::pop(f)
                } else {
                    0
                };
                let at = f.stack.len() - arg as usize - 1;
                f.stack.insert(at, 0);
                let result = self.call(f, arg as usize, kwnames);
                if kwnames != 0 {
                    self.decref(kwnames)?;
                }
                f.stack.push(result?);
            }
            Op::CALL_METHOD => {
                let result = self.call(f, arg as usize, 0)?;
                f.stack.push(result);
            }
            Op::DUP_TOP => {
                let v = *f.stack.last().expect("a value");
                self.incref(v)?;
                f.stack.push(v);
            }
            Op::DUP_TOP_TWO => {
                let n = f.stack.len();
                let (second, top) = (f.stack[n - 2], f.stack[n - 1]);
                self.incref(second)?;
                self.incref(top)?;
                f.stack.extend([second, top]);
            }
            Op::ROT_TWO | Op::ROT_THREE | Op::ROT_FOUR => {
                // The top moves down one, two or three places.
                let k = match name {
                    "ROT_TWO" => 2,
                    "ROT_THREE" => 3,
                    _ => 4,
                };
                let n = f.stack.len();
                f.stack[n - k..].rotate_right(1);
            }
            Op::JUMP_ABSOLUTE => return Ok(Flow::Jump),
            // 3.10's operators by name: the number protocol's slot as BINARY_OP's argument.
            Op::Other
                if (name.starts_with("BINARY_") || name.starts_with("INPLACE_"))
                    && let Some(oparg) = crate::compile::legacy_nb_op(name) =>
            {
                return self.step(f, Op::BINARY_OP, "BINARY_OP", oparg);
            }
            Op::COPY => {
                let v = f.stack[f.stack.len() - arg as usize];
                self.incref(v)?;
                f.stack.push(v);
            }
            Op::SWAP => {
                let n = f.stack.len();
                f.stack.swap(n - 1, n - arg as usize);
            }
            Op::JUMP_FORWARD | Op::JUMP_BACKWARD | Op::JUMP_BACKWARD_NO_INTERRUPT => {
                return Ok(Flow::Jump);
            }
            Op::POP_JUMP_IF_FALSE
            | Op::POP_JUMP_IF_TRUE
            | Op::POP_JUMP_FORWARD_IF_FALSE
            | Op::POP_JUMP_BACKWARD_IF_FALSE
            | Op::POP_JUMP_FORWARD_IF_TRUE
            | Op::POP_JUMP_BACKWARD_IF_TRUE => {
                // Py_True and Py_False are decided without PyObject_IsTrue; either way the
                // condition is released.
                let cond = Self::pop(f);
                let t = self.is_true(cond);
                self.decref(cond)?;
                if t? == name.ends_with("TRUE") {
                    return Ok(Flow::Jump);
                }
            }
            Op::POP_JUMP_IF_NONE
            | Op::POP_JUMP_IF_NOT_NONE
            | Op::POP_JUMP_FORWARD_IF_NONE
            | Op::POP_JUMP_BACKWARD_IF_NONE
            | Op::POP_JUMP_FORWARD_IF_NOT_NONE
            | Op::POP_JUMP_BACKWARD_IF_NOT_NONE => {
                let v = Self::pop(f);
                let is_none = v == self.o.none();
                self.decref(v)?;
                if is_none != name.ends_with("NOT_NONE") {
                    return Ok(Flow::Jump);
                }
            }
            Op::JUMP_IF_FALSE_OR_POP | Op::JUMP_IF_TRUE_OR_POP => {
                // The value stays on the stack if the jump is taken, else it is popped.
                let cond = *f.stack.last().expect("a value");
                if self.is_true(cond)? == (name == "JUMP_IF_TRUE_OR_POP") {
                    return Ok(Flow::Jump);
                }
                Self::pop(f);
                self.decref(cond)?;
            }
            Op::COMPARE_OP => {
                let right = Self::pop(f);
                let left = Self::pop(f);
                // 3.12: the comparison shifted left 4 above a mask of outcomes; 3.13 left 5,
                // with bit 16 asking for the result as a bool.
                let op = match self.o.layout().minor {
                    12 => arg >> 4,
                    13.. => arg >> 5,
                    _ => arg,
                };
                let res = self.rich_compare(left, right, op);
                self.decref(left)?;
                self.decref(right)?;
                f.stack.push(res?);
                if self.o.layout().minor >= 13 && arg & 16 != 0 {
                    return self.step(f, Op::TO_BOOL, "TO_BOOL", 0);
                }
            }
            Op::IS_OP => {
                let right = Self::pop(f);
                let left = Self::pop(f);
                let b = self.new_bool((left == right) ^ (arg == 1))?;
                f.stack.push(b);
                self.decref(left)?;
                self.decref(right)?;
            }
            Op::CONTAINS_OP => {
                let right = Self::pop(f);
                let left = Self::pop(f);
                let res = self.contains(right, left);
                self.decref(left)?;
                self.decref(right)?;
                let b = self.new_bool(res? ^ (arg == 1))?;
                f.stack.push(b);
            }
            // 3.13: PyObject_IsTrue of anything but a bool, the value released; a bool stays.
            Op::TO_BOOL => {
                let v = *f.stack.last().expect("a value");
                if !self.is_extra(v) && self.o.type_of(v)? == TypeId::Bool {
                    return Ok(Flow::Next);
                }
                Self::pop(f);
                let t = self.is_true(v);
                self.decref(v)?;
                let b = self.new_bool(t?)?;
                f.stack.push(b);
            }
            Op::UNARY_NOT => {
                let v = Self::pop(f);
                let t = self.is_true(v);
                self.decref(v)?;
                let b = self.new_bool(!t?)?;
                f.stack.push(b);
            }
            Op::CALL_INTRINSIC_1 if arg == 5 => {
                return self.step(f, Op::UNARY_POSITIVE, "UNARY_POSITIVE", 0);
            }
            Op::CALL_INTRINSIC_1 => {
                return Err(RunError::NotModelled {
                    construct: format!("CALL_INTRINSIC_1 {arg}"),
                    filename: String::new(),
                    line: 0,
                });
            }
            Op::UNARY_NEGATIVE | Op::UNARY_POSITIVE | Op::UNARY_INVERT => {
                let v = Self::pop(f);
                let res = self.unary_op(v, name);
                self.decref(v)?;
                f.stack.push(res?);
            }
            Op::BINARY_OP => {
                let rhs = Self::pop(f);
                let lhs = Self::pop(f);
                let res = self.binary_op(lhs, rhs, arg);
                self.decref(lhs)?;
                self.decref(rhs)?;
                f.stack.push(res?);
            }
            Op::BUILD_SLICE => {
                // PySlice_New (3.11 keeps one freed slice for the next: the model keeps
                // slices itself).
                let n = arg as usize;
                let parts = f.stack.split_off(f.stack.len() - n);
                let mut vals = [None, None, None];
                let mut bad = false;
                for (k, &v) in parts.iter().enumerate() {
                    if v == self.o.none() {
                        continue;
                    }
                    if !self.is_extra(v) && matches!(self.o.type_of(v)?, TypeId::Int | TypeId::Bool)
                    {
                        vals[k] = Some(self.o.long_value(v)?);
                    } else {
                        bad = true;
                    }
                }
                for v in parts {
                    self.decref(v)?;
                }
                let sl = self.new_extra(crate::iterobject::Extra::Slice {
                    start: vals[0],
                    stop: vals[1],
                    step: vals[2],
                    bad,
                });
                f.stack.push(sl);
            }
            // 3.12: a slice without a step built and subscripted (stored to) in one.
            Op::BINARY_SLICE | Op::STORE_SLICE => {
                self.step(f, Op::BUILD_SLICE, "BUILD_SLICE", 2)?;
                let then = if name == "BINARY_SLICE" {
                    "BINARY_SUBSCR"
                } else {
                    "STORE_SUBSCR"
                };
                return self.step(f, Op::of(then), then, 0);
            }
            Op::BINARY_SUBSCR => {
                let sub = Self::pop(f);
                let container = Self::pop(f);
                let res = self.getitem(container, sub);
                self.decref(container)?;
                self.decref(sub)?;
                f.stack.push(res?);
            }
            Op::STORE_SUBSCR => {
                let sub = Self::pop(f);
                let container = Self::pop(f);
                let v = Self::pop(f);
                let res = self.setitem(container, sub, v);
                self.decref(v)?;
                self.decref(container)?;
                self.decref(sub)?;
                res?;
            }
            // 3.13's f-string pieces: CONVERT_VALUE (str, repr, ascii), then FORMAT_SIMPLE (an
            // exact str is itself) or FORMAT_WITH_SPEC.
            Op::CONVERT_VALUE => {
                let value = Self::pop(f);
                let conv = self.convert(value, arg);
                self.decref(value)?;
                f.stack.push(conv?);
            }
            Op::FORMAT_SIMPLE => {
                let value = *f.stack.last().expect("a value");
                if !self.is_extra(value) && self.o.type_of(value)? == TypeId::Str {
                    return Ok(Flow::Next);
                }
                Self::pop(f);
                let r = self.format(value, 0);
                self.decref(value)?;
                f.stack.push(r?);
            }
            Op::FORMAT_WITH_SPEC => {
                let spec = Self::pop(f);
                let value = Self::pop(f);
                let r = self.format(value, spec);
                self.decref(value)?;
                self.decref(spec)?;
                f.stack.push(r?);
            }
            Op::FORMAT_VALUE => {
                let spec = if arg & 4 != 0 { Self::pop(f) } else { 0 };
                let mut value = Self::pop(f);
                if arg & 3 != 0 {
                    // PyObject_Str, PyObject_Repr or PyObject_ASCII.
                    let conv = self.convert(value, arg & 3);
                    self.decref(value)?;
                    if conv.is_err() {
                        self.decref(spec)?;
                    }
                    value = conv?;
                }
                let is_str = !self.is_extra(value) && self.o.type_of(value)? == TypeId::Str;
                let result = if is_str && spec == 0 {
                    // An exact str and no spec: the value itself.
                    value
                } else {
                    let r = self.format(value, spec);
                    self.decref(value)?;
                    self.decref(spec)?;
                    r?
                };
                f.stack.push(result);
            }
            Op::BUILD_STRING => {
                // _PyUnicode_JoinArray: a new str of the pieces ('' for none).
                let n = arg as usize;
                let items = f.stack.split_off(f.stack.len() - n);
                let mut text = String::new();
                for &v in &items {
                    text.push_str(&self.o.unicode_text(v)?);
                }
                let s = self.o.unicode_new(&text)?;
                for v in items {
                    self.decref(v)?;
                }
                f.stack.push(s);
            }
            Op::GET_ITER => {
                let iterable = Self::pop(f);
                let it = self.get_iter(iterable);
                self.decref(iterable)?;
                f.stack.push(it?);
            }
            Op::FOR_ITER => {
                let it = *f.stack.last().expect("the iterator");
                match self.iter_next(it)? {
                    Some(v) => f.stack.push(v),
                    None => {
                        Self::pop(f);
                        self.decref(it)?;
                        return Ok(Flow::Jump);
                    }
                }
            }
            // The exception would be an object in memory (its type, args, traceback): not
            // modelled yet.
            Op::RAISE_VARARGS => {
                return Err(RunError::NotModelled {
                    construct: "raise (exceptions as objects)".into(),
                    filename: String::new(),
                    line: 0,
                });
            }
            Op::Other => {
                return Err(RunError::exception(
                    "SystemError",
                    format!("the model has no {name}"),
                ));
            }
        }
        Ok(Flow::Next)
    }

    fn const_at(&self, f: &Frame, k: u32) -> Result<u64, RunError> {
        let consts = self.o.field(f.code_obj, Field::CoConsts)?;
        self.o
            .tuple_items(consts)?
            .get(k as usize)
            .copied()
            .ok_or_else(|| RunError::exception("SystemError", format!("no constant {k}")))
    }

    /// `LOAD_GLOBAL`'s lookup in the globals, then the builtins (borrowed), remembered as
    /// 3.10's opcache remembers it (`co_opcache->u.lg`: both dicts' `ma_version_tag` and the
    /// object found) and reused while neither dict has changed. A dict's version changes with
    /// every store or deletion and is never given twice, so an unchanged pair of versions means
    /// the same lookup would find the same object. 3.11's `LOAD_GLOBAL_MODULE` and
    /// `LOAD_GLOBAL_BUILTIN` check the keys' `dk_version` instead and read the value afresh:
    /// the same object. The hint lives beside the model's memory, not in it: CPython's inline
    /// caches are words in the code object that no object count sees.
    fn load_global(&mut self, f: &Frame, key: u64) -> Result<u64, RunError> {
        let (globals, builtins) = (f.globals, self.builtins);
        let global_version = self.o.dict_global_version();
        let pc = f.pc;
        let hints = self
            .global_hints
            .entry(f.code_obj)
            .or_insert_with(|| vec![None; f.code.instrs.len()]);
        // No dict has changed since the hint was taken (`pydict_global_version` is where it
        // was): it holds without asking the two dicts.
        if let Some(Some(known)) = hints.get(pc)
            && known.global_version == global_version
            && (known.key, known.globals) == (key, globals)
        {
            return Ok(known.found);
        }
        let hint = GlobalHint {
            key,
            globals,
            globals_ver: self.o.dict_version(globals)?,
            builtins_ver: self.o.dict_version(builtins)?,
            global_version,
            found: 0,
        };
        let same_state = |known: &GlobalHint| {
            (GlobalHint {
                found: 0,
                global_version,
                ..*known
            }) == hint
        };
        let slot = self
            .global_hints
            .get_mut(&f.code_obj)
            .and_then(|h| h.get_mut(pc));
        if let Some(Some(known)) = slot
            && same_state(known)
        {
            known.global_version = global_version;
            return Ok(known.found);
        }
        let found = self.lookup_name(&[globals, builtins], key)?;
        if let Some(slot) = self
            .global_hints
            .get_mut(&f.code_obj)
            .and_then(|h| h.get_mut(pc))
        {
            *slot = Some(GlobalHint { found, ..hint });
        }
        Ok(found)
    }

    /// `LOAD_NAME`/`LOAD_GLOBAL`: the first dict that has the name (borrowed).
    fn lookup_name(&mut self, dicts: &[u64], key: u64) -> Result<u64, RunError> {
        for &d in dicts {
            if let Some(v) = self.o.dict_getitem(d, key)? {
                return Ok(v);
            }
        }
        let n = self.o.unicode_text(key)?;
        if CPYTHON_BUILTINS.split_whitespace().any(|b| b == n) {
            // CPython has it; the model does not (yet): never a NameError CPython would not
            // raise.
            return Err(RunError::NotModelled {
                construct: format!("the built-in '{n}'"),
                filename: String::new(),
                line: 0,
            });
        }
        Err(RunError::exception(
            "NameError",
            format!("name '{n}' is not defined"),
        ))
    }

    /// `PyObject_GetAttr` for the objects the model gives attributes: a module's dict entries.
    fn getattr(&mut self, owner: u64, key: u64) -> Result<u64, RunError> {
        self.object_only(owner)?;
        if self.o.type_of(owner)? == TypeId::Instance {
            return self.instance_getattr(owner, key);
        }
        if self.o.is_class(owner) {
            return self.type_getattr(owner, key);
        }
        if let Some(descr) = self.method_descr(owner, key)? {
            // method_get: a built-in method bound to the object (PyCFunction_NewEx(ml, obj)).
            let def = self.o.cfunction_def(descr)?;
            let name = self.defs[def].name;
            return Ok(self.o.cfunction_new(def, name, owner, 0)?);
        }
        let ty = self.o.type_of(owner)?;
        if ty == TypeId::CData && self.o.unicode_text(key)? == "value" {
            return self.cdata_get_value(owner);
        }
        if ty == TypeId::Method {
            // method_getattro: __self__ and __func__, then the function's attributes.
            let field = match self.o.unicode_text(key)?.as_str() {
                "__self__" => Field::ImSelf,
                "__func__" => Field::ImFunc,
                _ => return self.getattr(self.o.field(owner, Field::ImFunc)?, key),
            };
            let v = self.o.field(owner, field)?;
            self.incref(v)?;
            return Ok(v);
        }
        if ty == TypeId::Function {
            let n = self.o.unicode_text(key)?;
            let field = match n.as_str() {
                "__doc__" => Some(Field::FuncDoc),
                "__name__" => Some(Field::FuncName),
                "__qualname__" => Some(Field::FuncQualname),
                "__module__" => Some(Field::FuncModule),
                // func_get_defaults: None when there are none.
                "__defaults__" => Some(Field::FuncDefaults),
                _ => None,
            };
            if let Some(field) = field {
                let mut v = self.o.field(owner, field)?;
                if v == 0 {
                    v = self.o.none();
                }
                self.incref(v)?;
                return Ok(v);
            }
        }
        if ty == TypeId::Module {
            let dict = self.o.field(owner, Field::MdDict)?;
            if let Some(v) = self.o.dict_getitem(dict, key)? {
                self.incref(v)?;
                return Ok(v);
            }
            let m = self.o.unicode_text(self.o.field(owner, Field::MdName)?)?;
            let n = self.o.unicode_text(key)?;
            if m == "sys" || m == "builtins" {
                // The model's sys and builtins have only what the modelled programs use.
                return Err(RunError::NotModelled {
                    construct: format!("the attribute '{n}' of the module '{m}'"),
                    filename: String::new(),
                    line: 0,
                });
            }
            return Err(RunError::exception(
                "AttributeError",
                format!("module '{m}' has no attribute '{n}'"),
            ));
        }
        let n = self.o.unicode_text(key)?;
        if let Some(t) = self.o.static_type_at(owner)
            && n == "__name__"
        {
            // type_name of a static type: a new str of tp_name after its last dot
            // (PyUnicode_FromString(_PyType_Name(type))).
            let tp_name = t.to_string();
            let short = tp_name.rsplit('.').next().unwrap_or(&tp_name);
            return Ok(self.o.unicode_new(short)?);
        }
        Err(RunError::NotModelled {
            construct: format!("the attribute '{n}' of a '{ty}' object"),
            filename: String::new(),
            line: 0,
        })
    }

    /// The method descriptor named `key` in the type of `owner` (`_PyType_Lookup`), borrowed.
    fn method_descr(&mut self, owner: u64, key: u64) -> Result<Option<u64>, RunError> {
        if self.is_extra(owner) {
            return Ok(None);
        }
        let ty = self.o.type_of(owner)?;
        let name = self.o.unicode_text(key)?;
        Ok(self
            .method_descrs
            .iter()
            .find(|(t, n, _)| *t == ty && *n == name)
            .map(|&(_, _, d)| d))
    }

    /// A module's `__name__`, as its struct keeps it.
    fn module_name(&self, m: u64) -> Result<String, RunError> {
        if self.is_extra(m) || self.o.type_of(m)? != TypeId::Module {
            return self.type_name(m);
        }
        Ok(self.o.unicode_text(self.o.field(m, Field::MdName)?)?)
    }

    /// `import_name`: the module from `sys.modules` (a new reference).
    fn import(&mut self, key: u64) -> Result<u64, RunError> {
        if let Some(m) = self.o.dict_getitem(self.modules, key)? {
            self.incref(m)?;
            return Ok(m);
        }
        let n = self.o.unicode_text(key)?;
        if let Some(m) = self.import_extension(&n)? {
            return Ok(m);
        }
        if let Some(m) = self.import_source_module(&n)? {
            return Ok(m);
        }
        Err(RunError::NotModelled {
            construct: format!("import of the module '{n}'"),
            filename: String::new(),
            line: 0,
        })
    }

    /// `PyFunction_New(code, globals)` with `func_annotations` (stolen): the function owns
    /// `code` (the reference the stack held). `qualname` (borrowed) is 3.10's, or 0.
    fn make_function(
        &mut self,
        code: u64,
        qualname: u64,
        globals: u64,
        annotations: u64,
    ) -> Result<u64, RunError> {
        let func = self.o.fields_new(TypeId::Function, 0)?;
        let name = self.o.field(code, Field::CoName)?;
        // PyFunction_NewWithQualName: the one given (3.10's MAKE_FUNCTION), else co_qualname.
        let qualname = match qualname {
            0 => self.o.field(code, Field::CoQualname)?,
            q => q,
        };
        let consts = self.o.field(code, Field::CoConsts)?;
        // __doc__: co_consts[0] if it is a str.
        let doc = match self.o.tuple_items(consts)?.first() {
            Some(&d) if self.o.type_of(d)? == TypeId::Str => d,
            _ => self.o.none(),
        };
        let module_key = self.o.py_id("__name__")?;
        let module = self.o.dict_getitem(globals, module_key)?.unwrap_or(0);
        // func_builtins is 3.10's: 3.9's frame finds the builtins through the globals.
        let builtins = if self.o.layout().minor >= 10 {
            self.builtins
        } else {
            0
        };
        for (field, value) in [
            (Field::FuncGlobals, globals),
            (Field::FuncBuiltins, builtins),
            (Field::FuncName, name),
            (Field::FuncQualname, qualname),
            (Field::FuncDoc, doc),
            (Field::FuncModule, module),
        ] {
            if value != 0 {
                self.incref(value)?;
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
    /// NULL beneath the arguments (3.11 and 3.12: NULL and the callable, or the method and
    /// `self`; 3.13: the callable, then `self` or NULL); a Python function runs in a new frame that takes the
    /// arguments and the function from the stack; anything else is called and then the stack
    /// released.
    fn call(&mut self, f: &mut Frame, n: usize, kwnames: u64) -> Result<u64, RunError> {
        // 3.13's CALL_KW: the names lie above the arguments.
        let above = usize::from(self.kwnames_held != 0);
        if self.inspector.is_some() {
            self.inspect_call(f, n, above)?;
        }
        let mut names = Vec::new();
        if kwnames != 0 {
            for k in self.o.tuple_items(kwnames)? {
                names.push(self.o.unicode_text(k)?);
            }
        }
        let base = f.stack.len() - above - n - 2;
        let (callable, is_meth) = if self.o.layout().minor >= 13 {
            // 3.13: the callable, then `self` or NULL.
            (f.stack[base], f.stack[base + 1] != 0)
        } else if f.stack[base] != 0 {
            (f.stack[base], true)
        } else {
            (f.stack[base + 1], false)
        };
        let top = f.stack.len() - above;
        let args: Vec<u64> = if is_meth {
            f.stack[base + 1..top].to_vec()
        } else {
            f.stack[base + 2..top].to_vec()
        };
        f.stack.truncate(base);
        let list_append = self.runs_as_list_append(f, n, kwnames, callable, is_meth, &args)?;
        if self.is_extra(callable) {
            let e = RunError::exception(
                "TypeError",
                format!("'{}' object is not callable", self.type_name(callable)?),
            );
            self.release_call(callable, args)?;
            return Err(e);
        }
        if !names.is_empty()
            && !matches!(self.o.type_of(callable)?, TypeId::Function | TypeId::Method)
            && !self.o.is_class(callable)
            && self.o.static_type_at(callable) != Some(TypeId::Dict)
        {
            // Only print among the built-ins takes keywords here.
            let def = match self.o.type_of(callable)? {
                TypeId::CFunction => Some(self.o.cfunction_def(callable)?),
                _ => None,
            };
            let e = match def.map(|d| self.defs[d].name) {
                Some("print") => None,
                Some(name @ ("sorted" | "min" | "max" | "sum")) => Some(RunError::NotModelled {
                    construct: format!("keyword arguments to {name}()"),
                    filename: String::new(),
                    line: 0,
                }),
                Some(name) => {
                    let d = &self.defs[def.expect("a def")];
                    let full = if d.is_method() {
                        format!("{}.{name}", d.module)
                    } else {
                        name.to_string()
                    };
                    Some(RunError::exception(
                        "TypeError",
                        format!("{full}() takes no keyword arguments"),
                    ))
                }
                None => Some(RunError::NotModelled {
                    construct: "keyword arguments to this callable".into(),
                    filename: String::new(),
                    line: 0,
                }),
            };
            if let Some(e) = e {
                self.release_call(callable, args)?;
                return Err(e);
            }
        }
        let nkw = names.len();
        self.kwnames = kwnames;
        self.kwargs = names
            .into_iter()
            .zip(args[args.len() - nkw..].iter().copied())
            .collect();
        let ty = self.o.type_of(callable)?;
        match ty {
            TypeId::Function | TypeId::Method => {
                // The caller waits below the new frame, where an inspector can see it.
                self.with_caller_waiting(f, &[], &[], |s| {
                    if ty == TypeId::Function {
                        s.call_function(callable, args, nkw)
                    } else {
                        s.call_method(callable, args, nkw)
                    }
                })
            }
            TypeId::Type if self.o.is_class(callable) => {
                // type_call is C: the class and the arguments stay on the caller's stack.
                let result = self
                    .with_caller_waiting(f, &[callable], &args, |s| s.type_call(callable, &args));
                self.decref(callable)?;
                for a in args {
                    self.decref(a)?;
                }
                self.after_c_call(f, result)
            }
            TypeId::CFunction => {
                let def = self.o.cfunction_def(callable)?;
                let call = self.defs[def].call;
                let mut args = args;
                let m_self = self.o.field(callable, Field::CfSelf)?;
                if self.defs[def].is_method() {
                    if m_self != 0 {
                        // A bound built-in method: its object comes first (a new reference
                        // here, released with the arguments).
                        self.incref(m_self)?;
                        args.insert(0, m_self);
                    } else if let Some(&first) = args.first() {
                        // A method descriptor called with its object (LOAD_METHOD, or
                        // list.append(li, x)): method_vectorcall checks the type.
                        let owner = self.defs[def].module;
                        let t = self.type_name(first)?;
                        if t != owner {
                            let e = RunError::exception(
                                "TypeError",
                                format!(
                                    "descriptor '{}' for '{owner}' objects doesn't apply to a '{t}' object",
                                    self.defs[def].name
                                ),
                            );
                            self.release_call(callable, args)?;
                            return Err(e);
                        }
                    }
                }
                // A built-in that runs Python code (__build_class__) leaves its caller waiting
                // below, the callable and the arguments still on the caller's stack.
                let result = self.with_caller_waiting(f, &[callable], &args, |s| call(s, &args));
                if result.as_ref().is_err_and(RunError::is_fatal) {
                    return result;
                }
                self.release_call(callable, args)?;
                if list_append {
                    // CALL_NO_KW_LIST_APPEND and CALL_LIST_APPEND go on to the next
                    // instruction without checking the eval breaker.
                    return result;
                }
                self.after_c_call(f, result)
            }
            TypeId::Type if self.o.static_type_at(callable).is_some() => {
                let ty = self.o.static_type_at(callable).expect("a static type");
                let result = self.call_type(ty, &args);
                self.release_call(callable, args)?;
                self.after_c_call(f, result)
            }
            ty => {
                let e = RunError::exception(
                    "TypeError",
                    format!("calling a '{ty}' object is not modelled"),
                );
                self.release_call(callable, args)?;
                Err(e)
            }
        }
    }

    /// Whether this `CALL` runs as 3.12's `CALL_NO_KW_LIST_APPEND` or 3.13's
    /// `CALL_LIST_APPEND`. A `CALL` starts with its adaptive counter at
    /// `ADAPTIVE_WARMUP_VALUE`, 1: its first run counts it down, and its second specializes it
    /// for what it calls then (`_Py_Specialize_Call`). `specialize_method_descriptor` picks the
    /// list-append form for `list.append`'s descriptor called as a method with one argument
    /// and its result dropped (the next instruction `POP_TOP`); the form deoptimizes for a
    /// receiver that is not exactly a list. Every site is taken to have specialized so (the
    /// model has no other specialized `CALL`, and no other changes what the program sees).
    fn runs_as_list_append(
        &mut self,
        f: &Frame,
        n: usize,
        kwnames: u64,
        callable: u64,
        is_meth: bool,
        args: &[u64],
    ) -> Result<bool, RunError> {
        let instrs = &f.code.instrs;
        if self.o.layout().minor < 12 || instrs[f.pc].op != Op::CALL {
            return Ok(false);
        }
        let warmed = self
            .call_warmup
            .entry(f.code_obj)
            .or_insert_with(|| vec![false; instrs.len()]);
        let ran_before = std::mem::replace(&mut warmed[f.pc], true);
        if !ran_before
            || n != 1
            || kwnames != 0
            || !is_meth
            || instrs.get(f.pc + 1).map(|i| i.op) != Some(Op::POP_TOP)
            || self.is_extra(callable)
            || self.o.type_of(callable)? != TypeId::CFunction
            || self.o.field(callable, Field::CfSelf)? != 0
        {
            return Ok(false);
        }
        let def = &self.defs[self.o.cfunction_def(callable)?];
        Ok((def.module, def.name) == ("list", "append")
            && !self.is_extra(args[0])
            && self.o.type_of(args[0])? == TypeId::List)
    }

    /// `CHECK_EVAL_BREAKER()` after a call of C code gave its result (3.12's `CALL`): a
    /// collection scheduled meanwhile runs now. A Python function's frame checks at its
    /// `RESUME` instead, and nothing is checked when it returns.
    fn after_c_call(&mut self, f: &Frame, result: Result<u64, RunError>) -> Result<u64, RunError> {
        let v = result?;
        if let Err(e) = self.run_scheduled_gc(f, Some(v)) {
            self.decref(v)?;
            return Err(e);
        }
        Ok(v)
    }

    /// `dict_vectorcall`: `dict_new`, then each keyword argument stored under its name, the
    /// str of the call's `kwnames` (`PyDict_SetItem`). The arguments are borrowed.
    fn dict_vectorcall(&mut self, args: &[u64]) -> Result<u64, RunError> {
        let nkw = std::mem::take(&mut self.kwargs).len();
        let (positional, values) = args.split_at(args.len() - nkw);
        match positional.len() {
            0 => {}
            1 => {
                // dict_update_arg: PyDict_Merge or PyDict_MergeFromSeq2.
                return Err(RunError::NotModelled {
                    construct: "dict() of a mapping or an iterable".into(),
                    filename: String::new(),
                    line: 0,
                });
            }
            n => {
                return Err(RunError::exception(
                    "TypeError",
                    format!("dict expected at most 1 argument, got {n}"),
                ));
            }
        }
        let d = self.o.dict_new_generic()?;
        let names = if nkw == 0 {
            Vec::new()
        } else {
            self.o.tuple_items(self.kwnames)?
        };
        for (&key, &value) in names.iter().zip(values) {
            self.o.dict_setitem(d, key, value)?;
        }
        Ok(d)
    }

    /// The inspector's [`Event::BuiltinCall`], if `CALL n` is about to call a built-in
    /// function: the callable and its arguments are still on the stack.
    fn inspect_call(&mut self, f: &Frame, n: usize, above: usize) -> Result<(), RunError> {
        let top = f.stack.len() - above;
        let base = top - n - 2;
        let (callable, args) = if self.o.layout().minor >= 13 {
            // The callable, then `self` or NULL.
            let first = if f.stack[base + 1] != 0 { 1 } else { 2 };
            (f.stack[base], &f.stack[base + first..top])
        } else if f.stack[base] != 0 {
            (f.stack[base], &f.stack[base + 1..top])
        } else {
            (f.stack[base + 1], &f.stack[base + 2..top])
        };
        if self.is_extra(callable) || self.o.type_of(callable)? != TypeId::CFunction {
            return Ok(());
        }
        let name = self.defs[self.o.cfunction_def(callable)?].name;
        let event = Event::BuiltinCall {
            name,
            callable,
            args,
        };
        self.inspect(Some(f.roots()), &event);
        Ok(())
    }

    /// A built-in type called (`type_call` -> `tp_new`/`tp_init`, or the type's vectorcall):
    /// `list()`, `list(iterable)`, `str(x)`, `int(x)`. The arguments are borrowed.
    fn call_type(&mut self, ty: TypeId, args: &[u64]) -> Result<u64, RunError> {
        if ty == TypeId::Dict {
            return self.dict_vectorcall(args);
        }
        match (ty, args) {
            (TypeId::Type, [x]) => self.type_of_object(*x),
            // list(): list_vectorcall, PyType_GenericAlloc (never the free list).
            (TypeId::List, []) => Ok(self.o.list_new_generic()?),
            (TypeId::List, [x]) => {
                // list___init__: an iterable with a length gets exactly its room
                // (list_preallocate_exact), then list_extend.
                let l = self.o.list_new_generic()?;
                if !self.is_extra(*x) && matches!(self.o.type_of(*x)?, TypeId::List | TypeId::Tuple)
                {
                    self.o.list_extend(l, *x)?;
                    return Ok(l);
                }
                // Other iterables: their items, gathered in a tuple the model makes for the
                // purpose (CPython appends them one by one into the preallocated buffer).
                let items = match self.collect_iterable(*x) {
                    Ok(items) => items,
                    Err(e) => {
                        self.decref(l)?;
                        return Err(e);
                    }
                };
                let t = self.o.tuple_pack(&items)?;
                for v in items {
                    self.decref(v)?;
                }
                self.o.list_extend(l, t)?;
                self.decref(t)?;
                Ok(l)
            }
            (TypeId::Str, [x]) => {
                if self.is_extra(*x) {
                    let text = self.extra_repr(*x)?;
                    return Ok(self.o.unicode_new(&text)?);
                }
                if self.o.type_of(*x)? == TypeId::Str {
                    // unicode_new_impl -> PyObject_Str: an exact str is itself.
                    self.incref(*x)?;
                    return Ok(*x);
                }
                // long_to_decimal_string and the other tp_str/tp_repr: always a new str.
                let text = self.o.str_of(*x)?;
                Ok(self.o.unicode_new(&text)?)
            }
            (TypeId::Str, []) => Ok(self.o.unicode_new("")?),
            // object_new: 16 bytes, untracked.
            (TypeId::Object, []) => Ok(self.o.object_new()?),
            (TypeId::Tuple, []) => Ok(self.o.tuple_pack(&[])?),
            (TypeId::Tuple, [x]) => {
                // PySequence_Tuple: an exact tuple is itself; a list's items are copied; other
                // iterables fill a tuple of their length.
                if !self.is_extra(*x) && self.o.type_of(*x)? == TypeId::Tuple {
                    self.incref(*x)?;
                    return Ok(*x);
                }
                let items = if !self.is_extra(*x) && self.o.type_of(*x)? == TypeId::List {
                    let items = self.seq_items(*x)?.unwrap_or_default();
                    for &v in &items {
                        self.incref(v)?;
                    }
                    items
                } else {
                    self.collect_iterable(*x)?
                };
                let t = self.o.tuple_pack(&items)?;
                for v in items {
                    self.decref(v)?;
                }
                Ok(t)
            }
            (TypeId::Int, []) => self.new_int(0),
            (TypeId::Int, [x]) => {
                self.object_only(*x)?;
                match self.o.type_of(*x)? {
                    TypeId::Int => {
                        // long_long: an exact int is itself.
                        self.incref(*x)?;
                        Ok(*x)
                    }
                    TypeId::Bool => {
                        let v = self.o.long_value(*x)?;
                        self.new_int(v)
                    }
                    TypeId::Float => {
                        let f = self.o.float_value(*x)?;
                        if !f.is_finite() {
                            return Err(RunError::exception(
                                "OverflowError",
                                "cannot convert float infinity to integer",
                            ));
                        }
                        self.new_int(f.trunc() as i128)
                    }
                    TypeId::Str => {
                        let text = self.o.unicode_text(*x)?;
                        match parse_int(&text) {
                            Some(Some(v)) => self.new_int(v),
                            Some(None) => Err(RunError::NotModelled {
                                construct: "an int beyond 128 bits".into(),
                                filename: String::new(),
                                line: 0,
                            }),
                            None => Err(RunError::exception(
                                "ValueError",
                                format!(
                                    "invalid literal for int() with base 10: {}",
                                    objects::unicode_repr(&text)
                                ),
                            )),
                        }
                    }
                    t => Err(RunError::exception(
                        "TypeError",
                        format!(
                            "int() argument must be a string, a bytes-like object or a real number, not '{t}'"
                        ),
                    )),
                }
            }
            (ty, _) => Err(RunError::exception(
                "TypeError",
                format!("calling the type '{ty}' this way is not modelled"),
            )),
        }
    }

    /// The stack's references a finished call releases: 3.11+ the callable, then the
    /// arguments in order; 3.10's `call_function` pops the arguments from the last, then the
    /// callable.
    fn release_call(&mut self, callable: u64, args: Vec<u64>) -> Result<(), RunError> {
        if self.o.layout().minor <= 10 {
            for a in args.into_iter().rev() {
                self.decref(a)?;
            }
            return self.decref(callable);
        }
        self.decref(callable)?;
        for a in args {
            self.decref(a)?;
        }
        Ok(())
    }

    /// `initialize_locals`: the positional arguments, then each keyword argument in the slot of
    /// its parameter; the references move from the caller's stack into the new locals.
    /// The parameters still empty after them take `defaults` (`func_defaults`'s items, the
    /// last parameters'), a new reference each, once the required ones are all there.
    /// With `CO_VARARGS` the other positional arguments go into a tuple and with
    /// `CO_VARKEYWORDS` the other keyword arguments into a dict (made first), their references
    /// moved there; if the call fails, the tuple and the dict go and the caller releases the
    /// arguments.
    fn initialize_locals(
        &mut self,
        code: &CodeUnit,
        args: &[u64],
        nkw: usize,
        kwargs: &[(String, u64)],
        defaults: &[u64],
    ) -> Result<Vec<u64>, RunError> {
        let mut fast = vec![0; code.varnames.len()];
        let mut moved = Vec::new();
        match self.fill_locals(&mut fast, &mut moved, code, args, nkw, kwargs, defaults) {
            Ok(()) => {
                for v in moved {
                    self.decref(v)?;
                }
                Ok(fast)
            }
            Err(e) => {
                let argcount = code.argcount as usize;
                let slots = usize::from(code.varargs) + usize::from(code.varkeywords);
                for v in fast[argcount..argcount + slots].iter().copied() {
                    if v != 0 {
                        self.decref(v)?;
                    }
                }
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fill_locals(
        &mut self,
        fast: &mut [u64],
        moved: &mut Vec<u64>,
        code: &CodeUnit,
        args: &[u64],
        nkw: usize,
        kwargs: &[(String, u64)],
        defaults: &[u64],
    ) -> Result<(), RunError> {
        let argcount = code.argcount as usize;
        let npos = args.len() - nkw;
        let qualname = &code.qualname;
        if npos > argcount && !code.varargs {
            // too_many_positional: "from M to N" when some have defaults.
            let (sig, plural) = if defaults.is_empty() {
                (argcount.to_string(), argcount != 1)
            } else {
                (
                    format!("from {} to {argcount}", argcount - defaults.len()),
                    true,
                )
            };
            return Err(RunError::exception(
                "TypeError",
                format!(
                    "{qualname}() takes {sig} positional argument{} but {npos} {} given",
                    if plural { "s" } else { "" },
                    if npos == 1 { "was" } else { "were" }
                ),
            ));
        }
        // The **kwargs dict first, in its slot after the parameters and *args.
        let kwdict = if code.varkeywords {
            let d = self.o.dict_new()?;
            fast[argcount + usize::from(code.varargs)] = d;
            d
        } else {
            0
        };
        let n = npos.min(argcount);
        fast[..n].copy_from_slice(&args[..n]);
        if code.varargs {
            // _PyTuple_FromArraySteal: the other positional arguments (or the empty tuple).
            fast[argcount] = self.o.tuple_pack(&args[n..npos])?;
            moved.extend_from_slice(&args[n..npos]);
        }
        let params: Vec<String> = code.varnames[..argcount]
            .iter()
            .map(|&n| self.o.unicode_text(n))
            .collect::<Result<_, _>>()?;
        for (j, (name, v)) in kwargs.iter().enumerate() {
            let Some(i) = params.iter().position(|p| p == name) else {
                if kwdict != 0 {
                    let key = self.o.tuple_items(self.kwnames)?[j];
                    self.o.dict_setitem(kwdict, key, *v)?;
                    moved.push(*v);
                    continue;
                }
                // 3.13 suggests the nearest of the parameters that can be keywords.
                let message = if self.o.layout().minor >= 13 {
                    crate::suggestions::unexpected_keyword(qualname, name, &params)
                } else {
                    format!("{qualname}() got an unexpected keyword argument '{name}'")
                };
                return Err(RunError::exception("TypeError", message));
            };
            if fast[i] != 0 {
                return Err(RunError::exception(
                    "TypeError",
                    format!("{qualname}() got multiple values for argument '{name}'"),
                ));
            }
            fast[i] = *v;
        }
        let required = argcount - defaults.len();
        let missing: Vec<String> = (0..required)
            .filter(|&i| fast[i] == 0)
            .map(|i| format!("'{}'", params[i]))
            .collect();
        if !missing.is_empty() {
            let list = match missing.as_slice() {
                [one] => one.clone(),
                [a, b] => format!("{a} and {b}"),
                [init @ .., last] => format!("{}, and {last}", init.join(", ")),
                [] => unreachable!("not empty"),
            };
            return Err(RunError::exception(
                "TypeError",
                format!(
                    "{qualname}() missing {} required positional argument{}: {list}",
                    missing.len(),
                    if missing.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        for (i, &d) in defaults.iter().enumerate() {
            if fast[required + i] == 0 {
                self.incref(d)?;
                fast[required + i] = d;
            }
        }
        Ok(())
    }

    /// `_PyEvalFramePushAndInit`, the frame's run, and `_PyFrame_Clear`.
    /// The last `nkw` of `args` are keyword arguments, named in `self.kwargs`.
    pub(crate) fn call_function(
        &mut self,
        func: u64,
        args: Vec<u64>,
        nkw: usize,
    ) -> Result<u64, RunError> {
        if self.legacy() {
            return self.call_function_3_10(func, args, nkw);
        }
        let code_obj = self.o.field(func, Field::FuncCode)?;
        let globals = self.o.field(func, Field::FuncGlobals)?;
        let code = self.units[&code_obj].clone();
        let kwargs = std::mem::take(&mut self.kwargs);
        let defaults = match self.o.field(func, Field::FuncDefaults)? {
            0 => Vec::new(),
            d => self.o.tuple_items(d)?,
        };
        let fast = self.initialize_locals(&code, &args, nkw, &kwargs, &defaults);
        // 3.13's CALL_KW releases the names once the frame is initialised.
        let held = std::mem::take(&mut self.kwnames_held);
        self.decref(held)?;
        let fast = match fast {
            Ok(fast) => fast,
            Err(e) => {
                self.decref(func)?;
                for a in args {
                    self.decref(a)?;
                }
                return Err(e);
            }
        };
        self.incref(code_obj)?; // frame->f_code = Py_NewRef(func->func_code)
        let mut frame = Frame {
            code,
            code_obj,
            globals,
            locals: 0,
            fast,
            stack: Vec::new(),
            func,
            kwnames: 0,
            pc: 0,
            object: 0,
        };
        let result = self.run_frame(&mut frame);
        if result.as_ref().is_err_and(RunError::is_fatal) {
            return result;
        }
        let fast = frame.fast;
        for v in fast {
            self.decref(v)?;
        }
        self.decref(func)?;
        self.decref(code_obj)?;
        result
    }
}

/// What one `LOAD_GLOBAL` found, and the state it found it in ([`Interp::load_global`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GlobalHint {
    key: u64,
    globals: u64,
    globals_ver: u64,
    builtins_ver: u64,
    /// `pydict_global_version` when the hint was last found to hold.
    global_version: u64,
    /// The object found (borrowed from the dict that holds it).
    found: u64,
}

impl Interp {
    /// 3.10's `_PyFunction_Vectorcall` -> `_PyEval_Vector`: `_PyEval_MakeFrameVector` gives
    /// the new frame a reference of its own to each argument (the caller's stack keeps its
    /// own until the call returns), makes a cell for each of `co_cellvars` (a parameter's
    /// value moved into its cell) and copies the closure's cells; the frame holds its code,
    /// globals and builtins. When it returns the frame releases its locals in order
    /// (`frame_dealloc`), then `call_function` the arguments and the function.
    fn call_function_3_10(
        &mut self,
        func: u64,
        args: Vec<u64>,
        nkw: usize,
    ) -> Result<u64, RunError> {
        let code_obj = self.o.field(func, Field::FuncCode)?;
        let globals = self.o.field(func, Field::FuncGlobals)?;
        let code = self.units[&code_obj].clone();
        let kwargs = std::mem::take(&mut self.kwargs);
        let defaults = match self.o.field(func, Field::FuncDefaults)? {
            0 => Vec::new(),
            d => self.o.tuple_items(d)?,
        };
        let object = self.push_frame_object(code_obj, &code, globals, 0)?;
        for &a in &args {
            self.incref(a)?;
        }
        let mut frame = Frame {
            code: code.clone(),
            code_obj,
            globals,
            locals: 0,
            fast: Vec::new(),
            stack: Vec::new(),
            func,
            kwnames: 0,
            pc: 0,
            object,
        };
        match self.initialize_locals(&code, &args, nkw, &kwargs, &defaults) {
            Ok(fast) => frame.fast = fast,
            Err(e) => {
                for &a in &args {
                    self.decref(a)?;
                }
                self.pop_frame_object(&frame)?;
                self.release_call(func, args)?;
                return Err(e);
            }
        }
        self.cells_and_free_vars(&code, func, &mut frame.fast)?;
        let result = self.run_frame(&mut frame);
        if result.as_ref().is_err_and(RunError::is_fatal) {
            return result;
        }
        for v in std::mem::take(&mut frame.fast) {
            self.decref(v)?;
        }
        self.pop_frame_object(&frame)?;
        self.release_call(func, args)?;
        result
    }

    /// `_PyEval_MakeFrameVector`'s cells: one per `co_cellvars` name after the locals, taking
    /// the value of the parameter of that name (`co_cell2arg`; the local is cleared), then
    /// the closure's cells, a new reference each, after them.
    fn cells_and_free_vars(
        &mut self,
        code: &CodeUnit,
        func: u64,
        fast: &mut [u64],
    ) -> Result<(), RunError> {
        let nlocals = code.nlocals as usize;
        let nfree = code.nfreevars as usize;
        let ncells = code.varnames.len() - nlocals - nfree;
        let nargs =
            code.argcount as usize + usize::from(code.varargs) + usize::from(code.varkeywords);
        for i in 0..ncells {
            let name = code.varnames[nlocals + i];
            let arg = code.varnames[..nargs].iter().position(|&n| n == name);
            let initial = arg.map_or(0, |a| std::mem::take(&mut fast[a]));
            let cell = self.o.fields_new(TypeId::Cell, 0)?;
            if initial != 0 {
                self.o.set_field(cell, Field::CellRef, initial)?;
            }
            fast[nlocals + i] = cell;
        }
        if nfree > 0 {
            let closure = self.o.field(func, Field::FuncClosure)?;
            for (i, c) in self.o.tuple_items(closure)?.into_iter().enumerate() {
                self.incref(c)?;
                fast[nlocals + ncells + i] = c;
            }
        }
        Ok(())
    }
}

/// `PyLong_FromString(s, NULL, 10)` as `int(s)` calls it: surrounding whitespace, a sign,
/// digits with single underscores between them. `Some(None)`: a valid int beyond 128 bits.
fn parse_int(text: &str) -> Option<Option<i128>> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let v: Option<i128> = digits.replace('_', "").parse().ok();
    Some(v.map(|v| if neg { -v } else { v }))
}

/// `dir(builtins)` of CPython 3.11.7 (the public names): a name among them that the model's
/// builtins lack is not modelled rather than undefined.
const CPYTHON_BUILTINS: &str = "ArithmeticError AssertionError AttributeError BaseException \
    BaseExceptionGroup BlockingIOError BrokenPipeError BufferError BytesWarning \
    ChildProcessError ConnectionAbortedError ConnectionError ConnectionRefusedError \
    ConnectionResetError DeprecationWarning EOFError Ellipsis EncodingWarning EnvironmentError \
    Exception ExceptionGroup False FileExistsError FileNotFoundError FloatingPointError \
    FutureWarning GeneratorExit IOError ImportError ImportWarning IndentationError IndexError \
    InterruptedError IsADirectoryError KeyError KeyboardInterrupt LookupError MemoryError \
    ModuleNotFoundError NameError None NotADirectoryError NotImplemented NotImplementedError \
    OSError OverflowError PendingDeprecationWarning PermissionError ProcessLookupError \
    RecursionError ReferenceError ResourceWarning RuntimeError RuntimeWarning \
    StopAsyncIteration StopIteration SyntaxError SyntaxWarning SystemError SystemExit TabError \
    TimeoutError True TypeError UnboundLocalError UnicodeDecodeError UnicodeEncodeError \
    UnicodeError UnicodeTranslateError UnicodeWarning UserWarning ValueError Warning \
    ZeroDivisionError __build_class__ __debug__ __import__ __name__ __doc__ __spec__ \
    __loader__ __package__ __file__ __cached__ __builtins__ __annotations__ abs aiter all \
    anext any ascii bin bool breakpoint bytearray bytes callable chr classmethod compile \
    complex copyright credits delattr dict dir divmod enumerate eval exec exit filter float \
    format frozenset getattr globals hasattr hash help hex id input int isinstance issubclass \
    iter len license list locals map max memoryview min next object oct open ord pow print \
    property quit range repr reversed round set setattr slice sorted staticmethod str sum \
    super tuple type vars zip";
