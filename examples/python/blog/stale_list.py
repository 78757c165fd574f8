# The blog's first puzzle ("첫 번째 의문점"), first program, as the post prints it; the two imports
# the post leaves out are added, marked.
import ctypes  # added
import sys  # added


def test() -> int:
    li = list()
    li.append("hsafdasdsadasdfsdfsdasdasi")
    print(sys.getrefcount(li))

    ref_id = id(li)
    print(ctypes.cast(ref_id, ctypes.py_object).value)
    return ref_id


print(ctypes.cast(test(), ctypes.py_object).value)
