#!/bin/sh
# qemu-probe.sh: rebuild probe.elf and print what QEMU's multiboot loader hands it for a given -m.
# Usage: qemu-probe.sh [RAM] [extra qemu args...]   e.g. qemu-probe.sh 128M -append "hello world"
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=${TMPDIR:-/tmp}/swift86-probe
mkdir -p "$out"
nasm -f elf32 "$here/probe.asm" -o "$out/probe.o"
ld.lld -m elf_i386 -T "$here/probe.ld" -o "$out/probe.elf" "$out/probe.o"
ram=${1:-128M}; [ $# -gt 0 ] && shift
cd "$out"
exec qemu-system-i386 -accel tcg -m "$ram" -kernel probe.elf -display none -vga none -net none \
  -serial stdio -monitor none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 "$@"
