"""What sys.getrefcount reports for fresh, cached, immortal and interned objects.

sys.getrefcount(x) returns x's ob_refcnt as the call sees it, and the call itself holds one
reference: the argument. So an object referenced only by one local variable reads 2, and a
temporary referenced by nothing else reads 1.

What each version shows:

- 3.8-3.10: every object has an ordinary count. The small int 1 and None are shared by the whole
  interpreter, so their counts are large (and vary with start-up: the script describes them
  rather than printing them), and they move with every reference taken or dropped.
- 3.11: statically allocated objects (small ints, one-character strings, ...) start at 999999999
  and still count up and down, so their value drifts with whatever the process did (the captures
  show it as 999999999+k). None is static too but starts at an ordinary count.
- 3.12+: PEP 683 immortal objects. Py_INCREF and Py_DECREF leave them alone and getrefcount reads
  a pinned value, 4294967295 (_Py_IMMORTAL_REFCNT on 64-bit builds). On 3.12 every interned string
  is immortal; 3.13 made strings interned at run time (sys.intern) mortal again.

Everything runs inside functions, with objects built at run time: a constant written in this
script would also be held by the code object and, while the script runs, by the parser's arena of
__main__, which would add references that have nothing to do with the point.

Standard library only; runs on CPython 3.8 to 3.13:

    python3 -I examples/python/objects_refcounts.py
"""

import sys


def fresh_object():
    x = object()
    print("object() in one local:", sys.getrefcount(x))
    y = x
    print("  after y = x:", sys.getrefcount(x))
    del y
    print("object() referenced by nothing but the argument:", sys.getrefcount(object()))


IMMORTAL = 4294967295  # _Py_IMMORTAL_REFCNT on 64-bit 3.12 and 3.13
STATIC_START = 999999999  # where 3.11 starts the counts of its statically allocated objects


def shared(count):
    """A shared object's count, printed only where it does not depend on the run.

    An ordinary count of an object the whole interpreter shares (None, the small int 1) depends on
    what start-up imported and on hash randomisation (None's moved by a few dozen between runs),
    so it is described, not printed. 3.11's static counts are printed: the captures normalise
    them to 999999999+k.
    """
    if count == IMMORTAL:
        return "%d (immortal: pinned)" % count
    if count >= STATIC_START:
        return "%d (static: started at a billion, drifts with what the process did)" % count
    return "an ordinary count (%s)" % ("more than 10" if count > 10 else count)


def shared_objects():
    # int('1') is the cached small int 1, the same object as the constant 1 everywhere.
    one = int("1")
    print("small int 1 (one local):", shared(sys.getrefcount(one)))
    print("None:", shared(sys.getrefcount(None)))
    big = int("1000000")
    print("int('1000000') in one local:", sys.getrefcount(big))


def interned_string():
    built = "".join(["ab", "cd"])
    print("''.join(['ab', 'cd']) in one local:", sys.getrefcount(built))
    interned = sys.intern(built)
    # If 'abcd' had been interned before, sys.intern would return that older string instead.
    print("  sys.intern returned the string just built:", interned is built)
    # The interned dict's own references (key and value) are not counted on 3.8-3.11 and 3.13.
    print("  after sys.intern (two locals):", sys.getrefcount(interned))


def moves(name, obj):
    """How much obj's count changes when 100 more references to it are taken."""
    before = sys.getrefcount(obj)
    keep = []
    for _ in range(100):
        keep.append(obj)
    after = sys.getrefcount(obj)
    print("%s: 100 more references change its count by %+d" % (name, after - before))
    del keep
    print("  and dropping them by %+d" % (sys.getrefcount(obj) - after))


def main():
    print("CPython %d.%d" % sys.version_info[:2])
    fresh_object()
    shared_objects()
    interned_string()
    moves("small int 1", int("1"))
    moves("None", None)
    moves("object()", object())


if __name__ == "__main__":
    main()
