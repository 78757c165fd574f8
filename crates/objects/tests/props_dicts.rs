//! Random sequences of dict, class, instance and struct-object operations on every CPython
//! profile, checked against a reference model kept here (the companion of `props.rs`, which
//! covers ints, strs, floats, lists and tuples).
//!
//! The model keeps Python's semantics: a dict maps keys to values in insertion order (a key equal
//! to one present replaces its value and keeps the first key object); an instance's attributes
//! likewise, until it has a `__dict__`, which then holds them. The operations:
//!
//! * dicts: set with str, int and tuple keys (and instances, hashed by identity), mixed so that
//!   3.11+ str-keys tables become general; get, delete and overwrite, also through keys equal to
//!   the stored ones but not identical; many inserts at once (resizes through 2-byte indices);
//!   deallocation when the last reference goes;
//! * classes and instances: `type_new`, `instance_new`, `instance_setattr` with names in random
//!   orders from a pool of 36 (so 3.8–3.10 split tables go combined and `make_keys_shared` runs,
//!   and 3.11+ shared keys fill up to 30 and instances fall back to a dict), `instance_getattr`,
//!   `instance_dict` (3.13: a dict sharing the inline values, detached when the instance goes),
//!   dropping instances and classes;
//! * functions, methods, modules, code objects and cells (`fields_new`) with fields set;
//! * `clear_freelists` at random points; `repr`; misuse.
//!
//! After every operation:
//!
//! * every dict's `dict_items` equal the model's, in insertion order; `dict_len`; `dict_getitem`
//!   of every key, of an equal but distinct key (a new str, int or tuple), and of absent keys;
//! * every instance attribute reads back (through the name and through an equal new str), and
//!   absent ones read `None`; the `__dict__` pointer in the instance's memory (`+16` up to 3.10,
//!   the pre-header from 3.11) is the dict the model knows, or NULL;
//! * every live object's count equals the test's handles plus the references of the containers
//!   the model holds (dict keys and values, instances' class, dict or attribute values, tuple and
//!   list items, fields); cached objects as in `props.rs` (their count when first met, or
//!   immortal on 3.12+). Attribute names are also held by the classes' shared keys, so their
//!   counts are checked as lower bounds while anything lives, and exactly at the end;
//! * objects are freed exactly when their last reference goes (a class once its last instance
//!   and handle are gone), and no `tp_dealloc` runs for an object the model holds;
//! * `sys.getsizeof` of a dict follows from its keys object, read from memory with the version's
//!   header (`dk_size`/`log2_size`, `dk_usable`, `dk_nentries`), and of an instance is 48, 48,
//!   48, 56, 48, 48 (3.8 ... 3.13);
//! * memory agrees: `ma_used` (`dict + 16`) is the length; a combined table's `dk_usable +
//!   dk_nentries` is `USABLE_FRACTION(size)`, its index table points at distinct entries whose
//!   key words are the model's keys (and, for 24-byte entries, whose hash words are the keys'
//!   hashes), and its live entries in order are the model's items;
//! * the dict free list is LIFO, never holds more than 80, serves every new dict while it has
//!   one, and `clear_freelists` empties it;
//! * `repr` of dicts, instances and classes equals a rendering computed here;
//! * misuse (unhashable keys, dead objects, wrong types, non-str attribute names) is an error and
//!   changes nothing.
//!
//! Cases default to 512 (each one profile, up to 48 operations, every invariant checked after
//! every operation; about 6 s for the file in a debug build on 2 cores).
//! `PROPTEST_CASES=100000 cargo test -p objects --release --test props_dicts` runs a long search
//! (about a minute and a half; 20,000 cases take 15 s). The deterministic tests below pin the dict free list,
//! the keys free list per version, the order a dict's deallocation releases its entries in, and
//! the instance costs measured with `tracemalloc`; the regression tests at the end are the bugs
//! these properties found, reduced.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use objects::fields::Field;
use objects::{IMAGE_BASE, ObjError, ObjEvent, Objects, TypeId, unicode_repr};
use proptest::prelude::*;

mod common;
use common::{
    IMMORTAL, Must, RENDER_BUDGET, cases, int_cache_key, render_container, str_cache_key,
};
use pymalloc::Profile;

/// `PyDict_MAXFREELIST`.
const DICT_FREE_MAX: usize = 80;
/// Attribute names in the pool: more than the 30 keys 3.11+ share.
const NAMES: usize = 36;

fn name_text(i: usize) -> String {
    match i % 4 {
        0 => format!("attr_{i}"),
        1 => format!("x{i}"),
        2 => format!("\u{f1}ame{i}"),
        _ => format!("a_rather_long_attribute_name_{i}"),
    }
}

/// Texts of the strs the test makes: one-character (cached) and empty ones, others, and two equal
/// to attribute names.
fn text(i: usize) -> String {
    match i % 10 {
        0 => "a".into(),
        1 => "\u{e9}".into(),
        2 => String::new(),
        3 => "key".into(),
        4 => "key2".into(),
        5 => "\u{ac00}\u{ac01}".into(),
        6 => "\u{1f600}!".into(),
        7 => name_text(0),
        8 => name_text(1),
        _ => "some longer key text".into(),
    }
}

/// `sys.getsizeof` of a plain class's instance, by minor version.
fn instance_size(minor: u8) -> u64 {
    if minor == 11 { 56 } else { 48 }
}

/// The fields a struct type has on version `3.minor`.
fn fields_of(ty: TypeId, minor: u8) -> Vec<Field> {
    use Field::*;
    match ty {
        TypeId::Function => {
            let mut f = vec![
                FuncCode,
                FuncGlobals,
                FuncName,
                FuncQualname,
                FuncDefaults,
                FuncKwdefaults,
                FuncClosure,
                FuncDoc,
                FuncDict,
                FuncModule,
                FuncAnnotations,
            ];
            if minor >= 10 {
                f.push(FuncBuiltins);
            }
            f
        }
        TypeId::Method => vec![ImFunc, ImSelf],
        TypeId::Module => vec![MdDict, MdName],
        TypeId::Cell => vec![CellRef],
        _ => {
            let mut f = vec![CoConsts, CoNames, CoFilename, CoName, CoLinetable];
            if minor <= 10 {
                f.extend([CoCode, CoVarnames, CoFreevars, CoCellvars]);
            } else {
                f.extend([
                    CoLocalsplusnames,
                    CoLocalspluskinds,
                    CoExceptiontable,
                    CoQualname,
                ]);
            }
            f
        }
    }
}

const STRUCTS: [TypeId; 5] = [
    TypeId::Function,
    TypeId::Method,
    TypeId::Module,
    TypeId::Code,
    TypeId::Cell,
];

// ---- operations -----------------------------------------------------------------------------

/// Where an operand comes from: a handle, an attribute name, or a new object made for the
/// operation and released after it.
#[derive(Clone, Debug)]
enum Src {
    Handle(usize),
    Name(usize),
    Int(i64),
    Text(usize),
    /// `(int, str)`.
    Pair(i64, usize),
}

/// One step. Indices pick among the test's handles (of the right kind), modulo their number.
#[derive(Clone, Debug)]
enum Op {
    Int(i64),
    Str(usize),
    Tuple(Vec<usize>),
    List(Option<usize>),
    Dict,
    Set {
        dict: usize,
        key: Src,
        value: Src,
    },
    /// A new value for a key present, through the key or an equal one.
    Overwrite {
        dict: usize,
        which: usize,
        probe: bool,
        value: Src,
    },
    Get {
        dict: usize,
        key: Src,
    },
    Del {
        dict: usize,
        key: Src,
    },
    /// `del d[k]` of a key present, through the key or an equal one.
    DelPresent {
        dict: usize,
        which: usize,
        probe: bool,
    },
    /// Many new keys at once: ints, or strs (ints in an instance's dict).
    Grow {
        dict: usize,
        n: usize,
        strs: bool,
    },
    Class,
    Instance(usize),
    SetAttr {
        inst: usize,
        name: usize,
        value: Src,
    },
    GetAttr {
        inst: usize,
        name: usize,
    },
    InstanceDict(usize),
    FieldsNew(usize),
    /// `set_field`, giving the handle `value` away.
    SetField {
        obj: usize,
        field: usize,
        value: usize,
    },
    ClearFreelists,
    Drop(usize),
    Dup(usize),
    Repr(usize),
    Misuse(u8, usize, usize),
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => -6i64..=260,
        3 => 1000i64..1008,
        1 => any::<i64>(),
    ]
}

