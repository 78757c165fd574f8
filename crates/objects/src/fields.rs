//! The objects an interpreter is made of: functions (`Objects/funcobject.c`), bound methods
//! (`Objects/classobject.c`), modules (`Objects/moduleobject.c`), code objects
//! (`Objects/codeobject.c`), cells (`Objects/cellobject.c`) and bytes (`Objects/bytesobject.c`,
//! the `co_code` of 3.8–3.10).
//!
//! They are structs of pointers, so the model keeps them as a row of words at CPython's offsets.
//! The offsets of the fields that hold references were read from each version's headers with
//! `offsetof` (a C program compiled against `include/python3.X` of 3.8.18 ... 3.13.0):
//!
//! | field        | 3.8, 3.9 | 3.10 | 3.11 | 3.12 | 3.13 |
//! |--------------|---------:|-----:|-----:|-----:|-----:|
//! | `func_globals` | 24 | 16 | 16 | 16 | 16 |
//! | `func_code`  | 16 | 48 | 48 | 48 | 48 |
//! | `func_name`  | 64 | 32 | 32 | 32 | 32 |
//! | `sizeof(PyFunctionObject)` | 120 | 128 | 136 | 144 | 144 |
//! | `co_consts`  | 56 | 56 | 24 | 24 | 24 |
//! | `co_names`   | 64 | 64 | 32 | 32 | 32 |
//! | `sizeof(PyCodeObject)` | 176 | 176 | 192 | 200 | 208 |
//!
//! (the rest are in [`offset`]). A bound method is 48 bytes, a module 56, a cell 24, on every
//! version.

use crate::error::ObjError;
use crate::heavy::{Body, Heavy};
use crate::slots::{Kind, PREHEADER};
use crate::space::Objects;
use crate::trace::ObjEvent;
use crate::types::TypeId;

/// Declares [`Field`] and [`Field::ALL`] from one list, so the two cannot drift apart.
macro_rules! fields {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// A field that holds a reference.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Field {
            $($(#[$doc])* $name,)*
        }

        impl Field {
            /// Every field, in declaration order.
            pub const ALL: &'static [Field] = &[$(Field::$name),*];
        }
    };
}

fields! {
    /// `func_code`.
    FuncCode,
    /// `func_globals`.
    FuncGlobals,
    /// `func_builtins` (3.10+).
    FuncBuiltins,
    /// `func_name`.
    FuncName,
    /// `func_qualname`.
    FuncQualname,
    /// `func_defaults`.
    FuncDefaults,
    /// `func_kwdefaults`.
    FuncKwdefaults,
    /// `func_closure`.
    FuncClosure,
    /// `func_doc`.
    FuncDoc,
    /// `func_dict`.
    FuncDict,
    /// `func_module`.
    FuncModule,
    /// `func_annotations`.
    FuncAnnotations,
    /// `im_func`.
    ImFunc,
    /// `im_self`.
    ImSelf,
    /// `md_dict`.
    MdDict,
    /// `md_name`.
    MdName,
    /// `co_consts`.
    CoConsts,
    /// `co_names`.
    CoNames,
    /// `co_code`, a bytes object (3.8–3.10).
    CoCode,
    /// `co_varnames` (3.8–3.10).
    CoVarnames,
    /// `co_freevars` (3.8–3.10).
    CoFreevars,
    /// `co_cellvars` (3.8–3.10).
    CoCellvars,
    /// `co_localsplusnames` (3.11+).
    CoLocalsplusnames,
    /// `co_localspluskinds` (3.11+).
    CoLocalspluskinds,
    /// `co_exceptiontable` (3.11+).
    CoExceptiontable,
    /// `co_filename`.
    CoFilename,
    /// `co_name`.
    CoName,
    /// `co_qualname` (3.11+).
    CoQualname,
    /// `co_lnotab` (3.8, 3.9) or `co_linetable` (3.10+).
    CoLinetable,
    /// `ob_ref` of a cell.
    CellRef,
    /// `m_self` of a built-in function: the module or the bound object.
    CfSelf,
    /// `m_module` of a built-in function: the module's name.
    CfModule,
    /// `obj` of a `PyCArgObject`: what keeps the converted argument alive.
    CargObj,
    /// `b_base` of a `CDataObject`: the object whose buffer it shares.
    CdataBase,
    /// `b_objects` of a `CDataObject`: the objects its buffer refers to.
    CdataObjects,
    /// `d_type` of a descriptor: the class it belongs to.
    DescrType,
    /// `d_name` of a descriptor.
    DescrName,
    /// `d_qualname` of a descriptor (NULL until `__qualname__` is asked for).
    DescrQualname,
}

