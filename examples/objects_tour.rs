//! A tour of CPython's object layer, on the model in `crates/objects` (CPython 3.11 unless a
//! section says otherwise).
//!
//! 1. An object in memory: a list holding one str, read back word by word at CPython's offsets,
//!    and where the allocator put the list, its item buffer and the str.
//! 2. Sizes: `sys.getsizeof` of the expressions of `examples/python/objects_sizes.py` on 3.8,
//!    3.9, 3.11 and 3.12, and a list growing through appends.
//! 3. Reference counts: a count going up and down, and a cascade of deallocations, traced.
//! 4. Classes and instances: where an instance's attributes live on 3.10, 3.11 and 3.13, what
//!    each instance and attribute costs (`examples/python/objects_instances.py`), and the order
//!    in which the attributes die.
//! 5. Caches and immortality: the small int 1 on 3.10, 3.11 and 3.12, interned strings on 3.11,
//!    3.12 and 3.13, and the objects CPython shares instead of making anew.
//! 6. Free lists: freed lists, floats and tuples come back last in, first out, up to a limit.
//! 7. What a freed list's memory still says.
//!
//! Addresses are the model's, and the same on every run.
use std::fmt::Write;

use objects::layout::GC_HEAD_SIZE;
use objects::{IMAGE_BASE, ObjError, ObjEvent, Objects, TypeId};
use pymalloc::{Event, Location, Profile};

type Res = Result<(), Box<dyn std::error::Error>>;

fn main() -> Res {
    let mut out = String::new();
    run(&mut out)?;
    print!("{out}");
    Ok(())
}

/// The tour, written into `out`.
pub fn run(out: &mut String) -> Res {
    an_object_in_memory(out)?;
    sizes(out)?;
    reference_counts(out)?;
    classes_and_instances(out)?;
    caches_and_immortality(out)?;
    free_lists(out)?;
    after_deallocation(out)?;
    Ok(())
}

/// Where the object or buffer at `addr` lives: in libpython's data (the interpreter's image), or
/// what the allocator says is there.
fn place(o: &Objects, addr: u64) -> Result<String, pymalloc::MemError> {
    if addr >= IMAGE_BASE {
        return Ok("static, in libpython's data (not from the allocator)".into());
    }
    Ok(match o.allocator().what_is_at(addr)? {
        Location::Block(b) => format!(
            "block {} of pool {:#x}, class {} ({} bytes)",
            b.index, b.pool, b.class, b.size
        ),
        Location::FreeBlock { block: b, link } => format!(
            "FREE block {} of pool {:#x}, class {} ({} bytes), link {link:#x}",
            b.index, b.pool, b.class, b.size
        ),
        other => other.to_string(),
    })
}

/// A word read from memory, with what it points to when the tour knows.
fn word(o: &mut Objects, value: u64, names: &[(u64, &str)]) -> Result<String, ObjError> {
    if let Some((_, n)) = names.iter().find(|(a, _)| *a == value) {
        return Ok(format!("{value:#x}  -> {n}"));
    }
    if o.type_of(value) == Ok(TypeId::Type) {
        return Ok(format!("{value:#x}  -> {}", o.repr(value)?));
    }
    if (value as i64).unsigned_abs() < 0x1000 {
        return Ok((value as i64).to_string());
    }
    Ok(format!("{value:#x}"))
}

/// The fields of a list (`PyGC_Head`, `PyListObject`), by offset from the object's address.
const LIST_FIELDS: [(i64, &str); 7] = [
    (-16, "_gc_next"),
    (-8, "_gc_prev"),
    (0, "ob_refcnt"),
    (8, "ob_type"),
    (16, "ob_size"),
    (24, "ob_item"),
    (32, "allocated"),
];

/// The fields of a str's `PyASCIIObject` before `state`, by offset.
const STR_FIELDS: [(i64, &str); 4] = [
    (0, "ob_refcnt"),
    (8, "ob_type"),
    (16, "length"),
    (24, "hash"),
];

/// Reads each field of the object at `op` from memory and prints it.
fn dump(
    o: &mut Objects,
    out: &mut String,
    op: u64,
    fields: &[(i64, &str)],
    names: &[(u64, &str)],
) -> Res {
    for &(offset, field) in fields {
        let value = o.read_word(op.wrapping_add_signed(offset))?;
        let shown = word(o, value, names)?;
        writeln!(out, "  {offset:+3}  {field:<10} {shown}")?;
    }
    Ok(())
}

/// The bits of `PyASCIIObject.state` on 3.11.
fn state_bits(state: u32) -> String {
    let bit = |shift: u32, width: u32| (state >> shift) & ((1 << width) - 1);
    format!(
        "interned {}, kind {}, compact {}, ascii {}, ready {}",
        bit(0, 2),
        bit(2, 3),
        bit(5, 1),
        bit(6, 1),
        bit(7, 1)
    )
}

