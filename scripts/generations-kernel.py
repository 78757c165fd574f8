"""The blog's append-and-pop loop run as one cell of a Jupyter kernel (ipykernel), its printed
lines summarised as runs of equal lines: whether a notebook's kernel keeps a container per
printed line. Needs ipykernel and jupyter_client, which no CPython ships; recorded once into
tests/measurements/generations_kernel.3.11.txt with

    PYENV_VERSION=3.11.7 python3 -m venv /tmp/kernel-venv
    /tmp/kernel-venv/bin/pip install ipykernel==7.4.0 jupyter_client==8.10.0
    /tmp/kernel-venv/bin/python scripts/generations-kernel.py

The kernel runs the cell as a notebook would: its stdout is ipykernel's OutStream, which sends
what is printed to the front end in messages.
"""
import sys

from jupyter_client.manager import start_new_kernel

CELL = """import gc
gc.collect()
li = []
for i in range(2000):
    li.append([])
    print(gc.get_count())
    li.pop()
"""


def run_cell(code):
    """What the cell printed, as the front end receives it."""
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        msg_id = kc.execute(code)
        out = []
        while True:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


import ipykernel  # noqa: E402

print("ipykernel", ipykernel.__version__, "on Python", sys.version.split()[0])
runs = []
for line in run_cell(CELL).splitlines():
    if runs and runs[-1][0] == line:
        runs[-1][1] += 1
    else:
        runs.append([line, 1])
for line, n in runs:
    print(line, "x", n)