fn src() -> impl Strategy<Value = Src> {
    let i = || 0usize..64;
    prop_oneof![
        3 => i().prop_map(Src::Handle),
        2 => (0..NAMES).prop_map(Src::Name),
        3 => int().prop_map(Src::Int),
        3 => (0usize..10).prop_map(Src::Text),
        1 => (int(), 0usize..10).prop_map(|(n, t)| Src::Pair(n, t)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let i = || 0usize..64;
    prop_oneof![
        2 => int().prop_map(Op::Int),
        2 => (0usize..10).prop_map(Op::Str),
        1 => prop::collection::vec(i(), 0..4).prop_map(Op::Tuple),
        1 => prop::option::of(i()).prop_map(Op::List),
        3 => Just(Op::Dict),
        10 => (i(), src(), src()).prop_map(|(dict, key, value)| Op::Set { dict, key, value }),
        3 => (i(), i(), any::<bool>(), src())
            .prop_map(|(dict, which, probe, value)| Op::Overwrite { dict, which, probe, value }),
        2 => (i(), src()).prop_map(|(dict, key)| Op::Get { dict, key }),
        2 => (i(), src()).prop_map(|(dict, key)| Op::Del { dict, key }),
        3 => (i(), i(), any::<bool>())
            .prop_map(|(dict, which, probe)| Op::DelPresent { dict, which, probe }),
        1 => (i(), 1usize..100, any::<bool>()).prop_map(|(dict, n, strs)| Op::Grow { dict, n, strs }),
        2 => Just(Op::Class),
        4 => i().prop_map(Op::Instance),
        10 => (i(), 0..NAMES, src()).prop_map(|(inst, name, value)| Op::SetAttr { inst, name, value }),
        1 => (i(), 0..NAMES).prop_map(|(inst, name)| Op::GetAttr { inst, name }),
        2 => i().prop_map(Op::InstanceDict),
        1 => (0usize..5).prop_map(Op::FieldsNew),
        2 => (i(), i(), i()).prop_map(|(obj, field, value)| Op::SetField { obj, field, value }),
        1 => Just(Op::ClearFreelists),
        7 => i().prop_map(Op::Drop),
        1 => i().prop_map(Op::Dup),
        2 => i().prop_map(Op::Repr),
        2 => (0u8..4, i(), i()).prop_map(|(k, a, b)| Op::Misuse(k, a, b)),
    ]
}

// ---- the reference model --------------------------------------------------------------------

#[derive(Clone, Debug)]
enum V {
    Int(i128),
    Str(String),
    Tuple(Vec<u64>),
    List(Vec<u64>),
    /// Items in insertion order; whether it is an instance's `__dict__`.
    Dict(Vec<(u64, u64)>, bool),
    Class(String),
    /// The class, the attributes while there is no dict, and the dict once there is one.
    Instance {
        class: u64,
        attrs: Vec<(u64, u64)>,
        dict: u64,
    },
    Fields(TypeId, Vec<(Field, u64)>),
}

impl V {
    fn ty(&self) -> TypeId {
        match self {
            V::Int(_) => TypeId::Int,
            V::Str(_) => TypeId::Str,
            V::Tuple(_) => TypeId::Tuple,
            V::List(_) => TypeId::List,
            V::Dict(..) => TypeId::Dict,
            V::Class(_) => TypeId::Type,
            V::Instance { .. } => TypeId::Instance,
            V::Fields(ty, _) => *ty,
        }
    }

    /// The references the object holds, as the model counts them.
    fn refs(&self) -> Vec<u64> {
        match self {
            V::Int(_) | V::Str(_) | V::Class(_) => Vec::new(),
            V::Tuple(items) | V::List(items) => items.clone(),
            V::Dict(items, _) => items.iter().flat_map(|&(k, v)| [k, v]).collect(),
            V::Instance { class, attrs, dict } => {
                let mut r = vec![*class];
                if *dict != 0 {
                    r.push(*dict);
                } else {
                    r.extend(attrs.iter().map(|&(_, v)| v));
                }
                r
            }
            V::Fields(_, f) => f.iter().map(|&(_, v)| v).collect(),
        }
    }

    fn cache_key(&self) -> Option<String> {
        match self {
            V::Int(v) => int_cache_key(*v),
            V::Str(s) => str_cache_key(s),
            V::Tuple(t) if t.is_empty() => Some("()".into()),
            _ => None,
        }
    }
}

/// A key's value as a lookup compares it.
#[derive(Clone, Debug, PartialEq)]
enum K {
    Int(i128),
    Str(String),
    Tuple(Vec<K>),
    Ident(u64),
}

#[derive(Clone, Debug)]
struct MObj {
    v: V,
    cached: bool,
    /// References the caches hold beyond those the model counts.
    extra: u64,
}

macro_rules! refused {
    ($e:expr) => {{
        let r = $e;
        prop_assert!(r.is_err(), "{} succeeded: {:?}", stringify!($e), r);
    }};
}

struct Harness {
    o: Objects,
    minor: u8,
    immortal: bool,
    handles: Vec<u64>,
    /// The attribute names, each held by the pool for the whole run.
    names: Vec<u64>,
    objs: HashMap<u64, MObj>,
    cache: HashMap<String, u64>,
    /// The dict free list as the events show it, most recent last.
    dict_free: Vec<u64>,
    died: Vec<u64>,
    dead: Vec<u64>,
    /// Objects the object layer made for itself (`Py_ReprEnter`'s).
    foreign: HashSet<u64>,
    /// Events taken before the checks (during `repr`).
    pending: Vec<ObjEvent>,
    classes: usize,
    fresh: i64,
}

impl Harness {
    fn new(profile: Profile) -> Result<Harness, TestCaseError> {
        let mut o = Objects::new(profile).expect("start-up");
        let layout = o.layout();
        let mut objs = HashMap::new();
        let mut names = Vec::new();
        for i in 0..NAMES {
            let s = name_text(i);
            let op = o.unicode_from_str(&s).must("name")?;
            objs.insert(
                op,
                MObj {
                    v: V::Str(s),
                    cached: false,
                    extra: 0,
                },
            );
            names.push(op);
        }
        Ok(Harness {
            o,
            minor: layout.minor,
            immortal: layout.has_immortal_objects(),
            handles: Vec::new(),
            names,
            objs,
            cache: HashMap::new(),
            dict_free: Vec::new(),
            died: Vec::new(),
            dead: Vec::new(),
            foreign: HashSet::new(),
            pending: Vec::new(),
            classes: 0,
            fresh: 0,
        })
    }

    fn v(&self, op: u64) -> &V {
        &self.objs[&op].v
    }

    fn is_name(&self, op: u64) -> bool {
        self.names.contains(&op)
    }

    /// The `i`th handle among those `pred` accepts.
    fn pick(&self, i: usize, pred: impl Fn(&V) -> bool) -> Option<u64> {
        let c: Vec<u64> = self
            .handles
            .iter()
            .copied()
            .filter(|h| pred(self.v(*h)))
            .collect();
        (!c.is_empty()).then(|| c[i % c.len()])
    }

    fn any_handle(&self, i: usize) -> Option<(usize, u64)> {
        if self.handles.is_empty() {
            return None;
        }
        let i = i % self.handles.len();
        Some((i, self.handles[i]))
    }

    fn key_of(&self, op: u64) -> Option<K> {
        Some(match self.v(op) {
            V::Int(v) => K::Int(*v),
            V::Str(s) => K::Str(s.clone()),
            V::Tuple(items) => K::Tuple(
                items
                    .iter()
                    .map(|&i| self.key_of(i))
                    .collect::<Option<_>>()?,
            ),
            V::Class(_) | V::Instance { .. } => K::Ident(op),
            V::Fields(ty, _) if *ty != TypeId::Method => K::Ident(op),
            _ => return None,
        })
    }

    fn find(&self, items: &[(u64, u64)], k: &K) -> Option<usize> {
        items
            .iter()
            .position(|&(key, _)| self.key_of(key).as_ref() == Some(k))
    }

    fn items_mut(&mut self, d: u64) -> &mut Vec<(u64, u64)> {
        match &mut self.objs.get_mut(&d).expect("known").v {
            V::Dict(items, _) => items,
            V::Instance { attrs, .. } => attrs,
            _ => unreachable!("a dict or an instance"),
        }
    }

    /// Python's `d[k] = v` on the model's items of `d` (a dict, or an instance's attributes).
    fn m_set(&mut self, d: u64, key: u64, value: u64) {
        let k = self.key_of(key).expect("hashable");
        let items = match self.v(d) {
            V::Dict(items, _) | V::Instance { attrs: items, .. } => items.clone(),
            _ => unreachable!(),
        };
        match self.find(&items, &k) {
            Some(i) => self.items_mut(d)[i].1 = value,
            None => self.items_mut(d).push((key, value)),
        }
    }

    /// A new reference the API returned.
    fn created(&mut self, op: u64, v: V) -> Result<(), TestCaseError> {
        if let Some(key) = v.cache_key()
            && let Some(&at) = self.cache.get(&key)
        {
            prop_assert_eq!(op, at, "the cached {} moved", key);
            self.handles.push(op);
            return Ok(());
        }
        prop_assert!(
            !self.objs.contains_key(&op) && !self.foreign.contains(&op),
            "{:#x} handed out while live",
            op
        );
        let mut m = MObj {
            v,
            cached: false,
            extra: 0,
        };
        if let Some(key) = m.v.cache_key() {
            let count = self.o.refcnt(op).must("refcnt")?;
            m.cached = true;
            m.extra = if self.immortal {
                prop_assert_eq!(count, IMMORTAL, "{} is not immortal", key);
                0
            } else {
                count - 1
            };
            self.cache.insert(key, op);
        }
        self.objs.insert(op, m);
        self.handles.push(op);
        Ok(())
    }

    fn new_int(&mut self, v: i128) -> Result<u64, TestCaseError> {
        let p = self.o.long_from_i128(v).must("long_from_i128")?;
        self.created(p, V::Int(v))?;
        Ok(p)
    }

    fn new_str(&mut self, s: &str) -> Result<u64, TestCaseError> {
        let p = self.o.unicode_from_str(s).must("unicode_from_str")?;
        self.created(p, V::Str(s.into()))?;
        Ok(p)
    }

    fn new_tuple(&mut self, items: Vec<u64>) -> Result<u64, TestCaseError> {
        let p = self.o.tuple_pack(&items).must("tuple_pack")?;
        self.created(p, V::Tuple(items))?;
        Ok(p)
    }

    /// An operand: a borrowed object, or a new one (true) whose handle the caller drops after.
    fn make(&mut self, s: &Src) -> Result<Option<(u64, bool)>, TestCaseError> {
        Ok(Some(match *s {
            Src::Handle(i) => match self.any_handle(i) {
                Some((_, h)) => (h, false),
                None => return Ok(None),
            },
            Src::Name(i) => (self.names[i % NAMES], false),
            Src::Int(v) => (self.new_int(v.into())?, true),
            Src::Text(t) => (self.new_str(&text(t))?, true),
            Src::Pair(v, t) => {
                let a = self.new_int(v.into())?;
                let b = self.new_str(&text(t))?;
                let p = self.new_tuple(vec![a, b])?;
                self.release(b)?;
                self.release(a)?;
                (p, true)
            }
        }))
    }

    /// Drops one of the test's references to `op`.
    fn release(&mut self, op: u64) -> Result<(), TestCaseError> {
        let i = self
            .handles
            .iter()
            .rposition(|&h| h == op)
            .expect("a handle");
        self.handles.remove(i);
        self.o.decref(op).must("decref")
    }

    fn release_if(&mut self, x: Option<(u64, bool)>) -> Result<(), TestCaseError> {
        match x {
            Some((op, true)) => self.release(op),
            _ => Ok(()),
        }
    }

    /// A new object equal to the key `op` but not it (where the type allows: small ints, `''`
    /// and one-character strs are the cached objects themselves), not known to the model; the
    /// caller decrefs it.
    fn probe(&mut self, op: u64) -> Result<u64, TestCaseError> {
        match self.v(op).clone() {
            V::Int(v) => self.o.long_from_i128(v).must("probe int"),
            V::Str(s) => self.o.unicode_new(&s).must("probe str"),
            V::Tuple(items) => {
                let mut ps = Vec::new();
                for it in items {
                    ps.push(self.probe(it)?);
                }
                let t = self.o.tuple_pack(&ps).must("probe tuple");
                for p in ps {
                    self.o.decref(p).must("decref probe item")?;
                }
                t
            }
            _ => {
                self.o.incref(op).must("incref")?;
                Ok(op)
            }
        }
    }

    fn rw(&self, a: u64) -> Result<u64, TestCaseError> {
        self.o.read_word(a).must("memory")
    }

    fn inst_dict_word(&self, x: u64) -> Result<u64, TestCaseError> {
        Ok(match self.minor {
            ..=10 => self.o.read_word(x + 16).must("__dict__ slot")?,
            12 => {
                let w = self.o.read_word(x - 24).must("dict_or_values")?;
                if w & 1 == 1 { 0 } else { w }
            }
            _ => self.o.read_word(x - 24).must("managed dict")?,
        })
    }

    /// The instance's dict, once its memory shows one: it takes over the attributes.
    fn adopt(&mut self, x: u64) -> Result<(), TestCaseError> {
        let d = self.inst_dict_word(x)?;
        let V::Instance { dict, attrs, .. } = self.v(x).clone() else {
            unreachable!()
        };
        if d == 0 || dict != 0 {
            return Ok(());
        }
        prop_assert!(
            !self.objs.contains_key(&d) && !self.foreign.contains(&d),
            "instance dict {:#x} is a live object",
            d
        );
        prop_assert_eq!(self.o.type_of(d).must("type_of")?, TypeId::Dict);
        self.objs.insert(
            d,
            MObj {
                v: V::Dict(attrs, true),
                cached: false,
                extra: 0,
            },
        );
        if let V::Instance { dict, attrs, .. } = &mut self.objs.get_mut(&x).expect("known").v {
            *dict = d;
            attrs.clear();
        }
        Ok(())
    }

    fn inst_items_owner(&self, x: u64) -> u64 {
        match self.v(x) {
            V::Instance { dict, .. } if *dict != 0 => *dict,
            _ => x,
        }
    }

    // ---- operations ---------------------------------------------------------------------------

    fn set(&mut self, d: u64, key: u64, value: u64) -> Result<(), TestCaseError> {
        let r = self.o.dict_setitem(d, key, value);
        if self.key_of(key).is_none() {
            prop_assert!(r.is_err(), "unhashable key accepted: {:?}", r);
            return Ok(());
        }
        r.must("dict_setitem")?;
        self.m_set(d, key, value);
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        self.died.clear();
        self.o.take_trace();
        let is_dict = |v: &V| matches!(v, V::Dict(..));
        let is_inst = |v: &V| matches!(v, V::Instance { .. });
        match op {
            Op::Int(v) => {
                self.new_int((*v).into())?;
            }
            Op::Str(t) => {
                self.new_str(&text(*t))?;
            }
            Op::Tuple(picks) => {
                let items: Vec<u64> = picks
                    .iter()
                    .filter_map(|&i| self.any_handle(i).map(|(_, h)| h))
                    .collect();
                self.new_tuple(items)?;
            }
            Op::List(item) => {
                let l = self.o.list_new_generic().must("list")?;
                self.created(l, V::List(Vec::new()))?;
                if let Some((_, it)) = item.and_then(|i| self.any_handle(i)) {
                    self.o.list_append(l, it).must("list_append")?;
                    if let V::List(items) = &mut self.objs.get_mut(&l).expect("known").v {
                        items.push(it);
                    }
                }
            }
            Op::Dict => {
                let d = self.o.dict_new().must("dict_new")?;
                self.created(d, V::Dict(Vec::new(), false))?;
            }
            Op::Set { dict, key, value } => {
                let Some(d) = self.pick(*dict, is_dict) else {
                    return self.check();
                };
                let (Some(k), Some(v)) = (self.make(key)?, self.make(value)?) else {
                    return self.check();
                };
                let mut kk = k.0;
                if matches!(self.v(d), V::Dict(_, true))
                    && matches!(self.v(kk), V::Str(_))
                    && !self.is_name(kk)
                {
                    // A str key of an instance's dict goes into the class's shared keys: only
                    // the names, whose counts are loose, may.
                    kk = self.names[self.fresh.unsigned_abs() as usize % NAMES];
                }
                self.set(d, kk, v.0)?;
                self.release_if(Some(v))?;
                self.release_if(Some(k))?;
            }
            Op::Overwrite {
                dict,
                which,
                probe,
                value,
            } => {
                let Some(d) = self.pick(*dict, is_dict) else {
                    return self.check();
                };
                let V::Dict(items, _) = self.v(d).clone() else {
                    unreachable!()
                };
                let Some(v) = self.make(value)? else {
                    return self.check();
                };
                if !items.is_empty() {
                    let key = items[which % items.len()].0;
                    let k = if *probe { self.probe(key)? } else { key };
                    self.o.dict_setitem(d, k, v.0).must("dict_setitem")?;
                    if *probe {
                        self.o.decref(k).must("decref probe")?;
                    }
                    self.m_set(d, key, v.0);
                    prop_assert_eq!(self.v(d).refs().len(), 2 * items.len(), "no new key");
                }
                self.release_if(Some(v))?;
            }
            Op::Get { dict, key } => {
                let Some(d) = self.pick(*dict, is_dict) else {
                    return self.check();
                };
                let Some(k) = self.make(key)? else {
                    return self.check();
                };
                let r = self.o.dict_getitem(d, k.0);
                match self.key_of(k.0) {
                    None => prop_assert!(r.is_err(), "unhashable key looked up: {:?}", r),
                    Some(kv) => {
                        let V::Dict(items, _) = self.v(d) else {
                            unreachable!()
                        };
                        let want = self.find(items, &kv).map(|i| items[i].1);
                        prop_assert_eq!(r.must("dict_getitem")?, want);
                    }
                }
                self.release_if(Some(k))?;
            }
            Op::Del { dict, key } => {
                let Some(d) = self.pick(*dict, is_dict) else {
                    return self.check();
                };
                let Some(k) = self.make(key)? else {
                    return self.check();
                };
                self.del(d, k.0)?;
                self.release_if(Some(k))?;
            }
            Op::DelPresent { dict, which, probe } => {
                let Some(d) = self.pick(*dict, is_dict) else {
                    return self.check();
                };
                let V::Dict(items, _) = self.v(d).clone() else {
                    unreachable!()
                };
                if !items.is_empty() {
                    let key = items[which % items.len()].0;
                    let k = if *probe { self.probe(key)? } else { key };
                    // The probe is not in the model: look the key up by value.
                    let r = self.o.dict_delitem(d, k).must("dict_delitem")?;
                    prop_assert!(r, "a present key was not deleted");
                    if *probe {
                        self.o.decref(k).must("decref probe")?;
                    }
                    let kv = self.key_of(key).expect("hashable");
                    let i = self.find(&items, &kv).expect("present");
                    self.items_mut(d).remove(i);
                }
            }
            Op::Grow { dict, n, strs } => {
                let Some(d) = self.pick(*dict, is_dict) else {
                    return self.check();
                };
                let strs = *strs && !matches!(self.v(d), V::Dict(_, true));
                for _ in 0..*n {
                    self.fresh += 1;
                    let k = if strs {
                        self.new_str(&format!("g{}", self.fresh))?
                    } else {
                        self.new_int(1_000_000 + i128::from(self.fresh))?
                    };
                    let v = self.new_int(i128::from(self.fresh % 300))?;
                    self.set(d, k, v)?;
                    self.release(v)?;
                    self.release(k)?;
                }
            }
            Op::Class => {
                self.classes += 1;
                let name = format!("Cls{}", self.classes);
                let c = self.o.type_new(&name, "__main__").must("type_new")?;
                self.created(c, V::Class(name))?;
            }
            Op::Instance(c) => {
                let Some(c) = self.pick(*c, |v| matches!(v, V::Class(_))) else {
                    return self.check();
                };
                let x = self.o.instance_new(c).must("instance_new")?;
                self.created(
                    x,
                    V::Instance {
                        class: c,
                        attrs: Vec::new(),
                        dict: 0,
                    },
                )?;
            }
            Op::SetAttr { inst, name, value } => {
                let Some(x) = self.pick(*inst, is_inst) else {
                    return self.check();
                };
                let Some(v) = self.make(value)? else {
                    return self.check();
                };
                let n = self.names[*name];
                self.o
                    .instance_setattr(x, n, v.0)
                    .must("instance_setattr")?;
                self.adopt(x)?;
                let owner = self.inst_items_owner(x);
                self.m_set(owner, n, v.0);
                self.release_if(Some(v))?;
            }
            Op::GetAttr { inst, name } => {
                let Some(x) = self.pick(*inst, is_inst) else {
                    return self.check();
                };
                let n = self.names[*name];
                let got = self.o.instance_getattr(x, n).must("instance_getattr")?;
                prop_assert_eq!(got, self.attr(x, n));
            }
            Op::InstanceDict(inst) => {
                let Some(x) = self.pick(*inst, is_inst) else {
                    return self.check();
                };
                let d = self.o.instance_dict(x).must("instance_dict")?;
                self.adopt(x)?;
                prop_assert_eq!(d, self.inst_items_owner(x));
                self.handles.push(d);
            }
            Op::FieldsNew(k) => {
                let ty = STRUCTS[*k % STRUCTS.len()];
                let p = self.o.fields_new(ty, 0).must("fields_new")?;
                self.created(p, V::Fields(ty, Vec::new()))?;
            }
            Op::SetField { obj, field, value } => {
                let Some(p) = self.pick(*obj, |v| matches!(v, V::Fields(..))) else {
                    return self.check();
                };
                let Some((vi, v)) = self.any_handle(*value) else {
                    return self.check();
                };
                let V::Fields(ty, _) = *self.v(p) else {
                    unreachable!()
                };
                let fs = fields_of(ty, self.minor);
                let f = fs[field % fs.len()];
                self.o.set_field(p, f, v).must("set_field")?;
                self.handles.remove(vi);
                if let V::Fields(_, set) = &mut self.objs.get_mut(&p).expect("known").v {
                    match set.iter_mut().find(|(g, _)| *g == f) {
                        Some(slot) => slot.1 = v,
                        None => set.push((f, v)),
                    }
                }
            }
            Op::ClearFreelists => {
                self.o.clear_freelists().must("clear_freelists")?;
            }
            Op::Drop(h) => {
                if let Some((i, x)) = self.any_handle(*h) {
                    self.handles.remove(i);
                    self.o.decref(x).must("decref")?;
                }
            }
            Op::Dup(h) => {
                if let Some((_, x)) = self.any_handle(*h) {
                    self.o.incref(x).must("incref")?;
                    self.handles.push(x);
                }
            }
            Op::Repr(h) => {
                if let Some((_, x)) = self.any_handle(*h) {
                    // A struct object's repr follows its fields, which may be anything here
                    // (where C would crash, the model errs): only rendered ones are compared.
                    let got = self.o.repr(x);
                    let events = self.o.take_trace();
                    for e in &events {
                        if let ObjEvent::New { op, .. } = *e {
                            self.foreign.insert(op);
                        }
                    }
                    self.pending.extend(events);
                    let mut want = String::new();
                    if self.render(x, &mut Vec::new(), &mut want) {
                        prop_assert_eq!(got.must("repr")?, want);
                    }
                }
            }
            Op::Misuse(kind, a, b) => self.misuse(*kind, *a, *b)?,
        }
        self.check()
    }

    fn del(&mut self, d: u64, k: u64) -> Result<(), TestCaseError> {
        let r = self.o.dict_delitem(d, k);
        let Some(kv) = self.key_of(k) else {
            prop_assert!(r.is_err(), "unhashable key deleted: {:?}", r);
            return Ok(());
        };
        let V::Dict(items, _) = self.v(d) else {
            unreachable!()
        };
        let at = self.find(items, &kv);
        prop_assert_eq!(r.must("dict_delitem")?, at.is_some());
        if let Some(i) = at {
            self.items_mut(d).remove(i);
        }
        Ok(())
    }

    /// The model's value of attribute `n` of `x`.
    fn attr(&self, x: u64, n: u64) -> Option<u64> {
        let owner = self.inst_items_owner(x);
        let (V::Dict(items, _) | V::Instance { attrs: items, .. }) = self.v(owner) else {
            unreachable!()
        };
        items.iter().find(|&&(k, _)| k == n).map(|&(_, v)| v)
    }

    fn misuse(&mut self, kind: u8, a: usize, b: usize) -> Result<(), TestCaseError> {
        let d = self.pick(a, |v| matches!(v, V::Dict(..)));
        let x = self.pick(a, |v| matches!(v, V::Instance { .. }));
        let n = self.names[b % NAMES];
        match kind {
            // Unhashable keys: a list, a dict, a tuple holding a list.
            0 => {
                let Some(d) = d else { return Ok(()) };
                let l = self.o.list_new_generic().must("list")?;
                self.created(l, V::List(Vec::new()))?;
                let t = self.new_tuple(vec![n, l])?;
                for k in [l, d, t] {
                    refused!(self.o.dict_setitem(d, k, n));
                    refused!(self.o.dict_getitem(d, k));
                    refused!(self.o.dict_delitem(d, k));
                }
                self.release(t)?;
                self.release(l)?;
            }
            // Wrong types.
            1 => {
                let Some((_, h)) = self.any_handle(a) else {
                    return Ok(());
                };
                let ty = self.v(h).ty();
                if ty != TypeId::Dict {
                    refused!(self.o.dict_len(h));
                    refused!(self.o.dict_items(h));
                    refused!(self.o.dict_getitem(h, n));
                    refused!(self.o.dict_setitem(h, n, n));
                    refused!(self.o.dict_delitem(h, n));
                }
                if ty != TypeId::Instance {
                    refused!(self.o.instance_setattr(h, n, n));
                    refused!(self.o.instance_getattr(h, n));
                    refused!(self.o.instance_dict(h));
                    refused!(self.o.class_of(h));
                }
                if ty != TypeId::Type {
                    refused!(self.o.instance_new(h));
                }
                if !ty.is_struct() {
                    refused!(self.o.set_field(h, Field::CellRef, 0));
                    refused!(self.o.field(h, Field::CellRef));
                }
                if !ty.is_struct() {
                    refused!(self.o.fields_new(ty, 0));
                }
            }
            // Dead objects.
            2 => {
                if self.dead.is_empty() {
                    return Ok(());
                }
                let z = self.dead[a % self.dead.len()];
                if self.o.is_live(z) {
                    return Ok(()); // reused by an object the model does not know
                }
                refused!(self.o.incref(z));
                refused!(self.o.decref(z));
                refused!(self.o.dict_len(z));
                refused!(self.o.dict_items(z));
                refused!(self.o.dict_getitem(z, n));
                refused!(self.o.dict_setitem(z, n, n));
                refused!(self.o.dict_delitem(z, n));
                refused!(self.o.instance_setattr(z, n, n));
                refused!(self.o.instance_getattr(z, n));
                refused!(self.o.instance_dict(z));
                refused!(self.o.getsizeof(z));
                if let Some(d) = d {
                    refused!(self.o.dict_setitem(d, z, n));
                    refused!(self.o.dict_setitem(d, n, z));
                }
                if let Some(x) = x {
                    refused!(self.o.instance_setattr(x, n, z));
                }
            }
            // Attribute names that are not strs: TypeError.
            _ => {
                let Some(x) = x else { return Ok(()) };
                let i = self.new_int(1000 + b as i128)?;
                let t = self.new_tuple(vec![n])?;
                for k in [i, t] {
                    refused!(self.o.instance_setattr(x, k, n));
                    refused!(self.o.instance_getattr(x, k));
                }
                self.release(t)?;
                self.release(i)?;
            }
        }
        Ok(())
    }

    /// The model's `repr`; false where it does not render (struct objects, the budget).
    fn render(&self, op: u64, stack: &mut Vec<u64>, out: &mut String) -> bool {
        if out.len() > RENDER_BUDGET {
            return false;
        }
        let (brackets, items): (_, Vec<(u64, Option<u64>)>) = match self.v(op) {
            V::Int(v) => {
                let _ = write!(out, "{v}");
                return true;
            }
            V::Str(s) => {
                out.push_str(&unicode_repr(s));
                return true;
            }
            V::Class(name) => {
                let _ = write!(out, "<class '__main__.{name}'>");
                return true;
            }
            V::Instance { class, .. } => {
                let V::Class(name) = self.v(*class) else {
                    return false;
                };
                let _ = write!(out, "<__main__.{name} object at {op:#x}>");
                return true;
            }
            V::Fields(..) => return false,
            V::List(items) => (("[", "]"), items.iter().map(|&i| (i, None)).collect()),
            V::Tuple(items) => (("(", ")"), items.iter().map(|&i| (i, None)).collect()),
            V::Dict(items, _) => (
                ("{", "}"),
                items.iter().map(|&(k, v)| (k, Some(v))).collect(),
            ),
        };
        render_container(op, brackets, &items, stack, out, &|a, stack, out| {
            self.render(a, stack, out)
        })
    }

    // ---- checks -------------------------------------------------------------------------------

    /// The model's counts: handles, the name pool, and the references of every live object.
    fn recount(&self) -> HashMap<u64, u64> {
        let mut count: HashMap<u64, u64> = HashMap::new();
        for &h in self.handles.iter().chain(&self.names) {
            *count.entry(h).or_default() += 1;
        }
        for m in self.objs.values() {
            for r in m.v.refs() {
                *count.entry(r).or_default() += 1;
            }
        }
        count
    }

    /// Removes from the model what has no reference left, as `Py_DECREF` would, to a fixpoint.
    fn collect(&mut self) {
        let mut count = self.recount();
        loop {
            let zero: Vec<u64> = self
                .objs
                .iter()
                .filter(|(op, m)| !m.cached && count.get(op).copied().unwrap_or(0) == 0)
                .map(|(&op, _)| op)
                .collect();
            if zero.is_empty() {
                return;
            }
            for op in zero {
                let m = self.objs.remove(&op).expect("known");
                for r in m.v.refs() {
                    *count.get_mut(&r).expect("counted") -= 1;
                }
                self.died.push(op);
                if self.dead.len() >= 64 {
                    self.dead.remove(0);
                }
                self.dead.push(op);
            }
        }
    }

    /// The events of the operation: the dict free list, and no `tp_dealloc` of a live object.
    fn events(&mut self, events: &[ObjEvent]) -> Result<(), TestCaseError> {
        let mut deallocated = HashSet::new();
        let mut listed_or_freed = HashSet::new();
        for e in events {
            match *e {
                ObjEvent::New {
                    op,
                    ty: TypeId::Dict,
                    from_free_list,
                } => {
                    if from_free_list {
                        prop_assert_eq!(self.dict_free.pop(), Some(op), "not the list's top");
                    } else {
                        prop_assert!(
                            self.dict_free.is_empty(),
                            "a new dict from the allocator while the free list has {:?}",
                            self.dict_free
                        );
                    }
                    deallocated.remove(&op);
                }
                ObjEvent::New { op, .. } => {
                    deallocated.remove(&op);
                }
                ObjEvent::Dealloc { op, .. } => {
                    deallocated.insert(op);
                }
                ObjEvent::ToFreeList {
                    op,
                    ty: TypeId::Dict,
                    numfree,
                } => {
                    prop_assert!(self.dict_free.len() < DICT_FREE_MAX, "the list is full");
                    self.dict_free.push(op);
                    prop_assert_eq!(numfree, self.dict_free.len());
                    listed_or_freed.insert(op);
                }
                ObjEvent::Free { op } => {
                    if let Some(i) = self.dict_free.iter().position(|&d| d == op) {
                        self.dict_free.remove(i);
                    }
                    listed_or_freed.insert(op);
                }
                _ => {}
            }
        }
        for op in deallocated {
            prop_assert!(
                !self.objs.contains_key(&op),
                "{:#x} deallocated while the model holds it",
                op
            );
        }
        let died_dicts: Vec<u64> = self.died.clone();
        for op in died_dicts {
            if self.o.type_of(op) == Ok(TypeId::Dict) && !self.o.is_live(op) {
                prop_assert!(
                    listed_or_freed.contains(&op),
                    "dead dict {:#x} neither listed nor freed",
                    op
                );
            }
        }
        Ok(())
    }

    fn check(&mut self) -> Result<(), TestCaseError> {
        self.collect();
        let mut events = std::mem::take(&mut self.pending);
        events.extend(self.o.take_trace());
        self.events(&events)?;
        for &d in &self.died {
            prop_assert!(!self.o.is_live(d), "{:#x} outlived its last reference", d);
            prop_assert!(!self.o.gc_is_tracked(d), "dead {:#x} still tracked", d);
        }
        for &d in &self.dict_free {
            prop_assert!(!self.o.is_live(d), "listed dict {:#x} live", d);
            prop_assert_eq!(self.o.read_word(d).must("listed refcnt")?, 0);
        }
        // Counts.
        let count = self.recount();
        let any_class = self.objs.values().any(|m| {
            matches!(m.v, V::Class(_) | V::Instance { .. }) || matches!(m.v, V::Dict(_, true))
        });
        // A split table's keys are the class's: an instance dict's key is one reference of
        // the shared keys however many dicts have it (and stays there after they die).
        let mut shared: HashMap<u64, u64> = HashMap::new();
        for m in self.objs.values() {
            if let V::Dict(items, true) = &m.v {
                for &(k, _) in items {
                    *shared.entry(k).or_default() += 1;
                }
            }
        }
        for (&op, m) in &self.objs {
            prop_assert!(self.o.is_live(op), "{:#x} ({:?}) died early", op, m.v);
            prop_assert_eq!(self.o.type_of(op).must("type_of")?, m.v.ty());
            let want = count.get(&op).copied().unwrap_or(0);
            let got = self.o.refcnt(op).must("refcnt")?;
            prop_assert_eq!(self.o.read_word(op).must("ob_refcnt")?, got);
            if m.cached && self.immortal {
                prop_assert_eq!(got, IMMORTAL, "immortal {:?}", m.v);
            } else if self.is_name(op) && any_class {
                let least = want - shared.get(&op).copied().unwrap_or(0);
                prop_assert!(got >= least, "name {:?}: {} < {}", m.v, got, least);
            } else {
                prop_assert_eq!(got, m.extra + want, "count of {:#x} {:?}", op, m.v);
            }
        }
        let ops: Vec<u64> = self.objs.keys().copied().collect();
        for op in ops {
            match self.v(op).clone() {
                V::Dict(items, _) => self.check_dict(op, &items)?,
                V::Instance { class, attrs, dict } => {
                    self.check_instance(op, class, &attrs, dict)?
                }
                V::Fields(ty, set) => {
                    for f in fields_of(ty, self.minor) {
                        let want = set.iter().find(|(g, _)| *g == f).map_or(0, |&(_, v)| v);
                        prop_assert_eq!(self.o.field(op, f).must("field")?, want);
                        let off = objects::fields::offset(f, self.minor).expect("a field");
                        prop_assert_eq!(self.o.read_word(op + off).must("field word")?, want);
                    }
                }
                V::Class(name) => {
                    prop_assert_eq!(
                        self.o.repr(op).must("repr")?,
                        format!("<class '__main__.{name}'>")
                    );
                }
                _ => {}
            }
        }
        // The collector tracks live objects only.
        for op in self.o.gc_generation0() {
            prop_assert!(self.o.is_live(op), "{:#x} tracked but dead", op);
        }
        Ok(())
    }

    fn check_instance(
        &mut self,
        x: u64,
        class: u64,
        attrs: &[(u64, u64)],
        dict: u64,
    ) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.o.class_of(x).must("class_of")?, class);
        prop_assert_eq!(self.rw(x + 8)?, class, "ob_type");
        prop_assert_eq!(
            self.o.getsizeof(x).must("getsizeof")?,
            instance_size(self.minor)
        );
        prop_assert!(self.o.gc_is_tracked(x), "instance untracked");
        prop_assert_eq!(self.inst_dict_word(x)?, dict, "__dict__ of {:#x}", x);
        let items: Vec<(u64, u64)> = if dict != 0 {
            match self.v(dict) {
                V::Dict(items, _) => items.clone(),
                _ => unreachable!(),
            }
        } else {
            attrs.to_vec()
        };
        for &(n, v) in &items {
            let got = self.o.instance_getattr(x, n);
            if matches!(self.v(n), V::Str(_)) {
                prop_assert_eq!(got.must("getattr")?, Some(v));
            } else {
                // `x.__dict__[1] = v` is allowed, `getattr(x, 1)` a TypeError.
                prop_assert!(got.is_err(), "getattr with a non-str name: {:?}", got);
            }
        }
        let strs = items
            .iter()
            .filter(|&&(n, _)| matches!(self.v(n), V::Str(_)));
        if let Some(&(n, v)) = strs.last() {
            let p = self.probe(n)?;
            let got = self.o.instance_getattr(x, p).must("getattr probe");
            self.o.decref(p).must("decref probe")?;
            prop_assert_eq!(got?, Some(v));
        }
        for &n in self.names.clone().iter().take(6) {
            if !items.iter().any(|&(k, _)| k == n) {
                prop_assert_eq!(self.o.instance_getattr(x, n).must("getattr")?, None);
            }
        }
        Ok(())
    }

    fn check_dict(&mut self, d: u64, items: &[(u64, u64)]) -> Result<(), TestCaseError> {
        let n = items.len() as u64;
        prop_assert_eq!(
            &self.o.dict_items(d).must("dict_items")?,
            items,
            "items of {:#x}",
            d
        );
        prop_assert_eq!(self.o.dict_len(d).must("dict_len")?, n);
        prop_assert_eq!(self.o.read_word(d + 16).must("ma_used")?, n);
        for &(k, v) in items {
            prop_assert_eq!(self.o.dict_getitem(d, k).must("getitem")?, Some(v));
        }
        for &(k, v) in [items.first(), items.last()].into_iter().flatten() {
            let p = self.probe(k)?;
            let got = self.o.dict_getitem(d, p).must("getitem probe");
            self.o.decref(p).must("decref probe")?;
            prop_assert_eq!(got?, Some(v), "an equal key of {:?}", self.v(k));
        }
        let absent = self.o.long_from_i64(-987_654_321).must("absent")?;
        let got = self.o.dict_getitem(d, absent).must("getitem absent");
        self.o.decref(absent).must("decref")?;
        prop_assert_eq!(got?, None);
        // Tracking: a dict holding a container is tracked (MAINTAIN_TRACKING). Not always a
        // 3.13 instance dict: an attribute set on the instance while the dict shares its inline
        // values (store_instance_attr_lock_held) leaves the dict as it is, and so do the copy
        // the dict gets when the instance goes and the table made combined later, which track
        // by what they insert only. CPython 3.13.0 too: `d = x.__dict__` of an empty instance,
        // `x.a = [1]`, then `del x` or `d[5] = 'n'`: gc.is_tracked(d) is False.
        let instance_dict_3_13 = self.minor >= 13 && matches!(self.v(d), V::Dict(_, true));
        let holds_gc = items.iter().any(|&(k, v)| {
            [k, v].iter().any(|&x| {
                self.v(x).ty().is_gc() && !matches!(self.v(x), V::Tuple(t) if t.is_empty())
            })
        });
        if holds_gc && !instance_dict_3_13 {
            prop_assert!(self.o.gc_is_tracked(d), "dict {:#x} untracked", d);
        }
        self.check_keys_memory(d, items)
    }

    /// The keys object as the version lays it out, against the model and `sys.getsizeof`.
    fn check_keys_memory(&mut self, d: u64, items: &[(u64, u64)]) -> Result<(), TestCaseError> {
        let rw = |h: &Harness, a: u64| h.rw(a);
        let keys = rw(self, d + 32)?;
        let values = rw(self, d + 40)?;
        let size_of = self.o.getsizeof(d).must("getsizeof")?;
        if keys == IMAGE_BASE - 0x200 {
            prop_assert!(items.is_empty() && values == 0);
            prop_assert_eq!(size_of, 64);
            return Ok(());
        }
        let (log2, index_bytes, entry, usable, nentries, header) = if self.minor >= 11 {
            let w = rw(self, keys + 8)?;
            let log2 = w & 0xff;
            let log2_index_bytes = (w >> 8) & 0xff;
            let kind = (w >> 16) & 0xff;
            prop_assert!(kind <= 2, "dk_kind {}", kind);
            let entry = if kind == 0 { 24 } else { 16 };
            let ib = (1u64 << log2_index_bytes) >> log2;
            (
                log2,
                ib,
                entry,
                rw(self, keys + 16)? as i64,
                rw(self, keys + 24)?,
                32,
            )
        } else {
            let size = rw(self, keys + 8)?;
            prop_assert!(size.is_power_of_two() && size >= 8, "dk_size {}", size);
            let log2 = u64::from(size.trailing_zeros());
            let ib = match log2 {
                ..8 => 1,
                8..16 => 2,
                16..32 => 4,
                _ => 8,
            };
            (
                log2,
                ib,
                24,
                rw(self, keys + 24)? as i64,
                rw(self, keys + 32)?,
                40,
            )
        };
        prop_assert!(log2 >= 3);
        prop_assert_eq!(
            index_bytes,
            match log2 {
                ..8 => 1,
                8..16 => 2,
                16..32 => 4,
                _ => 8,
            }
        );
        let size = 1u64 << log2;
        let frac = size * 2 / 3;
        let entries = keys + header + index_bytes * size;
        let key_at = |ix: u64| entries + ix * entry + if entry == 24 { 8 } else { 0 };
        if values != 0 {
            // A split table: the keys are shared, the values in their own array.
            let want = if self.minor >= 11 {
                64 + 8 * (nentries + usable.max(0) as u64)
            } else {
                64 + 8 * frac
            };
            prop_assert_eq!(size_of, want, "split dict {:#x}", d);
            prop_assert!(rw(self, keys)? >= 1, "shared keys' dk_refcnt");
            let mut found = Vec::new();
            for ix in 0..nentries {
                let v = rw(self, values + 8 * ix)?;
                if v != 0 {
                    found.push((rw(self, key_at(ix))?, v));
                }
            }
            let mut want: Vec<(u64, u64)> = items.to_vec();
            if self.minor >= 11 {
                // The order is the values' own: compare as sets.
                want.sort_unstable();
                found.sort_unstable();
            }
            prop_assert_eq!(found, want, "split dict {:#x}", d);
            return Ok(());
        }
        prop_assert_eq!(
            size_of,
            64 + header + index_bytes * size + entry * frac,
            "dict {:#x}",
            d
        );
        prop_assert_eq!(rw(self, keys)?, 1, "dk_refcnt of a combined table");
        prop_assert_eq!(
            usable + nentries as i64,
            frac as i64,
            "dk_usable + dk_nentries"
        );
        prop_assert!(nentries >= items.len() as u64 && nentries <= frac);
        let mut pointed = Vec::new();
        for i in 0..size {
            let at = keys + header + i * index_bytes;
            let word = rw(self, at & !7)?;
            let bits = index_bytes * 8;
            let raw = if bits == 64 {
                word
            } else {
                (word >> ((at & 7) * 8)) & ((1 << bits) - 1)
            };
            let ix = ((raw << (64 - bits)) as i64) >> (64 - bits);
            prop_assert!(
                ix == -1 || ix == -2 || (0..nentries as i64).contains(&ix),
                "index {} of slot {}",
                ix,
                i
            );
            if ix >= 0 {
                pointed.push(ix as u64);
            }
        }
        pointed.sort_unstable();
        let distinct = pointed.len();
        pointed.dedup();
        prop_assert_eq!(pointed.len(), distinct, "two slots point at one entry");
        prop_assert_eq!(pointed.len(), items.len(), "live indices");
        let mut live = Vec::new();
        for ix in 0..nentries {
            let k = rw(self, key_at(ix))?;
            let v = rw(self, key_at(ix) + 8)?;
            if k != 0 {
                prop_assert!(pointed.binary_search(&ix).is_ok(), "entry {} unindexed", ix);
                live.push((k, v));
                if entry == 24 {
                    let h = rw(self, entries + ix * 24)? as i64;
                    prop_assert_eq!(h, self.o.hash(k).must("hash")?);
                } else {
                    prop_assert_eq!(self.v(k).ty(), TypeId::Str, "a str-keys table");
                }
            } else {
                prop_assert_eq!(v, 0, "a deleted entry keeps a value");
            }
        }
        prop_assert_eq!(&live[..], items, "entries of {:#x}", d);
        Ok(())
    }

    /// Drops every handle, then checks what is left; with nothing left, the names' counts are
    /// exact (every class's shared keys released them).
    fn finish(&mut self) -> Result<(), TestCaseError> {
        while let Some(h) = self.handles.pop() {
            self.died.clear();
            self.o.take_trace();
            self.o.decref(h).must("decref")?;
            self.check()?;
        }
        self.o.clear_freelists().must("clear_freelists")?;
        let rest = self
            .objs
            .iter()
            .filter(|(op, m)| !m.cached && !self.names.contains(op))
            .count();
        if rest == 0 {
            for &n in &self.names {
                prop_assert_eq!(self.o.refcnt(n).must("refcnt")?, 1, "name {:#x}", n);
            }
        }
        Ok(())
    }
}

