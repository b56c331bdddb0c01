// kallsyms.swift: address-to-function-name lookup for oops reports (table made by guest.mk).

// Table layout (guest.mk's second link; the first link has an empty table):
//   UInt32 count, then count entries (UInt32 address, UInt32 name offset) sorted by
//   address, then the NUL-terminated names (demangled, simplified Swift names). The
//   entry past the last function is _etext.

/// kallsyms_lookup(a) -> (entry index, start address, size) of the function holding a,
/// or nil when a is outside .text or the table is empty.
func kallsyms_lookup(_ a: UInt32) -> (Int, UInt32, UInt32)? {
    let t = ptr(kallsyms_table_addr(), UInt32.self)
    let n = Int(t[0])
    if n < 2 || a < t[1] || a >= t[1 + 2 * (n - 1)] { return nil }
    var lo = 0, hi = n - 1               // invariant: addr(lo) <= a < addr(hi)
    while hi - lo > 1 {
        let mid = (lo + hi) / 2
        if t[1 + 2 * mid] <= a { lo = mid } else { hi = mid }
    }
    let start = t[1 + 2 * lo]
    var next = lo + 1
    while next < n - 1 && t[1 + 2 * next] == start { next += 1 }
    return (lo, start, t[1 + 2 * next] &- start)
}

/// print_symbol(line, a): append "name+0xoff/0xsize" for a, or its hex value if unknown.
func print_symbol(_ line: Printk, _ a: UInt32) {
    guard let (i, start, size) = kallsyms_lookup(a) else {
        line.hex32(a)
        return
    }
    let t = ptr(kallsyms_table_addr(), UInt32.self)
    let n = Int(t[0])
    let names = kallsyms_table_addr() &+ 4 &+ UInt32(n) &* 8
    line.cstr(names &+ t[2 + 2 * i], max: 120).s("+").x(a &- start).s("/").x(size)
}
