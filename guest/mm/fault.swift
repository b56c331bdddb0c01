// fault.swift: the page fault handler; with no user space yet, every fault is a kernel oops.

// Page fault error code bits (pushed by the CPU).
let PF_PROT: UInt32 = 1 << 0     // 0: not-present page, 1: protection violation
let PF_WRITE: UInt32 = 1 << 1    // the access was a write
let PF_USER: UInt32 = 1 << 2     // the access came from ring 3

/// do_page_fault(f, address): handle #PF at address (CR2). Kernel faults have no fixup
/// here: report the oops (address, what it hit, error code, EIP with the function's
/// name, registers) and panic. Never returns.
func do_page_fault(_ f: UnsafeMutablePointer<TrapFrame>, _ address: UInt32) {
    let err = f.pointee.error
    let line = printk(.alert).s("BUG: unable to handle page fault for address: ").hex32(address)
    line.end()
    printk(.alert).s("#PF: ").s(err & PF_USER != 0 ? "user" : "supervisor")
        .s(err & PF_WRITE != 0 ? " write" : " read").s(" access in ")
        .s(err & PF_USER != 0 ? "user" : "kernel").s(" mode").end()
    printk(.alert).s("#PF: error_code(").hex(err, 4).s(") - ")
        .s(err & PF_PROT != 0 ? "permissions violation" : "not-present page").end()
    describe_address(address)
    printk(.emerg).s("Oops: ").hex(err, 4).s(" [#1]").end()
    show_regs(f.pointee, "oops")
    panic("do_page_fault: kernel oops")
}

/// describe_address(a): say which part of the address map a falls in (and which
/// vmalloc area, if its guard page).
func describe_address(_ a: UInt32) {
    let line = printk(.alert).s("#PF: address in ")
    if a < PAGE_SIZE {
        line.s("the NULL page")
    } else if a < PAGE_OFFSET {
        line.s("user space (no user mappings yet)")
    } else if a < Layout.highMemory {
        line.s("the direct map")
    } else if a >= Layout.vmallocStart && a < VMALLOC_END {
        let v = find_vm_area(a)
        if v == 0 {
            line.s("vmalloc space, no area")
        } else {
            let s = vm(v).pointee
            if a >= s.addr &+ s.size &- PAGE_SIZE {
                line.s("the guard page of vmalloc area ")
            } else {
                line.s("vmalloc area ")
            }
            line.hex32(s.addr).s("-").hex32(s.addr &+ s.size).s(" (").s(s.caller).s(")")
        }
    } else if a >= PKMAP_BASE && a < PKMAP_BASE &+ LAST_PKMAP &* PAGE_SIZE {
        line.s("the pkmap window")
    } else if a >= FIXADDR_START {
        line.s("the fixmap")
    } else {
        line.s("an unmapped hole")
    }
    line.end()
}
