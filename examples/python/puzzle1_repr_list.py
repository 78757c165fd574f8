"""The stale list shows itself: `[[...]]`, because it is the Py_Repr list.

No list has been shown before, so Py_ReprEnter makes the Py_Repr list with PyList_New(0), which
takes the most recently freed list off the list free list: the stale list itself. It is then the
list of objects being shown, holding itself, and its item 0 is a list being shown: `[...]`.

The programs puzzle1_repr_list, puzzle1_buffer_reuse, puzzle1_null and puzzle1_link differ only
in the lines between `keep` and the stale read. test() makes a list with one item: append gives
it an item buffer of 4 slots, a 32-byte pymalloc block (list_resize in Objects/listobject.c).
When test() returns, list_dealloc releases the str, frees the buffer and pushes the list on the
list free list; the id then names a list whose ob_size is still 1 and whose ob_item points at the
freed buffer. pymalloc_free (Objects/obmalloc.c) makes the buffer the head of its pool's free
list and writes the old head into its first word, where item 0 was: NULL if the pool was full.
`keep` fills pools of 32-byte blocks with ints (an int of one digit takes 28 bytes); those
from keep[500] on lie in pools carved for them, full now; `del` frees chosen blocks of full pools, and insert_to_usedpool puts each such
pool at the front of usedpools, where the next 32-byte request looks first. The stale read runs
list_repr on the dead list; Py_ReprEnter (Objects/object.c) first appends the list to the
thread's Py_Repr list, which allocates that list a new buffer if it has none.

The print flushes at once: on CPython the corrupted heap can crash the interpreter's exit before
it writes a buffered line.
"""

# ANCHOR: program
import ctypes


def test() -> int:
    li = list()
    li.append("hsafdasdsadasdfsdfsdasdasi")
    return id(li)
# ANCHOR_END: program


# ANCHOR: history
keep = [i * 1000 for i in range(2000)]
del keep[1500]
print(ctypes.cast(test(), ctypes.py_object).value, flush=True)
# ANCHOR_END: history
