//! Misuse of the object layer is a value, never a panic.
//!
//! CPython trusts its callers: a decref below zero or a use of a freed object corrupts memory and
//! crashes later, somewhere else. The model checks each operation against the objects' state and
//! says what went wrong, where C would go on.

use std::fmt;

use pymalloc::MemError;

/// What went wrong in the object layer, or in the allocator beneath it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjError {
    /// The allocator refused (out of memory, a double free) or memory was not mapped.
    Mem(MemError),
    /// `Py_DECREF` of an object whose count is already 0.
    DecrefBelowZero {
        /// The object.
        addr: u64,
    },
    /// A reference was used, through the API, to an object that no longer exists (freed, or on
    /// a free list): in C a use after free.
    Dead {
        /// The address used.
        addr: u64,
    },
    /// An address where no object starts.
    NotAnObject {
        /// The address used.
        addr: u64,
    },
    /// An object of the wrong type for the operation, such as `list_append` on a tuple.
    WrongType {
        /// The object.
        addr: u64,
        /// The type the operation needs.
        expected: &'static str,
        /// The type found.
        found: String,
    },
    /// An index outside the container (`IndexError` in Python).
    IndexOutOfRange {
        /// The container.
        addr: u64,
        /// The index asked for.
        index: i64,
    },
    /// Something CPython does that the model does not: named, never silently wrong.
    NotModelled {
        /// What it is.
        what: &'static str,
    },
    /// A count that the model keeps in 32 bits overflowed (4 billion references to one object).
    RefcountOverflow {
        /// The object.
        addr: u64,
    },
}

impl From<MemError> for ObjError {
    fn from(e: MemError) -> Self {
        ObjError::Mem(e)
    }
}

impl fmt::Display for ObjError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mem(e) => e.fmt(f),
            Self::DecrefBelowZero { addr } => {
                write!(
                    f,
                    "Py_DECREF of {addr:#x}, whose reference count is already 0"
                )
            }
            Self::Dead { addr } => write!(f, "use of {addr:#x}, an object already deallocated"),
            Self::NotAnObject { addr } => write!(f, "no object starts at {addr:#x}"),
            Self::WrongType {
                addr,
                expected,
                found,
            } => write!(f, "{addr:#x} is a {found}, not a {expected}"),
            Self::IndexOutOfRange { addr, index } => {
                write!(f, "index {index} out of range for {addr:#x}")
            }
            Self::NotModelled { what } => write!(f, "not modelled: {what}"),
            Self::RefcountOverflow { addr } => {
                write!(f, "reference count of {addr:#x} overflowed 32 bits")
            }
        }
    }
}

impl std::error::Error for ObjError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_object() {
        let e = ObjError::DecrefBelowZero { addr: 0x7f00_1000 };
        assert_eq!(
            e.to_string(),
            "Py_DECREF of 0x7f001000, whose reference count is already 0"
        );
        let m: ObjError = MemError::Segfault { addr: 16 }.into();
        assert_eq!(m.to_string(), "segmentation fault at 0x10");
    }
}
