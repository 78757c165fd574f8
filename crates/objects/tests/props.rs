//! Random sequences of object operations on every CPython profile, checked against a reference
//! model kept here: the test's own references ("handles"), the objects it knows to be live with
//! their contents, the list, float and tuple free lists (LIFO, with their capacities), and the
//! trashcan's deferral of deep deallocations.
//!
//! Cases default to 300 per property (each case one profile, up to 64 operations, every invariant
//! checked after every operation; about 7 s for the file in a debug build).
//! `PROPTEST_CASES=20000 cargo test -p objects --release --test props` runs a long search;
//! The regression tests at the end are the bugs these properties found, reduced.
//!
//! After every operation:
//!
//! * every live object's count equals a recount of the references that exist: the test's
//!   handles plus the items of the live lists (read from memory at `ob_item + 8 * i`) and tuples
//!   (read at `op + 24 + 8 * i`), plus, for the cached objects (small ints, one-character strs,
//!   `''`, `()`), the references of the caches and of 3.11's static base, measured when the test
//!   first meets them; on 3.12+ those read 4294967295 and never move;
//! * a new object is never at the address of a live object, nor of an object on a free list
//!   unless it came from that free list, and then it is the one most recently pushed;
//! * an object is freed exactly when its count reaches zero: `is_live` is false right after the
//!   operation that released its last reference, and true for every object the model holds;
//! * reads of memory agree with the objects' state: `ob_refcnt`, one `ob_type` word per type (and
//!   a different one for each type), a list's `ob_size`, `ob_item` and `allocated` (the version's
//!   growth pattern), a tuple's `ob_size` and items, a str's length and characters at its header's
//!   end, a float's value; an int's `repr` is its decimal value; `sys.getsizeof` of containers;
//!   the free-list links of floats (`ob_type`) and tuples (`ob_item[0]`);
//! * lists and non-empty tuples are tracked by the collector exactly while they live;
//! * `repr` of any held object (nested lists and tuples, cycles, NULL items) equals a rendering
//!   computed here from the model;
//! * misuse (a dead object, an address inside an object, list operations on a non-list, an index
//!   out of range) is an error, and changes nothing.
//!
//! The deterministic tests below pin the free lists (LIFO order, capacities 80, 100 and 2000 per
//! tuple size), the trashcan (10,000 nested containers deallocated on a small stack) and the stale
//! header a deallocated list leaves in memory.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use objects::{Layout, ObjError, ObjEvent, Objects, TypeId, float_repr, unicode_repr};
use proptest::prelude::*;

mod common;
use common::{
    IMMORTAL, Must, RENDER_BUDGET, cases, int_cache_key, render_container, str_cache_key,
};
use pymalloc::{Location, Profile};

/// `PyList_MAXFREELIST`.
const LIST_FREE_MAX: usize = 80;
/// `PyFloat_MAXFREELIST`.
const FLOAT_FREE_MAX: usize = 100;
/// `PyTuple_MAXFREELIST`.
const TUPLE_FREE_MAX: usize = 2000;
/// `_PyTrash_UNWIND_LEVEL`.
const TRASH_UNWIND_LEVEL: u32 = 50;
/// `sizeof(PyListObject)` + `PyGC_Head`, and a tuple's header + `PyGC_Head`.
const LIST_GETSIZEOF: u64 = 56;
const TUPLE_GETSIZEOF: u64 = 40;

// ---- operations -----------------------------------------------------------------------------

/// One step. Indices pick among the test's handles, modulo their number.
#[derive(Clone, Debug)]
enum Op {
    Int(i64),
    BigInt(i128),
    Str(String),
    Float(f64),
    /// `PyList_New(n)`: `n` NULL items.
    ListNew(u64),
    /// `list()`.
    ListGeneric,
    Append {
        list: usize,
        item: usize,
    },
    /// `PyList_SetItem`, giving the handle `item` away.
    Set {
        list: usize,
        index: usize,
        item: usize,
    },
    Pop {
        list: usize,
        keep: bool,
    },
    Clear(usize),
    /// `PyTuple_Pack` of some handles.
    Tuple(Vec<usize>),
    /// `PyTuple_New(n)`: NULL items.
    TupleNew(u64),
    /// Many appends of one item: the buffer grows through pymalloc's classes into glibc.
    Grow {
        list: usize,
        item: usize,
        times: usize,
    },
    /// Many pops, each popped reference dropped: the buffer shrinks.
    Shrink {
        list: usize,
        times: usize,
    },
    Drop(usize),
    Dup(usize),
    Repr(usize),
    Misuse(Misuse, usize, usize),
}

#[derive(Clone, Copy, Debug)]
enum Misuse {
    /// Every operation on an object that died.
    Dead,
    /// List, tuple, int, str and float operations on objects of other types.
    WrongType,
    /// Indices past a list's end; pop of an empty list.
    OutOfRange,
    /// Addresses inside an object, and misaligned reads.
    Interior,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9]{2,8}",
        2 => "[ -~]{9,60}",
        2 => "[a-z'\"\u{e9}\u{fc}\u{ac00}-\u{ac03}\u{1f600}]{2,16}",
        2 => any::<u8>().prop_map(|b| char::from(b).to_string()),
        1 => "[\u{100}-\u{d7ff}]",
        1 => Just(String::new()),
    ]
}

fn op(lists: bool) -> BoxedStrategy<Op> {
    let i = || 0usize..64;
    let common = prop_oneof![
        4 => prop_oneof![-8i64..=300, any::<i64>()].prop_map(Op::Int),
        1 => prop_oneof![
            (i128::from(i64::MAX) + 1)..=i128::MAX,
            i128::MIN..=(i128::from(i64::MIN) - 1),
            any::<i64>().prop_map(i128::from),
        ]
        .prop_map(Op::BigInt),
        4 => text().prop_map(Op::Str),
        2 => prop_oneof![any::<f64>(), -1e6f64..1e6].prop_map(Op::Float),
        3 => prop::collection::vec(i(), 0..6).prop_map(Op::Tuple),
        1 => (0u64..24).prop_map(Op::TupleNew),
        4 => i().prop_map(Op::Drop),
        2 => i().prop_map(Op::Dup),
        2 => i().prop_map(Op::Repr),
        1 => (
            prop_oneof![
                Just(Misuse::Dead),
                Just(Misuse::WrongType),
                Just(Misuse::OutOfRange),
                Just(Misuse::Interior),
            ],
            i(),
            i()
        )
            .prop_map(|(m, a, b)| Op::Misuse(m, a, b)),
    ];
    if !lists {
        return common.boxed();
    }
    prop_oneof![
        6 => common,
        2 => (0u64..6).prop_map(Op::ListNew),
        2 => Just(Op::ListGeneric),
        5 => (i(), i()).prop_map(|(list, item)| Op::Append { list, item }),
        3 => (i(), i(), i()).prop_map(|(list, index, item)| Op::Set { list, index, item }),
        2 => (i(), any::<bool>()).prop_map(|(list, keep)| Op::Pop { list, keep }),
        1 => i().prop_map(Op::Clear),
        1 => (i(), i(), 1usize..200).prop_map(|(list, item, times)| Op::Grow { list, item, times }),
        1 => (i(), 1usize..200).prop_map(|(list, times)| Op::Shrink { list, times }),
    ]
    .boxed()
}

