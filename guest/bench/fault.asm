; fault.elf: a million #PF round trips at CPL 0: the handler maps the faulting page and IRETs, the loop unmaps it again.
;
; Own GDT (flat code 0x08, data 0x10) and IDT (vectors 0..14; only 14 present: an interrupt
; gate to pf_handler; anything else ends in a triple fault). Paging: PT0 identity-maps 0..4 MiB,
; PTW covers the window WIN = 0x40000000..0x403FFFFF and starts empty. pf_handler maps the page
; holding CR2 onto physical PHYS + (page index)*4096 (writes its PTE), adds CR2 and the error code
; to two sums, counts the fault and IRETs, so the faulting instruction runs again and succeeds.
; Each loop iteration faults twice: a load from page A = WIN (error code 0) and a store to
; page B = WIN + 4096 (error code 2); it then stores to A (mapped now: no fault), clears both
; PTEs and INVLPGs both pages, so the next iteration faults again. An emulator that misses an
; INVLPG, or caches a not-present translation, prints a fault count below 2*ITERS.
;
; Retired-instruction convention: an instruction that raises #PF is not retired (Intel's
; INST_RETIRED, QEMU -icount); it retires once, when it re-executes after the IRET.
; Instruction count by construction (ITERS = 500,000; each COM1 poll succeeds at once):
;   pf_handler H = 17 per fault; loop L = 11 + 2*H = 45 per iteration
;   mov esp 1 + GDT 8 + IDT 6 + identity PT 3 + 5*1024 + PDEs 2 + paging on 5
;   + TSC_BEGIN 2 + setup 2 + L*ITERS + TSC_END 2 + combine 4
;   + faults line: mov esi 1 + puts("faults=") 1 + 14*7 + 5 + mov eax 1 + puthex 139 + mov esi 1 + puts("\n") 20
;   + report with its MOV ESI (prefix "fault sum=", n = 10) 14*10 + 387 = 527 + EXIT 3
;   total = 45*ITERS + 5951 = 22,505,951
; Printed lines: "faults=000F4240" (2*ITERS) and "fault sum=5E9050FA tsc=015752A5"; tsc = 45*ITERS + 5
; = 22,500,005 where the TSC counts retired instructions (first RDTSC inclusive to the second exclusive).

%include "common.inc"

%ifndef ITERS
%define ITERS 500000
%endif
WIN     equ 0x40000000                  ; linear base of the fault window (PDE 256)
PHYS    equ 0x01000000                  ; physical frame of window page 0 (16 MiB)
PTE_PW  equ 3                           ; present | writable (supervisor)
SEL_CODE equ 0x08
SEL_DATA equ 0x10

section .bss align=4096
alignb 4096
pgdir:  resd 1024                       ; page directory
pt0:    resd 1024                       ; identity map of 0..4 MiB
ptw:    resd 1024                       ; the window's page table (all not present at start)
idt:    resq 15                         ; vectors 0..14
pf_count:  resd 1                       ; faults handled
pf_cr2sum: resd 1                       ; sum of CR2 over all faults
pf_errsum: resd 1                       ; sum of the error codes

section .rodata
align 8
gdt:    dq 0                            ; null
        dq 0x00CF9A000000FFFF           ; 0x08: code, base 0, limit 4 GiB, DPL 0
        dq 0x00CF92000000FFFF           ; 0x10: data, base 0, limit 4 GiB, DPL 0
gdt_ptr: dw 3*8 - 1
        dd gdt
idt_ptr: dw 15*8 - 1
        dd idt
s_faults: db "faults=", 0
s_name: db "fault sum=", 0

section .text

