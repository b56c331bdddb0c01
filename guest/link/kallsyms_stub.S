/* kallsyms_stub.S: the empty symbol table of the first link (guest.mk replaces it). */

.section .kallsyms, "a"
.p2align 2
.globl kallsyms_table
kallsyms_table:
    .long 0                       /* number of symbols */
