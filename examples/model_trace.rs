//! `cargo model run examples/python/model_trace.py --trace` as the book shows it: the program's
//! output, then the trace the model wrote for it (on standard error, where the command puts
//! it), on CPython 3.11; the events of start-up and compiling are counted, not listed.
//!
//! Addresses are the model's, and the same on every run.
use pymalloc::Profile;
use python::{Trace, run_source_traced};

type Res = Result<(), Box<dyn std::error::Error>>;

const PROGRAM: &str = "examples/python/model_trace.py";

fn main() -> Res {
    let mut out = String::new();
    run(&mut out)?;
    print!("{out}");
    Ok(())
}

/// The traced run, written into `out`.
pub fn run(out: &mut String) -> Res {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/python/model_trace.py"
    );
    let source = std::fs::read_to_string(path)?;
    let run = run_source_traced(Profile::CPYTHON_3_11, &source, PROGRAM, Trace::Lines)?;
    if let Some(e) = run.error {
        return Err(e.into());
    }
    out.push_str("$ cargo model run examples/python/model_trace.py --trace\n");
    out.push_str(&run.stdout);
    out.push_str("--- standard error ---\n");
    // The start-up phase (the __main__ module, parsing and compiling) is long and the same for
    // every program: counted here, not shown.
    let first_line = run.trace.find("model_trace.py:").ok_or("no line traced")?;
    let (start, rest) = run.trace.split_at(first_line);
    let mut lines = start.lines();
    if let Some(heading) = lines.next() {
        let events = lines.count();
        out.push_str(&format!(
            "{heading}\n    ... {events} events, not shown here\n"
        ));
    }
    out.push_str(rest);
    Ok(())
}
