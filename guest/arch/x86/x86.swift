// x86.swift: Swift faces of the assembly helpers in io.S, layout.S and trap.S.

@_extern(c, "x86_outb") func x86_outb(_ port: UInt32, _ value: UInt32)
@_extern(c, "x86_inb") func x86_inb(_ port: UInt32) -> UInt32
@_extern(c, "x86_outw") func x86_outw(_ port: UInt32, _ value: UInt32)
@_extern(c, "x86_inw") func x86_inw(_ port: UInt32) -> UInt32
@_extern(c, "x86_outl") func x86_outl(_ port: UInt32, _ value: UInt32)
@_extern(c, "x86_inl") func x86_inl(_ port: UInt32) -> UInt32
@_extern(c, "x86_cpuid") func x86_cpuid(_ leaf: UInt32, _ subleaf: UInt32, _ out: UnsafeMutablePointer<UInt32>)
@_extern(c, "x86_lidt") func x86_lidt(_ desc: UnsafeRawPointer)
@_extern(c, "x86_read_cr0") func x86_read_cr0() -> UInt32
@_extern(c, "x86_read_cr2") func x86_read_cr2() -> UInt32
@_extern(c, "x86_trap_vectors") func x86_trap_vectors() -> UInt32
@_extern(c, "x86_idt_table") func x86_idt_table() -> UInt32
@_extern(c, "halt_forever") func x86_halt_forever()
@_extern(c, "kernel_start_addr") func kernel_start_addr() -> UInt32
@_extern(c, "kernel_end_addr") func kernel_end_addr() -> UInt32
@_extern(c, "early_heap_start_addr") func early_heap_start_addr() -> UInt32
@_extern(c, "early_heap_end_addr") func early_heap_end_addr() -> UInt32
@_extern(c, "text_start_addr") func text_start_addr() -> UInt32
@_extern(c, "text_end_addr") func text_end_addr() -> UInt32
@_extern(c, "data_start_addr") func data_start_addr() -> UInt32
@_extern(c, "data_end_addr") func data_end_addr() -> UInt32
@_extern(c, "bss_start_addr") func bss_start_addr() -> UInt32
@_extern(c, "bss_end_addr") func bss_end_addr() -> UInt32
@_extern(c, "early_page_dir_addr") func early_page_dir_addr() -> UInt32
@_extern(c, "gdt_table_addr") func gdt_table_addr() -> UInt32
@_extern(c, "gdt_desc_addr") func gdt_desc_addr() -> UInt32
@_extern(c, "boot_stack_top_addr") func boot_stack_top_addr() -> UInt32
@_extern(c, "kallsyms_table_addr") func kallsyms_table_addr() -> UInt32
@_extern(c, "x86_read_cr3") func x86_read_cr3() -> UInt32
@_extern(c, "x86_write_cr3") func x86_write_cr3(_ v: UInt32)
@_extern(c, "x86_read_cr4") func x86_read_cr4() -> UInt32
@_extern(c, "x86_write_cr4") func x86_write_cr4(_ v: UInt32)
@_extern(c, "x86_invlpg") func x86_invlpg(_ va: UInt32)
@_extern(c, "x86_sti") func x86_sti()
@_extern(c, "x86_cli") func x86_cli()
@_extern(c, "x86_read_eflags") func x86_read_eflags() -> UInt32
@_extern(c, "x86_write_eflags") func x86_write_eflags(_ v: UInt32)
@_extern(c, "x86_safe_halt") func x86_safe_halt()
@_extern(c, "x86_cpu_relax") func x86_cpu_relax()
@_extern(c, "x86_load_gdt") func x86_load_gdt(_ desc: UInt32)
@_extern(c, "x86_ltr") func x86_ltr(_ sel: UInt32)

/// outb(port, v): write byte v to I/O port `port`.
@inline(__always) func outb(_ port: UInt16, _ value: UInt8) {
    x86_outb(UInt32(port), UInt32(value))
}

/// inb(port) -> the byte read from I/O port `port`.
@inline(__always) func inb(_ port: UInt16) -> UInt8 {
    UInt8(truncatingIfNeeded: x86_inb(UInt32(port)))
}

@_extern(c, "x86_insw") func x86_insw(_ port: UInt32, _ buf: UInt32, _ count: UInt32)
@_extern(c, "x86_outsw") func x86_outsw(_ port: UInt32, _ buf: UInt32, _ count: UInt32)

/// outw(port, v): write the 16-bit v to I/O port `port`.
@inline(__always) func outw(_ port: UInt16, _ value: UInt16) {
    x86_outw(UInt32(port), UInt32(value))
}

/// inw(port) -> the 16-bit value read from I/O port `port`.
@inline(__always) func inw(_ port: UInt16) -> UInt16 {
    UInt16(truncatingIfNeeded: x86_inw(UInt32(port)))
}

/// outl(port, v): write the 32-bit v to I/O port `port`.
@inline(__always) func outl(_ port: UInt16, _ value: UInt32) {
    x86_outl(UInt32(port), value)
}

/// inl(port) -> the 32-bit value read from I/O port `port`.
@inline(__always) func inl(_ port: UInt16) -> UInt32 {
    x86_inl(UInt32(port))
}

/// halt_forever(): stop this CPU for good, interrupts off. Never returns.
func halt_forever() -> Never {
    while true { x86_halt_forever() }
}

/// CPUIDResult: the four registers CPUID returns.
struct CPUIDResult {
    var eax: UInt32   // EAX after CPUID
    var ebx: UInt32   // EBX after CPUID
    var ecx: UInt32   // ECX after CPUID
    var edx: UInt32   // EDX after CPUID
}

/// cpuid(leaf, subleaf) -> the registers CPUID returns for that leaf.
func cpuid(_ leaf: UInt32, _ subleaf: UInt32 = 0) -> CPUIDResult {
    var regs: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    withUnsafeMutablePointer(to: &regs) { p in
        p.withMemoryRebound(to: UInt32.self, capacity: 4) { x86_cpuid(leaf, subleaf, $0) }
    }
    return CPUIDResult(eax: regs.0, ebx: regs.1, ecx: regs.2, edx: regs.3)
}

/// local_irq_save() -> EFLAGS before disabling interrupts (for local_irq_restore).
@inline(__always) func local_irq_save() -> UInt32 {
    let f = x86_read_eflags()
    x86_cli()
    return f
}

/// local_irq_restore(flags): put IF back as local_irq_save found it.
@inline(__always) func local_irq_restore(_ flags: UInt32) {
    x86_write_eflags(flags)
}
