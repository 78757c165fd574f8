//! `Python/peephole.c` of 3.9: `PyCode_Optimize`, run by `makecode` on the bytecode the
//! assembler wrote (code units, `EXTENDED_ARG`s included) and on `co_lnotab`. Its rewrites
//! stay inside a basic block of the bytecode (`markblocks`: a jump target starts one); the
//! instructions they remove become `NOP`s, which a last pass deletes while it retargets the
//! jumps, each rewritten in as many code units as it had (a jump that needs fewer keeps an
//! `EXTENDED_ARG 0`). The line table keeps its
//! entries: an entry whose instruction went moves to the one after it.

use crate::compile::{Instr, Span};
use crate::error::RunError;
use crate::opcode::{Op, extended_args};

/// One code unit: an opcode and its one-byte argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CodeUnit {
    op: &'static str,
    arg: u32,
}

/// What the optimizer needs of `co_consts`, still a list: each constant's truth, and a
/// tuple of constants appended (`fold_tuple_on_constants`' `PyList_Append`, no merging).
pub(crate) trait ConstList {
    /// `PyObject_IsTrue(PyList_GET_ITEM(consts, k))`.
    fn is_true(&self, k: u32) -> bool;
    /// Appends the tuple of the constants `items` and gives its index.
    fn append_tuple(&mut self, items: &[u32]) -> Result<u32, RunError>;
}

/// `UNCONDITIONAL_JUMP`.
fn unconditional_jump(op: &str) -> bool {
    matches!(op, "JUMP_ABSOLUTE" | "JUMP_FORWARD")
}

/// `CONDITIONAL_JUMP`.
fn conditional_jump(op: &str) -> bool {
    matches!(
        op,
        "POP_JUMP_IF_FALSE" | "POP_JUMP_IF_TRUE" | "JUMP_IF_FALSE_OR_POP" | "JUMP_IF_TRUE_OR_POP"
    )
}

/// `ABSOLUTE_JUMP`: the argument is the target's byte offset.
fn absolute_jump(op: &str) -> bool {
    op == "JUMP_ABSOLUTE" || conditional_jump(op) || op == "JUMP_IF_NOT_EXC_MATCH"
}

/// The relative jumps: the argument counts bytes from the instruction after.
fn relative_jump(op: &str) -> bool {
    matches!(
        op,
        "FOR_ITER" | "JUMP_FORWARD" | "SETUP_FINALLY" | "SETUP_WITH" | "SETUP_ASYNC_WITH"
    )
}

/// `JUMPS_ON_TRUE`.
fn jumps_on_true(op: &str) -> bool {
    matches!(op, "POP_JUMP_IF_TRUE" | "JUMP_IF_TRUE_OR_POP")
}

/// `instrsize`: code units an argument takes.
fn instrsize(oparg: u32) -> usize {
    1 + extended_args(oparg) as usize
}

struct Code {
    units: Vec<CodeUnit>,
}

