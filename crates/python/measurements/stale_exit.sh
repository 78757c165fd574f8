#!/bin/sh
# Records, for each installed CPython 3.8-3.13, what the blog's first program (stale_list.py)
# reads through the dead list's id, and why it dies at exit. At the stale read (the second
# list_repr): the list's item buffer, its first word and what that points at, the buffer's pool.
# At exit: the list free list at the final collection's clear_freelists (the entries that
# are there twice), both PyObject_GC_Del calls of such a list with its PyGC_Head words, and the
# fault (address, the innermost frames, the instruction): stale_exit.3.X.txt. Needs gdb and
# pyenv's builds (which keep their symbols). Run from this directory.
set -e
for v in 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
    m=${v%.*}
    exe=$(PYENV_VERSION=$v pyenv which python3)
    case $m in 3.8|3.9) pool_size=4096 ;; *) pool_size=16384 ;; esac
    gdb -q -batch -ex "python POOL_SIZE = $pool_size" -x stale_exit.gdb --args "$exe" -I ../../../examples/python/blog/stale_list.py 2>&1 \
        | grep -vE '^(\[Thread|Using host|warning|To |line to|For more|	info|	add-auto|$)|No such file|safe-path|auto-load|^"Auto|^Function |^Breakpoint ' \
        | sed -E 's/ at (Modules|Objects|Python)\/[a-z_]+\.c:[0-9]+$//' > "stale_exit.$m.txt"
done
