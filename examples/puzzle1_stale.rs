//! The blog's first puzzle on the model: a list read through the id of a list that is dead.
//!
//! 1. The blog's program (`examples/python/blog/stale_list.py`), the four experiments that
//!    make each of CPython's outcomes of the stale read (`examples/python/puzzle1_*.py`), run on
//!    the model for 3.10 to 3.13, and `puzzle1_exit.py`: what each prints, and how it ends.
//! 2. A list deallocated twice (`puzzle1_same_object.py`): the trace of its list events, one
//!    address twice on the list free list, then two new lists that are the same object.
//! 3. Exit on the model. `puzzle1_null.py` ends cleanly, as on CPython: while the stale list is
//!    printed, `sys.stdout`'s pending pieces become a list (`PyList_New(2)`), which takes the
//!    stale list off the list free list, and the flush deallocates it; the stale list is on the
//!    free list once when the script ends. `puzzle1_exit.py`, the same heap after a print whose
//!    pieces are still pending, crashes at exit on CPython and on the model for the same
//!    reason: no list is made during the stale read, the list is on the free list twice, and
//!    the final clear of the free lists frees it twice.
//! 4. to 6. The heap at the moment of the stale read, drawn as a mermaid flowchart from the
//!    model's memory: the stale list, its freed item buffer and what its first word points at,
//!    the list free list and the free list of the buffer's pool.
//! 7. The blog's wild address on the model.
use std::fmt::Write;

use objects::{Objects, TypeId};
use pymalloc::{Location, Profile};
use python::refs::{Event, Inspector};
use python::{Interp, Trace};

type Res = Result<(), Box<dyn std::error::Error>>;

fn main() -> Res {
    let mut out = String::new();
    run(&mut out)?;
    print!("{out}");
    Ok(())
}

/// The walk through the puzzle, written into `out`.
pub fn run(out: &mut String) -> Res {
    the_outcomes(out)?;
    one_object_twice(out)?;
    the_exits(out)?;
    for (n, program) in [
        (4, "puzzle1_link"),
        (5, "puzzle1_null"),
        (6, "puzzle1_buffer_reuse"),
    ] {
        the_heap_drawn(out, n, program)?;
    }
    the_wild_address(out)?;
    Ok(())
}

/// The versions the model runs these programs on.
const VERSIONS: [Profile; 4] = [
    Profile::CPYTHON_3_10,
    Profile::CPYTHON_3_11,
    Profile::CPYTHON_3_12,
    Profile::CPYTHON_3_13,
];

/// The source of `examples/python/NAME.py`, and its path.
fn program(name: &str) -> Result<(String, String), std::io::Error> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = format!("examples/python/{name}.py");
    Ok((std::fs::read_to_string(root.join(&path))?, path))
}

// ANCHOR: outcomes
/// What the program printed, then how it ended: as a shell reports a status, and the model's
/// message on standard error.
fn outcome(profile: Profile, name: &str) -> Result<String, Box<dyn std::error::Error>> {
    let (source, path) = program(name)?;
    let run = python::run_source(profile, &source, &path)?;
    let mut text = run.stdout.lines().collect::<Vec<_>>().join(" / ");
    if text.is_empty() {
        text.push_str("(nothing printed)");
    }
    match run.error {
        None => text.push_str("  [exit status 0]"),
        Some(e) => write!(text, "  [exit status {}] {e}", e.exit_status())?,
    }
    Ok(text)
}
// ANCHOR_END: outcomes

