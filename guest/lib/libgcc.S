/* libgcc.S: 64-bit shift helpers (libgcc names) and the Swift runtime's missing nonatomic entry points. */

.text

/* __ashldi3(a, n) -> a << n for a 64-bit a (EDX:EAX), 0 <= n < 64. */
.globl __ashldi3
.type __ashldi3, @function
__ashldi3:
    movl 4(%esp), %eax
    movl 8(%esp), %edx
    movl 12(%esp), %ecx
    testb $32, %cl
    jnz 1f
    shldl %cl, %eax, %edx
    shll %cl, %eax
    ret
1:  movl %eax, %edx
    xorl %eax, %eax
    shll %cl, %edx                /* the CPU masks the count to n - 32 */
    ret

/* __lshrdi3(a, n) -> a >> n, logical, for a 64-bit a, 0 <= n < 64. */
.globl __lshrdi3
.type __lshrdi3, @function
__lshrdi3:
    movl 4(%esp), %eax
    movl 8(%esp), %edx
    movl 12(%esp), %ecx
    testb $32, %cl
    jnz 1f
    shrdl %cl, %edx, %eax
    shrl %cl, %edx
    ret
1:  movl %edx, %eax
    xorl %edx, %edx
    shrl %cl, %eax
    ret

/* __ashrdi3(a, n) -> a >> n, arithmetic, for a 64-bit a, 0 <= n < 64. */
.globl __ashrdi3
.type __ashrdi3, @function
__ashrdi3:
    movl 4(%esp), %eax
    movl 8(%esp), %edx
    movl 12(%esp), %ecx
    testb $32, %cl
    jnz 1f
    shrdl %cl, %edx, %eax
    sarl %cl, %edx
    ret
1:  movl %edx, %eax
    sarl $31, %edx
    sarl %cl, %eax
    ret

/*
 * swift_nonatomic_{retain,release}[_n]: emitted under -assume-single-threaded, but the
 * embedded runtime of Swift 6.3.1 does not define them. Upstream later defines them as
 * plain calls of the atomic versions; these tail calls do the same (same C arguments).
 */
.globl swift_nonatomic_retain
.type swift_nonatomic_retain, @function
swift_nonatomic_retain:
    jmp swift_retain

.globl swift_nonatomic_retain_n
.type swift_nonatomic_retain_n, @function
swift_nonatomic_retain_n:
    jmp swift_retain_n

.globl swift_nonatomic_release
.type swift_nonatomic_release, @function
swift_nonatomic_release:
    jmp swift_release

.globl swift_nonatomic_release_n
.type swift_nonatomic_release_n, @function
swift_nonatomic_release_n:
    jmp swift_release_n