impl Code {
    fn opcode(&self, i: usize) -> &'static str {
        self.units[i].op
    }

    /// `find_op`: past the `EXTENDED_ARG`s to the instruction.
    fn find_op(&self, mut i: usize) -> usize {
        while i < self.units.len() && self.opcode(i) == "EXTENDED_ARG" {
            i += 1;
        }
        i
    }

    /// `get_arg`: the argument, with its `EXTENDED_ARG`s.
    fn get_arg(&self, i: usize) -> u32 {
        let mut oparg = self.units[i].arg;
        for k in 1..=3 {
            if i < k || self.opcode(i - k) != "EXTENDED_ARG" {
                break;
            }
            oparg |= self.units[i - k].arg << (8 * k);
        }
        oparg
    }

    /// `GETJUMPTGT`: the code unit a jump goes to.
    fn jump_target(&self, i: usize) -> usize {
        let units = self.get_arg(i) as usize / 2;
        if absolute_jump(self.opcode(i)) {
            units
        } else {
            units + i + 1
        }
    }

    fn fill_nops(&mut self, start: usize, end: usize) {
        for u in &mut self.units[start..end] {
            *u = CodeUnit { op: "NOP", arg: 0 };
        }
    }

    /// `write_op_arg`: the instruction in `ilen` code units from `at`.
    fn write_op_arg(&mut self, at: usize, op: &'static str, oparg: u32, ilen: usize) {
        for k in 0..ilen {
            let shift = 8 * (ilen - 1 - k);
            let name = if k + 1 == ilen { op } else { "EXTENDED_ARG" };
            self.units[at + k] = CodeUnit {
                op: name,
                arg: (oparg >> shift) & 0xff,
            };
        }
    }

    /// `set_arg`: a new argument in the instruction's own units (`None` if it needs more).
    fn set_arg(&mut self, i: usize, oparg: u32) -> Option<usize> {
        let curarg = self.get_arg(i);
        if curarg == oparg {
            return Some(i);
        }
        let (curilen, newilen) = (instrsize(curarg), instrsize(oparg));
        if curilen < newilen {
            return None;
        }
        self.write_op_arg(i + 1 - curilen, self.opcode(i), oparg, newilen);
        self.fill_nops(i + 1 - curilen + newilen, i + 1);
        Some(i + newilen - curilen)
    }

    /// `copy_op_arg`: the instruction written at the end of `[i, maxi)`, NOPs before it.
    fn copy_op_arg(&mut self, i: usize, op: &'static str, oparg: u32, maxi: usize) {
        let ilen = instrsize(oparg);
        if i + ilen > maxi {
            return;
        }
        self.write_op_arg(maxi - ilen, op, oparg, ilen);
        self.fill_nops(i, maxi - ilen);
    }

    /// `lastn_const_start`: where the `n`th `LOAD_CONST` back from `i` starts.
    fn lastn_const_start(&self, mut i: usize, mut n: u32) -> usize {
        loop {
            i -= 1;
            if self.opcode(i) == "LOAD_CONST" {
                n -= 1;
                if n == 0 {
                    while i > 0 && self.opcode(i - 1) == "EXTENDED_ARG" {
                        i -= 1;
                    }
                    return i;
                }
            }
        }
    }

    /// `markblocks`: each code unit's basic block, numbered from 0 and counting up at
    /// each jump target.
    fn markblocks(&self) -> Vec<u32> {
        let mut blocks = vec![0u32; self.units.len()];
        for i in 0..self.units.len() {
            let op = self.opcode(i);
            if absolute_jump(op) || relative_jump(op) {
                blocks[self.jump_target(i)] = 1;
            }
        }
        let mut count = 0;
        for b in blocks.iter_mut() {
            count += *b;
            *b = count;
        }
        blocks
    }
}

/// `PyCode_Optimize` of the assembled instructions (their jumps' arguments in bytes, each
/// line-table entry on the instruction that starts it); the instructions it leaves, each with
/// the line `PyCode_Addr2Line` gives it (`firstlineno` before the first entry).
pub(crate) fn optimize(
    instrs: &[Instr],
    firstlineno: u32,
    consts: &mut impl ConstList,
) -> Result<Vec<Instr>, RunError> {
    let (code, lnotab) = encode(instrs, firstlineno);
    let optimized = if lnotab_is_simple(&lnotab) {
        rewrite(
            Code {
                units: code.units.clone(),
            },
            lnotab.clone(),
            consts,
        )?
    } else {
        None
    };
    let (code, lnotab) = optimized.unwrap_or((code, lnotab));
    Ok(decode(&code, &lnotab, firstlineno))
}

/// `assemble_emit` and `assemble_lnotab`: the code units, and the `(code unit, line)`
/// entries of `co_lnotab`, one where an instruction that carries a line changes it.
fn encode(instrs: &[Instr], firstlineno: u32) -> (Code, Lnotab) {
    let mut units = Vec::new();
    let mut lnotab = Vec::new();
    let mut a_lineno = firstlineno;
    for i in instrs {
        if let Some(line) = i.line.filter(|&l| l != a_lineno) {
            lnotab.push((units.len(), line));
            a_lineno = line;
        }
        let ilen = instrsize(i.arg);
        let at = units.len();
        units.resize(at + ilen, CodeUnit { op: "NOP", arg: 0 });
        let mut code = Code { units };
        code.write_op_arg(at, i.name, i.arg, ilen);
        units = code.units;
    }
    (Code { units }, lnotab)
}

/// The optimizer bails out when an entry of `co_lnotab` lies more than 255 bytes after the
/// one before (encoded as several, the first with 255).
fn lnotab_is_simple(lnotab: &[(usize, u32)]) -> bool {
    let mut last = 0;
    lnotab.iter().all(|&(at, _)| {
        let gap = 2 * (at - last);
        last = at;
        gap <= 255
    })
}

/// `co_lnotab` as `(code unit, line)` entries.
type Lnotab = Vec<(usize, u32)>;

