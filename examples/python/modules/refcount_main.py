# The blog's function in the main script, and the same function in a module beside it. Run by
# examples/python/puzzle2_import.py on real interpreters, and by examples/puzzle2_owners.rs on the
# model. The script's parser arena holds its constants until the script has run; the module's is
# freed once the module is compiled.
import sys

import refcount_module


def test():
    print(sys.getrefcount(1000), sys.getrefcount("왜이래"))
    num = 1000
    print(sys.getrefcount(num))


print("in the script:")
test()
print("in an imported module:")
refcount_module.test()