impl Field {
    /// The C struct member's name (`func_code`, `ob_ref`, ...).
    pub fn c_name(self) -> &'static str {
        use Field::*;
        match self {
            FuncCode => "func_code",
            FuncGlobals => "func_globals",
            FuncBuiltins => "func_builtins",
            FuncName => "func_name",
            FuncQualname => "func_qualname",
            FuncDefaults => "func_defaults",
            FuncKwdefaults => "func_kwdefaults",
            FuncClosure => "func_closure",
            FuncDoc => "func_doc",
            FuncDict => "func_dict",
            FuncModule => "func_module",
            FuncAnnotations => "func_annotations",
            ImFunc => "im_func",
            ImSelf => "im_self",
            MdDict => "md_dict",
            MdName => "md_name",
            CoConsts => "co_consts",
            CoNames => "co_names",
            CoCode => "co_code",
            CoVarnames => "co_varnames",
            CoFreevars => "co_freevars",
            CoCellvars => "co_cellvars",
            CoLocalsplusnames => "co_localsplusnames",
            CoLocalspluskinds => "co_localspluskinds",
            CoExceptiontable => "co_exceptiontable",
            CoFilename => "co_filename",
            CoName => "co_name",
            CoQualname => "co_qualname",
            CoLinetable => "co_linetable",
            CellRef => "ob_ref",
            CfSelf => "m_self",
            CfModule => "m_module",
            CargObj => "obj",
            CdataBase => "b_base",
            CdataObjects => "b_objects",
            DescrType => "d_type",
            DescrName => "d_name",
            DescrQualname => "d_qualname",
        }
    }
}

/// The offset of `field` in its struct on version `3.minor`, if the version has it.
pub fn offset(field: Field, minor: u8) -> Option<u64> {
    use Field::*;
    let new_func = minor >= 10; // COMMON_FIELDS(func_) reordered the struct in 3.10
    let new_code = minor >= 11;
    Some(match field {
        FuncCode => {
            if new_func {
                48
            } else {
                16
            }
        }
        FuncGlobals => {
            if new_func {
                16
            } else {
                24
            }
        }
        FuncBuiltins if new_func => 24,
        FuncBuiltins => return None,
        FuncName => {
            if new_func {
                32
            } else {
                64
            }
        }
        FuncQualname => {
            if new_func {
                40
            } else {
                104
            }
        }
        FuncDefaults => {
            if new_func {
                56
            } else {
                32
            }
        }
        FuncKwdefaults => {
            if new_func {
                64
            } else {
                40
            }
        }
        FuncClosure => {
            if new_func {
                72
            } else {
                48
            }
        }
        FuncDoc => {
            if new_func {
                80
            } else {
                56
            }
        }
        FuncDict => {
            if new_func {
                88
            } else {
                72
            }
        }
        FuncModule => {
            if new_func {
                104
            } else {
                88
            }
        }
        FuncAnnotations => {
            if new_func {
                112
            } else {
                96
            }
        }
        ImFunc => 16,
        ImSelf => 24,
        MdDict => 16,
        MdName => 48,
        CoConsts => {
            if new_code {
                24
            } else {
                56
            }
        }
        CoNames => {
            if new_code {
                32
            } else {
                64
            }
        }
        CoCode | CoVarnames | CoFreevars | CoCellvars if new_code => return None,
        CoCode => 48,
        CoVarnames => 72,
        CoFreevars => 80,
        CoCellvars => 88,
        CoLocalsplusnames | CoLocalspluskinds | CoExceptiontable | CoQualname if !new_code => {
            return None;
        }
        CoLocalsplusnames => 96,
        CoLocalspluskinds => 104,
        CoExceptiontable => 40,
        CoQualname => 128,
        CoFilename => {
            if new_code {
                112
            } else {
                104
            }
        }
        CoName => {
            if new_code {
                120
            } else {
                112
            }
        }
        CoLinetable => {
            if new_code {
                136
            } else {
                120
            }
        }
        CellRef => 16,
        CfSelf => 24,
        CfModule => 32,
        CargObj => 48,
        CdataBase => 32,
        CdataObjects => 64,
        DescrType => 16,
        DescrName => 24,
        DescrQualname => 32,
    })
}

