//! `Lib/dis.py`: the listing `dis.dis(code)` prints, column for column (3.9's, 3.10's, 3.11's
//! and 3.12's format, which differ only in the arguments they describe — 3.9's leaves absolute
//! jumps undescribed; 3.13's, with labels for
//! jump targets and no offsets, in [`listing_3_13`]).

use std::fmt::Write;

use objects::Objects;

use crate::compile::{Compiled, Const, Handler, Instr, is_absolute_jump};
use crate::error::RunError;
use crate::opcode::OpcodeTable;

/// `MAKE_FUNCTION_FLAGS`.
const MAKE_FUNCTION_FLAGS: [&str; 4] = ["defaults", "kwdefaults", "annotations", "closure"];
/// `cmp_op`: `COMPARE_OP`'s argument.
const CMP_OP: [&str; 6] = ["<", "<=", "==", "!=", ">", ">="];
/// `_nb_ops`: `BINARY_OP`'s argument, the operators then their in-place forms.
pub(crate) const NB_OPS: [&str; 26] = [
    "+", "&", "//", "<<", "@", "*", "%", "|", "**", ">>", "-", "/", "^", "+=", "&=", "//=", "<<=",
    "@=", "*=", "%=", "|=", "**=", ">>=", "-=", "/=", "^=",
];
/// `_intrinsic_1_descs` (3.12): `CALL_INTRINSIC_1`'s argument.
const INTRINSIC_1: [&str; 11] = [
    "INTRINSIC_1_INVALID",
    "INTRINSIC_PRINT",
    "INTRINSIC_IMPORT_STAR",
    "INTRINSIC_STOPITERATION_ERROR",
    "INTRINSIC_ASYNC_GEN_WRAP",
    "INTRINSIC_UNARY_POSITIVE",
    "INTRINSIC_LIST_TO_TUPLE",
    "INTRINSIC_TYPEVAR",
    "INTRINSIC_PARAMSPEC",
    "INTRINSIC_TYPEVARTUPLE",
    "INTRINSIC_SUBSCRIPT_GENERIC",
];
/// `HAVE_ARGUMENT`: instructions below it print no argument (up to 3.12).
const HAVE_ARGUMENT: u16 = 90;
/// 3.13's `HAVE_ARGUMENT`: the opcodes were renumbered, those without an argument first.
const HAVE_ARGUMENT_3_13: u16 = 44;
/// 3.13's `_NO_LINENO`: the line column of an instruction that starts a run without a line.
const NO_LINENO: &str = "  --";

/// The byte offset of each instruction, and the total size.
pub fn offsets(table: OpcodeTable, instrs: &[Instr]) -> (Vec<u32>, u32) {
    let mut at = 0;
    let mut out = Vec::with_capacity(instrs.len());
    for i in instrs {
        out.push(at);
        at += 2 * (1 + u32::from(table.caches(i.name)) + i.extended_args);
    }
    (out, at)
}

/// `dis.dis` of a compiled module whose code objects exist (`codes[i]` is unit `i`'s address).
pub fn dis(o: &mut Objects, compiled: &Compiled, codes: &[u64]) -> Result<String, RunError> {
    let mut out = String::new();
    let mut todo = vec![0usize];
    let mut first = true;
    while let Some(u) = todo.pop() {
        if !first {
            writeln!(out, "\nDisassembly of {}:", o.repr(codes[u])?).expect("a String");
        }
        first = false;
        out.push_str(&listing(o, compiled, codes, u)?);
        // Nested code objects follow, in the order of co_consts.
        let mut nested: Vec<usize> = compiled.units[u]
            .consts
            .iter()
            .filter_map(|c| match c {
                Const::Code(i) => Some(*i),
                Const::Object(_) => None,
            })
            .collect();
        nested.reverse();
        todo.extend(nested);
    }
    Ok(out)
}

/// Each code unit's instructions with their `co_positions`, in `dis.dis`'s order of code
/// objects: a line `co_qualname:`, then `OPNAME lineno end_lineno col_offset end_col_offset`
/// per instruction (`None` where the location table has nothing), as
/// `tests/fixtures/positions_fixture.py` prints them from `dis.get_instructions`.
pub fn positions(compiled: &Compiled) -> String {
    let mut out = String::new();
    let mut todo = vec![0usize];
    while let Some(u) = todo.pop() {
        let unit = &compiled.units[u];
        writeln!(out, "{}:", unit.qualname).expect("a String");
        for i in &unit.instrs {
            let [line, end_line, col, end_col] = i
                .positions()
                .map(|p| p.map_or("None".into(), |v| v.to_string()));
            writeln!(out, "  {} {line} {end_line} {col} {end_col}", i.name).expect("a String");
        }
        let mut nested: Vec<usize> = (unit.consts.iter())
            .filter_map(|c| match c {
                Const::Code(i) => Some(*i),
                Const::Object(_) => None,
            })
            .collect();
        nested.reverse();
        todo.extend(nested);
    }
    out
}