// ---- the reference model --------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Int(i128),
    Str(String),
    Float(u64),
    List(Vec<u64>),
    Tuple(Vec<u64>),
}

impl Value {
    fn ty(&self) -> TypeId {
        match self {
            Value::Int(_) => TypeId::Int,
            Value::Str(_) => TypeId::Str,
            Value::Float(_) => TypeId::Float,
            Value::List(_) => TypeId::List,
            Value::Tuple(_) => TypeId::Tuple,
        }
    }

    /// The cache that returns this value, if one does: small ints, `''` and one latin-1
    /// character, `()`.
    fn cache_key(&self) -> Option<String> {
        match self {
            Value::Int(v) => int_cache_key(*v),
            Value::Str(s) => str_cache_key(s),
            Value::Tuple(t) if t.is_empty() => Some("()".into()),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
struct MObj {
    value: Value,
    /// Returned by a cache: never deallocated.
    cached: bool,
    /// References the caches (and 3.11's static base) hold, beyond those the model counts.
    extra: u64,
    /// A list's `allocated`.
    allocated: u64,
    /// Whether a list's buffer is a glibc chunk (once there, `PyObject_Realloc` keeps it there).
    glibc: bool,
}

struct Harness {
    o: Objects,
    layout: Layout,
    immortal: bool,
    /// The test's own references, one entry per reference.
    handles: Vec<u64>,
    /// The objects the model knows to be live.
    objs: HashMap<u64, MObj>,
    /// The model's count of each: handles plus container items.
    rc: HashMap<u64, u64>,
    /// Cache key -> the cached object's address.
    cache: HashMap<String, u64>,
    free_list: Vec<u64>,
    free_float: Vec<u64>,
    free_tuple: Vec<Vec<u64>>,
    nesting: u32,
    later: Vec<u64>,
    /// Objects that died during the current operation.
    died: Vec<u64>,
    /// Recently dead objects, for misuse.
    dead: Vec<u64>,
    /// Objects the object layer made for itself (`Py_ReprEnter`'s dict, key and list).
    foreign: HashSet<u64>,
    type_words: HashMap<TypeId, u64>,
}

impl Harness {
    fn new(profile: Profile) -> Harness {
        let o = Objects::new(profile).expect("start-up");
        let layout = o.layout();
        Harness {
            o,
            layout,
            immortal: layout.has_immortal_objects(),
            handles: Vec::new(),
            objs: HashMap::new(),
            rc: HashMap::new(),
            cache: HashMap::new(),
            free_list: Vec::new(),
            free_float: Vec::new(),
            free_tuple: vec![Vec::new(); layout.tuple_maxsavesize()],
            nesting: 0,
            later: Vec::new(),
            died: Vec::new(),
            dead: Vec::new(),
            foreign: HashSet::new(),
            type_words: HashMap::new(),
        }
    }

    fn handle(&self, i: usize) -> Option<(usize, u64)> {
        if self.handles.is_empty() {
            return None;
        }
        let i = i % self.handles.len();
        Some((i, self.handles[i]))
    }

    fn is_listed(&self, op: u64) -> bool {
        self.free_list.contains(&op)
            || self.free_float.contains(&op)
            || self.free_tuple.iter().any(|l| l.contains(&op))
    }

    fn list_items(&self, op: u64) -> Option<&Vec<u64>> {
        match &self.objs.get(&op)?.value {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    fn list_mut(&mut self, op: u64) -> &mut Vec<u64> {
        match &mut self.objs.get_mut(&op).expect("known").value {
            Value::List(items) => items,
            _ => unreachable!("a list"),
        }
    }

    /// A new reference the API returned: a cached object, or a new one, which must come from
    /// `from` (the model's free-list top) if that is set, else from the allocator.
    fn created(
        &mut self,
        op: u64,
        value: Value,
        from: Option<u64>,
        allocated: u64,
    ) -> Result<(), TestCaseError> {
        if let Some(key) = value.cache_key() {
            prop_assert_eq!(from, None);
            if let Some(&at) = self.cache.get(&key) {
                prop_assert_eq!(op, at, "the cached {} moved", key);
                *self.rc.get_mut(&op).expect("known") += 1;
                self.handles.push(op);
                return Ok(());
            }
            prop_assert!(!self.objs.contains_key(&op) && !self.is_listed(op));
            let count = self.o.refcnt(op).must("refcnt")?;
            let extra = if self.immortal {
                prop_assert_eq!(count, IMMORTAL, "{} is not immortal", key);
                0
            } else {
                count - 1
            };
            self.cache.insert(key, op);
            self.objs.insert(
                op,
                MObj {
                    value,
                    cached: true,
                    extra,
                    allocated,
                    glibc: false,
                },
            );
            self.rc.insert(op, 1);
            self.handles.push(op);
            return Ok(());
        }
        prop_assert!(
            !self.objs.contains_key(&op) && !self.foreign.contains(&op),
            "{:#x} handed out while live",
            op
        );
        match from {
            Some(top) => prop_assert_eq!(op, top, "not the free list's top"),
            None => prop_assert!(!self.is_listed(op), "{:#x} is on a free list", op),
        }
        self.objs.insert(
            op,
            MObj {
                value,
                cached: false,
                extra: 0,
                allocated,
                glibc: 8 * allocated > 512,
            },
        );
        self.rc.insert(op, 1);
        self.handles.push(op);
        Ok(())
    }

    fn m_incref(&mut self, op: u64) {
        if op != 0 {
            *self.rc.get_mut(&op).expect("known") += 1;
        }
    }

    fn m_decref(&mut self, op: u64) {
        if op == 0 {
            return;
        }
        let r = self.rc.get_mut(&op).expect("known");
        *r -= 1;
        if *r == 0 && !self.objs[&op].cached {
            self.rc.remove(&op);
            self.m_dealloc(op);
        }
    }

    /// `_Py_Dealloc`, as each type's `tp_dealloc` does it, with `Py_TRASHCAN_BEGIN/END`.
    fn m_dealloc(&mut self, op: u64) {
        let value = self.objs[&op].value.clone();
        match value {
            Value::List(items) | Value::Tuple(items) => {
                if self.nesting >= TRASH_UNWIND_LEVEL {
                    self.later.push(op);
                    return;
                }
                self.nesting += 1;
                for &it in items.iter().rev() {
                    self.m_decref(it);
                }
                let is_list = self.objs[&op].value.ty() == TypeId::List;
                self.bury(op);
                let n = items.len();
                if is_list {
                    if self.free_list.len() < LIST_FREE_MAX {
                        self.free_list.push(op);
                    }
                } else if n < self.free_tuple.len() && self.free_tuple[n].len() < TUPLE_FREE_MAX {
                    self.free_tuple[n].push(op);
                }
                self.nesting -= 1;
                if self.nesting == 0 {
                    while let Some(x) = self.later.pop() {
                        self.nesting += 1;
                        self.m_dealloc(x);
                        self.nesting -= 1;
                    }
                }
            }
            Value::Float(_) => {
                self.bury(op);
                if self.free_float.len() < FLOAT_FREE_MAX {
                    self.free_float.push(op);
                }
            }
            Value::Int(_) | Value::Str(_) => self.bury(op),
        }
    }

    fn bury(&mut self, op: u64) {
        self.objs.remove(&op);
        self.died.push(op);
        if self.dead.len() >= 64 {
            self.dead.remove(0);
        }
        self.dead.push(op);
    }

    /// `list_resize`'s effect on `allocated`.
    fn m_resize(&mut self, l: u64, newsize: u64) {
        let layout = self.layout;
        let obj = self.objs.get_mut(&l).expect("known");
        let Value::List(items) = &obj.value else {
            unreachable!("a list")
        };
        let old = items.len() as u64;
        if !(obj.allocated >= newsize && newsize >= obj.allocated >> 1) {
            obj.allocated = layout.list_new_allocated(newsize, old);
            // PyMem_Realloc(p, 0) is malloc(0), which pymalloc passes to glibc.
            obj.glibc |= newsize == 0 || 8 * obj.allocated > 512;
        }
    }

    fn append(&mut self, l: u64, it: u64) -> Result<(), TestCaseError> {
        self.o.list_append(l, it).must("list_append")?;
        self.m_incref(it);
        let n = self.list_items(l).expect("a list").len() as u64;
        self.m_resize(l, n + 1);
        self.list_mut(l).push(it);
        Ok(())
    }

    /// Pops the last item; the popped reference is dropped unless `keep`.
    fn pop(&mut self, l: u64, keep: bool) -> Result<(), TestCaseError> {
        let items = self.list_items(l).expect("a list");
        if items.is_empty() {
            let e = self.o.list_pop(l);
            prop_assert!(
                matches!(e, Err(ObjError::IndexOutOfRange { .. })),
                "{:?}",
                e
            );
            return Ok(());
        }
        let last = *items.last().expect("not empty");
        let n = items.len() as u64;
        let v = self.o.list_pop(l).must("list_pop")?;
        prop_assert_eq!(v, last);
        self.m_resize(l, n - 1);
        self.list_mut(l).pop();
        if v != 0 {
            if keep {
                self.handles.push(v);
            } else {
                self.o.decref(v).must("decref popped")?;
                self.m_decref(v);
            }
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        self.died.clear();
        match *op {
            Op::Int(v) => {
                let p = self.o.long_from_i64(v).must("long_from_i64")?;
                self.created(p, Value::Int(v.into()), None, 0)?;
            }
            Op::BigInt(v) => {
                let p = self.o.long_from_i128(v).must("long_from_i128")?;
                self.created(p, Value::Int(v), None, 0)?;
            }
            Op::Str(ref s) => {
                let p = self.o.unicode_from_str(s).must("unicode_from_str")?;
                self.created(p, Value::Str(s.clone()), None, 0)?;
            }
            Op::Float(f) => {
                let from = self.free_float.pop();
                let p = self.o.float_from_f64(f).must("float_from_f64")?;
                self.created(p, Value::Float(f.to_bits()), from, 0)?;
            }
            Op::ListNew(n) => {
                let from = self.free_list.pop();
                let p = self.o.list_new(n).must("list_new")?;
                self.created(p, Value::List(vec![0; n as usize]), from, n)?;
            }
            Op::ListGeneric => {
                let p = self.o.list_new_generic().must("list_new_generic")?;
                self.created(p, Value::List(Vec::new()), None, 0)?;
            }
            Op::Append { list, item } => {
                let (Some((_, l)), Some((_, it))) = (self.handle(list), self.handle(item)) else {
                    return self.check();
                };
                if self.list_items(l).is_some() {
                    self.append(l, it)?;
                } else {
                    let e = self.o.list_append(l, it);
                    prop_assert!(matches!(e, Err(ObjError::WrongType { .. })), "{:?}", e);
                }
            }
            Op::Set { list, index, item } => {
                let (Some((_, l)), Some((ii, it))) = (self.handle(list), self.handle(item)) else {
                    return self.check();
                };
                let Some(items) = self.list_items(l) else {
                    return self.check();
                };
                if items.is_empty() {
                    return self.check();
                }
                let idx = index % items.len();
                self.o.list_set(l, idx as u64, it).must("list_set")?;
                self.handles.swap_remove(ii);
                let old = std::mem::replace(&mut self.list_mut(l)[idx], it);
                self.m_decref(old);
            }
            Op::Pop { list, keep } => {
                let Some((_, l)) = self.handle(list) else {
                    return self.check();
                };
                match self.list_items(l).map(Vec::len) {
                    Some(0) => {
                        let e = self.o.list_pop(l);
                        prop_assert!(
                            matches!(e, Err(ObjError::IndexOutOfRange { .. })),
                            "{:?}",
                            e
                        );
                    }
                    Some(_) => self.pop(l, keep)?,
                    None => {
                        let e = self.o.list_pop(l);
                        prop_assert!(matches!(e, Err(ObjError::WrongType { .. })), "{:?}", e);
                    }
                }
            }
            Op::Clear(list) => {
                let Some((_, l)) = self.handle(list) else {
                    return self.check();
                };
                if self.list_items(l).is_some() {
                    self.o.list_clear(l).must("list_clear")?;
                    let items = std::mem::take(self.list_mut(l));
                    let obj = self.objs.get_mut(&l).expect("known");
                    obj.allocated = 0;
                    obj.glibc = false;
                    for &it in items.iter().rev() {
                        self.m_decref(it);
                    }
                } else {
                    let e = self.o.list_clear(l);
                    prop_assert!(matches!(e, Err(ObjError::WrongType { .. })), "{:?}", e);
                }
            }
            Op::Tuple(ref picks) => {
                let items: Vec<u64> = picks
                    .iter()
                    .filter_map(|&i| self.handle(i).map(|(_, h)| h))
                    .collect();
                let from = self
                    .free_tuple
                    .get_mut(items.len())
                    .filter(|_| !items.is_empty())
                    .and_then(Vec::pop);
                let p = self.o.tuple_pack(&items).must("tuple_pack")?;
                for &it in &items {
                    self.m_incref(it);
                }
                self.created(p, Value::Tuple(items), from, 0)?;
            }
            Op::TupleNew(n) => {
                let from = self
                    .free_tuple
                    .get_mut(n as usize)
                    .filter(|_| n > 0)
                    .and_then(Vec::pop);
                let p = self.o.tuple_new(n).must("tuple_new")?;
                self.created(p, Value::Tuple(vec![0; n as usize]), from, 0)?;
            }
            Op::Grow { list, item, times } => {
                let (Some((_, l)), Some((_, it))) = (self.handle(list), self.handle(item)) else {
                    return self.check();
                };
                if self.list_items(l).is_some() {
                    for _ in 0..times {
                        self.append(l, it)?;
                    }
                }
            }
            Op::Shrink { list, times } => {
                let Some((_, l)) = self.handle(list) else {
                    return self.check();
                };
                if let Some(items) = self.list_items(l) {
                    for _ in 0..times.min(items.len()) {
                        self.pop(l, false)?;
                    }
                }
            }
            Op::Drop(h) => {
                let Some((i, x)) = self.handle(h) else {
                    return self.check();
                };
                self.handles.swap_remove(i);
                self.o.decref(x).must("decref")?;
                self.m_decref(x);
            }
            Op::Dup(h) => {
                let Some((_, x)) = self.handle(h) else {
                    return self.check();
                };
                self.o.incref(x).must("incref")?;
                self.handles.push(x);
                self.m_incref(x);
            }
            Op::Repr(h) => {
                let Some((_, x)) = self.handle(h) else {
                    return self.check();
                };
                self.repr(x)?;
            }
            Op::Misuse(kind, a, b) => self.misuse(kind, a, b)?,
        }
        self.check()
    }

    /// `repr(x)` against the model's rendering. The first `repr` of a non-empty container makes
    /// what `Py_ReprEnter` needs: the thread state's dict, the `'Py_Repr'` key (before 3.11) and
    /// the list, made with `PyList_New(0)`, so from the list free list if it has one. They stay.
    fn repr(&mut self, x: u64) -> Result<(), TestCaseError> {
        self.o.set_trace(true);
        let got = self.o.repr(x);
        let events = self.o.take_trace();
        self.o.set_trace(false);
        let got = got.must("repr")?;
        for e in events {
            if let ObjEvent::New {
                op,
                ty,
                from_free_list,
            } = e
            {
                prop_assert!(
                    !self.objs.contains_key(&op),
                    "{:#x} handed out while live",
                    op
                );
                if ty == TypeId::List {
                    let top = if from_free_list {
                        self.free_list.pop()
                    } else {
                        None
                    };
                    prop_assert_eq!(from_free_list, top.is_some(), "list free list empty");
                    if let Some(top) = top {
                        prop_assert_eq!(op, top, "not the list free list's top");
                    }
                }
                if !from_free_list {
                    prop_assert!(!self.is_listed(op), "{:#x} is on a free list", op);
                }
                self.foreign.insert(op);
            }
        }
        let mut want = String::new();
        if self.render(x, &mut Vec::new(), &mut want) {
            prop_assert_eq!(got, want);
        }
        Ok(())
    }

    /// The model's `repr`: `Py_ReprEnter` semantics for containers being printed, `<NULL>` for
    /// NULL items. False when the budget ran out.
    fn render(&self, op: u64, stack: &mut Vec<u64>, out: &mut String) -> bool {
        if out.len() > RENDER_BUDGET {
            return false;
        }
        if op == 0 {
            out.push_str("<NULL>");
            return true;
        }
        let (brackets, items) = match &self.objs[&op].value {
            Value::Int(v) => {
                let _ = write!(out, "{v}");
                return true;
            }
            Value::Str(s) => {
                out.push_str(&unicode_repr(s));
                return true;
            }
            Value::Float(b) => {
                out.push_str(&float_repr(f64::from_bits(*b)));
                return true;
            }
            Value::List(items) => (("[", "]"), items),
            Value::Tuple(items) => (("(", ")"), items),
        };
        let items: Vec<_> = items.iter().map(|&i| (i, None)).collect();
        render_container(op, brackets, &items, stack, out, &|a, stack, out| {
            self.render(a, stack, out)
        })
    }

    fn misuse(&mut self, kind: Misuse, a: usize, b: usize) -> Result<(), TestCaseError> {
        macro_rules! refused {
            ($e:expr) => {{
                let r = $e;
                prop_assert!(r.is_err(), "{} succeeded: {:?}", stringify!($e), r);
            }};
        }
        match kind {
            Misuse::Dead => {
                if self.dead.is_empty() {
                    return Ok(());
                }
                let d = self.dead[a % self.dead.len()];
                if self.o.is_live(d) {
                    return Ok(()); // reused by an object the model does not know (the repr list)
                }
                prop_assert!(!self.objs.contains_key(&d));
                refused!(self.o.decref(d));
                refused!(self.o.incref(d));
                refused!(self.o.list_len(d));
                refused!(self.o.list_get(d, 0));
                refused!(self.o.list_pop(d));
                refused!(self.o.list_clear(d));
                refused!(self.o.tuple_items(d));
                refused!(self.o.long_value(d));
                refused!(self.o.unicode_text(d));
                refused!(self.o.unicode_hash(d));
                refused!(self.o.float_value(d));
                refused!(self.o.getsizeof(d));
                refused!(self.o.tuple_pack(&[d]));
                if let Some((_, h)) = self.handle(b) {
                    refused!(self.o.tuple_pack(&[h, d]));
                    if self.list_items(h).is_some() {
                        refused!(self.o.list_append(h, d));
                    }
                }
            }
            Misuse::WrongType => {
                let Some((_, x)) = self.handle(a) else {
                    return Ok(());
                };
                let ty = self.objs[&x].value.ty();
                if ty != TypeId::List {
                    refused!(self.o.list_append(x, x));
                    refused!(self.o.list_len(x));
                    refused!(self.o.list_get(x, 0));
                    refused!(self.o.list_pop(x));
                    refused!(self.o.list_clear(x));
                }
                if ty != TypeId::Tuple {
                    refused!(self.o.tuple_items(x));
                }
                if ty != TypeId::Int {
                    refused!(self.o.long_value(x));
                }
                if ty != TypeId::Str {
                    refused!(self.o.unicode_text(x));
                    refused!(self.o.unicode_hash(x));
                }
                if ty != TypeId::Float {
                    refused!(self.o.float_value(x));
                }
            }
            Misuse::OutOfRange => {
                let Some((_, x)) = self.handle(a) else {
                    return Ok(());
                };
                if let Some(items) = self.list_items(x) {
                    let n = items.len() as u64;
                    let e = self.o.list_get(x, n + b as u64);
                    prop_assert!(
                        matches!(e, Err(ObjError::IndexOutOfRange { .. })),
                        "{:?}",
                        e
                    );
                }
            }
            Misuse::Interior => {
                let Some((_, x)) = self.handle(a) else {
                    return Ok(());
                };
                let inside = x + 8 * (1 + b as u64 % 2);
                refused!(self.o.decref(inside));
                refused!(self.o.incref(inside));
                refused!(self.o.list_len(inside));
                refused!(self.o.read_word(x + 1 + b as u64 % 7));
            }
        }
        Ok(())
    }

    /// Every invariant, from the model and from memory.
    fn check(&mut self) -> Result<(), TestCaseError> {
        for &d in &self.died {
            prop_assert!(!self.o.is_live(d), "{:#x} outlived its last reference", d);
            prop_assert!(!self.o.gc_is_tracked(d), "dead {:#x} still tracked", d);
        }
        // Recount: handles, then the items of live containers as memory holds them.
        let mut count: HashMap<u64, u64> = HashMap::new();
        for &h in &self.handles {
            *count.entry(h).or_default() += 1;
        }
        let ascii_header = self.layout.ascii_header();
        let compact_header = self.layout.compact_header();
        for (&op, obj) in &self.objs {
            let o = &self.o;
            prop_assert!(o.is_live(op), "{:#x} ({:?}) died early", op, obj.value);
            prop_assert_eq!(o.type_of(op).must("type_of")?, obj.value.ty());
            prop_assert_eq!(
                o.read_word(op).must("ob_refcnt")?,
                o.refcnt(op).must("refcnt")?
            );
            let tw = o.read_word(op + 8).must("ob_type")?;
            let known = *self.type_words.entry(obj.value.ty()).or_insert(tw);
            prop_assert_eq!(tw, known, "ob_type of {:#x}", op);
            match &obj.value {
                Value::List(items) => {
                    let n = o.read_word(op + 16).must("ob_size")?;
                    prop_assert_eq!(n, items.len() as u64);
                    prop_assert_eq!(o.list_len(op).must("list_len")?, n);
                    let ob_item = o.read_word(op + 24).must("ob_item")?;
                    prop_assert_eq!(o.read_word(op + 32).must("allocated")?, obj.allocated);
                    prop_assert_eq!(
                        o.getsizeof(op).must("getsizeof")?,
                        LIST_GETSIZEOF + 8 * obj.allocated
                    );
                    for (i, &want) in items.iter().enumerate() {
                        let w = o.read_word(ob_item + 8 * i as u64).must("item")?;
                        prop_assert_eq!(w, want, "item {} of list {:#x}", i, op);
                        prop_assert_eq!(o.list_get(op, i as u64).must("list_get")?, w);
                        if w != 0 {
                            *count.entry(w).or_default() += 1;
                        }
                    }
                    prop_assert!(o.gc_is_tracked(op), "list {:#x} untracked", op);
                }
                Value::Tuple(items) => {
                    prop_assert_eq!(o.read_word(op + 16).must("ob_size")?, items.len() as u64);
                    prop_assert_eq!(&o.tuple_items(op).must("tuple_items")?, items);
                    prop_assert_eq!(
                        o.getsizeof(op).must("getsizeof")?,
                        TUPLE_GETSIZEOF + 8 * items.len() as u64
                    );
                    for (i, &want) in items.iter().enumerate() {
                        let w = o.read_word(op + 24 + 8 * i as u64).must("item")?;
                        prop_assert_eq!(w, want, "item {} of tuple {:#x}", i, op);
                        if w != 0 {
                            *count.entry(w).or_default() += 1;
                        }
                    }
                    if !obj.cached {
                        prop_assert!(o.gc_is_tracked(op), "tuple {:#x} untracked", op);
                    }
                }
                Value::Str(s) => {
                    prop_assert_eq!(&o.unicode_text(op).must("unicode_text")?, s);
                    let n = s.chars().count() as u64;
                    prop_assert_eq!(o.read_word(op + 16).must("length")?, n);
                    let max = s.chars().map(u32::from).max().unwrap_or(0);
                    let kind: usize = match max {
                        0..=0xff => 1,
                        0x100..=0xffff => 2,
                        _ => 4,
                    };
                    let header = if max < 0x80 {
                        ascii_header
                    } else {
                        compact_header
                    };
                    let mut want: Vec<u8> = Vec::new();
                    for c in s.chars().chain(['\0']) {
                        want.extend_from_slice(&u32::from(c).to_le_bytes()[..kind]);
                    }
                    let got = o
                        .read_bytes(op + header, want.len() as u64)
                        .must("characters")?;
                    prop_assert_eq!(got, want, "characters of {:?}", s);
                    o.getsizeof(op).must("getsizeof")?;
                }
                Value::Int(v) => {
                    prop_assert_eq!(o.long_value(op).must("long_value")?, *v);
                    o.getsizeof(op).must("getsizeof")?;
                }
                Value::Float(bits) => {
                    prop_assert_eq!(o.float_value(op).must("float_value")?.to_bits(), *bits);
                    prop_assert_eq!(o.read_word(op + 16).must("ob_fval")?, *bits);
                    o.getsizeof(op).must("getsizeof")?;
                }
            }
        }
        let distinct: HashSet<u64> = self.type_words.values().copied().collect();
        prop_assert_eq!(
            distinct.len(),
            self.type_words.len(),
            "{:?}",
            self.type_words
        );
        for (&op, obj) in &self.objs {
            let want = count.get(&op).copied().unwrap_or(0);
            prop_assert_eq!(
                self.rc.get(&op).copied().unwrap_or(0),
                want,
                "model of {:#x}",
                op
            );
            let got = self.o.refcnt(op).must("refcnt")?;
            if obj.cached && self.immortal {
                prop_assert_eq!(got, IMMORTAL, "immortal {:?}", obj.value);
            } else {
                prop_assert_eq!(got, obj.extra + want, "count of {:#x} {:?}", op, obj.value);
            }
        }
        // Ints print as their decimal value (repr reads the digits from memory).
        let ints: Vec<(u64, i128)> = self
            .objs
            .iter()
            .filter_map(|(&op, m)| match m.value {
                Value::Int(v) => Some((op, v)),
                _ => None,
            })
            .collect();
        for (op, v) in ints {
            prop_assert_eq!(self.o.repr(op).must("repr")?, v.to_string());
        }
        // The collector tracks live containers only.
        for op in self.o.gc_generation0() {
            prop_assert!(
                self.objs.contains_key(&op) || self.foreign.contains(&op),
                "{:#x} tracked but not live",
                op
            );
        }
        // Free lists: dead, counted 0, linked as CPython links them.
        let o = &self.o;
        for &l in &self.free_list {
            prop_assert!(!o.is_live(l));
            prop_assert_eq!(o.read_word(l).must("listed refcnt")?, 0);
        }
        for (i, &f) in self.free_float.iter().enumerate() {
            prop_assert!(!o.is_live(f));
            prop_assert_eq!(o.read_word(f).must("listed refcnt")?, 0);
            let link = if i > 0 { self.free_float[i - 1] } else { 0 };
            prop_assert_eq!(o.read_word(f + 8).must("float link")?, link);
        }
        for (n, list) in self.free_tuple.iter().enumerate() {
            for (i, &t) in list.iter().enumerate() {
                prop_assert!(!o.is_live(t));
                prop_assert_eq!(o.read_word(t).must("listed refcnt")?, 0);
                prop_assert_eq!(o.read_word(t + 16).must("listed size")?, n as u64);
                let link = if i > 0 { list[i - 1] } else { 0 };
                prop_assert_eq!(o.read_word(t + 24).must("tuple link")?, link);
            }
        }
        Ok(())
    }

    /// Drops every handle, then checks what is left: cached objects, and lists in cycles.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        while let Some(h) = self.handles.pop() {
            self.died.clear();
            self.o.decref(h).must("decref")?;
            self.m_decref(h);
            self.check()?;
        }
        Ok(())
    }
}

fn run(profile: Profile, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut h = Harness::new(profile);
    for op in ops {
        h.apply(op)?;
    }
    h.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(300)))]

    /// Ints, strs, floats and tuples: no list buffer is reallocated (but `repr`'s).
    #[test]
    fn random_objects_and_tuples_keep_every_invariant(
        profile in prop::sample::select(Profile::ALL.to_vec()),
        ops in prop::collection::vec(op(false), 1..64),
    ) {
        run(profile, &ops)?;
    }

    /// Everything, lists included: appends, sets, pops (an empty list's is an IndexError),
    /// clears, growth and shrinkage, with item buffers moving into the blocks of dead objects
    /// and in and out of glibc.
    #[test]
    fn random_object_graphs_keep_every_invariant(
        profile in prop::sample::select(Profile::ALL.to_vec()),
        ops in prop::collection::vec(op(true), 1..64),
    ) {
        run(profile, &ops)?;
    }
}

// ---- deterministic tests --------------------------------------------------------------------

fn count_events(events: &[ObjEvent], f: impl Fn(&ObjEvent) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}

#[test]
fn list_free_list_is_lifo_and_list_generic_bypasses_it() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let [x, y, z] = [o.list_new(0)?, o.list_new(1)?, o.list_new(0)?];
        for l in [x, y, z] {
            o.decref(l)?;
        }
        assert_eq!(
            [o.list_new(0)?, o.list_new(2)?, o.list_new(0)?],
            [z, y, x],
            "{p:?}"
        );
        o.decref(x)?;
        let g = o.list_new_generic()?;
        assert_ne!(g, x, "list() does not take from the free list");
        assert!(!o.is_live(x));
        assert_eq!(o.list_new(0)?, x);
    }
    Ok(())
}

