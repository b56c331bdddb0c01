/* layout.S: getters for linker-script symbols (Swift cannot take a symbol's address). */

.text

/* kernel_start_addr() -> first byte of the kernel image (physical). */
.globl kernel_start_addr
.type kernel_start_addr, @function
kernel_start_addr:
    movl $__kernel_start, %eax
    ret

/* kernel_end_addr() -> first byte past the kernel image, .bss included. */
.globl kernel_end_addr
.type kernel_end_addr, @function
kernel_end_addr:
    movl $__kernel_end, %eax
    ret

/* early_heap_start_addr() -> first byte of the early allocator's arena. */
.globl early_heap_start_addr
.type early_heap_start_addr, @function
early_heap_start_addr:
    movl $__early_heap_start, %eax
    ret

/* early_heap_end_addr() -> first byte past the early allocator's arena. */
.globl early_heap_end_addr
.type early_heap_end_addr, @function
early_heap_end_addr:
    movl $__early_heap_end, %eax
    ret