fn the_outcomes(out: &mut String) -> Res {
    writeln!(out, "== 1. The stale reads on the model ==\n")?;
    for name in [
        "blog/stale_list",
        "puzzle1_repr_list",
        "puzzle1_buffer_reuse",
        "puzzle1_null",
        "puzzle1_link",
        "puzzle1_exit",
    ] {
        writeln!(out, "{name}.py")?;
        for profile in VERSIONS {
            let (_, minor) = profile.version();
            writeln!(out, "  3.{minor}  {}", outcome(profile, name)?)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The trace of `name` on 3.11, and how the run ended.
fn traced(name: &str) -> Result<python::RunOutput, Box<dyn std::error::Error>> {
    let (source, path) = program(name)?;
    Ok(python::run_source_traced(
        Profile::CPYTHON_3_11,
        &source,
        &path,
        Trace::Lines,
    )?)
}

/// Whether a trace line is a source line, or what a list did.
fn about_lists(line: &str) -> bool {
    !line.starts_with(' ') || line.contains("list at") || line.starts_with("    > ")
}

fn one_object_twice(out: &mut String) -> Res {
    writeln!(
        out,
        "== 2. A list deallocated twice: puzzle1_same_object.py on 3.11, its lists ==\n"
    )?;
    let run = traced("puzzle1_same_object")?;
    let from = run
        .trace
        .find("puzzle1_same_object.py:22")
        .ok_or("no line 22")?;
    let to = run.trace.find("(end)").ok_or("no end")?;
    for line in run.trace[from..to].lines().filter(|l| about_lists(l)) {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    Ok(())
}

/// The trace of each program on 3.11 from the stale read to its end, and how it ended.
fn the_exits(out: &mut String) -> Res {
    writeln!(
        out,
        "== 3. Exit on 3.11: from the stale read to the end of the run ==\n"
    )?;
    for name in ["puzzle1_null", "puzzle1_exit"] {
        writeln!(out, "-- {name}.py --")?;
        let run = traced(name)?;
        let read = run
            .trace
            .rfind("  print(ctypes.cast")
            .ok_or("no stale read")?;
        let read = run.trace[..read].rfind('\n').map_or(0, |i| i + 1);
        let exit = run.trace.find("(exit)").ok_or("no exit")?;
        for l in run.trace[read..exit].lines().filter(|l| about_lists(l)) {
            writeln!(out, "{l}")?;
        }
        writeln!(out, "{}", &run.trace[exit..].trim_end())?;
        match run.error {
            None => writeln!(out, "[exit status 0]\n")?,
            Some(e) => writeln!(out, "[exit status {}] {e}\n", e.exit_status())?,
        }
    }
    Ok(())
}

// ANCHOR: inspector
/// Stops the run at the stale read (a `print` whose argument is a list on the list free list)
/// and draws the heap there.
#[derive(Default)]
struct StaleRead {
    chart: Option<Result<String, String>>,
}

impl Inspector for StaleRead {
    fn inspect(&mut self, interp: &Interp, event: &Event<'_>) {
        let Event::BuiltinCall {
            name: "print",
            args,
            ..
        } = event
        else {
            return;
        };
        let o = &interp.o;
        if let Some(&list) = args.iter().find(|a| o.list_free_list().contains(a)) {
            self.chart = Some(heap_chart(o, list).map_err(|e| e.to_string()));
        }
    }
}
// ANCHOR_END: inspector

/// At most this many links of the pool's free list are followed.
const LINKS_SHOWN: usize = 4;

/// The mermaid flowchart of the stale `list`, its item buffer, the list free list and the free
/// list of the buffer's pool, read from the model's memory as C would read it.
fn heap_chart(o: &Objects, list: u64) -> Result<String, Box<dyn std::error::Error>> {
    let mut c = String::from("flowchart TB\n");
    let size = o.read_word(list + 16)?;
    let items = o.read_word(list + 24)?;
    let refcnt = o.read_word(list)?;
    writeln!(
        c,
        "    stale[\"the stale list {list:#x}<br>ob_refcnt {refcnt}, ob_size {size}\"]"
    )?;
    // The list free list, from the entry handed out next.
    let free = o.list_free_list();
    writeln!(
        c,
        "    freelist[\"list free list<br>numfree {}\"]",
        free.len()
    )?;
    for (i, &entry) in free.iter().enumerate().rev().take(3) {
        if entry == list {
            writeln!(c, "    freelist -->|\"free_list[{i}]\"| stale")?;
        } else {
            writeln!(c, "    fl{i}[\"list {entry:#x}\"]")?;
            writeln!(c, "    freelist -->|\"free_list[{i}]\"| fl{i}")?;
        }
    }
    // The item buffer: a freed block, whose first word (item 0) is pymalloc's link.
    let Location::FreeBlock { block, link } = o.allocator().what_is_at(items)? else {
        return Err(format!("the buffer {items:#x} is not a free block").into());
    };
    writeln!(
        c,
        "    buffer[\"item buffer {items:#x}<br>a free block of {} bytes\"]",
        block.size
    )?;
    writeln!(c, "    stale -->|ob_item| buffer")?;
    writeln!(c, "    {}", block_node(o, "item0", link)?)?;
    writeln!(c, "    buffer -->|\"item 0: {link:#x}\"| item0")?;
    // The pool's free list, from its head: the block the next request of this size gets.
    writeln!(
        c,
        "    pool[\"pool {:#x}<br>class {}, {} bytes\"]",
        block.pool, block.class, block.size
    )?;
    let mut from = "pool".to_string();
    let mut label = "freeblock".to_string();
    let mut at = o.allocator().read_word(block.pool + 8)?;
    for k in 0..LINKS_SHOWN {
        let id = match at {
            a if a == items => "buffer".to_string(),
            a if a == link => "item0".to_string(),
            0 => {
                writeln!(c, "    null{k}[\"NULL\"]")?;
                format!("null{k}")
            }
            a => {
                writeln!(c, "    {}", block_node(o, &format!("b{k}"), a)?)?;
                format!("b{k}")
            }
        };
        writeln!(c, "    {from} -.->|{label}| {id}")?;
        if at == 0 {
            break;
        }
        from = id;
        label = "link".into();
        at = o.allocator().read_word(at)?;
    }
    Ok(c)
}

/// A node for what lies at `addr`: NULL, or a free block with what its remains say.
fn block_node(o: &Objects, id: &str, addr: u64) -> Result<String, Box<dyn std::error::Error>> {
    if addr == 0 {
        return Ok(format!("{id}[\"NULL\"]"));
    }
    let remains = match o.type_of(addr) {
        // An int's one digit, at offset 24 on every version modelled.
        Ok(TypeId::Int) => format!(
            "remains of an int<br>ob_digit[0] {}",
            o.read_word(addr + 24)? & 0xffff_ffff
        ),
        Ok(ty) => format!("remains of a {ty}"),
        Err(_) => format!("type word {:#x}", o.read_word(addr + 8)?),
    };
    Ok(format!("{id}[\"block {addr:#x}<br>{remains}\"]"))
}

fn the_heap_drawn(out: &mut String, n: u32, name: &str) -> Res {
    writeln!(
        out,
        "== {n}. The heap at the stale read: {name}.py on 3.11 ==\n"
    )?;
    let (source, path) = program(name)?;
    let (_, seen) = python::pythonrun::run_source_with(
        Profile::CPYTHON_3_11,
        &source,
        &path,
        StaleRead::default(),
    )?;
    let chart = seen.chart.ok_or("no stale read")??;
    writeln!(out, "{chart}")?;
    Ok(())
}

fn the_wild_address(out: &mut String) -> Res {
    writeln!(out, "== 7. The wild address: blog/wild_address.py ==\n")?;
    for profile in VERSIONS {
        let (_, minor) = profile.version();
        writeln!(
            out,
            "  3.{minor}  {}",
            outcome(profile, "blog/wild_address")?
        )?;
    }
    Ok(())
}
