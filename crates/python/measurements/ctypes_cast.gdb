set pagination off
set breakpoint pending on
set $on = 0
break builtin_id
commands
silent
set $on = $on + 1
printf "=== id %d\n", $on
continue
end
python
SKIP = {"_PyObject_Malloc", "_PyObject_Free", "PyObject_Malloc", "PyObject_Free", "_PyObject_New",
        "gc_alloc", "_PyObject_GC_New", "_PyObject_GC_Link", "_PyType_AllocNoTrack",
        "PyType_GenericAlloc", "_PyObject_GC_Malloc", "_PyObject_GC_Alloc", "_PyObject_GC_NewVar",
        "_PyObject_MallocWithType", "PyObject_GC_Del", "Py_DECREF", "Py_XDECREF", "_Py_Dealloc",
        "_Py_DECREF", "_Py_XDECREF"}

class Log(gdb.Breakpoint):
    """Logs one pymalloc entry point while $on == 1: only a hit at the function's own entry
    (an inlined copy elsewhere has other registers)."""
    def __init__(self, fn, fmt):
        super().__init__(fn)
        self.fn, self.fmt = fn, fmt
    def stop(self):
        if int(gdb.parse_and_eval("$on")) != 1:
            return False
        frame = gdb.selected_frame()
        if frame.pc() != int(gdb.parse_and_eval("(long)&" + self.fn)):
            return False
        caller = frame.older()
        while caller is not None and caller.name() in SKIP:
            caller = caller.older()
        print(self.fmt(frame) + "\n  by " + (caller.name() if caller else "?"))
        return False

Log("_PyObject_Malloc", lambda f: "malloc %d" % int(f.read_register("rsi")))
Log("_PyObject_Free", lambda f: "free 0x%x" % int(f.read_register("rsi")))
end
run
