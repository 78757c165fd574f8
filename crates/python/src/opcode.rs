//! `Lib/opcode.py` and `Include/opcode.h` of each version: an instruction's number and the
//! inline cache entries that follow it (3.11+), which set the byte offsets `dis` prints.

use crate::opcode_tables::{OPCODES, Opcode};

/// One version's instruction set.
#[derive(Clone, Copy, Debug)]
pub struct OpcodeTable {
    minor: u8,
    ops: &'static [Opcode],
}

impl OpcodeTable {
    /// The table of `3.minor`.
    pub fn of(minor: u8) -> OpcodeTable {
        let (_, ops) = OPCODES
            .iter()
            .find(|(m, _)| *m == minor)
            .copied()
            .expect("every modelled version has a table");
        OpcodeTable { minor, ops }
    }

    /// The minor version.
    pub fn minor(self) -> u8 {
        self.minor
    }

    fn find(self, name: &str) -> Option<(u16, u8)> {
        self.ops
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|&(_, op, caches)| (op, caches))
    }

    /// Whether the version has an instruction of this name.
    pub fn has(self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The instruction's number.
    pub fn number(self, name: &str) -> Option<u16> {
        self.find(name).map(|(op, _)| op)
    }

    /// Inline cache entries after the instruction (16-bit code units).
    pub fn caches(self, name: &str) -> u8 {
        self.find(name).map_or(0, |(_, c)| c)
    }

    /// Bytes the instruction takes: one code unit (two bytes from 3.6) and its caches, plus an
    /// `EXTENDED_ARG` for each byte of argument above the first.
    pub fn size(self, name: &str, arg: u32) -> u32 {
        2 * (1 + u32::from(self.caches(name)) + extended_args(arg))
    }
}

/// How many `EXTENDED_ARG`s precede an instruction: one for each byte of `arg` above the
/// first.
pub fn extended_args(arg: u32) -> u32 {
    match arg {
        0..=0xff => 0,
        0x100..=0xffff => 1,
        0x1_0000..=0xff_ffff => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_agree_with_known_numbers() {
        let t311 = OpcodeTable::of(11);
        assert_eq!(t311.number("LOAD_GLOBAL"), Some(116));
        assert_eq!(t311.caches("LOAD_GLOBAL"), 5);
        assert_eq!(t311.size("CALL", 1), 10);
        assert!(t311.has("PRECALL") && !OpcodeTable::of(12).has("PRECALL"));
        assert_eq!(OpcodeTable::of(8).caches("LOAD_GLOBAL"), 0);
        assert!(OpcodeTable::of(8).has("CALL_FUNCTION"));
    }
}

/// Declares [`Op`] from the names the evaluation loop runs.
macro_rules! ops {
    ($($name:ident)*) => {
        /// An instruction the evaluation loop runs, by its name in `opcode.opmap`, decided once
        /// when the code is made so that each run of the instruction dispatches on a number, not
        /// on its name. The names are CPython's, spelled as CPython spells them.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Op {
            $(#[doc = concat!("`", stringify!($name), "`.")] $name,)*
            /// Any other instruction: the evaluation loop looks at its name.
            Other,
        }

        impl Op {
            /// The instruction named `name`.
            pub fn of(name: &str) -> Op {
                match name {
                    $(stringify!($name) => Op::$name,)*
                    _ => Op::Other,
                }
            }
        }
    };
}

ops! {
    BINARY_OP BINARY_SLICE BINARY_SUBSCR BUILD_CONST_KEY_MAP BUILD_LIST BUILD_MAP BUILD_SLICE
    BUILD_STRING BUILD_TUPLE CALL CALL_FUNCTION CALL_FUNCTION_KW CALL_INTRINSIC_1 CALL_KW
    CALL_METHOD COMPARE_OP CONTAINS_OP CONVERT_VALUE COPY COPY_FREE_VARS DELETE_DEREF DELETE_FAST
    DELETE_GLOBAL DELETE_NAME DELETE_SUBSCR DUP_TOP DUP_TOP_TWO END_FOR FORMAT_SIMPLE FORMAT_VALUE
    FORMAT_WITH_SPEC FOR_ITER GET_ITER IMPORT_FROM IMPORT_NAME IS_OP JUMP_ABSOLUTE JUMP_BACKWARD
    JUMP_BACKWARD_NO_INTERRUPT JUMP_FORWARD JUMP_IF_FALSE_OR_POP JUMP_IF_TRUE_OR_POP KW_NAMES
    LIST_APPEND LIST_EXTEND LIST_TO_TUPLE LOAD_ATTR LOAD_BUILD_CLASS LOAD_CLOSURE LOAD_CONST
    LOAD_DEREF LOAD_FAST LOAD_FAST_AND_CLEAR LOAD_FAST_CHECK LOAD_FAST_LOAD_FAST LOAD_GLOBAL
    LOAD_METHOD LOAD_NAME MAKE_CELL MAKE_FUNCTION NOP POP_JUMP_BACKWARD_IF_FALSE
    POP_JUMP_BACKWARD_IF_NONE POP_JUMP_BACKWARD_IF_NOT_NONE POP_JUMP_BACKWARD_IF_TRUE
    POP_JUMP_FORWARD_IF_FALSE POP_JUMP_FORWARD_IF_NONE POP_JUMP_FORWARD_IF_NOT_NONE
    POP_JUMP_FORWARD_IF_TRUE POP_JUMP_IF_FALSE POP_JUMP_IF_NONE POP_JUMP_IF_NOT_NONE
    POP_JUMP_IF_TRUE POP_TOP PRECALL PUSH_NULL RAISE_VARARGS RESUME RETURN_CONST RETURN_VALUE
    ROT_FOUR ROT_THREE ROT_TWO SET_FUNCTION_ATTRIBUTE STORE_ATTR STORE_DEREF STORE_FAST
    STORE_FAST_LOAD_FAST STORE_FAST_STORE_FAST STORE_GLOBAL STORE_NAME STORE_SLICE STORE_SUBSCR
    SWAP TO_BOOL UNARY_INVERT UNARY_NEGATIVE UNARY_NOT UNARY_POSITIVE UNPACK_SEQUENCE
}
