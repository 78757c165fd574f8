"""The stale list shows `[<NULL>]`, and the exit crashes: puzzle1_null after an earlier print.

The same heap as puzzle1_null, after a first print: its two pieces (the text, and `end=" "`)
wait in sys.stdout's TextIOWrapper, unflushed, so pending_bytes is already a list
(PyList_New(2), made before the stale list dies). The stale read's pieces are appended to that
list, no PyList_New runs during it, and the stale list stays on the list free list while
`.value` holds it. Releasing that reference deallocates it a second time: it is on the free
list twice, and the final clear of the free lists (_PyList_ClearFreeList) frees it twice; the
second PyObject_GC_Del faults in gc_list_remove, as the blog's first program does
(crates/python/measurements/stale_exit.puzzle1_exit.txt).

The print flushes at once: the line is written before the crash at exit.
"""

# ANCHOR: program
import ctypes


def test() -> int:
    li = list()
    li.append("hsafdasdsadasdfsdfsdasdasi")
    return id(li)
# ANCHOR_END: program


# ANCHOR: history
print("the stale list:", end=" ")
keep = [i * 1000 for i in range(2000)]
repr([0])
del keep[500]
del keep[1500]
print(ctypes.cast(test(), ctypes.py_object).value, flush=True)
# ANCHOR_END: history
