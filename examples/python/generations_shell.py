"""The blog's append-and-pop loop typed into the interactive interpreter (`python3 -i`).

The loop of generations_pop.py, with the blog's 2000 iterations, is fed to a child interpreter
started with -i and its standard input a pipe: the interactive loop compiles each statement in
'single' mode, as the prompt does, so the expression statement `li.pop()` inside the loop is
echoed by sys.displayhook (PRINT_EXPR), which also keeps the value in `builtins._` until the
next echo replaces it. The prompts go to standard error; what the loop prints to standard output
is summarised as runs of equal lines, so that 4000 lines stay short.

Whether the count rises by one per printed line, as in the blog's output, or stays flat: it stays
flat, as in a script; the interactive prompt is not what kept a container per line.

    python3 -I examples/python/generations_shell.py
"""
import subprocess
import sys

# ANCHOR: typed
TYPED = """import gc
gc.collect()
li = []
for i in range(2000):
    li.append([])
    print(gc.get_count())
    li.pop()

"""
# ANCHOR_END: typed

out = subprocess.run(
    [sys.executable, "-I", "-i", "-q"],
    input=TYPED,
    capture_output=True,
    text=True,
    check=True,
).stdout
runs = []
for line in out.splitlines():
    if runs and runs[-1][0] == line:
        runs[-1][1] += 1
    else:
        runs.append([line, 1])
# The echoed `[]` alternates with the counts: runs of the count lines alone.
counts = []
for line, n in runs:
    if line.startswith("("):
        if counts and counts[-1][0] == line:
            counts[-1][1] += n
        else:
            counts.append([line, n])
echoed = sum(n for line, n in runs if line == "[]")
print("lines echoed by sys.displayhook:", echoed, "x []")
for line, n in counts:
    print(line, "x", n)
