//! `--trace`: the model at work, line by line. Before each source line runs, the line is
//! written, then everything the previous one caused: the object layer's events (new objects,
//! where each came from, counts reaching zero, deallocations, free lists, buffers) with
//! pymalloc's and glibc's beneath them, and what the program printed. With `-v`, each
//! instruction is written too.
//!
//! ```text
//! stale_list.py:12  print(ctypes.cast(ref_id, ctypes.py_object).value)
//!     new       py_object at 0x7f3c8a5040a0 (from the allocator)
//!     ...
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::interp::Interp;

/// What a traced run writes, and what it needs to write it.
#[derive(Debug, Default)]
pub(crate) struct Tracer {
    /// The trace so far.
    pub(crate) out: String,
    /// Each instruction too (`-v`).
    verbose: bool,
    /// The source lines of each file run, to show the line being executed.
    sources: HashMap<String, Vec<String>>,
    /// The code object and line last written.
    last: Option<(u64, u32)>,
    /// Whether the program's output stopped in the middle of a line.
    mid_line: bool,
}

impl Tracer {
    pub(crate) fn new(verbose: bool) -> Tracer {
        Tracer {
            verbose,
            ..Tracer::default()
        }
    }

    /// Keeps `source`'s lines to show them as they run.
    pub(crate) fn add_source(&mut self, filename: &str, source: &str) {
        let lines = source.lines().map(str::to_string).collect();
        self.sources.insert(filename.to_string(), lines);
    }
}

impl Interp {
    /// Turns the trace on for what runs next (the object layer starts logging).
    pub(crate) fn start_trace(&mut self, verbose: bool) {
        self.tracer = Some(Tracer::new(verbose));
        self.o.set_trace(true);
    }

    /// Before an instruction of `code_obj` at `line` runs: the events so far, then the line if
    /// it is a new one (and the instruction, verbosely).
    pub(crate) fn trace_instruction(&mut self, code_obj: u64, line: u32, name: &str, arg: u32) {
        self.trace_events();
        let filename = self.filenames.get(&code_obj).cloned().unwrap_or_default();
        let Some(t) = self.tracer.as_mut() else {
            return;
        };
        if t.mid_line {
            t.out.push('\n');
            t.mid_line = false;
        }
        // Line 0: the module's RESUME, before its first line.
        if line != 0 && t.last != Some((code_obj, line)) {
            t.last = Some((code_obj, line));
            let text = (line as usize)
                .checked_sub(1)
                .and_then(|k| t.sources.get(&filename)?.get(k))
                .map_or("", |s| s.trim());
            let short = filename.rsplit('/').next().unwrap_or(&filename);
            let _ = writeln!(t.out, "{short}:{line}  {text}");
        }
        if t.verbose {
            let _ = writeln!(t.out, "      {name} {arg}");
        }
    }

    /// Writes what happened so far, then the heading of a phase of the run that is no source
    /// line (start-up, compiling, the end of the script, finalization).
    pub(crate) fn trace_phase(&mut self, heading: &str) {
        self.trace_events();
        if let Some(t) = self.tracer.as_mut() {
            if t.mid_line {
                t.out.push('\n');
                t.mid_line = false;
            }
            t.last = None;
            let _ = writeln!(t.out, "{heading}");
        }
    }

    /// Writes the object layer's events logged since the last call.
    pub(crate) fn trace_events(&mut self) {
        if self.tracer.is_none() {
            return;
        }
        let events = self.o.take_trace();
        let t = self.tracer.as_mut().expect("tracing");
        if t.mid_line && !events.is_empty() {
            t.out.push('\n');
            t.mid_line = false;
        }
        for e in events {
            let _ = writeln!(t.out, "    {e}");
        }
    }

    /// What the program prints: to standard output, and into the trace where it happened.
    pub(crate) fn write_stdout(&mut self, text: &str) {
        self.stdout.push_str(text);
        self.trace_events();
        if let Some(t) = self.tracer.as_mut() {
            for piece in text.split_inclusive('\n') {
                if !t.mid_line {
                    t.out.push_str("    > ");
                }
                t.out.push_str(piece);
                t.mid_line = !piece.ends_with('\n');
            }
        }
    }
}
