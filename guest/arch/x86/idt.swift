// idt.swift: the interrupt descriptor table; CPU exceptions end in a panic with a report.

/// TrapFrame: what trap.S leaves on the stack, lowest address first.
struct TrapFrame {
    var edi: UInt32      // pushal
    var esi: UInt32      // pushal
    var ebp: UInt32      // pushal
    var esp0: UInt32     // pushal: ESP before pushal (unused)
    var ebx: UInt32      // pushal
    var edx: UInt32      // pushal
    var ecx: UInt32      // pushal
    var eax: UInt32      // pushal
    var vector: UInt32   // pushed by the stub
    var error: UInt32    // pushed by the CPU, or 0 by the stub
    var eip: UInt32      // pushed by the CPU
    var cs: UInt32       // pushed by the CPU (low 16 bits)
    var eflags: UInt32   // pushed by the CPU
}

let KERNEL_CS: UInt32 = 0x08          // flat kernel code selector (boot.S gdt)
let IDT_ENTRIES: UInt32 = 256         // gates in idt_table
let GATE_INT32: UInt32 = 0x8E         // present, DPL 0, 32-bit interrupt gate

/// idt_set_gate(n, handler, type): point IDT entry n at handler (kernel CS) with type/attr.
func idt_set_gate(_ n: UInt32, _ handler: UInt32, _ typeAttr: UInt32) {
    if n >= IDT_ENTRIES { panic("idt_set_gate: vector out of range") }
    let gate = physPtr(x86_idt_table() &+ n &* 8, UInt32.self)
    gate[0] = (KERNEL_CS << 16) | (handler & 0xFFFF)
    gate[1] = (handler & 0xFFFF_0000) | (typeAttr << 8)
}

/// idt_init(): install interrupt gates for exceptions 0-31 and load IDTR.
/// Vectors 32-255 stay not-present (a stray interrupt becomes #GP, then a panic).
func idt_init() {
    let vectors = physPtr(x86_trap_vectors(), UInt32.self)
    for n in 0..<UInt32(32) {
        idt_set_gate(n, vectors[Int(n)], GATE_INT32)
    }
    // IDTR image: 16-bit limit then 32-bit base, packed in 6 bytes.
    var desc: (UInt16, UInt16, UInt16) = (UInt16(IDT_ENTRIES * 8 - 1), 0, 0)
    let base = x86_idt_table()
    desc.1 = UInt16(truncatingIfNeeded: base)
    desc.2 = UInt16(truncatingIfNeeded: base >> 16)
    withUnsafePointer(to: &desc) { x86_lidt(UnsafeRawPointer($0)) }
}

/// trap_dispatch(frame): called by trap_common for every exception. Kernel-mode
/// exceptions are bugs in this version: report the frame and panic. Never returns.
@_cdecl("trap_dispatch")
func trap_dispatch(_ frame: UnsafeMutableRawPointer) {
    let f = frame.load(as: TrapFrame.self)
    printk(.emerg).s("trap ").u(f.vector).s(" err=").hex32(f.error)
        .s(" eip=").hex32(f.eip).s(" cs=").hex32(f.cs & 0xFFFF).s(" eflags=").hex32(f.eflags).end()
    printk(.emerg).s("  eax=").hex32(f.eax).s(" ebx=").hex32(f.ebx).s(" ecx=").hex32(f.ecx)
        .s(" edx=").hex32(f.edx).end()
    printk(.emerg).s("  esi=").hex32(f.esi).s(" edi=").hex32(f.edi).s(" ebp=").hex32(f.ebp)
        .s(" cr2=").hex32(x86_read_cr2()).end()
    switch f.vector {
    case 0: panic("trap_dispatch: divide error")
    case 6: panic("trap_dispatch: invalid opcode (Swift runtime trap?)")
    case 13: panic("trap_dispatch: general protection fault")
    case 14: panic("trap_dispatch: page fault")
    default: panic("trap_dispatch: unexpected exception")
    }
}
