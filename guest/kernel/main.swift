// main.swift: kmain, the first Swift code to run: console, traps, memory management, self-tests, exit.

/// kmain(magic, info): called once by boot.S on the boot stack, paging on (early map),
/// with the multiboot magic (EAX) and the physical info address (EBX). Sets up the
/// CPU tables, memory management and the timer, prints the memory reports, runs the
/// self-tests the command line asks for, and exits through the debug-exit port with
/// the command line's exit=N (default 0); panics on a bad boot or a failed self-test.
@_cdecl("kmain")
func kmain(_ magic: UInt32, _ info: UInt32) {
    console_init()
    gdt_init()
    idt_init()
    early_heap_init()

    printk(.info).s("swift86 guest kernel 0.2 (Embedded Swift, i686, 3G/1G split)").end()
    printk(.info).s("kernel: ").hex32(kernel_start_addr()).s("-").hex32(kernel_end_addr())
        .s(" (physical ").hex32(__pa(kernel_start_addr())).s("-").hex32(__pa(kernel_end_addr())).s(")").end()

    multiboot_init(magic, info)
    if let level = cmdline_param("loglevel=") { Console.loglevel = UInt8(truncatingIfNeeded: level) }
    print_multiboot()
    print_cpu()

    setup_memory()
    mem_map_init()
    paging_init()
    kmap_init()
    kmem_cache_init()
    mem_init()
    printk(.info).s("paging: swapper_pg_dir at ").hex32(Pgtable.swapperPgDir).s(", ").u(Pgtable.largePages)
        .s(" 4 MiB direct-map pages, ").u(Pgtable.kernelPageTables).s(" kernel page tables, bootmem ")
        .u(kb(Bootmem.next &- Bootmem.start)).s(" KiB").end()

    pic_init()
    pit_init()
    wait_for_tick()
    printk(.info).s("timer: PIT at ").u(HZ).s(" Hz on IRQ 0, ticking").end()
    ata_init()                                      // silent when there is no disk

    print_memory_layout()
    print_zones()
    printk(.info).s("buddyinfo:").end()
    show_buddyinfo()
    printk(.info).s("meminfo:").end()
    show_meminfo()

    let failures = selftest_run()
    printk(.info).s("heap: ").u(RuntimeHeap.total).s(" runtime allocations, ").u(RuntimeHeap.live)
        .s(" live").end()
    if failures != 0 {
        printk(.err).u(failures).s(" self-test check(s) failed").end()
        panic("kmain: self-test failed")
    }
    mm_selftests()
    if cmdline_has("disktest") { ata_disktest() }

    if let what = cmdline_param("crash=") { crash(what) }

    let initPath = cmdline_find("init=")
    if initPath != 0 { start_userspace(initPath) }

    let code = cmdline_param("exit=") ?? 0
    printk(.info).s("boot complete, exit code ").u(code).end()
    exit_machine(code)
}

/// crash(what): fail on purpose so tests can watch the failure paths. 1: panic;
/// 2: a Swift runtime trap (array index out of range: ud2, #UD); 3: divide error (#DE).
/// Every case ends in panic; other values are ignored.
@inline(never)
func crash(_ what: UInt32) {
    printk(.notice).s("crash=").u(what).s(" requested on the command line").end()
    switch what {
    case 1:
        panic("crash: requested on the command line")
    case 2:
        let a = [UInt32](repeating: 7, count: 4)
        let v = a[Int(what) + 2]                    // index 4 of 4: traps
        printk(.info).u(v).end()
    case 3:
        var r: UInt32 = 0
        let q = x86_divl(0, 1, opaque32(0), &r)     // DIV by zero: #DE
        printk(.info).u(q).end()
    default:
        return
    }
    panic("crash: the failure did not happen")
}

/// opaque32(v) -> v, hidden from the optimizer.
@inline(never) func opaque32(_ v: UInt32) -> UInt32 { v }

/// mmapTypeName(t) -> the memory map type's name as the multiboot spec calls it.
func mmapTypeName(_ t: UInt32) -> StaticString {
    switch t {
    case 1: return "usable"
    case 2: return "reserved"
    case 3: return "ACPI reclaimable"
    case 4: return "ACPI NVS"
    case 5: return "bad"
    default: return "unknown"
    }
}

