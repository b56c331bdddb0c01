// gdt.swift: Linux's i386 GDT (kernel/user code and data, flat) and the TSS.

let __KERNEL_CS: UInt32 = 0x60     // GDT entry 12, DPL 0 code
let __KERNEL_DS: UInt32 = 0x68     // GDT entry 13, DPL 0 data
let __USER_CS: UInt32 = 0x73       // GDT entry 14 | RPL 3
let __USER_DS: UInt32 = 0x7B       // GDT entry 15 | RPL 3
let GDT_ENTRY_TSS: UInt32 = 16     // TSS descriptor index (selector 0x80)
let TSS_SIZE: UInt32 = 104         // a 32-bit TSS without I/O bitmap

/// Tss: the one task-state segment (only SS0:ESP0 matter: the stack for ring 3 -> 0).
struct Tss {
    static var area: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                      UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                      UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                      UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)   // 104 bytes
}

/// gdt_init(): reload the GDT at its virtual address, fill in the TSS descriptor
/// (ESP0 = top of the boot stack, SS0 = __KERNEL_DS, no I/O bitmap) and load TR.
func gdt_init() {
    x86_load_gdt(gdt_desc_addr())
    let base = withUnsafeMutablePointer(to: &Tss.area) { p in
        p.withMemoryRebound(to: UInt32.self, capacity: 26) { w in
            w[1] = boot_stack_top_addr()          // ESP0
            w[2] = __KERNEL_DS                    // SS0
            w[25] = TSS_SIZE << 16                // I/O map base past the limit: no bitmap
            return addr(w)
        }
    }
    let limit = TSS_SIZE - 1
    let d = ptr(gdt_table_addr() &+ GDT_ENTRY_TSS &* 8, UInt32.self)
    d[0] = (base << 16) | (limit & 0xFFFF)
    d[1] = (base & 0xFF00_0000) | ((base >> 16) & 0xFF) | 0x0000_8900   // present, DPL 0, 32-bit TSS (available)
    x86_ltr(GDT_ENTRY_TSS << 3)
}
