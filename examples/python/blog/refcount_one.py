# The blog's second puzzle ("두 번째 의문점"): a small int and a one-character string; the import
# the post leaves out is added, marked.
import sys  # added


def test() -> int:
    num = 1
    print(sys.getrefcount(num))
    s = "?"
    print(sys.getrefcount(s))

test()
