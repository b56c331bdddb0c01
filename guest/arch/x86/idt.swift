// idt.swift: the interrupt descriptor table; dispatch of exceptions, page faults and IRQs.

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
    var gs: UInt32       // pushed by trap_common
    var fs: UInt32       // pushed by trap_common
    var es: UInt32       // pushed by trap_common
    var ds: UInt32       // pushed by trap_common
    var vector: UInt32   // pushed by the stub
    var error: UInt32    // pushed by the CPU, or 0 by the stub
    var eip: UInt32      // pushed by the CPU
    var cs: UInt32       // pushed by the CPU (low 16 bits)
    var eflags: UInt32   // pushed by the CPU
    var useresp: UInt32  // pushed by the CPU only on a ring 3 -> 0 transition
    var ss: UInt32       // pushed by the CPU only on a ring 3 -> 0 transition
}

/// user_mode(f) -> true if the trap came from ring 3.
@inline(__always) func user_mode(_ f: UnsafeMutablePointer<TrapFrame>) -> Bool { f.pointee.cs & 3 == 3 }

let IDT_ENTRIES: UInt32 = 256         // gates in idt_table
let EFLAGS_RF: UInt32 = 1 << 16       // resume flag: the SDM sets it in a fault's pushed
                                      // EFLAGS, QEMU 7.2 does not; left out of reports
let GATE_INT32: UInt32 = 0x8E         // present, DPL 0, 32-bit interrupt gate
let GATE_INT32_USER: UInt32 = 0xEE    // present, DPL 3, 32-bit interrupt gate (int 0x80)
let SYSCALL_VECTOR: UInt32 = 0x80     // Linux's i386 system call gate
@_extern(c, "x86_syscall_vector") func x86_syscall_vector() -> UInt32

/// idt_set_gate(n, handler, type): point IDT entry n at handler (kernel CS) with type/attr.
func idt_set_gate(_ n: UInt32, _ handler: UInt32, _ typeAttr: UInt32) {
    if n >= IDT_ENTRIES { panic("idt_set_gate: vector out of range") }
    let gate = ptr(x86_idt_table() &+ n &* 8, UInt32.self)
    gate[0] = (__KERNEL_CS << 16) | (handler & 0xFFFF)
    gate[1] = (handler & 0xFFFF_0000) | (typeAttr << 8)
}

/// idt_init(): install interrupt gates for exceptions 0-31 and IRQs 0-15 (vectors
/// 32-47) and load IDTR. Vectors 48-255 stay not-present (a stray one becomes #GP).
func idt_init() {
    let vectors = ptr(x86_trap_vectors(), UInt32.self)
    for n in 0..<UInt32(48) {
        idt_set_gate(n, vectors[Int(n)], GATE_INT32)
    }
    idt_set_gate(SYSCALL_VECTOR, x86_syscall_vector(), GATE_INT32_USER)
    // IDTR image: 16-bit limit then 32-bit base, packed in 6 bytes.
    var desc: (UInt16, UInt16, UInt16) = (UInt16(IDT_ENTRIES * 8 - 1), 0, 0)
    let base = x86_idt_table()
    desc.1 = UInt16(truncatingIfNeeded: base)
    desc.2 = UInt16(truncatingIfNeeded: base >> 16)
    withUnsafePointer(to: &desc) { x86_lidt(UnsafeRawPointer($0)) }
}

/// trap_dispatch(frame): called by trap_common for every exception, IRQ and system
/// call. Page faults go to do_page_fault, IRQs to their handler (then EOI), int 0x80 to
/// do_syscall; an exception from user mode becomes a signal (#GP and friends: SIGSEGV,
/// #UD: SIGILL, #DE: SIGFPE); any other exception in the kernel is a bug: report the
/// frame and panic. On the way back to user mode: reschedule and deliver signals.
@_cdecl("trap_dispatch")
func trap_dispatch(_ frame: UnsafeMutableRawPointer) {
    let f = frame.assumingMemoryBound(to: TrapFrame.self)
    let vector = f.pointee.vector
    if vector >= IRQ0_VECTOR && vector < IRQ0_VECTOR + 16 {
        let irq = vector - IRQ0_VECTOR
        pic_eoi(irq)
        if irq == 0 { timer_interrupt() }
    } else if vector == SYSCALL_VECTOR {
        do_syscall(f)
    } else if vector == 14 {
        do_page_fault(f, x86_read_cr2())
    } else if user_mode(f) {
        do_user_trap(f, vector)
    } else {
        fault_event(kind: "oops", pid: fault_pid(), addr: f.pointee.eip, pfn: 0)
        show_regs(f.pointee, "exception")
        switch vector {
        case 0: panic("trap_dispatch: divide error")
        case 6: panic("trap_dispatch: invalid opcode (Swift runtime trap?)")
        case 13: panic("trap_dispatch: general protection fault")
        default: panic("trap_dispatch: unexpected exception")
        }
    }
    if user_mode(f) { exit_to_user_mode(f) }
}

/// show_regs(f, what): log the trap frame: vector, error code, EIP with its symbol, and
/// the registers.
func show_regs(_ f: TrapFrame, _ what: StaticString) {
    printk(.emerg).s(what).s(": trap ").u(f.vector).s(" err=").hex32(f.error)
        .s(" eip=").hex32(f.eip).s(" cs=").hex32(f.cs & 0xFFFF).s(" eflags=").hex32(f.eflags & ~EFLAGS_RF).end()
    let line = printk(.emerg).s("EIP: ")
    print_symbol(line, f.eip)
    line.end()
    printk(.emerg).s("EAX: ").hex32(f.eax).s(" EBX: ").hex32(f.ebx).s(" ECX: ").hex32(f.ecx)
        .s(" EDX: ").hex32(f.edx).end()
    printk(.emerg).s("ESI: ").hex32(f.esi).s(" EDI: ").hex32(f.edi).s(" EBP: ").hex32(f.ebp)
        .s(" ESP: ").hex32(f.cs & 3 == 3 ? f.useresp : f.esp0 &+ 36).end()
    printk(.emerg).s("CR2: ").hex32(x86_read_cr2()).s(" CR3: ").hex32(x86_read_cr3())
        .s(" CR4: ").hex32(x86_read_cr4()).end()
}