/// `tp_basicsize` of the struct types here, on version `3.minor`.
pub fn basicsize(ty: TypeId, minor: u8) -> u64 {
    match ty {
        TypeId::Function => match minor {
            ..=9 => 120,
            10 => 128,
            11 => 136,
            _ => 144,
        },
        TypeId::Method => 48,
        TypeId::Module => 56,
        TypeId::Cell => 24,
        // PyDescr_COMMON (d_type, d_name, d_qualname), then d_getset.
        TypeId::GetSetDescr => 48,
        // m_ml, m_self, m_module, m_weakreflist, vectorcall
        TypeId::CFunction => 56,
        // sizeof(PyCArgObject) on every version (gdb's `ptype /o`; from 3.12 a GC head is
        // added before it).
        TypeId::CArg => 64,
        // sizeof(CDataObject) 96, then py_object's __dict__ and __weakref__ slots: both inline
        // to 3.10, the dict in the pre-header on 3.11, both there from 3.12 (with the GC head
        // and the pre-header, getsizeof says 128, 136, 128).
        TypeId::CData => match minor {
            ..=10 => 112,
            11 => 104,
            _ => 96,
        },
        // 3.11+: offsetof(PyCodeObject, co_code_adaptive); the code units follow.
        TypeId::Code => match minor {
            ..=10 => 176,
            11 => 184,
            12 => 192,
            _ => 200,
        },
        _ => crate::layout::OBJECT_HEAD_SIZE,
    }
}

/// `PyMethod_MAXFREELIST` on 3.8: bound methods freed are kept, linked through `im_self`
/// (bpo-37340 removed the list in 3.9). Measured: on 3.8, 100 new bound methods after 200 were
/// freed add 0 to `gc.get_count()[0]`; on 3.9 they add 100.
const METHOD_MAXFREELIST: usize = 256;

/// `offsetof(PyCodeObject, co_cell2arg)` on 3.8–3.10 (compiled against their headers).
const CO_CELL2ARG: u64 = 96;