#[test]
fn list_free_list_holds_80() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let lists: Vec<u64> = (0..100).map(|_| o.list_new(2)).collect::<Result<_, _>>()?;
        o.set_trace(true);
        for &l in &lists {
            o.decref(l)?;
        }
        let ev = o.take_trace();
        let listed = count_events(&ev, |e| {
            matches!(
                e,
                ObjEvent::ToFreeList {
                    ty: TypeId::List,
                    ..
                }
            )
        });
        assert_eq!(listed, 80, "{p:?}");
        for &l in &lists[80..] {
            assert!(!o.is_live(l));
            let block = o.allocator().what_is_at(l - 16)?;
            assert!(matches!(block, Location::FreeBlock { .. }), "{block:?}");
        }
        let again: Vec<u64> = (0..100).map(|_| o.list_new(0)).collect::<Result<_, _>>()?;
        let reused: Vec<u64> = lists[..80].iter().rev().copied().collect();
        assert_eq!(&again[..80], &reused[..]);
        let ev = o.take_trace();
        let from_free = count_events(&ev, |e| {
            matches!(
                e,
                ObjEvent::New {
                    ty: TypeId::List,
                    from_free_list: true,
                    ..
                }
            )
        });
        assert_eq!(from_free, 80, "{p:?}");
    }
    Ok(())
}