fn run(profile: Profile, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut h = Harness::new(profile)?;
    h.o.set_trace(true);
    for op in ops {
        h.apply(op)?;
    }
    h.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    /// Dicts, classes, instances and struct objects, mixed.
    #[test]
    fn random_dicts_and_instances_keep_every_invariant(
        profile in prop::sample::select(Profile::ALL.to_vec()),
        ops in prop::collection::vec(op(), 1..48),
    ) {
        run(profile, &ops)?;
    }
}

// ---- deterministic tests --------------------------------------------------------------------

fn events_of(o: &mut Objects, f: impl Fn(&ObjEvent) -> Option<u64>) -> Vec<u64> {
    o.take_trace().iter().filter_map(f).collect()
}

/// `{k: k}` for a new key of each text: a dict whose first keys object is the smallest.
fn dict_of(o: &mut Objects, keys: &[&str]) -> Result<u64, ObjError> {
    let d = o.dict_new()?;
    for k in keys {
        let s = o.unicode_from_str(k)?;
        o.dict_setitem(d, s, s)?;
        o.decref(s)?;
    }
    Ok(d)
}

fn int_dict(o: &mut Objects, n: i64) -> Result<u64, ObjError> {
    let d = o.dict_new()?;
    for i in 0..n {
        let k = o.long_from_i64(100_000 + i)?;
        o.dict_setitem(d, k, k)?;
        o.decref(k)?;
    }
    Ok(d)
}