/// print_multiboot(): log the multiboot information: flags, memory sizes, the memory
/// map, the command line and the modules (each with a CRC-32 of its contents).
func print_multiboot() {
    let mbi = Boot.info
    printk(.info).s("multiboot: magic=").hex32(Boot.magic).s(" flags=").hex32(mbi.flags).end()
    if mbi.flags & MBI_MEMORY != 0 {
        printk(.info).s("memory: lower=").u(mbi.memLower).s(" KiB upper=").u(mbi.memUpper)
            .s(" KiB").end()
    }
    if mbi.flags & MBI_MMAP != 0 {
        printk(.info).s("memory map (").u(mbi.mmapLength).s(" bytes):").end()
        var usable: UInt64 = 0
        var top: UInt64 = 0
        mmap_foreach { i, r in
            printk(.info).s("  ").u(i).s(": base=").hex64(r.base).s(" length=").hex64(r.length)
                .s(" type=").u(r.type).s(" (").s(mmapTypeName(r.type)).s(")").end()
            if r.type == 1 {
                usable &+= r.length
                if r.base &+ r.length > top { top = r.base &+ r.length }
            }
        }
        printk(.info).s("usable RAM: ").u(usable >> 10).s(" KiB (").u(usable >> 20)
            .s(" MiB), top of RAM ").hex64(top).end()
    } else {
        printk(.warning).s("memory map: none").end()
    }
    let line = cmdline_addr()
    if line != 0 {
        printk(.info).s("cmdline: \"").cstr(line).s("\"").end()
    } else {
        printk(.info).s("cmdline: none").end()
    }
    if mbi.flags & MBI_MODS != 0 {
        printk(.info).s("modules: ").u(mbi.modsCount).end()
        for i in 0..<mbi.modsCount {
            let m = module_at(i)
            if m.modEnd < m.modStart { panic("print_multiboot: module ends before it starts") }
            let size = m.modEnd &- m.modStart
            printk(.info).s("  ").u(i).s(": start=").hex32(m.modStart).s(" end=").hex32(m.modEnd)
                .s(" size=").u(size).s(" crc32=").hex32(crc32(__va(m.modStart), size))
                .s(" cmdline=\"").cstr(m.string == 0 ? 0 : __va(m.string)).s("\"").end()
        }
    } else {
        printk(.info).s("modules: none").end()
    }
}

/// print_cpu(): log the CPUID vendor string and which of the features this kernel uses
/// (PSE, TSC, CX8, PGE, CMOV) leaf 1 reports. The highest leaf and the other feature
/// bits differ between CPU models (QEMU's qemu32 vs swift86's P6), so they stay out.
func print_cpu() {
    let l0 = cpuid(0)
    let p = printk(.info).s("cpu: vendor \"")
    for reg in [l0.ebx, l0.edx, l0.ecx] {
        for k in 0..<4 { p.c(UInt8(truncatingIfNeeded: reg >> UInt32(k * 8))) }
    }
    p.s("\"").end()
    if l0.eax >= 1 {
        let l1 = cpuid(1)
        let q = printk(.info).s("cpu: features")
        if l1.edx & (1 << 3) != 0 { q.s(" pse") }
        if l1.edx & (1 << 4) != 0 { q.s(" tsc") }
        if l1.edx & (1 << 8) != 0 { q.s(" cx8") }
        if l1.edx & (1 << 13) != 0 { q.s(" pge") }
        if l1.edx & (1 << 15) != 0 { q.s(" cmov") }
        q.end()
    }
}

/// cmdline_find(key) -> the address of the value after "key" (which includes the "=")
/// at the start of a word of the command line, or 0.
func cmdline_find(_ key: StaticString) -> UInt32 {
    let line = cmdline_addr()
    if line == 0 { return 0 }
    let s = ptr(line, UInt8.self)
    var i = 0
    while s[i] != 0 {
        if (i == 0 || s[i - 1] == 0x20) && cstr_prefix(line &+ UInt32(i), key) {
            return line &+ UInt32(i + key.utf8CodeUnitCount)
        }
        i += 1
    }
    return 0
}

/// start_userspace(arg): the process part of the boot: the task and mm caches, the
/// idle task, pid 1 from init=PATH (the rest of the command line after PATH is its
/// argv), then the idle loop. Never returns (init's exit powers off).
func start_userspace(_ arg: UInt32) -> Never {
    vma_init()
    sched_init()
    // The path ends at the first space: copy it out so it is NUL-terminated.
    var n: UInt32 = 0
    while ptr(arg &+ n, UInt8.self).pointee != 0 && ptr(arg &+ n, UInt8.self).pointee != 0x20 { n &+= 1 }
    let path = kmalloc(n &+ 1, GFP_KERNEL)
    memcpy_k(path, arg, n)
    ptr(path &+ n, UInt8.self).pointee = 0
    // The root file system: s86fs on the disk if there is one, else the initramfs.
    if !s86fs_mount() { printk(.info).s("initramfs: ").u(nr_inodes()).s(" files").end() }
    swap_init()
    reclaim_init()
    printk(.info).s("Run ").cstr(path).s(" as init process").end()
    spawn_init(path, arg &+ n)
    kfree(path)
    cpu_idle()
}