#[test]
fn float_free_list_is_lifo_and_holds_100() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let floats: Vec<u64> = (0..120)
            .map(|i| o.float_from_f64(f64::from(i) + 0.5))
            .collect::<Result<_, _>>()?;
        o.set_trace(true);
        for &f in &floats {
            o.decref(f)?;
        }
        let ev = o.take_trace();
        let listed = count_events(&ev, |e| {
            matches!(
                e,
                ObjEvent::ToFreeList {
                    ty: TypeId::Float,
                    ..
                }
            )
        });
        assert_eq!(listed, 100, "{p:?}");
        // Linked through ob_type: each points at the one freed before it.
        assert_eq!(o.read_word(floats[99] + 8)?, floats[98]);
        assert_eq!(o.read_word(floats[0] + 8)?, 0);
        let again: Vec<u64> = (0..100)
            .map(|_| o.float_from_f64(2.0))
            .collect::<Result<_, _>>()?;
        let reused: Vec<u64> = floats[..100].iter().rev().copied().collect();
        assert_eq!(again, reused, "{p:?}");
        assert_eq!(o.float_value(again[0])?, 2.0);
    }
    Ok(())
}

#[test]
fn tuple_free_lists_are_by_size() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let max = o.layout().tuple_maxsavesize() as u64; // sizes 1..max are kept
        assert_eq!(max, if p.version().1 >= 11 { 21 } else { 20 });
        for size in 1..=25u64 {
            let t = o.tuple_new(size)?;
            o.decref(t)?;
            o.set_trace(true);
            let u = o.tuple_new(size)?;
            let ev = o.take_trace();
            o.set_trace(false);
            let from_free = count_events(&ev, |e| {
                matches!(
                    e,
                    ObjEvent::New {
                        from_free_list: true,
                        ..
                    }
                )
            });
            assert_eq!(from_free == 1, size < max, "{p:?} size {size}");
            if size < max {
                assert_eq!(u, t);
            }
            o.decref(u)?;
        }
        // A tuple of one size is not handed out for another.
        let two = o.tuple_new(2)?;
        o.decref(two)?;
        let three = o.tuple_new(3)?;
        assert_ne!(three, two);
        assert_eq!(o.tuple_new(2)?, two);
        // () is one object, never freed.
        let e = o.tuple_new(0)?;
        assert_eq!(o.tuple_pack(&[])?, e);
        o.decref(e)?;
        o.decref(e)?;
        assert!(o.is_live(e));
        // 2000 per size.
        let many: Vec<u64> = (0..2010)
            .map(|_| o.tuple_new(1))
            .collect::<Result<_, _>>()?;
        o.set_trace(true);
        for &t in &many {
            o.decref(t)?;
        }
        let ev = o.take_trace();
        let listed = count_events(&ev, |e| {
            matches!(
                e,
                ObjEvent::ToFreeList {
                    ty: TypeId::Tuple,
                    ..
                }
            )
        });
        assert_eq!(listed, TUPLE_FREE_MAX, "{p:?}");
    }
    Ok(())
}