#[test]
fn dict_free_list_holds_80_and_is_lifo() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let dicts: Vec<u64> = (0..100).map(|_| o.dict_new()).collect::<Result<_, _>>()?;
        o.set_trace(true);
        for &d in &dicts {
            o.decref(d)?;
        }
        let listed = events_of(&mut o, |e| match *e {
            ObjEvent::ToFreeList {
                op,
                ty: TypeId::Dict,
                ..
            } => Some(op),
            _ => None,
        });
        assert_eq!(listed, dicts[..80], "{p}");
        for &d in &dicts {
            assert!(!o.is_live(d), "{p}");
        }
        for &d in &dicts[..80] {
            assert_eq!(o.read_word(d)?, 0, "{p}: a listed dict reads count 0");
        }
        let again: Vec<u64> = (0..80).map(|_| o.dict_new()).collect::<Result<_, _>>()?;
        let reused: Vec<u64> = dicts[..80].iter().rev().copied().collect();
        assert_eq!(again, reused, "{p}: most recently freed first");
        let next = o.dict_new()?;
        assert!(
            !dicts.contains(&next) || !dicts[..80].contains(&next),
            "{p}"
        );
        // A full collection empties the list.
        for &d in again.iter().take(3) {
            o.decref(d)?;
        }
        o.take_trace();
        o.clear_freelists()?;
        let freed = events_of(&mut o, |e| match *e {
            ObjEvent::Free { op } => Some(op),
            _ => None,
        });
        assert_eq!(freed, [again[2], again[1], again[0]], "{p}");
        let fresh = o.dict_new()?;
        assert!(o.take_trace().iter().any(|e| matches!(
            e,
            ObjEvent::New {
                ty: TypeId::Dict,
                from_free_list: false,
                ..
            }
        )));
        o.decref(fresh)?;
    }
    Ok(())
}

/// `keys_free_list`: up to 3.10 any keys object of 8 slots is kept and serves any new one; from
/// 3.11 only str-keys (`DICT_KEYS_UNICODE`) ones, and only for a str-keys table.
#[test]
fn keys_free_list_by_version() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let minor = p.version().1;
        let mut o = Objects::new(p)?;
        let d = int_dict(&mut o, 1)?;
        let int_keys = o.read_word(d + 32)?;
        o.set_trace(true);
        o.decref(d)?;
        let freed = events_of(&mut o, |e| match *e {
            ObjEvent::BufferFree { addr } => Some(addr),
            _ => None,
        });
        assert_eq!(freed.contains(&int_keys), minor >= 11, "{p}: general keys");
        let s = dict_of(&mut o, &["ab"])?;
        let str_keys = o.read_word(s + 32)?;
        if minor <= 10 {
            assert_eq!(str_keys, int_keys, "{p}: the listed keys serve a str table");
        }
        o.take_trace();
        o.decref(s)?;
        let freed = events_of(&mut o, |e| match *e {
            ObjEvent::BufferFree { addr } => Some(addr),
            _ => None,
        });
        assert!(!freed.contains(&str_keys), "{p}: str keys are listed");
        // A general table does not take str keys from 3.11; a str table does.
        let g = int_dict(&mut o, 1)?;
        assert_eq!(o.read_word(g + 32)? == str_keys, minor <= 10, "{p}");
        if minor >= 11 {
            let u = dict_of(&mut o, &["cd"])?;
            assert_eq!(o.read_word(u + 32)?, str_keys, "{p}");
            o.decref(u)?;
        }
        o.decref(g)?;
        // A bigger table never comes from the list; the list empties with a collection.
        let big = int_dict(&mut o, 6)?;
        assert_ne!(o.read_word(big + 32)?, str_keys, "{p}");
        o.take_trace();
        o.clear_freelists()?;
        let freed = events_of(&mut o, |e| match *e {
            ObjEvent::BufferFree { addr } => Some(addr),
            _ => None,
        });
        assert!(freed.contains(&str_keys), "{p}: {freed:x?}");
    }
    Ok(())
}

