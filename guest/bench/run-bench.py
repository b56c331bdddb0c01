#!/usr/bin/env python3
"""Times swift86 (and QEMU TCG when installed) on the guest/bench workloads and prints MIPS side by side."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

# Known counts, by construction (see guest/bench/README.md and the comment at the top of
# each .asm): `total` = every instruction from the entry point to the OUT to port 0xF4
# (inclusive); `tsc` = the rdtsc delta the workload prints when the TSC counts retired
# instructions (QEMU -icount shift=0, swift86): from the first RDTSC (inclusive) to the
# second (exclusive). `line` = the expected serial output without the tsc field.
WORKLOADS = [
    # name,   total,       tsc,         expected line prefix
    ("empty", 537,         2,           "empty sum=00000000"),
    ("alu",   500_000_514, 500_000_006, "alu sum=4F2947D7"),
    ("mem",   300_000_515, 300_000_008, "mem sum=8C5C9F1E"),
    ("call",  301_564_668, 301_564_148, "call sum=00B1BE30"),
    ("paging", 300_125_232, 300_037_548, "paging sum=09ED1963"),
    ("fault", 22_505_951,  22_500_005,  "fault sum=5E9050FA"),
]

# Workloads that also print "faults=XXXXXXXX" (hex): the number of #PF their handler served.
# The runner checks it and reports faults per second (faults / net seconds).
FAULTS = {"fault": 1_000_000}

QEMU_ARGS = ["-accel", "tcg", "-display", "none", "-vga", "none", "-net", "none",
             "-serial", "stdio", "-monitor", "none", "-no-reboot",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-m", "128M"]

LINE_RE = re.compile(r"^(\w+ sum=[0-9A-F]{8}) tsc=([0-9A-F]{8})\s*$")
FAULTS_RE = re.compile(r"^faults=([0-9A-F]{8})\s*$")
STATS_RE = re.compile(r"swift86:\s*([0-9][0-9,_]*)\s+instructions\s+in\s+([0-9.]+)\s*s")


class Run:
    """One finished process: wall seconds, exit status, the workload's result line, its tsc, stderr."""

    def __init__(self, seconds, status, line, tsc, faults, stdout, stderr):
        self.seconds = seconds      # wall time of the whole process
        self.status = status        # exit status (None: timed out)
        self.line = line            # "NAME sum=XXXXXXXX" or None when not found
        self.tsc = tsc              # printed rdtsc delta (int) or None
        self.faults = faults        # printed "faults=" count (int) or None
        self.stdout = stdout        # everything the guest printed on COM1
        self.stderr = stderr        # the emulator's own messages