fn an_object_in_memory(out: &mut String) -> Res {
    writeln!(out, "== 1. An object in memory (CPython 3.11) ==\n")?;
    let mut o = Objects::new(Profile::CPYTHON_3_11)?;
    // ANCHOR: list_in_memory
    let li = o.list_new_generic()?; // li = list()
    let s = o.unicode_from_str("hsafdasdsadasdfsdfsdasdasi")?;
    o.list_append(li, s)?; // li.append(s): s now has two references
    let items = o.read_word(li + 24)?; // ob_item
    let names = [
        (o.gen0_head(), "generation 0's list head"),
        (items, "the item buffer"),
        (s, "the str"),
    ];
    let block = li - GC_HEAD_SIZE;
    writeln!(out, "list at {li:#x}, its PyGC_Head at {block:#x}")?;
    writeln!(out, "  in {}", place(&o, block)?)?;
    dump(&mut o, out, li, &LIST_FIELDS, &names)?;
    writeln!(out, "item buffer at {items:#x}")?;
    writeln!(out, "  in {}", place(&o, items)?)?;
    dump(&mut o, out, items, &[(0, "[0]")], &names)?;
    // ANCHOR_END: list_in_memory

    // ANCHOR: str_in_memory
    writeln!(out, "str at {s:#x}")?;
    writeln!(out, "  in {}", place(&o, s)?)?;
    dump(&mut o, out, s, &STR_FIELDS, &names)?;
    let state = o.read_word(s + 32)? as u32; // a 4-byte bit field
    writeln!(out, "  +32  state      {state:#x}: {}", state_bits(state))?;
    writeln!(out, "  +40  wstr       {}", o.read_word(s + 40)?)?;
    let header = o.layout().ascii_header(); // the characters follow the header
    let length = o.read_word(s + 16)?;
    let chars = o.read_bytes(s + header, length + 1)?;
    let text = String::from_utf8_lossy(&chars);
    writeln!(out, "  +{header}  data       {text:?}")?;
    let hash = o.unicode_hash(s)?; // hash(s)
    let field = o.read_word(s + 24)?;
    writeln!(out, "after hash(s): +24 hash = {field:#x} ({hash})")?;
    // ANCHOR_END: str_in_memory
    Ok(())
}

/// Builds the value of one expression as CPython's bytecode would, returning a new reference.
type Build = fn(&mut Objects) -> Result<u64, ObjError>;

// ANCHOR: size_expressions
/// The expressions of `examples/python/objects_sizes.py` that the model can build.
const EXPRESSIONS: [(&str, Build); 22] = [
    ("''", |o| o.unicode_from_str("")),
    ("'a'", |o| o.unicode_from_str("a")),
    ("'é'", |o| o.unicode_from_str("é")),
    ("'éé'", |o| o.unicode_from_str("éé")),
    ("'가'", |o| o.unicode_from_str("가")),
    ("'😀'", |o| o.unicode_from_str("😀")),
    ("'1234567'", |o| o.unicode_from_str("1234567")),
    ("0", |o| o.long_from_i64(0)),
    ("1", |o| o.long_from_i64(1)),
    ("257", |o| o.long_from_i64(257)),
    ("2**30", |o| o.long_from_i128(1 << 30)),
    ("2**60", |o| o.long_from_i128(1 << 60)),
    ("-1", |o| o.long_from_i64(-1)),
    ("[]", |o| o.list_new(0)), // BUILD_LIST 0
    ("[1]", |o| {
        // BUILD_LIST 1: PyList_New(1), then the item stored in place
        let li = o.list_new(1)?;
        let one = o.long_from_i64(1)?;
        o.list_set(li, 0, one)?;
        Ok(li)
    }),
    // ANCHOR: list_literal
    ("[1, 2, 3]", |o| {
        let items: Vec<u64> = (1..=3)
            .map(|v| o.long_from_i64(v))
            .collect::<Result<_, _>>()?;
        if o.layout().minor == 8 {
            // BUILD_LIST 3: PyList_New(3), the items stored in place
            return list_of(o, &items);
        }
        // BUILD_LIST 0, LIST_EXTEND of the constant (1, 2, 3), kept by the code
        let constant = tuple_of(o, &items)?;
        let li = o.list_new(0)?;
        o.list_extend(li, constant)?;
        Ok(li)
    }),
    // ANCHOR_END: list_literal
    ("()", |o| o.tuple_new(0)),
    ("(1,)", |o| {
        let one = o.long_from_i64(1)?;
        let t = o.tuple_pack(&[one])?;
        o.decref(one)?;
        Ok(t)
    }),
    ("{}", |o| o.dict_new()),
    ("1.0", |o| o.float_from_f64(1.0)),
    ("Plain()", |o| {
        let plain = o.type_new("Plain", "__main__")?; // class Plain: pass
        o.instance_new(plain)
    }),
    ("object()", |o| o.object_new()),
];
// ANCHOR_END: size_expressions