impl Objects {
    /// A new object of one of the struct types, every field NULL (`PyObject_GC_New` and the
    /// type's constructor), tracked by the collector if its type is. `var_bytes` is the
    /// variable part: a code object's code units on 3.11+.
    pub fn fields_new(&mut self, ty: TypeId, var_bytes: u64) -> Result<u64, ObjError> {
        if !ty.is_struct() {
            return Err(ObjError::WrongType {
                addr: 0,
                expected: "function, method, module, code or cell type",
                found: ty.name().into(),
            });
        }
        if ty == TypeId::Method
            && self.layout.minor == 8
            && let Some(op) = self.free.method.pop()
        {
            // free_list = (PyMethodObject *)(im->im_self); (void)PyObject_INIT(im, &PyMethod_Type)
            self.new_reference(op);
            self.fields_mut(op)?.iter_mut().for_each(|w| *w = 0);
            self.trace.record(ObjEvent::New {
                op,
                ty,
                from_free_list: true,
            });
            self.gc_track(op);
            return Ok(op);
        }
        let nbytes = basicsize(ty, self.layout.minor) + var_bytes;
        // A py_object instance's managed dict (3.11) and weakref list (3.12+) live in the two
        // words before its GC head, as an instance's do.
        let preheader = if ty == TypeId::CData && self.layout.minor >= 11 {
            16
        } else {
            0
        };
        let op =
            self.malloc_object(preheader + nbytes, ty.is_gc_in(self.layout.minor))? + preheader;
        let words = vec![0; (nbytes.div_ceil(8) - 2) as usize];
        let word = self.heavy.insert(Heavy {
            ty,
            body: Body::Fields(words),
        });
        let flags = if preheader != 0 { PREHEADER } else { 0 };
        self.install_new(op, nbytes, Kind::Heavy, flags, word, ty);
        if ty.is_gc_in(self.layout.minor) {
            self.gc_track(op);
        }
        Ok(op)
    }

    fn fields_of(&self, op: u64) -> Result<&Vec<u64>, ObjError> {
        match self.heavy_of(op).map(|h| &h.body) {
            Some(Body::Fields(w)) => Ok(w),
            _ => Err(self.wrong_type(op, "function, method, module, code or cell")),
        }
    }

    fn fields_mut(&mut self, op: u64) -> Result<&mut Vec<u64>, ObjError> {
        let err = self.wrong_type(op, "function, method, module, code or cell");
        match self.heavy_mut(op).map(|h| &mut h.body) {
            Some(Body::Fields(w)) => Ok(w),
            _ => Err(err),
        }
    }

    fn field_index(&self, op: u64, field: Field) -> Result<usize, ObjError> {
        let ty = self.type_of(op)?;
        let off = offset(field, self.layout.minor)
            .filter(|&o| field_belongs(field, ty) && o < basicsize(ty, self.layout.minor))
            .ok_or(ObjError::WrongType {
                addr: op,
                expected: "a type with that field",
                found: ty.name().into(),
            })?;
        Ok(((off - 16) / 8) as usize)
    }

    /// The reference in `field` (borrowed; 0 for NULL).
    pub fn field(&self, op: u64, field: Field) -> Result<u64, ObjError> {
        self.live_view(op)?;
        let i = self.field_index(op, field)?;
        Ok(self.fields_of(op)?[i])
    }

    /// The word of `field`, live object or not; 0 where the version has no such field.
    pub(crate) fn field_ref(&self, op: u64, field: Field) -> Result<u64, ObjError> {
        match self.field_index(op, field) {
            Ok(i) => Ok(self.fields_of(op)?[i]),
            Err(_) => Ok(0),
        }
    }

    /// Stores `value` in `field`, stealing the reference, and releases the old one.
    pub fn set_field(&mut self, op: u64, field: Field, value: u64) -> Result<(), ObjError> {
        self.live_view(op)?;
        let i = self.field_index(op, field)?;
        let old = std::mem::replace(&mut self.fields_mut(op)?[i], value);
        self.xdecref(old)
    }

    /// A word of a struct object that holds no reference (`co_argcount`, `co_flags`, a code
    /// object's code units): `offset` from the object's start.
    pub fn set_fields_word(&mut self, op: u64, offset: u64, value: u64) -> Result<(), ObjError> {
        self.live_view(op)?;
        let ty = self.type_of(op)?;
        let refs: Vec<u64> = Field::ALL
            .iter()
            .filter(|&&f| field_belongs(f, ty))
            .filter_map(|&f| self::offset(f, self.layout.minor))
            .collect();
        let words = self.fields_mut(op)?;
        let i = offset.checked_sub(16).map(|o| (o / 8) as usize);
        match i {
            Some(i) if i < words.len() && offset.is_multiple_of(8) && !refs.contains(&offset) => {
                words[i] = value;
                Ok(())
            }
            _ => Err(ObjError::IndexOutOfRange {
                addr: op,
                index: offset as i64,
            }),
        }
    }

