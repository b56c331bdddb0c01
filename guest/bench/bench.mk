# Make fragment for `make bench`: builds the guest/bench workloads and times swift86 (and QEMU) on them.
# Included by the top-level Makefile; paths are relative to the repository root.

BENCH_SRC      := guest/bench
BENCH_OUT      := build/bench
BENCH_NAMES    := empty alu mem call paging fault
BENCH_IMAGES   := $(addprefix $(BENCH_OUT)/,$(addsuffix .elf,$(BENCH_NAMES)))
BENCH_NASM     ?= nasm
BENCH_LD       ?= $(firstword $(shell command -v ld.lld 2>/dev/null) /opt/swift/usr/bin/ld.lld)
BENCH_PYTHON   ?= python3
SWIFT86        ?= .build/release/swift86
BENCH_FLAGS    ?=                   # e.g. --verify-icount; BENCH_RUNS=N in the environment sets the runs

.PHONY: bench-images bench

bench-images: $(BENCH_IMAGES)

$(BENCH_OUT)/%.o: $(BENCH_SRC)/%.asm $(BENCH_SRC)/common.inc
	@mkdir -p $(BENCH_OUT)
	$(BENCH_NASM) -f elf32 -I $(BENCH_SRC)/ -o $@ $<

$(BENCH_OUT)/%.elf: $(BENCH_OUT)/%.o $(BENCH_SRC)/link.ld
	$(BENCH_LD) -m elf_i386 -T $(BENCH_SRC)/link.ld -o $@ $<

bench: bench-images guest disk
	$(BENCH_PYTHON) $(BENCH_SRC)/run-bench.py --swift86 $(SWIFT86) --images $(BENCH_OUT) \
	    --kernel $(GUEST_KERNEL) --disk $(GUEST_DISK) $(BENCH_FLAGS)