fn sizes(out: &mut String) -> Res {
    writeln!(out, "\n== 2. Sizes: sys.getsizeof ==\n")?;
    // ANCHOR: sizes
    let versions = ["3.8", "3.9", "3.11", "3.12"];
    let mut processes = Vec::new();
    for v in versions {
        processes.push(Objects::new(Profile::parse(v)?)?);
    }
    writeln!(out, "  3.8   3.9  3.11  3.12  expression")?;
    for (expr, build) in EXPRESSIONS {
        let mut row = String::new();
        for o in &mut processes {
            let op = build(o)?;
            write!(row, "{:>5} ", o.getsizeof(op)?)?;
        }
        writeln!(out, "{row} {expr}")?;
    }
    // ANCHOR_END: sizes

    // ANCHOR: growth
    writeln!(
        out,
        "\nlist growth through appends: len -> getsizeof (capacity)"
    )?;
    let mut columns = Vec::new();
    for v in ["3.8", "3.11"] {
        let mut o = Objects::new(Profile::parse(v)?)?;
        let li = o.list_new(0)?;
        let empty = o.getsizeof(li)?;
        let mut last = empty;
        let mut lines = vec![format!("{v}:"), format!("0 -> {last} (0)")];
        for i in 0..41 {
            let item = o.long_from_i64(i)?;
            o.list_append(li, item)?;
            o.decref(item)?;
            let size = o.getsizeof(li)?;
            if size != last {
                let n = o.list_len(li)?;
                lines.push(format!("{n} -> {size} ({})", (size - empty) / 8));
                last = size;
            }
        }
        columns.push(lines);
    }
    for row in 0..columns.iter().map(Vec::len).max().unwrap_or(0) {
        let cell = |c: &Vec<String>| c.get(row).cloned().unwrap_or_default();
        writeln!(out, "  {:<20}{}", cell(&columns[0]), cell(&columns[1]))?;
    }
    // ANCHOR_END: growth
    Ok(())
}

/// The object, or the pool, a traced event is about.
fn subject(event: &ObjEvent) -> Option<u64> {
    match *event {
        ObjEvent::New { op, .. }
        | ObjEvent::Zero { op }
        | ObjEvent::Dealloc { op, .. }
        | ObjEvent::ToFreeList { op, .. }
        | ObjEvent::FreedAgain { op, .. }
        | ObjEvent::Free { op }
        | ObjEvent::Gc { op, .. } => Some(op),
        ObjEvent::BufferAlloc { addr, .. } | ObjEvent::BufferFree { addr } => Some(addr),
        ObjEvent::BufferRealloc { new, .. } => Some(new),
        ObjEvent::Mem(Event::PoolEmpty { address, .. }) => Some(address),
        ObjEvent::Mem(_) | ObjEvent::GcStart { .. } | ObjEvent::GcEnd { .. } => None,
    }
}

/// The item buffer of the list at `li` and its pool, named after the list.
fn buffer_names(o: &Objects, li: u64, list: &str) -> Result<[(u64, String); 2], ObjError> {
    let items = o.read_word(li + 24)?; // ob_item
    let pool = items & !(o.profile().pool_size() - 1);
    Ok([
        (items, format!("{list}'s item buffer")),
        (pool, format!("the pool of {list}'s item buffer")),
    ])
}

/// The strs whose deallocation `events` record, in order, by name.
fn dealloc_order(events: &[ObjEvent], names: &[(u64, String)]) -> String {
    let mut order = Vec::new();
    for e in events {
        if let ObjEvent::Dealloc {
            op,
            ty: TypeId::Str,
        } = *e
        {
            order.push(name_of(names, op));
        }
    }
    order.join(" ")
}

/// The name the tour gave the object at `op`.
fn name_of(names: &[(u64, String)], op: u64) -> &str {
    names
        .iter()
        .find(|(a, _)| *a == op)
        .map_or("", |(_, n)| n.as_str())
}

/// New strs named `names`, one reference each.
fn strs(o: &mut Objects, names: &[&str]) -> Result<Vec<(u64, String)>, ObjError> {
    names
        .iter()
        .map(|n| Ok((o.unicode_from_str(&format!("item {n}"))?, (*n).to_owned())))
        .collect()
}

/// A list holding `items`, whose references it takes over (`PyList_SET_ITEM`).
fn list_of(o: &mut Objects, items: &[u64]) -> Result<u64, ObjError> {
    let li = o.list_new(items.len() as u64)?;
    for (i, &item) in items.iter().enumerate() {
        o.list_set(li, i as u64, item)?;
    }
    Ok(li)
}

/// A tuple holding `items`, whose references it takes over.
fn tuple_of(o: &mut Objects, items: &[u64]) -> Result<u64, ObjError> {
    let t = o.tuple_pack(items)?;
    for &item in items {
        o.decref(item)?;
    }
    Ok(t)
}

/// Drops the only reference to `container` and returns the traced events.
fn drop_traced(o: &mut Objects, container: u64) -> Result<Vec<ObjEvent>, ObjError> {
    o.set_trace(true);
    o.decref(container)?;
    let events = o.take_trace();
    o.set_trace(false);
    Ok(events)
}

/// Prints traced events, each container's deallocation indented under its parent's.
fn print_cascade(out: &mut String, events: &[ObjEvent], names: &[(u64, String)]) -> Res {
    let mut open: Vec<u64> = Vec::new(); // containers whose tp_dealloc is running
    for event in events {
        if matches!(event, ObjEvent::Zero { .. }) {
            continue;
        }
        let op = subject(event);
        if let (ObjEvent::ToFreeList { .. } | ObjEvent::Free { .. }, Some(op)) = (event, op)
            && open.last() == Some(&op)
        {
            open.pop(); // the container's own memory is the last thing its dealloc handles
        }
        let name = op.map_or("", |op| name_of(names, op));
        let line = format!("{:indent$}{event}  {name}", "", indent = 2 + 4 * open.len());
        writeln!(out, "{}", line.trim_end())?;
        if let ObjEvent::Dealloc { ty, op } = *event
            && matches!(ty, TypeId::List | TypeId::Tuple)
        {
            open.push(op);
        }
    }
    Ok(())
}

