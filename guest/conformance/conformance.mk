# Make fragment for the conformance kernel: build it and compare swift86 with QEMU line by line.
# Included by the top-level Makefile; paths are relative to the repository root.
#   make conformance-image   build/conformance/conformance.elf
#   make check-qemu          run it on QEMU and swift86 and diff (lines tagged [sdm] may differ)

CONF_SRC     := guest/conformance
CONF_OUT     := build/conformance
CONF_IMAGE   := $(CONF_OUT)/conformance.elf
CONF_NASM    ?= nasm
CONF_LD      ?= $(firstword $(shell command -v ld.lld 2>/dev/null) /opt/swift/usr/bin/ld.lld)
CONF_PYTHON  ?= python3
CONF_SWIFT86 ?= .build/release/swift86
CONF_QEMU    ?= qemu-system-i386

.PHONY: conformance-image check-qemu

conformance-image: $(CONF_IMAGE)

$(CONF_OUT)/conformance.o: $(CONF_SRC)/conformance.asm $(CONF_SRC)/framework.inc
	@mkdir -p $(CONF_OUT)
	$(CONF_NASM) -f elf32 -I $(CONF_SRC)/ -o $@ $<

$(CONF_IMAGE): $(CONF_OUT)/conformance.o $(CONF_SRC)/link.ld
	$(CONF_LD) -m elf_i386 -T $(CONF_SRC)/link.ld -o $@ $<

check-qemu: $(CONF_IMAGE)
	$(CONF_PYTHON) $(CONF_SRC)/compare.py --image $(CONF_IMAGE) --swift86 $(CONF_SWIFT86) --qemu $(CONF_QEMU) --out $(CONF_OUT)
