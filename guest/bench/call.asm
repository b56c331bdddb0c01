; call.elf: call/ret-heavy recursive Fibonacci with push/pop frames, 301.6 M instructions.
;
; fib(n) costs, counting the CALL that enters it: a = 4 for n < 2 (call, cmp, jb, ret),
; b = 12 for n >= 2 plus both children, so I(n) = b + I(n-1) + I(n-2), I(0) = I(1) = a,
; which solves to I(n) = (a+b)*F(n+1) - b = 16*F(n+1) - 12 (F(1) = F(2) = 1).
; Instruction count by construction (N = 30, REPS = 14; each COM1 poll succeeds at once):
;   mov esp 1 + TSC_BEGIN 2 + setup 2 + REPS*(4 + I(N)) + TSC_END 2 + combine 1
;   + report with its MOV ESI (prefix "call sum=", n = 9) 14*9 + 387 = 513 + EXIT 3
;   total = REPS*(16*F(N+1) - 8) + 524 = 14*(16*1346269 - 8) + 524 = 301,564,668
; Printed line: "call sum=00B1BE30 tsc=11F980F4" (sum = REPS*fib(N) = 14*832040); tsc = total - 520
; = 301,564,148 where the TSC counts instructions (first RDTSC inclusive to the second exclusive).

%include "common.inc"

%ifndef N
%define N 30
%endif
%ifndef REPS
%define REPS 14
%endif

section .rodata
s_name: db "call sum=", 0

section .text

; fib: EAX = n -> EAX = fib(n). Preserves EBX (saved on the stack across the calls).
fib:
    cmp   eax, 2                        ; 1
    jb    .base                         ; 2
    push  ebx                           ; 3
    push  eax                           ; 4
    dec   eax                           ; 5
    call  fib                           ;    (counted in the child)
    mov   ebx, eax                      ; 6
    pop   eax                           ; 7
    sub   eax, 2                        ; 8
    call  fib                           ;    (counted in the child)
    add   eax, ebx                      ; 9
    pop   ebx                           ; 10
    ret                                 ; 11  -> b = 11 + the CALL into this frame = 12
.base:
    ret                                 ; a = call, cmp, jb, ret = 4

global _start
_start:
    mov   esp, stack_top                ; 1
    TSC_BEGIN                           ; 2
    mov   esi, REPS                     ; setup 1
    xor   edi, edi                      ;       2  sum of results
.outer:
    mov   eax, N                        ; 1
    call  fib                           ;    I(N), including this CALL
    add   edi, eax                      ; 2
    dec   esi                           ; 3
    jnz   .outer                        ; 4
    TSC_END                             ; 2  EAX = delta
    mov   ebp, eax                      ; combine 1
    mov   esi, s_name                   ; (counted in report's 14*n + 387)
    call  report
    EXIT