fn reference_counts(out: &mut String) -> Res {
    writeln!(out, "\n== 3. Reference counts and deallocation ==\n")?;
    let mut o = Objects::new(Profile::CPYTHON_3_11)?;
    // ANCHOR: counts
    let s = o.unicode_from_str("spam and eggs")?;
    writeln!(out, "s = 'spam and eggs'      ob_refcnt {}", o.refcnt(s)?)?;
    let li = o.list_new(0)?;
    o.list_append(li, s)?;
    writeln!(out, "li = []; li.append(s)   ob_refcnt {}", o.refcnt(s)?)?;
    o.decref(s)?;
    writeln!(out, "del s                   ob_refcnt {}", o.refcnt(s)?)?;
    writeln!(out, "del li:")?;
    let mut names = vec![(li, "li".to_owned()), (s, "the str".to_owned())];
    names.extend(buffer_names(&o, li, "li")?);
    for event in drop_traced(&mut o, li)? {
        let name = subject(&event).map_or("", |op| name_of(&names, op));
        let line = format!("  {event}  {name}");
        writeln!(out, "{}", line.trim_end())?;
    }
    // ANCHOR_END: counts

    // ANCHOR: cascade
    writeln!(
        out,
        "\ndel of [a, [b1, b2], (c1, c2), d], traced (refcnt 0 lines left out):"
    )?;
    let mut names = strs(&mut o, &["a", "b1", "b2", "c1", "c2", "d"])?;
    let op: Vec<u64> = names.iter().map(|(a, _)| *a).collect();
    let inner = list_of(&mut o, &[op[1], op[2]])?;
    let pair = tuple_of(&mut o, &[op[3], op[4]])?;
    let outer = list_of(&mut o, &[op[0], inner, pair, op[5]])?;
    names.push((inner, "[b1, b2]".into()));
    names.push((pair, "(c1, c2)".into()));
    names.push((outer, "the outer list".into()));
    names.extend(buffer_names(&o, inner, "[b1, b2]")?);
    names.extend(buffer_names(&o, outer, "the outer list")?);
    let events = drop_traced(&mut o, outer)?;
    print_cascade(out, &events, &names)?;
    let order = dealloc_order(&events, &names);
    writeln!(out, "\n{:<34} {order}", "[a, [b1, b2], (c1, c2), d]:")?;
    let containers = [("list [a, b, c, d]:", false), ("tuple (a, b, c, d):", true)];
    for (label, tuple) in containers {
        let names = strs(&mut o, &["a", "b", "c", "d"])?;
        let op: Vec<u64> = names.iter().map(|(a, _)| *a).collect();
        let container = if tuple {
            tuple_of(&mut o, &op)?
        } else {
            list_of(&mut o, &op)?
        };
        let order = dealloc_order(&drop_traced(&mut o, container)?, &names);
        writeln!(out, "{label:<34} {order}")?;
    }
    let values = strs(&mut o, &["a", "b", "c", "d"])?;
    let d = o.dict_new()?;
    for (value, name) in &values {
        let key = o.unicode_from_str(name)?; // 'a': a cached one-character str
        o.dict_setitem(d, key, *value)?; // d['a'] = a
        o.decref(key)?;
        o.decref(*value)?;
    }
    let order = dealloc_order(&drop_traced(&mut o, d)?, &values);
    writeln!(out, "{:<34} {order}", "dict {'a': a, ..., 'd': d}:")?;
    // ANCHOR_END: cascade
    Ok(())
}

/// The words around an instance, by offset from its address: the words before the `PyGC_Head`
/// (3.11+), the GC links, and the object (`tp_basicsize`: 32, 24, 16 bytes).
fn instance_fields(minor: u8) -> &'static [(i64, &'static str)] {
    const GC_AND_HEAD: [(i64, &str); 4] = [
        (-16, "_gc_next"),
        (-8, "_gc_prev"),
        (0, "ob_refcnt"),
        (8, "ob_type"),
    ];
    match minor {
        ..=10 => &[
            GC_AND_HEAD[0],
            GC_AND_HEAD[1],
            GC_AND_HEAD[2],
            GC_AND_HEAD[3],
            (16, "__dict__"),
            (24, "weakref"),
        ],
        11 => &[
            (-32, "values"),
            (-24, "dict"),
            GC_AND_HEAD[0],
            GC_AND_HEAD[1],
            GC_AND_HEAD[2],
            GC_AND_HEAD[3],
            (16, "weakref"),
        ],
        _ => &[
            (-32, "weakref"),
            (-24, "dict"),
            GC_AND_HEAD[0],
            GC_AND_HEAD[1],
            GC_AND_HEAD[2],
            GC_AND_HEAD[3],
        ],
    }
}