/// 10,000 nested containers, released from the outside in: `Py_TRASHCAN_BEGIN` keeps the
/// recursion at most 50 deep, so this runs on a 1 MiB stack (without the trashcan it would nest
/// 10,000 deallocations).
#[test]
fn deep_nesting_is_deallocated_without_deep_recursion() {
    let worker = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| -> Result<(), ObjError> {
            for p in Profile::ALL {
                for shape in 0..3 {
                    let mut o = Objects::new(p)?;
                    let mut inner = o.long_from_i64(1_000_000)?;
                    let mut all = vec![inner];
                    for i in 0..10_000 {
                        let tuple = shape == 1 || (shape == 2 && i % 2 == 0);
                        let outer = if tuple {
                            o.tuple_pack(&[inner])?
                        } else {
                            let l = o.list_new_generic()?;
                            o.list_append(l, inner)?;
                            l
                        };
                        o.decref(inner)?;
                        all.push(outer);
                        inner = outer;
                    }
                    o.set_trace(true);
                    o.decref(inner)?;
                    let ev = o.take_trace();
                    // A deferred object's tp_dealloc runs twice: deferred, then for real.
                    let deallocated: HashSet<u64> = ev
                        .iter()
                        .filter_map(|e| match *e {
                            ObjEvent::Dealloc { op, .. } => Some(op),
                            _ => None,
                        })
                        .collect();
                    assert_eq!(deallocated.len(), all.len(), "{p:?} shape {shape}");
                    let calls = count_events(&ev, |e| matches!(e, ObjEvent::Dealloc { .. }));
                    assert!(
                        calls > all.len(),
                        "the trashcan deferred some deallocations"
                    );
                    for &op in &all {
                        assert!(!o.is_live(op));
                    }
                    assert!(o.gc_generation0().is_empty());
                }
            }
            Ok(())
        })
        .expect("spawn");
    worker.join().expect("no stack overflow").expect("no error");
}