/// `dict_dealloc` -> `free_keys_object`: the entries forwards, each key before its value.
#[test]
fn a_dict_releases_keys_then_values_forwards() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let d = o.dict_new()?;
        let mut order = Vec::new();
        for i in 0..12 {
            let k = o.unicode_from_str(&format!("key number {i}"))?;
            let v = o.long_from_i64(10_000 + i)?;
            o.dict_setitem(d, k, v)?;
            o.decref(k)?;
            o.decref(v)?;
            order.extend([k, v]);
        }
        // A deleted entry leaves NULLs: nothing to release there.
        let first = o.unicode_from_str("key number 0")?;
        assert!(o.dict_delitem(d, first)?);
        o.decref(first)?;
        order.drain(..2);
        o.set_trace(true);
        o.decref(d)?;
        let got = events_of(&mut o, |e| match *e {
            ObjEvent::Dealloc { op, ty } if ty != TypeId::Dict => Some(op),
            _ => None,
        });
        assert_eq!(got, order, "{p}");
    }
    Ok(())
}

/// Instances as `tracemalloc` measured them (see `typeobject.rs`): `sys.getsizeof` 48 on
/// 3.8–3.10, 56 on 3.11, 48 after; 3.11/3.12 values arrays of 264, 256, 248 bytes for the first
/// three instances; up to 3.10 the first attribute adds a values array of 5 (40 bytes) and a
/// dict; 3.13 keeps the values in the object (a 320-byte block for the second instance).
#[test]
fn instances_cost_what_tracemalloc_measures() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let minor = p.version().1;
        let mut o = Objects::new(p)?;
        let c = o.type_new("C", "__main__")?;
        let mut buffers = Vec::new();
        let mut xs = Vec::new();
        for _ in 0..3 {
            o.set_trace(true);
            let x = o.instance_new(c)?;
            buffers.extend(events_of(&mut o, |e| match *e {
                ObjEvent::BufferAlloc { nbytes, .. } => Some(nbytes),
                _ => None,
            }));
            assert_eq!(o.getsizeof(x)?, instance_size(minor), "{p}");
            xs.push(x);
        }
        let want: &[u64] = match minor {
            11 | 12 => &[264, 256, 248],
            _ => &[],
        };
        assert_eq!(buffers, want, "{p}");
        if minor == 13 {
            let block = o.allocator().what_is_at(xs[1] - 32)?;
            let pymalloc::Location::Block(b) = block else {
                panic!("{block}")
            };
            assert_eq!(b.size, 320, "48 + 32 + 30 * 8");
        }
        let n = o.unicode_from_str("xy")?;
        let one = o.long_from_i64(1)?;
        o.set_trace(true);
        o.instance_setattr(xs[0], n, one)?;
        let ev = o.take_trace();
        let bufs: Vec<u64> = ev
            .iter()
            .filter_map(|e| match *e {
                ObjEvent::BufferAlloc { nbytes, .. } => Some(nbytes),
                _ => None,
            })
            .collect();
        let dicts = ev
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    ObjEvent::New {
                        ty: TypeId::Dict,
                        ..
                    }
                )
            })
            .count();
        if minor <= 10 {
            assert_eq!((bufs, dicts), (vec![40], 1), "{p}");
        } else {
            assert_eq!(
                (bufs, dicts),
                (vec![], 0),
                "{p}: the values are there already"
            );
        }
        for x in xs {
            o.decref(x)?;
        }
        assert!(o.is_live(c));
        o.decref(c)?;
        assert!(!o.is_live(c), "{p}: the last reference was the handle");
        assert_eq!(o.refcnt(n)?, 1, "{p}: the shared keys let go of the name");
    }
    Ok(())
}

