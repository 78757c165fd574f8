#!/bin/sh
# Records, for each installed CPython 3.8-3.13, the pymalloc calls made by the first
# `ctypes.cast(a, ctypes.py_object).value` of a process (ctypes_cast.py), with the C function
# that made each: ctypes_cast.3.X.txt. Needs gdb and pyenv's builds (which keep their symbols).
# gdb stops twice at some entries (a second location of the breakpoint): those repeats are
# dropped. Run from this directory.
set -e
for v in 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
    m=${v%.*}
    exe=$(PYENV_VERSION=$v pyenv which python3)
    gdb -q -batch -x ctypes_cast.gdb --args "$exe" -I ctypes_cast.py 2>&1 \
        | awk '/^=== id 1/{p=1} /^=== id 2/{p=0} p && /^(malloc|free|  by)/' | paste - - \
        | awk -F'\t' '$1 ~ /^malloc/ && length($1) > 16 {next}  # a second location
                       $1 ~ /^free/ && $0 == last {next}  # one entry hit twice: the same block "freed" twice in a row
                       {last = $0; print}' > "ctypes_cast.$m.txt"
done
