//! One collection of the cycle collector, step by step, on a small graph of lists, a tuple and
//! a dict made on the object layer of CPython 3.11 (`crates/objects`), collected by
//! `gc::collect(o, 2)` (`crates/gc`, CPython's `gc_collect_main`).
//!
//! The graph, in the order the objects are made (and so tracked: the order of generation 0's
//! list, which `move_unreachable` walks):
//! - `x`, a list that only `h` holds: the walk meets it before `h`, moves it to unreachable,
//!   and `visit_reachable` brings it back when it meets `h`;
//! - `a`, `b`, `c`, a garbage cycle of three lists, `y`, a list only `a` holds, in no cycle,
//!   and `s`, a list that holds itself;
//! - `h`, held from outside (by this program), and `p` and `q`, a pair holding each other,
//!   `p` held from outside;
//! - `t`, a tuple of two ints, and `d`, a dict holding it, held from outside: the tuple is
//!   untracked on the way (nothing it holds can be in a cycle), then the dict.
//!
//! 1. The graph before the collection, as a mermaid flowchart generated from the model: every
//!    tracked object, its references from `tp_traverse`, and its count; the counts after
//!    `subtract_refs` and what turns out unreachable come from the collection's trace.
//! 2. The collection in the object layer's trace (`Objects::set_trace`), addresses replaced by
//!    the objects' names.
//! 3. A table per object: its count, `gc_refs` after `update_refs` and after `subtract_refs`,
//!    where `move_unreachable` put it (numbered in the order of the moves), the order of
//!    `delete_garbage`'s `tp_clear` calls and of the deallocations, and whether it survived.
//! 4. A second collection of the survivors: the walk meets each object after what holds it,
//!    so nothing is moved to unreachable.
use std::fmt::Write;

use objects::{GcStep, ObjEvent, Objects};
use pymalloc::Profile;

type Res = Result<(), Box<dyn std::error::Error>>;

fn main() -> Res {
    let mut out = String::new();
    run(&mut out)?;
    print!("{out}");
    Ok(())
}

/// The walk through one collection, written into `out`.
pub fn run(out: &mut String) -> Res {
    let mut o = Objects::new(Profile::CPYTHON_3_11)?;
    let graph = the_graph(&mut o)?;
    // The model's state before the collection: what the diagram draws.
    let before = snapshot(&o, &graph.names)?;
    o.set_trace(true);
    let found = gc::collect(&mut o, 2)?;
    let events = o.take_trace();
    let history = History::of(&events, &graph.names);
    writeln!(out, "== 1. The graph before the collection ==\n")?;
    mermaid(out, &before, &history)?;
    writeln!(out, "\n== 2. The collection in the trace ==\n")?;
    the_trace(out, &events, &graph.names)?;
    writeln!(out, "\n== 3. Each object through the collection ==\n")?;
    the_table(out, &o, &before, &history)?;
    writeln!(
        out,
        "\ngc.collect() would return {} ({} collected, {} uncollectable)",
        found.collected + found.uncollectable,
        found.collected,
        found.uncollectable
    )?;
    writeln!(out, "\n== 4. A second collection ==\n")?;
    o.set_trace(true);
    gc::collect(&mut o, 2)?;
    let again = o.take_trace();
    the_moves(out, &again, &graph.names)?;
    graph.release(&mut o)?;
    Ok(())
}

