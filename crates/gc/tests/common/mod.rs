//! The random object graphs both collector tests build: the same graph on the model and, as a
//! Python program, on the real interpreters.

use std::collections::BTreeSet;

use objects::{ObjError, Objects};
use pymalloc::Profile;

/// What one object of a generated graph is.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `[]`.
    List,
    /// `{}`.
    Dict,
    /// A tuple of the objects made before it (by index, modulo how many there are).
    Tuple(usize, usize),
}

#[derive(Clone, Debug)]
pub struct Graph {
    /// The objects, in the order they are made.
    pub kinds: Vec<Kind>,
    /// From a list or a dict (by index) to any object (by index); others are skipped.
    pub edges: Vec<(usize, usize)>,
    /// The objects the test keeps a reference to.
    pub roots: Vec<usize>,
    /// The version it is built on.
    pub profile: Profile,
}

/// The objects made for `g`, by index, and the references each holds (by index).
pub struct Built {
    /// Each object's address.
    pub ops: Vec<u64>,
    /// The references each object holds, by index.
    pub refers: Vec<Vec<usize>>,
}

pub fn build(o: &mut Objects, g: &Graph) -> Result<Built, ObjError> {
    let mut ops = Vec::new();
    let mut refers = vec![Vec::new(); g.kinds.len()];
    for (i, kind) in g.kinds.iter().enumerate() {
        let op = match *kind {
            Kind::List => o.list_new_generic()?,
            Kind::Dict => o.dict_new()?,
            Kind::Tuple(a, b) if i > 0 => {
                let (a, b) = (a % i, b % i);
                refers[i] = vec![a, b];
                o.tuple_pack(&[ops[a], ops[b]])?
            }
            Kind::Tuple(..) => o.tuple_pack(&[])?,
        };
        ops.push(op);
    }
    for (n, &(from, to)) in g.edges.iter().enumerate() {
        match g.kinds[from] {
            Kind::List => o.list_append(ops[from], ops[to])?,
            Kind::Dict => {
                let key = o.long_from_i64(1000 + n as i64)?;
                o.dict_setitem(ops[from], key, ops[to])?;
                o.decref(key)?;
            }
            Kind::Tuple(..) => continue,
        }
        refers[from].push(to);
    }
    Ok(Built { ops, refers })
}

/// The indices reachable from the roots.
pub fn reachable(built: &Built, roots: &[usize]) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<usize> = roots.to_vec();
    while let Some(i) = todo.pop() {
        if seen.insert(i) {
            todo.extend(&built.refers[i]);
        }
    }
    seen
}
