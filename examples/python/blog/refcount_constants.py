# The blog's second puzzle: ints from 256 and one-character, identifier-like and Korean strings;
# the import the post leaves out is added, marked.
import sys  # added


def test() -> int:
    print(sys.getrefcount(256))
    print(sys.getrefcount(257))
    print(sys.getrefcount("?"))
    print(sys.getrefcount("5"))
    print(sys.getrefcount("A"))
    print(sys.getrefcount("a"))
    print(sys.getrefcount("ab"))
    print(sys.getrefcount("아"))
    print(sys.getrefcount("그러네"))

test()
