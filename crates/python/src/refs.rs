//! Who holds each reference: every reference the interpreter holds at one moment, each with a
//! named holder, so that a count can be decomposed into its owners and every object's
//! `ob_refcnt` recounted.
//!
//! ```text
//!   roots (the interpreter's own state)          objects in simulated memory
//!   sys.modules, the method descriptors,         each live object's references, as
//!   __main__ and the parser's arena while        Objects::referents lists them (the same
//!   pyrun_file runs, the module's code object,   list its tp_dealloc releases), a shared keys
//!   every frame's localsplus, value stack,       object's keys, an iterator's sequence
//!   f_func and f_code, the object layer's caches
//! ```
//!
//! `sys.getrefcount(1000)` in a function of the main script reads 3 on 3.11, 3.12 and 3.13: the
//! constant is held by `co_consts` of the function's code object, by the parser's arena of
//! `__main__` ([`crate::pyarena`]), and by the argument on the value stack.
//! [`owners`] names them; [`miscounts`] checks that every count the model keeps is the number
//! of references held. Some holders hold no counted reference, as in CPython: the interned
//! dict (`PyUnicode_InternInPlace` takes its two references back), a frame's `f_globals` and
//! `f_builtins`, and the `kwnames` tuple of a call (a borrowed constant). A count is recountable unless the object is static (libpython's image:
//! its count starts from CPython's own start-up) or immortal ([`Uncounted`]).
//!
//! To look while a program runs, pass an [`Inspector`] to
//! [`run_source_with`](crate::pythonrun::run_source_with): it is called with the interpreter
//! before each call of a built-in function, its arguments still on the stack, and once the
//! script has finished.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

pub use objects::Uncounted;
use objects::{Cache, Edge, Field, TypeId};

use crate::compile::CodeUnit;
use crate::error::RunError;
use crate::interp::Interp;

/// A moment of the run at which an [`Inspector`] is called.
#[derive(Debug)]
pub enum Event<'a> {
    /// A built-in function or method is about to be called: `stack` is the calling frame's
    /// value stack, ending with the callable (after its `self` or NULL) and the arguments.
    BuiltinCall {
        /// `ml_name` of the function.
        name: &'static str,
        /// The built-in function object.
        callable: u64,
        /// The arguments, as they lie on the stack.
        args: &'a [u64],
    },
    /// The script has finished: its arena freed, `__main__` released by `pyrun_file`.
    Finished,
}

/// What a caller passes to look at the interpreter while a program runs.
pub trait Inspector {
    /// Called at each [`Event`]; the interpreter cannot be changed from here.
    fn inspect(&mut self, interp: &Interp, event: &Event<'_>);
}

impl<F: FnMut(&Interp, &Event<'_>)> Inspector for F {
    fn inspect(&mut self, interp: &Interp, event: &Event<'_>) {
        self(interp, event)
    }
}

/// What one frame holds (`_PyInterpreterFrame`): kept for the frames below the running one
/// while an inspector is set.
#[derive(Clone, Debug)]
pub(crate) struct FrameRoots {
    pub(crate) code: Rc<CodeUnit>,
    pub(crate) code_obj: u64,
    /// `f_func`, 0 for module code (whose code object `pyrun_file` holds).
    pub(crate) func: u64,
    /// `localsplus`.
    pub(crate) fast: Vec<u64>,
    /// The value stack.
    pub(crate) stack: Vec<u64>,
}

/// A part of a frame that holds a reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameSlot {
    /// `localsplus[i]`: a local, a cell or a free variable, by name.
    Local(String),
    /// Entry `i` of the value stack, from the bottom.
    Stack(usize),
    /// `f_func`: the function being run.
    Func,
    /// `f_code`: a function frame's reference to its code object.
    Code,
}

/// A reference the interpreter itself holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Root {
    /// `interp->modules`: `sys.modules`.
    SysModules,
    /// A method descriptor in a built-in type's dict (`type_add_methods`).
    MethodDescriptor {
        /// The type.
        ty: TypeId,
        /// The method.
        name: &'static str,
    },
    /// `pyrun_file`'s reference to the `__main__` module while the script runs.
    MainModule,
    /// The parser's arena of the main script: entry `i` (`_PyArena_AddPyObject`).
    Arena(usize),
    /// `run_eval_code_obj`'s reference to the module's code object.
    ModuleCode,
    /// A frame's reference; frame 0 is the module's.
    Frame {
        /// How deep the frame is.
        depth: usize,
        /// `co_qualname` of its code.
        code: String,
        /// Which part of it.
        slot: FrameSlot,
    },
    /// A cache of the object layer.
    Cache(Cache),
    /// `subtype_dealloc`'s reference to an instance whose `__del__` is due or running
    /// (`PyObject_CallFinalizerFromDealloc` sets its count back to 1).
    Finalizer,
    /// A reference C code holds while it calls Python code (`type_call`'s arguments and new
    /// instance, the `__init__` or `__del__` it looked up).
    CHeld,
    /// `sys.stdout`'s `pending_bytes`: what was printed and not yet flushed.
    StdoutPending,
    /// The keyword tuple of `print`'s argument parser (`_PyArg_Parser.kwtuple`).
    PrintKwtuple,
    /// `gcstate->garbage`: the list `gc.garbage` names.
    GcGarbage,
    /// `gcstate->callbacks`: the list `gc.callbacks` names.
    GcCallbacks,
}

/// Who holds a reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// The interpreter's own state.
    Root(Root),
    /// An object in simulated memory.
    Object {
        /// Its address.
        addr: u64,
        /// Its type's name.
        ty: &'static str,
        /// Where in it the reference lies.
        edge: Edge,
    },
    /// A keys object shared by a class and its instances' dicts: one of its keys.
    SharedKeys {
        /// The keys object's address.
        addr: u64,
        /// Which entry.
        edge: Edge,
    },
    /// An iterator the interpreter keeps (`it_seq`).
    Iterator {
        /// Its address.
        addr: u64,
    },
}

/// One reference: who holds it, to what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The holder.
    pub holder: Holder,
    /// The object referred to.
    pub target: u64,
}

impl fmt::Display for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Root::SysModules => f.write_str("sys.modules"),
            Root::MethodDescriptor { ty, name } => write!(f, "{ty}.__dict__['{name}']"),
            Root::MainModule => f.write_str("pyrun_file's __main__"),
            Root::Arena(i) => write!(f, "the parser's arena of __main__ (object {i})"),
            Root::ModuleCode => f.write_str("the module's code object (run_eval_code_obj)"),
            Root::Frame { depth, code, slot } => {
                write!(f, "frame {depth} ({code}): ")?;
                match slot {
                    FrameSlot::Local(name) => write!(f, "local '{name}'"),
                    FrameSlot::Stack(i) => write!(f, "value stack[{i}]"),
                    FrameSlot::Func => f.write_str("f_func"),
                    FrameSlot::Code => f.write_str("f_code"),
                }
            }
            Root::Cache(c) => write!(f, "{c}"),
            Root::Finalizer => f.write_str("subtype_dealloc, while __del__ is due"),
            Root::CHeld => f.write_str("C code calling Python code"),
            Root::StdoutPending => f.write_str("sys.stdout's pending_bytes"),
            Root::PrintKwtuple => f.write_str("print's argument parser"),
            Root::GcGarbage => f.write_str("gcstate->garbage"),
            Root::GcCallbacks => f.write_str("gcstate->callbacks"),
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Root(r) => write!(f, "{r}"),
            Holder::Object { addr, ty, edge } => write!(f, "{edge} of the {ty} at {addr:#x}"),
            Holder::SharedKeys { addr, edge } => {
                write!(f, "{edge} of the shared keys at {addr:#x}")
            }
            Holder::Iterator { addr } => write!(f, "it_seq of the iterator at {addr:#x}"),
        }
    }
}