def run_once(argv, timeout):
    """run_once: runs argv to completion and returns a Run with its wall time and parsed result line."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)
        status, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        status, out, err = None, exc.stdout or b"", exc.stderr or b""
    seconds = time.perf_counter() - start
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    line = tsc = faults = None
    for text in out.replace("\r", "").splitlines():
        m = LINE_RE.match(text)
        if m:
            line, tsc = m.group(1), int(m.group(2), 16)
        m = FAULTS_RE.match(text)
        if m:
            faults = int(m.group(1), 16)
    return Run(seconds, status, line, tsc, faults, out, err)


def short(text, limit=200):
    """short: one-line excerpt of text for an error message."""
    text = " | ".join(l for l in text.strip().splitlines() if l)
    return text if len(text) <= limit else text[:limit] + "..."


class Emulator:
    """One emulator under test: how to start it on an image, which exit statuses mean a clean exit."""

    def __init__(self, name, argv_for, ok_status, has_stats):
        self.name = name            # column label
        self.argv_for = argv_for    # image path -> argv
        self.ok_status = ok_status  # exit statuses accepted as "guest wrote to port 0xF4"
        self.has_stats = has_stats  # parse `--stats` lines from stderr


def fmt_s(x):
    return "n/a" if x is None else f"{x:.3f}"


def fmt_mips(x):
    return "n/a" if x is None else f"{x:.1f}"


# The guest kernel's swap path: swapdemo fills 48 MiB in a 32 MiB machine and reads it
# back; /proc/vmstat then says how many faults and swap transfers that took. Wall time
# is net of the same emulator booting the same kernel and disk with `true` as init.
KERNEL_CMD = 'init=/bin/sh -c "swapdemo 48; cat /proc/vmstat"'
KERNEL_BASE = 'init=/bin/sh -c "cat /proc/vmstat"'
VMSTAT_RE = re.compile(r"^(pgfault|pgmajfault|pswpin|pswpout) (\d+)\s*$")


def kernel_bench(args, swift86, qemu, errors):
    """kernel_bench: times swapdemo 48 at -m 32M on each emulator (same kernel and disk image) and prints
    page faults and swap transfers per second; counters must agree between the emulators."""
    if not (os.path.isfile(args.kernel) and os.path.isfile(args.disk)):
        print(f"note: no guest kernel/disk ({args.kernel}, {args.disk}): swap benchmark skipped")
        return
    runners = []
    if swift86:
        runners.append(("swift86", lambda a: [swift86, "boot", "-m", "32M", "-hda", args.disk, "-snapshot",
                                              "-append", a, args.kernel]))
    if qemu:
        runners.append(("QEMU", lambda a: [qemu] + QEMU_ARGS[:-2] + ["-m", "32M", "-drive",
                        f"file={args.disk},format=raw,if=ide", "-snapshot", "-kernel", args.kernel, "-append", a]))
    results = {}
    for label, argv in runners:
        best = None
        counters = {}
        for cmd in (KERNEL_BASE, KERNEL_CMD):
            times = []
            for _ in range(max(1, args.runs)):
                r = run_once(argv(cmd), args.timeout)
                if r.status not in (0, 1) or "powering off" not in r.stdout:
                    errors.append(f"{label} swapdemo: exit status {r.status}, output {short(r.stdout[-300:])!r}")
                    return
                if cmd == KERNEL_CMD and "checksum 0x3bb9a3f3: ok" not in r.stdout:
                    errors.append(f"{label} swapdemo: no checksum ok line")
                    return
                times.append(r.seconds)
            vm = {m.group(1): int(m.group(2)) for m in
                  (VMSTAT_RE.match(l) for l in r.stdout.replace("\r", "").splitlines()) if m}
            if cmd == KERNEL_BASE:
                base, base_vm = min(times), vm
            else:
                best = min(times) - base
                counters = {k: vm.get(k, 0) - base_vm.get(k, 0) for k in vm}
        results[label] = (best, counters)
    if len({tuple(sorted(c.items())) for _, c in results.values()}) > 1:
        errors.append(f"swapdemo counters differ between emulators: {results}")
    print()
    print("swapdemo 48 at -m 32M (48 MiB written and read back through 64 MiB of swap), net of booting:")
    for label, (secs, c) in results.items():
        faults = c.get("pgfault", 0)
        swaps = c.get("pswpin", 0) + c.get("pswpout", 0)
        print(f"  {label:8} {secs:7.3f} s  {faults:,} faults ({c.get('pgmajfault', 0):,} major), "
              f"{swaps:,} pages swapped: {faults / secs:,.0f} faults/s, {swaps / secs:,.0f} swap pages/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--swift86", default=os.environ.get("SWIFT86", ".build/release/swift86"),
                    help="swift86 binary (column n/a when missing)")
    ap.add_argument("--qemu", default=os.environ.get("QEMU", "qemu-system-i386"),
                    help="qemu-system-i386 binary (column n/a when missing)")
    ap.add_argument("--images", default="build/bench", help="directory holding NAME.elf")
    ap.add_argument("--kernel", default="build/guest/kernel.elf", help="guest kernel for the swap benchmark")
    ap.add_argument("--disk", default="build/guest/disk.img", help="its disk image (s86fs + swap)")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")),
                    help="runs per workload and emulator, best one kept (BENCH_RUNS)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per run")
    ap.add_argument("--verify-icount", action="store_true",
                    help="also run QEMU once with -icount shift=0 and check each printed tsc delta")
    args = ap.parse_args()

    errors = []
    notes = []

    emulators = []
    swift86 = args.swift86
    if os.path.isfile(swift86) and os.access(swift86, os.X_OK):
        emulators.append(Emulator("swift86", lambda img: [swift86, "boot", "-m", "128M", "--stats", img],
                                  (0, 1), True))
    else:
        notes.append(f"swift86 not found at {swift86}: its columns say n/a")
    qemu = shutil.which(args.qemu)
    if qemu:
        emulators.append(Emulator("QEMU", lambda img: [qemu] + QEMU_ARGS + ["-kernel", img], (1,), False))
    else:
        notes.append(f"{args.qemu} not installed: its columns say n/a")

    for name, *_ in WORKLOADS:
        path = os.path.join(args.images, name + ".elf")
        if not os.path.isfile(path):
            print(f"run-bench: missing image {path} (run `make bench-images`)", file=sys.stderr)
            return 2

    best = {}       # (emulator, workload) -> best wall seconds
    stats_mips = {} # (emulator, workload) -> swift86's own MIPS figure
    lines = {}      # (emulator, workload) -> result line
    for emu in emulators:
        for name, total, tsc_known, expected in WORKLOADS:
            image = os.path.join(args.images, name + ".elf")
            times = []
            for _ in range(max(1, args.runs)):
                r = run_once(emu.argv_for(image), args.timeout)
                tag = f"{emu.name} {name}"
                if r.status is None:
                    errors.append(f"{tag}: timed out after {args.timeout:.0f} s")
                    break
                if r.status not in emu.ok_status:
                    errors.append(f"{tag}: exit status {r.status} (want {' or '.join(map(str, emu.ok_status))}); "
                                  f"stderr: {short(r.stderr)}")
                    break
                if r.line != expected:
                    errors.append(f"{tag}: serial output {short(r.stdout)!r}, want {expected!r} tsc=...")
                    break
                if name in FAULTS and r.faults != FAULTS[name]:
                    errors.append(f"{tag}: printed faults={r.faults}, want {FAULTS[name]}")
                    break
                lines[(emu.name, name)] = r.line
                if emu.has_stats:
                    m = STATS_RE.search(r.stderr)
                    if m:
                        count = int(re.sub(r"[,_]", "", m.group(1)))
                        secs = float(m.group(2))
                        if count != total:
                            errors.append(f"{tag}: --stats reports {count} instructions, known count is {total} "
                                          f"(off by {count - total:+d})")
                        elif secs > 0:
                            stats_mips[(emu.name, name)] = max(stats_mips.get((emu.name, name), 0.0),
                                                               count / secs / 1e6)
                    elif not any("no --stats line" in n for n in notes):
                        notes.append(f"{emu.name}: no --stats line on stderr, instruction count not cross-checked")
                    # swift86's TSC counts instructions, like QEMU -icount shift=0.
                    if r.tsc != tsc_known and not any(n.startswith(f"{tag}: tsc") for n in notes):
                        notes.append(f"{tag}: tsc delta {r.tsc}, QEMU -icount shift=0 gives {tsc_known}")
                times.append(r.seconds)
            else:
                best[(emu.name, name)] = min(times)

    if args.verify_icount and qemu:
        for name, total, tsc_known, expected in WORKLOADS:
            image = os.path.join(args.images, name + ".elf")
            r = run_once([qemu, "-icount", "shift=0"] + QEMU_ARGS + ["-kernel", image], args.timeout)
            if r.tsc != tsc_known:
                errors.append(f"QEMU -icount {name}: tsc delta {r.tsc}, known {tsc_known}")
            else:
                notes.append(f"QEMU -icount shift=0 {name}: tsc delta {r.tsc} = known count")

    # The same program's empty.elf time is its startup (process, machine, boot, exit).
    rows = []
    for name, total, _, _ in WORKLOADS:
        row = [name, f"{total:,}"]
        for label in ("swift86", "QEMU"):
            t = best.get((label, name))
            base = best.get((label, "empty"))
            if name == "empty" or t is None or base is None:
                row += [fmt_s(t), "n/a" if name != "empty" or t is None else "(startup)"]
                continue
            net = t - base
            row += [fmt_s(net), fmt_mips(total / net / 1e6) if net > 0 else "n/a"]
        rows.append(row)

    header = ["workload", "instructions", "swift86 s", "swift86 MIPS", "QEMU s", "QEMU MIPS"]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print(f"best of {max(1, args.runs)} runs; seconds are wall time net of the same program's empty.elf "
          f"(empty row: its raw startup time)")
    print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
    for r in rows:
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    for name, faults in FAULTS.items():
        rates = []
        for label in ("swift86", "QEMU"):
            t, base = best.get((label, name)), best.get((label, "empty"))
            net = None if t is None or base is None else t - base
            rates.append(f"{label} " + (f"{faults / net:,.0f}" if net and net > 0 else "n/a"))
        print(f"{name}: {faults:,} page faults; faults/s (net of empty.elf): {', '.join(rates)}")
    kernel_bench(args, swift86 if any(e.name == "swift86" for e in emulators) else None, qemu, errors)
    for (emu, name), mips in sorted(stats_mips.items()):
        if name != "empty":
            print(f"note: {emu} --stats on {name}: {mips:.1f} MIPS (its own figure, startup excluded)")
    for n in notes:
        print(f"note: {n}")
    for e in dict.fromkeys(errors):    # once each, in order
        print(f"error: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
