# The blog's third puzzle ("더 나아가기 - 세 번째 의문점"), second program, as the post prints it:
# ten lists of 10**7 strs, all kept, with RSS + VMS after each. Too big for the tests: run it as
# `python3 examples/python/blog/memory_strs.py`; puzzle3_strs_5.py and puzzle3_strs_6.py are
# the same program at 10**5 and 10**6.
import gc

import psutil


new_object_count = 10 ** 7


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