    /// A 4-byte field that holds no reference (`co_firstlineno`, `co_argcount`), `offset` from
    /// the object's start.
    pub fn set_fields_u32(&mut self, op: u64, offset: u64, value: u32) -> Result<(), ObjError> {
        let at = offset & !7;
        let shift = (offset & 7) * 8;
        let old = self.read_word(op + at)?;
        let new = (old & !(0xffff_ffff << shift)) | (u64::from(value) << shift);
        self.set_fields_word(op, at, new)
    }

    /// `co_firstlineno`'s offset in `PyCodeObject` (an `int`): 40 up to 3.10, 72 on 3.11, 68
    /// from 3.12.
    pub fn co_firstlineno_offset(&self) -> u64 {
        match self.layout.minor {
            ..=10 => 40,
            11 => 72,
            _ => 68,
        }
    }

    /// `co_cell2arg` of 3.8–3.10's `PyCode_NewWithPosOnlyArgs`, made before the code object:
    /// `PyMem_NEW(Py_ssize_t, ncells)`, kept (the address returned) if a cell is also a
    /// parameter, else freed at once (0 returned).
    pub fn code_cell2arg_new(&mut self, ncells: u64, used: bool) -> Result<u64, ObjError> {
        if ncells == 0 {
            return Ok(0);
        }
        let p = self.mem_malloc(8 * ncells)?;
        if used {
            return Ok(p);
        }
        self.mem_free(p)?;
        Ok(0)
    }

    /// Stores `co_cell2arg` (offset 96 in 3.8–3.10's `PyCodeObject`), which `code_dealloc`
    /// frees.
    pub fn set_code_cell2arg(&mut self, code: u64, cell2arg: u64) -> Result<(), ObjError> {
        self.set_fields_word(code, CO_CELL2ARG, cell2arg)
    }

    /// `func_dealloc`, `method_dealloc`, `module_dealloc`, `code_dealloc`, `cell_dealloc`:
    /// untrack, release the references in the version's order, free (3.8 keeps bound methods).
    pub(crate) fn fields_dealloc(&mut self, op: u64) -> Result<(), ObjError> {
        let ty = self.type_of(op)?;
        self.gc_untrack(op)?;
        if ty == TypeId::Code && self.layout.minor <= 10 {
            self.free_opcache(op)?;
        }
        for r in self.referents(op)? {
            if let crate::traverse::Edge::Field(field) = r.edge {
                // Py_CLEAR: the field is NULL before its object is released.
                let i = self.field_index(op, field)?;
                self.fields_mut(op)?[i] = 0;
                self.c_xdecref(r.target)?;
            }
        }
        if ty == TypeId::Code && self.layout.minor <= 10 {
            let cell2arg = self.read_word(op + CO_CELL2ARG)?;
            if cell2arg != 0 {
                self.mem_free(cell2arg)?;
            }
            self.free_zombie_frame(op)?;
        }
        let free_list = match ty {
            TypeId::Method => Some((Field::ImSelf, &mut self.free.method)),
            TypeId::CFunction => Some((Field::CfSelf, &mut self.free.cfunction)),
            _ => None,
        };
        if let Some((link_field, list)) = free_list
            && self.layout.minor == 8
            && list.len() < METHOD_MAXFREELIST
        {
            // free_list = op, linked through im_self / m_self.
            let link = list.last().copied().unwrap_or(0);
            list.push(op);
            let numfree = list.len();
            let i = self.field_index(op, link_field)?;
            self.fields_mut(op)?[i] = link;
            self.mark_listed(op);
            self.trace.record(ObjEvent::ToFreeList { op, ty, numfree });
            return Ok(());
        }
        self.free_object(op)
    }

    /// A built-in function (`PyCFunction_NewEx(ml, self, module)`): `def` indexes the caller's
    /// table of C functions, and its `PyMethodDef` lies in the image, where `m_ml` points; its
    /// `ml_name` is `name`. Takes new references to `m_self` and `module`. 3.8 reuses freed
    /// built-in functions from a free list of 256, linked through `m_self` (removed in 3.9 with
    /// the bound methods' one, bpo-37340).
    pub fn cfunction_new(
        &mut self,
        def: usize,
        name: &'static str,
        m_self: u64,
        module: u64,
    ) -> Result<u64, ObjError> {
        let op = if self.layout.minor == 8
            && let Some(op) = self.free.cfunction.pop()
        {
            self.new_reference(op);
            self.fields_mut(op)?.iter_mut().for_each(|w| *w = 0);
            self.gc_track(op);
            op
        } else {
            self.fields_new(TypeId::CFunction, 0)?
        };
        if self.method_defs.len() <= def {
            self.method_defs.resize(def + 1, "");
        }
        self.method_defs[def] = name;
        self.fields_mut(op)?[0] = crate::image::METHOD_DEFS + 32 * def as u64;
        for (field, value) in [(Field::CfSelf, m_self), (Field::CfModule, module)] {
            if value != 0 {
                self.incref(value)?;
                self.set_field(op, field, value)?;
            }
        }
        Ok(op)
    }

    /// The index of a built-in function's `PyMethodDef` in the caller's table.
    pub fn cfunction_def(&self, op: u64) -> Result<usize, ObjError> {
        if self.type_of(op)? != TypeId::CFunction {
            return Err(self.wrong_type(op, "builtin_function_or_method"));
        }
        let ml = self.fields_of(op)?[0];
        Ok(((ml - crate::image::METHOD_DEFS) / 32) as usize)
    }

    /// `m_ml->ml_name`.
    pub(crate) fn cfunction_name(&self, op: u64) -> Result<&'static str, ObjError> {
        let def = self.cfunction_def(op)?;
        Ok(self.method_defs.get(def).copied().unwrap_or("?"))
    }

    /// `bytes(data)` (`PyBytes_FromStringAndSize`): `offsetof(PyBytesObject, ob_sval)` (32) plus
    /// the bytes and a NUL.
    pub fn bytes_new(&mut self, data: &[u8]) -> Result<u64, ObjError> {
        let nbytes = 33 + data.len() as u64;
        let op = self.malloc_object(nbytes, false)?;
        let word = self.heavy.insert(Heavy {
            ty: TypeId::Bytes,
            body: Body::Bytes(data.to_vec()),
        });
        self.install_new(op, nbytes, Kind::Heavy, 0, word, TypeId::Bytes);
        Ok(op)
    }

    /// The bytes a bytes object holds.
    pub fn bytes_data(&self, op: u64) -> Result<Vec<u8>, ObjError> {
        match self.heavy_of(op).map(|h| &h.body) {
            Some(Body::Bytes(b)) => Ok(b.clone()),
            _ => Err(self.wrong_type(op, "bytes")),
        }
    }
}

/// Whether `field` is one of `ty`'s.
fn field_belongs(field: Field, ty: TypeId) -> bool {
    use Field::*;
    match field {
        FuncCode | FuncGlobals | FuncBuiltins | FuncName | FuncQualname | FuncDefaults
        | FuncKwdefaults | FuncClosure | FuncDoc | FuncDict | FuncModule | FuncAnnotations => {
            ty == TypeId::Function
        }
        ImFunc | ImSelf => ty == TypeId::Method,
        MdDict | MdName => ty == TypeId::Module,
        CellRef => ty == TypeId::Cell,
        CfSelf | CfModule => ty == TypeId::CFunction,
        CargObj => ty == TypeId::CArg,
        CdataBase | CdataObjects => ty == TypeId::CData,
        DescrType | DescrName | DescrQualname => ty == TypeId::GetSetDescr,
        _ => ty == TypeId::Code,
    }
}

