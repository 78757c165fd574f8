"""The blog's append-and-pop loop, started from a full collection: generation 0's count is flat.

gc.collect() (a full collection) leaves the counts at (0, 0, 0) and empties the free lists
(clear_freelists). From there count[0] is the number of GC objects allocated without a free
list minus those deallocated without going back to one (the allocation in _PyObject_GC_Alloc,
or _PyObject_GC_Link from 3.12, adds one; PyObject_GC_Del takes one off, never below 0).

The first line reads (2, 0, 0): `li = []` and the first `[]`, both new, since the collection
emptied the list free list. The first print makes what later prints reuse, and one more
get_count() tuple is allocated; by the second line every object the loop needs comes from a free
list and goes back to it: the list popped goes to the list free list, the printed tuple to the
free list of 3-tuples, and the count stays where it is. What the first print adds differs by
version: sys.stdout's pending_bytes list (its second write), the Py_Repr list and the thread
state's dict (tuple's repr calls Py_ReprEnter), from 3.11 print's tuple of positional arguments
(_PyArg_UnpackKeywordsWithVararg) and on 3.11 alone its parser's keyword tuple (3.12 made it
static). Output below 8192 bytes stays pending in sys.stdout until exit: no flush in between.

    python3 -I examples/python/generations_pop.py
"""
import gc

gc.collect()
# ANCHOR: loop
li = []
for i in range(12):
    li.append([])
    print(gc.get_count())
    li.pop()
# ANCHOR_END: loop
