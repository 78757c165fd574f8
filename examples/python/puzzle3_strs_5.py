# The blog's third puzzle, second program (blog/memory_strs.py), with only its size changed:
# 10**5 strs a round instead of 10**7.
import gc

import psutil


new_object_count = 10 ** 5


def memory_test_second(i, b):
    a = [str(i) for i in range(10)]
    print(f"{i} - 2 Depth Mem Size: {p.memory_info().rss + p.memory_info().vms}")
    print()

    return id(a)


def memory_test_first():
    a = []
    for i in range(10):
        a.append([str(i) for i in range(new_object_count)])
        print(f"{i} - 1 Depth Mem Size: {p.memory_info().rss + p.memory_info().vms}")
        memory_test_second(i, a[-1])
        print()


p = psutil.Process()
print(f"Start Mem Size: {p.memory_info().rss + p.memory_info().vms}")
print()
memory_test_first()
print(f"End Mem Size: {p.memory_info().rss + p.memory_info().vms}")