; pf_handler: #PF (interrupt gate, CPL 0, no stack switch; [ESP] = error code). Maps the page
; holding CR2 (window page index i -> PHYS + i*4096, present and writable), adds CR2 and the
; error code to their sums, counts the fault, IRETs. Preserves all registers. 17 instructions.
pf_handler:
    push  eax                           ; 1
    push  edx                           ; 2
    mov   eax, cr2                      ; 3  faulting linear address
    add   [pf_cr2sum], eax              ; 4
    mov   edx, [esp + 8]                ; 5  error code
    add   [pf_errsum], edx              ; 6
    shr   eax, 12                       ; 7
    and   eax, 0x3FF                    ; 8  PTE index in the window's table
    mov   edx, eax                      ; 9
    shl   edx, 12                       ; 10
    add   edx, PHYS + PTE_PW            ; 11
    mov   [ptw + eax*4], edx            ; 12 map the page
    inc   dword [pf_count]              ; 13
    pop   edx                           ; 14
    pop   eax                           ; 15
    add   esp, 4                        ; 16 drop the error code
    iret                                ; 17

global _start
_start:
    mov   esp, stack_top                ; 1
    ; GDT and segment registers
    lgdt  [gdt_ptr]                     ; 1
    jmp   SEL_CODE:.cs                  ; 2
.cs:
    mov   eax, SEL_DATA                 ; 3
    mov   ds, eax                       ; 4
    mov   es, eax                       ; 5
    mov   fs, eax                       ; 6
    mov   gs, eax                       ; 7
    mov   ss, eax                       ; 8
    ; IDT: vector 14 = 32-bit interrupt gate, DPL 0, SEL_CODE:pf_handler
    mov   eax, pf_handler               ; 1
    mov   [idt + 14*8], ax              ; 2  offset 15..0
    mov   dword [idt + 14*8 + 2], SEL_CODE | (0x8E00 << 16)  ; 3  selector, P=1 DPL=0 type 0xE
    shr   eax, 16                       ; 4
    mov   [idt + 14*8 + 6], ax          ; 5  offset 31..16
    lidt  [idt_ptr]                     ; 6
    ; identity PT: pt0[i] = i*4096 | P | W
    mov   edi, pt0                      ; 1
    mov   eax, PTE_PW                   ; 2
    mov   ecx, 1024                     ; 3
.id:
    mov   [edi], eax                    ; 1
    add   eax, 4096                     ; 2
    add   edi, 4                        ; 3
    dec   ecx                           ; 4
    jnz   .id                           ; 5
    mov   dword [pgdir], pt0 + PTE_PW   ; PDE 1
    mov   dword [pgdir + (WIN >> 22)*4], ptw + PTE_PW  ; PDE 2
    ; paging on (the code runs identity-mapped, so no jump is needed)
    mov   eax, pgdir                    ; 1
    mov   cr3, eax                      ; 2
    mov   eax, cr0                      ; 3
    or    eax, 0x80000000               ; 4  CR0.PG
    mov   cr0, eax                      ; 5

    TSC_BEGIN                           ; 2
    mov   ebx, WIN                      ; setup 1  page A; page B = A + 4096
    mov   ecx, ITERS                    ;       2  (A's frame starts zeroed)
.loop:
    mov   eax, [ebx]                    ; 1  load A: #PF (error code 0), mapped, re-executed
    rol   eax, 3                        ; 2
    add   eax, ecx                      ; 3
    mov   [ebx + 4096], eax             ; 4  store B: #PF (error code 2), mapped, re-executed
    mov   [ebx], eax                    ; 5  store A: present now, no fault
    mov   dword [ptw], 0                ; 6  unmap A
    mov   dword [ptw + 4], 0            ; 7  unmap B
    invlpg [ebx]                        ; 8
    invlpg [ebx + 4096]                 ; 9
    dec   ecx                           ; 10
    jnz   .loop                         ; 11
    mov   edi, eax                      ; combine 1  (EDX/EAX are about to be clobbered by rdtsc)
    TSC_END                             ; 2  EAX = delta
    mov   ebp, eax                      ; combine 2
    xor   edi, [pf_cr2sum]              ;         3
    add   edi, [pf_errsum]              ;         4  EDI = checksum
    mov   esi, s_faults                 ; faults line
    call  puts
    mov   eax, [pf_count]
    call  puthex
    mov   esi, s_nl
    call  puts
    mov   esi, s_name                   ; (counted in report's 14*n + 387)
    call  report
    EXIT
