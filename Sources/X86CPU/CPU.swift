// CPU: the architectural state of one i686 processor and its public API.
import X86Decoder

/// General-purpose 32-bit registers, numbered as in ModRM.
public enum Reg32: Int, CaseIterable, Sendable {
    case eax = 0, ecx, edx, ebx, esp, ebp, esi, edi
}

/// Segment registers, numbered as in ModRM.reg and the segment-override prefixes.
public enum SegReg: Int, CaseIterable, Sendable {
    case es = 0, cs, ss, ds, fs, gs
}

/// An exception raised by an instruction: the vector and, for vectors that push one,
/// the error code. Thrown (typed throws) from every access that can fault and delivered
/// precisely: the faulting instruction leaves no visible side effect.
public struct Fault: Error, Equatable, Sendable {
    public var vector: UInt8
    public var errorCode: UInt32?
    public init(_ vector: UInt8, _ errorCode: UInt32? = nil) { self.vector = vector; self.errorCode = errorCode }

    public static let de: UInt8 = 0, db: UInt8 = 1, nmi: UInt8 = 2, bp: UInt8 = 3, of: UInt8 = 4
    public static let br: UInt8 = 5, ud: UInt8 = 6, nm: UInt8 = 7, df: UInt8 = 8, ts: UInt8 = 10
    public static let np: UInt8 = 11, ss: UInt8 = 12, gp: UInt8 = 13, pf: UInt8 = 14, mf: UInt8 = 16
    public static let ac: UInt8 = 17

    static func gp0() -> Fault { Fault(gp, 0) }
    /// Short mnemonic of an exception vector ("#PF"), or "INT n" for others.
    public static func name(_ v: UInt8) -> String {
        let names = ["#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO",
                     "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM"]
        return Int(v) < names.count ? names[Int(v)] : "INT 0x" + String(v, radix: 16)
    }
}

/// Why `CPU.run(until:)` returned.
public enum StopReason: Equatable, Sendable {
    /// The instruction count reached the limit given.
    case limit
    /// HLT executed: the CPU waits for an interrupt (`halted` is true).
    case halted
    /// A triple fault shut the processor down; `shutdownReason` says why.
    case shutdown
    /// `requestStop()` was called (debugger, device, exit request).
    case stopped
    /// A breakpoint or single-step event for the debugger.
    case debugEvent
}

/// One i686 processor: registers, lazy flags, segmentation, paging with a TLB, the
/// decoded-block cache and the interpreter loop. `final` and pointer-based so that the
/// hot path has no ARC traffic, no bounds checks and no dynamic dispatch.
public final class CPU {
    // MARK: machine
    public let memory: PhysicalMemory
    public let bus: MachineBus
    @usableFromInline let ram: UnsafeMutablePointer<UInt8>
    @usableFromInline let ramSize: UInt64

    // MARK: registers
    /// r[0...7] are EAX...EDI; r[8] always reads zero (the "no register" of EA computation).
    @usableFromInline let r: UnsafeMutablePointer<UInt32>
    public var eip: UInt32 = 0
    /// EFLAGS bits other than the six arithmetic flags while `fOp` != 0; all of EFLAGS otherwise.
    @usableFromInline var flagBits: UInt32 = 0x2
    // lazy flags: see Flags.swift
    @usableFromInline var fOp: UInt32 = 0
    @usableFromInline var fRes: UInt32 = 0
    @usableFromInline var fA: UInt32 = 0
    @usableFromInline var fB: UInt32 = 0
    @usableFromInline var fCarry: UInt32 = 0

    // MARK: segmentation
    @usableFromInline let segSel: UnsafeMutablePointer<UInt16>
    @usableFromInline let segBase: UnsafeMutablePointer<UInt32>
    @usableFromInline let segLimit: UnsafeMutablePointer<UInt32>
    /// Descriptor attributes as in bits 8–23 of the descriptor's high dword:
    /// type (0–3), S (4), DPL (5–6), P (7), AVL (12), D/B (14), G (15); 0 = unusable (null).
    @usableFromInline let segAttr: UnsafeMutablePointer<UInt32>
    public internal(set) var cpl: UInt8 = 0
    /// Bit s set: segment s needs no check for reads (`segFastR`) / writes (`segFastW`) —
    /// usable, expand-up, 4 GiB limit, right type. See SegmentChecks.swift.
    @usableFromInline var segFastR: UInt8 = 0
    @usableFromInline var segFastW: UInt8 = 0
    public var gdtrBase: UInt32 = 0, gdtrLimit: UInt16 = 0xFFFF
    public var idtrBase: UInt32 = 0, idtrLimit: UInt16 = 0x3FF
    public internal(set) var ldtrSel: UInt16 = 0
    public internal(set) var ldtrBase: UInt32 = 0, ldtrLimit: UInt32 = 0, ldtrAttr: UInt32 = 0
    public internal(set) var trSel: UInt16 = 0
    public internal(set) var trBase: UInt32 = 0, trLimit: UInt32 = 0, trAttr: UInt32 = 0
    /// CS.D: default operand/address size of the current code segment is 32 bits.
    @usableFromInline var code32 = true
    /// SS.B: the stack pointer is ESP (else SP).
    @usableFromInline var stack32 = true

