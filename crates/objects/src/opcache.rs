//! The opcode cache of 3.8–3.10 (`_PyCode_InitOpcache` in `Objects/codeobject.c`): once a
//! code object has been run `opcache_min_runs` (1024) times, `_PyEval_EvalFrameDefault` gives
//! it a map of one byte per code unit and, if it has instructions to cache (`LOAD_GLOBAL`;
//! 3.10 `LOAD_ATTR` too), an array of 32-byte `_PyOpcache` entries, both from `PyMem_Calloc`.
//! `code_dealloc` frees them. Measured on 3.8.18, 3.9.18 and 3.10.13 with
//! `sys.getallocatedblocks()`: the 1024th call of a function that loads a global allocates two
//! blocks and keeps them, and a loop inside one call does not count.
//!
//! Offsets in `PyCodeObject` (`offsetof`, compiled against each version's headers): the
//! same on 3.8, 3.9 and 3.10.

use crate::error::ObjError;
use crate::space::Objects;

/// `offsetof(PyCodeObject, co_opcache_map)`.
const CO_OPCACHE_MAP: u64 = 152;
/// `offsetof(PyCodeObject, co_opcache)`.
const CO_OPCACHE: u64 = 160;
/// `offsetof(PyCodeObject, co_opcache_flag)`, an `int`.
const CO_OPCACHE_FLAG: u64 = 168;
/// `sizeof(_PyOpcache)`.
const OPCACHE_ENTRY_SIZE: u64 = 32;
/// `opcache_min_runs` in `Python/ceval.c`.
const OPCACHE_MIN_RUNS: u64 = 1024;

impl Objects {
    /// A run of `code` starting (`_PyEval_EvalFrameDefault`, 3.8–3.10): `co_opcache_flag`
    /// counts up to 1024; true when it reaches it, and the caller makes the cache
    /// ([`Objects::code_init_opcache`]).
    pub fn code_run_started(&mut self, code: u64) -> Result<bool, ObjError> {
        let flag = self.read_word(code + CO_OPCACHE_FLAG)? & 0xffff_ffff;
        if flag >= OPCACHE_MIN_RUNS {
            return Ok(false);
        }
        self.set_fields_u32(code, CO_OPCACHE_FLAG, (flag + 1) as u32)?;
        Ok(flag + 1 == OPCACHE_MIN_RUNS)
    }

    /// `_PyCode_InitOpcache` for a code object whose code units have the opcodes `opcodes`:
    /// the map, then the entries for the cached instructions (at most 255), or the map freed
    /// again if there are none.
    pub fn code_init_opcache(&mut self, code: u64, opcodes: &[u8]) -> Result<(), ObjError> {
        let map = self.mem_calloc(opcodes.len() as u64, 1)?;
        let cached = self.cached_opcodes();
        let mut opts = 0;
        for &op in opcodes {
            if cached.contains(&op) {
                opts += 1;
                if opts > 254 {
                    break;
                }
            }
        }
        if opts == 0 {
            return self.mem_free(map);
        }
        let cache = self.mem_calloc(opts, OPCACHE_ENTRY_SIZE)?;
        self.set_fields_word(code, CO_OPCACHE_MAP, map)?;
        self.set_fields_word(code, CO_OPCACHE, cache)
    }

    /// The opcodes `_PyCode_InitOpcache` gives a cache entry: `LOAD_GLOBAL` (116), and on
    /// 3.10 `LOAD_ATTR` (106).
    fn cached_opcodes(&self) -> Vec<u8> {
        if self.layout.minor >= 10 {
            vec![116, 106]
        } else {
            vec![116]
        }
    }

    /// `code_dealloc`'s first steps (3.8–3.10): `PyMem_FREE(co_opcache)`, then the map.
    pub(crate) fn free_opcache(&mut self, code: u64) -> Result<(), ObjError> {
        for at in [CO_OPCACHE, CO_OPCACHE_MAP] {
            let p = self.read_word(code + at)?;
            if p != 0 {
                self.mem_free(p)?;
                self.set_fields_word(code, at, 0)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::TypeId;
    use pymalloc::Profile;

    fn blocks(o: &Objects) -> i64 {
        o.allocator().stats().allocated_blocks
    }

    #[test]
    fn the_1024th_run_of_code_loading_a_global_keeps_two_blocks() {
        let mut o = Objects::new(Profile::CPYTHON_3_10).unwrap();
        let with_global = o.fields_new(TypeId::Code, 0).unwrap();
        let without = o.fields_new(TypeId::Code, 0).unwrap();
        for _ in 0..1023 {
            assert!(!o.code_run_started(with_global).unwrap());
            assert!(!o.code_run_started(without).unwrap());
        }
        let before = blocks(&o);
        assert!(o.code_run_started(with_global).unwrap());
        // LOAD_GLOBAL, RETURN_VALUE (3.10's numbers).
        o.code_init_opcache(with_global, &[116, 83]).unwrap();
        assert_eq!(blocks(&o), before + 2, "the map and one entry");
        assert!(o.code_run_started(without).unwrap());
        o.code_init_opcache(without, &[100, 83]).unwrap();
        assert_eq!(blocks(&o), before + 2, "no entries: the map freed again");
        assert!(!o.code_run_started(with_global).unwrap(), "made once");
        o.decref(with_global).unwrap();
        assert_eq!(
            blocks(&o),
            before - 1,
            "code_dealloc frees both, then the code"
        );
    }
}
