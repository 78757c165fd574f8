//! The blog's second puzzle on the model: why `sys.getrefcount(1)` is about a billion on 3.11,
//! and why `sys.getrefcount(1000)` in a function is 3.
//!
//! 1. The blog's four refcount programs (`examples/python/blog/refcount_*.py`), run on the model
//!    with CPython 3.11's and 3.12's profiles, their outputs side by side.
//! 2. The `dis` listing of the blog's function, as the model compiles it for 3.11 and 3.12: where
//!    the value stack takes its reference.
//! 3. The same programs on 3.11, stopped at every call of `sys.getrefcount`: the argument's count
//!    and every reference to it, each with its holder (`python::refs`), and the holders' own
//!    holders one level up.
//! 4. The owners of 1000 at the second call of `refcount_thousand.py`, drawn as a mermaid
//!    flowchart from the same references.
//! 5. The blog's function in a script and in a module it imports
//!    (`examples/python/modules/refcount_main.py`): the module's constants have no arena.
//! 6. `refcount_one.py` on 3.12: the same owners under an immortal count.
//!
//! Counts are the model's, and the same on every run; objects are named, not shown by address.
use std::fmt::Write;

use objects::layout::Immortality;
use objects::{Edge, Field, Uncounted, unicode_repr};
use pymalloc::Profile;
use python::Interp;
use python::refs::{self, Event, FrameSlot, Holder, Root};

type Res = Result<(), Box<dyn std::error::Error>>;

fn main() -> Res {
    let mut out = String::new();
    run(&mut out)?;
    print!("{out}");
    Ok(())
}

/// The walk through the puzzle, written into `out`.
pub fn run(out: &mut String) -> Res {
    the_blog_on_the_model(out)?;
    the_listing(out)?;
    every_reference_named(out)?;
    the_owners_drawn(out)?;
    script_and_module(out)?;
    immortal_owners(out)?;
    Ok(())
}

/// The versions the model runs the blog's programs on.
const VERSIONS: [Profile; 2] = [Profile::CPYTHON_3_11, Profile::CPYTHON_3_12];

/// The blog's programs about reference counts, in the order the post shows them.
const PROGRAMS: [&str; 4] = [
    "refcount_one",
    "refcount_thousand",
    "refcount_literals",
    "refcount_constants",
];

/// The source of the program at `path` (from the repository's root), and the path.
fn program(path: &str) -> Result<(String, String), std::io::Error> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    Ok((std::fs::read_to_string(root.join(path))?, path.to_owned()))
}

fn blog_program(name: &str) -> Result<(String, String), std::io::Error> {
    program(&format!("examples/python/blog/{name}.py"))
}

// ANCHOR: blog_on_the_model
/// What `program` printed on each version, one column per version.
fn printed(name: &str) -> Result<Vec<Vec<String>>, Box<dyn std::error::Error>> {
    let (source, path) = blog_program(name)?;
    let mut columns = Vec::new();
    for profile in VERSIONS {
        let run = python::run_source(profile, &source, &path)?;
        if let Some(e) = run.error {
            return Err(format!("{path} on {profile}: {e}").into());
        }
        columns.push(run.stdout.lines().map(str::to_owned).collect());
    }
    Ok(columns)
}
// ANCHOR_END: blog_on_the_model