/// `setattr(op, name, value)` with a new str value; the instance keeps the only reference.
fn set_str(o: &mut Objects, op: u64, name: &str, value: &str) -> Result<u64, ObjError> {
    let (name, value) = (o.unicode_from_str(name)?, o.unicode_from_str(value)?);
    o.instance_setattr(op, name, value)?;
    o.decref(value)?;
    Ok(value)
}

/// How far into its block `addr` is.
fn offset_in_block(o: &Objects, addr: u64) -> Result<u64, Box<dyn std::error::Error>> {
    match o.allocator().what_is_at(addr)? {
        Location::Block(b) => Ok(addr - b.start),
        other => Err(format!("{addr:#x} is in no block: {other}").into()),
    }
}

/// What `tracemalloc.get_traced_memory()` grows by while `f` runs, computed from the trace:
/// the bytes asked of the allocator for each new buffer, and for each new object that no free
/// list served. Returns what `f` returned, and those bytes.
fn traced_growth(
    o: &mut Objects,
    f: impl FnOnce(&mut Objects) -> Result<u64, ObjError>,
) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    o.set_trace(true);
    let result = f(o);
    let events = o.take_trace();
    o.set_trace(false);
    let result = result?;
    let mut bytes = 0;
    for event in &events {
        bytes += match *event {
            ObjEvent::BufferAlloc { nbytes, .. } => nbytes,
            ObjEvent::New {
                op,
                from_free_list: false,
                ..
            } => requested(o, op, &events)?,
            ObjEvent::Free { .. }
            | ObjEvent::BufferFree { .. }
            | ObjEvent::BufferRealloc { .. } => {
                return Err(format!("{event}: the tour counts no frees").into());
            }
            _ => 0,
        };
    }
    Ok((result, bytes))
}

/// The bytes `PyObject_Malloc` was asked for the new object at `op`. That is what
/// `sys.getsizeof` counts, except that it counts a dict's tables, which the trace shows as
/// buffers of their own, and leaves out the values a 3.13 instance keeps after itself. Those
/// take `_PyInlineValuesSize` bytes (`Include/internal/pycore_dict.h`), computed before
/// `_PyObject_InitInlineValues` took one off the keys' `dk_usable`: room for one value more than
/// the `capacity` it then wrote.
fn requested(o: &Objects, op: u64, events: &[ObjEvent]) -> Result<u64, ObjError> {
    let size = o.getsizeof(op)?;
    Ok(match o.type_of(op)? {
        TypeId::Dict => {
            let tables = [o.read_word(op + 32)?, o.read_word(op + 40)?]; // ma_keys, ma_values
            let counted: u64 = events
                .iter()
                .filter_map(|e| match *e {
                    ObjEvent::BufferAlloc { addr, nbytes } if tables.contains(&addr) => {
                        Some(nbytes)
                    }
                    _ => None,
                })
                .sum();
            size - counted
        }
        TypeId::Instance if o.layout().minor >= 13 => {
            let capacity = o.read_word(op + 16)? & 0xff; // after tp_basicsize
            let room = capacity + 1;
            size + room.next_multiple_of(8) + 8 * (room + 1)
        }
        _ => size,
    })
}

/// The fields of `c`'s dict (3.8–3.10) that say where its keys and values are, and whether
/// another instance's dict has the same keys.
fn split_dict(
    o: &mut Objects,
    out: &mut String,
    class: u64,
    dict: u64,
    names: &mut Vec<(u64, &str)>,
) -> Res {
    let d = o.instance_new(class)?; // d = C(); d.a = 'ham'
    set_str(o, d, "a", "ham")?;
    let d_keys = o.read_word(o.read_word(d + 16)? + 32)?; // d.__dict__'s ma_keys
    names.push((d_keys, "the same keys as d's dict: shared"));
    writeln!(out, "c's dict at {dict:#x}")?;
    let fields = [(16, "ma_used"), (32, "ma_keys"), (40, "ma_values")];
    dump(o, out, dict, &fields, names)
}

