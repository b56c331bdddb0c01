// vmalloc.swift: virtually contiguous kernel areas from scattered pages, one guard page each; /proc/vmallocinfo.

/// VmStruct: one vmalloc area (struct vm_struct), kmalloc'ed, on a list sorted by address.
struct VmStruct {
    var next: UInt32         // next area (address of its VmStruct) or 0
    var addr: UInt32         // first virtual address
    var size: UInt32         // bytes of address space, the guard page included
    var nrPages: UInt32      // pages mapped (size / PAGE_SIZE - 1)
    var pages: UInt32        // kmalloc'ed array of nrPages pfns
    var caller: StaticString // who asked (vmallocinfo)
}

/// Vmalloc: the area list and the counters meminfo reports.
struct Vmalloc {
    static var list: UInt32 = 0       // first VmStruct (lowest address) or 0
    static var usedPages: UInt32 = 0  // pages backing live areas (VmallocUsed)
    static var areas: UInt32 = 0      // live areas
}

/// vm(a) -> the VmStruct at address a.
@inline(__always) func vm(_ a: UInt32) -> UnsafeMutablePointer<VmStruct> { ptr(a, VmStruct.self) }

/// get_vm_area(size, caller) -> a new VmStruct for size bytes (rounded to pages) plus a
/// guard page, placed first-fit in [VMALLOC_START, VMALLOC_END) and linked in, or 0
/// when no hole is big enough (or kmalloc fails). Nothing is mapped yet.
func get_vm_area(_ size: UInt32, _ caller: StaticString) -> UInt32 {
    if size == 0 || size > VMALLOC_END &- Layout.vmallocStart { return 0 }
    let total = ((size &+ PAGE_SIZE &- 1) & PAGE_MASK) &+ PAGE_SIZE
    var prev: UInt32 = 0
    var cur = Vmalloc.list
    var start = Layout.vmallocStart
    while cur != 0 {
        if vm(cur).pointee.addr &- start >= total { break }
        start = vm(cur).pointee.addr &+ vm(cur).pointee.size
        prev = cur
        cur = vm(cur).pointee.next
    }
    if VMALLOC_END &- start < total { return 0 }
    let a = kmalloc(UInt32(MemoryLayout<VmStruct>.stride), GFP_KERNEL)
    if a == 0 { return 0 }
    vm(a).pointee = VmStruct(next: cur, addr: start, size: total, nrPages: 0, pages: 0, caller: caller)
    if prev == 0 { Vmalloc.list = a } else { vm(prev).pointee.next = a }
    Vmalloc.areas &+= 1
    return a
}

/// remove_vm_area(a): unlink VmStruct a from the list and free it.
func remove_vm_area(_ a: UInt32) {
    var prev: UInt32 = 0
    var cur = Vmalloc.list
    while cur != 0 && cur != a { prev = cur; cur = vm(cur).pointee.next }
    if cur == 0 { panic("remove_vm_area: area not on the list") }
    if prev == 0 { Vmalloc.list = vm(a).pointee.next } else { vm(prev).pointee.next = vm(a).pointee.next }
    Vmalloc.areas &-= 1
    kfree(a)
}

/// find_vm_area(va) -> the VmStruct whose range (guard page included) holds va, or 0.
func find_vm_area(_ va: UInt32) -> UInt32 {
    var cur = Vmalloc.list
    while cur != 0 {
        let v = vm(cur).pointee
        if va >= v.addr && va &- v.addr < v.size { return cur }
        cur = v.next
    }
    return 0
}

/// __vmalloc(size, gfp, caller) -> the start of size bytes of virtually contiguous
/// kernel memory backed by order-0 pages from gfp's zones (GFP_HIGHUSER: highmem
/// first), or 0 when either address space or pages run out (all undone then).
func __vmalloc(_ size: UInt32, _ gfp: UInt32, _ caller: StaticString) -> UInt32 {
    let a = get_vm_area(size, caller)
    if a == 0 { return 0 }
    let n = (vm(a).pointee.size >> PAGE_SHIFT) &- 1
    let pages = kmalloc(n &* 4, GFP_KERNEL)
    if pages == 0 { remove_vm_area(a); return 0 }
    let pfns = ptr(pages, UInt32.self)
    vm(a).pointee.pages = pages
    let base = vm(a).pointee.addr
    var i: UInt32 = 0
    while i < n {
        let pfn = alloc_pages(gfp, 0)
        if pfn == NIL_PFN { break }
        page(pfn).pointee.flags |= PG_vmalloc
        pfns[Int(i)] = pfn
        set_pte(base &+ (i << PAGE_SHIFT), pfn, PAGE_KERNEL)
        i &+= 1
        vm(a).pointee.nrPages = i
    }
    Vmalloc.usedPages &+= i
    if i < n {
        vfree(base)
        return 0
    }
    return base
}

/// vmalloc(size) -> __vmalloc(size, GFP_HIGHUSER, "vmalloc").
func vmalloc(_ size: UInt32) -> UInt32 { __vmalloc(size, GFP_HIGHUSER, "vmalloc") }

/// vfree(va): unmap the area starting at va (INVLPG per page), free its pages and its
/// VmStruct. 0 is ignored; panics on an address that starts no area.
func vfree(_ va: UInt32) {
    if va == 0 { return }
    let a = find_vm_area(va)
    if a == 0 || vm(a).pointee.addr != va { panic("vfree: not the start of a vmalloc area") }
    let v = vm(a).pointee
    let pfns = ptr(v.pages, UInt32.self)
    for i in 0..<v.nrPages {
        let page_va = v.addr &+ (i << PAGE_SHIFT)
        set_pte(page_va, 0, 0)
        __flush_tlb_one(page_va)
        free_pages(pfns[Int(i)], 0)
    }
    Vmalloc.usedPages &-= v.nrPages
    kfree(v.pages)
    remove_vm_area(a)
}

/// show_vmallocinfo(): /proc/vmallocinfo: one line per area, lowest address first.
func show_vmallocinfo() {
    var cur = Vmalloc.list
    if cur == 0 { printk(.info).s("(no vmalloc areas)").end() }
    while cur != 0 {
        let v = vm(cur).pointee
        var high: UInt32 = 0
        for i in 0..<v.nrPages where PageHighMem(ptr(v.pages, UInt32.self)[Int(i)]) { high &+= 1 }
        printk(.info).hex32(v.addr).s("-").hex32(v.addr &+ v.size).s(" ").udw(v.size, 8).s(" ")
            .s(v.caller).s(" pages=").u(v.nrPages).s(" vmalloc highmem=").u(high).end()
        cur = v.next
    }
}