fn the_blog_on_the_model(out: &mut String) -> Res {
    writeln!(
        out,
        "== 1. The blog's refcount programs on the model (python3 script.py) ==\n"
    )?;
    for name in PROGRAMS {
        let columns = printed(name)?;
        writeln!(out, "blog/{name}.py")?;
        writeln!(out, "  {:<6}{:<14}3.12", "line", "3.11")?;
        for (i, line) in columns[0].iter().enumerate() {
            let other = columns[1].get(i).map_or("", String::as_str);
            writeln!(out, "  {:<6}{line:<14}{other}", i + 1)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The part of a module's listing that `dis.dis` prints for the code object `name`.
fn function_listing(listing: &str, name: &str) -> Option<String> {
    let header = format!("Disassembly of <code object {name} at ");
    let start = listing.find(&header)?;
    let body = &listing[start..];
    let body = &body[body.find('\n')? + 1..];
    let end = body.find("\nDisassembly of ").map_or(body.len(), |e| e + 1);
    Some(body[..end].to_owned())
}

fn the_listing(out: &mut String) -> Res {
    writeln!(
        out,
        "== 2. dis of the blog's function (refcount_thousand.py) ==\n"
    )?;
    let (source, path) = blog_program("refcount_thousand")?;
    for profile in VERSIONS {
        let listing = python::dis_source(profile, &source, &path)?;
        let test = function_listing(&listing, "test").ok_or("no listing of test")?;
        let (major, minor) = profile.version();
        writeln!(out, "CPython {major}.{minor}:")?;
        writeln!(out, "{test}")?;
    }
    Ok(())
}

/// One holder of a reference, and the holders of that holder when it is an object.
struct Owner {
    holder: Holder,
    /// A name for the holder when it is a code object or a function (`co_qualname`).
    name: Option<String>,
    up: Vec<Owner>,
}

/// What the inspector saw at one call of `sys.getrefcount`.
struct Call {
    /// The argument, as `repr` shows it.
    arg: String,
    refcnt: u64,
    uncounted: Option<Uncounted>,
    /// What the version does with the counts of static objects.
    immortality: Immortality,
    owners: Vec<Owner>,
}

/// The argument's repr: the blog passes ints and strs.
fn short_repr(interp: &Interp, op: u64) -> Result<String, python::RunError> {
    if let Ok(text) = interp.o.unicode_text(op) {
        return Ok(unicode_repr(&text));
    }
    Ok(interp.o.long_value(op)?.to_string())
}

/// A name for an object that holds a reference: a code object's or a function's qualified name
/// and file, or, for a tuple that is a code object's constants, whose.
fn name_of(interp: &Interp, holder: &Holder) -> Result<Option<String>, python::RunError> {
    let Holder::Object { addr, ty, .. } = holder else {
        return Ok(None);
    };
    // `co_qualname`, and the file's name: the function `test` is in the script and in a module.
    let qualname = |code: u64| -> Result<String, python::RunError> {
        let name = interp
            .o
            .unicode_text(interp.o.field(code, Field::CoQualname)?)?;
        let path = interp
            .o
            .unicode_text(interp.o.field(code, Field::CoFilename)?)?;
        let file = path.rsplit('/').next().unwrap_or(&path);
        Ok(format!("{name} in {file}"))
    };
    Ok(match *ty {
        "code" => Some(qualname(*addr)?),
        "function" => Some(qualname(interp.o.field(*addr, Field::FuncCode)?)?),
        "tuple" => match refs::owners(interp, *addr)?.iter().find_map(|h| match h {
            Holder::Object {
                addr: code,
                edge: Edge::Field(Field::CoConsts),
                ..
            } => Some(*code),
            _ => None,
        }) {
            Some(code) => Some(format!("co_consts of {}", qualname(code)?)),
            None => None,
        },
        _ => None,
    })
}

/// The holders of `op`, and theirs up to `levels` more levels for holders that are objects.
fn owners(interp: &Interp, op: u64, levels: u32) -> Result<Vec<Owner>, python::RunError> {
    let mut found = Vec::new();
    for holder in refs::owners(interp, op)? {
        let up = match (&holder, levels) {
            (Holder::Object { addr, .. }, 1..) => owners(interp, *addr, levels - 1)?,
            _ => Vec::new(),
        };
        let name = name_of(interp, &holder)?;
        found.push(Owner { holder, name, up });
    }
    Ok(found)
}

// ANCHOR: inspector
/// Asks, at each call of `sys.getrefcount`, who holds its argument.
#[derive(Default)]
struct Getrefcounts {
    calls: Vec<Result<Call, python::RunError>>,
}

impl refs::Inspector for Getrefcounts {
    fn inspect(&mut self, interp: &Interp, event: &Event<'_>) {
        if let Event::BuiltinCall {
            name: "getrefcount",
            args: [x],
            ..
        } = event
        {
            self.calls.push(inspect_argument(interp, *x));
        }
    }
}

fn inspect_argument(interp: &Interp, x: u64) -> Result<Call, python::RunError> {
    Ok(Call {
        arg: short_repr(interp, x)?,
        refcnt: interp.o.refcnt(x)?,
        uncounted: refs::uncounted(interp, x)?,
        immortality: interp.o.layout().immortality(),
        owners: owners(interp, x, 2)?,
    })
}
// ANCHOR_END: inspector

/// Runs the program at `path` on `profile` with the inspector.
fn getrefcount_calls(
    profile: Profile,
    path: &str,
) -> Result<Vec<Call>, Box<dyn std::error::Error>> {
    let (source, path) = program(path)?;
    let inspector = Getrefcounts::default();
    let (run, seen) = python::pythonrun::run_source_with(profile, &source, &path, inspector)?;
    if let Some(e) = run.error {
        return Err(format!("{path} on {profile}: {e}").into());
    }
    Ok(seen.calls.into_iter().collect::<Result<_, _>>()?)
}

/// How the count is made of the references found; an error if the model miscounted.
fn decomposed(call: &Call) -> Result<String, String> {
    let n = call.owners.len() as u64;
    let pinned = matches!(
        call.immortality,
        Immortality::Pinned | Immortality::PinnedMortalInterned
    );
    match call.uncounted {
        None if call.refcnt == n => Ok(format!("{n} references")),
        None => Err(format!(
            "{}: ob_refcnt {} but {n} references",
            call.arg, call.refcnt
        )),
        Some(Uncounted::Static) if !pinned => Ok(format!(
            "static, {} + {n} references",
            call.refcnt.saturating_sub(n)
        )),
        Some(Uncounted::Static) => Ok(format!("static and immortal, {n} references not counted")),
        Some(Uncounted::Immortal) => Ok(format!("immortal, {n} references not counted")),
        // Only ctypes revives a dead object, and the blog's refcount programs do not use it.
        Some(Uncounted::Revived) => Err(format!("{}: revived from a free list", call.arg)),
    }
}

/// A holder as the listing shows it, with its code's name when it has one.
/// Objects are named by their type and, where it says more, their name rather than by their
/// address, which moves whenever the model's start-up allocates something new.
fn holder_line(owner: &Owner) -> String {
    let plain = match &owner.holder {
        Holder::Object { edge, ty, .. } => format!("{edge} of the {ty}"),
        other => other.to_string(),
    };
    match &owner.name {
        Some(name) => format!("{plain} ({name})"),
        None => plain,
    }
}

/// A holder, and the holders of that holder one level up.
fn write_owner(out: &mut String, owner: &Owner) -> Res {
    writeln!(out, "    {}", holder_line(owner))?;
    for up in &owner.up {
        writeln!(out, "      <- {}", holder_line(up))?;
    }
    Ok(())
}

fn write_calls(out: &mut String, profile: Profile, path: &str) -> Res {
    writeln!(out, "{path}")?;
    for call in getrefcount_calls(profile, path)? {
        let count = decomposed(&call)?;
        writeln!(
            out,
            "  sys.getrefcount({}) = {}: {count}",
            call.arg, call.refcnt
        )?;
        for owner in &call.owners {
            write_owner(out, owner)?;
        }
    }
    writeln!(out)?;
    Ok(())
}

fn every_reference_named(out: &mut String) -> Res {
    writeln!(
        out,
        "== 3. Who holds the argument of each sys.getrefcount (CPython 3.11) ==\n"
    )?;
    for name in PROGRAMS {
        write_calls(
            out,
            Profile::CPYTHON_3_11,
            &format!("examples/python/blog/{name}.py"),
        )?;
    }
    Ok(())
}

/// A mermaid flowchart of `call`'s references: each holder points at what it holds.
#[derive(Default)]
struct Flowchart {
    nodes: Vec<(String, String)>,
    edges: Vec<String>,
    /// The objects drawn, by address: an object's node is `o` and its index here.
    objects: Vec<u64>,
}

/// Text for a mermaid label: `<`, `>` and `__` as entities, so that `<module>` is not read as a
/// tag nor `__main__` as bold.
fn label_text(text: &str) -> String {
    text.replace('<', "#lt;")
        .replace('>', "#gt;")
        .replace("__", "#95;#95;")
}

impl Flowchart {
    fn object_id(&mut self, addr: u64) -> String {
        let index = match self.objects.iter().position(|&a| a == addr) {
            Some(i) => i,
            None => {
                self.objects.push(addr);
                self.objects.len() - 1
            }
        };
        format!("o{index}")
    }

    /// The node of `owner`'s holder (one per object, one per frame, one for the arena).
    fn node(&mut self, owner: &Owner) -> String {
        let (id, label) = match &owner.holder {
            Holder::Object { addr, ty, .. } => {
                let named = owner
                    .name
                    .as_deref()
                    .map_or(String::new(), |n| format!("<br>{}", label_text(n)));
                (self.object_id(*addr), format!("{ty}{named}"))
            }
            Holder::Root(Root::Arena(_)) => ("arena".into(), label_text("PyArena of __main__")),
            Holder::Root(Root::Frame { depth, code, .. }) => {
                let code = label_text(code);
                (format!("frame{depth}"), format!("frame {depth}<br>{code}"))
            }
            other => (
                format!("n{}", self.nodes.len()),
                label_text(&other.to_string()),
            ),
        };
        if !self.nodes.iter().any(|(known, _)| *known == id) {
            self.nodes.push((id.clone(), label));
        }
        id
    }

    /// What the reference is called in its holder.
    fn edge_label(holder: &Holder) -> String {
        match holder {
            Holder::Object { edge, .. } => edge.to_string(),
            Holder::Root(Root::Arena(i)) => format!("a_objects[{i}]"),
            Holder::Root(Root::Frame { slot, .. }) => match slot {
                FrameSlot::Local(name) => format!("localsplus: {name}"),
                FrameSlot::Stack(i) => format!("value stack[{i}]"),
                FrameSlot::Func => "f_func".into(),
                FrameSlot::Code => "f_code".into(),
            },
            other => other.to_string(),
        }
    }

    fn add(&mut self, owners: &[Owner], target: &str) {
        for owner in owners {
            let from = self.node(owner);
            let label = label_text(&Flowchart::edge_label(&owner.holder));
            self.edges
                .push(format!("    {from} -->|\"{label}\"| {target}"));
            self.add(&owner.up, &from);
        }
    }

    fn render(&self, out: &mut String) -> Res {
        writeln!(out, "flowchart RL")?;
        for (id, label) in &self.nodes {
            writeln!(out, "    {id}[\"{label}\"]")?;
        }
        for edge in &self.edges {
            writeln!(out, "{edge}")?;
        }
        Ok(())
    }
}

fn the_owners_drawn(out: &mut String) -> Res {
    writeln!(
        out,
        "== 4. The owners of 1000 at sys.getrefcount(num), as a flowchart (CPython 3.11) ==\n"
    )?;
    let calls = getrefcount_calls(
        Profile::CPYTHON_3_11,
        "examples/python/blog/refcount_thousand.py",
    )?;
    let call = calls.first().ok_or("refcount_thousand.py called nothing")?;
    let mut chart = Flowchart::default();
    chart.nodes.push((
        "x".into(),
        format!("int {}<br>ob_refcnt {}", call.arg, call.refcnt),
    ));
    chart.add(&call.owners, "x");
    chart.render(out)?;
    writeln!(out)?;
    Ok(())
}

fn script_and_module(out: &mut String) -> Res {
    writeln!(
        out,
        "== 5. The blog's function in the script and in a module beside it (CPython 3.11) ==\n"
    )?;
    let path = "examples/python/modules/refcount_main.py";
    let (source, _) = program(path)?;
    let run = python::run_source(Profile::CPYTHON_3_11, &source, path)?;
    if let Some(e) = run.error {
        return Err(format!("{path}: {e}").into());
    }
    writeln!(out, "{}", run.stdout)?;
    write_calls(out, Profile::CPYTHON_3_11, path)
}

fn immortal_owners(out: &mut String) -> Res {
    writeln!(
        out,
        "== 6. The same owners under immortal counts (CPython 3.12) ==\n"
    )?;
    write_calls(
        out,
        Profile::CPYTHON_3_12,
        "examples/python/blog/refcount_one.py",
    )
}