fn classes_and_instances(out: &mut String) -> Res {
    writeln!(out, "\n== 4. Classes and instances ==\n")?;
    // ANCHOR: instance_layout
    for v in ["3.10", "3.11", "3.13"] {
        let mut o = Objects::new(Profile::parse(v)?)?;
        let class = o.type_new("C", "__main__")?; // class C: pass
        let c = o.instance_new(class)?; // c = C()
        let spam = set_str(&mut o, c, "a", "spam")?; // c.a = 'spam'
        let eggs = set_str(&mut o, c, "b", "eggs")?; // c.b = 'eggs'
        let minor = o.layout().minor;
        // Where the values are: the dict's ma_values (3.10), the word in front of
        // the dict pointer (3.11), after the object and a header word (3.13).
        let dict = if minor <= 10 { o.read_word(c + 16)? } else { 0 };
        let values = match minor {
            ..=10 => o.read_word(dict + 40)?,
            11 => o.read_word(c - 32)?,
            _ => c + 24,
        };
        let mut names = vec![
            (o.gen0_head(), "generation 0's list head"),
            (class - GC_HEAD_SIZE, "C's PyGC_Head"),
            (spam, "'spam'"),
            (eggs, "'eggs'"),
            (values, "c's values"),
        ];
        writeln!(out, "{v}: c = C(); c.a = 'spam'; c.b = 'eggs'")?;
        let offset = offset_in_block(&o, c)?;
        writeln!(out, "c at {c:#x}, {offset} bytes into its block")?;
        writeln!(out, "  in {}", place(&o, c)?)?;
        if dict != 0 {
            names.push((dict, "c's dict"));
        }
        dump(&mut o, out, c, instance_fields(minor), &names)?;
        if dict != 0 {
            split_dict(&mut o, out, class, dict, &mut names)?;
        }
        if minor >= 13 {
            let header = o.read_word(c + 16)?; // a byte each
            let [capacity, size, embedded, valid, ..] = header.to_le_bytes();
            write!(out, "  +16  capacity {capacity}, size {size}, ")?;
            writeln!(out, "embedded {embedded}, valid {valid}")?;
        }
        let offset = offset_in_block(&o, values)?;
        writeln!(out, "values at {values:#x}, {offset} bytes into its block")?;
        writeln!(out, "  in {}", place(&o, values)?)?;
        let slots = [(0, "[0]"), (8, "[1]"), (16, "[2]")];
        dump(&mut o, out, values, &slots, &names)?;
        writeln!(out)?;
    }
    // ANCHOR_END: instance_layout

    // ANCHOR: instance_costs
    let versions = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"];
    let mut columns = Vec::new();
    for v in versions {
        let mut o = Objects::new(Profile::parse(v)?)?;
        let class = o.type_new("C", "__main__")?; // class C: pass
        let mut column = Vec::new();
        let mut instances = Vec::new();
        for _ in 0..3 {
            // C(), three times
            let (c, bytes) = traced_growth(&mut o, |o| o.instance_new(class))?;
            instances.push(c);
            column.push(bytes);
        }
        let first = instances[0];
        for (name, value) in [("x", 1), ("y", 2)] {
            let name = o.unicode_from_str(name)?;
            let value = o.long_from_i64(value)?;
            let (_, bytes) = traced_growth(&mut o, |o| {
                o.instance_setattr(first, name, value).map(|()| 0) // first.x = 1
            })?;
            o.decref(value)?;
            column.push(bytes);
        }
        let fourth = o.instance_new(class)?; // fourth = C(); fourth.x = 1
        let (x, one) = (o.unicode_from_str("x")?, o.long_from_i64(1)?);
        o.instance_setattr(fourth, x, one)?;
        o.decref(one)?;
        let size = o.getsizeof(fourth)?;
        column.push(size);
        let dict = o.instance_dict(fourth)?; // 3.11+: made now from the values
        column.push(o.getsizeof(dict)?);
        o.decref(dict)?;
        column.push(o.getsizeof(class)?);
        // getsizeof counts the words in front of the object, then tp_basicsize
        column.push(size - offset_in_block(&o, fourth)?);
        columns.push(column);
    }
    // ANCHOR_END: instance_costs
    let rows = [
        "bytes traced: C(), the first",
        "bytes traced: C(), the second",
        "bytes traced: C(), the third",
        "bytes traced: first.x = 1",
        "bytes traced: first.y = 2",
        "getsizeof(fourth), after fourth.x = 1",
        "getsizeof(fourth.__dict__)",
        "getsizeof(C)",
        "type(C()).__basicsize__",
    ];
    let header = versions.map(|v| format!("{v:>5}")).join(" ");
    writeln!(out, "{:<38} {header}", "CPython")?;
    for (i, row) in rows.iter().enumerate() {
        let cells = columns.iter().map(|c| format!("{:>5}", c[i]));
        writeln!(out, "{row:<38} {}", cells.collect::<Vec<_>>().join(" "))?;
    }

    // ANCHOR: instance_dealloc
    writeln!(out)?;
    for v in ["3.10", "3.11", "3.13"] {
        let mut o = Objects::new(Profile::parse(v)?)?;
        let class = o.type_new("H", "__main__")?; // class H: pass
        let orders = [
            ("h.a = a ... h.d = d:", [0, 1, 2, 3]),
            ("then g.d = d ... g.a = a:", [3, 2, 1, 0]),
        ];
        for (label, order) in orders {
            let x = o.instance_new(class)?; // h = H(), then g = H()
            let values = strs(&mut o, &["a", "b", "c", "d"])?;
            for i in order {
                let (value, name) = &values[i];
                let name = o.unicode_from_str(name)?; // 'a': a cached str
                o.instance_setattr(x, name, *value)?; // h.a = a
                o.decref(*value)?;
            }
            let order = dealloc_order(&drop_traced(&mut o, x)?, &values);
            writeln!(out, "{v:<5} {label:<26} {order}")?;
        }
    }
    // ANCHOR_END: instance_dealloc
    Ok(())
}

/// What `sys.getrefcount(op)` returns: the count while the call holds its argument.
fn getrefcount(o: &mut Objects, op: u64) -> Result<u64, ObjError> {
    o.incref(op)?;
    let n = o.refcnt(op)?;
    o.decref(op)?;
    Ok(n)
}

