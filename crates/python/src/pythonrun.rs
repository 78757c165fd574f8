//! `Python/pythonrun.c`: running a script as `python3 script.py` does.
//!
//! `pyrun_file` parses the whole file into an arena, compiles it, runs the module's code in
//! `__main__`'s dict, and frees the arena only when the script has finished: until then every
//! constant of the script has one more reference than a module compiled by `compile()` would.

use std::cell::RefCell;
use std::rc::Rc;

use objects::Field;
use pymalloc::Profile;

use crate::compile::{Compiled, compile};
use crate::error::RunError;
use crate::interp::Interp;
use crate::pyarena::Arena;
use crate::refs::{Event, Inspector};

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// Standard output.
    pub stdout: String,
    /// What the program and the interpreter wrote to standard error before any error it
    /// ended with (the collector's `DEBUG_*` messages).
    pub stderr: String,
    /// The error the program ended with, if any (what CPython prints on standard error).
    pub error: Option<RunError>,
    /// The trace of a traced run (`--trace`), else empty.
    pub trace: String,
}

/// How much a traced run writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trace {
    /// Each source line, then the events it caused.
    Lines,
    /// Each instruction too.
    Instructions,
}

/// What `pyrun_file` holds while the main script runs: the `__main__` module, the parser's
/// arena, and the module's code object (`run_eval_code_obj`); empty before and after.
#[derive(Debug, Default)]
pub(crate) struct Script {
    pub(crate) main: u64,
    pub(crate) arena: Arena,
    pub(crate) code: u64,
}

/// Runs `source` as the main script `filename` on `profile`'s version.
///
/// The program runs on a thread of its own with a stack big enough for CPython's recursion
/// limit (a Python call is a nested call of the evaluation loop here, as it is not in 3.11).
pub fn run_source(profile: Profile, source: &str, filename: &str) -> Result<RunOutput, RunError> {
    run_on_thread(profile, source, filename, None, NO_INSPECTOR).map(|(out, _)| out)
}

/// [`run_source`] with a trace of each source line run and the events it caused in the
/// object layer and the allocators beneath it.
pub fn run_source_traced(
    profile: Profile,
    source: &str,
    filename: &str,
    trace: Trace,
) -> Result<RunOutput, RunError> {
    run_on_thread(profile, source, filename, Some(trace), NO_INSPECTOR).map(|(out, _)| out)
}

/// No inspector, as [`run_on_thread`] takes one.
const NO_INSPECTOR: Option<fn(&Interp, &Event<'_>)> = None;

/// As [`run_source`], with `inspector` called before each call of a built-in function and once
/// the script has finished ([`crate::refs::Event`]); returned with the output.
pub fn run_source_with<I>(
    profile: Profile,
    source: &str,
    filename: &str,
    inspector: I,
) -> Result<(RunOutput, I), RunError>
where
    I: Inspector + Send + 'static,
{
    let (out, inspector) = run_on_thread(profile, source, filename, None, Some(inspector))?;
    let inspector =
        inspector.ok_or_else(|| RunError::Usage("the inspector outlived the run".into()))?;
    Ok((out, inspector))
}

/// The inspector shared between the interpreter, which calls it, and the run, which gives it
/// back.
struct Shared<I>(Rc<RefCell<I>>);

impl<I: Inspector> Inspector for Shared<I> {
    fn inspect(&mut self, interp: &Interp, event: &Event<'_>) {
        self.0.borrow_mut().inspect(interp, event);
    }
}

fn run_on_thread<I>(
    profile: Profile,
    source: &str,
    filename: &str,
    trace: Option<Trace>,
    inspector: Option<I>,
) -> Result<(RunOutput, Option<I>), RunError>
where
    I: Inspector + Send + 'static,
{
    let source = source.to_string();
    let filename = filename.to_string();
    let run = move || -> Result<(RunOutput, Option<I>), RunError> {
        let mut interp = Interp::new(profile)?;
        if let Some(level) = trace {
            interp.start_trace(level == Trace::Instructions);
        }
        let shared = inspector.map(|i| Rc::new(RefCell::new(i)));
        if let Some(s) = &shared {
            interp.set_inspector(Some(Box::new(Shared(s.clone()))));
        }
        let mut error = interp.run_main(&source, &filename).err();
        // A process that died (the model's segmentation fault, or a corruption it detected)
        // does not finalize; one that ended, even with an exception, does.
        if !error.as_ref().is_some_and(RunError::is_fatal)
            && let Err(e) = interp.finalize()
        {
            error = Some(e);
        }
        interp.trace_events();
        interp.inspect(None, &Event::Finished);
        let out = RunOutput {
            stdout: std::mem::take(&mut interp.stdout),
            stderr: interp.o.take_stderr(),
            error,
            trace: interp.tracer.take().map(|t| t.out).unwrap_or_default(),
        };
        drop(interp);
        let inspector = shared
            .and_then(|s| Rc::try_unwrap(s).ok())
            .map(RefCell::into_inner);
        Ok((out, inspector))
    };
    let handle = std::thread::Builder::new()
        .name("python".into())
        .stack_size(STACK_SIZE)
        .spawn(run)
        .map_err(|e| RunError::Usage(format!("cannot start the interpreter's thread: {e}")))?;
    handle
        .join()
        .map_err(|_| RunError::Usage("the interpreter's thread panicked".into()))?
}

/// Modules the model brings in Python source, for third-party modules the blog imports:
/// `psutil` (the part its programs use, reading the model's address space).
const EMBEDDED: [(&str, &str); 1] = [("psutil", include_str!("lib/psutil.py"))];

/// The interpreter thread's stack: room for 1000 nested Python calls in a debug build.
const STACK_SIZE: usize = 1 << 30;

/// `dis.dis(compile(source, filename, 'exec'))` on `profile`'s version.
pub fn dis_source(profile: Profile, source: &str, filename: &str) -> Result<String, RunError> {
    let (source, filename) = (source.to_string(), filename.to_string());
    on_big_stack(move || {
        let mut interp = Interp::new(profile)?;
        let mut arena = Arena::default();
        let compiled = compile(&mut interp.o, &mut arena, &source, &filename)?;
        let codes = interp.make_code_objects(&compiled)?;
        crate::dis::dis(&mut interp.o, &compiled, &codes)
    })
}

/// `compile` on a thread whose stack is the running program's ([`STACK_SIZE`]): the
/// compiler recurses once per level of a nested expression, as CPython's does, in frames
/// bigger than C's.
fn on_big_stack<T: Send + 'static>(
    compile: impl FnOnce() -> Result<T, RunError> + Send + 'static,
) -> Result<T, RunError> {
    std::thread::Builder::new()
        .name("compile".into())
        .stack_size(STACK_SIZE)
        .spawn(compile)
        .map_err(|e| RunError::Usage(format!("cannot start the compiler's thread: {e}")))?
        .join()
        .map_err(|_| RunError::Usage("the compiler's thread panicked".into()))?
}

