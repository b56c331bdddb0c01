// MMUEvent: what the MMU reports to logs, the debugger and the event log.

/// An MMU event: CR3 writes, INVLPG, TLB flushes, failed page walks, double faults.
public enum MMUEvent: Sendable, CustomStringConvertible {
    /// CR3 was written (the new value).
    case cr3Write(UInt32)
    /// INVLPG of a linear address.
    case invlpg(UInt32)
    /// The whole TLB was flushed; `keptGlobal` when global entries survived (CR3 with CR4.PGE).
    case tlbFlush(reason: String, keptGlobal: Bool)
    /// A page walk failed: #PF at `linear` with `error`, under `cr3`.
    case walkFault(linear: UInt32, error: UInt32, cr3: UInt32)
    /// A fault while delivering another exception became #DF.
    case doubleFault(first: UInt8, second: UInt8)

    /// The `-d mmu` line.
    public var description: String {
        switch self {
        case .cr3Write(let v): return "cr3 <- 0x\(hex8(v))"
        case .invlpg(let a): return "invlpg 0x\(hex8(a))"
        case .tlbFlush(let r, let g): return "tlb: flush (\(r))\(g ? ", global entries kept" : "")"
        case .walkFault(let l, let e, let c): return "walk: #PF at 0x\(hex8(l)) error 0x\(String(e, radix: 16)) cr3=0x\(hex8(c))"
        case .doubleFault(let a, let b): return "double fault: \(Fault.name(b)) while delivering \(Fault.name(a))"
        }
    }
}
