# The blog's first puzzle: "does any address give a list?" The post ran it on macOS, where nothing
# was printed; the import it leaves out is added, marked.
import ctypes  # added

print(ctypes.cast(4440515136, ctypes.py_object).value)
