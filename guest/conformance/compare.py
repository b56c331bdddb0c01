#!/usr/bin/env python3
"""compare.py: run the conformance kernel on QEMU and swift86 and compare line by line.

Lines ending in " [sdm]" are where QEMU 7.2 is known to deviate from the Intel SDM: they may
differ (printed side by side as "expected deviation"); every other line must be identical.
On swift86 an [sdm] line must read "name: GOT expect=EXPECT [sdm]" with GOT == EXPECT
(enforced with --strict-sdm, always reported). Exit status 0 when everything holds.
"""
import argparse
import os
import subprocess
import sys

QEMU_FLAGS = ["-accel", "tcg", "-display", "none", "-vga", "none", "-net", "none",
              "-serial", "stdio", "-monitor", "none", "-no-reboot",
              "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
SDM_TAG = " [sdm]"
MAX_SHOWN = 25


def run(cmd, timeout):
    """Run cmd, return (stdout text, exit status); a timeout is status -1."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.stdout.decode("utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return out, -1


def split_sdm(line):
    """'name: GOT expect=EXP [sdm]' -> (name, got, exp); None when the line is not of that form."""
    if not line.endswith(SDM_TAG) or ": " not in line:
        return None
    name, rest = line.split(": ", 1)
    rest = rest[: -len(SDM_TAG)]
    if " expect=" not in rest:
        return None
    got, exp = rest.rsplit(" expect=", 1)
    return name, got, exp


def compare(q_lines, s_lines, out):
    """Compare the two outputs; return the number of problems."""
    problems = 0
    n = max(len(q_lines), len(s_lines))
    for i in range(n):
        q = q_lines[i] if i < len(q_lines) else "<missing>"
        s = s_lines[i] if i < len(s_lines) else "<missing>"
        if q == s:
            continue
        if q.endswith(SDM_TAG) and s.endswith(SDM_TAG) and q.split(": ", 1)[0] == s.split(": ", 1)[0]:
            out.append("expected deviation  %s" % q.split(": ", 1)[0])
            out.append("    qemu:    %s" % q.split(": ", 1)[1])
            out.append("    swift86: %s" % s.split(": ", 1)[1])
            continue
        problems += 1
        if problems <= MAX_SHOWN:
            out.append("MISMATCH line %d" % (i + 1))
            out.append("    qemu:    %s" % q)
            out.append("    swift86: %s" % s)
    if problems > MAX_SHOWN:
        out.append("... %d more mismatching lines (see the output files)" % (problems - MAX_SHOWN))
    return problems


def sdm_report(s_lines, out):
    """Print swift86's [sdm] lines; return how many have got != expect."""
    bad = 0
    for line in s_lines:
        if not line.endswith(SDM_TAG):
            continue
        parts = split_sdm(line)
        if parts is None or parts[1] != parts[2]:
            bad += 1
            out.append("  SDM VIOLATION  " + line)
        else:
            out.append("  sdm ok         " + line)
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--image", default="build/conformance/conformance.elf")
    ap.add_argument("--swift86", default=".build/release/swift86")
    ap.add_argument("--qemu", default="qemu-system-i386")
    ap.add_argument("--out", default="build/conformance")
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--strict-sdm", action="store_true",
                    help="also fail when swift86's value on an [sdm] line differs from the SDM's")
    ap.add_argument("--no-triple", action="store_true", help="skip the second run with -append triple")
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    report = []
    problems = 0

    runs = [("", 1, 1)]
    if not a.no_triple:
        runs.append(("triple", 0, 4))            # QEMU -no-reboot exits 0; swift86 exits 4
    for append, q_status, s_status in runs:
        extra = ["-append", append] if append else []
        q_out, q_rc = run([a.qemu] + QEMU_FLAGS + ["-m", a.mem, "-kernel", a.image] + extra, a.timeout)
        s_out, s_rc = run([a.swift86, "boot", "-m", a.mem] + extra + [a.image], a.timeout)
        tag = "-" + append if append else ""
        with open(os.path.join(a.out, "qemu%s.txt" % tag), "w") as f:
            f.write(q_out)
        with open(os.path.join(a.out, "swift86%s.txt" % tag), "w") as f:
            f.write(s_out)
        q_lines = q_out.splitlines()
        s_lines = s_out.splitlines()
        title = "run%s" % (" -append " + append if append else "")
        report.append("== %s: qemu %d lines (exit %d), swift86 %d lines (exit %d)"
                      % (title, len(q_lines), q_rc, len(s_lines), s_rc))
        if q_rc != q_status:
            problems += 1
            report.append("QEMU exit status %d, expected %d" % (q_rc, q_status))
        if s_rc != s_status:
            problems += 1
            report.append("swift86 exit status %d, expected %d" % (s_rc, s_status))
        if append:
            # the first run already compared every check: here only the triple-fault tail
            q_lines = [l for l in q_lines if l.startswith("triple")]
            s_lines = [l for l in s_lines if l.startswith("triple")]
            if not s_lines:
                problems += 1
                report.append("no triple-fault line in swift86's output")
        problems += compare(q_lines, s_lines, report)
        if not append:
            fails = [l for l in s_lines if " FAIL " in l]
            if fails:
                report.append("swift86 lines judged FAIL against the SDM by the kernel (same on QEMU if no MISMATCH above):")
                report.extend("  " + l for l in fails)
            report.append("swift86 [sdm] lines (got vs the SDM's value):")
            bad = sdm_report(s_lines, report)
            if bad and a.strict_sdm:
                problems += bad
            report.append("%d [sdm] line(s) where swift86 differs from the SDM" % bad)
    print("\n".join(report))
    print("check-qemu: %s" % ("PASS" if problems == 0 else "FAIL (%d problem(s))" % problems))
    return 0 if problems == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
