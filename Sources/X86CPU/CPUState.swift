// CPUState: the whole architectural (and interpreter-visible) state of a CPU, for snapshots.

/// A copy of everything that determines how a CPU continues: registers, flags (lazy
/// state included), segment caches, descriptor-table registers, control and debug
/// registers, the instruction count and pending events. Restoring it flushes the TLB
/// and the decoded-block cache, which are caches of guest memory, not state.
public struct CPUState: Sendable {
    var r: [UInt32]
    var eip: UInt32
    var flagBits: UInt32, fOp: UInt32, fRes: UInt32, fA: UInt32, fB: UInt32, fCarry: UInt32
    var segSel: [UInt16], segBase: [UInt32], segLimit: [UInt32], segAttr: [UInt32]
    var cpl: UInt8
    var gdtrBase: UInt32, gdtrLimit: UInt16, idtrBase: UInt32, idtrLimit: UInt16
    var ldtrSel: UInt16, ldtrBase: UInt32, ldtrLimit: UInt32, ldtrAttr: UInt32
    var trSel: UInt16, trBase: UInt32, trLimit: UInt32, trAttr: UInt32
    var code32: Bool, stack32: Bool
    var cr0: UInt32, cr2: UInt32, cr3: UInt32, cr4: UInt32
    var dr: [UInt32]
    /// Retired instructions at the time of the snapshot.
    public var icount: UInt64
    var tscOffset: UInt64
    var halted: Bool, shutdownReason: String?
    var pendingEvents: UInt32, interruptShadow: Bool, debugShadow: Bool
    var vectorCounts: [UInt64]
}

extension CPU {
    /// Capture the CPU's state.
    public func saveState() -> CPUState {
        CPUState(r: (0..<9).map { r[$0] }, eip: eip,
                 flagBits: flagBits, fOp: fOp, fRes: fRes, fA: fA, fB: fB, fCarry: fCarry,
                 segSel: (0..<6).map { segSel[$0] }, segBase: (0..<6).map { segBase[$0] },
                 segLimit: (0..<6).map { segLimit[$0] }, segAttr: (0..<6).map { segAttr[$0] },
                 cpl: cpl, gdtrBase: gdtrBase, gdtrLimit: gdtrLimit, idtrBase: idtrBase, idtrLimit: idtrLimit,
                 ldtrSel: ldtrSel, ldtrBase: ldtrBase, ldtrLimit: ldtrLimit, ldtrAttr: ldtrAttr,
                 trSel: trSel, trBase: trBase, trLimit: trLimit, trAttr: trAttr,
                 code32: code32, stack32: stack32, cr0: cr0, cr2: cr2, cr3: cr3, cr4: cr4, dr: dr,
                 icount: icount, tscOffset: tscOffset, halted: halted, shutdownReason: shutdownReason,
                 pendingEvents: pendingEvents & ~Event.stop, interruptShadow: interruptShadow,
                 debugShadow: debugShadow, vectorCounts: vectorCounts)
    }

    /// Put the CPU back into a saved state. Guest memory must be restored separately
    /// (before or after); the TLB and the decoded-block cache are dropped.
    public func restoreState(_ s: CPUState) {
        for i in 0..<9 { r[i] = s.r[i] }
        r[8] = 0
        eip = s.eip
        flagBits = s.flagBits; fOp = s.fOp; fRes = s.fRes; fA = s.fA; fB = s.fB; fCarry = s.fCarry
        for i in 0..<6 { segSel[i] = s.segSel[i]; segBase[i] = s.segBase[i]; segLimit[i] = s.segLimit[i]; segAttr[i] = s.segAttr[i] }
        gdtrBase = s.gdtrBase; gdtrLimit = s.gdtrLimit; idtrBase = s.idtrBase; idtrLimit = s.idtrLimit
        ldtrSel = s.ldtrSel; ldtrBase = s.ldtrBase; ldtrLimit = s.ldtrLimit; ldtrAttr = s.ldtrAttr
        trSel = s.trSel; trBase = s.trBase; trLimit = s.trLimit; trAttr = s.trAttr
        code32 = s.code32; stack32 = s.stack32
        cr0 = s.cr0; cr2 = s.cr2; cr3 = s.cr3; cr4 = s.cr4; dr = s.dr
        icount = s.icount; tscOffset = s.tscOffset; halted = s.halted; shutdownReason = s.shutdownReason
        pendingEvents = s.pendingEvents | Event.irq; interruptShadow = s.interruptShadow; debugShadow = s.debugShadow
        vectorCounts = s.vectorCounts
        setCPL(s.cpl)
        refreshSegmentChecks()
        tlb.flushAll(keepGlobal: false)
        cache.flush()
        cache.codePage.update(repeating: 0, count: max(cache.ramPages, 1))
    }
}
