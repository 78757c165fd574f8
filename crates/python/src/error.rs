//! How a run can fail: a Python exception (with its traceback), a program outside the subset the
//! model runs (named, with its line), or the model's own memory fault.

use std::fmt;

use objects::ObjError;

/// A line of a traceback: where a frame was when the exception passed through it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLine {
    /// The file.
    pub filename: String,
    /// The line number.
    pub line: u32,
    /// The function (`<module>` at the top).
    pub name: String,
    /// What is printed under it: the source line, and the carets under the instruction
    /// that raised (`tb_displayline`).
    pub source: Vec<String>,
}

impl TraceLine {
    /// `tb_print_internal`'s test for a repeated line: the same file, line and function.
    fn repeats(&self, other: &TraceLine) -> bool {
        (&self.filename, self.line, &self.name) == (&other.filename, other.line, &other.name)
    }
}

/// Why a program stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// An uncaught Python exception: its type name, message and traceback (outermost first).
    Exception {
        /// `type(e).__name__`.
        kind: String,
        /// `str(e)`.
        message: String,
        /// The frames it passed through.
        traceback: Vec<TraceLine>,
        /// What printing it adds after the message (`print_exception`'s suggestions: a
        /// NameError's `. Did you mean: 'name'?`), from the frame it was raised in.
        suggestion: Option<String>,
    },
    /// A construct the model does not run: named, with its file and line.
    NotModelled {
        /// What it is (`async def`, a `with` statement, ...).
        construct: String,
        /// The file.
        filename: String,
        /// The line.
        line: u32,
    },
    /// The source does not parse.
    Syntax {
        /// The parser's message.
        message: String,
        /// The file.
        filename: String,
        /// The line.
        line: u32,
    },
    /// The object layer or the allocator refused: the model's segmentation fault, a double
    /// free, a use of a dead object.
    Memory(ObjError),
    /// An unknown profile, a missing file: the command was misused.
    Usage(String),
}

impl From<ObjError> for RunError {
    /// What the object layer does not model is not modelled here either (the line is filled
    /// in by the frame that ran into it); anything else stops the model.
    fn from(e: ObjError) -> Self {
        match e {
            ObjError::NotModelled { what } => RunError::NotModelled {
                construct: what.into(),
                filename: String::new(),
                line: 0,
            },
            e => RunError::Memory(e),
        }
    }
}

impl RunError {
    /// Whether the process died here (the model's segmentation fault, or a corruption the
    /// model caught): nothing runs after it, no cleanup, no finalization.
    pub fn is_fatal(&self) -> bool {
        matches!(self, RunError::Memory(_))
    }

    /// The exit status CPython's process would end with: 1 for an exception or a syntax error,
    /// 139 for a segmentation fault (what a shell reports for SIGSEGV); 2 for what the model
    /// does not run and for misuse of the command.
    pub fn exit_status(&self) -> i32 {
        match self {
            RunError::Exception { .. } | RunError::Syntax { .. } => 1,
            RunError::Memory(ObjError::Mem(pymalloc::MemError::Segfault { .. })) => 139,
            RunError::Memory(_) => 134,
            RunError::NotModelled { .. } | RunError::Usage(_) => 2,
        }
    }

    /// A Python exception raised at no particular place yet (the traceback is filled in as it
    /// passes through frames).
    pub fn exception(kind: &str, message: impl Into<String>) -> RunError {
        RunError::Exception {
            kind: kind.into(),
            message: message.into(),
            traceback: Vec::new(),
            suggestion: None,
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Exception {
                kind,
                message,
                traceback,
                suggestion,
            } => {
                writeln!(f, "Traceback (most recent call last):")?;
                // tb_print_internal: a line repeated more than three times in a row is
                // summarised.
                const CUTOFF: usize = 3;
                let repeated = |f: &mut fmt::Formatter<'_>, cnt: usize| {
                    let n = cnt - CUTOFF;
                    writeln!(
                        f,
                        "  [Previous line repeated {n} more time{}]",
                        if n > 1 { "s" } else { "" }
                    )
                };
                let mut last: Option<&TraceLine> = None;
                let mut cnt = 0;
                for t in traceback {
                    if !last.is_some_and(|l| l.repeats(t)) {
                        if cnt > CUTOFF {
                            repeated(f, cnt)?;
                        }
                        last = Some(t);
                        cnt = 0;
                    }
                    cnt += 1;
                    if cnt <= CUTOFF {
                        writeln!(
                            f,
                            "  File \"{}\", line {}, in {}",
                            t.filename, t.line, t.name
                        )?;
                        for shown in &t.source {
                            writeln!(f, "{shown}")?;
                        }
                    }
                }
                if cnt > CUTOFF {
                    repeated(f, cnt)?;
                }
                if message.is_empty() {
                    write!(f, "{kind}")?;
                } else {
                    write!(f, "{kind}: {message}")?;
                }
                match suggestion {
                    Some(name) => write!(f, ". Did you mean: '{name}'?"),
                    None => Ok(()),
                }
            }
            RunError::NotModelled {
                construct,
                filename,
                line,
            } => write!(f, "not modelled: {construct}, {filename}, line {line}"),
            RunError::Syntax {
                message,
                filename,
                line,
            } => write!(
                f,
                "  File \"{filename}\", line {line}\nSyntaxError: {message}"
            ),
            RunError::Memory(ObjError::Mem(pymalloc::MemError::Segfault { addr })) => write!(
                f,
                "Fatal Python error: Segmentation fault (the model accessed {addr:#x}, which no mapping covers)"
            ),
            RunError::Memory(e) => write!(f, "the model stopped: {e}"),
            RunError::Usage(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for RunError {}
