"""How many bytes common objects take, as sys.getsizeof reports it on this interpreter.

sys.getsizeof(x) is the object's own size (type->tp_basicsize plus tp_itemsize * length, or the
type's __sizeof__), plus the garbage collector's header (PyGC_Head, 16 bytes) when the object's type
is a container the collector tracks. It never counts what the object points to: a list's size
includes its item buffer (the pointers) but not the items.

The first part prints one line per expression, `expr<TAB>size`, so the book can build one table
across versions. What it shows:

- strings use 1, 2 or 4 bytes per character, chosen by the widest character (PEP 393): 'é' is
  latin-1 (1 byte), '가' needs UCS-2 (2 bytes), '😀' needs UCS-4 (4 bytes), plus one such unit for
  the terminating NUL, and a non-ASCII string carries a bigger header than an ASCII one; 3.12
  removed the wstr fields (8 bytes less for ASCII, 16 for the others). From 3.12 the cached
  one-character strings U+0080..U+00FF are static objects that carry their UTF-8 form too, and
  getsizeof counts those 3 bytes (2 and a NUL): on 3.12+ 'é' is bigger than 'éé';
- ints grow by one 30-bit digit (4 bytes) at a time: 2**30 needs two digits, 2**60 three; 0 has
  no digit before 3.11 and one since;
- the empty tuple, dict and list are full objects; a 1-tuple adds one pointer (8 bytes);
- the literal [1, 2, 3] is built differently by each compiler: 3.8 emits BUILD_LIST 3 (exactly 3
  slots), 3.9+ BUILD_LIST 0 then LIST_EXTEND with the constant tuple (1, 2, 3); 3.9's list_extend
  grows the empty list through list_resize (8 slots), 3.10+ preallocates it exactly, rounded up to
  an even count (4 slots);
- an instance of a plain class: 3.8-3.10 keep __dict__ and __weakref__ pointers in the object
  (16 + 16, plus the GC header); 3.11 moves the dict (and the inline values) pointer before the GC
  header (getsizeof counts that "pre-header": 8 bytes more than the others); 3.12 moves the
  __weakref__ pointer there too. The instance's attribute dict or values are never counted;
- a bare object(): just a reference count and a type pointer.

The second part shows list over-allocation (list_resize in Objects/listobject.c): append 0..40 to
an empty list and print `len -> getsizeof` each time the size changes. The size only changes when
the item buffer is reallocated, so each line is a new capacity, (size - size of []) / 8 pointers.

Standard library only; runs on CPython 3.8 to 3.13:

    python3 -I examples/python/objects_sizes.py
"""

import sys


class Plain:
    """A class with no __slots__: its instances carry a __dict__ (and a __weakref__ slot)."""


# Each entry is evaluated with eval() so that the printed text is exactly what was measured.
EXPRESSIONS = [
    "''",
    "'a'",
    "'é'",
    "'éé'",
    "'가'",
    "'😀'",
    "'1234567'",
    "0",
    "1",
    "257",
    "2**30",
    "2**60",
    "-1",
    "[]",
    "[1]",
    "[1, 2, 3]",
    "()",
    "(1,)",
    "{}",
    "1.0",
    "Plain()",
    "object()",
]


def main():
    # The non-ASCII expressions must print the same bytes whatever the locale says.
    sys.stdout.reconfigure(encoding="utf-8")
    print("CPython %d.%d" % sys.version_info[:2])
    for expr in EXPRESSIONS:
        print("%s\t%d" % (expr, sys.getsizeof(eval(expr))))

    print()
    print("list growth: len -> getsizeof (capacity = (size - getsizeof([])) // 8)")
    empty = sys.getsizeof([])
    grown = []
    last = sys.getsizeof(grown)
    print("%d -> %d (capacity %d)" % (0, last, (last - empty) // 8))
    for i in range(41):
        grown.append(i)
        size = sys.getsizeof(grown)
        if size != last:
            print("%d -> %d (capacity %d)" % (len(grown), size, (size - empty) // 8))
            last = size


if __name__ == "__main__":
    main()
