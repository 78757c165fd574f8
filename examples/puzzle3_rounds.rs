//! The blog's third puzzle on the model: memory that grows round by round.
//!
//! Runs the blog's second memory program at 10**5 and 10**6 strs a round
//! (`examples/python/puzzle3_strs_5.py`, `puzzle3_strs_6.py`) on CPython 3.11's profile, and stops
//! at each call of `psutil.Process().memory_info()` (the model's psutil reads the simulated
//! address space through `_model.memory_info`). At the first call of each printed line it reads
//! the model's memory: the arenas pymalloc has mapped, the chunks glibc mapped on their own (each
//! list's item buffer, once past the mmap threshold, and the arena map's nodes), RSS and VMS.
//! The rows are those of `examples/python/puzzle3_rounds.py` on CPython: the start, the line
//! after each round's append, the end.
//!
//! Last, the 10**5 program again after 30 lists were made and dropped: with the list free list
//! full before the first round, as CPython's start-up leaves it, the end gives back what the
//! plain run keeps.
//!
//! Every figure is read from the model's simulated memory, and the same on every run.
use std::fmt::Write;

use pymalloc::{Profile, RegionKind};
use python::Interp;
use python::refs::{self, Event};

type Res = Result<(), Box<dyn std::error::Error>>;

fn main() -> Res {
    let mut out = String::new();
    run(&mut out)?;
    print!("{out}");
    Ok(())
}

/// Both sizes, one table each.
pub fn run(out: &mut String) -> Res {
    for (section, n, program) in [(1, 5, "puzzle3_strs_5"), (2, 6, "puzzle3_strs_6")] {
        let rows = rounds(&format!("examples/python/{program}.py"), "")?;
        writeln!(out, "== {section}. {program}.py on 3.11")?;
        table(out, 10u64.pow(n), &rows)?;
    }
    free_list_filled_first(out)
}

// ANCHOR: free_list
/// Prepended to the program: 30 lists made and dropped, which leaves the list free list
/// holding them (up to `PyList_MAXFREELIST`, 80).
const FILL_THE_LIST_FREE_LIST: &str = "w = [[] for _ in range(30)]\ndel w\n";
// ANCHOR_END: free_list

fn free_list_filled_first(out: &mut String) -> Res {
    let path = "examples/python/puzzle3_strs_5.py";
    writeln!(out, "== 3. {path} on 3.11, the list free list filled first")?;
    let plain = rounds(path, "")?;
    let filled = rounds(path, FILL_THE_LIST_FREE_LIST)?;
    for (how, rows) in [
        ("as the blog wrote it", plain),
        ("free list filled", filled),
    ] {
        let (start, end) = (&rows[0].1, &rows[rows.len() - 1].1);
        writeln!(
            out,
            "{how:<21} free lists {:>2}, arenas at the start {}, at the end {}; rss + vms at the end {} above the start",
            start.free_lists,
            start.arenas,
            end.arenas,
            (end.rss + end.vms) as i64 - (start.rss + start.vms) as i64
        )?;
    }
    Ok(())
}

// ANCHOR: inspector
/// The model's memory at one call of `memory_info`.
#[derive(Clone, Debug)]
pub struct Memory {
    /// `# arenas allocated current`.
    pub arenas: u64,
    /// Lists on the list free list ("free PyListObjects").
    pub free_lists: usize,
    /// The lengths of the chunks glibc mapped on their own, largest first.
    pub mmapped_chunks: Vec<u64>,
    pub rss: u64,
    pub vms: u64,
}

/// Reads the model's memory at each call of `memory_info`, before the call.
#[derive(Default)]
struct MemoryInfoCalls {
    seen: Vec<Memory>,
}

impl refs::Inspector for MemoryInfoCalls {
    fn inspect(&mut self, interp: &Interp, event: &Event<'_>) {
        if let Event::BuiltinCall {
            name: "memory_info",
            ..
        } = event
        {
            self.seen.push(memory(interp));
        }
    }
}

fn memory(interp: &Interp) -> Memory {
    let a = interp.o.allocator();
    let mut mmapped_chunks: Vec<u64> = a
        .regions()
        .iter()
        .filter(|r| r.kind == RegionKind::Chunk)
        .map(|r| r.len)
        .collect();
    mmapped_chunks.sort_unstable_by(|x, y| y.cmp(x));
    Memory {
        arenas: a.stats().arenas_allocated_current,
        free_lists: interp.o.list_free_list().len(),
        mmapped_chunks,
        rss: a.rss(),
        vms: a.vms(),
    }
}
// ANCHOR_END: inspector

/// The rows of the program at `path`, run after `prelude`: (label, memory). Each printed line calls `memory_info`
/// twice (`rss + vms`): the line's figures are those at its first call. The lines are the
/// start, two a round (after the append, then in `memory_test_second`), and the end.
pub fn rounds(
    path: &str,
    prelude: &str,
) -> Result<Vec<(String, Memory)>, Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = prelude.to_owned() + &std::fs::read_to_string(root.join(path))?;
    let inspector = MemoryInfoCalls::default();
    let (run, calls) =
        python::pythonrun::run_source_with(Profile::CPYTHON_3_11, &source, path, inspector)?;
    if let Some(e) = run.error {
        return Err(format!("{path}: {e}").into());
    }
    let lines: Vec<&Memory> = calls.seen.iter().step_by(2).collect();
    if lines.len() != 22 {
        return Err(format!("{path}: {} lines measured, not 22", lines.len()).into());
    }
    let mut rows = vec![("start".to_string(), lines[0].clone())];
    for round in 0..10 {
        rows.push((format!("round-{round}"), lines[1 + 2 * round].clone()));
    }
    rows.push(("end".to_string(), lines[21].clone()));
    Ok(rows)
}

/// The rows as `puzzle3_rounds.py` prints CPython's (RSS and VMS as grown since the start), with
/// the mapped chunks instead of the newest list's item buffer.
fn table(out: &mut String, n: u64, rows: &[(String, Memory)]) -> std::fmt::Result {
    writeln!(
        out,
        "n = {n}; lists on the list free list at the start: {}",
        rows[0].1.free_lists
    )?;
    writeln!(
        out,
        "{:<8} {:>7} {:>14} {:>14} {:>12} {:>12}  mmapped chunks",
        "when", "arenas", "rss added", "vms added", "rss growth", "vms growth"
    )?;
    let signed = |m: &Memory| (m.rss as i64, m.vms as i64);
    let start = signed(&rows[0].1);
    let mut last = start;
    for (label, m) in rows {
        let now = signed(m);
        writeln!(
            out,
            "{label:<8} {:>7} {:>14} {:>14} {:>12} {:>12}  {}",
            m.arenas,
            now.0 - start.0,
            now.1 - start.1,
            now.0 - last.0,
            now.1 - last.1,
            chunks(&m.mmapped_chunks)
        )?;
        last = now;
    }
    writeln!(out)
}

/// `10 x 8450048, 262144`: the lengths, equal ones counted.
fn chunks(lens: &[u64]) -> String {
    let mut groups: Vec<(u64, usize)> = Vec::new();
    for &len in lens {
        match groups.last_mut() {
            Some((l, k)) if *l == len => *k += 1,
            _ => groups.push((len, 1)),
        }
    }
    let shown: Vec<String> = groups
        .iter()
        .map(|&(len, k)| match k {
            1 => len.to_string(),
            _ => format!("{k} x {len}"),
        })
        .collect();
    if shown.is_empty() {
        "-".into()
    } else {
        shown.join(", ")
    }
}
