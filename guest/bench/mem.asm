; mem.elf: load/store loop over a 1 MiB buffer (base+index*4 loads and stores, add, and, loop), 300 M instructions.
;
; One sequential index (EDI, +1 dword) and one strided index (ESI, +4099 dwords, so nearly
; every iteration lands on another 4 KiB page) over BUFDW = 262144 dwords, wrapping by AND.
; Instruction count by construction (ITERS = 30,000,000; each COM1 poll succeeds at once):
;   mov esp 1 + TSC_BEGIN 2 + setup 5 + loop 10*ITERS + TSC_END 2 + combine 3
;   + report with its MOV ESI (prefix "mem sum=", n = 8) 14*8 + 387 = 499 + EXIT 3
;   total = 10*ITERS + 515 = 300,000,515
; Printed line: "mem sum=8C5C9F1E tsc=11E1A308"; tsc = 10*ITERS + 8 = 300,000,008 where the TSC counts
; instructions (from the first RDTSC inclusive to the second exclusive; QEMU -icount shift=0 agrees).

%include "common.inc"

%ifndef ITERS
%define ITERS 30000000
%endif
BUFDW  equ 262144                       ; 1 MiB of dwords
MASK   equ BUFDW - 1
STRIDE equ 4099                         ; dwords: odd, so ESI visits every slot

section .bss
alignb 4096
buffer: resd BUFDW + 1                  ; +1: the load at [EDI*4 + 4] may read one past the end

section .rodata
s_name: db "mem sum=", 0

section .text
global _start
_start:
    mov   esp, stack_top                ; 1
    TSC_BEGIN                           ; 2
    mov   ebx, buffer                   ; setup 1  base
    mov   ecx, ITERS                    ;       2  LOOP counter
    mov   edx, 0x2545F491               ;       3  running value
    xor   esi, esi                      ;       4  strided index
    xor   edi, edi                      ;       5  sequential index
.loop:
    mov   eax, [ebx + esi*4]            ; 1  load
    add   eax, edx                      ; 2
    mov   [ebx + edi*4], eax            ; 3  store
    mov   edx, [ebx + edi*4 + 4]        ; 4  load
    add   edx, eax                      ; 5
    add   esi, STRIDE                   ; 6
    and   esi, MASK                     ; 7
    inc   edi                           ; 8
    and   edi, MASK                     ; 9
    loop  .loop                         ; 10
    mov   edi, edx                      ; combine 1  (EDX is about to be clobbered by rdtsc)
    TSC_END                             ; 2  EAX = delta
    mov   ebp, eax                      ; combine 2
    xor   edi, [ebx + 4*1000]           ;         3  EDI = checksum
    mov   esi, s_name                   ; (counted in report's 14*n + 387)
    call  report
    EXIT
