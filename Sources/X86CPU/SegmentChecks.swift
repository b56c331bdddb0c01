// SegmentChecks: limit and type checks of data accesses (SDM Vol. 3 5.3–5.6), off the fast path.

extension CPU {
    /// Recompute which segments may skip checks on the fast path: usable, expand-up, a
    /// 4 GiB limit, and readable (`segFastR`) or writable data (`segFastW`). Called after
    /// any segment register changes (cold).
    func refreshSegmentChecks() {
        var fr: UInt8 = 0, fw: UInt8 = 0
        for s in 0..<6 {
            let a = segAttr[s]
            guard a != 0, segLimit[s] == 0xFFFF_FFFF else { continue }
            let isCode = a & 0x18 == 0x18, isData = a & 0x18 == 0x10
            let expandDown = isData && a & 0x4 != 0
            if expandDown { continue }
            if isData || (isCode && a & 0x2 != 0) { fr |= 1 << UInt8(s) }
            if isData && a & 0x2 != 0 { fw |= 1 << UInt8(s) }
        }
        segFastR = fr
        segFastW = fw
    }

    /// Check a `size`-byte access at `seg:off`: the segment must be usable, of a type that
    /// allows the access (no reads of execute-only code, no writes to code or read-only
    /// data), and the bytes within the limit (expand-down: above the limit, up to 64 KiB
    /// or 4 GiB by the B bit). Violations raise #SS(0) through SS, #GP(0) otherwise.
    @inline(never)
    func checkSegment(_ seg: Int, _ off: UInt32, _ size: Int, write: Bool) throws(Fault) {
        let a = segAttr[seg]
        let fault = seg == 2 ? Fault(Fault.ss, 0) : Fault.gp0()
        let last = UInt64(off) &+ UInt64(size) &- 1
        if !protectedMode || flagBits & EFLAGS.VM != 0 {
            if last > UInt64(segLimit[seg]) { throw fault }
            return
        }
        if a == 0 { throw fault }                       // null selector
        let isCode = a & 0x8 != 0
        if write ? (isCode || a & 0x2 == 0) : (isCode && a & 0x2 == 0) { throw fault }
        if !isCode && a & 0x4 != 0 {
            let upper: UInt64 = a & 0x4000 != 0 ? 0xFFFF_FFFF : 0xFFFF
            if UInt64(off) <= UInt64(segLimit[seg]) || last > upper { throw fault }
        } else if last > UInt64(segLimit[seg]) {
            throw fault
        }
    }
}
