//! The built-in types the model knows, each a static `PyTypeObject` in the interpreter's image.

use std::fmt;

/// A built-in type (`PyLong_Type`, `PyUnicode_Type`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeId {
    /// `type` (`PyType_Type`).
    Type,
    /// `object` (`PyBaseObject_Type`).
    Object,
    /// `int` (`PyLong_Type`).
    Int,
    /// `bool` (`PyBool_Type`).
    Bool,
    /// `float` (`PyFloat_Type`).
    Float,
    /// `str` (`PyUnicode_Type`).
    Str,
    /// `list` (`PyList_Type`).
    List,
    /// `tuple` (`PyTuple_Type`).
    Tuple,
    /// `dict` (`PyDict_Type`).
    Dict,
    /// `bytes` (`PyBytes_Type`).
    Bytes,
    /// `function` (`PyFunction_Type`).
    Function,
    /// `method`, a bound method (`PyMethod_Type`).
    Method,
    /// `module` (`PyModule_Type`).
    Module,
    /// `code` (`PyCode_Type`).
    Code,
    /// `cell` (`PyCell_Type`).
    Cell,
    /// `NoneType` (`_PyNone_Type`).
    NoneType,
    /// An instance of a plain class (its type is a heap type, not in the image).
    Instance,
    /// `builtin_function_or_method` (`PyCFunction_Type`): a function written in C.
    CFunction,
    /// `CArgObject` (`PyCArg_Type` of `Modules/_ctypes`): one argument of a ctypes foreign
    /// call, converted (`PyCArgObject`).
    CArg,
    /// `sys.version_info` (`VersionInfoType` of `Python/sysmodule.c`), a struct sequence: a
    /// tuple whose items also have names.
    VersionInfo,
    /// `ctypes.py_object`: a ctypes simple instance holding one `PyObject *` (`CDataObject`).
    /// In CPython it is a class that `ctypes/__init__.py` makes at import; the model keeps it
    /// among the static types (its address is never what a program sees).
    CData,
    /// `getset_descriptor` (`PyGetSetDescr_Type`): a class's `__dict__` and `__weakref__`
    /// attributes, which `type_ready` puts in the class's dict (`add_getset`).
    GetSetDescr,
    /// `frame` (`PyFrame_Type`): a running call's frame, an object up to 3.10.
    Frame,
}

impl TypeId {
    /// Every built-in type, in the order they are laid out in the image.
    pub const ALL: [TypeId; 23] = [
        TypeId::Type,
        TypeId::Object,
        TypeId::Int,
        TypeId::Bool,
        TypeId::Float,
        TypeId::Str,
        TypeId::List,
        TypeId::Tuple,
        TypeId::NoneType,
        TypeId::Dict,
        TypeId::Bytes,
        TypeId::Function,
        TypeId::Method,
        TypeId::Module,
        TypeId::Code,
        TypeId::Cell,
        TypeId::Instance,
        TypeId::CFunction,
        TypeId::CArg,
        TypeId::CData,
        TypeId::VersionInfo,
        TypeId::GetSetDescr,
        TypeId::Frame,
    ];

    /// `tp_name`.
    pub fn name(self) -> &'static str {
        match self {
            TypeId::Type => "type",
            TypeId::Object => "object",
            TypeId::Int => "int",
            TypeId::Bool => "bool",
            TypeId::Float => "float",
            TypeId::Str => "str",
            TypeId::List => "list",
            TypeId::Tuple => "tuple",
            TypeId::Dict => "dict",
            TypeId::Bytes => "bytes",
            TypeId::Function => "function",
            TypeId::Method => "method",
            TypeId::Module => "module",
            TypeId::Code => "code",
            TypeId::Cell => "cell",
            TypeId::Instance => "instance",
            TypeId::CFunction => "builtin_function_or_method",
            TypeId::NoneType => "NoneType",
            TypeId::CArg => "CArgObject",
            TypeId::CData => "py_object",
            TypeId::VersionInfo => "sys.version_info",
            TypeId::GetSetDescr => "getset_descriptor",
            TypeId::Frame => "frame",
        }
    }

    /// Whether instances carry a `PyGC_Head` (`Py_TPFLAGS_HAVE_GC`) on version `3.minor`:
    /// `PyCArg_Type` became a heap type with GC in 3.12 (`malloc 80`, not 64, in
    /// `crates/python/measurements/ctypes_cast.3.12.txt`).
    pub fn is_gc_in(self, minor: u8) -> bool {
        self.is_gc() || (self == TypeId::CArg && minor >= 12)
    }

    /// Whether instances carry a `PyGC_Head` on every version.
    pub fn is_gc(self) -> bool {
        matches!(
            self,
            TypeId::List
                | TypeId::Tuple
                | TypeId::Dict
                | TypeId::Type
                | TypeId::Function
                | TypeId::Method
                | TypeId::Module
                | TypeId::Cell
                | TypeId::Instance
                | TypeId::CFunction
                | TypeId::CData
                | TypeId::VersionInfo
                | TypeId::GetSetDescr
                | TypeId::Frame
        )
    }

    /// Whether the type is one of the structs of references in `fields`.
    pub fn is_struct(self) -> bool {
        matches!(
            self,
            TypeId::Function
                | TypeId::Method
                | TypeId::Module
                | TypeId::Code
                | TypeId::Cell
                | TypeId::CFunction
                | TypeId::CArg
                | TypeId::CData
                | TypeId::GetSetDescr
                | TypeId::Frame
        )
    }

    /// The position in [`TypeId::ALL`].
    pub fn index(self) -> usize {
        TypeId::ALL
            .iter()
            .position(|&t| t == self)
            .expect("every TypeId is in ALL")
    }
}

impl fmt::Display for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
