/* boot.S: multiboot v1 header and _start: flat GDT, segments, .bss, stack, then kmain. */

#define MB_MAGIC     0x1BADB002   /* multiboot v1 header magic */
#define MB_FLAGS     0x00000003   /* bit 0: page-align modules, bit 1: memory info */
#define KERNEL_CS    0x08         /* GDT selector: flat 4 GiB ring-0 code */
#define KERNEL_DS    0x10         /* GDT selector: flat 4 GiB ring-0 data */
#define STACK_SIZE   16384        /* boot stack in .bss */

/* The multiboot header must sit in the first 8 KiB of the image; the linker script */
/* puts .multiboot first. No address fields (flag bit 16): QEMU loads the ELF itself. */
.section .multiboot, "a"
.p2align 2
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

.text
/* _start: entry from the multiboot loader. */
/* In: EAX = 0x2BADB002, EBX = physical address of the multiboot info, protected mode, */
/* paging off, interrupts off, CS/DS flat but from the loader's GDT (which we must not trust). */
/* Out: never returns; calls kmain(magic, info) on the boot stack, halts if it returns. */
.globl _start
.type _start, @function
_start:
    cli
    cld
    movl %eax, %edx               /* keep the magic in EDX and the info in EBX: */
                                  /* the .bss clear below uses only EAX, ECX, EDI */
    lgdt gdt_desc
    ljmp $KERNEL_CS, $1f
1:  movw $KERNEL_DS, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    xorl %eax, %eax
    lldt %ax                      /* the firmware leaves a stale LDTR behind */

    /* Zero .bss (the boot stack lives there: nothing may be pushed before this). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx                 /* the linker script keeps .bss 4-byte aligned */
    xorl %eax, %eax
    rep stosl

    movl $boot_stack_top, %esp
    xorl %ebp, %ebp               /* terminates frame-pointer backtraces */
    subl $8, %esp                 /* keep ESP 16-byte aligned at the call */
    pushl %ebx                    /* info */
    pushl %edx                    /* magic */
    call kmain
    jmp halt_forever
.size _start, . - _start

/* halt_forever: stop this CPU for good (interrupts off). Never returns. */
.globl halt_forever
.type halt_forever, @function
halt_forever:
    cli
2:  hlt
    jmp 2b
.size halt_forever, . - halt_forever

.section .rodata
.p2align 3
/* gdt: the boot GDT. Grows a TSS and user segments later (arch/x86/gdt). */
gdt:
    .quad 0x0000000000000000      /* 0x00 null */
    .quad 0x00CF9A000000FFFF      /* 0x08 kernel code: base 0, limit 4 GiB, DPL 0, r/x */
    .quad 0x00CF92000000FFFF      /* 0x10 kernel data: base 0, limit 4 GiB, DPL 0, r/w */
gdt_end:
.p2align 1
gdt_desc:
    .word gdt_end - gdt - 1       /* limit */
    .long gdt                     /* linear base (paging off: = physical) */

.section .bss
.p2align 4
boot_stack:
    .skip STACK_SIZE
boot_stack_top:
