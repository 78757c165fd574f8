//! The parts of `Modules/gcmodule.c` (`Python/gc.c` on 3.13) that call Python code, which the
//! collector of `crates/gc` leaves to the interpreter: the callbacks of `gc.callbacks` around a
//! collection (`gc_collect_with_callback`, `invoke_gc_callback`) and the finalizers
//! (`__del__`) in its middle (`finalize_garbage`).
//!
//! ```text
//!   gc.collect(), 3.12+'s eval breaker, an allocation's parked collection (up to 3.11)
//!     collect_with_callback(generation)
//!       invoke_gc_callback("start", generation, 0, 0)
//!       gc::Collection::start              update_refs ... untrack_dicts
//!       finish_collection                  each __del__, then handle_resurrected_objects,
//!                                          delete_garbage
//!       invoke_gc_callback("stop", generation, collected, uncollectable)
//! ```

use objects::TypeId;

use crate::error::RunError;
use crate::interp::Interp;

impl Interp {
    /// `gc_collect_with_callback(generation)`: the callbacks' "start", the collection, their
    /// "stop"; the number of unreachable objects found. `collecting` is the caller's to set.
    pub(crate) fn collect_with_callback(&mut self, generation: usize) -> Result<usize, RunError> {
        self.invoke_gc_callback("start", generation, 0, 0)?;
        let c = gc::Collection::start(&mut self.o, generation)?;
        self.finish_with_callback(c, generation)
    }

    /// The collection from its finalizers on, then the callbacks' "stop".
    fn finish_with_callback(
        &mut self,
        c: gc::Collection,
        generation: usize,
    ) -> Result<usize, RunError> {
        let found = self.finish_collection(c)?;
        self.invoke_gc_callback("stop", generation, found.collected, found.uncollectable)?;
        Ok(found.collected + found.uncollectable)
    }

    /// A collection from its finalizers on: each `__del__` called as `finalize_garbage` hands
    /// it out (the collector holding a reference across the call), then the rest of
    /// `gc_collect_main`.
    fn finish_collection(&mut self, mut c: gc::Collection) -> Result<gc::Collected, RunError> {
        while let Some(op) = c.next_finalizer(&mut self.o)? {
            self.finalizing.push(op);
            let res = self.slot_tp_finalize(op);
            self.finalizing.retain(|&f| f != op);
            self.decref(op)?;
            res?;
        }
        Ok(c.finish(&mut self.o)?)
    }

    /// The collection an allocation started (up to 3.11, inside `_PyObject_GC_Alloc`; from
    /// 3.12 the eval breaker's) and left to the interpreter for the Python code it calls:
    /// finished here, once the instruction that allocated is done, as `__del__` after a
    /// deallocation is. `collecting` stayed set until now.
    pub(crate) fn run_parked_collection(&mut self) -> Result<(), RunError> {
        let Some(parked) = self.o.take_parked_collection() else {
            return Ok(());
        };
        let generation = parked.generation;
        let found = if parked.begun {
            self.finish_with_callback(gc::Collection::resume(parked), generation)
        } else {
            self.collect_with_callback(generation)
        };
        self.o.gc_counts_mut().collecting = false;
        found.map(|_| ())
    }

    /// `invoke_gc_callback(phase, generation, collected, uncollectable)`: when `gc.callbacks`
    /// holds anything, an info dict (`Py_BuildValue("{sisnsn}", ...)`: each key a new str, each
    /// value a new int), then each callback in turn called with a new str of the phase and the
    /// dict (`PyObject_CallFunction(cb, "sO", ...)`), holding a reference to it meanwhile.
    fn invoke_gc_callback(
        &mut self,
        phase: &str,
        generation: usize,
        collected: usize,
        uncollectable: usize,
    ) -> Result<(), RunError> {
        let callbacks = self.o.gc_counts().callbacks;
        if callbacks == 0 || self.o.list_len(callbacks)? == 0 {
            return Ok(());
        }
        let info = self.dict_of_ints(&[
            ("generation", generation as i64),
            ("collected", collected as i64),
            ("uncollectable", uncollectable as i64),
        ])?;
        self.c_held.push(info);
        let mut i = 0;
        while i < self.o.list_len(callbacks)? {
            let cb = self.o.list_get(callbacks, i)?;
            self.incref(cb)?;
            self.c_held.push(cb);
            let called = self.call_gc_callback(cb, phase, info);
            self.let_go(&[cb])?;
            called?;
            i += 1;
        }
        self.let_go(&[info])
    }

    /// `Py_BuildValue("{sisnsn}", ...)` and its kin as `do_mkdict` builds them: a new dict, then
    /// for each pair a new str key (`PyUnicode_FromString`) and a new int, set and released.
    pub(crate) fn dict_of_ints(&mut self, items: &[(&str, i64)]) -> Result<u64, RunError> {
        let dict = self.o.dict_new()?;
        for &(name, value) in items {
            let key = self.o.unicode_from_str(name)?;
            let value = self.new_int(i128::from(value))?;
            self.o.dict_setitem(dict, key, value)?;
            self.decref(key)?;
            self.decref(value)?;
        }
        Ok(dict)
    }

    /// `PyObject_CallFunction(cb, "sO", phase, info)`: the arguments on a stack of their own
    /// (`_Py_VaBuildStack`), released in order after the call.
    fn call_gc_callback(&mut self, cb: u64, phase: &str, info: u64) -> Result<(), RunError> {
        if self.is_extra(cb) || self.o.type_of(cb)? != TypeId::Function {
            return Err(RunError::NotModelled {
                construct: "a gc callback that is not a Python function".into(),
                filename: String::new(),
                line: 0,
            });
        }
        let phase = self.o.unicode_from_str(phase)?;
        self.incref(info)?;
        self.c_held.extend([phase, info]);
        let result = self.vectorcall(cb, &[phase, info], &[]);
        self.let_go(&[phase, info])?;
        match result {
            Ok(r) => self.decref(r),
            // invoke_gc_callback: PyErr_WriteUnraisable(cb), and on to the next callback.
            Err(e @ RunError::Exception { .. }) => self.write_unraisable(cb, &e),
            Err(e) => Err(e),
        }
    }
}
