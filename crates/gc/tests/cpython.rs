//! The collector against CPython's: the same random graphs of lists, dicts and tuples built on
//! the model and, as Python functions, on every installed interpreter from 3.8; after the
//! references are dropped, `gc.collect()` must find as many objects on the model as on the real
//! interpreter, graph by graph. Interpreters are pyenv's (`$PYENV_ROOT/versions/*/bin/python3`),
//! one per minor version; the test says which it used and which it skipped.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use common::{Graph, Kind, build, reachable};
use objects::Objects;
use pymalloc::Profile;

/// Graphs per interpreter.
const GRAPHS: u64 = 60;

/// Always shown, even when the test passes.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "gc against CPython: {line}");
}

/// A small deterministic generator (the same graphs on every run and machine).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn graph(seed: u64, profile: Profile) -> Graph {
    let mut r = Lcg(seed);
    let n = 1 + r.below(30);
    let kinds = (0..n)
        .map(|_| match r.below(6) {
            0..=2 => Kind::List,
            3 | 4 => Kind::Dict,
            _ => Kind::Tuple(r.below(1000), r.below(1000)),
        })
        .collect();
    let edges = (0..r.below(60)).map(|_| (r.below(n), r.below(n))).collect();
    let roots = (0..r.below(5)).map(|_| r.below(n)).collect();
    Graph {
        kinds,
        edges,
        roots,
        profile,
    }
}

/// The graph as the body of a Python function that builds it the same way, one statement per
/// step, and returns the roots in a list (the caller's references).
pub fn python_function(name: &str, g: &Graph) -> String {
    let mut out = format!("def {name}():\n    objs = []\n");
    for (i, kind) in g.kinds.iter().enumerate() {
        let make = match *kind {
            Kind::List => "[]".to_string(),
            Kind::Dict => "{}".to_string(),
            Kind::Tuple(a, b) if i > 0 => format!("(objs[{}], objs[{}])", a % i, b % i),
            Kind::Tuple(..) => "()".to_string(),
        };
        out += &format!("    objs.append({make})\n");
    }
    for (n, &(from, to)) in g.edges.iter().enumerate() {
        match g.kinds[from] {
            Kind::List => out += &format!("    objs[{from}].append(objs[{to}])\n"),
            Kind::Dict => out += &format!("    objs[{from}][{}] = objs[{to}]\n", 1000 + n),
            Kind::Tuple(..) => {}
        }
    }
    let roots: Vec<String> = g.roots.iter().map(|r| format!("objs[{r}]")).collect();
    out += &format!("    return [{}]\n", roots.join(", "));
    out
}

/// What `gc.collect()` returns after the graph's other references are dropped, on the model.
fn model_collect(g: &Graph) -> usize {
    let mut o = Objects::new(g.profile).expect("a profile");
    let built = build(&mut o, g).expect("the graph is built");
    for &r in &g.roots {
        o.incref(built.ops[r]).expect("live");
    }
    for &op in &built.ops {
        o.decref(op).expect("the creation's reference");
    }
    let found = gc::collect(&mut o, 2).expect("collect(2)");
    // What the roots reach is what is left (the empty tuple, a singleton, aside).
    let keep = reachable(&built, &g.roots);
    for (i, &op) in built.ops.iter().enumerate() {
        let singleton = matches!(g.kinds[i], Kind::Tuple(..)) && i == 0;
        assert_eq!(o.is_live(op), keep.contains(&i) || singleton, "object {i}");
    }
    found.collected + found.uncollectable
}

/// The program that prints, for each graph, what `gc.collect()` returns once only the roots
/// are left (then the roots go, and a collection not printed clears what they kept).
fn program(graphs: &[Graph]) -> String {
    let mut out = String::from("import gc\ngc.disable()\ngc.collect()\n");
    for (i, g) in graphs.iter().enumerate() {
        out += &python_function(&format!("g{i}"), g);
    }
    out += &format!(
        "for f in [{}]:\n    r = f()\n    print(gc.collect())\n    del r\n    gc.collect()\n",
        (0..graphs.len())
            .map(|i| format!("g{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

/// One pyenv interpreter per minor version from 3.8, with the profile modelling it.
fn interpreters() -> Vec<(Profile, PathBuf)> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    let Some(Ok(versions)) = root.map(|r| std::fs::read_dir(r.join("versions"))) else {
        report("skipped: no pyenv interpreters");
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = versions.flatten().map(|e| e.path()).collect();
    dirs.sort();
    let mut found: Vec<(Profile, PathBuf)> = Vec::new();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match name.parse::<Profile>() {
            Ok(p) if !found.iter().any(|(q, _)| *q == p) => {
                found.push((p, dir.join("bin/python3")))
            }
            Ok(_) => report(&format!(
                "skipped {name}: a {name} of that minor version is used"
            )),
            Err(_) => report(&format!("skipped {name}: no profile models it")),
        }
    }
    found
}

#[test]
fn collect_finds_as_many_objects_as_cpython() {
    for (profile, python) in interpreters() {
        let graphs: Vec<Graph> = (0..GRAPHS).map(|s| graph(s, profile)).collect();
        let out = Command::new(&python)
            .args(["-I", "-c", &program(&graphs)])
            .output()
            .expect("the interpreter runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cpython: Vec<usize> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.parse().expect("a count"))
            .collect();
        let model: Vec<usize> = graphs.iter().map(model_collect).collect();
        assert_eq!(model, cpython, "{}", python.display());
        report(&format!(
            "{} graphs identical on {}",
            graphs.len(),
            python.display()
        ));
    }
}
