//! Frame objects of 3.8–3.10 (`Objects/frameobject.c`): every call of Python code runs in a
//! `PyFrameObject`, a GC object allocated for the call (3.11 keeps frames in a per-thread
//! data stack instead, and makes an object only when one is asked for).
//!
//! ```text
//!  frame_alloc(code)                          frame_dealloc(f)
//!    code->co_zombieframe?  -> take it          untrack; locals, stack, f_back, builtins,
//!    free_list?             -> pop it,          globals released (by the caller, here)
//!                              resized if         code->co_zombieframe empty? -> keep f there
//!                              too small          numfree < 200?              -> push f
//!    else PyObject_GC_NewVar (count0 += 1)        else PyObject_GC_Del (count0 -= 1)
//! ```
//!
//! So a function's first call allocates a frame (generation 0 counts one more object) that
//! stays as the code's zombie frame, and the next calls reuse it without counting. Sizes,
//! measured with `type(frame).__basicsize__` and the installed headers
//! (`include/python3.X/cpython/frameobject.h`, 3.10; `frameobject.h`, 3.8, 3.9):
//!
//! | | 3.8, 3.9 | 3.10 |
//! |---|---:|---:|
//! | `sizeof(PyFrameObject)` (`tp_basicsize`) | 368 | 360 |
//! | `offsetof(PyFrameObject, f_localsplus)` | 360 | 352 |
//! | `offsetof(PyCodeObject, co_zombieframe)` | 128 | 128 |
//!
//! A frame of `n` items (`co_nlocals + ncells + nfrees + co_stacksize`) asks for
//! `tp_basicsize + 8 * n` bytes, plus its `PyGC_Head`.

use pymalloc::profile::size_class;

use crate::error::ObjError;
use crate::heavy::{Body, Heavy};
use crate::slots::Kind;
use crate::space::Objects;
use crate::trace::ObjEvent;
use crate::types::TypeId;

/// `SMALL_REQUEST_THRESHOLD`: pymalloc serves requests up to this size.
const SMALL_REQUEST_THRESHOLD: usize = 512;
/// `PyFrame_MAXFREELIST`.
const FRAME_MAXFREELIST: usize = 200;
/// `offsetof(PyCodeObject, co_zombieframe)` on 3.8–3.10.
const CO_ZOMBIEFRAME: u64 = 128;
/// `offsetof(PyFrameObject, f_back)`: after the header and `ob_size`.
const F_BACK: u64 = 24;
/// `offsetof(PyFrameObject, f_code)`.
const F_CODE: u64 = 32;

/// `tp_basicsize` of `PyFrame_Type` on `3.minor` (3.8–3.10).
pub(crate) fn frame_basicsize(minor: u8) -> u64 {
    if minor <= 9 { 368 } else { 360 }
}

impl Objects {
    /// `frame_alloc` (3.10; `_PyFrame_New_NoTrack` on 3.8 and 3.9) for a call of `code`
    /// needing `extras` items: the code's zombie frame if it has one, else one from the free
    /// list (`PyObject_GC_Resize`d if it holds fewer items), else a new one. The frame is not
    /// tracked by the collector (`_PyEval_Vector` tracks it only if it outlives the call).
    pub fn frame_alloc(&mut self, code: u64, extras: u64) -> Result<u64, ObjError> {
        let zombie = self.read_word(code + CO_ZOMBIEFRAME)?;
        if zombie != 0 {
            self.set_fields_word(code, CO_ZOMBIEFRAME, 0)?;
            self.new_reference(zombie);
            self.trace.record(ObjEvent::New {
                op: zombie,
                ty: TypeId::Frame,
                from_free_list: true,
            });
            return Ok(zombie);
        }
        let f = match self.free.frame.pop() {
            Some(f) if self.frame_items(f)? >= extras => {
                self.new_reference(f);
                self.trace.record(ObjEvent::New {
                    op: f,
                    ty: TypeId::Frame,
                    from_free_list: true,
                });
                f
            }
            Some(small) => {
                self.new_reference(small);
                self.frame_resize(small, extras)?
            }
            None => self.frame_new(extras)?,
        };
        self.set_fields_word(f, F_CODE, code)?;
        Ok(f)
    }

    /// `f_back`: the frame that was running when `f` was made (borrowed; 0 for none).
    pub fn frame_back(&self, f: u64) -> Result<u64, ObjError> {
        self.read_word(f + F_BACK)
    }

    /// Sets `f_back` (the caller holds the reference it stands for).
    pub fn set_frame_back(&mut self, f: u64, back: u64) -> Result<(), ObjError> {
        self.set_fields_word(f, F_BACK, back)
    }

    /// `PyObject_GC_NewVar(PyFrameObject, &PyFrame_Type, extras)`.
    fn frame_new(&mut self, extras: u64) -> Result<u64, ObjError> {
        let nbytes = frame_basicsize(self.layout.minor) + 8 * extras;
        let op = self.malloc_object(nbytes, true)?;
        let mut words = vec![0; (nbytes / 8 - 2) as usize];
        words[0] = extras; // ob_size
        let word = self.heavy.insert(Heavy {
            ty: TypeId::Frame,
            body: Body::Fields(words),
        });
        self.install_new(op, nbytes, Kind::Heavy, 0, word, TypeId::Frame);
        Ok(op)
    }