    // MARK: control
    public internal(set) var cr0: UInt32 = 0x6000_0010
    public internal(set) var cr2: UInt32 = 0
    public internal(set) var cr3: UInt32 = 0
    public internal(set) var cr4: UInt32 = 0
    public internal(set) var dr: [UInt32] = [0, 0, 0, 0, 0xFFFF_0FF0, 0x400, 0xFFFF_0FF0, 0x400]
    /// Retired instruction count: the machine's clock (1 instruction = 1 ns, like QEMU -icount 0).
    public internal(set) var icount: UInt64 = 0
    /// The TSC is the instruction count plus this offset (written by WRMSR 0x10).
    public var tscOffset: UInt64 = 0
    public internal(set) var halted = false
    /// Set when a triple fault shut the CPU down.
    public internal(set) var shutdownReason: String?

    // MARK: events
    /// Nonzero when the interpreter loop must leave straight-line execution: see `Event`.
    @usableFromInline var pendingEvents: UInt32 = 0
    enum Event {
        static let irq: UInt32 = 1            // INTR may be asserted: check at the next boundary
        static let stop: UInt32 = 2           // requestStop()
        static let codeWritten: UInt32 = 4    // a cached code page was written: leave the block
        static let trap: UInt32 = 8           // TF single-step trap after this instruction
        static let leaveBlock: UInt32 = 16    // the block must not go on (a REP instruction stopped early or ran long)
    }
    /// Interrupts are inhibited for one instruction after STI / MOV SS / POP SS.
    @usableFromInline var interruptShadow = false
    /// MOV SS / POP SS also hold back debug exceptions (the TF trap) for one instruction.
    @usableFromInline var debugShadow = false
    /// Maximum number of iterations a REP string instruction may run in this call.
    @usableFromInline var runLimit: UInt64 = 0
    /// Set when the current instruction delivered an interrupt or exception (suppresses the TF trap).
    @usableFromInline var deliveredEvent = false

    // MARK: TLB and decoded-block cache (see Paging.swift and BlockCache.swift)
    let tlb: TLB
    /// TLB lookups on the fast paths (loads, stores, block fetches), for --stats.
    @usableFromInline var tlbLookups: UInt64 = 0
    let cache: BlockCache
    /// Per-vector counts of delivered exceptions and interrupts (for --stats).
    public internal(set) var vectorCounts = [UInt64](repeating: 0, count: 256)
    /// Called for every delivered exception/interrupt when set (logging, debugger, event log).
    public var onInterrupt: ((InterruptEvent) -> Void)?
    /// Called at the start of every block executed (`-d exec`): CS, EIP, instruction count.
    public var onBlockExec: ((UInt16, UInt32, UInt64) -> Void)?
    /// Debugger: checked before every instruction when set (see DebugHooks.swift).
    var instructionCheck: ((UInt32) -> Bool)?
    /// Debugger: told of every memory access when set (watchpoints).
    var memoryHook: ((UInt32, UInt32, Int, Bool) -> Bool)?
    /// Called for MMU events (CR3 writes, INVLPG, flushes, failed walks) when set.
    public var onMMUEvent: ((MMUEvent) -> Void)?

    /// Create a CPU attached to `memory` and `bus`, in the state after RESET (real mode).
    public init(memory: PhysicalMemory, bus: MachineBus) {
        self.memory = memory
        self.bus = bus
        ram = memory.base
        ramSize = memory.size
        r = .allocate(capacity: 9); r.initialize(repeating: 0, count: 9)
        segSel = .allocate(capacity: 6); segSel.initialize(repeating: 0, count: 6)
        segBase = .allocate(capacity: 6); segBase.initialize(repeating: 0, count: 6)
        segLimit = .allocate(capacity: 6); segLimit.initialize(repeating: 0xFFFF, count: 6)
        segAttr = .allocate(capacity: 6); segAttr.initialize(repeating: 0x93, count: 6)
        tlb = TLB()
        cache = BlockCache(ramPages: Int(memory.size >> 12))
        reset()
    }

    deinit {
        r.deallocate(); segSel.deallocate(); segBase.deallocate(); segLimit.deallocate(); segAttr.deallocate()
    }