/// Every reference the interpreter holds now.
pub fn references(interp: &Interp) -> Result<Vec<Reference>, RunError> {
    if interp.o.layout().minor <= 10 {
        // A frame object's counted references (f_code, f_globals, f_builtins, f_locals,
        // f_back) and the caller's stack holding the function are not listed yet.
        return Err(RunError::NotModelled {
            construct: "the references held by 3.10's frame objects".into(),
            filename: String::new(),
            line: 0,
        });
    }
    let mut out = Vec::new();
    let mut root = |root: Root, target: u64| {
        if target != 0 {
            out.push(Reference {
                holder: Holder::Root(root),
                target,
            });
        }
    };
    root(Root::SysModules, interp.modules);
    for &(ty, name, d) in &interp.method_descrs {
        root(Root::MethodDescriptor { ty, name }, d);
    }
    root(Root::MainModule, interp.script.main);
    for (i, &op) in interp.script.arena.objects().iter().enumerate() {
        root(Root::Arena(i), op);
    }
    root(Root::ModuleCode, interp.script.code);
    for (cache, op) in interp.o.cache_references() {
        root(Root::Cache(cache), op);
    }
    for &op in &interp.finalizing {
        root(Root::Finalizer, op);
    }
    if interp.stdout_pending != 0 {
        root(Root::StdoutPending, interp.stdout_pending);
    }
    if interp.print_kwtuple != 0 {
        root(Root::PrintKwtuple, interp.print_kwtuple);
    }
    root(Root::GcGarbage, interp.o.gc_counts().garbage);
    root(Root::GcCallbacks, interp.o.gc_counts().callbacks);
    for &op in &interp.c_held {
        root(Root::CHeld, op);
    }
    for (depth, frame) in interp.frames.iter().enumerate() {
        frame_references(interp, depth, frame, &mut out)?;
    }
    object_references(interp, &mut out)?;
    for (&addr, e) in &interp.extras {
        for target in e.kind.held().into_iter().filter(|&t| t != 0) {
            out.push(Reference {
                holder: Holder::Iterator { addr },
                target,
            });
        }
    }
    Ok(out)
}

fn frame_references(
    interp: &Interp,
    depth: usize,
    frame: &FrameRoots,
    out: &mut Vec<Reference>,
) -> Result<(), RunError> {
    let mut push = |slot: FrameSlot, target: u64| {
        if target != 0 {
            out.push(Reference {
                holder: Holder::Root(Root::Frame {
                    depth,
                    code: frame.code.qualname.clone(),
                    slot,
                }),
                target,
            });
        }
    };
    for (&name, &v) in frame.code.varnames.iter().zip(&frame.fast) {
        push(FrameSlot::Local(interp.o.unicode_text(name)?), v);
    }
    for (i, &v) in frame.stack.iter().enumerate() {
        push(FrameSlot::Stack(i), v);
    }
    if frame.func != 0 {
        push(FrameSlot::Func, frame.func);
        push(FrameSlot::Code, frame.code_obj);
    }
    Ok(())
}

/// The references of every live object, and of the shared keys objects they use.
fn object_references(interp: &Interp, out: &mut Vec<Reference>) -> Result<(), RunError> {
    let o = &interp.o;
    let mut shared = Vec::new();
    for addr in o.live_objects() {
        let ty = o.type_of(addr)?.name();
        for r in o.referents(addr)? {
            out.push(Reference {
                holder: Holder::Object {
                    addr,
                    ty,
                    edge: r.edge,
                },
                target: r.target,
            });
        }
        if let Some(keys) = o.shared_keys(addr)?
            && !shared.contains(&keys)
        {
            shared.push(keys);
        }
    }
    for addr in shared {
        for r in o.keys_referents(addr)? {
            out.push(Reference {
                holder: Holder::SharedKeys { addr, edge: r.edge },
                target: r.target,
            });
        }
    }
    Ok(())
}

/// Who holds references to `addr` now.
pub fn owners(interp: &Interp, addr: u64) -> Result<Vec<Holder>, RunError> {
    Ok(references(interp)?
        .into_iter()
        .filter(|r| r.target == addr)
        .map(|r| r.holder)
        .collect())
}

