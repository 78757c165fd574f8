# The blog's third puzzle ("더 나아가기 - 세 번째 의문점"), first program, as the post prints it:
# ten rounds of 10**5 one-item lists, with the collector's counts and the RSS after each.
import gc

import psutil


new_object_count = 10 ** 5


def memory_test_second(i, b):
    a = [["df"] for i in range(new_object_count)]
    print(f"{i} - 2 Depth Variable Id: {id(a)}")
    print(f"{i} - 2 Depth Mem Size: {p.memory_info().rss}")
    print(gc.get_count())
    print(len(b))
    print()

    return id(a)


def memory_test_first():
    for i in range(10):
        a = [["dff"] for i in range(new_object_count)]
        print(gc.get_count())
        print(f"{i} - 1 Depth Variable Id: {id(a)}")
        print(f"{i} - 1 Depth Mem Size: {p.memory_info().rss}")
        memory_test_second(i, a)
        print()


p = psutil.Process()
print(f"Start Mem Size: {p.memory_info().rss}")
print()
memory_test_first()
print(f"End Mem Size: {p.memory_info().rss}")
