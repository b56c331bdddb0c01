/* io.S: tiny cdecl wrappers for instructions Swift cannot emit (port I/O, cpuid, control registers, div). */

.text

/* x86_outb(port, value): write the byte `value` to I/O port `port`. */
.globl x86_outb
.type x86_outb, @function
x86_outb:
    movzwl 4(%esp), %edx
    movzbl 8(%esp), %eax
    outb %al, %dx
    ret

/* x86_inb(port) -> byte read from I/O port `port`, zero-extended. */
.globl x86_inb
.type x86_inb, @function
x86_inb:
    movzwl 4(%esp), %edx
    xorl %eax, %eax
    inb %dx, %al
    ret

/* x86_outw(port, value): write the 16-bit `value` to I/O port `port`. */
.globl x86_outw
.type x86_outw, @function
x86_outw:
    movzwl 4(%esp), %edx
    movzwl 8(%esp), %eax
    outw %ax, %dx
    ret

/* x86_inw(port) -> 16-bit value read from I/O port `port`, zero-extended. */
.globl x86_inw
.type x86_inw, @function
x86_inw:
    movzwl 4(%esp), %edx
    xorl %eax, %eax
    inw %dx, %ax
    ret

/* x86_insw(port, buf, count): read `count` 16-bit words from I/O port `port` into
   buf (rep insw, as Linux's insw: the ATA data port's PIO transfer). */
.globl x86_insw
.type x86_insw, @function
x86_insw:
    pushl %edi
    movzwl 8(%esp), %edx
    movl 12(%esp), %edi
    movl 16(%esp), %ecx
    cld
    rep insw %dx, %es:(%edi)
    popl %edi
    ret

/* x86_outsw(port, buf, count): write `count` 16-bit words from buf to I/O port
   `port` (rep outsw). */
.globl x86_outsw
.type x86_outsw, @function
x86_outsw:
    pushl %esi
    movzwl 8(%esp), %edx
    movl 12(%esp), %esi
    movl 16(%esp), %ecx
    cld
    rep outsw %ds:(%esi), %dx
    popl %esi
    ret

/* x86_outl(port, value): write the 32-bit `value` to I/O port `port`. */
.globl x86_outl
.type x86_outl, @function
x86_outl:
    movzwl 4(%esp), %edx
    movl 8(%esp), %eax
    outl %eax, %dx
    ret

/* x86_inl(port) -> 32-bit value read from I/O port `port`. */
.globl x86_inl
.type x86_inl, @function
x86_inl:
    movzwl 4(%esp), %edx
    inl %dx, %eax
    ret

/* x86_cpuid(leaf, subleaf, out): run CPUID; out[0..3] = EAX, EBX, ECX, EDX. */
.globl x86_cpuid
.type x86_cpuid, @function
x86_cpuid:
    pushl %ebx
    pushl %edi
    movl 12(%esp), %eax
    movl 16(%esp), %ecx
    movl 20(%esp), %edi
    cpuid
    movl %eax, 0(%edi)
    movl %ebx, 4(%edi)
    movl %ecx, 8(%edi)
    movl %edx, 12(%edi)
    popl %edi
    popl %ebx
    ret

/* x86_lidt(desc): load IDTR from the 6-byte descriptor (limit, base) at `desc`. */
.globl x86_lidt
.type x86_lidt, @function
x86_lidt:
    movl 4(%esp), %eax
    lidt (%eax)
    ret

/* x86_read_cr0() -> CR0. */
.globl x86_read_cr0
.type x86_read_cr0, @function
x86_read_cr0:
    movl %cr0, %eax
    ret

/* x86_read_cr2() -> CR2 (the faulting linear address of the last #PF). */
.globl x86_read_cr2
.type x86_read_cr2, @function
x86_read_cr2:
    movl %cr2, %eax
    ret

/* x86_divl(hi, lo, d, rem) -> (hi:lo) / d, and *rem = (hi:lo) % d: one DIV instruction. */
/* The caller guarantees hi < d (else the quotient overflows and the CPU raises #DE). */
.globl x86_divl
.type x86_divl, @function
x86_divl:
    movl 4(%esp), %edx
    movl 8(%esp), %eax
    divl 12(%esp)
    movl 16(%esp), %ecx
    movl %edx, (%ecx)
    ret

/* x86_read_cr3() -> CR3 (physical address of the page directory). */
.globl x86_read_cr3
.type x86_read_cr3, @function
x86_read_cr3:
    movl %cr3, %eax
    ret

/* x86_write_cr3(v): load CR3 (flushes all non-global TLB entries). */
.globl x86_write_cr3
.type x86_write_cr3, @function
x86_write_cr3:
    movl 4(%esp), %eax
    movl %eax, %cr3
    ret

/* x86_read_cr4() -> CR4. */
.globl x86_read_cr4
.type x86_read_cr4, @function
x86_read_cr4:
    movl %cr4, %eax
    ret

/* x86_write_cr4(v): load CR4 (toggling PGE flushes the global TLB entries too). */
.globl x86_write_cr4
.type x86_write_cr4, @function
x86_write_cr4:
    movl 4(%esp), %eax
    movl %eax, %cr4
    ret

/* x86_invlpg(va): drop the TLB entry for the page holding va. */
.globl x86_invlpg
.type x86_invlpg, @function
x86_invlpg:
    movl 4(%esp), %eax
    invlpg (%eax)
    ret

/* x86_sti(): enable interrupts. */
.globl x86_sti
.type x86_sti, @function
x86_sti:
    sti
    ret

/* x86_cli(): disable interrupts. */
.globl x86_cli
.type x86_cli, @function
x86_cli:
    cli
    ret

/* x86_read_eflags() -> EFLAGS. */
.globl x86_read_eflags
.type x86_read_eflags, @function
x86_read_eflags:
    pushfl
    popl %eax
    ret

/* x86_write_eflags(v): restore EFLAGS (IF included). */
.globl x86_write_eflags
.type x86_write_eflags, @function
x86_write_eflags:
    pushl 4(%esp)
    popfl
    ret

/* x86_safe_halt(): enable interrupts and halt until the next one (sti; hlt is atomic). */
.globl x86_safe_halt
.type x86_safe_halt, @function
x86_safe_halt:
    sti
    hlt
    ret

/* x86_load_gdt(desc): load GDTR from desc and reload every segment register with */
/* Linux's kernel selectors (CS 0x60, DS/ES/SS 0x68, FS/GS null). */
.globl x86_load_gdt
.type x86_load_gdt, @function
x86_load_gdt:
    movl 4(%esp), %eax
    lgdt (%eax)
    movw $0x68, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    ljmp $0x60, $1f
1:  ret

/* x86_ltr(sel): load the task register with selector sel. */
.globl x86_ltr
.type x86_ltr, @function
x86_ltr:
    movl 4(%esp), %eax
    ltr %ax
    ret

/* x86_cpu_relax(): a pause in a busy-wait loop (and a call the optimizer cannot see */
/* through, so the loop re-reads memory an interrupt handler changes). */
.globl x86_cpu_relax
.type x86_cpu_relax, @function
x86_cpu_relax:
    nop
    ret