#[test]
fn a_deallocated_list_leaves_its_header_and_a_dangling_buffer() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        // A list with a buffer of the same size class keeps that pool in use, so the freed
        // buffer stays a free block of it (rather than the pool going back to its arena).
        let keeper = o.list_new(4)?;
        let l = o.list_new_generic()?;
        let ints: Vec<u64> = (0..3)
            .map(|i| o.long_from_i64(1000 + i))
            .collect::<Result<_, _>>()?;
        for &i in &ints {
            o.list_append(l, i)?;
            o.decref(i)?;
        }
        let type_word = o.read_word(l + 8)?;
        let item = o.read_word(l + 24)?;
        let allocated = o.read_word(l + 32)?;
        o.decref(l)?;
        assert!(!o.is_live(l));
        assert_eq!(o.type_of(l)?, TypeId::List);
        assert_eq!(o.refcnt(l)?, 0);
        assert_eq!(o.read_word(l)?, 0);
        assert_eq!(o.read_word(l + 8)?, type_word);
        assert_eq!(o.read_word(l + 16)?, 3, "ob_size unchanged");
        assert_eq!(o.read_word(l + 24)?, item, "ob_item dangling");
        assert_eq!(o.read_word(l + 32)?, allocated);
        let at = o.allocator().what_is_at(item)?;
        assert!(matches!(at, Location::FreeBlock { .. }), "{p:?}: {at:?}");
        for &i in &ints {
            assert!(!o.is_live(i));
        }
        assert_eq!(o.list_len(l), Err(ObjError::Dead { addr: l }));
        assert_eq!(o.list_len(keeper)?, 4);
    }
    Ok(())
}

