set pagination off
set breakpoint pending on
python
import gdb

# The list free list, as each version keeps it: a static array (3.8, 3.9), the main
# interpreter's list state (3.10-3.12), its object free lists (3.13).
FREE_LISTS = [("free_list", "numfree"),
              ("_PyRuntime.interpreters.main->list.free_list",
               "_PyRuntime.interpreters.main->list.numfree"),
              ("_PyRuntime.interpreters.main->object_state.freelists.lists.items",
               "_PyRuntime.interpreters.main->object_state.freelists.lists.numfree")]

def word(addr):
    return int(gdb.parse_and_eval("*(unsigned long *)%d" % addr))

def free_list():
    """The list free list's entries, oldest first."""
    for items, count in FREE_LISTS:
        try:
            n = int(gdb.parse_and_eval(count))
            arr = gdb.parse_and_eval(items)
        except gdb.error:
            continue
        return [int(arr[i]) for i in range(n)]
    raise gdb.GdbError("no list free list found")

class ClearFreeList(gdb.Breakpoint):
    """At a full collection's clear of the list free list (the final one, at exit): the
    entries found twice, and a watch on each of those lists."""
    def stop(self):
        entries = free_list()
        if len(set(entries)) == len(entries):
            return False  # a collection during the run, or no list listed twice
        print("clear of the list free list: %d entries, popped from the last" % len(entries))
        for i, op in enumerate(entries):
            if entries.count(op) > 1:
                print("  free_list[%d] = 0x%x  (on the list %d times)" % (i, op, entries.count(op)))
        for op in set(e for e in entries if entries.count(e) > 1):
            GcDel("PyObject_GC_Del", op)
        return False

class GcDel(gdb.Breakpoint):
    """PyObject_GC_Del(op) of a list listed twice: its PyGC_Head words at each call."""
    def __init__(self, fn, op):
        super().__init__(fn, internal=True)
        self.op, self.calls = op, 0
    def stop(self):
        if int(gdb.parse_and_eval("$rdi")) != self.op:
            return False
        self.calls += 1
        g = self.op - 16
        print("PyObject_GC_Del(0x%x), call %d: _gc_next 0x%x, _gc_prev 0x%x" % (
            self.op, self.calls, word(g), word(g + 8)))
        return False

def caller():
    """The innermost function that is no inlined helper of the stopped one."""
    f = gdb.selected_frame().older()
    while f is not None and f.name() in ("Py_DECREF", "_Py_DECREF", "Py_XDECREF", "_Py_Dealloc"):
        f = f.older()
    return f.name() if f is not None else "?"

class AtEntry(gdb.Breakpoint):
    """A breakpoint that acts only at its function's entry, for the list `op`."""
    def __init__(self, fn, op):
        super().__init__(fn, internal=True)
        self.fn, self.op = fn, op
    def stop(self):
        if gdb.selected_frame().pc() == int(gdb.parse_and_eval("(long)&" + self.fn)):
            self.hit()
        return False

class Reused(AtEntry):
    """After the stale read: PyList_New taking the stale list off the free list again."""
    def hit(self):
        entries = free_list()
        if entries and entries[-1] == self.op:
            print("PyList_New(%d) takes 0x%x off the free list, for %s" % (
                int(gdb.parse_and_eval("$rdi")), self.op, caller()))

class Deallocated(AtEntry):
    """After the stale read: list_dealloc of the stale list."""
    def hit(self):
        if int(gdb.parse_and_eval("$rdi")) == self.op:
            print("list_dealloc(0x%x), from %s; on the free list %d times before" % (
                self.op, caller(), free_list().count(self.op)))

class StaleRepr(gdb.Breakpoint):
    """The stale read: list_repr of a list that is on the list free list. What lies where its
    item 0 was, and the state of the pool that holds its item buffer."""
    def __init__(self):
        super().__init__("list_repr", internal=True)
        self.done = False
    def stop(self):
        # Only a hit at the function's entry (gdb also places the breakpoint in a part of it).
        if self.done or gdb.selected_frame().pc() != int(gdb.parse_and_eval("(long)&list_repr")):
            return False
        op = int(gdb.parse_and_eval("$rdi"))  # at the entry: the first argument
        if op not in free_list():
            return False
        self.done = True
        Reused("PyList_New", op)
        Deallocated("list_dealloc", op)
        items = word(op + 24)
        item0 = word(items)
        print("stale read: list 0x%x, refcnt %d, size %d, ob_item 0x%x" % (
            op, word(op), word(op + 16), items))
        pool = items & ~(POOL_SIZE - 1)  # POOL_ADDR: POOL_SIZE is set by stale_exit.sh
        print("  its pool 0x%x: %d blocks handed out, freeblock 0x%x" % (
            pool, word(pool) & 0xffffffff, word(pool + 8)))
        if item0 == 0:
            print("  item 0: NULL")
        else:
            tp = word(item0 + 8)
            name = gdb.parse_and_eval("((PyTypeObject *)%d)->tp_name" % tp).string() if tp else "NULL"
            print("  item 0: 0x%x, whose type word is 0x%x (%s)%s" % (
                item0, tp, name, ": the list itself" if item0 == op else ""))
        return False

StaleRepr()
ClearFreeList("_PyList_ClearFreeList")
ClearFreeList("PyList_ClearFreeList")
end
run
python
if gdb.selected_inferior().pid:
    # Stopped by a signal: where, and the address it touched.
    print("signal %s at 0x%x" % (gdb.parse_and_eval("$_siginfo.si_signo"),
                                 int(gdb.parse_and_eval("(long)$_siginfo._sifields._sigfault.si_addr"))))
    gdb.execute("bt 3")
    gdb.execute("x/1i $pc")
else:
    print("exit status %s" % gdb.parse_and_eval("$_exitcode"))
end
