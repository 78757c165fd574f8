"""The 25% rule: generation 2 is collected only when the objects waiting for it are a quarter of
those that survived the last full collection.

gc_collect_generations looks at generation 2 first: its count has passed threshold 2 (10) after
eleven collections of generation 1. But a full collection runs only if long_lived_pending, the
objects that survived a collection of generation 1 since the last full collection, is more than
a quarter of long_lived_total, the objects that survived that full collection (bpo-4074: without
the rule, a program that builds a large structure would walk it again and again, and total time
would grow quadratically). Until then the collector falls through to generation 1, whose
collections keep adding to count[2] and to long_lived_pending.

The program first freezes start-up's objects (gc.freeze: the permanent generation, which no
collection looks at), so that the total is this program's own: a population of 600 lists per
unit of threshold 0, made with the collector off and then collected, becomes long_lived_total.
Then it keeps one new list per iteration. Every collection of generation 1 adds about 11 times
threshold 0 survivors to long_lived_pending; the rule lets generation 2 run once they pass
150 times threshold 0, after the thirteenth.

Only the iterations where count[2] changed are printed: the counts before and after. As in
generations_kept.py, nothing in the loop allocates what a collection could see change: the
get_count() tuples and print's objects come from free lists and go back to them, and the
output stays below 8192 bytes, flushed only at exit.

    python3 -I examples/python/generations_full.py
"""
import gc

gc.disable()
gc.freeze()
# ANCHOR: loop
threshold0 = gc.get_threshold()[0]
population = [[] for _ in range(600 * threshold0)]
gc.collect()
gc.enable()
kept = []
last = gc.get_count()
print(len(population), last)
for i in range(16 * 11 * threshold0):
    kept.append([])
    count = gc.get_count()
    if count[2] != last[2]:
        print(i, last, count)
    last = count
# ANCHOR_END: loop
