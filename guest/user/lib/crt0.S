/* crt0.S: the user runtime's assembly: _start, the int 0x80 stub, free (memory primitives: guest/lib/mem.S). */
.text
/* _start: the kernel leaves argc at (%esp), argv after it: call umain(argc, argv), */
/* then exit with its result. */
.globl _start
.type _start, @function
_start:
    movl %esp, %eax
    leal 4(%eax), %ecx
    andl $-16, %esp
    subl $8, %esp
    pushl %ecx
    pushl (%eax)
    call umain
    movl %eax, %ebx
    movl $1, %eax
    int $0x80
    hlt

/* syscall6(nr, a, b, c, d, e, f) -> EAX: Linux i386 ABI, arguments in EBX..EBP. */
.globl syscall6
.type syscall6, @function
syscall6:
    pushl %ebx
    pushl %esi
    pushl %edi
    pushl %ebp
    movl 20(%esp), %eax
    movl 24(%esp), %ebx
    movl 28(%esp), %ecx
    movl 32(%esp), %edx
    movl 36(%esp), %esi
    movl 40(%esp), %edi
    movl 44(%esp), %ebp
    int $0x80
    popl %ebp
    popl %edi
    popl %esi
    popl %ebx
    ret

/* sig_restorer: SA_RESTORER trampoline: rt_sigreturn. */
.globl sig_restorer
.type sig_restorer, @function
sig_restorer:
    movl $173, %eax
    int $0x80

/* priv_cli / priv_hlt: privileged instructions (ring 3: #GP). */
.globl priv_hlt
priv_hlt:
    hlt
    ret

/* free(p): the runtime's allocations come from a bump arena: nothing to do. */
.globl free
free:
    ret

/* load_from(addr) -> the word at addr; store_to(addr, v): a word to addr. For the */
/* segfault demos (Swift would trap on a null pointer before the CPU could). */
.globl load_from
load_from:
    movl 4(%esp), %eax
    movl (%eax), %eax
    ret

.globl store_to
store_to:
    movl 4(%esp), %eax
    movl 8(%esp), %edx
    movl %edx, (%eax)
    ret

/* stack_recurse(n) -> n: recurse n levels with 1 KiB frames, writing the lowest */
/* word of each: the stack VMA grows a page every 4 levels. */
.globl stack_recurse
stack_recurse:
    movl 4(%esp), %eax
    subl $1024, %esp
    movl %eax, (%esp)
    testl %eax, %eax
    jz 1f
    decl %eax
    pushl %eax
    call stack_recurse
    addl $4, %esp
    incl %eax
1:  addl $1024, %esp
    ret