#[test]
fn misuse_is_an_error_not_a_panic() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let minor = p.version().1;
        let mut o = Objects::new(p)?;
        // A dead object: a list on the free list, a freed int.
        let l = o.list_new(0)?;
        o.decref(l)?;
        assert_eq!(o.decref(l), Err(ObjError::Dead { addr: l }));
        assert_eq!(o.incref(l), Err(ObjError::Dead { addr: l }));
        let i = o.long_from_i64(1 << 40)?;
        o.decref(i)?;
        assert!(o.decref(i).is_err());
        assert!(o.long_value(i).is_err());
        // Not an object.
        assert!(matches!(o.decref(0), Err(ObjError::NotAnObject { .. })));
        o.xdecref(0)?;
        let s = o.unicode_from_str("not a list")?;
        assert!(matches!(o.decref(s + 8), Err(ObjError::NotAnObject { .. })));
        assert!(o.read_word(s + 4).is_err());
        assert!(o.read_word(0x10).is_err());
        assert!(o.repr(0x10).is_err());
        // List operations on a tuple and a str.
        let t = o.tuple_pack(&[s])?;
        for x in [t, s] {
            assert!(matches!(
                o.list_append(x, s),
                Err(ObjError::WrongType { .. })
            ));
            assert!(matches!(o.list_pop(x), Err(ObjError::WrongType { .. })));
            assert!(matches!(o.list_clear(x), Err(ObjError::WrongType { .. })));
            assert!(matches!(o.list_len(x), Err(ObjError::WrongType { .. })));
            assert!(matches!(o.list_get(x, 0), Err(ObjError::WrongType { .. })));
        }
        assert_eq!(o.refcnt(s)?, 2, "no reference taken by the failed appends");
        assert!(matches!(o.tuple_items(s), Err(ObjError::WrongType { .. })));
        // Indices.
        let l = o.list_new_generic()?;
        assert!(matches!(
            o.list_pop(l),
            Err(ObjError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            o.list_get(l, 0),
            Err(ObjError::IndexOutOfRange { .. })
        ));
        // Decref below zero: 3.8's static small ints start at 1 (the array's reference).
        let seven = o.long_from_i64(7)?;
        o.decref(seven)?;
        let below = o.decref(seven);
        match minor {
            8 => assert_eq!(below, Err(ObjError::DecrefBelowZero { addr: seven })),
            9 | 10 => assert_eq!(below, Ok(())), // the cache's own reference: C would free it
            _ => assert_eq!(below, Ok(())),      // 999999999 or immortal
        }
        // The repr of a dead list reads its stale memory; it is no panic either way.
        let _ = o.repr(l + 16);
        o.decref(l)?;
        let _ = o.repr(l);
    }
    Ok(())
}