/// `holder` named as a reader would: an object by its name where it has one (`the code object
/// f`), and a tuple, list or dict held only by one field or root named through it
/// (`co_consts[1] of the code object f`, `ob_item[0] of the list in frame 1 (g): local 'outer'`).
pub fn describe(interp: &Interp, holder: &Holder) -> Result<String, RunError> {
    let Holder::Object { addr, ty, edge } = holder else {
        return Ok(holder.to_string());
    };
    if let Some(name) = object_name(interp, *addr)? {
        return Ok(format!("{edge} of {name}"));
    }
    Ok(match (edge, owners(interp, *addr)?.as_slice()) {
        (Edge::Item(i), [Holder::Object { addr: up, edge, .. }]) => match object_name(interp, *up)?
        {
            Some(name) => format!("{edge}[{i}] of {name}"),
            None => holder.to_string(),
        },
        (_, [Holder::Root(root)]) => format!("{edge} of the {ty} in {root}"),
        _ => holder.to_string(),
    })
}

/// `the code object NAME`, `the function NAME`, `the module NAME`; `None` for other objects.
fn object_name(interp: &Interp, addr: u64) -> Result<Option<String>, RunError> {
    let o = &interp.o;
    let (what, field) = match o.type_of(addr)? {
        TypeId::Code => ("code object", Field::CoName),
        TypeId::Function => ("function", Field::FuncName),
        TypeId::Module => ("module", Field::MdName),
        _ => return Ok(None),
    };
    let name = o.field(addr, field)?;
    Ok(Some(format!("the {what} {}", o.unicode_text(name)?)))
}

/// Why `addr`'s count cannot be recounted, or `None` if it can.
pub fn uncounted(interp: &Interp, addr: u64) -> Result<Option<Uncounted>, RunError> {
    if interp.is_extra(addr) {
        return Ok(None);
    }
    Ok(interp.o.uncounted(addr)?)
}

/// An object whose count is not the number of references held to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Miscount {
    /// The object.
    pub addr: u64,
    /// Its type's name (`dead` if it is no longer alive).
    pub ty: String,
    /// Its `ob_refcnt`.
    pub refcnt: u64,
    /// The references found.
    pub owners: Vec<Holder>,
}

impl fmt::Display for Miscount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {:#x}: ob_refcnt {}, {} references",
            self.ty,
            self.addr,
            self.refcnt,
            self.owners.len()
        )?;
        for h in &self.owners {
            write!(f, "\n    {h}")?;
        }
        Ok(())
    }
}

/// Every recountable object (each live object in simulated memory, each iterator the
/// interpreter keeps, and anything referred to) whose count differs from the references held
/// to it: empty when the model's counts are right.
pub fn miscounts(interp: &Interp) -> Result<Vec<Miscount>, RunError> {
    let mut owners_of: HashMap<u64, Vec<Holder>> = HashMap::new();
    for r in references(interp)? {
        owners_of.entry(r.target).or_default().push(r.holder);
    }
    let mut objects: Vec<u64> = interp.o.live_objects();
    objects.extend(interp.extras.keys());
    let mut seen: HashSet<u64> = objects.iter().copied().collect();
    objects.extend(owners_of.keys().copied().filter(|&t| seen.insert(t)));
    objects.sort_unstable();
    let mut out = Vec::new();
    for addr in objects {
        if uncounted(interp, addr).ok().flatten().is_some() {
            continue;
        }
        let owners = owners_of.remove(&addr).unwrap_or_default();
        let (ty, refcnt) = count_of(interp, addr)?;
        if refcnt != owners.len() as u64 {
            out.push(Miscount {
                addr,
                ty,
                refcnt,
                owners,
            });
        }
    }
    Ok(out)
}

/// The type name and count of a value: an object, an interpreter-kept one, or a dead one.
fn count_of(interp: &Interp, addr: u64) -> Result<(String, u64), RunError> {
    if let Some(e) = interp.extras.get(&addr) {
        return Ok((interp.type_name(addr)?, e.refcnt));
    }
    if interp.is_extra(addr) || !interp.o.is_live(addr) {
        return Ok(("dead".into(), 0));
    }
    Ok((
        interp.o.type_of(addr)?.name().into(),
        interp.o.refcnt(addr)?,
    ))
}
