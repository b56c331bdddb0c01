; empty.elf: prints one line and exits at once — the startup baseline of an emulator.
;
; Instruction count by construction: mov esp 1 + TSC_BEGIN 2 + TSC_END 2 + combine 2
;   + report with its MOV ESI (prefix "empty sum=", n = 10) 14*10 + 387 = 527 + EXIT 3
;   total = 537
; Printed line: "empty sum=00000000 tsc=00000002" where the TSC counts instructions (RDTSC, MOV).

%include "common.inc"

section .rodata
s_name: db "empty sum=", 0

section .text
global _start
_start:
    mov   esp, stack_top                ; 1
    TSC_BEGIN                           ; 2
    TSC_END                             ; 2  EAX = delta
    mov   ebp, eax                      ; combine 1
    xor   edi, edi                      ;         2  checksum = 0
    mov   esi, s_name                   ; (counted in report's 14*n + 387)
    call  report
    EXIT