/// `_disassemble_bytes` of one code unit.
fn listing(
    o: &mut Objects,
    compiled: &Compiled,
    codes: &[u64],
    u: usize,
) -> Result<String, RunError> {
    let table = OpcodeTable::of(o.layout().minor);
    if table.minor() >= 13 {
        return listing_3_13(o, table, compiled, codes, u);
    }
    let unit = &compiled.units[u];
    let (offsets, total) = offsets(table, &unit.instrs);
    let maxline = unit.instrs.iter().filter_map(|i| i.line).max().unwrap_or(0);
    let lineno_width = if maxline >= 1000 {
        maxline.to_string().len()
    } else {
        3
    };
    let offset_width = if total.saturating_sub(2) >= 10000 {
        (total - 2).to_string().len()
    } else {
        4
    };
    // Jump targets and exception handlers are labelled.
    let labels: Vec<usize> = unit
        .instrs
        .iter()
        .filter_map(|i| i.target)
        .chain(
            unit.instrs
                .iter()
                .filter_map(|i| i.handler.map(|h| h.target)),
        )
        .collect();
    let mut out = String::new();
    let mut last_line = None;
    for (k, i) in unit.instrs.iter().enumerate() {
        // findlinestarts: an instruction without a line starts none.
        let starts = i.line.is_some() && last_line != i.line;
        if starts && k > 0 {
            out.push('\n');
        }
        if i.line.is_some() {
            last_line = i.line;
        }
        // The line and the label belong to the first row.
        let rows = with_extended_args(i);
        for (r, &(name, arg)) in rows.iter().enumerate() {
            let first = r == 0;
            let mut fields = Vec::new();
            fields.push(if starts && first {
                format!("{:>lineno_width$}", i.line.unwrap_or(0))
            } else {
                " ".repeat(lineno_width)
            });
            fields.push("   ".into());
            fields.push(
                if first && labels.contains(&k) {
                    ">>"
                } else {
                    "  "
                }
                .into(),
            );
            fields.push(format!("{:>offset_width$}", offsets[k] + 2 * r as u32));
            fields.push(format!("{name:<20}"));
            let has_arg = table.number(name).is_some_and(|n| n >= HAVE_ARGUMENT);
            if has_arg {
                fields.push(format!("{arg:>5}"));
                let argrepr = match (name, i.target) {
                    ("EXTENDED_ARG", _) => String::new(),
                    // 3.9's dis describes the relative jumps only (`hasjrel`).
                    (_, Some(_)) if table.minor() <= 9 && is_absolute_jump(name) => String::new(),
                    (_, Some(t)) => format!("to {}", offsets[t]),
                    _ => argrepr(o, table, compiled, codes, u, i)?,
                };
                if !argrepr.is_empty() {
                    fields.push(format!("({argrepr})"));
                }
            }
            let line = fields.join(" ");
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    // The exception table, as 3.11's and 3.12's dis print it: the last code unit's offset.
    let entries = exception_entries(&unit.instrs, &offsets, total);
    if !entries.is_empty() {
        out.push_str("ExceptionTable:\n");
        for e in entries {
            let (start, end, target, depth) = (e.start, e.end - 2, e.target, e.depth);
            let lasti = e.lasti_suffix();
            writeln!(out, "  {start} to {end} -> {target} [{depth}]{lasti}").expect("a String");
        }
    }
    Ok(out)
}

/// 3.13's `_disassemble_bytes`: `findlinestarts` (a run of instructions without a line
/// starts one too, shown as `--`), the labels `_make_labels_map` gives the jump targets and
/// the exception table's offsets in order, and `Formatter.print_instruction_line`'s columns
/// (line, label, the current-instruction marker, name, argument, its description).
fn listing_3_13(
    o: &mut Objects,
    table: OpcodeTable,
    compiled: &Compiled,
    codes: &[u64],
    u: usize,
) -> Result<String, RunError> {
    let unit = &compiled.units[u];
    let (offsets, total) = offsets(table, &unit.instrs);
    let entries = exception_entries(&unit.instrs, &offsets, total);
    // findlinestarts: where co_lines' line changes (None is a line too).
    let mut starts = Vec::with_capacity(unit.instrs.len());
    let mut last: Option<Option<u32>> = None;
    for i in &unit.instrs {
        starts.push(last != Some(i.line));
        last = Some(i.line);
    }
    // _get_lineno_width.
    let started: Vec<Option<u32>> = unit
        .instrs
        .iter()
        .zip(&starts)
        .filter(|(_, s)| **s)
        .map(|(i, _)| i.line)
        .collect();
    let maxline = started.iter().flatten().filter(|&&l| l != 0).max();
    let mut lineno_width = maxline.map_or(2, |l| l.to_string().len()).max(3);
    if lineno_width < NO_LINENO.len() && started.contains(&None) {
        lineno_width = NO_LINENO.len();
    }
    // _make_labels_map.
    let mut labelled: Vec<u32> = unit
        .instrs
        .iter()
        .filter_map(|i| i.target.map(|t| offsets[t]))
        .chain(entries.iter().flat_map(|e| [e.start, e.end, e.target]))
        .collect();
    labelled.sort_unstable();
    labelled.dedup();
    let label_of = |offset: u32| labelled.binary_search(&offset).ok().map(|k| k + 1);
    let label_width = 4 + labelled.len().to_string().len();
    let mut out = String::new();
    for (k, i) in unit.instrs.iter().enumerate() {
        let rows = with_extended_args(i);
        for (r, &(name, arg)) in rows.iter().enumerate() {
            let offset = offsets[k] + 2 * r as u32;
            let starts_line = starts[k] && r == 0;
            if starts_line && offset > 0 {
                out.push('\n');
            }
            let mut fields = Vec::new();
            fields.push(match (starts_line, i.line) {
                (true, Some(l)) => format!("{l:>lineno_width$}"),
                (true, None) => format!("{NO_LINENO:>lineno_width$}"),
                (false, _) => " ".repeat(lineno_width),
            });
            fields.push(match label_of(offset) {
                Some(n) => format!("{:>label_width$}", format!("L{n}:")),
                None => " ".repeat(label_width),
            });
            fields.push("   ".into());
            fields.push(format!("{name:<20}"));
            if table.number(name).is_some_and(|n| n >= HAVE_ARGUMENT_3_13) {
                let excess = name.len().saturating_sub(20);
                fields.push(format!("{arg:>w$}", w = 5usize.saturating_sub(excess)));
                let argrepr = match (name, i.target) {
                    ("EXTENDED_ARG", _) => String::new(),
                    (_, Some(t)) => format!("to L{}", label_of(offsets[t]).unwrap_or(0)),
                    _ => argrepr(o, table, compiled, codes, u, i)?,
                };
                if !argrepr.is_empty() {
                    fields.push(format!("({argrepr})"));
                }
            }
            out.push_str(fields.join(" ").trim_end());
            out.push('\n');
        }
    }
    if !entries.is_empty() {
        out.push_str("ExceptionTable:\n");
        for e in &entries {
            let l = |offset: u32| label_of(offset).unwrap_or(0);
            let (start, end, target) = (l(e.start), l(e.end), l(e.target));
            let (depth, lasti) = (e.depth, e.lasti_suffix());
            writeln!(out, "  L{start} to L{end} -> L{target} [{depth}]{lasti}").expect("a String");
        }
    }
    Ok(out)
}

/// One entry of the exception table (`assemble_exception_table`, read back by
/// `dis._parse_exception_table`): a run of instructions with the same handler.
struct ExceptionEntry {
    /// The run's first offset.
    start: u32,
    /// The offset after it.
    end: u32,
    /// The handler's offset.
    target: u32,
    /// The stack depth the handler starts from.
    depth: u32,
    /// Whether the offset of the instruction that raised is pushed too.
    lasti: bool,
}

impl ExceptionEntry {
    /// What `dis` prints after the depth.
    fn lasti_suffix(&self) -> &'static str {
        if self.lasti { " lasti" } else { "" }
    }
}

/// The exception table (3.11+): each run of instructions with the same handler.
fn exception_entries(instrs: &[Instr], offsets: &[u32], total: u32) -> Vec<ExceptionEntry> {
    let mut entries = Vec::new();
    let mut run: Option<(u32, Handler)> = None;
    let entry = |start: u32, end: u32, h: Handler| ExceptionEntry {
        start,
        end,
        target: offsets[h.target],
        depth: h.depth,
        lasti: h.lasti,
    };
    for (k, i) in instrs.iter().enumerate() {
        let here = i.handler;
        if run.map(|(_, h)| h) != here {
            if let Some((start, h)) = run.take() {
                entries.push(entry(start, offsets[k], h));
            }
            run = here.map(|h| (offsets[k], h));
        }
    }
    if let Some((start, h)) = run {
        entries.push(entry(start, total, h));
    }
    entries
}

/// `_get_instructions_bytes`'s argument description.
fn argrepr(
    o: &mut Objects,
    table: OpcodeTable,
    compiled: &Compiled,
    codes: &[u64],
    u: usize,
    i: &Instr,
) -> Result<String, RunError> {
    let unit = &compiled.units[u];
    let name =
        |ops: &[u64], k: u32| -> Result<String, RunError> { Ok(o.unicode_text(ops[k as usize])?) };
    Ok(match i.name {
        "LOAD_CONST" => match unit.consts[i.arg as usize] {
            Const::Object(op) => o.repr(op)?,
            Const::Code(c) => o.repr(codes[c])?,
        },
        "LOAD_ATTR" | "LOAD_GLOBAL" if table.minor() >= 13 => {
            let n = name(&unit.names, i.arg >> 1)?;
            match (i.arg & 1, i.name) {
                (0, _) => n,
                (_, "LOAD_GLOBAL") => format!("{n} + NULL"),
                _ => format!("{n} + NULL|self"),
            }
        }
        "LOAD_FAST_LOAD_FAST" | "STORE_FAST_LOAD_FAST" | "STORE_FAST_STORE_FAST" => {
            let first = name(&unit.varnames, i.arg >> 4)?;
            let second = name(&unit.varnames, i.arg & 15)?;
            format!("{first}, {second}")
        }
        "COMPARE_OP" if table.minor() >= 13 => {
            let op = CMP_OP[(i.arg >> 5) as usize];
            if i.arg & 16 != 0 {
                format!("bool({op})")
            } else {
                op.into()
            }
        }
        "CONVERT_VALUE" => ["", "str", "repr", "ascii"][(i.arg & 3) as usize].into(),
        "LOAD_ATTR" if table.minor() >= 12 => {
            let n = name(&unit.names, i.arg >> 1)?;
            if i.arg & 1 == 1 {
                format!("NULL|self + {n}")
            } else {
                n
            }
        }
        "RETURN_CONST" | "KW_NAMES" if i.name == "RETURN_CONST" || table.minor() >= 12 => {
            match unit.consts[i.arg as usize] {
                Const::Object(op) => o.repr(op)?,
                Const::Code(c) => o.repr(codes[c])?,
            }
        }
        "CALL_INTRINSIC_1" => INTRINSIC_1
            .get(i.arg as usize)
            .copied()
            .unwrap_or("")
            .into(),
        "COMPARE_OP" if table.minor() >= 12 => CMP_OP[(i.arg >> 4) as usize].into(),
        "LOAD_NAME" | "STORE_NAME" | "IMPORT_NAME" | "IMPORT_FROM" | "LOAD_ATTR"
        | "LOAD_METHOD" | "STORE_GLOBAL" | "DELETE_NAME" | "DELETE_GLOBAL" | "STORE_ATTR"
        | "DELETE_ATTR" => name(&unit.names, i.arg)?,
        "LOAD_GLOBAL" if table.minor() <= 10 => name(&unit.names, i.arg)?,
        "LOAD_GLOBAL" => {
            let n = name(&unit.names, i.arg >> 1)?;
            if i.arg & 1 == 1 {
                format!("NULL + {n}")
            } else {
                n
            }
        }
        // 3.10's hasfree: `cell_names = co_cellvars + co_freevars`, after the locals here.
        "LOAD_DEREF" | "STORE_DEREF" | "DELETE_DEREF" | "LOAD_CLOSURE" if table.minor() <= 10 => {
            name(&unit.varnames, unit.nlocals + i.arg)?
        }
        "LOAD_FAST"
        | "LOAD_FAST_CHECK"
        | "LOAD_FAST_AND_CLEAR"
        | "STORE_FAST"
        | "DELETE_FAST"
        | "LOAD_DEREF"
        | "STORE_DEREF"
        | "DELETE_DEREF"
        | "LOAD_CLOSURE"
        | "MAKE_CELL" => name(&unit.varnames, i.arg)?,
        "COMPARE_OP" => CMP_OP[i.arg as usize].into(),
        "FORMAT_VALUE" => {
            let conv = ["", "str", "repr", "ascii"][(i.arg & 3) as usize];
            match (conv, i.arg & 4 != 0) {
                (c, false) => c.to_string(),
                ("", true) => "with format".to_string(),
                (c, true) => format!("{c}, with format"),
            }
        }
        "BINARY_OP" => NB_OPS[i.arg as usize].into(),
        "MAKE_FUNCTION" | "SET_FUNCTION_ATTRIBUTE" => MAKE_FUNCTION_FLAGS
            .iter()
            .enumerate()
            .filter(|(k, _)| i.arg & (1 << k) != 0)
            .map(|(_, s)| *s)
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    })
}

/// An instruction as `dis` lists it: an argument above 255 is preceded by `EXTENDED_ARG`s,
/// each shown with the argument so far.
fn with_extended_args(i: &Instr) -> Vec<(&'static str, u32)> {
    let extended = i.extended_args;
    let mut rows: Vec<(&'static str, u32)> = (0..extended)
        .map(|j| ("EXTENDED_ARG", i.arg >> (8 * (extended - j))))
        .collect();
    rows.push((i.name, i.arg));
    rows
}
