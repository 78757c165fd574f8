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
