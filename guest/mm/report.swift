// report.swift: the memory reports: Linux's boot banner, zone ranges, /proc/meminfo.

/// kb(bytes) -> bytes in KiB.
@inline(__always) func kb(_ bytes: UInt32) -> UInt32 { bytes >> 10 }

/// layout_line(name, start, end): one banner line "    name : 0x..-0x.. (size)", the
/// size in kB below 8 MiB and in MB from there, as Linux prints it.
func layout_line(_ name: StaticString, _ start: UInt32, _ end: UInt32) {
    let size = end &- start
    let line = printk(.info).s("    ").padl(name, 8).s(": ").hex32(start).s(" - ").hex32(end).s("   (")
    if size >= 8 << 20 { line.udw(size >> 20, 4).s(" MB)") } else { line.udw(kb(size), 4).s(" kB)") }
    line.end()
}

/// print_memory_layout(): Linux's "virtual kernel memory layout" banner.
func print_memory_layout() {
    printk(.info).s("virtual kernel memory layout:").end()
    layout_line("fixmap", FIXADDR_START, FIXADDR_TOP)
    layout_line("pkmap", PKMAP_BASE, PKMAP_BASE &+ LAST_PKMAP &* PAGE_SIZE)
    layout_line("vmalloc", Layout.vmallocStart, VMALLOC_END)
    layout_line("lowmem", PAGE_OFFSET, Layout.highMemory)
    layout_line("  .bss", bss_start_addr(), bss_end_addr())
    layout_line("  .data", data_start_addr(), data_end_addr())
    layout_line("  .text", text_start_addr(), text_end_addr())
}

/// print_zones(): the zone ranges (physical) and each zone's page counts.
func print_zones() {
    printk(.info).s("Zone ranges:").end()
    for z in 0..<MAX_NR_ZONES {
        let zn = zone(z).pointee
        let line = printk(.info).s("  ").padl(zone_name(z), 9)
        if zn.endPfn == zn.startPfn { line.s("empty").end(); continue }
        line.s("[mem ").hex64(UInt64(zn.startPfn) << 12).s("-")
            .hex64((UInt64(zn.endPfn) << 12) &- 1).s("]").end()
    }
    for z in 0..<MAX_NR_ZONES {
        let zn = zone(z).pointee
        printk(.info).s("  zone ").padl(zone_name(z), 8).s(" present ").udw(zn.present, 6)
            .s("  managed ").udw(zn.managed, 6).s("  free ").udw(zn.freePages, 6).end()
    }
    printk(.info).s("Memory: ").u(nr_free_pages() << 2).s("K/").u((Mm.totalRamPages &+ Mm.reservedPages) << 2)
        .s("K available (").u(Mm.reservedPages << 2).s("K reserved, ").u(Layout.maxPfn &- Layout.maxLowPfn > 0 ? (zone(ZONE_HIGHMEM).pointee.managed << 2) : 0)
        .s("K highmem)").end()
}

/// meminfo_line(name, kbytes): one /proc/meminfo line ("%-16s%8u kB").
func meminfo_line(_ name: StaticString, _ kbytes: UInt32) {
    printk(.info).padl(name, 16).udw(kbytes, 8).s(" kB").end()
}

/// show_meminfo(): /proc/meminfo, the fields this kernel keeps.
func show_meminfo() {
    let high = zone(ZONE_HIGHMEM).pointee
    let total = Mm.totalRamPages
    let free = nr_free_pages()
    meminfo_line("MemTotal:", total << 2)
    meminfo_line("MemFree:", free << 2)
    meminfo_line("HighTotal:", high.managed << 2)
    meminfo_line("HighFree:", high.freePages << 2)
    meminfo_line("LowTotal:", (total &- high.managed) << 2)
    meminfo_line("LowFree:", (free &- high.freePages) << 2)
    meminfo_line("Cached:", Cache.nrPages << 2)
    meminfo_line("SwapCached:", Swap.cached << 2)
    meminfo_line("SwapTotal:", Swap.slots > 0 ? (Swap.slots &- 1) << 2 : 0)
    meminfo_line("SwapFree:", Swap.free << 2)
    meminfo_line("Slab:", Slab.slabPages << 2)
    meminfo_line("PageTables:", (Pgtable.kernelPageTables &+ Pgtable.userPageTables) << 2)
    meminfo_line("VmallocTotal:", kb(VMALLOC_END &- Layout.vmallocStart))
    meminfo_line("VmallocUsed:", Vmalloc.usedPages << 2)
    meminfo_line("DirectMap4k:", (Layout.maxLowPfn &- (Pgtable.largePages << 10)) << 2)
    meminfo_line("DirectMap4M:", Pgtable.largePages << 12)
}
