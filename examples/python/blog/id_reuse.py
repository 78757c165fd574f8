# The blog's answer to the first puzzle: a new list turns up at a dead list's id.
import ctypes


def test() -> int:
    a = [1, 2, 3]
    return id(a)


tmp_id = test()
li = []
for i in range(2000):
    li.append("?")

print(ctypes.cast(tmp_id, ctypes.py_object).value)
