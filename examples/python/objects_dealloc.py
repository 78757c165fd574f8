"""In what order a container's items die when the container does: measured with __del__.

When a container's reference count reaches zero, its tp_dealloc drops the references it holds,
one by one; an item whose count then reaches zero is deallocated right there, inside the
container's dealloc (a cascade), and its __del__ runs at that moment. So the order in which the
finalizers run is the order in which the container's dealloc function walks its items.

Each Item records its name in a list when it is finalised; every container below holds the only
references to its items, so deleting the container finalises all of them, and we print the order.

What it shows (the C function that sets the order):

- list: last item first (list_dealloc in Objects/listobject.c walks ob_item backwards:
  "Do it backwards, for Christian Tismer"); list.clear() also goes backwards (_list_clear);
- tuple: last item first too (tupledealloc in Objects/tupleobject.c: `while (--i >= 0)`);
- dict: insertion order, for each entry the key, then the value (dict_dealloc calls
  free_keys_object / dictkeys_decref in Objects/dictobject.c, which walks the entries forwards);
- the attributes of an instance: in the order they were first set (its __dict__, or on 3.11+ its
  inline values, released forwards);
- a nested list: depth first, each list backwards.

Standard library only; runs on CPython 3.8 to 3.13:

    python3 -I examples/python/objects_dealloc.py
"""

import sys

FINALISED = []


class Item:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        FINALISED.append(self.name)

    def __repr__(self):
        return self.name


class Holder:
    """A plain instance whose attributes are set in the order a, b, c."""


def report(label, drop):
    """Runs drop() (which deletes the only references) and prints the finalisation order."""
    del FINALISED[:]
    drop()
    print("%-34s %s" % (label, " ".join(FINALISED)))


def in_list():
    items = [Item("a"), Item("b"), Item("c"), Item("d")]
    del items


def in_list_clear():
    items = [Item("a"), Item("b"), Item("c"), Item("d")]
    items.clear()


def in_tuple():
    items = (Item("a"), Item("b"), Item("c"), Item("d"))
    del items


def dict_values():
    d = {}
    for name in "abcd":
        d[name] = Item(name)
    del d


def dict_keys_and_values():
    d = {}
    for name in "abcd":
        d[Item(name)] = Item(name.upper())
    del d


def dict_value_replaced():
    d = {}
    for name in "abcd":
        d[name] = Item(name)
    d["b"] = Item("b2")  # replaces b's value in place: b dies now, b2 takes b's entry
    del d


def dict_key_reinserted():
    d = {}
    for name in "abcd":
        d[name] = Item(name)
    del d["b"]  # b dies now; its entry becomes a dummy
    d["b"] = Item("b2")  # a new entry, at the end
    del d


def attributes():
    h = Holder()
    h.a = Item("a")
    h.b = Item("b")
    h.c = Item("c")
    h.d = Item("d")
    del h


def nested():
    items = [Item("a"), [Item("b1"), Item("b2")], (Item("c1"), Item("c2")), Item("d")]
    del items


def main():
    print("CPython %d.%d" % sys.version_info[:2])
    report("list [a, b, c, d]:", in_list)
    report("list [a, b, c, d].clear():", in_list_clear)
    report("tuple (a, b, c, d):", in_tuple)
    report("dict {'a': a, ..., 'd': d}:", dict_values)
    report("dict {a: A, b: B, c: C, d: D}:", dict_keys_and_values)
    report("dict, then d['b'] = b2:", dict_value_replaced)
    report("dict, del d['b'], d['b'] = b2:", dict_key_reinserted)
    report("instance, h.a = a ... h.d = d:", attributes)
    report("[a, [b1, b2], (c1, c2), d]:", nested)


if __name__ == "__main__":
    main()