    /// The processor state after RESET: real mode, CS:EIP = F000:FFF0, EDX = 0x600 (P6 signature).
    public func reset() {
        for i in 0..<9 { r[i] = 0 }
        r[2] = 0x0000_0633
        eip = 0xFFF0
        flagBits = 0x2; fOp = 0
        for s in 0..<6 { segSel[s] = 0; segBase[s] = 0; segLimit[s] = 0xFFFF; segAttr[s] = 0x93 }
        segSel[1] = 0xF000; segBase[1] = 0xFFFF_0000; segAttr[1] = 0x9B
        cpl = 0; code32 = false; stack32 = false
        cr0 = 0x6000_0010; cr2 = 0; cr3 = 0; cr4 = 0
        dr = [0, 0, 0, 0, 0xFFFF_0FF0, 0x400, 0xFFFF_0FF0, 0x400]
        gdtrBase = 0; gdtrLimit = 0xFFFF; idtrBase = 0; idtrLimit = 0x3FF
        ldtrSel = 0; ldtrBase = 0; ldtrLimit = 0xFFFF; ldtrAttr = 0x82
        trSel = 0; trBase = 0; trLimit = 0xFFFF; trAttr = 0x8B
        halted = false; shutdownReason = nil; interruptShadow = false
        pendingEvents = 0
        refreshSegmentChecks()
        tlb.flushAll(keepGlobal: false)
        tlb.selectPrivilege(user: false)
    }

    /// Enter the state multiboot specifies: protected mode (CR0.PE = 1, PG = 0), flat
    /// 4 GiB 32-bit code and data segments (CS selector 0x10, data 0x18, as QEMU's loader),
    /// CPL 0, EFLAGS = 0x2 (IF = 0). GDTR is left for the kernel to load.
    public func resetToFlatProtectedMode() {
        reset()
        cr0 = 0x0000_0011   // PE and ET, caches enabled: what QEMU's multiboot loader leaves
        for s in 0..<6 {
            segSel[s] = 0x18; segBase[s] = 0; segLimit[s] = 0xFFFF_FFFF; segAttr[s] = 0xC093
        }
        segSel[1] = 0x10; segAttr[1] = 0xC09B
        code32 = true; stack32 = true
        refreshSegmentChecks()
        eip = 0
    }

    /// Registers as a multiboot loader leaves them: flat protected mode, the given
    /// general registers, CS/data selectors over a flat GDT at `gdtBase`.
    public func setMultibootEntry(eip: UInt32, eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32,
                                  esi: UInt32, edi: UInt32, esp: UInt32, ebp: UInt32, eflags: UInt32,
                                  cs: UInt16, ds: UInt16, gdtBase: UInt32, gdtLimit: UInt16) {
        resetToFlatProtectedMode()
        self.eip = eip
        r[0] = eax; r[1] = ecx; r[2] = edx; r[3] = ebx; r[4] = esp; r[5] = ebp; r[6] = esi; r[7] = edi
        self.eflags = eflags
        segSel[1] = cs
        for s in [0, 2, 3, 4, 5] { segSel[s] = ds }
        gdtrBase = gdtBase; gdtrLimit = gdtLimit
    }

    // MARK: register access

    /// Read a 32-bit general register.
    @inline(__always) public func reg32(_ x: Reg32) -> UInt32 { r[x.rawValue] }
    /// Write a 32-bit general register.
    @inline(__always) public func setReg32(_ x: Reg32, _ v: UInt32) { r[x.rawValue] = v }

    /// EFLAGS with the lazily kept arithmetic flags computed. Setting replaces all of
    /// EFLAGS (reserved bit 1 forced to 1, reserved bits 3, 5, 15, 22–31 forced to 0).
    public var eflags: UInt32 {
        get { materializeFlags(); return flagBits }
        set { fOp = 0; flagBits = (newValue & 0x003F_7FD5) | 0x2; if newValue & 0x200 != 0 { pendingEvents |= Event.irq } }
    }

    /// Segment selector of `s`.
    public func selector(_ s: SegReg) -> UInt16 { segSel[s.rawValue] }
    /// Hidden descriptor cache of `s`: base, limit (expanded by G), attributes.
    public func segmentCache(_ s: SegReg) -> (base: UInt32, limit: UInt32, attributes: UInt32) {
        (segBase[s.rawValue], segLimit[s.rawValue], segAttr[s.rawValue])
    }

    /// Ask the interpreter loop to return `.stopped` at the next instruction boundary.
    public func requestStop() { pendingEvents |= Event.stop }
    /// Tell the CPU that the interrupt controller's INTR line may have changed.
    @inline(__always) public func interruptLineChanged() { pendingEvents |= Event.irq }

    /// True in protected mode (CR0.PE).
    @inline(__always) var protectedMode: Bool { cr0 & 1 != 0 }
    /// True when paging is on (CR0.PG).
    @inline(__always) public var pagingEnabled: Bool { cr0 & 0x8000_0000 != 0 }

    /// Advance the clock while halted (HLT waiting for an interrupt) to `count`.
    public func advanceIdle(to count: UInt64) { if count > icount { icount = count } }
}

/// One delivered exception or interrupt, for logs and the debugger.
public struct InterruptEvent: Sendable {
    public var icount: UInt64
    public var vector: UInt8
    public var errorCode: UInt32?
    public var cr2: UInt32
    public var cs: UInt16
    public var eip: UInt32
    public var cpl: UInt8
    public var esp: UInt32
    public var cr3: UInt32
    /// true for hardware interrupts (PIC), false for exceptions and INT n.
    public var external: Bool
    public var software: Bool
}
