# dis of the blog's function in examples/python/blog/refcount_thousand.py, as each version
# compiles it: where the constant is loaded (LOAD_CONST pushes it on the value stack, taking a
# reference), stored in the local (STORE_FAST moves that reference into the frame), and pushed
# again as the call's argument (LOAD_FAST takes one more).
#
# Standard library only; runs on CPython 3.8 to 3.13, from the repository's root:
#
#     python3 -I examples/python/puzzle2_dis.py
import dis
import types

PATH = "examples/python/blog/refcount_thousand.py"

with open(PATH, encoding="utf-8") as f:
    module = compile(f.read(), PATH, "exec")
for const in module.co_consts:
    if isinstance(const, types.CodeType):
        dis.dis(const)
