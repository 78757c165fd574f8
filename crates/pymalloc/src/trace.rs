//! The allocator at work: an optional log of the events a chapter wants to show.
//!
//! Off by default. When off, recording an event is one test of an `Option`, and events only
//! happen at the rare moments (a pool or an arena changes state, a system call), never per block.

use std::fmt;

/// Something the allocator or the simulated kernel did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `mmap` of `len` bytes at `address`.
    Mmap {
        /// Where the mapping starts.
        address: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// `munmap` of a whole mapping.
    Munmap {
        /// Where the mapping started.
        address: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// `mremap` of a mapping, which may have moved.
    Mremap {
        /// The old start.
        old: u64,
        /// The new start.
        new: u64,
        /// The old length.
        old_len: u64,
        /// The new length.
        new_len: u64,
    },
    /// The program break grew (`sbrk` with a positive increment).
    Brk {
        /// The break before.
        old: u64,
        /// The break after.
        new: u64,
    },
    /// glibc gave the top of the heap back (`sbrk` with a negative increment, from `systrim`).
    Trim {
        /// The break before.
        old: u64,
        /// The break after.
        new: u64,
    },
    /// The `arenas` vector of `arena_object`s was reallocated, from `from` to `to` entries.
    ArenaObjectsGrown {
        /// Entries before.
        from: usize,
        /// Entries after.
        to: usize,
        /// Where the vector now lives.
        address: u64,
    },
    /// `new_arena` mapped an arena for `arenas[index]`.
    ArenaNew {
        /// Index in `arenas`.
        index: usize,
        /// The arena's base address.
        address: u64,
    },
    /// All pools of the arena were free: it was unmapped.
    ArenaFreed {
        /// Index in `arenas`.
        index: usize,
        /// The arena's base address.
        address: u64,
    },
    /// All pools of the arena were free, but it was the last in `usable_arenas`: kept (3.9+).
    ArenaKept {
        /// Index in `arenas`.
        index: usize,
        /// The arena's base address.
        address: u64,
    },
    /// A pool's header was initialised for size class `class`.
    PoolInit {
        /// The pool's address.
        address: u64,
        /// Its size class.
        class: u32,
    },
    /// A free pool was taken again for the class it last had: its header and free list were
    /// still valid, so initialisation was skipped.
    PoolReused {
        /// The pool's address.
        address: u64,
        /// Its size class.
        class: u32,
    },
    /// A pool's last block was handed out: it left `usedpools`.
    PoolFull {
        /// The pool's address.
        address: u64,
        /// Its size class.
        class: u32,
    },
    /// A block of a full pool was freed: the pool went back into `usedpools`.
    PoolUsed {
        /// The pool's address.
        address: u64,
        /// Its size class.
        class: u32,
    },
    /// A block that was already free was freed again (`pymalloc_free` cannot tell): it is on
    /// its pool's free list once more, linked to `link`, itself when it was the head.
    FreedAgain {
        /// The block.
        address: u64,
        /// The link written into its first word.
        link: u64,
    },
    /// A pool's last allocated block was freed: it went to its arena's `freepools`.
    PoolEmpty {
        /// The pool's address.
        address: u64,
        /// The size class it had.
        class: u32,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Event::Mmap { address, len } => write!(f, "mmap      {address:#x} {len} bytes"),
            Event::Munmap { address, len } => write!(f, "munmap    {address:#x} {len} bytes"),
            Event::Mremap {
                old,
                new,
                old_len,
                new_len,
            } => write!(
                f,
                "mremap    {old:#x} {old_len} -> {new:#x} {new_len} bytes"
            ),
            Event::Brk { old, new } => write!(f, "brk       {old:#x} -> {new:#x}"),
            Event::Trim { old, new } => write!(f, "trim      {old:#x} -> {new:#x}"),
            Event::ArenaObjectsGrown { from, to, address } => {
                write!(f, "arenas[]  {from} -> {to} entries at {address:#x}")
            }
            Event::ArenaNew { index, address } => write!(f, "arena {index:<3} new at {address:#x}"),
            Event::ArenaFreed { index, address } => {
                write!(f, "arena {index:<3} freed ({address:#x})")
            }
            Event::ArenaKept { index, address } => {
                write!(f, "arena {index:<3} empty but kept ({address:#x})")
            }
            Event::PoolInit { address, class } => {
                write!(f, "pool {address:#x} init, class {class}")
            }
            Event::PoolReused { address, class } => {
                write!(f, "pool {address:#x} reused, class {class}")
            }
            Event::PoolFull { address, class } => {
                write!(f, "pool {address:#x} full, class {class}")
            }
            Event::PoolUsed { address, class } => {
                write!(f, "pool {address:#x} used, class {class}")
            }
            Event::FreedAgain { address, link } => {
                write!(
                    f,
                    "block {address:#x} freed again, already free: linked to {link:#x}"
                )
            }
            Event::PoolEmpty { address, class } => {
                write!(f, "pool {address:#x} empty, class {class}")
            }
        }
    }
}

/// An event log that costs one test of an `Option` per event while off: the allocator's, and
/// the layers' above it (the object layer keeps one of its own events).
#[derive(Debug)]
pub struct Log<E>(Option<Vec<E>>);

impl<E> Default for Log<E> {
    fn default() -> Self {
        Log(None)
    }
}

impl<E> Log<E> {
    /// Turns logging on (keeping what was logged) or off (dropping it).
    pub fn set(&mut self, on: bool) {
        match (on, self.0.is_some()) {
            (true, false) => self.0 = Some(Vec::new()),
            (false, _) => self.0 = None,
            (true, true) => {}
        }
    }

    /// Whether logging is on.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Logs `event` if logging is on.
    pub fn record(&mut self, event: E) {
        if let Some(events) = &mut self.0 {
            events.push(event);
        }
    }

    /// The events logged since logging was turned on or last taken.
    pub fn take(&mut self) -> Vec<E> {
        self.0.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Gives back a buffer [`Log::take`] returned, emptied, so that the next events go into
    /// room already allocated instead of a new vector each time.
    pub fn recycle(&mut self, mut buffer: Vec<E>) {
        buffer.clear();
        if let Some(events) = &mut self.0
            && events.is_empty()
            && events.capacity() < buffer.capacity()
        {
            *events = buffer;
        }
    }
}

/// The allocator's log.
pub(crate) type Trace = Log<Event>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_when_on() {
        let mut t = Trace::default();
        t.record(Event::Brk { old: 0, new: 1 });
        assert!(t.take().is_empty());
        t.set(true);
        t.record(Event::Brk { old: 0, new: 1 });
        assert_eq!(t.take(), vec![Event::Brk { old: 0, new: 1 }]);
        assert!(t.take().is_empty());
    }

    #[test]
    fn a_recycled_buffer_keeps_its_room_and_drops_its_events() {
        let mut t = Trace::default();
        t.set(true);
        t.record(Event::Brk { old: 0, new: 1 });
        let taken = t.take();
        let room = taken.capacity();
        t.recycle(taken);
        t.record(Event::Brk { old: 1, new: 2 });
        let again = t.take();
        assert_eq!(again, vec![Event::Brk { old: 1, new: 2 }]);
        assert_eq!(again.capacity(), room);
    }
}
