# The blog's second puzzle: the same constants, passed directly; the import the post leaves out is
# added, marked.
import sys  # added


def test() -> int:
    print(sys.getrefcount(1000))
    print(sys.getrefcount("왜이래"))

test()
