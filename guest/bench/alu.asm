; alu.elf: a tight register-only ALU loop (add/xor/mov/shl/sub/and/inc/cmp/jnz), 500 M instructions.
;
; Instruction count by construction (ITERS = 50,000,000; each COM1 poll succeeds at once):
;   mov esp 1 + TSC_BEGIN 2 + seeds 4 + loop 10*ITERS + TSC_END 2 + combine 3
;   + report with its MOV ESI (prefix "alu sum=", n = 8) 14*8 + 387 = 499 + EXIT 3
;   total = 10*ITERS + 514 = 500,000,514
; Printed line: "alu sum=4F2947D7 tsc=1DCD6506"; tsc = 10*ITERS + 6 = 500,000,006 where the TSC counts
; instructions (from the first RDTSC inclusive to the second exclusive; QEMU -icount shift=0 agrees).

%include "common.inc"

%ifndef ITERS
%define ITERS 50000000
%endif

section .rodata
s_name: db "alu sum=", 0

section .text
global _start
_start:
    mov   esp, stack_top                ; 1
    TSC_BEGIN                           ; 2
    mov   ebx, 0x12345678               ; seeds 1
    mov   ecx, 0x9E3779B9               ;       2
    xor   esi, esi                      ;       3  iteration counter
    mov   edi, 0xDEADBEEF               ;       4  accumulator
.loop:
    add   ebx, ecx                      ; 1
    xor   ecx, ebx                      ; 2
    mov   ebp, ebx                      ; 3
    shl   ebp, 3                        ; 4
    sub   ecx, ebp                      ; 5
    and   ebp, ecx                      ; 6
    add   edi, ebp                      ; 7
    inc   esi                           ; 8
    cmp   esi, ITERS                    ; 9
    jnz   .loop                         ; 10
    TSC_END                             ; 2  EAX = delta
    mov   ebp, eax                      ; combine 1
    xor   edi, ebx                      ;         2
    add   edi, ecx                      ;         3  EDI = checksum
    mov   esi, s_name                   ; (counted in report's 14*n + 387)
    call  report
    EXIT
