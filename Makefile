# swift86: build the emulator and the guest, boot it, test everything.
#   make          build the release emulator, the guest kernel and its disk image
#   make run      boot the guest on swift86 with the disk (DISK= for none)
#   make test     build and pass every test (unit, host-differential, boot, QEMU referee)
#   make qemu     boot the same guest on QEMU
#   make bench    MIPS of swift86 and QEMU on CPU-bound workloads
#   make check-qemu  the protected-mode conformance kernel on QEMU and swift86, diffed

SWIFT ?= swift
SWIFT86 := .build/release/swift86
RUN_MEM ?= 1G
RUN_FLAGS ?= -m $(RUN_MEM) -append 'init=/bin/sh'

all: emulator guest disk

emulator:
	$(SWIFT) build -c release --product swift86

# swift86 exits as QEMU does: (code << 1) | 1 when the guest powers off with `code`,
# so 1 (poweroff, or init exiting 0) is success here.
run: all
	@status=0; $(SWIFT86) boot $(if $(APPEND),-m $(RUN_MEM) -append '$(APPEND)',$(RUN_FLAGS)) \
	    $(if $(DISK),-hda $(DISK) -snapshot) $(GUEST_KERNEL) || status=$$?; \
	[ $$status -le 1 ] || { echo "make run: swift86 exited with status $$status" >&2; exit $$status; }

# Tests run against release builds (an interpreter's debug build is 10-50x slower);
# -enable-testing lets test targets use @testable imports.
TEST_FLAGS := -c release -Xswiftc -enable-testing

test: guest disk bench-images conformance-image
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	SWIFT86_GUEST=$(GUEST_KERNEL) SWIFT86_DISK=$(GUEST_DISK) SWIFT86_BENCH_DIR=build/bench $(SWIFT) test $(TEST_FLAGS) --skip-build

bench: emulator

clean:
	rm -rf build .build

.PHONY: all emulator run test clean

include guest/guest.mk
include guest/bench/bench.mk
include guest/conformance/conformance.mk
