/* trap.S: entry stubs for CPU exceptions 0-31 and IRQs 0-15 (vectors 32-47), the trap frame, the IDT. */

.macro TRAP_NOERR n               /* the CPU pushes no error code: push a 0 for it */
.type trap_\n, @function
trap_\n:
    pushl $0
    pushl $\n
    jmp trap_common
.endm

.macro TRAP_ERR n                 /* the CPU pushed an error code already */
.type trap_\n, @function
trap_\n:
    pushl $\n
    jmp trap_common
.endm

.text
TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR   8
TRAP_NOERR 9
TRAP_ERR   10
TRAP_ERR   11
TRAP_ERR   12
TRAP_ERR   13
TRAP_ERR   14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR   17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR   21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR   29
TRAP_ERR   30
TRAP_NOERR 31
TRAP_NOERR 32
TRAP_NOERR 33
TRAP_NOERR 34
TRAP_NOERR 35
TRAP_NOERR 36
TRAP_NOERR 37
TRAP_NOERR 38
TRAP_NOERR 39
TRAP_NOERR 40
TRAP_NOERR 41
TRAP_NOERR 42
TRAP_NOERR 43
TRAP_NOERR 44
TRAP_NOERR 45
TRAP_NOERR 46
TRAP_NOERR 47

/* trap_common: build the trap frame and call trap_dispatch(frame); DS/ES are the */
/* kernel's already (no user mode yet). */
/* Frame, low to high: EDI ESI EBP ESP0 EBX EDX ECX EAX (pushal), vector, error code, */
/* then what the CPU pushed: EIP CS EFLAGS. Returns to the interrupted code with iret */
/* if trap_dispatch returns. */
.type trap_common, @function
trap_common:
    pushal
    cld
    movl %esp, %eax
    pushl %eax                    /* frame pointer argument */
    call trap_dispatch
    addl $4, %esp
    popal
    addl $8, %esp                 /* vector and error code */
    iret
.size trap_common, . - trap_common

.section .rodata
.p2align 2
/* trap_vectors: the 48 stub addresses, indexed by vector (read by idt.swift). */
.globl trap_vectors
trap_vectors:
    .long trap_0,  trap_1,  trap_2,  trap_3,  trap_4,  trap_5,  trap_6,  trap_7
    .long trap_8,  trap_9,  trap_10, trap_11, trap_12, trap_13, trap_14, trap_15
    .long trap_16, trap_17, trap_18, trap_19, trap_20, trap_21, trap_22, trap_23
    .long trap_24, trap_25, trap_26, trap_27, trap_28, trap_29, trap_30, trap_31
    .long trap_32, trap_33, trap_34, trap_35, trap_36, trap_37, trap_38, trap_39
    .long trap_40, trap_41, trap_42, trap_43, trap_44, trap_45, trap_46, trap_47

.section .bss
.p2align 3
/* idt_table: 256 gates of 8 bytes, filled by idt.swift. */
.globl idt_table
idt_table:
    .skip 256 * 8

.text
/* x86_trap_vectors() -> address of trap_vectors. */
.globl x86_trap_vectors
.type x86_trap_vectors, @function
x86_trap_vectors:
    movl $trap_vectors, %eax
    ret

/* x86_idt_table() -> address of idt_table. */
.globl x86_idt_table
.type x86_idt_table, @function
x86_idt_table:
    movl $idt_table, %eax
    ret
