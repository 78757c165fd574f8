"""Keeping every list: generation 0 is collected when its count passes threshold 0, and every
eleventh collection is one of generation 1.

Each iteration keeps one new list, so count[0] rises by one. When it passes threshold 0 (700;
2000 on 3.13), generation 0 is collected: count[0] goes back to 0 and count[1], the number of
collections of generation 0 since the last one of generation 1, goes up by one. When count[1]
has passed threshold 1 (10), the next collection is one of generation 1 instead: counts 0 and 1
go back to 0 and count[2] goes up by one. Up to 3.11 the collection runs inside the allocation
that makes count[0] pass the threshold (_PyObject_GC_Alloc, gc_collect_generations), so no
get_count() ever reads 701. From 3.12 that allocation only schedules it (_Py_ScheduleGC), and
it runs at the next check of the eval breaker (_Py_RunGC): here after the call of get_count(),
which has already read 701 (2001 on 3.13).

Only the iterations where count[0] went down are printed: the counts before and after. The loop
allocates nothing else a collection could see change: get_count()'s tuple comes from the free
list of 3-tuples, where the previous one went back, and print's objects (sys.stdout's pending
list, the Py_Repr list, the argument tuple) were made by the first print, before the loop, and
are reused. The whole output stays below 8192 bytes, so sys.stdout flushes only at exit.

    python3 -I examples/python/generations_kept.py
"""
import gc

gc.collect()
# ANCHOR: loop
kept = []
last = gc.get_count()
print(gc.get_threshold(), last)
for i in range(25000):
    kept.append([])
    count = gc.get_count()
    if count[0] < last[0]:
        print(i, last, count)
    last = count
# ANCHOR_END: loop
