/* string.S: the kernel's free() trampoline (the memory primitives are in mem.S, shared with user space). */

.text

/* free(ptr): C free(), forwarded to the early allocator (a trampoline because Swift */
/* warns when @_cdecl takes the reserved name). */
.globl free
.type free, @function
free:
    jmp kmem_early_free