/// `move_unreachable`'s steps in a trace, by name: what a collection moved, and what it did not.
fn the_moves(out: &mut String, events: &[ObjEvent], names: &[(&'static str, u64)]) -> Res {
    for e in events {
        if let ObjEvent::Gc { op, step, .. } = *e
            && !move_word(step).is_empty()
        {
            writeln!(out, "{:<2} {}", name_of(names, op), move_word(step))?;
        }
    }
    Ok(())
}

/// The objects made, by name, and the references this program holds (the outside).
struct Graph {
    names: Vec<(&'static str, u64)>,
    roots: Vec<u64>,
}

impl Graph {
    /// Drops the references from outside: the survivors are freed by reference counting.
    fn release(self, o: &mut Objects) -> Res {
        for op in self.roots {
            o.decref(op)?;
        }
        Ok(())
    }
}

/// Makes the graph; each reference this program does not keep is dropped at once.
// ANCHOR: graph
fn the_graph(o: &mut Objects) -> Result<Graph, objects::ObjError> {
    let x = o.list_new_generic()?;
    let a = o.list_new_generic()?;
    let b = o.list_new_generic()?;
    let c = o.list_new_generic()?;
    for (from, to) in [(a, b), (b, c), (c, a)] {
        o.list_append(from, to)?;
    }
    let y = o.list_new_generic()?;
    o.list_append(a, y)?;
    let s = o.list_new_generic()?;
    o.list_append(s, s)?;
    let h = o.list_new_generic()?;
    o.list_append(h, x)?;
    let p = o.list_new_generic()?;
    let q = o.list_new_generic()?;
    o.list_append(p, q)?;
    o.list_append(q, p)?;
    let one = o.long_from_i64(1)?;
    let two = o.long_from_i64(2)?;
    let t = o.tuple_pack(&[one, two])?;
    o.decref(one)?;
    o.decref(two)?;
    let d = o.dict_new()?;
    let key = o.unicode_from_str("t")?;
    o.dict_setitem(d, key, t)?;
    o.decref(key)?;
    for op in [x, a, b, c, y, s, q, t] {
        o.decref(op)?;
    }
    Ok(Graph {
        names: vec![
            ("x", x),
            ("a", a),
            ("b", b),
            ("c", c),
            ("y", y),
            ("s", s),
            ("h", h),
            ("p", p),
            ("q", q),
            ("t", t),
            ("d", d),
        ],
        roots: vec![h, p, d],
    })
}
// ANCHOR_END: graph

/// One object as the collection finds it.
struct Node {
    name: &'static str,
    op: u64,
    ty: objects::TypeId,
    refcnt: u64,
    /// What its `tp_traverse` visits, by index in the snapshot.
    refers_to: Vec<usize>,
}

/// Every named object that is tracked, in the order of the collector's lists, with its count
/// and references, before the collection.
fn snapshot(o: &Objects, names: &[(&'static str, u64)]) -> Result<Vec<Node>, objects::ObjError> {
    let tracked: Vec<u64> = o
        .gc_generation0()
        .into_iter()
        .filter(|op| names.iter().any(|&(_, n)| n == *op))
        .collect();
    let mut nodes = Vec::new();
    for &op in &tracked {
        let refers_to = o
            .tp_traverse(op)?
            .into_iter()
            .filter_map(|to| tracked.iter().position(|&t| t == to))
            .collect();
        nodes.push(Node {
            name: name_of(names, op),
            op,
            ty: o.type_of(op)?,
            refcnt: o.refcnt(op)?,
            refers_to,
        });
    }
    Ok(nodes)
}

fn name_of(names: &[(&'static str, u64)], op: u64) -> &'static str {
    names
        .iter()
        .find(|&&(_, n)| n == op)
        .map_or("?", |&(s, _)| s)
}

/// What the trace says happened to each object.
#[derive(Default)]
struct Steps {
    update_refs: Option<i64>,
    subtract_refs: Option<i64>,
    /// move_unreachable's moves of it, each with its number in the order of all moves.
    moves: Vec<(usize, GcStep)>,
    /// Its place in the order of delete_garbage's tp_clear calls, and of deallocations.
    cleared: Option<usize>,
    deallocated: Option<usize>,
}

struct History(Vec<(u64, Steps)>);

impl History {
    fn of(events: &[ObjEvent], names: &[(&'static str, u64)]) -> History {
        let mut h = History(
            names
                .iter()
                .map(|&(_, op)| (op, Steps::default()))
                .collect(),
        );
        let (mut moves, mut clears, mut deallocs) = (0, 0, 0);
        for e in events {
            match *e {
                ObjEvent::Gc { op, step, .. } => {
                    let Some(s) = h.get_mut(op) else { continue };
                    match step {
                        GcStep::UpdateRefs(n) => s.update_refs = Some(n),
                        GcStep::SubtractRefs(n) => s.subtract_refs = Some(n),
                        GcStep::Clear => {
                            clears += 1;
                            s.cleared = Some(clears);
                        }
                        GcStep::Untracked
                        | GcStep::StillAlive
                        | GcStep::Finalize
                        | GcStep::Resurrected
                        | GcStep::Saved => {}
                        step => {
                            moves += 1;
                            s.moves.push((moves, step));
                        }
                    }
                }
                ObjEvent::Dealloc { op, .. } => {
                    if let Some(s) = h.get_mut(op) {
                        deallocs += 1;
                        s.deallocated = Some(deallocs);
                    }
                }
                _ => {}
            }
        }
        h
    }

    fn get_mut(&mut self, op: u64) -> Option<&mut Steps> {
        self.0.iter_mut().find(|(o, _)| *o == op).map(|(_, s)| s)
    }

    fn get(&self, op: u64) -> Option<&Steps> {
        self.0.iter().find(|(o, _)| *o == op).map(|(_, s)| s)
    }

    /// Whether the collection found `op` unreachable: it ended in `unreachable` (its last
    /// move put it there) and `delete_garbage` got to it or to what freed it.
    fn unreachable(&self, op: u64) -> bool {
        self.get(op)
            .is_some_and(|s| matches!(s.moves.last(), Some((_, GcStep::TentativelyUnreachable))))
    }
}

/// The graph as a mermaid flowchart: each tracked object with its count and its `gc_refs`
/// after `subtract_refs`, the references `tp_traverse` visits, the references from outside
/// the generation drawn from one node, and the objects found unreachable in red.
fn mermaid(out: &mut String, nodes: &[Node], history: &History) -> Res {
    writeln!(out, "flowchart LR")?;
    writeln!(out, "    outside((outside))")?;
    for n in nodes {
        let left = history.get(n.op).and_then(|s| s.subtract_refs).unwrap_or(0);
        writeln!(
            out,
            "    {}[\"{}: {}<br>refcnt {}, gc_refs {}\"]",
            n.name, n.name, n.ty, n.refcnt, left
        )?;
    }
    for n in nodes {
        let left = history.get(n.op).and_then(|s| s.subtract_refs).unwrap_or(0);
        if left > 0 {
            writeln!(out, "    outside -->|{left}| {}", n.name)?;
        }
        for &to in &n.refers_to {
            writeln!(out, "    {} --> {}", n.name, nodes[to].name)?;
        }
    }
    let unreachable: Vec<&str> = nodes
        .iter()
        .filter(|n| history.unreachable(n.op))
        .map(|n| n.name)
        .collect();
    writeln!(out, "    classDef unreachable fill:#fdd,stroke:#c00")?;
    writeln!(out, "    class {} unreachable", unreachable.join(","))?;
    Ok(())
}

/// The collector's events and the deallocations between them, from the collection's start to
/// its end, each address replaced by the object's name where it has one.
fn the_trace(out: &mut String, events: &[ObjEvent], names: &[(&'static str, u64)]) -> Res {
    for e in events {
        let op = match *e {
            ObjEvent::Gc { op, .. } | ObjEvent::Dealloc { op, .. } => Some(op),
            ObjEvent::GcStart { .. } | ObjEvent::GcEnd { .. } => None,
            _ => continue,
        };
        let mut line = e.to_string();
        if let Some(op) = op {
            line = line.replace(&format!("at {op:#x}"), name_of(names, op));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// One row per named object.
fn the_table(out: &mut String, o: &Objects, nodes: &[Node], history: &History) -> Res {
    writeln!(
        out,
        "{:<3} {:<6} {:>6} {:>11} {:>13}  {:<48} {:<8} end",
        "",
        "type",
        "refcnt",
        "update_refs",
        "subtract_refs",
        "move_unreachable (move number)",
        "tp_clear",
    )?;
    for n in nodes {
        let Some(s) = history.get(n.op) else { continue };
        let moves: Vec<String> = s
            .moves
            .iter()
            .map(|&(k, step)| format!("{k} {}", move_word(step)))
            .collect();
        let cleared = s.cleared.map_or("".into(), |k| format!("{k}"));
        let end = match s.deallocated {
            Some(k) => format!("freed, dealloc {k}"),
            None if o.gc_is_tracked(n.op) => "survived".into(),
            None => "survived, untracked".into(),
        };
        let num = |v: Option<i64>| v.map_or("-".into(), |n| n.to_string());
        writeln!(
            out,
            "{:<3} {:<6} {:>6} {:>11} {:>13}  {:<48} {:<8} {}",
            n.name,
            n.ty.to_string(),
            n.refcnt,
            num(s.update_refs),
            num(s.subtract_refs),
            moves.join(", "),
            cleared,
            end
        )?;
    }
    Ok(())
}

/// A move of `move_unreachable`, in the table's words.
fn move_word(step: GcStep) -> &'static str {
    match step {
        GcStep::Reachable(_) => "reachable",
        GcStep::TentativelyUnreachable => "to unreachable",
        GcStep::MarkedAhead => "marked ahead",
        GcStep::BroughtBack => "brought back",
        _ => "",
    }
}
