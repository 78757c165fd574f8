# Who holds the constant 1000 while the blog's function runs, as the real interpreter shows it.
#
# The blog's function, run as `python3 script.py`, reads 4 for `num = 1000;
# sys.getrefcount(num)`. Two of the four are the local `num` and the call's argument. The other
# two are held by objects that outlive the call:
#
# - the function's code object: `test.__code__.co_consts` holds the constant;
# - the parser's arena of __main__ (PyArena, Python/pyarena.c): a list that holds every object the
#   parser made from this file's text, kept until the whole script has run. The collector tracks
#   that list, so gc.get_referrers finds it. On 3.9 and later the PEG parser also keeps the bytes
#   of every token there, and makes a new int each time one of its rules reads a number token, so
#   the list holds other ints equal to 1000 that nobody else uses.
#
# co_consts is read directly: gc.get_referrers sees only the containers the collector tracks, and
# a tuple of atoms stops being tracked whenever a collection happens to look at it.
#
# Standard library only; runs on CPython 3.8 to 3.13:
#
#     python3 -I examples/python/puzzle2_owners.py
import gc
import sys


def count(items, value):
    """How many of items are value itself, and how many are other ints equal to it."""
    same = equal = 0
    for v in items:
        if v is value:
            same += 1
        elif type(v) is int and v == value:
            equal += 1
    return same, equal


def describe(function, value):
    consts = function.__code__.co_consts
    print("  %s.__code__.co_consts:" % function.__name__, count(consts, value)[0])
    for r in gc.get_referrers(value):
        if isinstance(r, list):
            same, equal = count(r, value)
            print("  a list of %d objects: %d" % (len(r), same))
            print("    its first items:", r[:8])
            print("    other ints equal to %d in it: %d" % (value, equal))
        elif r is not consts:
            print("  also:", type(r).__name__)


def test():
    num = 1000
    print("sys.getrefcount(num):", sys.getrefcount(num))
    describe(test, num)


test()
