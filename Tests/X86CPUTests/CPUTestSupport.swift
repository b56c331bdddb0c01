// CPUTestSupport: a fake bus, a CPU on 4 MiB of RAM, and helpers to run hand-assembled bytes.
import XCTest
import X86CPU

/// A machine bus with no devices: ports read all ones, writes are recorded, no IRQs.
final class TestBus: MachineBus {
    var writes: [(port: UInt16, size: Int, value: UInt32)] = []
    func portRead(_ port: UInt16, size: Int) -> UInt32 { size == 4 ? 0xFFFF_FFFF : (1 << (8 * UInt32(size))) - 1 }
    func portWrite(_ port: UInt16, size: Int, value: UInt32) { writes.append((port, size, value)) }
    func acknowledgeInterrupt() -> UInt8 { 0x20 }
    var interruptPending: Bool { false }
}

/// Flag masks by name, for readable assertions.
enum F {
    static let CF: UInt32 = 1 << 0, PF: UInt32 = 1 << 2, AF: UInt32 = 1 << 4, ZF: UInt32 = 1 << 6
    static let SF: UInt32 = 1 << 7, TF: UInt32 = 1 << 8, IF: UInt32 = 1 << 9, DF: UInt32 = 1 << 10
    static let OF: UInt32 = 1 << 11
    static let arith: UInt32 = CF | PF | AF | ZF | SF | OF
    /// "CF ZF ..." for a flag word (only the six arithmetic flags and DF).
    static func names(_ f: UInt32) -> String {
        let all: [(UInt32, String)] = [(CF, "CF"), (PF, "PF"), (AF, "AF"), (ZF, "ZF"), (SF, "SF"), (DF, "DF"), (OF, "OF")]
        let s = all.filter { f & $0.0 != 0 }.map(\.1).joined(separator: " ")
        return s.isEmpty ? "-" : s
    }
}

/// Test-harness layout (physical = linear when paging is on: identity map).
enum Layout {
    static let gdt: UInt32 = 0x0100       // null, null, code 0x10, data 0x18, code3 0x23, data3 0x2B, tss 0x30
    static let idt: UInt32 = 0x0400       // 256 gates
    static let code: UInt32 = 0x1000      // test code
    static let handlers: UInt32 = 0x2000  // handler for vector v at handlers + 4*v: HLT
    static let tss: UInt32 = 0x0C00       // ESP0 = stackTop, SS0 = 0x18
    static let userCode: UInt32 = 0x3000  // where enterUserMode jumps (CPL 3)
    static let userStack: UInt32 = 0x7000
    static let stackTop: UInt32 = 0x9000
    static let pageDir: UInt32 = 0x10000
    static let pageTable: UInt32 = 0x11000  // maps 0-4 MiB
    static let scratch: UInt32 = 0x3F_F000  // where helper instruction sequences are placed
    static func handler(_ v: UInt8) -> UInt32 { handlers + 4 * UInt32(v) }
}

/// A CPU on 4 MiB of RAM in flat 32-bit protected mode, CPL 0, EIP = 0x1000, ESP = 0x9000.
final class TestMachine {
    let mem: PhysicalMemory
    let bus: TestBus
    let cpu: CPU

    init() {
        mem = try! PhysicalMemory(size: 4 << 20)
        bus = TestBus()
        cpu = CPU(memory: mem, bus: bus)
        cpu.resetToFlatProtectedMode()
        cpu.eip = Layout.code
        cpu.setReg32(.esp, Layout.stackTop)
    }

    // MARK: memory

    func write(_ bytes: [UInt8], at a: UInt32) { mem.write(bytes, at: a) }
    func write32(_ v: UInt32, at a: UInt32) { mem.store32(a, v) }
    func read32(_ a: UInt32) -> UInt32 { mem.load32(a) }
    func read16(_ a: UInt32) -> UInt16 { mem.load16(a) }
    func read8(_ a: UInt32) -> UInt8 { mem.load8(a) }

