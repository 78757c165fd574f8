"""The model's psutil: the part of psutil the blog's programs use, Process().memory_info(),
whose rss and vms are read from the model's own address space (psutil reads /proc/self/statm).
Its import allocates what this module's code allocates, not what psutil's does."""
from _model import memory_info as _memory_info


class pmem:
    def __init__(self, rss, vms):
        self.rss = rss
        self.vms = vms


class Process:
    def memory_info(self):
        rss, vms = _memory_info()
        return pmem(rss, vms)
