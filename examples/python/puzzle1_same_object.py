"""A list deallocated twice: the next two new lists are one object.

The list made in test() dies when test() returns: list_dealloc (Objects/listobject.c) frees its
item buffer and pushes the list on the list free list (free_list[numfree++] = op). ctypes'
py_object getter takes a new reference to whatever lies at the address, the dead list included,
and releasing that reference (del x) runs list_dealloc a second time: the same address is pushed
on the free list again. PyList_New pops it twice, so a and b are one object.

Both new lists are popped before the print, so the interpreter's exit finds the free list as it
was before: this program exits 0 on every version. (Leaving the list twice on the free list is
what makes the blog's programs crash at exit: crates/python/measurements/stale_exit.*.)
"""

import ctypes


def test():
    li = []
    return id(li)


x = ctypes.cast(test(), ctypes.py_object).value
del x
a = []
b = []
print(a is b)
