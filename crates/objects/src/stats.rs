//! `_PyObject_DebugTypeStats`: the second part of `sys._debugmallocstats()`, each free list's
//! length and the size of the objects it holds, in each version's order and words.
//!
//! ```text
//!            14 free PyDictObjects * 48 bytes each =                  672
//!    5 free 1-sized PyTupleObjects * 32 bytes each =                  160
//! ```

use pymalloc::stats::printone;

use crate::dict::DICT_SIZE;
use crate::layout::{FLOAT_SIZE, LIST_SIZE, VAR_HEAD_SIZE};
use crate::space::Objects;
use crate::types::TypeId;

impl Objects {
    /// The free lists as `_PyObject_DebugTypeStats` reports them: 3.8's built-in function and
    /// bound method lists, the dict list (and 3.13's dict keys list), the float list, 3.8-3.10's
    /// frame list, the list list, then each tuple size (1 to 19; 1 to 20 from 3.11).
    pub fn debug_type_stats(&self) -> String {
        let minor = self.layout.minor;
        let f = &self.free;
        let mut out = String::new();
        if minor == 8 {
            let size = crate::fields::basicsize(TypeId::CFunction, minor);
            allocator_stats(&mut out, "free PyCFunctionObject", f.cfunction.len(), size);
        }
        allocator_stats(&mut out, "free PyDictObject", f.dict.len(), DICT_SIZE);
        if minor >= 13 {
            allocator_stats(&mut out, "free PyDictKeysObject", f.dict_keys.len(), 32);
        }
        allocator_stats(&mut out, "free PyFloatObject", f.float.len(), FLOAT_SIZE);
        if minor <= 10 {
            let size = crate::frame::frame_basicsize(minor);
            allocator_stats(&mut out, "free PyFrameObject", f.frame.len(), size);
        }
        allocator_stats(&mut out, "free PyListObject", f.list.len(), LIST_SIZE);
        if minor == 8 {
            let size = crate::fields::basicsize(TypeId::Method, minor);
            allocator_stats(&mut out, "free PyMethodObject", f.method.len(), size);
        }
        let sizes = if minor >= 11 { 1..=20 } else { 1..=19 };
        for size in sizes {
            let n = f.tuple.get(size).map_or(0, Vec::len);
            let name = format!("free {size}-sized PyTupleObject");
            allocator_stats(&mut out, &name, n, VAR_HEAD_SIZE + 8 * size as u64);
        }
        out
    }
}

/// `_PyDebugAllocatorStats(out, block_name, num_blocks, sizeof_block)`: `"%d %ss * %zd bytes
/// each"` right-aligned in 48 columns and a space, then obmalloc's `printone` (`=` and the
/// product, grouped by threes in 21 columns).
fn allocator_stats(out: &mut String, block_name: &str, num_blocks: usize, sizeof_block: u64) {
    let what = format!("{num_blocks} {block_name}s * {sizeof_block} bytes each");
    printone(
        out,
        &format!("{what:>48} "),
        num_blocks as u64 * sizeof_block,
    );
}

#[cfg(test)]
mod tests {
    use super::allocator_stats;

    /// The lines as CPython 3.11.7 prints them (`python3 -I -c 'import sys;
    /// sys._debugmallocstats()'`).
    #[test]
    fn lines_are_cpythons() {
        let mut out = String::new();
        allocator_stats(&mut out, "free PyDictObject", 14, 48);
        allocator_stats(&mut out, "free 12-sized PyTupleObject", 3, 120);
        allocator_stats(&mut out, "free PyListObject", 40, 40);
        assert_eq!(
            out,
            "           14 free PyDictObjects * 48 bytes each =                  672\n \
             3 free 12-sized PyTupleObjects * 120 bytes each =                  360\n           \
             40 free PyListObjects * 40 bytes each =                1,600\n"
        );
    }
}
