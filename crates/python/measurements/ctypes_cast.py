# The allocations of one `ctypes.cast(address, ctypes.py_object).value`, between two id(0) calls
# (ctypes_cast.sh runs it under gdb and logs each pymalloc call with its caller).
import ctypes

x = [1]
a = id(x)
ctypes.cast(a, ctypes.py_object).value
id(0)
