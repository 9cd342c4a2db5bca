"""CPU time and memory of processes and of the whole machine, from /proc.

A benchmark on a shared machine is only as good as its knowledge of who
else used the CPU meanwhile: every recorded run measures the CPU time of
the server, of wrk and of everything else, and a run is started only once
the machine is quiet.
"""

import os
import resource
import time
from pathlib import Path

from common import log

CLK_TCK = os.sysconf("SC_CLK_TCK")
# A sample during which other processes used more than this many cores is
# flagged as disturbed; before a run we wait for less than QUIET_CORES.
NOISY_CORES = 0.25
QUIET_CORES = 0.15
QUIET_WAIT = 60


def cpu_times():
    """(busy, steal) seconds of the whole machine: user+nice+system time,
    without interrupt time (loopback networking is largely softirq)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system) / CLK_TCK, steal / CLK_TCK


def proc_stat(pid):
    """(ppid, pgid, cpu seconds incl. reaped children) of a process, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after its last ")".
    fields = text[text.rindex(")") + 2 :].split()
    ppid, pgid = int(fields[1]), int(fields[2])
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return ppid, pgid, (utime + stime + cutime + cstime) / CLK_TCK


def process_stats():
    """(pid, (ppid, pgid, cpu seconds)) of every live process."""
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := proc_stat(int(name))):
            yield int(name), stat


def group_pids(pgid):
    return [pid for pid, (_, group, _) in process_stats() if group == pgid]


def group_cpu(pgid):
    return sum(cpu for _, (_, group, cpu) in process_stats() if group == pgid)


def children_of(pid):
    return sorted(child for child, (parent, _, _) in process_stats() if parent == pid)


def memory_of(pid):
    """VmRSS, VmHWM (kB) from status; Pss and private memory (kB) from
    smaps_rollup; None once the process is gone."""
    try:
        status = _kb_fields(Path(f"/proc/{pid}/status").read_text().splitlines())
        rollup = _kb_fields(Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    except OSError:
        return None
    return {
        "VmRSS": status.get("VmRSS"),
        "VmHWM": status.get("VmHWM"),
        "Pss": rollup.get("Pss"),
        "Private": rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0),
    }


def _kb_fields(lines):
    """{'VmRSS': 123, ...} from 'Key:   123 kB' lines."""
    values = {}
    for line in lines:
        key, _, rest = line.partition(":")
        words = rest.split()
        if words and words[0].isdigit():
            values[key] = int(words[0])
    return values


def own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu():
    """CPU seconds of our reaped children (wrk, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuSpan:
    """The CPU used from its creation to `cores()`, in cores: by a process
    group (the server), by our children reaped meanwhile (wrk), and by every
    other process of the machine (what disturbs the measurement)."""

    def __init__(self, pgid=None):
        self.pgid = pgid
        self.busy, self.steal = cpu_times()
        self.server = group_cpu(pgid) if pgid else 0.0
        self.children = children_cpu()
        self.own = own_cpu()
        self.started = time.monotonic()

    def cores(self):
        elapsed = time.monotonic() - self.started
        children = children_cpu() - self.children
        server = (group_cpu(self.pgid) - self.server) if self.pgid else 0.0
        busy, steal = cpu_times()
        accounted = server + children + (own_cpu() - self.own)
        return {
            "server_cpu_cores": server / elapsed,
            "wrk_cpu_cores": children / elapsed,
            "other_cpu_cores": max(0.0, (busy - self.busy - accounted) / elapsed),
            "steal_cores": (steal - self.steal) / elapsed,
        }


def wait_for_quiet(max_wait=QUIET_WAIT, span=0.3):
    """Wait until the machine's other load stays small for `span` seconds;
    returns the cores that were busy at the last check."""
    deadline = time.monotonic() + max_wait
    while True:
        cpu = CpuSpan()
        time.sleep(span)
        cores = cpu.cores()["other_cpu_cores"]
        if cores < QUIET_CORES:
            return cores
        if time.monotonic() > deadline:
            log(f"  warning: the machine is busy ({cores:.2f} cores used by other processes); going on")
            return cores
        log(f"  waiting: other processes use {cores:.2f} cores")
