# guest.mk: build the Embedded Swift guest kernel (included by the top-level Makefile).
#
# Defines GUEST_KERNEL and the targets `guest` (build and check it) and `qemu` (boot it
# on QEMU; APPEND="..." sets the command line, QEMU_EXTRA="..." adds flags such as
# -initrd a,b, QEMU_MEM sets -m (default 1G, as make run), QEMU_EXPECT=N expects the guest to exit with N).
# GUEST_DISK is the s86fs disk image (build/guest/disk.img, target `disk`: the user
# programs, /etc/motd, /data/big and a 64 MiB swap area, made by guest/tools/mkfs.py);
# `guest` does not build it. DISK is the image `qemu` (and the top-level `run`) attach,
# with -snapshot so it is never changed: default $(GUEST_DISK), DISK= boots without a disk.
# Paths are relative to the repository root.

SWIFTC   ?= swiftc
CLANG    ?= clang
LLD      ?= ld.lld
OBJDUMP  ?= llvm-objdump
NM       ?= llvm-nm
DEMANGLE ?= swift-demangle
QEMU     ?= qemu-system-i386
QEMU_MEM ?= 1G
APPEND   ?=
QEMU_EXTRA ?=
QEMU_EXPECT ?= 0
PYTHON   ?= python3

GUEST_DIR    := guest
GUEST_BUILD  := build/guest
GUEST_KERNEL := $(GUEST_BUILD)/kernel.elf
GUEST_LDS    := $(GUEST_DIR)/link/kernel.ld
GUEST_DISK   := $(GUEST_BUILD)/disk.img
DISK         ?= $(GUEST_DISK)

# Kernel sources: everything under these directories (guest/user/ is not kernel code:
# it becomes the initramfs, below).
GUEST_KDIRS  := $(wildcard $(GUEST_DIR)/arch $(GUEST_DIR)/kernel $(GUEST_DIR)/drivers \
                           $(GUEST_DIR)/mm $(GUEST_DIR)/lib)
GUEST_SWIFT  := $(sort $(shell find $(GUEST_KDIRS) -name '*.swift'))
GUEST_ASM    := $(sort $(shell find $(GUEST_KDIRS) -name '*.S'))
GUEST_ASM_OBJ := $(patsubst $(GUEST_DIR)/%.S,$(GUEST_BUILD)/%.o,$(GUEST_ASM))

# Fault injection for the regression suite (default: none): GUEST_INJECT=cow-always-copy
# makes do_wp_page always copy (never reuse), GUEST_INJECT=no-wp-on-fork makes fork leave
# private pages writable in parent and child (shared writable pages: a real bug),
# GUEST_INJECT=swap-no-writeback makes reclaim drop dirty swap-cache pages without
# writing them (swapped-in pages read stale data). Several may be given, space-separated. The value is recorded in $(GUEST_BUILD)/inject.flags so
# that changing it rebuilds the kernel.
GUEST_INJECT ?=
GUEST_INJECT_KINDS := cow-always-copy no-wp-on-fork swap-no-writeback
ifneq ($(filter-out $(GUEST_INJECT_KINDS),$(GUEST_INJECT)),)
$(error GUEST_INJECT: unknown $(filter-out $(GUEST_INJECT_KINDS),$(GUEST_INJECT)) (known: $(GUEST_INJECT_KINDS)))
endif
GUEST_INJECT_FLAGS := $(if $(filter cow-always-copy,$(GUEST_INJECT)),-D INJECT_COW_ALWAYS_COPY) \
                      $(if $(filter no-wp-on-fork,$(GUEST_INJECT)),-D INJECT_NO_WP_ON_FORK) \
                      $(if $(filter swap-no-writeback,$(GUEST_INJECT)),-D INJECT_SWAP_NO_WRITEBACK)
GUEST_INJECT_STAMP := $(GUEST_BUILD)/inject.flags
$(shell mkdir -p $(GUEST_BUILD) && { echo '$(strip $(GUEST_INJECT))' | cmp -s - $(GUEST_INJECT_STAMP) || \
    echo '$(strip $(GUEST_INJECT))' > $(GUEST_INJECT_STAMP); })

