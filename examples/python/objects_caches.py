"""Which objects CPython shares instead of creating anew: small ints, short strings, interning.

`a is b` is True when a and b are the same object. Every value compared here is built at run time
(int('256'), chr(200), ''.join(...), eval of a fresh source string), because two equal constants
written in one module are merged by the compiler into one object whatever their type, and the
compiler folds constant expressions: 'abc' + '_1' in the source is compiled to the constant
'abc_1', so `'abc_1' is 'abc' + '_1'` compares one constant with itself and says nothing about
caches. (Writing `x is 'literal'` also makes 3.8+ emit a SyntaxWarning.)

What it shows:

- small ints -5..256 are preallocated (get_small_int / _PyLong_SMALL_INTS): int('256') is
  int('256'), int('257') is not; the same at -5 and -6;
- one-character strings U+0000..U+00FF are cached (get_latin1_char / unicode_latin1); chr(256)
  is not;
- '' and () are singletons, however they are produced;
- str(5) builds a new string (long_to_decimal_string): it is not the cached '5';
- string constants made only of ASCII letters, digits and '_' are interned when a code object
  is made (intern_string_constants and all_name_chars in Objects/codeobject.c), so two separate
  compilations of 'hello_world' give the same object, while 'hello world!' gives two, and so does
  '가나다', a valid identifier but not ASCII;
- strings built at run time are not interned unless sys.intern is called.

Standard library only; runs on CPython 3.8 to 3.13:

    python3 -I examples/python/objects_caches.py
"""

import sys


def show(label, value):
    print("%-52s %s" % (label, value))


def small_ints():
    show("int('256') is int('256')", int("256") is int("256"))
    show("int('257') is int('257')", int("257") is int("257"))
    show("int('-5') is int('-5')", int("-5") is int("-5"))
    show("int('-6') is int('-6')", int("-6") is int("-6"))
    # Arithmetic results go through the same cache.
    n = int("200")
    show("(n + 56) is int('256'), n = 200", (n + 56) is int("256"))
    show("(n + 57) is (n + 57)", (n + 57) is (n + 57))


def one_character_strings():
    show("chr(97) is chr(97)  ('a')", chr(97) is chr(97))
    show("chr(200) is chr(200)  ('È', latin-1)", chr(200) is chr(200))
    show("chr(255) is chr(255)", chr(255) is chr(255))
    show("chr(256) is chr(256)", chr(256) is chr(256))
    s = "".join(["x", chr(200)])
    show("s[1] is chr(200), s = 'x' + chr(200)", s[1] is chr(200))


def singletons():
    empty = ""
    show("''.join([]) is ''", "".join([]) is empty)
    show("str() is ''", str() is empty)
    show("'abc'[3:] is ''", "abc"[3:] is empty)
    show("'ab'.replace('ab', '') is ''", "ab".replace("ab", "") is empty)
    unit = ()
    show("tuple() is ()", tuple() is unit)
    show("tuple([]) is ()", tuple([]) is unit)
    show("(1, 2)[2:] is ()", (1, 2)[2:] is unit)
    show("[] is [] (lists are never shared)", [] is [])


def str_of_int():
    five = "5"  # a one-character constant: the cached latin-1 string
    show("str(5) == '5'", str(5) == five)
    show("str(5) is '5'", str(5) is five)
    show("str(5) is str(5)", str(5) is str(5))
    show("chr(ord(str(5))) is '5'", chr(ord(str(5))) is five)


def constant(source):
    """The value of a string constant compiled in a code object of its own."""
    return eval(compile(source, "<constant>", "eval"))


def interning():
    # Each compile() makes a new code object with its own constants, so only interning can make
    # the two results the same object.
    show("'hello_world' compiled twice: same object", constant("'hello_world'") is constant("'hello_world'"))
    show("'hello world!' compiled twice: same object", constant("'hello world!'") is constant("'hello world!'"))
    show("'가나다' compiled twice: same object", constant("'가나다'") is constant("'가나다'"))

    # Constant folding: 'abc' + '_1' becomes the constant 'abc_1' before it is compiled,
    # so the folded constant is interned like any identifier-like constant.
    show("'abc_1' vs folded 'abc' + '_1', separate compiles", constant("'abc_1'") is constant("'abc' + '_1'"))
    # The same concatenation done at run time builds a new, uninterned string.
    prefix = "abc"
    show("'abc_1' vs prefix + '_1' at run time", constant("'abc_1'") is prefix + "_1")
    built = "".join(["hello", "_world"])
    show("''.join(['hello', '_world']) vs 'hello_world'", built is constant("'hello_world'"))
    show("sys.intern(that) vs 'hello_world'", sys.intern(built) is constant("'hello_world'"))


def main():
    sys.stdout.reconfigure(encoding="utf-8")
    print("CPython %d.%d" % sys.version_info[:2])
    small_ints()
    one_character_strings()
    singletons()
    str_of_int()
    interning()


if __name__ == "__main__":
    main()
