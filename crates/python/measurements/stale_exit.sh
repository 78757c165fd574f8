#!/bin/sh
# Records, for each installed CPython 3.8-3.13, what a stale-id program reads through a dead
# list's id, and why it dies at exit, if it does: the blog's first program (stale_list.py) and
# the puzzle1 experiments that make each of its outcomes. At the stale read (list_repr of a list
# on the list free list): the list, its item buffer's first word and what that points at, the
# buffer's pool; then each PyList_New that takes that list off the free list, and each
# list_dealloc of it, with the function that called them. At exit: the list free list at the final collection's clear_freelists (the
# entries that are there twice), both PyObject_GC_Del calls of such a list with its PyGC_Head
# words, and the fault (address, the innermost frames, the instruction). One file per program,
# stale_exit.NAME.txt. Needs gdb and pyenv's builds (which keep their symbols). Run from this
# directory.
set -e
cd ../../..
for program in blog/stale_list puzzle1_repr_list puzzle1_buffer_reuse puzzle1_null puzzle1_link puzzle1_exit; do
    name=${program#blog/}
    out=crates/python/measurements/stale_exit.$name.txt
    : > "$out"
    for v in 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
        exe=$(PYENV_VERSION=$v pyenv which python3)
        case $v in 3.8.*|3.9.*) pool_size=4096 ;; *) pool_size=16384 ;; esac
        echo "=== $v" >> "$out"
        gdb -q -batch -ex "python POOL_SIZE = $pool_size" -x crates/python/measurements/stale_exit.gdb \
            --args "$exe" -I "examples/python/$program.py" 2>&1 \
            | grep -vE '^(\[Thread|Using host|warning|To |line to|For more|	info|	add-auto|$)|No such file|safe-path|auto-load|^"Auto|^Function |^Breakpoint |^\[Inferior' \
            | sed -E 's/ at (Modules|Objects|Python)\/[a-z_]+\.c:[0-9]+$//' >> "$out" || true
    done
done