GUEST_TARGET := i686-unknown-none-elf
# Integer-only i686, no PIC (see the -emit-ir route below), single-threaded refcounts.
GUEST_SWIFTFLAGS := -target $(GUEST_TARGET) -target-cpu i686 \
    -enable-experimental-feature Embedded -enable-experimental-feature Extern \
    -wmo -parse-as-library -Osize -module-name Kernel \
    -Xfrontend -disable-stack-protector -Xfrontend -assume-single-threaded
GUEST_KSWIFTFLAGS := $(GUEST_SWIFTFLAGS) $(strip $(GUEST_INJECT_FLAGS))
GUEST_CFLAGS  := -target $(GUEST_TARGET) -march=i686 -fno-pic -ffreestanding -nostdlib
GUEST_LDFLAGS := -m elf_i386 -static -nostdlib --no-undefined --orphan-handling=error \
    --gc-sections -T $(GUEST_LDS)

QEMU_FLAGS := -accel tcg -icount shift=0 -display none -vga none -net none -serial stdio -monitor none \
    -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 -m $(QEMU_MEM)

.PHONY: guest disk qemu guest-clean

## guest: build the kernel ELF and check it holds no SSE/x87 instruction.
guest: $(GUEST_BUILD)/kernel.checked

# swiftc always emits PIC; going through LLVM IR and clang -fno-pic gives absolute code.
$(GUEST_BUILD)/kernel.ll: $(GUEST_SWIFT) $(GUEST_DIR)/guest.mk $(GUEST_INJECT_STAMP)
	@mkdir -p $(@D)
	$(SWIFTC) $(GUEST_KSWIFTFLAGS) -emit-ir -o $@ $(GUEST_SWIFT)

$(GUEST_BUILD)/kernel_swift.o: $(GUEST_BUILD)/kernel.ll
	$(CLANG) $(GUEST_CFLAGS) -Os -ffunction-sections -Wno-override-module -c -o $@ $<

$(GUEST_BUILD)/%.o: $(GUEST_DIR)/%.S $(GUEST_DIR)/guest.mk
	@mkdir -p $(@D)
	$(CLANG) $(GUEST_CFLAGS) -c -o $@ $<

# Two links, as Linux's kallsyms: the first with an empty symbol table, the second with
# the table of the first's functions (demangled names). .kallsyms sits after .data, so
# the table moves no function; the recipe checks that the function addresses agree.
GUEST_OBJS := $(GUEST_ASM_OBJ) $(GUEST_BUILD)/kernel_swift.o $(GUEST_BUILD)/initramfs.o