fn caches_and_immortality(out: &mut String) -> Res {
    writeln!(out, "\n== 5. Caches and immortality ==\n")?;
    // ANCHOR: small_int_one
    for v in ["3.10", "3.11", "3.12"] {
        let mut o = Objects::new(Profile::parse(v)?)?;
        let one = o.long_from_i64(1)?; // one = int('1'): the cached small int
        let before = getrefcount(&mut o, one)?;
        for _ in 0..100 {
            o.incref(one)?; // keep.append(one)
        }
        let after = getrefcount(&mut o, one)?;
        for _ in 0..100 {
            o.decref(one)?; // del keep
        }
        let back = getrefcount(&mut o, one)?;
        let moved = after as i64 - before as i64;
        let dropped = back as i64 - after as i64;
        write!(out, "{v:<5} getrefcount(1) = {before:<10}")?;
        writeln!(out, "  100 more: {moved:+}, dropped: {dropped:+}")?;
    }
    // ANCHOR_END: small_int_one

    // ANCHOR: interned
    writeln!(out)?;
    for v in ["3.11", "3.12", "3.13"] {
        let mut o = Objects::new(Profile::parse(v)?)?;
        let built = o.unicode_from_str("abcd")?; // built = ''.join(['ab', 'cd'])
        let before = getrefcount(&mut o, built)?;
        let interned = o.unicode_intern(built)?; // interned = sys.intern(built)
        let same = py_bool(interned == built);
        let after = getrefcount(&mut o, interned)?;
        writeln!(
            out,
            "{v:<5} built: {before}   intern(built) is built: {same}   now: {after}"
        )?;
    }
    // ANCHOR_END: interned

    // ANCHOR: shared
    writeln!(out)?;
    let mut o = Objects::new(Profile::CPYTHON_3_11)?;
    let same: [(&str, Build); 12] = [
        ("int('256') is int('256')", |o| o.long_from_i64(256)),
        ("int('257') is int('257')", |o| o.long_from_i64(257)),
        ("int('-5') is int('-5')", |o| o.long_from_i64(-5)),
        ("int('-6') is int('-6')", |o| o.long_from_i64(-6)),
        ("chr(97) is chr(97)  ('a')", |o| o.unicode_from_str("a")),
        ("chr(200) is chr(200)  ('È', latin-1)", |o| {
            o.unicode_from_str("È")
        }),
        ("chr(255) is chr(255)", |o| o.unicode_from_str("ÿ")),
        ("chr(256) is chr(256)", |o| o.unicode_from_str("Ā")),
        ("str() is ''", |o| o.unicode_from_str("")),
        ("tuple() is ()", |o| o.tuple_new(0)),
        ("[] is [] (lists are never shared)", |o| o.list_new(0)),
        ("float('1.5') is float('1.5')", |o| o.float_from_f64(1.5)),
    ];
    for (label, build) in same {
        let (x, y) = (build(&mut o)?, build(&mut o)?); // both alive, as in `x is y`
        writeln!(out, "{label:<52} {}", py_bool(x == y))?;
    }
    // ANCHOR_END: shared

    // ANCHOR: singletons
    writeln!(out)?;
    let shared: [(&str, Build); 4] = [
        ("''", |o| o.unicode_from_str("")),
        ("()", |o| o.tuple_new(0)),
        ("'a'", |o| o.unicode_from_str("a")),
        ("1", |o| o.long_from_i64(1)),
    ];
    for v in ["3.10", "3.11"] {
        let mut o = Objects::new(Profile::parse(v)?)?;
        for (what, build) in shared {
            let op = build(&mut o)?;
            writeln!(out, "{v:<5} {what:<3} at {op:#x}: {}", place(&o, op)?)?;
        }
    }
    // ANCHOR_END: singletons
    Ok(())
}

/// `[79, 78, ..., 0, None, None]` as `#79..#0, 2 new`, as `objects_freelists.py` prints it.
fn runs(order: &[Option<usize>]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        match order[i] {
            None => {
                while j + 1 < order.len() && order[j + 1].is_none() {
                    j += 1;
                }
                parts.push(format!("{} new", j - i + 1));
            }
            Some(first) => {
                while j + 1 < order.len()
                    && order[j + 1].is_some()
                    && order[j + 1].map(|x| x + 1) == order[j]
                {
                    j += 1;
                }
                parts.push(match order[j] {
                    Some(last) if j > i => format!("#{first}..#{last}"),
                    _ => format!("#{first}"),
                });
            }
        }
        i = j + 1;
    }
    parts.join(", ")
}

/// How many new objects in `events` a free list served.
fn served_by_free_lists(events: &[ObjEvent]) -> usize {
    let listed = |e: &&ObjEvent| {
        matches!(
            e,
            ObjEvent::New {
                from_free_list: true,
                ..
            }
        )
    };
    events.iter().filter(listed).count()
}