// ---- regressions: bugs these properties found ---------------------------------------------

/// `Objects::mem_realloc` wrote a dead object's remains into a moved buffer after `object_realloc`
/// had copied the items there: when `q` was the block of a freed object, its type pointer, length
/// and hash landed over items 1.. . Now only the words beyond what realloc copied are written.
#[test]
fn list_buffer_realloc_keeps_the_items() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let l = o.list_new_generic()?;
        // A str of 10 characters: a 64-byte block, freed; the list's buffer for 5..8 items
        // (64 bytes) is the next block of that class pymalloc hands out.
        let s = o.unicode_from_str("abcdefghij")?;
        o.decref(s)?;
        let ints: Vec<u64> = (1000..1005)
            .map(|v| o.long_from_i64(v))
            .collect::<Result<_, _>>()?;
        for &i in &ints {
            o.list_append(l, i)?;
        }
        let items: Vec<u64> = (0..5).map(|i| o.list_get(l, i)).collect::<Result<_, _>>()?;
        assert_eq!(items, ints, "{p:?}: buffer at {:#x}", o.read_word(l + 24)?);
        assert_eq!(o.repr(l)?, "[1000, 1001, 1002, 1003, 1004]");
    }
    Ok(())
}

/// `PyObject_Realloc` keeps a glibc buffer in glibc even when it shrinks to 512 bytes or less
/// (and `PyMem_Realloc(p, 0)`, a list popped empty, puts a pymalloc buffer there: `malloc(0)`);
/// when glibc then moved it (it grows and the next chunk is in use), `key_for` used to take the
/// glibc address for a pymalloc block because the request was 512 bytes or less, and
/// `Slots::pool_key` overflowed. Now the allocator is asked whether the block is pymalloc's.
#[test]
fn list_buffer_moved_within_glibc_is_no_pool_block() -> Result<(), ObjError> {
    for p in Profile::ALL {
        // The padding moves the addresses until one of the moved buffers lies less than 48
        // bytes into a pool-sized window (3.8: padding 84).
        for pad in 0..256 {
            let mut o = Objects::new(p)?;
            let zero = o.long_from_i64(0)?;
            let _padding = o.list_new(64 + pad)?;
            let l = o.list_new_generic()?;
            for _ in 0..100 {
                o.list_append(l, zero)?; // into glibc
            }
            for _ in 0..70 {
                let v = o.list_pop(l)?; // shrinks in place, still in glibc, 288 bytes
                o.decref(v)?;
            }
            let _blocker = o.list_new(70)?; // the chunk after it is in use
            for _ in 0..30 {
                o.list_append(l, zero)?; // grows to <= 512 bytes: glibc moves it
            }
            assert_eq!(o.list_len(l)?, 60);
            for i in 0..60 {
                assert_eq!(o.list_get(l, i)?, zero);
            }
            // A list popped empty: its buffer is glibc's malloc(0) chunk, moved as it grows.
            let e = o.list_new_generic()?;
            o.list_append(e, zero)?;
            o.list_pop(e)?;
            let _blocker = o.list_new(70)?;
            for _ in 0..60 {
                o.list_append(e, zero)?;
            }
        }
    }
    Ok(())
}

/// `PyList_SetItem` steals the reference to the new item even when it fails (not a list, index
/// out of range: `Py_XDECREF(newitem)` before returning -1); so does the model's `list_set`.
#[test]
fn list_set_steals_the_item_even_when_it_fails() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let l = o.list_new(1)?;
        let s = o.unicode_from_str("stolen")?;
        o.incref(s)?;
        assert!(o.list_set(l, 5, s).is_err());
        assert_eq!(
            o.refcnt(s)?,
            1,
            "{p:?}: the failed PyList_SetItem released it"
        );
        let t = o.tuple_new(1)?;
        assert!(o.list_set(t, 0, s).is_err());
        assert!(!o.is_live(s), "{p:?}: released again");
    }
    Ok(())
}