# User programs: one multi-call Embedded Swift binary (busybox style) linked at
# 0x08048000, installed in the initramfs as /bin/APPLET for each applet, plus /etc/motd.
USER_DIR     := $(GUEST_DIR)/user
USER_BUILD   := $(GUEST_BUILD)/user
USER_SWIFT   := $(sort $(wildcard $(USER_DIR)/lib/*.swift $(USER_DIR)/bin/*.swift))
USER_APPLETS := sh ps cat echo free poweroff true layout demand cowdemo brkdemo mmapdemo \
                stackdemo segv sigdemo forkbomb efault swapdemo time cksum vmstat
USER_BOX     := $(USER_BUILD)/box.elf
USER_SWIFTFLAGS := $(subst -module-name Kernel,-module-name User,$(GUEST_SWIFTFLAGS))

$(USER_BUILD)/box.ll: $(USER_SWIFT) $(GUEST_DIR)/guest.mk
	@mkdir -p $(@D)
	$(SWIFTC) $(USER_SWIFTFLAGS) -emit-ir -o $@ $(USER_SWIFT)

$(USER_BUILD)/box_swift.o: $(USER_BUILD)/box.ll
	$(CLANG) $(GUEST_CFLAGS) -Os -ffunction-sections -Wno-override-module -c -o $@ $<

$(USER_BUILD)/crt0.o: $(USER_DIR)/lib/crt0.S
	@mkdir -p $(@D)
	$(CLANG) $(GUEST_CFLAGS) -c -o $@ $<

# The kernel's libgcc.S and mem.S (memset/memcpy/memmove/memcmp) serve the user binary too.
$(USER_BUILD)/libgcc.o $(USER_BUILD)/mem.o: $(USER_BUILD)/%.o: $(GUEST_DIR)/lib/%.S
	@mkdir -p $(@D)
	$(CLANG) $(GUEST_CFLAGS) -c -o $@ $<

$(USER_BOX): $(USER_BUILD)/crt0.o $(USER_BUILD)/mem.o $(USER_BUILD)/libgcc.o $(USER_BUILD)/box_swift.o $(USER_DIR)/user.ld
	$(LLD) -m elf_i386 -static -nostdlib --no-undefined --gc-sections -T $(USER_DIR)/user.ld -o $@ \
	    $(USER_BUILD)/crt0.o $(USER_BUILD)/mem.o $(USER_BUILD)/libgcc.o $(USER_BUILD)/box_swift.o

# initramfs.S: the file table (name, data, size) and the contents, generated.
$(GUEST_BUILD)/initramfs.S: $(USER_BOX) $(USER_DIR)/etc/motd $(GUEST_DIR)/guest.mk
	@{ echo "/* initramfs.S: generated by guest.mk -- do not edit. */"; \
	  echo ".section .rodata"; echo ".p2align 2"; echo ".globl initramfs_table"; echo "initramfs_table:"; \
	  echo "    .long $(words $(USER_APPLETS)) + 1"; \
	  for a in $(USER_APPLETS); do echo "    .long .Lname_$$a, .Lbox, .Lbox_end - .Lbox"; done; \
	  echo "    .long .Lname_motd, .Lmotd, .Lmotd_end - .Lmotd"; \
	  for a in $(USER_APPLETS); do echo ".Lname_$$a: .asciz \"/bin/$$a\""; done; \
	  echo ".Lname_motd: .asciz \"/etc/motd\""; \
	  echo ".p2align 12"; echo ".Lbox: .incbin \"$(USER_BOX)\""; echo ".Lbox_end:"; \
	  echo ".p2align 2"; echo ".Lmotd: .incbin \"$(USER_DIR)/etc/motd\""; echo ".Lmotd_end:"; \
	  echo ".text"; echo ".globl initramfs_table_addr"; echo "initramfs_table_addr:"; \
	  echo "    movl \$$initramfs_table, %eax"; echo "    ret"; } > $@

$(GUEST_BUILD)/initramfs.o: $(GUEST_BUILD)/initramfs.S
	$(CLANG) $(GUEST_CFLAGS) -c -o $@ $<

## disk: build the s86fs disk image GUEST_DISK (docs/kernel.md, Part 3): the initramfs
## files (every /bin/APPLET one inode, the multi-call binary; /etc/motd), /data/big (2 MiB
## of generated text) and a GUEST_SWAP_MIB swap area at the end (a hole in the file).
GUEST_MKFS     := $(GUEST_DIR)/tools/mkfs.py
GUEST_SWAP_MIB := 64
disk: $(GUEST_DISK)

$(GUEST_DISK): $(GUEST_MKFS) $(USER_BOX) $(USER_DIR)/etc/motd $(GUEST_DIR)/guest.mk
	$(PYTHON) $(GUEST_MKFS) -o $@ --swap-mib $(GUEST_SWAP_MIB) --gen-text /data/big=2097152 \
	    $(foreach a,$(USER_APPLETS),/bin/$(a)=$(USER_BOX)) /etc/motd=$(USER_DIR)/etc/motd

$(GUEST_BUILD)/link/kallsyms_stub.o: $(GUEST_DIR)/link/kallsyms_stub.S
	@mkdir -p $(@D)
	$(CLANG) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_BUILD)/kernel.pass1.elf: $(GUEST_OBJS) $(GUEST_BUILD)/link/kallsyms_stub.o $(GUEST_LDS)
	$(LLD) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS) $(GUEST_BUILD)/link/kallsyms_stub.o