fn free_lists(out: &mut String) -> Res {
    writeln!(out, "\n== 6. Free lists and id reuse ==\n")?;
    let mut o = Objects::new(Profile::CPYTHON_3_11)?;
    // ANCHOR: lifo
    let kinds: [(&str, Build); 4] = [
        ("list", |o| o.list_new(0)),
        ("dict", |o| o.dict_new()),
        ("float", |o| o.float_from_f64(3.5)),
        ("2-tuple", |o| {
            let three = o.long_from_i64(3)?;
            tuple_of(o, &[three, three])
        }),
    ];
    for (name, make) in kinds {
        let (x, y, z) = (make(&mut o)?, make(&mut o)?, make(&mut o)?);
        for op in [x, y, z] {
            o.decref(op)?; // del x; del y; del z
        }
        let (a, b, c) = (make(&mut o)?, make(&mut o)?, make(&mut o)?);
        let got = [a == z, b == y, c == x].map(py_bool).join(" ");
        let line = "free x, y, z; new a, b, c: a is z's, b is y's, c is x's:";
        writeln!(out, "{name:<7} {line} {got}")?;
    }
    // ANCHOR_END: lifo

    // ANCHOR: capacity
    let kinds: [(&str, Build, usize); 3] = [
        ("list", |o| o.list_new(0), 100),
        ("dict", |o| o.dict_new(), 100),
        ("float", |o| o.float_from_f64(3.5), 150),
    ];
    for (name, make, n) in kinds {
        let old: Vec<u64> = (0..n).map(|_| make(&mut o)).collect::<Result<_, _>>()?;
        for &op in &old {
            o.decref(op)?; // freed in the order 0, 1, ..., n - 1
        }
        o.set_trace(true);
        let new: Vec<u64> = (0..n).map(|_| make(&mut o)).collect::<Result<_, _>>()?;
        let listed = served_by_free_lists(&o.take_trace());
        o.set_trace(false);
        // For each new object, which of the old ones it is (by address).
        let order: Vec<Option<usize>> = new
            .iter()
            .map(|op| old.iter().position(|x| x == op))
            .collect();
        let reused = order.iter().flatten().count();
        writeln!(
            out,
            "{name}: {n} freed, {n} new: {reused} of the new ones are old ones"
        )?;
        writeln!(out, "  {listed} of them from the {name} free list")?;
        let runs = runs(&order);
        writeln!(
            out,
            "  new ones, in order, are the objects freed as: {runs}"
        )?;
    }
    // ANCHOR_END: capacity

    // ANCHOR: tuples
    writeln!(out, "\nwhere a freed tuple goes, by size:")?;
    writeln!(out, "  size  3.8              3.11")?;
    let mut processes = [
        Objects::new(Profile::CPYTHON_3_8)?,
        Objects::new(Profile::CPYTHON_3_11)?,
    ];
    for size in [1, 2, 19, 20, 21] {
        let mut row = format!("  {size:>4}");
        for o in &mut processes {
            let t = o.tuple_new(size)?;
            o.set_trace(true);
            o.decref(t)?;
            let kept = o.take_trace().iter().any(|e| {
                let listed = matches!(e, ObjEvent::ToFreeList { .. });
                listed && subject(e) == Some(t)
            });
            o.set_trace(false);
            write!(row, "  {:<15}", if kept { "free list" } else { "pymalloc" })?;
        }
        writeln!(out, "{}", row.trim_end())?;
    }
    let o = &mut processes[1];
    let (t2, t3) = (o.tuple_new(2)?, o.tuple_new(3)?);
    o.decref(t3)?;
    o.decref(t2)?;
    let (n3, n2) = (o.tuple_new(3)?, o.tuple_new(2)?);
    writeln!(
        out,
        "3.11: free a 3-tuple, then a 2-tuple; make a 3-tuple, then a 2-tuple:"
    )?;
    let (same3, same2) = (py_bool(n3 == t3), py_bool(n2 == t2));
    writeln!(
        out,
        "  the new 3-tuple is the old one: {same3}, the new 2-tuple too: {same2}"
    )?;
    // ANCHOR_END: tuples
    Ok(())
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn after_deallocation(out: &mut String) -> Res {
    writeln!(
        out,
        "\n== 7. What a freed list's memory still says (CPython 3.11) ==\n"
    )?;
    let mut o = Objects::new(Profile::CPYTHON_3_11)?;
    // ANCHOR: stale
    let li = o.list_new_generic()?; // li = list()
    let s = o.unicode_from_str("hsafdasdsadasdfsdfsdasdasi")?;
    o.list_append(li, s)?; // li.append("hsafd...")
    o.decref(s)?;
    let items = o.read_word(li + 24)?;
    o.decref(li)?; // the function returns id(li): the list's count drops to 0
    let names = [(items, "the freed item buffer")];
    writeln!(
        out,
        "the list at {li:#x}, alive: {}",
        py_bool(o.is_live(li))
    )?;
    writeln!(out, "  in {}", place(&o, li - GC_HEAD_SIZE)?)?;
    dump(&mut o, out, li, &LIST_FIELDS, &names)?;
    writeln!(out, "item buffer at {items:#x}")?;
    writeln!(out, "  in {}", place(&o, items)?)?;
    let link = o.read_word(items)?; // where the str's address was
    writeln!(
        out,
        "  [0]  {link:#x}: still the str ({s:#x})? {}",
        py_bool(link == s)
    )?;
    writeln!(
        out,
        "       pymalloc's free-list link, into {}",
        place(&o, link)?
    )?;
    writeln!(out, "the str at {s:#x}")?;
    writeln!(out, "  in {}", place(&o, s)?)?;
    // ANCHOR_END: stale
    Ok(())
}