/// The `co_positions` of each instruction of `source` compiled on `profile`'s version
/// ([`crate::dis::positions`]).
pub fn positions_source(
    profile: Profile,
    source: &str,
    filename: &str,
) -> Result<String, RunError> {
    let (source, filename) = (source.to_string(), filename.to_string());
    on_big_stack(move || {
        let mut interp = Interp::new(profile)?;
        let mut arena = Arena::default();
        let compiled = compile(&mut interp.o, &mut arena, &source, &filename)?;
        Ok(crate::dis::positions(&compiled))
    })
}

impl Interp {
    /// `pyrun_file`: parse into an arena, compile, run in `__main__`, free the arena.
    ///
    /// The code objects keep the script's name as it was given, as 3.8's do: 3.9+ makes it
    /// absolute (`config_run_filename_abspath`), which tracebacks show
    /// ([`Interp::traceback_filename`]), but a name whose length depends on where the
    /// repository lies would move what the model allocates after it from one machine to the
    /// next.
    pub fn run_main(&mut self, source: &str, filename: &str) -> Result<(), RunError> {
        // sys.path[0]: the script's directory, where `import NAME` finds NAME.py.
        self.script_dir = Some(
            std::path::Path::new(filename)
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default(),
        );
        if let Some(t) = self.tracer.as_mut() {
            t.add_source(filename, source);
        }
        self.sources.insert(filename.into(), source.into());
        self.trace_phase("(start) __main__ made; the script parsed into its arena and compiled");
        self.set_argv(filename)?;
        let main = self.new_module("__main__")?;
        let globals = self.o.field(main, Field::MdDict)?;
        let key = self.o.py_id("__builtins__")?;
        let builtins_module = self.module_named("builtins")?;
        self.o.dict_setitem(globals, key, builtins_module)?;
        self.script.main = main;
        let mut arena = Arena::default();
        let compiled = compile(&mut self.o, &mut arena, source, filename);
        self.script.arena = arena;
        let result = compiled.and_then(|c| self.run_compiled(&c, globals));
        if result.as_ref().is_err_and(RunError::is_fatal) {
            return result;
        }
        std::mem::take(&mut self.script.arena).free(&mut self.o)?;
        self.script.main = 0;
        self.o.decref(main)?;
        result
    }

    /// A file's name as a traceback prints it: from 3.9 on, a name relative to the working
    /// directory made absolute (`config_run_filename_abspath`: `_Py_abspath` joins the
    /// directory and the name as given, `./` and all; `sys.path[0]` is then absolute too, and
    /// so are the names of the modules imported from it).
    pub(crate) fn traceback_filename(&self, filename: &str) -> String {
        let path = std::path::Path::new(filename);
        if self.o.layout().minor < 9 || path.is_absolute() || filename.starts_with('<') {
            return filename.into();
        }
        match std::env::current_dir() {
            Ok(cwd) => format!("{}/{filename}", cwd.display()),
            Err(_) => filename.into(),
        }
    }

