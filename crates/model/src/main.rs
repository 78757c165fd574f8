//! `cargo model run FILE.py [--python 3.X]` runs a program on the model and prints what it
//! prints, its error on standard error, and exits as CPython would (1 for an uncaught
//! exception, 139 for a segmentation fault; 2 for a program outside the modelled subset or a
//! misused command). `cargo model dis FILE.py [--python 3.X]` prints `dis.dis` of its code.
//! The default version is 3.11, the blog's. `run --trace` writes on standard error each source
//! line as it runs, followed by the events it caused in the object layer and the allocators
//! (`-v`: each instruction too).

use std::process::ExitCode;

use pymalloc::Profile;
use python::{RunError, Trace};

const USAGE: &str =
    "usage: cargo model run FILE.py [--python 3.8|3.9|3.10|3.11|3.12|3.13] [--trace [-v]]
       cargo model dis FILE.py [--python 3.X]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_status() as u8)
        }
    }
}

/// The command's arguments: what to do, the file, the version, the trace asked for.
fn parse(args: &[String]) -> Result<(String, String, Profile, Option<Trace>), RunError> {
    let usage = || RunError::Usage(USAGE.into());
    let mut rest = args.iter();
    let command = rest.next().ok_or_else(usage)?.clone();
    let mut file = None;
    let mut profile = Profile::CPYTHON_3_11;
    let mut trace = None;
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--trace" => trace = Some(trace.unwrap_or(Trace::Lines)),
            "-v" => trace = Some(Trace::Instructions),
            "--python" => {
                let v = rest.next().ok_or_else(usage)?;
                profile = Profile::parse(v).map_err(|e| RunError::Usage(e.to_string()))?;
            }
            f if file.is_none() && !f.starts_with('-') => file = Some(f.to_string()),
            _ => return Err(usage()),
        }
    }
    if trace.is_some() && command != "run" {
        return Err(usage());
    }
    Ok((command, file.ok_or_else(usage)?, profile, trace))
}

fn run(args: &[String]) -> Result<(), RunError> {
    let (command, file, profile, trace) = parse(args)?;
    let source =
        std::fs::read_to_string(&file).map_err(|e| RunError::Usage(format!("{file}: {e}")))?;
    match command.as_str() {
        "run" => {
            let out = match trace {
                Some(level) => python::run_source_traced(profile, &source, &file, level)?,
                None => python::run_source(profile, &source, &file)?,
            };
            eprint!("{}", out.trace);
            eprint!("{}", out.stderr);
            print!("{}", out.stdout);
            match out.error {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
        "dis" => {
            print!("{}", python::dis_source(profile, &source, &file)?);
            Ok(())
        }
        _ => Err(RunError::Usage(USAGE.into())),
    }
}
