# guest.mk: build the Embedded Swift guest kernel (included by the top-level Makefile).
#
# Defines GUEST_KERNEL and the targets `guest` (build and check it) and `qemu` (boot it
# on QEMU; APPEND="..." sets the command line, QEMU_EXTRA="..." adds flags such as
# -initrd a,b, QEMU_MEM=1G sets -m, QEMU_EXPECT=N expects the guest to exit with N).
# Paths are relative to the repository root.

SWIFTC   ?= swiftc
CLANG    ?= clang
LLD      ?= ld.lld
OBJDUMP  ?= llvm-objdump
QEMU     ?= qemu-system-i386
QEMU_MEM ?= 128M
APPEND   ?=
QEMU_EXTRA ?=
QEMU_EXPECT ?= 0

GUEST_DIR    := guest
GUEST_BUILD  := build/guest
GUEST_KERNEL := $(GUEST_BUILD)/kernel.elf
GUEST_LDS    := $(GUEST_DIR)/link/kernel.ld

# Kernel sources: everything under these directories (guest/user/ is not kernel code).
GUEST_KDIRS  := $(wildcard $(GUEST_DIR)/arch $(GUEST_DIR)/kernel $(GUEST_DIR)/drivers \
                           $(GUEST_DIR)/mm $(GUEST_DIR)/lib)
GUEST_SWIFT  := $(sort $(shell find $(GUEST_KDIRS) -name '*.swift'))
GUEST_ASM    := $(sort $(shell find $(GUEST_KDIRS) -name '*.S'))
GUEST_ASM_OBJ := $(patsubst $(GUEST_DIR)/%.S,$(GUEST_BUILD)/%.o,$(GUEST_ASM))

GUEST_TARGET := i686-unknown-none-elf
# Integer-only i686, no PIC (see the -emit-ir route below), single-threaded refcounts.
GUEST_SWIFTFLAGS := -target $(GUEST_TARGET) -target-cpu i686 \
    -enable-experimental-feature Embedded -enable-experimental-feature Extern \
    -wmo -parse-as-library -Osize -module-name Kernel \
    -Xfrontend -disable-stack-protector -Xfrontend -assume-single-threaded
GUEST_CFLAGS  := -target $(GUEST_TARGET) -march=i686 -fno-pic -ffreestanding -nostdlib
GUEST_LDFLAGS := -m elf_i386 -static -nostdlib --no-undefined --orphan-handling=error \
    --gc-sections -T $(GUEST_LDS)

QEMU_FLAGS := -accel tcg -display none -vga none -net none -serial stdio -monitor none \
    -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 -m $(QEMU_MEM)

.PHONY: guest qemu guest-clean

## guest: build the kernel ELF and check it holds no SSE/x87 instruction.
guest: $(GUEST_BUILD)/kernel.checked

# swiftc always emits PIC; going through LLVM IR and clang -fno-pic gives absolute code.
$(GUEST_BUILD)/kernel.ll: $(GUEST_SWIFT) $(GUEST_DIR)/guest.mk
	@mkdir -p $(@D)
	$(SWIFTC) $(GUEST_SWIFTFLAGS) -emit-ir -o $@ $(GUEST_SWIFT)

$(GUEST_BUILD)/kernel_swift.o: $(GUEST_BUILD)/kernel.ll
	$(CLANG) $(GUEST_CFLAGS) -Os -ffunction-sections -Wno-override-module -c -o $@ $<

$(GUEST_BUILD)/%.o: $(GUEST_DIR)/%.S $(GUEST_DIR)/guest.mk
	@mkdir -p $(@D)
	$(CLANG) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_KERNEL): $(GUEST_ASM_OBJ) $(GUEST_BUILD)/kernel_swift.o $(GUEST_LDS)
	$(LLD) $(GUEST_LDFLAGS) -o $@ $(GUEST_ASM_OBJ) $(GUEST_BUILD)/kernel_swift.o

# The emulator runs integer i686 code only: refuse any SSE/MMX register or x87 opcode.
$(GUEST_BUILD)/kernel.checked: $(GUEST_KERNEL)
	@$(OBJDUMP) -d --no-show-raw-insn $< > $(GUEST_BUILD)/kernel.dis
	@if grep -Eq '%(x|y)mm|%mm[0-7]|%st' $(GUEST_BUILD)/kernel.dis || \
	    awk -F'\t' '$$1 ~ /^ *[0-9a-f]+:/ && $$2 ~ /^f/ { found = 1 } END { exit !found }' $(GUEST_BUILD)/kernel.dis; then \
	    echo "guest: $< contains SSE/MMX/x87 instructions (see $(GUEST_BUILD)/kernel.dis)" >&2; \
	    exit 1; \
	fi
	@touch $@

## qemu: boot the kernel on QEMU with the serial line on stdout. The kernel leaves
## through isa-debug-exit: writing N makes QEMU exit with (N<<1)|1, so status 1 means
## it wrote 0 (success). Succeeds iff the guest wrote QEMU_EXPECT (default 0).
qemu: $(GUEST_BUILD)/kernel.checked
	@status=0; $(QEMU) $(QEMU_FLAGS) -kernel $(GUEST_KERNEL) \
	    $(if $(APPEND),-append "$(APPEND)") $(QEMU_EXTRA) || status=$$?; \
	if [ $$status -ne $$(( ($(QEMU_EXPECT) << 1) | 1 )) ]; then \
	    echo "qemu: exit status $$status, expected $$(( ($(QEMU_EXPECT) << 1) | 1 )) (guest exit code $(QEMU_EXPECT))" >&2; \
	    exit 1; \
	fi

## guest-clean: remove build/guest.
guest-clean:
	rm -rf $(GUEST_BUILD)
