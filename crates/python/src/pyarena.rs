//! `Python/pyarena.c`: the arena the parser allocates the AST in, which also holds a reference
//! to every object the parser made (each literal's int or str, each identifier), released all at
//! once when the arena is freed.
//!
//! This is why `sys.getrefcount(1000)` reads 3, not 2, inside a function of a script run as
//! `python3 script.py`: `pyrun_file` keeps the script's arena until the whole script has run, so
//! the constant is held by the arena, by the function's `co_consts`, and by the call's argument.
//! A module that the script imports is compiled by `compile()`, whose arena is freed as soon as
//! the code object exists: there the same call reads 2 (measured on 3.8 to 3.13).

use objects::{ObjError, Objects};

/// The objects an arena keeps alive (`_PyArena_AddPyObject`).
#[derive(Debug, Default)]
pub struct Arena {
    objects: Vec<u64>,
}

impl Arena {
    /// Takes over one reference to `op` (the parser's own, from creating it).
    pub fn add(&mut self, op: u64) {
        self.objects.push(op);
    }

    /// The objects it holds a reference to, in the order they were added.
    pub fn objects(&self) -> &[u64] {
        &self.objects
    }

    /// How many references the arena holds.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the arena holds nothing.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// `_PyArena_Free`: the list of objects is released (`Py_DECREF(arena->a_objects)`), and
    /// `list_dealloc` releases its items from the last one.
    pub fn free(self, o: &mut Objects) -> Result<(), ObjError> {
        for op in self.objects.into_iter().rev() {
            o.decref(op)?;
        }
        Ok(())
    }
}
