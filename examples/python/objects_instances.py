"""What an instance of a plain class costs, and where its attributes live, on this interpreter.

A plain class (no __slots__) gives its instances a __dict__, but since PEP 412 (3.3) the instances
share one keys table, kept by the class (ht_cached_keys), and each instance stores only its values.
Where those values live changed twice:

- 3.8-3.10: the object has __dict__ and __weakref__ slots (tp_basicsize 32, 48 bytes with the GC
  header). The dict is made when the first attribute is set (_PyObjectDict_SetItem in
  Objects/dictobject.c): a split-table dict (48 bytes + 16 of GC header) and a values array of its
  own, 5 pointers for the class's 8-slot keys (40 bytes). So C() costs 48 bytes, the first
  attribute 104 (the dict and its values), the second nothing (the array has room).
- 3.11, 3.12: no dict at all until someone asks for __dict__. C() allocates the object (with the
  words before its GC header: dict and values pointers on 3.11; dict-or-values and __weakref__ on
  3.12) and a values array (init_inline_values -> new_values), and setting an attribute writes
  into the array (_PyObject_StoreInstanceAttribute). The class's keys have room for 30 names
  (SHARED_KEYS_MAX_SIZE), and each new instance takes one off the keys' dk_usable, so each values
  array is 8 bytes smaller than the one before: three C() cost 320, 312, 304 bytes on 3.11.
- 3.13: the values are inside the object, after it (_PyObject_InitInlineValues): one allocation
  per instance, shrinking by 8 bytes an instance as well.

Asking for __dict__ on 3.11+ makes a dict from the values (make_dict_from_instance_attributes),
which is why getsizeof(obj.__dict__) counts every slot of the values array. sys.getsizeof(obj)
never counts the dict or the values; from 3.11 it counts the words before the GC header.

Last, the order in which an instance's attributes die (Item.__del__ records it). subtype_dealloc
in Objects/typeobject.c releases the dict (up to 3.10) or the values (from 3.11), and both are
walked forwards, by the index of each name in the class's shared keys: the order in which the
first instance set them. An instance that sets them in another order keeps the keys' order from
3.11 (a b c d); up to 3.10 its split table could not take the names out of order, so its dict
got keys of its own (insertdict -> insertion_resize), and it dies in its own order (d c b a).

How it measures: tracemalloc.get_traced_memory() before and after each statement, read into a list
made beforehand. Each reading is a new int (28 bytes up to 3.10; 32 from 3.11, where
_PyLong_FromMedium allocates sizeof(PyLongObject)), measured first with two readings in a row and
subtracted. A bytearray keeps the readings above 256 (the cached small ints would cost nothing),
and 100 live dicts keep the dict free list empty, so a new dict is a new allocation, as in a fresh
process. Every number is the same from run to run.

Standard library only; runs on CPython 3.8 to 3.13:

    python3 -I examples/python/objects_instances.py
"""

import sys
import tracemalloc


def measure():
    class C:
        pass

    # The dict free list holds at most 80: with 100 dicts alive, it is empty.
    dicts = [{} for _ in range(100)]
    keep = [None] * 4
    m = [None] * 10
    tracemalloc.start()
    ballast = bytearray(100000)
    get = tracemalloc.get_traced_memory
    m[0] = get()[0]
    m[1] = get()[0]
    keep[0] = C()
    m[2] = get()[0]
    keep[1] = C()
    m[3] = get()[0]
    keep[2] = C()
    m[4] = get()[0]
    first = keep[0]
    first.x = 1
    m[5] = get()[0]
    first.y = 2
    m[6] = get()[0]
    tracemalloc.stop()
    reading = m[1] - m[0]
    grew = [m[i + 1] - m[i] - reading for i in range(1, 6)]
    fourth = C()
    fourth.x = 1
    sizes = (sys.getsizeof(fourth), sys.getsizeof(fourth.__dict__))
    basicsize = type(C()).__basicsize__
    del ballast, dicts, keep

    print("CPython %d.%d" % sys.version_info[:2])
    print("a reading of get_traced_memory() costs %d bytes (its int), subtracted" % reading)
    print("traced by C(), C(), C(): %d, %d, %d bytes (second - third: %d)"
          % (grew[0], grew[1], grew[2], grew[1] - grew[2]))
    print("traced by first.x = 1: %d bytes; by first.y = 2: %d bytes" % (grew[3], grew[4]))
    print("getsizeof(fourth) %d and of its __dict__ %d, after fourth.x = 1" % sizes)
    print("getsizeof(C) %d, type(C()).__basicsize__ %d" % (sys.getsizeof(C), basicsize))


LOG = []


class Item:
    """Records its name when it is deallocated."""

    def __init__(self, name):
        self.name = name

    def __del__(self):
        LOG.append(self.name)


def dealloc_order():
    class H:
        pass

    h = H()
    h.a, h.b, h.c, h.d = Item("a"), Item("b"), Item("c"), Item("d")
    del h
    print("h.a = a ... h.d = d:       %s" % " ".join(LOG))
    del LOG[:]
    g = H()
    g.d, g.c, g.b, g.a = Item("d"), Item("c"), Item("b"), Item("a")
    del g
    print("then g.d = d ... g.a = a:  %s" % " ".join(LOG))


if __name__ == "__main__":
    measure()
    dealloc_order()
