# The blog's function in the script and in an imported module: 3 and 2 for a literal, 4 and 3 for
# a local, on every version.
#
# The difference is the parser's arena (PyArena, Python/pyarena.c), which holds one reference to
# every constant it parsed. `python3 script.py` (pyrun_file in Python/pythonrun.c) keeps the
# script's arena until the whole script has run. The import system compiles a module with
# compile(), which frees its arena as soon as the code object exists; so does exec() of a code
# object. exec() of a source string parses into an arena kept while that source runs.
#
# The script and its module are examples/python/modules/refcount_main.py and refcount_module.py,
# which the model runs too. They run in a child interpreter, since -I would leave the script's
# directory off sys.path: -E and -s keep the environment and the user's site-packages out as -I
# does, and -B writes no bytecode, so the module is compiled from its source every time.
#
# Standard library only; runs on CPython 3.8 to 3.13:
#
#     python3 -I examples/python/puzzle2_import.py
import os
import subprocess
import sys

MAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "modules", "refcount_main.py")

SOURCE = '''
import sys


def test():
    print(sys.getrefcount(1000), sys.getrefcount("왜이래"))
    num = 1000
    print(sys.getrefcount(num))
'''

# ANCHOR: calls
child = subprocess.run([sys.executable, "-E", "-s", "-B", MAIN], capture_output=True, text=True)
print(child.stdout, end="")

print("exec(compile(source)), called after:")
compiled = {}
exec(compile(SOURCE, "<compiled>", "exec"), compiled)
compiled["test"]()

print("exec(source + 'test()'), called while exec runs:")
exec(SOURCE + "\ntest()\n", {})
# ANCHOR_END: calls
