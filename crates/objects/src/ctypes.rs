//! `Modules/_ctypes`: the two objects a `ctypes.cast(address, ctypes.py_object)` makes, with
//! CPython's layouts (gdb's `ptype /o` on each version's `_ctypes` module):
//!
//! ```text
//!   PyCArgObject (64 bytes; GC head from 3.12)   CDataObject of py_object (96 bytes + slots)
//!   +0  ob_refcnt, ob_type                        +0  ob_refcnt, ob_type
//!   +16 pffi_type                                 +16 b_ptr ------------------+
//!   +24 tag ('P' pointer, 'O' object)             +24 b_needsfree             |
//!   +32 value (union: value.p)                    +32 b_base, +40 b_size      |
//!   +48 obj (a reference)                         +64 b_objects               |
//!   +56 size                                      +80 b_value: PyObject * <---+
//! ```
//!
//! `py_object`'s getter (`O_get` in `cfield.c`) reads the pointer at `b_ptr` and takes a
//! reference to whatever lies there ([`Objects::c_incref`]), alive or not.

use crate::error::ObjError;
use crate::fields::Field;
use crate::space::Objects;
use crate::types::TypeId;

/// `offsetof(PyCArgObject, tag)`.
const CARG_TAG: u64 = 24;
/// `offsetof(PyCArgObject, value)`.
const CARG_VALUE: u64 = 32;
/// `offsetof(CDataObject, b_ptr)`.
const B_PTR: u64 = 16;
/// `offsetof(CDataObject, b_size)`.
const B_SIZE: u64 = 40;
/// `offsetof(CDataObject, b_value)`.
const B_VALUE: u64 = 80;

impl Objects {
    /// `PyCArgObject_new` filled by a `from_param` converter: `tag` (`b'P'` for a pointer,
    /// `b'O'` for an object), `value.p`, and `obj`, the reference that keeps the argument alive
    /// during the call (stolen; 0 for none).
    pub fn carg_new(&mut self, tag: u8, value: u64, obj: u64) -> Result<u64, ObjError> {
        let op = self.fields_new(TypeId::CArg, 0)?;
        self.set_fields_word(op, CARG_TAG, u64::from(tag))?;
        self.set_fields_word(op, CARG_VALUE, value)?;
        self.set_field(op, Field::CargObj, obj)?;
        Ok(op)
    }

    /// `GenericPyCData_new` for `py_object` (`PyObject_CallNoArgs(ctype)` in `cast`), with
    /// `*(void **)b_ptr = pointer` as `cast` then writes: `b_ptr` points at the object's own
    /// `b_value`, which holds the address, whatever it is (no reference is taken).
    pub fn cdata_new(&mut self, pointer: u64) -> Result<u64, ObjError> {
        let op = self.fields_new(TypeId::CData, 0)?;
        self.set_fields_word(op, B_PTR, op + B_VALUE)?;
        self.set_fields_word(op, B_SIZE, 8)?;
        self.set_fields_word(op, B_VALUE, pointer)?;
        Ok(op)
    }

    /// The `PyObject *` a `py_object` holds, read as `O_get` reads it: the word at `b_ptr`.
    pub fn cdata_value(&self, op: u64) -> Result<u64, ObjError> {
        if self.type_of(op)? != TypeId::CData {
            return Err(self.wrong_type(op, "py_object"));
        }
        let b_ptr = self.read_word(op + B_PTR)?;
        self.read_word(b_ptr)
    }
}
