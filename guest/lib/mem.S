/* mem.S: memset, memcpy, memmove, memcmp: the C memory primitives Swift code calls, */
/* linked into the kernel and into the user binary alike. */

.text

/* memset(dst, byte, n) -> dst: fill n bytes at dst with the low byte of `byte`. */
.globl memset
.type memset, @function
memset:
    pushl %edi
    movl 8(%esp), %edi
    movzbl 12(%esp), %eax
    movl 16(%esp), %ecx
    movl %edi, %edx
    rep stosb
    movl %edx, %eax
    popl %edi
    ret

/* memcpy(dst, src, n) -> dst: copy n bytes; the regions must not overlap. */
.globl memcpy
.type memcpy, @function
memcpy:
    pushl %edi
    pushl %esi
    movl 12(%esp), %edi
    movl 16(%esp), %esi
    movl 20(%esp), %ecx
    movl %edi, %eax
    rep movsb
    popl %esi
    popl %edi
    ret

/* memmove(dst, src, n) -> dst: copy n bytes; the regions may overlap. */
.globl memmove
.type memmove, @function
memmove:
    pushl %edi
    pushl %esi
    movl 12(%esp), %edi
    movl 16(%esp), %esi
    movl 20(%esp), %ecx
    movl %edi, %eax
    cmpl %esi, %edi
    jbe 1f                        /* dst <= src: forward copy is safe */
    leal -1(%esi,%ecx), %esi      /* dst > src: copy backwards from the last byte */
    leal -1(%edi,%ecx), %edi
    std
    rep movsb
    cld
    jmp 2f
1:  rep movsb
2:  popl %esi
    popl %edi
    ret

/* memcmp(a, b, n) -> <0, 0, >0 as the first differing byte of a is below, equal or */
/* above that of b (bytes compared unsigned). */
.globl memcmp
.type memcmp, @function
memcmp:
    pushl %edi
    pushl %esi
    movl 12(%esp), %esi
    movl 16(%esp), %edi
    movl 20(%esp), %ecx
    xorl %eax, %eax
    testl %ecx, %ecx
    jz 3f
    repe cmpsb
    je 3f
    movzbl -1(%esi), %eax
    movzbl -1(%edi), %edx
    subl %edx, %eax
3:  popl %esi
    popl %edi
    ret
