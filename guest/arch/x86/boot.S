/* boot.S: multiboot header and _start: early paging (3G/1G split), GDT, .bss, stack, kmain. */

#define MB_MAGIC     0x1BADB002   /* multiboot v1 header magic */
#define MB_FLAGS     0x00000003   /* bit 0: page-align modules, bit 1: memory info */
#define PAGE_OFFSET  0xC0000000   /* kernel virtual = physical + PAGE_OFFSET */
#define KERNEL_CS    0x60         /* GDT entry 12: Linux's __KERNEL_CS */
#define KERNEL_DS    0x68         /* GDT entry 13: Linux's __KERNEL_DS */
#define USER_CS      0x73         /* GDT entry 14, RPL 3: __USER_CS */
#define USER_DS      0x7B         /* GDT entry 15, RPL 3: __USER_DS */
#define STACK_SIZE   16384        /* boot stack (the idle task's kernel stack) in .bss */
#define BOOT_MAP_PDES 16          /* 4 MiB PSE entries the early map holds: 64 MiB */
#define PDE_LARGE    0x83         /* present, writable, 4 MiB page (PS) */
#define CR0_PG       0x80000000   /* paging */
#define CR0_WP       0x00010000   /* supervisor writes honour read-only pages */
#define CR4_PSE      0x00000010   /* 4 MiB pages */

#define PHYS(x) ((x) - PAGE_OFFSET)

/* The multiboot header must sit in the first 8 KiB of the image; the linker script */
/* puts .multiboot first. No address fields (flag bit 16): the loader reads the ELF. */
.section .multiboot, "a"
.p2align 2
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

.section .text.boot, "ax"
/* _start: entry from the multiboot loader, at its physical address (paging off). */
/* In: EAX = 0x2BADB002, EBX = physical address of the multiboot info, protected mode, */
/* interrupts off, flat CS/DS from the loader's GDT (which we must not trust). */
/* Out: never returns. Maps physical 0..64 MiB both at 0 and at PAGE_OFFSET with 4 MiB */
/* pages, turns paging on, jumps to the linked (high) addresses, clears .bss, drops the */
/* identity half and calls kmain(magic, info) on the boot stack. */
.globl _start
.type _start, @function
_start:
    cli
    cld
    movl %eax, %edx               /* magic in EDX, info in EBX: nothing below touches them */
    lgdt PHYS(boot_gdt_desc)
    ljmp $KERNEL_CS, $PHYS(1f)
1:  movw $KERNEL_DS, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    lldt %ax                      /* the firmware leaves a stale LDTR behind */

    /* Fill early_page_dir: entries 0..15 (identity) and 768..783 (PAGE_OFFSET). */
    movl $PHYS(early_page_dir), %edi
    movl $PDE_LARGE, %eax
    xorl %ecx, %ecx
2:  movl %eax, (%edi,%ecx,4)
    movl %eax, 3072(%edi,%ecx,4)  /* 768 * 4 */
    addl $0x400000, %eax
    incl %ecx
    cmpl $BOOT_MAP_PDES, %ecx
    jne 2b

    movl %cr4, %eax
    orl $CR4_PSE, %eax
    movl %eax, %cr4
    movl %edi, %cr3
    movl %cr0, %eax
    orl $(CR0_PG | CR0_WP), %eax
    movl %eax, %cr0
    movl $3f, %eax                /* an absolute (high) address: leave the identity map */
    jmp *%eax
3:
    /* Zero .bss (the boot stack lives there: nothing may be pushed before this). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx                 /* the linker script keeps .bss 4-byte aligned */
    xorl %eax, %eax
    rep stosl

    movl $boot_stack_top, %esp
    xorl %ebp, %ebp               /* terminates frame-pointer backtraces */

    /* Drop the identity half: from here NULL and all user addresses fault. */
    movl $early_page_dir, %edi
    xorl %eax, %eax
    movl $BOOT_MAP_PDES, %ecx
    rep stosl
    movl %cr3, %eax
    movl %eax, %cr3               /* flush the identity translations */

    subl $8, %esp                 /* keep ESP 16-byte aligned at the call */
    pushl %ebx                    /* info (physical) */
    pushl %edx                    /* magic */
    call kmain
    jmp halt_forever
.size _start, . - _start

.text
/* halt_forever: stop this CPU for good (interrupts off). Never returns. */
.globl halt_forever
.type halt_forever, @function
halt_forever:
    cli
4:  hlt
    jmp 4b
.size halt_forever, . - halt_forever

.section .data
.p2align 12
/* early_page_dir: the boot page directory (physical 0..64 MiB at 0 and PAGE_OFFSET). */
/* paging_init replaces it with swapper_pg_dir. In .data so the .bss clear spares it. */
.globl early_page_dir
early_page_dir:
    .skip 4096

.p2align 3
/* gdt_table: Linux's i386 GDT layout, 32 entries; the TSS descriptor (entry 16) is */
/* filled in by gdt.swift. */
.globl gdt_table
gdt_table:
    .quad 0                       /* 0  null */
    .fill 11, 8, 0                /* 1-11 unused (Linux: TLS, PnP BIOS, APM) */
    .quad 0x00CF9A000000FFFF      /* 12 0x60 kernel code: base 0, 4 GiB, DPL 0, r/x */
    .quad 0x00CF92000000FFFF      /* 13 0x68 kernel data: base 0, 4 GiB, DPL 0, r/w */
    .quad 0x00CFFA000000FFFF      /* 14 0x73 user code:   base 0, 4 GiB, DPL 3, r/x */
    .quad 0x00CFF2000000FFFF      /* 15 0x7B user data:   base 0, 4 GiB, DPL 3, r/w */
    .quad 0                       /* 16 0x80 TSS (gdt.swift) */
    .fill 15, 8, 0                /* 17-31 unused */
gdt_table_end:

.p2align 1
/* boot_gdt_desc: GDTR image with the physical base, loaded before paging. */
boot_gdt_desc:
    .word gdt_table_end - gdt_table - 1
    .long PHYS(gdt_table)

.p2align 1
/* gdt_desc: GDTR image with the virtual base, loaded by gdt_init after paging. */
.globl gdt_desc
gdt_desc:
    .word gdt_table_end - gdt_table - 1
    .long gdt_table

.section .bss
.p2align 12
.globl boot_stack
boot_stack:
    .skip STACK_SIZE
.globl boot_stack_top
boot_stack_top:
