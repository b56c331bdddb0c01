/* layout.S: getters for linker-script symbols (Swift cannot take a symbol's address). */

.text

/* GETTER name, symbol: name() -> the (virtual) address of symbol. */
.macro GETTER name, sym
.globl \name
.type \name, @function
\name:
    movl $\sym, %eax
    ret
.endm

GETTER kernel_start_addr, __kernel_start     /* first byte of the kernel image */
GETTER kernel_end_addr, __kernel_end         /* first byte past the image, .bss included */
GETTER text_start_addr, _text                /* .text (with the multiboot header) */
GETTER text_end_addr, _etext
GETTER data_start_addr, _sdata               /* .data and .kallsyms */
GETTER data_end_addr, _edata
GETTER bss_start_addr, __bss_start
GETTER bss_end_addr, __bss_end
GETTER early_heap_start_addr, __early_heap_start   /* early allocator arena */
GETTER early_heap_end_addr, __early_heap_end
GETTER early_page_dir_addr, early_page_dir   /* the boot page directory */
GETTER gdt_table_addr, gdt_table
GETTER gdt_desc_addr, gdt_desc
GETTER boot_stack_top_addr, boot_stack_top
GETTER kallsyms_table_addr, kallsyms_table   /* guest.mk's generated symbol table */