/// The optimizer's passes; `None` where it leaves the code unchanged (a jump that would grow).
fn rewrite(
    mut code: Code,
    lnotab: Lnotab,
    consts: &mut impl ConstList,
) -> Result<Option<(Code, Lnotab)>, RunError> {
    let blocks = code.markblocks();
    let codelen = code.units.len();
    let basic = |a: usize, b: usize| blocks[a] == blocks[b];
    // Runs of consecutive LOAD_CONSTs.
    let mut cumlc = 0u32;
    let mut lastlc;
    let mut i = code.find_op(0);
    while i < codelen {
        let opcode = code.opcode(i);
        let mut op_start = i;
        while op_start >= 1 && code.opcode(op_start - 1) == "EXTENDED_ARG" {
            op_start -= 1;
        }
        let mut nexti = code.find_op(i + 1);
        let nextop = (nexti < codelen).then(|| code.opcode(nexti));
        lastlc = std::mem::replace(&mut cumlc, 0);
        match opcode {
            // LOAD_CONST trueconst; POP_JUMP_IF_FALSE: both go ("while 1").
            "LOAD_CONST" => {
                cumlc = lastlc + 1;
                if nextop == Some("POP_JUMP_IF_FALSE")
                    && basic(op_start, i + 1)
                    && consts.is_true(code.get_arg(i))
                {
                    code.fill_nops(op_start, nexti + 1);
                    cumlc = 0;
                }
            }
            // A tuple of constants folded; BUILD_TUPLE n, UNPACK_SEQUENCE n made rotations.
            "BUILD_TUPLE" => {
                let j = code.get_arg(i);
                if j > 0 && lastlc >= j {
                    let h = code.lastn_const_start(op_start, j);
                    if basic(h, op_start) {
                        fold_tuple_on_constants(&mut code, h, i + 1, j, consts)?;
                        i = nexti;
                        continue;
                    }
                }
                if nextop != Some("UNPACK_SEQUENCE")
                    || !basic(op_start, i + 1)
                    || j != code.get_arg(nexti)
                {
                    i = nexti;
                    continue;
                }
                match j {
                    0 | 1 => code.fill_nops(op_start, nexti + 1),
                    2 => {
                        code.units[op_start] = CodeUnit {
                            op: "ROT_TWO",
                            arg: 0,
                        };
                        code.fill_nops(op_start + 1, nexti + 1);
                    }
                    3 => {
                        code.units[op_start] = CodeUnit {
                            op: "ROT_THREE",
                            arg: 0,
                        };
                        code.units[op_start + 1] = CodeUnit {
                            op: "ROT_TWO",
                            arg: 0,
                        };
                        code.fill_nops(op_start + 2, nexti + 1);
                    }
                    _ => {}
                }
            }
            "JUMP_IF_FALSE_OR_POP" | "JUMP_IF_TRUE_OR_POP" => {
                if let Some(next) = jump_to_conditional_jump(&mut code, i, opcode) {
                    nexti = next;
                } else {
                    replace_jump_to_jump(&mut code, i, op_start, opcode);
                }
            }
            "POP_JUMP_IF_FALSE" | "POP_JUMP_IF_TRUE" | "JUMP_FORWARD" | "JUMP_ABSOLUTE" => {
                replace_jump_to_jump(&mut code, i, op_start, opcode);
            }
            // Unreachable instructions after a return, up to the block's end.
            "RETURN_VALUE" => {
                let mut h = i + 1;
                while h < codelen && basic(i, h) {
                    if matches!(code.opcode(h), "SETUP_FINALLY" | "RERAISE") {
                        while h > i + 1 && code.opcode(h - 1) == "EXTENDED_ARG" {
                            h -= 1;
                        }
                        break;
                    }
                    h += 1;
                }
                if h > i + 1 {
                    code.fill_nops(i + 1, h);
                    nexti = code.find_op(h);
                }
            }
            _ => {}
        }
        i = nexti;
    }
    Ok(remove_nops(&code, &lnotab))
}

/// `x: JUMP_IF_FALSE_OR_POP y` where `y` is a conditional jump: to `y`'s target when both
/// jump on the same truth, else past `y` popping (`POP_JUMP_IF_*`). The instruction's index
/// after the rewrite, or `None` to fall through to [`replace_jump_to_jump`].
fn jump_to_conditional_jump(code: &mut Code, i: usize, opcode: &'static str) -> Option<usize> {
    let tgt = code.find_op(code.get_arg(i) as usize / 2);
    let j = code.opcode(tgt);
    if !conditional_jump(j) {
        return None;
    }
    let (h, op) = if jumps_on_true(j) == jumps_on_true(opcode) {
        (code.set_arg(i, code.get_arg(tgt)), opcode)
    } else {
        let op = if opcode == "JUMP_IF_TRUE_OR_POP" {
            "POP_JUMP_IF_TRUE"
        } else {
            "POP_JUMP_IF_FALSE"
        };
        (code.set_arg(i, 2 * (tgt as u32 + 1)), op)
    };
    let h = h?;
    code.units[h].op = op;
    Some(h)
}

/// A jump to a `RETURN_VALUE` is the return (unconditional ones); a jump to an unconditional
/// jump goes to its target (a `JUMP_FORWARD` becomes `JUMP_ABSOLUTE`; no relative jump
/// backwards).
fn replace_jump_to_jump(code: &mut Code, i: usize, op_start: usize, mut opcode: &'static str) {
    let tgt = code.find_op(code.jump_target(i));
    if unconditional_jump(opcode) && code.opcode(tgt) == "RETURN_VALUE" {
        code.units[op_start] = CodeUnit {
            op: "RETURN_VALUE",
            arg: 0,
        };
        code.fill_nops(op_start + 1, i + 1);
    } else if unconditional_jump(code.opcode(tgt)) {
        let mut arg = code.jump_target(tgt);
        if opcode == "JUMP_FORWARD" {
            opcode = "JUMP_ABSOLUTE";
        } else if !absolute_jump(opcode) {
            if arg < i + 1 {
                return;
            }
            arg -= i + 1;
        }
        code.copy_op_arg(op_start, opcode, 2 * arg as u32, i + 1);
    }
}

/// `fold_tuple_on_constants`: `LOAD_CONST c1 ... LOAD_CONST cn BUILD_TUPLE n` in
/// `[c_start, opcode_end)` is one `LOAD_CONST` of the new tuple, appended to `co_consts`.
fn fold_tuple_on_constants(
    code: &mut Code,
    c_start: usize,
    opcode_end: usize,
    n: u32,
    consts: &mut impl ConstList,
) -> Result<(), RunError> {
    let mut items = Vec::new();
    let mut pos = c_start;
    for _ in 0..n {
        pos = code.find_op(pos);
        items.push(code.get_arg(pos));
        pos += 1;
    }
    let index = consts.append_tuple(&items)?;
    code.copy_op_arg(c_start, "LOAD_CONST", index, opcode_end);
    Ok(())
}

/// "Fixup lnotab" and "Remove NOPs and fixup jump targets": each code unit's new index,
/// the entries moved with it, the jumps retargeted in their own sizes.
fn remove_nops(code: &Code, lnotab: &[(usize, u32)]) -> Option<(Code, Lnotab)> {
    let mut new_index = Vec::with_capacity(code.units.len());
    let mut nops = 0;
    for (i, u) in code.units.iter().enumerate() {
        new_index.push(i - nops);
        if u.op == "NOP" {
            nops += 1;
        }
    }
    let lnotab = lnotab.iter().map(|&(at, l)| (new_index[at], l)).collect();
    let mut out = Code { units: Vec::new() };
    let mut i = 0;
    while i < code.units.len() {
        let op_start = i;
        let mut j = code.units[i].arg;
        while code.opcode(i) == "EXTENDED_ARG" {
            i += 1;
            j = j << 8 | code.units[i].arg;
        }
        let opcode = code.opcode(i);
        if opcode == "NOP" {
            i += 1;
            continue;
        }
        if absolute_jump(opcode) {
            j = 2 * new_index[j as usize / 2] as u32;
        } else if relative_jump(opcode) {
            j = 2 * (new_index[j as usize / 2 + i + 1] - new_index[i] - 1) as u32;
        }
        let ilen = i - op_start + 1;
        if instrsize(j) > ilen || ilen > 4 {
            return None;
        }
        let at = out.units.len();
        out.units.resize(at + ilen, CodeUnit { op: "NOP", arg: 0 });
        out.write_op_arg(at, opcode, j, ilen);
        i += 1;
    }
    Some((out, lnotab))
}

/// The instructions of the code units, their jumps' targets by index and each one's line
/// (`PyCode_Addr2Line` of its offset).
fn decode(code: &Code, lnotab: &[(usize, u32)], firstlineno: u32) -> Vec<Instr> {
    let mut starts = Vec::new();
    let mut instrs = Vec::new();
    let mut i = 0;
    let mut entries = lnotab.iter().peekable();
    let mut line = firstlineno;
    while i < code.units.len() {
        let op_start = i;
        i = code.find_op(i);
        while let Some(&(_, l)) = entries.next_if(|&&(at, _)| at <= op_start) {
            line = l;
        }
        starts.push(op_start);
        instrs.push(Instr {
            name: code.opcode(i),
            op: Op::of(code.opcode(i)),
            arg: code.get_arg(i),
            extended_args: (i - op_start) as u32,
            line: Some(line),
            // co_lnotab has lines only.
            span: Span::NONE,
            target: (absolute_jump(code.opcode(i)) || relative_jump(code.opcode(i)))
                .then(|| code.jump_target(i)),
            handler: None,
        });
        i += 1;
    }
    for instr in &mut instrs {
        if let Some(t) = instr.target {
            instr.target = Some(starts.partition_point(|&s| s < t));
        }
    }
    instrs
}
