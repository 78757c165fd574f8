//! `Objects/floatobject.c`: floats and their free list of 100, linked through `ob_type`.

use crate::error::ObjError;
use crate::layout::{FLOAT_MAXFREELIST, FLOAT_SIZE};
use crate::slots::Kind;
use crate::space::Objects;
use crate::trace::ObjEvent;
use crate::types::TypeId;

impl Objects {
    /// `PyFloat_FromDouble(fval)`: from the free list if it has one, else a new block.
    pub fn float_from_f64(&mut self, fval: f64) -> Result<u64, ObjError> {
        if let Some(op) = self.free.float.pop() {
            // state->free_list = (PyFloatObject *) Py_TYPE(op); _PyObject_Init(op, &PyFloat_Type)
            self.new_reference(op);
            self.slot_mut(op).word = fval.to_bits();
            self.trace.record(ObjEvent::New {
                op,
                ty: TypeId::Float,
                from_free_list: true,
            });
            return Ok(op);
        }
        let op = self.malloc_object(FLOAT_SIZE, false)?;
        self.install_new(
            op,
            FLOAT_SIZE,
            Kind::Float,
            0,
            fval.to_bits(),
            TypeId::Float,
        );
        Ok(op)
    }

    /// The value of the float at `op`.
    pub fn float_value(&self, op: u64) -> Result<f64, ObjError> {
        let v = self.live_view(op)?;
        match v.slot.kind {
            Kind::Float => Ok(f64::from_bits(v.slot.word)),
            _ => Err(self.wrong_type(op, "float")),
        }
    }

    /// `float_dealloc`: onto the free list while it holds fewer than 100, else freed.
    pub(crate) fn float_dealloc(&mut self, op: u64) -> Result<(), ObjError> {
        if self.free.float.len() >= FLOAT_MAXFREELIST {
            return self.free_object(op);
        }
        self.free.float.push(op);
        self.mark_listed(op);
        self.trace.record(ObjEvent::ToFreeList {
            op,
            ty: TypeId::Float,
            numfree: self.free.float.len(),
        });
        Ok(())
    }
}
