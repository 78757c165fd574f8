# The blog's function in a module, imported by refcount_main.py beside it: the import system
# compiles this file with compile(), whose parser arena is freed as soon as the code object exists.
import sys


def test():
    print(sys.getrefcount(1000), sys.getrefcount("왜이래"))
    num = 1000
    print(sys.getrefcount(num))