    /// `_PyObject_GC_Resize(f, extras)`: `PyObject_Realloc` of the frame's block, which
    /// pymalloc keeps in place while the new size fits the block's size class, and otherwise
    /// moves to a new block (the old one freed after). The collector's count does not move.
    fn frame_resize(&mut self, f: u64, extras: u64) -> Result<u64, ObjError> {
        let basic = frame_basicsize(self.layout.minor);
        let gc_head = crate::layout::GC_HEAD_SIZE as usize;
        let old = (basic + 8 * self.frame_items(f)?) as usize + gc_head;
        let new = (basic + 8 * extras) as usize + gc_head;
        let small = |n: usize| n <= SMALL_REQUEST_THRESHOLD;
        if small(old) && small(new) && size_class(old) == size_class(new) {
            let nwords = ((basic + 8 * extras) / 8 - 2) as usize;
            if let Some(Body::Fields(words)) = self.heavy_mut(f).map(|h| &mut h.body) {
                words.resize(nwords, 0);
                words[0] = extras; // Py_SET_SIZE
            }
            return Ok(f);
        }
        // Moved: a new block, the old one freed; the collector's count, up one and down one,
        // ends where it was.
        let moved = self.frame_new(extras)?;
        self.free_object(f)?;
        Ok(moved)
    }

    /// `Py_SIZE(f)`: the items a frame has room for.
    fn frame_items(&self, f: u64) -> Result<u64, ObjError> {
        self.read_word(f + 16)
    }

    /// The memory part of `frame_dealloc`, once the frame's references are released: it
    /// becomes its code's zombie frame if the code has none, else goes on the free list
    /// (linked through `f_back`) if there is room, else back to the allocator.
    pub(crate) fn frame_dealloc(&mut self, f: u64) -> Result<(), ObjError> {
        self.gc_untrack(f)?;
        let code = self.read_word(f + F_CODE)?;
        if self.read_word(code + CO_ZOMBIEFRAME)? == 0 {
            self.set_fields_word(code, CO_ZOMBIEFRAME, f)?;
            self.mark_listed(f);
            return Ok(());
        }
        if self.free.frame.len() < FRAME_MAXFREELIST {
            // f->f_back = free_list; free_list = f.
            let link = self.free.frame.last().copied().unwrap_or(0);
            self.set_fields_word(f, F_BACK, link)?;
            self.free.frame.push(f);
            self.mark_listed(f);
            let numfree = self.free.frame.len();
            self.trace.record(ObjEvent::ToFreeList {
                op: f,
                ty: TypeId::Frame,
                numfree,
            });
            return Ok(());
        }
        self.free_object(f)
    }

    /// `code_dealloc` (3.8–3.10): `PyObject_GC_Del(co->co_zombieframe)`.
    pub(crate) fn free_zombie_frame(&mut self, code: u64) -> Result<(), ObjError> {
        let zombie = self.read_word(code + CO_ZOMBIEFRAME)?;
        if zombie != 0 {
            self.free_frame_block(zombie)?;
        }
        Ok(())
    }

    /// `PyObject_GC_Del` of a frame kept as a zombie or on the free list.
    pub(crate) fn free_frame_block(&mut self, f: u64) -> Result<(), ObjError> {
        self.free_object(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pymalloc::Profile;

    #[test]
    fn a_first_call_counts_one_and_its_frame_stays_as_the_zombie() {
        let mut o = Objects::new(Profile::CPYTHON_3_10).unwrap();
        let code = o.fields_new(TypeId::Code, 0).unwrap();
        let before = o.gc_counts().count0;
        let f = o.frame_alloc(code, 3).unwrap();
        assert_eq!(o.gc_counts().count0, before + 1, "PyObject_GC_NewVar");
        assert_eq!(
            o.getsizeof(f).unwrap(),
            360 - 8 + 3 * 8 + 16,
            "frame_sizeof"
        );
        o.decref(f).unwrap();
        assert_eq!(o.gc_counts().count0, before + 1, "kept as co_zombieframe");
        assert_eq!(o.frame_alloc(code, 3).unwrap(), f, "the zombie again");
        // A second frame of the same code at once (recursion): new, then onto the free list.
        let g = o.frame_alloc(code, 3).unwrap();
        assert_ne!(g, f);
        o.decref(g).unwrap();
        o.decref(f).unwrap();
        assert_eq!(o.free.frame, vec![f], "g went back as the zombie first");
        // A bigger frame from the free list is resized: the count does not move.
        let count = o.gc_counts().count0;
        let other = o.fields_new(TypeId::Code, 0).unwrap();
        let big = o.frame_alloc(other, 40).unwrap();
        assert_eq!(o.gc_counts().count0, count);
        assert_ne!(big, f, "moved to a block of a bigger size class");
        o.decref(big).unwrap();
        o.decref(other).unwrap();
        assert_eq!(
            o.gc_counts().count0,
            count - 1,
            "code_dealloc frees its zombie"
        );
    }
}
