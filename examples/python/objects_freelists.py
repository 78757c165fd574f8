"""Free lists: freed lists, dicts, floats and small tuples come back as the next new ones.

When a list, dict, float or small tuple dies, CPython does not hand its memory back to pymalloc
straight away: it keeps the object on a per-type free list (an array or a linked list used as a
stack) and the next object of that type is taken from there. So the newest freed object is reused
first: free x, y, z in that order and the next three new objects are z, y, x (LIFO).

We compare ids only with each other (`id(a) == old_id`), never print them. All freeing and
allocating in one test is done before anything is printed, so that print()'s own temporary objects
cannot take or give back an entry in between.

What it shows:

- lists (list_dealloc / PyList_New in Objects/listobject.c), floats (float_dealloc /
  PyFloat_FromDouble in Objects/floatobject.c), 2-tuples (tupledealloc / PyTuple_New, in later
  versions tuple_alloc, in Objects/tupleobject.c: one free list per size) and dicts
  (dict_dealloc / new_dict in Objects/dictobject.c) are reused LIFO;
- the list free list holds at most 80 lists (PyList_MAXFREELIST): free 100 lists, make 100 new
  ones, and exactly 80 of the new lists are old ones, in reverse order of freeing. The 20 lists
  freed while the free list was full went back to pymalloc; to keep pymalloc from handing their
  memory to the new lists (its pools reuse freed blocks too), the experiment first takes that
  memory with objects of the same pymalloc size class (bytes(24): 57 bytes, like a list's 56, in
  the 64-byte class). The same for dicts (80, PyDict_MAXFREELIST) and floats (100,
  PyFloat_MAXFREELIST; filler: one-digit ints, 28 bytes like a float's 24 in the 32-byte class).
  A last run without the filler shows pymalloc giving back the rest: all 100 ids come back.

Standard library only; runs on CPython 3.8 to 3.13:

    python3 -I examples/python/objects_freelists.py
"""

import sys


def lifo(make, name):
    """Frees x, y, z (in that order), then makes three new objects a, b, c."""
    x, y, z = make(), make(), make()
    ids = (id(x), id(y), id(z))
    del x  # freed first
    del y
    del z  # freed last: on top of the free list
    a = make()
    b = make()
    c = make()
    got = (id(a) == ids[2], id(b) == ids[1], id(c) == ids[0])
    print("%-7s free x, y, z; new a, b, c: a is z's, b is y's, c is x's: %s %s %s" % ((name,) + got))


def new_list():
    return []


def new_dict():
    return {}


SEED = float(sys.version_info[0])  # a float the compiler cannot fold into a constant


def new_float():
    return SEED + 0.5  # a new float each call (not a constant)


def new_pair():
    return (SEED, SEED)  # BUILD_TUPLE 2 at run time: a new 2-tuple each call


def filler_64(i):
    """bytes of length 24: 33 + 24 = 57 bytes, pymalloc's 64-byte class, like a list or a dict."""
    return bytes(24)


def filler_32(i):
    """An int of one 30-bit digit: 28 bytes, pymalloc's 32-byte class, like a float (24)."""
    return i + 1000


def capacity(make, name, filler, n):
    """How many of n freed objects n new ones get back."""
    # Every container is made before the objects are freed: a list display or comprehension made
    # later would itself take a list from the list free list.
    old = [None] * n
    old_ids = [None] * n
    soak = [None] * n
    new = [None] * n
    for i in range(n):  # drains whatever the free list held, then makes fresh objects
        old[i] = make()
        old_ids[i] = id(old[i])
    for i in range(n):  # frees objects 0, 1, ..., n - 1 in this order
        old[i] = None
    if filler is not None:
        for i in range(n):  # soaks up the memory of objects that went back to pymalloc
            soak[i] = filler(i)
    for i in range(n):
        new[i] = make()
    new_ids = [id(x) for x in new]

    where = {ident: i for i, ident in enumerate(old_ids)}
    order = [where.get(ident) for ident in new_ids]  # which freed object each new one is
    reused = sum(1 for i in order if i is not None)
    print("%s: %d freed, %d new%s: %d of the new ones are old ones"
          % (name, n, n, "" if filler is not None else " (no filler)", reused))
    if filler is not None:
        print("  new ones, in order, are the objects freed as: %s" % runs(order))
        return
    # pymalloc's order depends on where pool boundaries fall among the freed lists (it varies
    # between runs on 3.9), so only the free list's part is printed in order.
    first = [i for i in order if i is not None][:80]  # 80: what the run with the filler measured
    rest = order[len(first):]
    print("  new ones, in order, are the objects freed as: %s, then %d others" % (runs(first), len(rest)))
    print("  the others are the %d freed while the free list was full, in some order: %s"
          % (len(rest), sorted(i for i in rest if i is not None) == list(range(n - len(rest), n))))


def runs(order):
    """[79, 78, ..., 0, None, None] as '#79..#0, 2 new': freeing positions, in runs."""
    parts = []
    i = 0
    while i < len(order):
        j = i
        if order[i] is None:
            while j + 1 < len(order) and order[j + 1] is None:
                j += 1
            parts.append("%d new" % (j - i + 1))
        else:
            while j + 1 < len(order) and order[j + 1] is not None and order[j + 1] == order[j] - 1:
                j += 1
            parts.append("#%d..#%d" % (order[i], order[j]) if j > i else "#%d" % order[i])
        i = j + 1
    return ", ".join(parts)


def main():
    print("CPython %d.%d" % sys.version_info[:2])
    lifo(new_list, "list")
    lifo(new_dict, "dict")
    lifo(new_float, "float")
    lifo(new_pair, "2-tuple")
    capacity(new_list, "list", filler_64, 100)
    capacity(new_dict, "dict", filler_64, 100)
    capacity(new_float, "float", filler_32, 150)
    # Without the filler, the new lists that the free list cannot serve come from pymalloc,
    # which hands back the blocks of the lists freed while the free list was full.
    capacity(new_list, "list", None, 100)


if __name__ == "__main__":
    main()
