"""The stale list shows itself: `[[...]]`, because its freed buffer is the Py_Repr list's.

repr([0]) makes the Py_Repr list and empties it again, which frees its buffer (_list_clear).
`del keep[1500]` leaves one free block in a full pool: the stale list's buffer takes it, filling
the pool, and gives it back into the full pool, which goes to the front of usedpools. The id's
int, from a pool behind it, goes back there. So Py_ReprEnter's append gets the stale list's own
buffer for the Py_Repr list, and writes the stale list into its first slot: item 0.

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
repr([0])
del keep[1500]
print(ctypes.cast(test(), ctypes.py_object).value, flush=True)
# ANCHOR_END: history
