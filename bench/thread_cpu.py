#!/usr/bin/env python3
"""Runs a command and reports the CPU time of each of its threads.

Benchmark helper for bench/dispatch_bench.sh, not a benchmark itself. It samples
/proc/<pid>/task/*/stat every few milliseconds while the command runs (a thread's times
vanish with the process, so the last sample is what is reported) and takes the exact total
from wait4(). Usage: thread_cpu.py OUT_JSON COMMAND [ARGS...]; the command's exit status is
passed on. OUT_JSON gets {"seconds": wall, "total_cpu_s": exact, "threads": {name: cpu_s}}, the main
thread named "main".
"""
import json
import os
import resource
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def sample(pid, seen):
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # The name is in parentheses and may hold spaces: split after its closing one.
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
        seen[tid] = (name, cpu)


def main():
    out, command = sys.argv[1], sys.argv[2:]
    start = time.monotonic()
    child = subprocess.Popen(command)
    seen = {}
    while child.poll() is None:
        sample(child.pid, seen)
        time.sleep(0.005)
    seconds = time.monotonic() - start
    # poll() reaped it; the rusage of children covers it (this script starts no other).
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The main thread is "main"; others by name, numbered when several share one.
    threads = {}
    for tid, (name, cpu) in sorted(seen.items(), key=lambda item: int(item[0])):
        name = "main" if int(tid) == child.pid else name
        key, n = name, 1
        while key in threads:
            n += 1
            key = f"{name}#{n}"
        threads[key] = cpu
    with open(out, "w") as f:
        json.dump({"seconds": seconds, "total_cpu_s": usage.ru_utime + usage.ru_stime,
                   "threads": threads}, f)
    sys.exit(child.returncode)


if __name__ == "__main__":
    main()