    // MARK: running

    /// Place `bytes` at EIP and execute exactly one instruction (no exception delivery).
    @discardableResult
    func step(_ bytes: [UInt8]) -> Fault? {
        mem.write(bytes, at: cpu.eip)
        return cpu.executeOne()
    }

    /// Place `bytes` followed by HLT at EIP and run through the full interpreter loop
    /// until the CPU halts (or `limit` instructions). Returns why it stopped.
    @discardableResult
    func run(_ bytes: [UInt8], limit: UInt64 = 100_000) -> StopReason {
        mem.write(bytes + [0xF4], at: cpu.eip)
        return cpu.run(until: cpu.icount + limit)
    }

    /// Arithmetic flags (CF PF AF ZF SF OF) plus DF.
    var flags: UInt32 { cpu.eflags & (F.arith | F.DF) }

    /// Set the arithmetic flags (and leave the others: IF, DF, ...) as given.
    func setFlags(_ f: UInt32) { cpu.eflags = (cpu.eflags & ~F.arith) | f }

    func reg(_ r: Reg32) -> UInt32 { cpu.reg32(r) }
    func set(_ r: Reg32, _ v: UInt32) { cpu.setReg32(r, v) }

    /// Execute `mov eax, value; mov crN, eax` at a scratch address with executeOne, leaving
    /// EAX and EIP as they were. Returns the fault of the MOV to CRn, if any.
    @discardableResult
    func writeCR(_ n: Int, _ value: UInt32) -> Fault? {
        let saveEAX = cpu.reg32(.eax), saveEIP = cpu.eip
        defer { cpu.setReg32(.eax, saveEAX); cpu.eip = saveEIP }
        cpu.setReg32(.eax, value)
        cpu.eip = Layout.scratch
        // mov crN, eax: 0F 22 /r with reg = N, rm = eax
        mem.write([0x0F, 0x22, UInt8(0xC0 | (n << 3))], at: Layout.scratch)
        return cpu.executeOne()
    }

    // MARK: descriptor tables and paging

    /// A flat GDT (ring-0 code 0x10 and data 0x18, ring-3 code 0x23 and data 0x2B) and an
    /// IDT whose every vector is a 32-bit interrupt gate (DPL 3) to a HLT at `Layout.handler(v)`.
    func installTables() {
        let gdt: [UInt64] = [0, 0,
                             0x00CF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF,
                             0x00CF_FA00_0000_FFFF, 0x00CF_F200_0000_FFFF,
                             0x0000_8900_0000_0067 | UInt64(Layout.tss) << 16]   // 0x30: 32-bit TSS
        for (i, d) in gdt.enumerated() {
            write32(UInt32(truncatingIfNeeded: d), at: Layout.gdt + UInt32(i * 8))
            write32(UInt32(truncatingIfNeeded: d >> 32), at: Layout.gdt + UInt32(i * 8 + 4))
        }
        cpu.gdtrBase = Layout.gdt; cpu.gdtrLimit = UInt16(gdt.count * 8 - 1)
        for v in 0..<256 {
            setGate(UInt8(v), offset: Layout.handler(UInt8(v)))
            write([0xF4, 0x90, 0x90, 0x90], at: Layout.handler(UInt8(v)))   // hlt
        }
        cpu.idtrBase = Layout.idt; cpu.idtrLimit = 256 * 8 - 1
        write32(Layout.stackTop, at: Layout.tss + 4)                      // ESP0
        write32(0x18, at: Layout.tss + 8)                                 // SS0
    }

    /// Write IDT entry `v`: selector 0x10, `offset`, type/attribute byte `attr` (0xEE = P, DPL 3, 32-bit interrupt gate).
    func setGate(_ v: UInt8, offset: UInt32, selector: UInt16 = 0x10, attr: UInt8 = 0xEE, idt: UInt32 = Layout.idt) {
        let a = idt + UInt32(v) * 8
        write32((UInt32(selector) << 16) | (offset & 0xFFFF), at: a)
        write32((offset & 0xFFFF_0000) | (UInt32(attr) << 8), at: a + 4)
    }

