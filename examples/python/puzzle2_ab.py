# Why the blog's sys.getrefcount("ab") reads 5 on CPython 3.11: who else holds the interned 'ab'.
#
# The compiler interns string constants that look like identifiers, so every code object that
# has 'ab' as a constant shares one object, the interned one. Inside a function of a script, a
# constant nobody else uses reads 3: the function's co_consts, the parser's arena of __main__ and
# the call's argument. Every code object loaded before the script that has 'ab' among its
# constants adds its references. This script lists them (the functions and constant tuples that
# hold the very object the script's constant is), then runs a child interpreter with -S (no site,
# so no .pth files of site-packages run at start-up) and imports bz2 and lzma by hand: their
# BZ2File.__init__ and LZMAFile.__init__ have 'ab' among their constants, 'ab' being a file mode.
#
# On 3.12 every interned string is immortal (4294967295). On 3.13 the compiler's interned
# strings are mortal again, but marshal makes the strings of a loaded .pyc immortal
# (_PyUnicode_InternImmortal in Python/marshal.c), and that includes the script's own 'ab' once a
# module with 'ab' is loaded.
#
# Standard library only; runs on CPython 3.8 to 3.13:
#
#     python3 -I examples/python/puzzle2_ab.py
import gc
import subprocess
import sys
import types

CHILD = '''
import sys


def count():
    return sys.getrefcount("ab")


print("  at start-up:", count())
import bz2
print("  after import bz2:", count())
import lzma
print("  after import lzma:", count())
'''


def test():
    return sys.getrefcount("ab")


def holders(value):
    """(file, function, references) for each code object of another file that holds value among
    its constants, directly or inside a constant tuple."""
    found = []
    seen = set()
    codes = [o.__code__ for o in gc.get_objects() if isinstance(o, types.FunctionType)]
    while codes:
        code = codes.pop()
        if id(code) in seen or code.co_filename == __file__:
            continue
        seen.add(id(code))
        held = 0
        for c in code.co_consts:
            if c is value:
                held += 1
            elif isinstance(c, tuple):
                held += sum(1 for item in c if item is value)
            elif isinstance(c, types.CodeType):
                codes.append(c)
        if held:
            name = getattr(code, "co_qualname", code.co_name)
            found.append((code.co_filename.rsplit("/", 1)[-1], name, held))
    return sorted(found)


print('sys.getrefcount("ab") in a function:', test())
print("held by other code already loaded:")
constant = [c for c in test.__code__.co_consts if isinstance(c, str)][0]
others = holders(constant)
for filename, name, held in others:
    print("  %s, %s: %d" % (filename, name, held))
if not others:
    print("  nothing")
print("a child with -S, importing bz2 and lzma itself:")
child = subprocess.run([sys.executable, "-I", "-S", "-c", CHILD], capture_output=True, text=True)
print(child.stdout, end="")