    /// `import NAME` of `NAME.py` in the script's directory (importlib's `SourceFileLoader`):
    /// the module is made and entered in `sys.modules`, its source compiled by `compile()`,
    /// whose arena is freed as soon as the code object exists, then its code runs in the
    /// module's dict. `None` when there is no such file. A new reference to the module.
    pub(crate) fn import_source_module(&mut self, name: &str) -> Result<Option<u64>, RunError> {
        if let Some(&(_, source)) = EMBEDDED.iter().find(|(n, _)| *n == name) {
            let filename = format!("<model>/{name}.py");
            return self.run_module_source(name, source, &filename).map(Some);
        }
        let Some(dir) = self.script_dir.clone() else {
            return Ok(None);
        };
        let path = dir.join(format!("{name}.py"));
        let Ok(source) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        let filename = path.to_string_lossy().into_owned();
        self.run_module_source(name, &source, &filename).map(Some)
    }

    /// A module made from source: entered in `sys.modules`, compiled by `compile()` (its arena
    /// freed once the code objects exist), its code run in the module's dict.
    fn run_module_source(
        &mut self,
        name: &str,
        source: &str,
        filename: &str,
    ) -> Result<u64, RunError> {
        if let Some(t) = self.tracer.as_mut() {
            t.add_source(filename, source);
        }
        self.sources.insert(filename.into(), source.into());
        let module = self.new_module(name)?;
        let globals = self.o.field(module, Field::MdDict)?;
        let key = self.o.py_id("__builtins__")?;
        let builtins_module = self.module_named("builtins")?;
        self.o.dict_setitem(globals, key, builtins_module)?;
        // builtin compile(): the code objects are made, then the arena freed.
        let mut arena = Arena::default();
        let code = compile(&mut self.o, &mut arena, source, filename)
            .and_then(|c| Ok(self.make_code_objects(&c)?[0]));
        arena.free(&mut self.o)?;
        let result = code.and_then(|code| {
            let result = self.eval_module(code, globals);
            self.o.decref(code)?;
            self.decref(result?)
        });
        if let Err(e) = result {
            // A module that failed to run leaves sys.modules (`remove_module`).
            let n = self.intern(name)?;
            self.o.dict_delitem(self.modules, n)?;
            self.o.decref(n)?;
            self.o.decref(module)?;
            return Err(e);
        }
        Ok(module)
    }

    /// `Py_FinalizeEx`, as far as the model goes: its full collection (`PyGC_Collect`), whose
    /// last step frees every object kept on a free list (`_PyGC_ClearAllFreeLists`, or
    /// `clear_freelists` up to 3.10). The collection itself is the collector's (not built yet):
    /// only that step is modelled. A list deallocated twice sits on the list free list twice,
    /// and its second `PyObject_GC_Del` faults: the crash at exit of the blog's first program
    /// (crates/python/measurements/stale_exit.*, under gdb on 3.8 to 3.13).
    pub(crate) fn finalize(&mut self) -> Result<(), RunError> {
        self.trace_phase("(exit) Py_FinalizeEx: sys.stdout flushed, the free lists cleared");
        // flush_std_files: what sys.stdout still holds is written and released first.
        self.textiowrapper_writeflush()?;
        self.o.clear_freelists()?;
        Ok(())
    }

    /// `sys.argv`: the script's path as given, alone (`config_init_argv` for `python3 FILE`).
    fn set_argv(&mut self, filename: &str) -> Result<(), RunError> {
        let sys = self.module_named("sys")?;
        let dict = self.o.field(sys, Field::MdDict)?;
        let path = self.o.unicode_from_str(filename)?;
        let argv = self.o.list_new(1)?;
        self.o.list_set(argv, 0, path)?;
        let key = self.intern("argv")?;
        self.o.dict_setitem(dict, key, argv)?;
        self.o.decref(key)?;
        self.o.decref(argv)?;
        Ok(())
    }

    fn module_named(&mut self, name: &str) -> Result<u64, RunError> {
        let key = self.intern(name)?;
        let m = self.o.dict_getitem(self.modules, key)?;
        self.o.decref(key)?;
        m.ok_or_else(|| RunError::exception("KeyError", name.to_string()))
    }

    /// `run_mod` -> `run_eval_code_obj`: the module's code object, run and released.
    fn run_compiled(&mut self, compiled: &Compiled, globals: u64) -> Result<(), RunError> {
        let codes = self.make_code_objects(compiled)?;
        let module_code = codes[0];
        self.script.code = module_code;
        let result = self.eval_module(module_code, globals);
        if result.as_ref().is_err_and(RunError::is_fatal) {
            return result.map(drop);
        }
        self.script.code = 0;
        self.trace_phase("(end) the script's code object released, then its arena");
        self.o.decref(module_code)?;
        let value = result?;
        self.o.decref(value)?;
        Ok(())
    }
}