// ---- regressions: bugs these properties found -----------------------------------------------

/// A split table from 3.11 lists its items in the order its values were set (the values
/// array's insertion-order prefix on 3.11 and 3.12, after the values on 3.13,
/// `get_index_from_order`), not in the shared keys' order: `b`
/// set before `a` on `x` is `{'b': 2, 'a': 1}` even when another instance put `a` in the keys
/// first. `dict_items` (and the `dictresize` that makes the table combined) read the entries in
/// index order.
#[test]
fn a_split_dict_keeps_its_own_insertion_order() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let c = o.type_new("C", "__main__")?;
        let y = o.instance_new(c)?;
        let x = o.instance_new(c)?;
        let a = o.unicode_from_str("a")?;
        let b = o.unicode_from_str("b")?;
        let one = o.long_from_i64(1)?;
        let two = o.long_from_i64(2)?;
        o.instance_setattr(y, a, one)?;
        o.instance_setattr(y, b, one)?;
        o.instance_setattr(x, b, two)?;
        o.instance_setattr(x, a, one)?;
        let d = o.instance_dict(x)?;
        assert_eq!(o.repr(d)?, "{'b': 2, 'a': 1}", "{p}");
        assert_eq!(o.dict_items(d)?, [(b, two), (a, one)], "{p}");
        // A new key keeps the order; a non-str key makes the table combined, in that order.
        let c_ = o.unicode_from_str("c")?;
        o.dict_setitem(d, c_, two)?;
        assert_eq!(o.repr(d)?, "{'b': 2, 'a': 1, 'c': 2}", "{p}");
        o.dict_setitem(d, one, one)?;
        assert_eq!(o.repr(d)?, "{'b': 2, 'a': 1, 'c': 2, 1: 1}", "{p}");
        // 3.13: the combined table holds the attributes now, x's inline values no longer.
        assert_eq!(o.instance_getattr(x, a)?, Some(one), "{p}");
    }
    Ok(())
}

