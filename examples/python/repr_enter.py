# The blog's first program without the print inside test(): no list has been shown before
# the stale read, so Py_ReprEnter makes its list then, taking it off the list free list.
import ctypes


def test() -> int:
    li = list()
    li.append("hsafdasdsadasdfsdfsdasdasi")
    return id(li)


print(ctypes.cast(test(), ctypes.py_object).value)
