"""The blog's third puzzle, round by round: what each list of strs costs, and where it goes.

Our own experiment, beside the model's example examples/puzzle3_rounds.rs. A child interpreter runs
the work of the blog's second memory program (blog/memory_strs.py): ten rounds, each appending a
list `[str(i) for i in range(n)]` to a list that keeps them all, at n = 10**5 and 10**6. After
each round it prints

- the arenas pymalloc has mapped ("# arenas allocated current" of sys._debugmallocstats(), which
  C code writes to the child's stderr, so the parent reads it from there);
- the new list's item buffer: the size field of its glibc chunk, read just before the buffer
  (the chunk header's second word), with glibc's IS_MMAPPED bit, which is set when malloc
  mapped the chunk on its own rather than carving it from the heap;
- RSS and VMS: how much each has grown since the start, and in the round. VMS is read from
  /proc/self/statm, as psutil's Process().memory_info() reads it on Linux. RSS is the resident
  anonymous memory of /proc/self/smaps_rollup: the pages the process wrote, which is all the
  rounds' growth is made of, without the resident pages of files (libpython's code, the C
  library's).

Then the child drops the lists and prints the same figures once more. The table's first line
says how many lists the list free list held at the start ("free PyListObjects" of the same
report): each round's new list object comes from there while it lasts.

The figures repeat exactly from run to run only without address space layout randomisation: an
arena starts on a pool boundary or not depending on where mmap puts it, and a misaligned arena
has one pool fewer. So the child runs with the ADDR_NO_RANDOMIZE personality (what
`setarch -R` sets), and with fixed string hashes (PYTHONHASHSEED=0, the only variable of its
environment; so not with -I, which ignores it, but with -s): with random hashes, sets and dicts
made at start-up come out in another order, and a round's RSS moved by a page between runs.
RSS is not psutil's (statm's second field), which does not repeat either: the kernel keeps that
count in per-CPU parts and statm adds them up without waiting for them (a round's growth moved by
a page between two runs here), and it includes file pages, of which the kernel maps more or
fewer around each one that code touches first, depending on what the page cache holds (the
start moved by five pages). smaps_rollup counts the anonymous pages themselves; but a page the
kernel is moving elsewhere (memory compaction, which other processes set off) is missing from a
reading taken meanwhile, so each figure is the largest of three readings. Linux x86-64 only.

    python3 -I examples/python/puzzle3_rounds.py            # n = 10**5 and 10**6
    python3 -I examples/python/puzzle3_rounds.py 10000000   # the blog's size (7 GiB, 30 s)
"""

import ctypes
import re
import subprocess
import sys

CHILD = r"""
import ctypes
import os
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")
IS_MMAPPED = 0x2
# ob_item follows ob_refcnt, ob_type and ob_size in a PyListObject on every 64-bit CPython 3.
OB_ITEM = 24


def anonymous():
    with open("/proc/self/smaps_rollup") as rollup:
        line = next(l for l in rollup if l.startswith("Anonymous:"))
    return int(line.split()[1]) * 1024


def memory():
    # A page the kernel is moving (compaction) is not counted while it moves: the largest of
    # three readings.
    rss = max(anonymous() for _ in range(3))
    with open("/proc/self/statm") as statm:
        vms = statm.read().split()[0]
    return rss, int(vms) * PAGE


def report(label, last, chunk):
    sys.stderr.write("=== " + label + "\n")
    sys.stderr.flush()
    sys._debugmallocstats()
    sys.stderr.flush()
    rss, vms = memory()
    print(label, rss - START[0], vms - START[1], rss - last[0], vms - last[1], chunk, flush=True)
    return rss, vms


def chunk_of(lst):
    items = ctypes.c_void_p.from_address(id(lst) + OB_ITEM).value
    size = ctypes.c_size_t.from_address(items - 8).value
    mmapped = "mmapped" if size & IS_MMAPPED else "heap"
    return "%d:%s" % (size & ~0x7, mmapped)


def rounds(n, last):
    a = []
    for i in range(10):
        a.append([str(i) for i in range(n)])
        last = report("round-%d" % i, last, chunk_of(a[-1]))
    return last


n = int(sys.argv[1])
START = memory()
last = report("start", START, "-")
last = rounds(n, last)
report("end", last, "-")
"""

ARENAS = re.compile(r"# arenas allocated current\s*=\s*([\d,]+)")
FREE_LISTS = re.compile(r"(\d+) free PyListObjects")
ADDR_NO_RANDOMIZE = 0x0040000


def without_aslr():
    """In the child, before exec: the personality `setarch -R` gives."""
    ctypes.CDLL(None, use_errno=True).personality(ADDR_NO_RANDOMIZE)


def run(n):
    child = subprocess.run(
        [sys.executable, "-s", "-c", CHILD, str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        env={"PYTHONHASHSEED": "0"},
        preexec_fn=without_aslr,
        check=True,
    )
    arenas = [m.group(1).replace(",", "") for m in ARENAS.finditer(child.stderr)]
    free_lists = FREE_LISTS.search(child.stderr).group(1)
    rows = [line.split() + [a] for line, a in zip(child.stdout.splitlines(), arenas)]
    return free_lists, rows


def table(n):
    free_lists, rows = run(n)
    print("n = %d; lists on the list free list at the start: %s" % (n, free_lists))
    print("%-8s %7s %18s %14s %14s %12s %12s" % (
        "when", "arenas", "item buffer", "rss added", "vms added", "rss growth", "vms growth"))
    for label, rss, vms, drss, dvms, chunk, arenas in rows:
        print("%-8s %7s %18s %14s %14s %12s %12s" % (
            label, arenas, chunk, rss, vms, drss, dvms))
    print()


for n in [int(a) for a in sys.argv[1:]] or [10 ** 5, 10 ** 6]:
    table(n)
