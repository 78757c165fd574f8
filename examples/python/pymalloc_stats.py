"""pymalloc's geometry, as a real interpreter reports it.

Our own experiment, beside the Rust model in crates/pymalloc: a child interpreter allocates
objects of every pymalloc size class (16 to 512 bytes), then calls sys._debugmallocstats(). The
report is written by C code to the child's stderr, so the parent captures it and prints only what
is the same on every run: the threshold line, each size class with its block size and how many
blocks a pool holds, the arena and pool sizes, the pool header's size, identities the report's
numbers satisfy, and the arena map's node sizes (3.10+). Counts of pools, blocks and arenas vary
from run to run and are not printed.

Standard library only; runs on CPython 3.8 to 3.13:

    python3 -I examples/python/pymalloc_stats.py
"""

import re
import subprocess
import sys

# Objects of every size class, kept alive while the report is written. object() is 16 bytes and
# a float 24 on every 64-bit CPython since 3.8; bytes of length n take 33 + n bytes.
CHILD = r"""
import sys
keep = [object() for _ in range(3000)]
keep += [float(i) + 0.5 for i in range(3000)]
keep += [b"x" * n for n in range(2, 480) for _ in range(40)]
sys._debugmallocstats()
"""

ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$")


def report():
    """The child's sys._debugmallocstats() output."""
    child = subprocess.run(
        [sys.executable, "-I", "-c", CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        check=True,
    )
    return child.stderr


def number(text, label):
    """The value printed after `label ... =`, without its commas."""
    match = re.search(re.escape(label) + r"\s*=\s*([\d,]+)", text)
    return int(match.group(1).replace(",", "")) if match else None


def main():
    text = report()
    lines = text.splitlines()
    rows = [tuple(map(int, m.groups())) for m in map(ROW.match, lines) if m]
    arenas, arena_size = map(int, re.search(r"(\d+) arenas \* (\d+) bytes/arena", text).groups())
    pool_size = int(re.search(r"unused pools \* (\d+) bytes", text).group(1))
    pools = sum(r[2] for r in rows)
    header = number(text, "# bytes lost to pool headers") // pools

    print("CPython %d.%d, pymalloc as sys._debugmallocstats() reports it" % sys.version_info[:2])
    print(lines[0])
    print()
    print("class   size   blocks per pool")
    print("-----   ----   ---------------")
    for cls, size, npools, used, avail in rows:
        per_pool, rest = divmod(used + avail, npools)
        print("%5d %6d %17s" % (cls, size, per_pool if rest == 0 else "?"))
    print()
    print("arena size = %d bytes, pool size = %d bytes, pool header = %d bytes"
          % (arena_size, pool_size, header))
    quantization = sum(r[2] * ((pool_size - header) % r[1]) for r in rows)
    print("quantization = pools * ((POOL_SIZE - 48) % size), summed:",
          quantization == number(text, "# bytes lost to quantization"))
    print("Total = arenas * ARENA_SIZE:", number(text, "Total") == arenas * arena_size)
    alignment = number(text, "# bytes lost to arena alignment")
    print("arena alignment loss is whole pools, at most one per arena:",
          alignment % pool_size == 0 and alignment <= arenas * pool_size)
    if "arena map counts" not in text:
        print("arena map: none")
        return
    mid, bot = number(text, "# arena map mid nodes"), number(text, "# arena map bot nodes")
    print("arena map: root %s bytes, mid node %s bytes, bot node %s bytes" % (
        format(number(text, "# bytes lost to arena map root"), ","),
        format(number(text, "# bytes lost to arena map mid") // mid, ","),
        format(number(text, "# bytes lost to arena map bot") // bot, ","),
    ))


if __name__ == "__main__":
    main()
