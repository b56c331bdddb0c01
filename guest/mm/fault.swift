// fault.swift: do_page_fault: user faults (VMA lookup, stack growth, SIGSEGV), exception-table fixups, kernel oopses.

// Page fault error code bits (pushed by the CPU).
let PF_PROT: UInt32 = 1 << 0     // 0: not-present page, 1: protection violation
let PF_WRITE: UInt32 = 1 << 1    // the access was a write
let PF_USER: UInt32 = 1 << 2     // the access came from ring 3

/// do_page_fault(f, address): handle #PF at address (CR2). A user address in a VMA
/// that allows the access (or just below a stack VMA, which then grows) gets its page
/// from handle_mm_fault: a minor fault, or a major one when it waited for the disk. Otherwise: from user mode, the
/// "segfault at" log line and SIGSEGV; from the kernel inside copy_user/clear_user,
/// resume at the exception table's fixup (-EFAULT); any other kernel fault is an oops.
func do_page_fault(_ f: UnsafeMutablePointer<TrapFrame>, _ address: UInt32) {
    let err = f.pointee.error
    let mm = Sched.current == 0 ? 0 : current().pointee.mm     // no tasks yet: every fault is an oops
    let user = user_mode(f)
    if address < TASK_SIZE && mm != 0 { Vmstat.pgfault &+= 1 }
    if address < TASK_SIZE && mm != 0 && (user || search_exception_table(f.pointee.eip) != 0) {
        let v = find_vma(mm, address)
        var good = v != 0
        var code = SEGV_MAPERR
        if good && vmap(v).pointee.start > address {
            good = false
            if vmap(v).pointee.flags & VM_GROWSDOWN != 0 {
                // Linux's i386 sanity check: an access far below ESP is a bug, not growth.
                let sp = user ? f.pointee.useresp : address
                if address &+ 65536 &+ 32 &* 4 >= sp && expand_stack(mm, v, address) {
                    good = true
                    fault_event(kind: "stack-grow", pid: fault_pid(), addr: address, pfn: 0)
                }
            }
        }
        if good {
            code = SEGV_ACCERR
            let flags = vmap(v).pointee.flags
            if err & PF_WRITE != 0 {
                good = flags & VM_WRITE != 0
            } else {
                good = err & PF_PROT == 0 && flags & (VM_READ | VM_EXEC) != 0
            }
        }
        if good {
            switch handle_mm_fault(mm, v, address, err & PF_WRITE != 0) {
            case .ok:
                current().pointee.minflt &+= 1
                return
            case .major:
                current().pointee.majflt &+= 1
                Vmstat.pgmajfault &+= 1
                return
            case .sigbus:
                printk(.err).cstr(comm_addr(Sched.current)).s("[").u(current().pointee.pid).s("]: bus error at ")
                    .xr(address, 0).s(" (I/O error)").end()
                do_exit(SIGBUS)
            case .oom:
                printk(.err).s("Out of memory: killed process ").u(current().pointee.pid).s(" (").cstr(comm_addr(Sched.current)).s(")").end()
                do_exit(SIGKILL)
            }
        }
        if user {
            segfault(f, address, code)
            return
        }
    }
    if !user && fixup_exception(f) {
        fault_event(kind: "fixup", pid: fault_pid(), addr: address, pfn: 0)
        return
    }
    if user {
        segfault(f, address, err & PF_PROT != 0 ? SEGV_ACCERR : SEGV_MAPERR)   // kernel space
        return
    }
    if is_vmalloc_guard(address) {
        fault_event(kind: "vmalloc-guard", pid: fault_pid(), addr: address, pfn: 0)
    }
    fault_event(kind: "oops", pid: fault_pid(), addr: address, pfn: 0)
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

/// segfault(f, address, code): a bad user access: Linux's log line (only when no
/// handler will catch it), then SIGSEGV with si_addr and si_code.
func segfault(_ f: UnsafeMutablePointer<TrapFrame>, _ address: UInt32, _ code: UInt32) {
    let t = Sched.current
    if unhandled(t, SIGSEGV) {
        let line = printk(.info).cstr(comm_addr(t)).s("[").u(task(t).pointee.pid).s("]: segfault at ")
        line.xr(address, 0).s(" ip ").xr(f.pointee.eip, 8).s(" sp ").xr(f.pointee.useresp, 8)
            .s(" error ").xr(f.pointee.error, 0).end()
    }
    fault_event(kind: "segv", pid: Int(task(t).pointee.pid), addr: address, pfn: 0)
    force_sig_fault(SIGSEGV, address, f)
    task(t).pointee.sigCode = code
}

@_extern(c, "x86_ex_table") func x86_ex_table() -> UInt32
@_extern(c, "x86_ex_table_end") func x86_ex_table_end() -> UInt32

/// search_exception_table(eip) -> the fixup address for a faulting kernel instruction
/// listed in __ex_table, or 0.
func search_exception_table(_ eip: UInt32) -> UInt32 {
    var e = x86_ex_table()
    while e < x86_ex_table_end() {
        let w = ptr(e, UInt32.self)
        if w[0] == eip { return w[1] }
        e &+= 8
    }
    return 0
}

/// fixup_exception(f) -> true if the faulting instruction has a fixup: EIP now points
/// at it (copy_user and clear_user then return the bytes left: -EFAULT to callers).
func fixup_exception(_ f: UnsafeMutablePointer<TrapFrame>) -> Bool {
    let fix = search_exception_table(f.pointee.eip)
    if fix == 0 { return false }
    f.pointee.eip = fix
    return true
}

extension Printk {
    /// xr(v, digits): append v in lower-case hex without "0x", zero-padded to digits
    /// (0: as many as needed), as Linux's %lx / %08lx.
    @discardableResult func xr(_ v: UInt32, _ digits: Int) -> Printk {
        if on { fmt_hex_digits(UInt64(v), digits: digits, Console.putc) }
        return self
    }
}

/// is_vmalloc_guard(a) -> true if a lies in the guard page of a vmalloc area.
func is_vmalloc_guard(_ a: UInt32) -> Bool {
    if a < Layout.vmallocStart || a >= VMALLOC_END { return false }
    let v = find_vm_area(a)
    if v == 0 { return false }
    let s = vm(v).pointee
    return a >= s.addr &+ s.size &- PAGE_SIZE
}

/// describe_address(a): say which part of the address map a falls in (and which
/// vmalloc area, if its guard page).
func describe_address(_ a: UInt32) {
    let line = printk(.alert).s("#PF: address in ")
    if a < PAGE_SIZE {
        line.s("the NULL page")
    } else if a < PAGE_OFFSET {
        line.s("user space")
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
