set pagination off
set breakpoint pending on
python
import gdb

# The list free list, as each version keeps it: a static array (3.8, 3.9), the interpreter's
# list state (3.10-3.12), the object free lists (3.13).
FREE_LISTS = [("free_list", "numfree"),
              ("interp->list.free_list", "interp->list.numfree"),
              ("freelists->lists.items", "freelists->lists.numfree")]

def word(addr):
    return int(gdb.parse_and_eval("*(unsigned long *)%d" % addr))

class ClearFreeList(gdb.Breakpoint):
    """At the final collection's clear of the list free list: every entry, the repeated ones
    marked, and a watch on each list found twice."""
    def stop(self):
        for items, count in FREE_LISTS:
            try:
                n = int(gdb.parse_and_eval(count))
                arr = gdb.parse_and_eval(items)
                break
            except gdb.error:
                continue
        entries = [int(arr[i]) for i in range(n)]
        print("clear of the list free list: %d entries, popped from the last" % n)
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

class StaleRepr(gdb.Breakpoint):
    """The second list_repr of the process is the stale read: what lies where the dead list's
    item 0 was, and the state of the pool that holds its item buffer."""
    def __init__(self):
        super().__init__("list_repr", internal=True)
        self.calls = 0
    def stop(self):
        # Only a hit at the function's entry (gdb also places the breakpoint in a part of it).
        if gdb.selected_frame().pc() != int(gdb.parse_and_eval("(long)&list_repr")):
            return False
        self.calls += 1
        if self.calls != 2:
            return False
        op = int(gdb.parse_and_eval("$rdi"))  # at the entry: the first argument
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
printf "signal %s at %p\n", $_siginfo.si_signo == 11 ? "SIGSEGV" : "other", $_siginfo._sifields._sigfault.si_addr
bt 3
x/1i $pc
