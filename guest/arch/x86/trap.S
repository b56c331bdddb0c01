/* trap.S: entry stubs for CPU exceptions 0-31, IRQs 0-15 (vectors 32-47) and int 0x80, the trap frame, the IDT. */

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
TRAP_NOERR 128

/* trap_common: build the trap frame and call trap_dispatch(frame), with DS/ES loaded */
/* with __KERNEL_DS (the user's are saved in the frame). */
/* Frame, low to high: EDI ESI EBP ESP0 EBX EDX ECX EAX (pushal), GS FS ES DS, vector, */
/* error code, then what the CPU pushed: EIP CS EFLAGS (and ESP SS when it came from */
/* ring 3). Returns through trap_return: pops the frame and irets. */
.type trap_common, @function
trap_common:
    pushl %ds
    pushl %es
    pushl %fs
    pushl %gs
    pushal
    cld
    movl $0x68, %eax
    movw %ax, %ds
    movw %ax, %es
    movl %esp, %eax
    pushl %eax                    /* frame pointer argument */
    call trap_dispatch
    addl $4, %esp
.globl trap_return
trap_return:
    popal
    popl %gs
    popl %fs
    popl %es
    popl %ds
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
/* syscall_vector: the int 0x80 stub (read by idt.swift). */
.globl syscall_vector
syscall_vector:
    .long trap_128

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

/* x86_syscall_vector() -> address of the int 0x80 entry stub. */
.globl x86_syscall_vector
.type x86_syscall_vector, @function
x86_syscall_vector:
    movl trap_vectors + 48 * 4, %eax
    ret

/* ret_from_fork: where a new task's first switch_to returns: its kernel stack holds */
/* a trap frame right above, so leave through trap_return to user mode. */
.globl ret_from_fork
.type ret_from_fork, @function
ret_from_fork:
    jmp trap_return

/* x86_ret_from_fork() -> address of ret_from_fork. */
.globl x86_ret_from_fork
.type x86_ret_from_fork, @function
x86_ret_from_fork:
    movl $ret_from_fork, %eax
    ret

/* switch_to(prev_esp, next_esp): save the callee-saved registers on this stack, store */
/* ESP at *prev_esp, load next_esp and pop that task's registers: returns in the next */
/* task (where it last called switch_to, or at ret_from_fork). */
.globl switch_to
.type switch_to, @function
switch_to:
    movl 4(%esp), %eax
    movl 8(%esp), %edx
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, (%eax)
    movl %edx, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret
.size switch_to, . - switch_to

/* copy_user(dst, src, n) -> bytes NOT copied (0 on success). Used for copy_from_user */
/* and copy_to_user: a page fault on the rep movsb that do_page_fault cannot resolve */
/* resumes at the fixup (through __ex_table), which returns the remaining count. */
.globl copy_user
.type copy_user, @function
copy_user:
    pushl %edi
    pushl %esi
    movl 12(%esp), %edi
    movl 16(%esp), %esi
    movl 20(%esp), %ecx
.Lcopy_insn:
    rep movsb
.Lcopy_done:
    movl %ecx, %eax
    popl %esi
    popl %edi
    ret
.size copy_user, . - copy_user

/* clear_user(dst, n) -> bytes NOT cleared (0 on success), with the same fixup. */
.globl clear_user
.type clear_user, @function
clear_user:
    pushl %edi
    movl 8(%esp), %edi
    movl 12(%esp), %ecx
    xorl %eax, %eax
.Lclear_insn:
    rep stosb
.Lclear_done:
    movl %ecx, %eax
    popl %edi
    ret
.size clear_user, . - clear_user

.section .rodata
.p2align 2
/* __ex_table: (faulting instruction, fixup) pairs, searched by fixup_exception. */
.globl ex_table
ex_table:
    .long .Lcopy_insn, .Lcopy_done
    .long .Lclear_insn, .Lclear_done
ex_table_end:
.text
/* x86_ex_table() -> address of __ex_table; x86_ex_table_end() -> its end. */
.globl x86_ex_table
.type x86_ex_table, @function
x86_ex_table:
    movl $ex_table, %eax
    ret
.globl x86_ex_table_end
.type x86_ex_table_end, @function
x86_ex_table_end:
    movl $ex_table_end, %eax
    ret
