//! What goes wrong is a value, never a panic.
//!
//! C reports most of these by crashing, or not at all. A double free in pymalloc silently links
//! a block into its pool's free list twice; the model does the same (and names it in the trace),
//! and stops only where the same block would be handed out to two owners. glibc's own checks
//! (a tcache double free) abort, in C as here.

use std::fmt;

/// Everything that can go wrong when the model is used, or misused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemError {
    /// A read or write of an address that no mapping covers: the model's segmentation fault.
    Segfault {
        /// The first unmapped address touched.
        addr: u64,
    },
    /// Freeing (or reallocating) an address that the allocator never handed out: an interior
    /// pointer, a pool header, a never-carved block, or an address of no allocation at all.
    InvalidFree {
        /// The address passed to the free or realloc call.
        addr: u64,
    },
    /// Freeing (or reallocating) a block that is already free, where C notices: glibc aborts
    /// ("free(): double free detected in tcache 2"); pymalloc's realloc of a freed block.
    DoubleFree {
        /// The address passed to the free or realloc call.
        addr: u64,
    },
    /// A profile name that is not one of the modelled CPython versions.
    UnknownProfile {
        /// The name that was given.
        name: String,
    },
    /// The address space, or the limit put on it (like `ulimit -v`), cannot hold the request.
    OutOfMemory {
        /// How many bytes were asked for.
        requested: u64,
    },
    /// A word access at an address that is not a multiple of 8: the model's memory is words.
    Misaligned {
        /// The address given.
        addr: u64,
    },
    /// A client write into allocator metadata: a pool header, or a chunk's size field. In C this
    /// corrupts the allocator; the model keeps that metadata in Rust structures and refuses.
    Metadata {
        /// The address of the word that would have been overwritten.
        addr: u64,
    },
    /// A pool's free list leads to a mapped address that is not a free block of that pool: a
    /// freed block was written to after it was freed (a use after free), or a block freed twice
    /// is in use again. CPython would hand out the wild address, or the same block a second time,
    /// as if it were a free block; the model stops. (A link into unmapped memory is followed as
    /// in C, to a [`MemError::Segfault`].)
    CorruptFreeList {
        /// The pool whose free list is broken.
        pool: u64,
        /// The link found in the freed block.
        link: u64,
    },
    /// A glibc tcache or fastbin list leads somewhere that is not the next chunk of the list:
    /// the link in a freed chunk's first word (after `REVEAL_PTR`) was overwritten, a use after
    /// free. glibc would hand out the wild address (or abort if it is misaligned); the model
    /// stops.
    CorruptBin {
        /// The freed chunk's user address, where the broken link is.
        block: u64,
        /// The link found there, unmangled.
        link: u64,
    },
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Segfault { addr } => write!(f, "segmentation fault at {addr:#x}"),
            Self::InvalidFree { addr } => write!(f, "free of {addr:#x}, which was never allocated"),
            Self::DoubleFree { addr } => write!(f, "double free of {addr:#x}"),
            Self::UnknownProfile { name } => {
                write!(f, "unknown CPython version {name:?} (known: 3.8 to 3.13)")
            }
            Self::OutOfMemory { requested } => {
                write!(f, "out of memory: cannot map {requested} more bytes")
            }
            Self::Misaligned { addr } => write!(f, "word access at {addr:#x}, not 8-byte aligned"),
            Self::Metadata { addr } => {
                write!(f, "write into allocator metadata at {addr:#x} refused")
            }
            Self::CorruptFreeList { pool, link } => write!(
                f,
                "free list of pool {pool:#x} is corrupt: link {link:#x} is not a free block of it"
            ),
            Self::CorruptBin { block, link } => write!(
                f,
                "glibc bin corrupt: freed chunk {block:#x} links to {link:#x}, not the next of its list"
            ),
        }
    }
}

impl std::error::Error for MemError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_address_in_hex() {
        let e = MemError::DoubleFree {
            addr: 0x7f00_0000_1030,
        };
        assert_eq!(e.to_string(), "double free of 0x7f0000001030");
        let e = MemError::UnknownProfile { name: "2.7".into() };
        assert!(e.to_string().contains("\"2.7\""));
    }
}