/// `make_keys_shared` (3.8–3.10) found the entries after 1-byte indices whatever the table's
/// size: once an instance's 86th attribute grew its table to 256 slots (2-byte indices), the
/// values were taken from the wrong words and every attribute read `None`.
#[test]
fn many_attributes_survive_make_keys_shared() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let c = o.type_new("C", "__main__")?;
        let x = o.instance_new(c)?;
        let names: Vec<u64> = (0..100)
            .map(|i| o.unicode_from_str(&format!("a{i}")))
            .collect::<Result<_, _>>()?;
        for (i, &n) in names.iter().enumerate() {
            let v = o.long_from_i64(1000 + i as i64)?;
            o.instance_setattr(x, n, v)?;
            o.decref(v)?;
            for (j, &m) in names[..=i].iter().enumerate() {
                let got = o.instance_getattr(x, m)?.map(|v| o.long_value(v));
                assert_eq!(
                    got,
                    Some(Ok(1000 + j as i128)),
                    "{p}: a{j} after {} attributes",
                    i + 1
                );
            }
        }
    }
    Ok(())
}

/// `setattr(x, 1, v)` and `getattr(x, 1)` are TypeErrors ("attribute name must be string");
/// the model stored the attribute (3.8–3.12) or named it not modelled (3.13).
#[test]
fn attribute_names_must_be_strs() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let c = o.type_new("C", "__main__")?;
        let x = o.instance_new(c)?;
        let n = o.long_from_i64(5000)?;
        let r = o.instance_setattr(x, n, n);
        assert!(matches!(r, Err(ObjError::WrongType { .. })), "{p}: {r:?}");
        let r = o.instance_getattr(x, n);
        assert!(matches!(r, Err(ObjError::WrongType { .. })), "{p}: {r:?}");
        assert_eq!(o.refcnt(n)?, 1, "{p}");
    }
    Ok(())
}

/// `new_keys_object` popped the keys free list before asking whether the table may use it: a
/// general table on 3.11+ (or any table above 8 slots) threw the listed keys object away,
/// neither reused nor ever freed.
#[test]
fn the_keys_free_list_loses_nothing() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let a = dict_of(&mut o, &["ab"])?;
        let b = dict_of(&mut o, &["cd"])?;
        let listed = [o.read_word(a + 32)?, o.read_word(b + 32)?];
        o.decref(a)?;
        o.decref(b)?;
        let _ints = int_dict(&mut o, 6)?; // 8 slots (3.8–3.10: from the list), then 16
        o.set_trace(true);
        o.clear_freelists()?;
        let freed = events_of(&mut o, |e| match *e {
            ObjEvent::BufferFree { addr } => Some(addr),
            _ => None,
        });
        // 3.8–3.10: the int table's first keys object came from the list and went back when
        // it grew; 3.11+: the list was not for it. Either way both are listed still.
        for k in listed {
            assert!(freed.contains(&k), "{p}: {k:#x} lost ({freed:x?})");
        }
    }
    Ok(())
}

/// `make_dict_from_instance_attributes` (3.11 to 3.13) tracks the new dict when a value may be
/// tracked ("track all the values"); the model left it untracked.
#[test]
fn an_instance_dict_holding_containers_is_tracked() -> Result<(), ObjError> {
    for p in [
        Profile::CPYTHON_3_11,
        Profile::CPYTHON_3_12,
        Profile::CPYTHON_3_13,
    ] {
        let mut o = Objects::new(p)?;
        let c = o.type_new("C", "__main__")?;
        let x = o.instance_new(c)?;
        let n = o.unicode_from_str("items")?;
        let l = o.list_new_generic()?;
        o.instance_setattr(x, n, l)?;
        let d = o.instance_dict(x)?;
        assert!(o.gc_is_tracked(d), "{p}");
        let y = o.instance_new(c)?;
        let one = o.long_from_i64(1)?;
        o.instance_setattr(y, n, one)?;
        let e = o.instance_dict(y)?;
        assert!(!o.gc_is_tracked(e), "{p}: ints are never tracked");
    }
    Ok(())
}

/// `del d[k]` of a key a split table does not hold is a KeyError before anything changes
/// (3.8–3.10 `_PyDict_DelItem_KnownHash` looks the key up first); the model made the table
/// combined first: `sys.getsizeof` of the instance's dict went from 104 to 232.
#[test]
fn deleting_an_absent_key_leaves_a_split_table_split() -> Result<(), ObjError> {
    for p in Profile::ALL {
        let mut o = Objects::new(p)?;
        let c = o.type_new("C", "__main__")?;
        let x = o.instance_new(c)?;
        let n = o.unicode_from_str("x")?;
        o.instance_setattr(x, n, n)?;
        let d = o.instance_dict(x)?;
        let size = o.getsizeof(d)?;
        let values = o.read_word(d + 40)?;
        assert_ne!(values, 0, "{p}: split");
        let absent = o.unicode_from_str("zz")?;
        assert!(!o.dict_delitem(d, absent)?);
        assert_eq!(o.getsizeof(d)?, size, "{p}");
        assert_eq!(o.read_word(d + 40)?, values, "{p}");
    }
    Ok(())
}

/// An instance's 30th attribute finds no room in its class's shared keys (29 usable after the
/// instance took one): from 3.11 the dict made for the attributes becomes a combined table of
/// str keys (`insertion_resize(mp, 1)`), not a general one; the model made it general (24-byte
/// entries). `sys.getsizeof(x.__dict__)` after 35 attributes on the only instance of a class:
/// 400 on CPython 3.8.18 and 3.10.13, 1584 on 3.11.7, 3.12.1 and 3.13.0.
#[test]
fn an_instance_dict_past_the_shared_keys_keeps_str_keys() -> Result<(), ObjError> {
    for (p, size) in [
        (Profile::CPYTHON_3_8, 400),
        (Profile::CPYTHON_3_10, 400),
        (Profile::CPYTHON_3_11, 1584),
        (Profile::CPYTHON_3_12, 1584),
        (Profile::CPYTHON_3_13, 1584),
    ] {
        let mut o = Objects::new(p)?;
        let c = o.type_new("C", "__main__")?;
        let x = o.instance_new(c)?;
        for i in 0..35 {
            let n = o.unicode_from_str(&format!("n{i}"))?;
            let v = o.long_from_i64(i)?;
            o.instance_setattr(x, n, v)?;
        }
        let d = o.instance_dict(x)?;
        assert_eq!(o.getsizeof(d)?, size, "{p}");
    }
    Ok(())
}
