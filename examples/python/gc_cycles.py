"""The graph of the chapter "Finding cycles" (examples/gc_cycles.rs) built in Python, and one
gc.collect() over it.

- a, b, c: three lists in a cycle (a -> b -> c -> a), y, a list only a holds, in no cycle, and
  s, a list that holds itself: garbage once their names are deleted, which reference counting
  cannot free;
- h holds x, which was made first: gc_collect_main's move_unreachable meets x before h, moves it
  to the unreachable list, and brings it back when it meets h;
- p and q hold each other, p named;
- t, a tuple of two ints, made at run time (BUILD_TUPLE: tracked), held by the dict d, which
  the insertion of a tracked object made tracked (MAINTAIN_TRACKING).

gc.collect() returns the number of unreachable objects it found: the five lists. The survivors
stay tracked, except t (untrack_tuples: nothing it holds can be in a cycle) and then d
(untrack_dicts, in a full collection: nothing it holds is tracked any more). A dict that
never held anything that may be tracked was never tracked.
"""
import gc

gc.collect()

# ANCHOR: graph
x = []
a = []
b = []
c = []
a.append(b)
b.append(c)
c.append(a)
y = []
a.append(y)
s = []
s.append(s)
h = [x]
p = []
q = [p]
p.append(q)
n = 1
t = (n, n + 1)
d = {"t": t}
# ANCHOR_END: graph

# ANCHOR: collect
print("s holds itself:", gc.get_referents(s)[0] is s)
print("referents of h, p, q, t, d:", [len(gc.get_referents(o)) for o in (h, p, q, t, d)])
print("tracked x, h, p, q, t, d:", [gc.is_tracked(o) for o in (x, h, p, q, t, d)])
del x, a, b, c, y, s, q
print("gc.collect():", gc.collect())
print("tracked x, h, p, q, t, d:", [gc.is_tracked(o) for o in (h[0], h, p, p[0], t, d)])
print("gc.collect() again:", gc.collect())
print("tracked {'n': n}:", gc.is_tracked({"n": n}))
# ANCHOR_END: collect
