"""How the process was started shows in sys.getrefcount(1).

A child interpreter prints sys.getrefcount(1) twice: started as a shell starts a foreground job,
with SIGINT and SIGQUIT at their default, and started as a shell starts a background job, with
both ignored (the child is made to ignore them before it runs Python, in preexec_fn; an ignored
signal stays ignored across exec). For each signal it finds ignored at start, CPython's signal
module puts its IgnoreHandler, the int 1 (signal.SIG_IGN), in its table of handlers
(Modules/signalmodule.c), one more reference to 1. The lines print the counts' differences: the
count itself depends on start-up.
"""

import signal
import subprocess
import sys

CHILD = "import sys; print(sys.getrefcount(1))"


def count(ignored):
    def ignore():
        for signum in ignored:
            signal.signal(signum, signal.SIG_IGN)

    out = subprocess.run(
        [sys.executable, "-I", "-c", CHILD], capture_output=True, text=True, preexec_fn=ignore
    )
    return int(out.stdout)


default = count([])
print("SIGINT ignored:", count([signal.SIGINT]) - default)
print("SIGINT and SIGQUIT ignored:", count([signal.SIGINT, signal.SIGQUIT]) - default)
