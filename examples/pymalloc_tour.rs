//! A tour of pymalloc, on CPython 3.11's geometry (1 MiB arenas of 16 KiB pools).
//!
//! 1. Requests of several sizes: which size class, pool and arena each block lands in, and which
//!    requests pymalloc passes to glibc.
//! 2. The free list: freed blocks come back last in, first out, and a freed block's first word
//!    holds the link to the next free block, NULL when its pool was full.
//! 3. An arena filled and emptied, watched through the event trace: empty pools go back to their
//!    arena, a wholly free arena is unmapped, and the last one is kept.
//! 4. The report `sys._debugmallocstats()` would print for this process.
//!
//! Addresses are the model's, and the same on every run.
use std::fmt::Write;

use pymalloc::{Allocator, Event, Location, Profile};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = String::new();
    run(&mut out)?;
    print!("{out}");
    Ok(())
}

/// The tour, written into `out`.
pub fn run(out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let mut mem = Allocator::new(Profile::parse("3.11")?);
    where_blocks_go(&mut mem, out)?;
    free_lists(&mut mem, out)?;
    arenas_come_and_go(&mut mem, out)?;
    writeln!(out, "== 4. sys._debugmallocstats() ==\n")?;
    // ANCHOR: report
    out.push_str(&mem.debugmallocstats());
    // ANCHOR_END: report
    Ok(())
}

/// The name of `addr` among `names`, or "another block".
fn name(names: &[(u64, &'static str)], addr: u64) -> &'static str {
    names
        .iter()
        .find(|(a, _)| *a == addr)
        .map_or("another block", |(_, n)| n)
}

/// One line about what an address holds.
fn describe(mem: &Allocator, addr: u64) -> Result<String, pymalloc::MemError> {
    Ok(match mem.what_is_at(addr)? {
        Location::Block(b) => format!(
            "class {:>2} ({:>3} B)  block {:<3} of pool {:#x}, arena {}",
            b.class, b.size, b.index, b.pool, b.arena
        ),
        other => other.to_string(),
    })
}

fn where_blocks_go(
    mem: &mut Allocator,
    out: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    writeln!(out, "== 1. Where blocks go ==\n")?;
    // ANCHOR: sizes
    for nbytes in [1, 16, 17, 56, 100, 512, 513, 0] {
        let p = mem.object_malloc(nbytes)?;
        writeln!(out, "malloc({nbytes:>3}) -> {p:#x}  {}", describe(mem, p)?)?;
    }
    // ANCHOR_END: sizes
    Ok(())
}

fn free_lists(mem: &mut Allocator, out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    writeln!(out, "\n== 2. The free list ==\n")?;
    // ANCHOR: lifo
    let a = mem.object_malloc(56)?;
    let b = mem.object_malloc(56)?;
    let pool = a & !(Profile::CPYTHON_3_11.pool_size() - 1);
    writeln!(
        out,
        "a = {a:#x}, b = {b:#x}, pool freeblock = {:#x}",
        mem.read_word(pool + 8)?
    )?;
    let head = mem.read_word(pool + 8)?;
    let names = [(a, "a"), (b, "b"), (head, "the old head")];
    mem.object_free(a)?;
    let link = mem.read_word(a)?;
    writeln!(
        out,
        "free(a): a's first word = {link:#x} ({})",
        name(&names, link)
    )?;
    mem.object_free(b)?;
    let link = mem.read_word(b)?;
    writeln!(
        out,
        "free(b): b's first word = {link:#x} ({})",
        name(&names, link)
    )?;
    let head = mem.read_word(pool + 8)?;
    writeln!(out, "pool freeblock = {head:#x} ({})", name(&names, head))?;
    let first = mem.object_malloc(56)?;
    let second = mem.object_malloc(56)?;
    writeln!(
        out,
        "malloc(56) -> {first:#x} ({}), then {second:#x} ({})",
        name(&names, first),
        name(&names, second)
    )?;
    // ANCHOR_END: lifo

    // ANCHOR: null_link
    // Class 31 holds 31 blocks of 512 bytes per pool; part 1 took one. Fill the pool.
    let full: Vec<u64> = (0..30)
        .map(|_| mem.object_malloc(512))
        .collect::<Result<_, _>>()?;
    let pool = full[0] & !(Profile::CPYTHON_3_11.pool_size() - 1);
    writeln!(
        out,
        "\nclass 31 pool {pool:#x} full: freeblock = {:#x}",
        mem.read_word(pool + 8)?
    )?;
    mem.write_word(full[5], 0x4141_4141_4141_4141)?; // the object's first field
    mem.object_free(full[5])?;
    let link = mem.read_word(full[5])?;
    let null = if link == 0 { " (NULL)" } else { "" };
    writeln!(out, "free {:#x}: first word = {link:#x}{null}", full[5])?;
    mem.object_free(full[9])?;
    writeln!(
        out,
        "free {:#x}: first word = {:#x}",
        full[9],
        mem.read_word(full[9])?
    )?;
    writeln!(out, "{:#x} is now: {}", full[5], describe(mem, full[5])?)?;
    // ANCHOR_END: null_link
    Ok(())
}

fn arenas_come_and_go(
    mem: &mut Allocator,
    out: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    writeln!(out, "\n== 3. Arenas come and go ==\n")?;
    summary(mem, out, "before:")?;
    // ANCHOR: arenas
    mem.set_trace(true);
    // Two arenas' worth of 64-byte blocks: the rest of arena 0, all of arena 1, part of 2.
    let blocks: Vec<u64> = (0..2 * 63 * 255)
        .map(|_| mem.object_malloc(56))
        .collect::<Result<_, _>>()?;
    show_trace(mem, out, "allocating 32,130 blocks of 56 bytes")?;
    summary(mem, out, "filled:")?;
    for p in blocks {
        mem.object_free(p)?;
    }
    show_trace(mem, out, "freeing them all, oldest first")?;
    summary(mem, out, "emptied:")?;
    // ANCHOR_END: arenas
    Ok(())
}

/// Arena, pool and system events as they happened; pool events counted.
fn show_trace(mem: &mut Allocator, out: &mut String, what: &str) -> Result<(), std::fmt::Error> {
    writeln!(out, "trace of {what}:")?;
    let (mut inits, mut full, mut empty) = (0, 0, 0);
    for event in mem.take_trace() {
        match event {
            Event::PoolInit { .. } | Event::PoolReused { .. } => inits += 1,
            Event::PoolFull { .. } => full += 1,
            Event::PoolEmpty { .. } => empty += 1,
            Event::PoolUsed { .. } => {}
            other => writeln!(out, "  {other}")?,
        }
    }
    writeln!(
        out,
        "  ({inits} pools initialised, {full} filled, {empty} emptied)"
    )
}

fn summary(mem: &Allocator, out: &mut String, when: &str) -> Result<(), std::fmt::Error> {
    let s = mem.stats();
    writeln!(
        out,
        "{when:<8} {} arenas ({} ever, {} reclaimed), {} blocks in use, VMS {} KiB, RSS {} KiB\n",
        s.arenas_allocated_current,
        s.arenas_allocated_total,
        s.arenas_reclaimed,
        s.allocated_blocks,
        s.vms / 1024,
        s.rss / 1024
    )
}
