// faultlog.swift: the fault-event channel: one text line per fault classification on debug I/O port 0x402.

// Every point where the fault paths decide what a fault was calls fault_event. The line
// goes to port 0x402 (QEMU: -device isa-debugcon,iobase=0x402,chardev=...; swift86:
// boot --events FILE turns each line into a JSON event), never to the serial console,
// so the console output is the same with or without a listener (without the device the
// writes are ignored). Format, one line per event:
//     kind=<kind> pid=<decimal> addr=0x<8 hex digits> pfn=0x<hex>\n
// Kinds and where they are emitted (pfn 0: no frame):
//     minor          handle_mm_fault: a new page (demand-zero, or file contents copied in); pfn = the new frame
//     cow-copy       do_wp_page: the shared page copied; pfn = the new frame
//     cow-reuse      do_wp_page: the only user made the page writable; pfn = that frame
//     stack-grow     do_page_fault: expand_stack grew a VM_GROWSDOWN VMA down to addr
//     segv           segfault: SIGSEGV for a bad user access at addr
//     fixup          do_page_fault: copy_from_user/copy_to_user/clear_user resumed at its exception-table fixup
//     oops           do_page_fault (addr = CR2) or trap_dispatch (addr = EIP): a kernel fault that halts
//     kmap           flush_all_zero_pkmaps: the persistent kmap window wrapped and was flushed; addr = PKMAP_BASE
//     vmalloc-guard  do_page_fault: a kernel access to a vmalloc guard page (an oops follows)
//     major          not emitted yet: there is no disk, so no fault ever waits for I/O.

let FAULTLOG_PORT: UInt16 = 0x402   // the debug I/O port (QEMU's isa-debugcon)

/// fault_event(kind, pid, addr, pfn): write one event line to the debug port. No
/// allocation, no console output.
func fault_event(kind: StaticString, pid: Int, addr: UInt32, pfn: UInt32) {
    faultlog_s("kind=")
    faultlog_s(kind)
    faultlog_s(" pid=")
    faultlog_dec(UInt32(truncatingIfNeeded: pid))
    faultlog_s(" addr=0x")
    faultlog_hex(addr, 8)
    faultlog_s(" pfn=0x")
    faultlog_hex(pfn, 0)
    outb(FAULTLOG_PORT, 0x0A)
}

/// fault_pid() -> the pid to report for a fault now: the current task's, 0 before any
/// task exists or in the idle task.
func fault_pid() -> Int {
    Sched.current == 0 ? 0 : Int(current().pointee.pid)
}

/// faultlog_s(s): write the bytes of s to the debug port.
private func faultlog_s(_ s: StaticString) {
    let p = s.utf8Start
    for i in 0..<s.utf8CodeUnitCount { outb(FAULTLOG_PORT, p[i]) }
}

/// faultlog_dec(v): write v in decimal to the debug port.
private func faultlog_dec(_ v: UInt32) {
    fmt_udec(UInt64(v)) { outb(FAULTLOG_PORT, $0) }
}

/// faultlog_hex(v, digits): write v in lower-case hex, zero-padded to digits (0: as
/// many as needed, at least one).
private func faultlog_hex(_ v: UInt32, _ digits: Int) {
    fmt_hex_digits(UInt64(v), digits: digits) { outb(FAULTLOG_PORT, $0) }
}
