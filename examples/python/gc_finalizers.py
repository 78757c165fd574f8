"""Finalizers in cycles (PEP 442): what gc.collect() does with objects that have __del__.

Rings of instances are made unreachable, then collected. The first ring's __del__ methods only
print: each runs once, in the order of the collector's list, and then the ring is cleared. Next,
a plain ring and a ring whose __del__ saves its neighbour in a global list are collected
together: after the finalizers ran, the collector looks at the set again and keeps only what is
reachable from outside now (handle_resurrected_objects, from 3.9); 3.8 kept the whole set
whenever anything had been resurrected. A finalizer never runs twice: the saved ring, released
later, is collected without a word. Last, with DEBUG_SAVEALL the collector appends what it finds
to gc.garbage instead of clearing it.
"""
import gc

gc.disable()
saved = []


class Node:
    def __init__(self, name):
        self.name = name
        self.other = None

    def __del__(self):
        print("  __del__", self.name)


class Keeper:
    def __init__(self, name):
        self.name = name
        self.other = None

    def __del__(self):
        print("  __del__", self.name, "saves", self.other.name)
        saved.append(self.other)


def ring(cls, names):
    nodes = [cls(n) for n in names]
    for i in range(len(nodes)):
        nodes[i].other = nodes[(i + 1) % len(nodes)]


ring(Node, ["a", "b", "c"])
print("collected", gc.collect())
ring(Node, ["d", "e"])
ring(Keeper, ["k", "l"])
print("collected", gc.collect())
print("saved", [n.name for n in saved])
print("collected", gc.collect())
saved.clear()
print("collected", gc.collect())
gc.set_debug(gc.DEBUG_SAVEALL)
x = []
x.append(x)
del x
print("collected", gc.collect(), "garbage", gc.garbage)
