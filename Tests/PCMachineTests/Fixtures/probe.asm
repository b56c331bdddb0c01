; probe.asm: multiboot kernel that dumps its entry state, the info structure, mmap, cmdlines and modules over COM1.
; Used by the tests (built with nasm + ld.lld) and by qemu-probe.sh to re-measure QEMU's values.
; probe: dump multiboot entry state over COM1 and exit via isa-debug-exit
bits 32
section .multiboot
align 4
    dd 0x1BADB002
    dd 0x00000003
    dd -(0x1BADB002 + 3)
section .bss
align 16
regs: resd 16
stack: resb 4096
stack_top:
section .text
global _start
_start:
    mov [regs+0], eax
    mov [regs+4], ebx
    mov [regs+8], ecx
    mov [regs+12], edx
    mov [regs+16], esi
    mov [regs+20], edi
    mov [regs+24], esp
    mov [regs+28], ebp
    pushfd
    pop dword [regs+32]
    mov ax, cs
    movzx eax, ax
    mov [regs+36], eax
    mov ax, ds
    movzx eax, ax
    mov [regs+40], eax
    mov ax, ss
    movzx eax, ax
    mov [regs+44], eax
    mov eax, cr0
    mov [regs+48], eax
    sgdt [regs+52]
    mov esp, stack_top
    ; print regs
    mov esi, regs
    mov ecx, 15
.r: lodsd
    call hex32
    mov al, ' '
    call putc
    loop .r
    mov al, 10
    call putc
    ; MBI 88 bytes as dwords
    mov esi, [regs+4]
    mov ecx, 22
.m: lodsd
    call hex32
    mov al, ' '
    call putc
    loop .m
    mov al, 10
    call putc
    ; mmap: from mmap_addr, length mmap_length bytes as dwords
    mov ebx, [regs+4]
    mov esi, [ebx+48]
    mov ecx, [ebx+44]
    shr ecx, 2
.mm: lodsd
    call hex32
    mov al, ' '
    call putc
    loop .mm
    mov al, 10
    call putc
    ; cmdline
    mov esi, [ebx+16]
    call puts
    ; boot loader name
    mov esi, [ebx+64]
    call puts
    ; modules
    mov edi, [ebx+24]
    mov ecx, [ebx+20]
    test ecx, ecx
    jz .done
.mod: mov eax, [edi]
    call hex32
    mov al, ' '
    call putc
    mov eax, [edi+4]
    call hex32
    mov al, ' '
    call putc
    mov eax, [edi+8]
    call hex32
    mov al, ' '
    call putc
    mov eax, [edi+12]
    call hex32
    mov al, ' '
    call putc
    mov esi, [edi+8]
    call puts
    ; first 16 bytes of module content
    mov esi, [edi]
    push ecx
    mov ecx, 4
.mc: lodsd
    call hex32
    mov al, ' '
    call putc
    loop .mc
    pop ecx
    mov al, 10
    call putc
    add edi, 16
    loop .mod
.done:
    mov al, 'E'
    call putc
    mov al, 10
    call putc
    mov dx, 0xf4
    mov al, 0
    out dx, al
    hlt
; puts: esi -> zstring, prints with quotes and newline
puts:
    push eax
    mov al, '"'
    call putc
.l: lodsb
    test al, al
    jz .e
    call putc
    jmp .l
.e: mov al, '"'
    call putc
    mov al, 10
    call putc
    pop eax
    ret
hex32:
    push ecx
    push eax
    mov ecx, 8
.h: rol eax, 4
    push eax
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .p
    add al, 7
.p: call putc
    pop eax
    loop .h
    pop eax
    pop ecx
    ret
putc:
    push edx
    push eax
    mov dx, 0x3fd
.w: in al, dx
    test al, 0x20
    jz .w
    pop eax
    mov dx, 0x3f8
    out dx, al
    pop edx
    ret
