// pgtable.swift: the kernel page directory (swapper_pg_dir): direct map, kernel page tables, TLB flushes.

// Page table entry bits.
let _PAGE_PRESENT: UInt32 = 1 << 0
let _PAGE_RW: UInt32 = 1 << 1
let _PAGE_USER: UInt32 = 1 << 2
let _PAGE_ACCESSED: UInt32 = 1 << 5
let _PAGE_DIRTY: UInt32 = 1 << 6
let _PAGE_PSE: UInt32 = 1 << 7         // in a PDE: a 4 MiB page
let _PAGE_GLOBAL: UInt32 = 1 << 8      // survives CR3 loads (CR4.PGE)
let _KERNPG_TABLE: UInt32 = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY   // PDE -> page table
let PAGE_KERNEL: UInt32 = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL
let PAGE_KERNEL_LARGE: UInt32 = PAGE_KERNEL | _PAGE_PSE
let X86_CR4_PSE: UInt32 = 1 << 4
let X86_CR4_PGE: UInt32 = 1 << 7

/// Pgtable: the kernel's page directory and what paging_init built.
struct Pgtable {
    static var swapperPgDir: UInt32 = 0     // virtual address of swapper_pg_dir
    static var kernelPageTables: UInt32 = 0 // page tables paging_init allocated
    static var largePages: UInt32 = 0       // 4 MiB direct-map entries
    static var userPageTables: UInt32 = 0   // page tables of user address spaces now allocated
}

/// pgd(va) -> &swapper_pg_dir[va >> 22].
@inline(__always) func pgd_entry(_ va: UInt32) -> UnsafeMutablePointer<UInt32> {
    ptr(Pgtable.swapperPgDir, UInt32.self) + Int(va >> PGDIR_SHIFT)
}

/// pte_ptr(va) -> &pte of kernel address va. Panics if no page table covers va (only
/// the direct map's tail, vmalloc, pkmap and fixmap have kernel page tables).
func pte_ptr(_ va: UInt32) -> UnsafeMutablePointer<UInt32> {
    let pde = pgd_entry(va).pointee
    if pde & _PAGE_PRESENT == 0 || pde & _PAGE_PSE != 0 { panic("pte_ptr: no page table for this address") }
    return ptr(__va(pde & PAGE_MASK), UInt32.self) + Int((va >> PAGE_SHIFT) & (PTRS_PER_PTE - 1))
}

/// set_pte(va, pfn, prot): map kernel page va to frame pfn (prot 0: unmap). The caller
/// flushes the TLB entry (__flush_tlb_one) when an old translation may be cached.
@inline(__always) func set_pte(_ va: UInt32, _ pfn: UInt32, _ prot: UInt32) {
    pte_ptr(va).pointee = prot == 0 ? 0 : (pfn << PAGE_SHIFT) | prot
}

/// __flush_tlb_one(va): INVLPG va.
@inline(__always) func __flush_tlb_one(_ va: UInt32) { x86_invlpg(va) }

/// __flush_tlb_all(): flush every TLB entry, global ones too (toggle CR4.PGE).
func __flush_tlb_all() {
    let cr4 = x86_read_cr4()
    x86_write_cr4(cr4 & ~X86_CR4_PGE)
    x86_write_cr4(cr4)
}

/// kernel_page_table(va): give the 4 MiB slot of va a zeroed page table from bootmem.
func kernel_page_table(_ va: UInt32) {
    let pde = pgd_entry(va)
    if pde.pointee & _PAGE_PRESENT != 0 { return }
    let pt = alloc_bootmem_pages(PAGE_SIZE)
    pde.pointee = __pa(pt) | _KERNPG_TABLE
    Pgtable.kernelPageTables &+= 1
}

/// paging_init(): build swapper_pg_dir: the direct map of lowmem with global 4 MiB
/// pages (4 KiB pages for a partial last 4 MiB), page tables for all of vmalloc, the
/// pkmap window and the fixmap; then switch CR3 to it and turn on CR4.PGE. The kernel
/// half of the directory never changes after this.
func paging_init() {
    Pgtable.swapperPgDir = alloc_bootmem_pages(PAGE_SIZE)
    let lowBytes = Layout.maxLowPfn << PAGE_SHIFT
    var phys: UInt32 = 0
    while phys &+ PGDIR_SIZE <= lowBytes {
        pgd_entry(__va(phys)).pointee = phys | PAGE_KERNEL_LARGE
        Pgtable.largePages &+= 1
        phys &+= PGDIR_SIZE
    }
    if phys < lowBytes {
        kernel_page_table(__va(phys))
        while phys < lowBytes {
            set_pte(__va(phys), phys >> PAGE_SHIFT, PAGE_KERNEL)
            phys &+= PAGE_SIZE
        }
    }
    var va = Layout.vmallocStart
    while va < VMALLOC_END {
        kernel_page_table(va)
        va = (va & ~(PGDIR_SIZE - 1)) &+ PGDIR_SIZE
    }
    kernel_page_table(PKMAP_BASE)
    kernel_page_table(FIXADDR_START)
    x86_write_cr3(__pa(Pgtable.swapperPgDir))
    x86_write_cr4(x86_read_cr4() | X86_CR4_PSE | X86_CR4_PGE)
}
