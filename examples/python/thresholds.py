"""The generational collector's thresholds on this interpreter.

gc.get_threshold() returns (threshold0, threshold1, threshold2): how many net container
allocations start a generation-0 collection, and how many collections of a younger generation
start one of the next. The book shows what every installed CPython prints.
"""
import gc

print(gc.get_threshold())