$(GUEST_BUILD)/kallsyms.S: $(GUEST_BUILD)/kernel.pass1.elf
	$(NM) -n --defined-only $< | awk '$$2 ~ /^[tT]$$/ { print $$1, $$3 }' > $(GUEST_BUILD)/kallsyms.raw
	awk '{ print $$2 }' $(GUEST_BUILD)/kallsyms.raw | $(DEMANGLE) --simplified > $(GUEST_BUILD)/kallsyms.names
	paste -d ' ' $(GUEST_BUILD)/kallsyms.raw $(GUEST_BUILD)/kallsyms.names | awk ' \
	    BEGIN { print "/* kallsyms.S: generated by guest.mk from kernel.pass1.elf -- do not edit. */"; \
	            print ".section .kallsyms, \"a\""; print ".p2align 2"; \
	            print ".globl kallsyms_table"; print "kallsyms_table:" } \
	    { addr[NR] = $$1; line = $$0; sub(/^[^ ]+ [^ ]+ /, "", line); \
	      gsub(/\\/, "\\\\", line); gsub(/"/, "\\\"", line); name[NR] = line } \
	    END { print "    .long " NR + 1; \
	          for (i = 1; i <= NR; i++) print "    .long 0x" addr[i] ", .Lname" i " - .Lnames"; \
	          print "    .long _etext, .Lname_end - .Lnames"; print ".Lnames:"; \
	          for (i = 1; i <= NR; i++) print ".Lname" i ": .asciz \"" name[i] "\""; \
	          print ".Lname_end: .asciz \"_etext\"" }' > $@

$(GUEST_BUILD)/kallsyms.o: $(GUEST_BUILD)/kallsyms.S
	$(CLANG) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_KERNEL): $(GUEST_OBJS) $(GUEST_BUILD)/kallsyms.o $(GUEST_LDS)
	$(LLD) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS) $(GUEST_BUILD)/kallsyms.o
	@$(NM) -n --defined-only $(GUEST_BUILD)/kernel.pass1.elf | awk '$$2 ~ /^[tT]$$/' > $(GUEST_BUILD)/kallsyms.check1
	@$(NM) -n --defined-only $@ | awk '$$2 ~ /^[tT]$$/' > $(GUEST_BUILD)/kallsyms.check2
	@cmp -s $(GUEST_BUILD)/kallsyms.check1 $(GUEST_BUILD)/kallsyms.check2 || \
	    { echo "guest: functions moved between the two links (see $(GUEST_BUILD)/kallsyms.check*)" >&2; rm -f $@; exit 1; }

# The emulator runs integer i686 code only: refuse any SSE/MMX register or x87 opcode.
$(GUEST_BUILD)/kernel.checked: $(GUEST_KERNEL)
	@$(OBJDUMP) -d --no-show-raw-insn $< > $(GUEST_BUILD)/kernel.dis
	@if grep -Eq '%(x|y)mm|%mm[0-7]|%st' $(GUEST_BUILD)/kernel.dis || \
	    awk -F'\t' '$$1 ~ /^ *[0-9a-f]+:/ && $$2 ~ /^f/ { found = 1 } END { exit !found }' $(GUEST_BUILD)/kernel.dis; then \
	    echo "guest: $< contains SSE/MMX/x87 instructions (see $(GUEST_BUILD)/kernel.dis)" >&2; \
	    exit 1; \
	fi
	@touch $@

## qemu: boot the kernel on QEMU with the serial line on stdout, and the disk DISK
## (default GUEST_DISK; DISK= for none) with -snapshot. The kernel leaves
## through isa-debug-exit: writing N makes QEMU exit with (N<<1)|1, so status 1 means
## it wrote 0 (success). Succeeds iff the guest wrote QEMU_EXPECT (default 0).
QEMU_DISK_FLAGS = -drive file=$(DISK),format=raw,if=ide -snapshot
qemu: $(GUEST_BUILD)/kernel.checked $(DISK)
	@status=0; $(QEMU) $(QEMU_FLAGS) -kernel $(GUEST_KERNEL) $(if $(DISK),$(QEMU_DISK_FLAGS)) \
	    -append '$(if $(APPEND),$(APPEND),init=/bin/sh)' $(QEMU_EXTRA) || status=$$?; \
	if [ $$status -ne $$(( ($(QEMU_EXPECT) << 1) | 1 )) ]; then \
	    echo "qemu: exit status $$status, expected $$(( ($(QEMU_EXPECT) << 1) | 1 )) (guest exit code $(QEMU_EXPECT))" >&2; \
	    exit 1; \
	fi

## guest-clean: remove build/guest.
guest-clean:
	rm -rf $(GUEST_BUILD)