/// The order each type's `tp_dealloc` releases its references in.
pub(crate) fn dealloc_order(ty: TypeId, minor: u8) -> &'static [Field] {
    use Field::*;
    match (ty, minor) {
        // 3.8/3.9 func_dealloc: code, globals, module, name, defaults, kwdefaults, doc, dict,
        // closure, annotations, qualname.
        (TypeId::Function, ..=9) => &[
            FuncCode,
            FuncGlobals,
            FuncModule,
            FuncName,
            FuncDefaults,
            FuncKwdefaults,
            FuncDoc,
            FuncDict,
            FuncClosure,
            FuncAnnotations,
            FuncQualname,
        ],
        // 3.10+: func_clear (globals, builtins, module, defaults, kwdefaults, doc, dict,
        // closure, annotations), then code, name, qualname.
        (TypeId::Function, _) => &[
            FuncGlobals,
            FuncBuiltins,
            FuncModule,
            FuncDefaults,
            FuncKwdefaults,
            FuncDoc,
            FuncDict,
            FuncClosure,
            FuncAnnotations,
            FuncCode,
            FuncName,
            FuncQualname,
        ],
        (TypeId::Method, _) => &[ImFunc, ImSelf],
        (TypeId::Module, _) => &[MdDict, MdName],
        (TypeId::Cell, _) => &[CellRef],
        // meth_dealloc: m_self, then m_module.
        (TypeId::CFunction, _) => &[CfSelf, CfModule],
        // PyCArg_dealloc: obj.
        (TypeId::CArg, _) => &[CargObj],
        // PyCData_clear: b_objects, then b_base.
        (TypeId::CData, _) => &[CdataObjects, CdataBase],
        // descr_dealloc: d_type, d_name, d_qualname.
        (TypeId::GetSetDescr, _) => &[DescrType, DescrName, DescrQualname],
        // code_dealloc (3.8–3.10): code, consts, names, varnames, freevars, cellvars, filename,
        // name, lnotab.
        (TypeId::Code, ..=10) => &[
            CoCode,
            CoConsts,
            CoNames,
            CoVarnames,
            CoFreevars,
            CoCellvars,
            CoFilename,
            CoName,
            CoLinetable,
        ],
        // 3.11+: consts, names, localsplusnames, localspluskinds, filename, name, qualname,
        // linetable, exceptiontable.
        (TypeId::Code, _) => &[
            CoConsts,
            CoNames,
            CoLocalsplusnames,
            CoLocalspluskinds,
            CoFilename,
            CoName,
            CoQualname,
            CoLinetable,
            CoExceptiontable,
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pymalloc::Profile;

    /// A function `f` in a module dict, with its code object: what `def f(): pass` makes.
    fn function(o: &mut Objects) -> (u64, u64, u64) {
        let code = o.fields_new(TypeId::Code, 4).unwrap();
        let name = o.unicode_from_str("f").unwrap();
        o.incref(name).unwrap();
        o.set_field(code, Field::CoName, name).unwrap();
        let file = o.unicode_from_str("script.py").unwrap();
        o.set_field(code, Field::CoFilename, file).unwrap();
        let at = o.co_firstlineno_offset();
        o.set_fields_u32(code, at, 3).unwrap();
        let globals = o.dict_new().unwrap();
        let func = o.fields_new(TypeId::Function, 0).unwrap();
        o.set_field(func, Field::FuncCode, code).unwrap();
        o.set_field(func, Field::FuncGlobals, globals).unwrap();
        o.incref(name).unwrap();
        o.set_field(func, Field::FuncName, name).unwrap();
        o.set_field(func, Field::FuncQualname, name).unwrap();
        (func, code, globals)
    }

    #[test]
    fn sizes_and_offsets_match_the_headers() {
        // sys.getsizeof(f), type(f).__basicsize__ on the real interpreters.
        for (p, func_size) in [
            (Profile::CPYTHON_3_8, 136),
            (Profile::CPYTHON_3_10, 144),
            (Profile::CPYTHON_3_11, 152),
            (Profile::CPYTHON_3_12, 160),
        ] {
            let mut o = Objects::new(p).unwrap();
            let (func, code, globals) = function(&mut o);
            assert_eq!(o.getsizeof(func).unwrap(), func_size, "{p}");
            let off = offset(Field::FuncCode, o.layout().minor).unwrap();
            assert_eq!(o.read_word(func + off).unwrap(), code);
            let off = offset(Field::FuncGlobals, o.layout().minor).unwrap();
            assert_eq!(o.read_word(func + off).unwrap(), globals);
            assert!(o.gc_is_tracked(func) && !o.gc_is_tracked(code));
            assert_eq!(o.repr(func).unwrap(), format!("<function f at {func:#x}>"));
            assert_eq!(
                o.repr(code).unwrap(),
                format!("<code object f at {code:#x}, file \"script.py\", line 3>")
            );
            o.decref(func).unwrap();
            assert!(!o.is_live(func) && !o.is_live(code) && !o.is_live(globals));
        }
    }

    #[test]
    fn only_3_8_keeps_bound_methods_on_a_free_list() {
        for (p, reused) in [(Profile::CPYTHON_3_8, true), (Profile::CPYTHON_3_9, false)] {
            let mut o = Objects::new(p).unwrap();
            let (func, _, _) = function(&mut o);
            let this = o.list_new(0).unwrap();
            let m = o.fields_new(TypeId::Method, 0).unwrap();
            o.incref(func).unwrap();
            o.set_field(m, Field::ImFunc, func).unwrap();
            o.incref(this).unwrap();
            o.set_field(m, Field::ImSelf, this).unwrap();
            assert_eq!(o.repr(m).unwrap(), "<bound method f of []>");
            let count = o.gc_counts().count0;
            o.decref(m).unwrap();
            // Freed onto the list, the method leaves count[0] alone; freed to pymalloc
            // (PyObject_GC_Del) it takes one off.
            let dropped = count - o.gc_counts().count0;
            assert_eq!(dropped, if reused { 0 } else { 1 }, "{p}");
            let again = o.fields_new(TypeId::Method, 0).unwrap();
            assert_eq!(again, m, "{p}: the free list, or pymalloc's LIFO free list");
        }
    }

    #[test]
    fn builtin_functions_name_their_method_def() {
        for p in [Profile::CPYTHON_3_8, Profile::CPYTHON_3_11] {
            let mut o = Objects::new(p).unwrap();
            let module = o.fields_new(TypeId::Module, 0).unwrap();
            let f = o.cfunction_new(3, "getrefcount", module, 0).unwrap();
            assert_eq!(o.cfunction_def(f).unwrap(), 3);
            assert_eq!(o.repr(f).unwrap(), "<built-in function getrefcount>");
            assert_eq!(o.getsizeof(f).unwrap(), 72, "{p}: sys.getsizeof(print)");
            let l = o.list_new(0).unwrap();
            let m = o.cfunction_new(4, "append", l, 0).unwrap();
            assert_eq!(
                o.repr(m).unwrap(),
                format!("<built-in method append of list object at {l:#x}>")
            );
            o.decref(m).unwrap();
            let again = o.cfunction_new(5, "pop", l, 0).unwrap();
            assert_eq!(again, m, "{p}: the free list (3.8) or pymalloc's LIFO");
        }
    }

    #[test]
    fn misuse_is_an_error() {
        let mut o = Objects::new(Profile::CPYTHON_3_11).unwrap();
        let (func, _, _) = function(&mut o);
        assert!(o.set_field(func, Field::ImSelf, 0).is_err());
        assert!(o.field(func, Field::CoCode).is_err(), "3.11 has no co_code");
        assert!(o.fields_new(TypeId::List, 0).is_err());
        let off = offset(Field::FuncCode, 11).unwrap();
        assert!(
            o.set_fields_word(func, off, 1).is_err(),
            "a reference field"
        );
    }
}