    /// Page directory at 0x10000 with one page table identity-mapping 0-4 MiB (4 KiB pages,
    /// P|W, supervisor), CR3 loaded; paging is not yet enabled.
    func installIdentityPaging(pteFlags: UInt32 = 0x3) {
        mem.zero(at: Layout.pageDir, count: 4096)
        write32(Layout.pageTable | 0x7, at: Layout.pageDir)   // P W U: the PTE decides
        for i in 0..<1024 { write32(UInt32(i) << 12 | pteFlags, at: Layout.pageTable + UInt32(i * 4)) }
        XCTAssertNil(writeCR(3, Layout.pageDir))
    }

    /// Address of the PTE mapping linear `lin` (in the 0-4 MiB page table).
    func pteAddress(_ lin: UInt32) -> UInt32 { Layout.pageTable + (lin >> 12) * 4 }
    func pte(_ lin: UInt32) -> UInt32 { read32(pteAddress(lin)) }
    func setPTE(_ lin: UInt32, _ v: UInt32) { write32(v, at: pteAddress(lin)) }

    /// Turn paging on (CR0.PG), with CR0.WP as given.
    func enablePaging(wp: Bool = true) {
        var v = cpu.cr0 | 0x8000_0000
        if wp { v |= 0x1_0000 } else { v &= ~0x1_0000 }
        XCTAssertNil(writeCR(0, v))
    }

    /// Tables, identity paging on, ready to `run` test code at 0x1000.
    static func paged(wp: Bool = true) -> TestMachine {
        let m = TestMachine()
        m.installTables()
        m.installIdentityPaging()
        m.enablePaging(wp: wp)
        return m
    }

    /// Code (to run at CPL 0 from 0x1000) that loads TR with the TSS, DS/ES with the ring-3
    /// data selector, and IRETs to `Layout.userCode` at CPL 3 with ESP = `Layout.userStack`.
    static let enterUserMode: [UInt8] = [
        0x66, 0xB8, 0x30, 0x00,         // mov ax, 0x30
        0x0F, 0x00, 0xD8,               // ltr ax
        0x66, 0xB8, 0x2B, 0x00,         // mov ax, 0x2B
        0x8E, 0xD8,                     // mov ds, ax
        0x8E, 0xC0,                     // mov es, ax
        0x6A, 0x2B,                     // push 0x2B            (SS)
        0x68, 0x00, 0x70, 0x00, 0x00,   // push 0x7000          (ESP)
        0x6A, 0x02,                     // push 0x2             (EFLAGS)
        0x6A, 0x23,                     // push 0x23            (CS)
        0x68, 0x00, 0x30, 0x00, 0x00,   // push 0x3000          (EIP)
        0xCF,                           // iretd
    ]

    /// Run `userBytes` (followed by HLT, which is #GP at CPL 3) at CPL 3 via `enterUserMode`.
    @discardableResult
    func runUser(_ userBytes: [UInt8], limit: UInt64 = 100_000) -> StopReason {
        write(userBytes + [0xF4], at: Layout.userCode)
        return run(TestMachine.enterUserMode, limit: limit)
    }

    /// After a delivered exception whose handler halted: the vector the CPU went to
    /// (from EIP = handler + 1), or nil when it halted somewhere else.
    var handledVector: UInt8? {
        let e = cpu.eip
        guard e > Layout.handlers, e <= Layout.handlers + 1024, (e - Layout.handlers) % 4 == 1 else { return nil }
        return UInt8((e - Layout.handlers) / 4)
    }

    /// The dword `k` slots above ESP (0 = top of stack).
    func stack(_ k: Int) -> UInt32 { read32(cpu.reg32(.esp) &+ UInt32(4 * k)) }
}
