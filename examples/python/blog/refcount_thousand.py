# The blog's second puzzle: 1000 and "왜이래" in locals; the import the post leaves out is added,
# marked.
import sys  # added


def test() -> int:
    num = 1000
    print(sys.getrefcount(num))
    s = "왜이래"
    print(sys.getrefcount(s))

test()
