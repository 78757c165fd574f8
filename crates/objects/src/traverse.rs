//! The references an object owns: `tp_traverse`'s question, asked of every type, and what the
//! object layer's own caches hold.
//!
//! CPython's `tp_traverse` visits only what may form a cycle (`dict_traverse` skips the str
//! keys of a str-keyed table, `tupletraverse` and `list_traverse` visit every item). Here every
//! owned reference is visited, because the question asked is a recount: each live object's
//! `ob_refcnt` should equal the number of references held to it. [`Objects::referents`] lists
//! them in the order the type's `tp_dealloc` releases them, and the deallocators release what
//! it lists, so the layout of each type is described once.
//!
//! A split table's keys (3.8–3.12's shared keys of a class's instances) are owned by the keys
//! object, which the class and its instances' dicts share (`dk_refcnt`): they are listed by
//! [`Objects::keys_referents`] of the keys object that [`Objects::shared_keys`] names.

use std::fmt;

use crate::error::ObjError;
use crate::fields::Field;
use crate::heavy::Body;
use crate::slots::{IMMORTAL, Kind, State};
use crate::space::Objects;

/// Where in its owner a reference lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edge {
    /// `ob_item[i]` of a list or a tuple.
    Item(u64),
    /// The key of entry `i` of a dict's keys object (`me_key`).
    Key(u64),
    /// The value of entry `i` of a combined table (`me_value`).
    Value(u64),
    /// Entry `i` of a values array: a split table's `ma_values`, or an instance's values.
    Values(u64),
    /// A field of a function, method, module, code object, cell or built-in function.
    Field(Field),
    /// An instance's `ob_type`: its class, a heap type.
    ObType,
    /// An instance's `__dict__`, or a heap type's `tp_dict`.
    Dict,
    /// A heap type's `ht_name`.
    HtName,
    /// A heap type's `__module__`.
    Module,
    /// A heap type's `tp_base` (`object`).
    TpBase,
    /// A heap type's `tp_bases`.
    TpBases,
    /// A heap type's `tp_mro`.
    TpMro,
    /// A heap type's `ht_qualname`.
    HtQualname,
}

impl fmt::Display for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Edge::Item(i) => write!(f, "ob_item[{i}]"),
            Edge::Key(i) => write!(f, "dk_entries[{i}].me_key"),
            Edge::Value(i) => write!(f, "dk_entries[{i}].me_value"),
            Edge::Values(i) => write!(f, "values[{i}]"),
            Edge::Field(field) => write!(f, "{}", field.c_name()),
            Edge::ObType => f.write_str("ob_type"),
            Edge::Dict => f.write_str("__dict__"),
            Edge::HtName => f.write_str("ht_name"),
            Edge::Module => f.write_str("__module__"),
            Edge::TpBase => f.write_str("tp_base"),
            Edge::TpBases => f.write_str("tp_bases"),
            Edge::TpMro => f.write_str("tp_mro"),
            Edge::HtQualname => f.write_str("ht_qualname"),
        }
    }
}

/// One reference an object owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Referent {
    /// Where it lies in its owner.
    pub edge: Edge,
    /// The object referred to.
    pub target: u64,
}

/// A cache of the object layer that holds references (see `Caches`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    /// `interp->small_ints[i]` (3.9, 3.10): the int `i - 5`.
    SmallInt(u64),
    /// `unicode_latin1[ch]` (up to 3.10).
    Latin1(u8),
    /// `unicode_empty` (up to 3.10).
    EmptyStr,
    /// The `()` singleton's extra reference in `free_list[0]`, "so that this is never freed"
    /// (up to 3.10).
    EmptyTupleFreeList,
    /// The reference to `()` that the first `PyTuple_New(0)` of start-up returned (up to
    /// 3.10), which the model's start-up keeps.
    EmptyTupleStartUp,
    /// A `_Py_IDENTIFIER`'s cached string (up to 3.10).
    Identifier(&'static str),
    /// `tstate->dict` (made by `Py_ReprEnter`).
    ThreadStateDict,
}

impl fmt::Display for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cache::SmallInt(i) => write!(f, "small_ints[{i}]"),
            Cache::Latin1(ch) => write!(f, "unicode_latin1[{ch}]"),
            Cache::EmptyStr => f.write_str("unicode_empty"),
            Cache::EmptyTupleFreeList => f.write_str("free_list[0] (the () singleton)"),
            Cache::EmptyTupleStartUp => f.write_str("start-up's first PyTuple_New(0)"),
            Cache::Identifier(name) => write!(f, "_Py_IDENTIFIER({name})"),
            Cache::ThreadStateDict => f.write_str("tstate->dict"),
        }
    }
}

/// Why an object's `ob_refcnt` cannot be recounted from the references the model holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uncounted {
    /// Statically allocated in libpython's image: its count starts from what CPython's own
    /// start-up left there, references the model does not hold.
    Static,
    /// Immortal (3.12+): its count is `_Py_IMMORTAL_REFCNT` and no longer moves.
    Immortal,
    /// Deallocated onto a free list, then given a reference by C code anyway (ctypes' `.value`
    /// of a dead object's address): what its memory still names was released when it died.
    Revived,
}

impl Objects {
    /// The references `op` owns, in the order its `tp_dealloc` releases them (a list's and a
    /// tuple's are released from the last). NULLs are skipped. Works on a dead object too (a
    /// deallocator reads what it is about to release).
    pub fn referents(&self, op: u64) -> Result<Vec<Referent>, ObjError> {
        let items = |v: &mut dyn Iterator<Item = u64>| -> Vec<Referent> {
            v.enumerate()
                .filter(|&(_, t)| t != 0)
                .map(|(i, target)| Referent {
                    edge: Edge::Item(i as u64),
                    target,
                })
                .collect()
        };
        let view = self.view(op)?;
        if view.slot.kind != Kind::Heavy {
            return Ok(Vec::new()); // an inline int, float or str
        }
        Ok(match view.body {
            Some(Body::Tuple(v)) => items(&mut v.iter().copied()),
            Some(Body::List(_)) => {
                let d = self.list_data(op)?;
                let words = (0..d.size).map(|i| self.mem.read_word(d.item + 8 * i));
                items(&mut words.collect::<Result<Vec<_>, _>>()?.into_iter())
            }
            Some(Body::Dict(d)) => self.dict_referents(d)?,
            Some(Body::Fields(_)) => self.field_referents(op)?,
            Some(Body::Instance(i)) => {
                // The dict made for the attributes, and the values while they hold them
                // (3.11 and 3.12: one or the other; 3.13: the inline values also while a
                // __dict__ shares them).
                let mut out = Vec::new();
                if i.dict != 0 {
                    out.push(Referent {
                        edge: Edge::Dict,
                        target: i.dict,
                    });
                }
                let values = self.live_values(i)?;
                if values != 0 {
                    for ix in 0..self.instance_nvalues(i.class)? {
                        let target = self.read_word(values + 8 * ix)?;
                        if target != 0 {
                            out.push(Referent {
                                edge: Edge::Values(ix),
                                target,
                            });
                        }
                    }
                }
                out.push(Referent {
                    edge: Edge::ObType,
                    target: i.class,
                });
                out
            }
            // type_dealloc's order: tp_base (a class made with its bases), tp_dict, tp_bases,
            // tp_mro, ht_name, ht_qualname; then the __module__ a class made without a
            // namespace owns.
            Some(Body::Class(c)) => {
                let base = if c.bases != 0 {
                    self.type_object(crate::types::TypeId::Object)
                } else {
                    0
                };
                [
                    (Edge::TpBase, base),
                    (Edge::Dict, c.dict),
                    (Edge::TpBases, c.bases),
                    (Edge::TpMro, c.mro),
                    (Edge::HtName, c.name),
                    (Edge::HtQualname, c.qualname),
                    (Edge::Module, c.module),
                ]
                .into_iter()
                .filter(|&(_, t)| t != 0)
                .map(|(edge, target)| Referent { edge, target })
                .collect()
            }
            _ => Vec::new(),
        })
    }

    /// `Py_TYPE(op)->tp_traverse(op, visit, arg)`: what the collector visits from `op`, in C's
    /// order, NULLs skipped as `Py_VISIT` skips them. Not every reference the object owns: a
    /// list or a tuple is visited from its last item, a str-keyed dict visits only its
    /// values, an instance its attributes then its class, a heap type its dict, MRO and bases
    /// (`type_traverse`: its names cannot be in a cycle). Other types: what they own.
    pub fn tp_traverse(&self, op: u64) -> Result<Vec<u64>, ObjError> {
        let view = self.view(op)?;
        if view.slot.kind != Kind::Heavy {
            return Ok(Vec::new());
        }
        Ok(match view.body {
            Some(Body::Tuple(v)) => v.iter().rev().copied().filter(|&t| t != 0).collect(),
            Some(Body::List(_)) => {
                // list_traverse, from the last item too.
                let d = self.list_data(op)?;
                let mut out = Vec::new();
                for i in (0..d.size).rev() {
                    let item = self.mem.read_word(d.item + 8 * i)?;
                    if item != 0 {
                        out.push(item);
                    }
                }
                out
            }
            Some(Body::Dict(d)) => self.dict_traverse(d)?,
            Some(Body::Instance(i)) => {
                // subtype_traverse: the attributes (or the __dict__ made for them), the type.
                // 3.13's PyObject_VisitManagedDict visits valid inline values, not the dict.
                let values_live = self.live_values(i)? != 0;
                let mut out: Vec<u64> = self
                    .referents(op)?
                    .into_iter()
                    .filter(|r| r.edge != Edge::ObType && !(values_live && r.edge == Edge::Dict))
                    .map(|r| r.target)
                    .collect();
                out.push(i.class);
                out
            }
            Some(Body::Class(c)) => {
                let base = if c.bases != 0 {
                    self.type_object(crate::types::TypeId::Object)
                } else {
                    0
                };
                [c.dict, c.mro, c.bases, base]
                    .into_iter()
                    .filter(|&t| t != 0)
                    .collect()
            }
            _ => self.referents(op)?.into_iter().map(|r| r.target).collect(),
        })
    }

    /// The keys object a split dict or a class (`ht_cached_keys`) shares, which owns the keys'
    /// references; `None` for anything else.
    pub fn shared_keys(&self, op: u64) -> Result<Option<u64>, ObjError> {
        Ok(match self.heavy_of(op).map(|h| &h.body) {
            Some(Body::Dict(d)) if d.values != 0 => Some(d.keys),
            Some(Body::Class(c)) if c.cached_keys != 0 => Some(c.cached_keys),
            _ => None,
        })
    }

    /// Every object alive in the allocators' memory (the image's static objects and revived
    /// ones aside), in address order of their blocks within each pool.
    pub fn live_objects(&self) -> Vec<u64> {
        let header = u64::from(pymalloc::profile::POOL_OVERHEAD);
        let mut out = Vec::new();
        for (pool, ps) in self.slots.pools.iter() {
            for (index, slot) in ps.slots.iter().enumerate() {
                if slot.kind != Kind::Empty && slot.state == State::Live {
                    let block = pool + header + index as u64 * u64::from(ps.block_size);
                    out.push(block + self.gc_offset(slot));
                }
            }
        }
        for (&block, slot) in &self.slots.big {
            if slot.kind != Kind::Empty && slot.state == State::Live {
                out.push(block + self.gc_offset(slot));
            }
        }
        out
    }

    /// The references the object layer's caches hold.
    pub fn cache_references(&self) -> Vec<(Cache, u64)> {
        let c = &self.caches;
        let mut out: Vec<(Cache, u64)> = c
            .small_ints
            .iter()
            .enumerate()
            .map(|(i, &op)| (Cache::SmallInt(i as u64), op))
            .collect();
        for (ch, &op) in c.latin1.iter().enumerate() {
            out.push((Cache::Latin1(ch as u8), op));
        }
        if self.layout.minor <= 10 {
            out.push((Cache::EmptyStr, c.empty_str));
            out.push((Cache::EmptyTupleFreeList, c.empty_tuple));
            out.push((Cache::EmptyTupleStartUp, c.empty_tuple));
            for (&name, &op) in &c.identifiers {
                out.push((Cache::Identifier(name), op));
            }
        }
        out.push((Cache::ThreadStateDict, self.tstate_dict));
        out.retain(|&(_, op)| op != 0);
        out
    }

    /// Whether `op`'s `ob_refcnt` counts the references held to it, or why not.
    pub fn uncounted(&self, op: u64) -> Result<Option<Uncounted>, ObjError> {
        let view = self.view(op)?;
        Ok(if view.is_static {
            Some(Uncounted::Static)
        } else if view.slot.small & IMMORTAL != 0 {
            Some(Uncounted::Immortal)
        } else if view.slot.state == State::Listed && view.slot.usable() {
            Some(Uncounted::Revived)
        } else {
            None
        })
    }

    /// A struct object's references, in its deallocator's order.
    fn field_referents(&self, op: u64) -> Result<Vec<Referent>, ObjError> {
        let ty = self.type_of(op)?;
        let mut out = Vec::new();
        for &field in crate::fields::dealloc_order(ty, self.layout.minor) {
            let target = self.field_ref(op, field)?;
            if target != 0 {
                out.push(Referent {
                    edge: Edge::Field(field),
                    target,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use pymalloc::Profile;

    /// Each live object's count, less the references `held` outside the object layer, is the
    /// number of references the objects and caches own.
    fn assert_recounted(o: &Objects, held: &[u64]) {
        let mut counts: HashMap<u64, u64> = HashMap::new();
        let mut shared = Vec::new();
        for op in o.live_objects() {
            for r in o.referents(op).unwrap() {
                *counts.entry(r.target).or_default() += 1;
            }
            shared.extend(o.shared_keys(op).unwrap());
        }
        shared.sort_unstable();
        shared.dedup();
        for keys in shared {
            for r in o.keys_referents(keys).unwrap() {
                *counts.entry(r.target).or_default() += 1;
            }
        }
        for (_, op) in o.cache_references() {
            *counts.entry(op).or_default() += 1;
        }
        for &op in held {
            *counts.entry(op).or_default() += 1;
        }
        for op in o.live_objects() {
            if o.uncounted(op).unwrap().is_none() {
                let want = counts.get(&op).copied().unwrap_or(0);
                assert_eq!(
                    o.refcnt(op).unwrap(),
                    want,
                    "{} {op:#x} {} {:?}",
                    o.profile(),
                    o.type_of(op).unwrap(),
                    o.referents(op)
                );
            }
        }
    }

    #[test]
    fn instances_classes_and_their_shared_keys_are_recounted() {
        for p in Profile::ALL {
            let mut o = Objects::new(p).unwrap();
            let class = o.type_new("C", "__main__").unwrap();
            let a = o.instance_new(class).unwrap();
            let b = o.instance_new(class).unwrap();
            for (k, name) in ["x", "y", "a_longer_name"].into_iter().enumerate() {
                let n = o.unicode_from_str(name).unwrap();
                let key = o.unicode_intern(n).unwrap();
                o.decref(n).unwrap();
                let v = o.long_from_i64(1000 + k as i64).unwrap();
                let li = o.list_new(0).unwrap();
                o.list_append(li, v).unwrap();
                o.instance_setattr(a, key, v).unwrap();
                o.instance_setattr(b, key, li).unwrap();
                for op in [v, li, key] {
                    o.decref(op).unwrap();
                }
            }
            // 3.13's __dict__ of inline values is not modelled: a list stands in.
            let dict = if o.layout().minor < 13 {
                o.instance_dict(b).unwrap()
            } else {
                o.list_new(0).unwrap()
            };
            let t = o.tuple_pack(&[a, dict]).unwrap();
            assert_recounted(&o, &[class, a, b, dict, t]);
            assert!(o.referents(t).unwrap().iter().any(|r| r.target == dict));
            for op in [t, dict, b, a] {
                o.decref(op).unwrap();
            }
            assert_recounted(&o, &[class]);
        }
    }

    #[test]
    fn a_revived_object_is_uncounted_and_not_traversed() {
        let mut o = Objects::new(Profile::CPYTHON_3_11).unwrap();
        let li = o.list_new_generic().unwrap();
        let item = o.long_from_i64(1000).unwrap();
        o.list_append(li, item).unwrap();
        o.decref(li).unwrap(); // onto the list free list; the item released with it
        assert_eq!(o.uncounted(li).unwrap(), None);
        o.c_incref(li).unwrap(); // ctypes' O_get on its address
        assert_eq!(o.uncounted(li).unwrap(), Some(Uncounted::Revived));
        assert!(!o.live_objects().contains(&li));
        assert_recounted(&o, &[item]);
    }
}
