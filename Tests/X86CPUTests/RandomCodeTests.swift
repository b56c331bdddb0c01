// RandomCodeTests: random byte sequences and random machine state never trap the host.
import XCTest
import X86CPU

/// A bus with no devices: every port reads all ones, no interrupts.
final class RandomBus: MachineBus {
    func portRead(_ port: UInt16, size: Int) -> UInt32 { size == 1 ? 0xFF : (size == 2 ? 0xFFFF : 0xFFFF_FFFF) }
    func portWrite(_ port: UInt16, size: Int, value: UInt32) {}
    func acknowledgeInterrupt() -> UInt8 { 0x20 }
    var interruptPending: Bool { false }
}

final class RandomCodeTests: XCTestCase {
    /// xorshift64*: deterministic, seedable.
    struct RNG { var s: UInt64; mutating func next() -> UInt64 { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return s &* 2685821657736338717 } }

    /// Execute many random instructions, one at a time, from random state: the SDM says
    /// every byte sequence either executes or raises an exception; the host must never trap.
    func testRandomInstructionsNeverTrap() throws {
        let mem = try PhysicalMemory(size: 2 << 20)
        let bus = RandomBus()
        let cpu = CPU(memory: mem, bus: bus)
        var rng = RNG(s: 0x9E37_79B9_7F4A_7C15)
        let count = ProcessInfo.processInfo.environment["FULL"] != nil ? 2_000_000 : 200_000
        var faults = [Int](repeating: 0, count: 32)
        for k in 0..<count {
            if k % 1000 == 0 {
                cpu.resetToFlatProtectedMode()
                // sometimes fill RAM's first page with random bytes (descriptor tables, page tables)
                var page = [UInt8](repeating: 0, count: 4096)
                for i in 0..<4096 { page[i] = UInt8(truncatingIfNeeded: rng.next()) }
                mem.write(page, at: 0)
            }
            var bytes = [UInt8](repeating: 0, count: 16)
            for i in 0..<16 { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
            // bias towards interesting prefixes and two-byte opcodes
            switch rng.next() % 8 {
            case 0: bytes[0] = 0x0F
            case 1: bytes[0] = 0x66
            case 2: bytes[0] = 0xF3
            default: break
            }
            let at = UInt32(0x10000 + (rng.next() % 0x1000))
            mem.write(bytes, at: at)
            for r in Reg32.allCases {
                let v = rng.next()
                cpu.setReg32(r, v % 3 == 0 ? UInt32(truncatingIfNeeded: v >> 40) : UInt32(truncatingIfNeeded: v >> 3))
            }
            cpu.setReg32(.esp, UInt32(0x80000 + (rng.next() % 0x1000)))
            cpu.eflags = UInt32(truncatingIfNeeded: rng.next()) & 0x0CD5 | 0x2
            cpu.eip = at
            if let f = cpu.executeOne() { faults[Int(f.vector) & 31] += 1 }
        }
        XCTAssertGreaterThan(faults[6], 0, "some random bytes must be #UD")
        XCTAssertGreaterThan(faults[13] + faults[14] + faults[12], 0)
    }

    /// Random page tables: a walk over garbage PDEs/PTEs must give #PF or a translation, never a trap.
    func testRandomPageTablesNeverTrap() throws {
        let mem = try PhysicalMemory(size: 4 << 20)
        let cpu = CPU(memory: mem, bus: RandomBus())
        var rng = RNG(s: 12345)
        for round in 0..<200 {
            cpu.resetToFlatProtectedMode()
            // random page directory at 0x1000 and random tables, code at 0x2000
            var pd = [UInt8](repeating: 0, count: 8192)
            for i in 0..<8192 { pd[i] = UInt8(truncatingIfNeeded: rng.next()) }
            mem.write(pd, at: 0x100000)
            // identity-map the code page 0x2000 through a sane PDE 0 / PTE 2 with a 4 KiB table at 0x3000
            var pde0 = [UInt8](repeating: 0, count: 4); pde0 = [0x07, 0x30, 0, 0]
            mem.write(pde0, at: 0x100000)
            mem.write([0x07, 0x20, 0, 0], at: 0x3000 + 2 * 4)
            // mov eax, 0x100000 ; mov cr3, eax ; mov eax, cr4 ; or eax, 0x90 ; mov cr4, eax ; mov eax, cr0 ; or eax, 0x80010000 ; mov cr0, eax
            let setup: [UInt8] = [0xB8, 0x00, 0x00, 0x10, 0x00, 0x0F, 0x22, 0xD8, 0x0F, 0x20, 0xE0, 0x0D, 0x90, 0, 0, 0,
                                  0x0F, 0x22, 0xE0, 0x0F, 0x20, 0xC0, 0x0D, 0x00, 0x00, 0x01, 0x80, 0x0F, 0x22, 0xC0]
            mem.write(setup, at: 0x2000)
            cpu.eip = 0x2000
            for _ in 0..<8 { XCTAssertNil(cpu.executeOne(), "setup round \(round)") }
            // now random loads/stores: mov eax, [ebx] ; mov [ebx], eax ; add [ebx], eax
            let probes: [[UInt8]] = [[0x8B, 0x03], [0x89, 0x03], [0x01, 0x03], [0x0F, 0xC7, 0x0B], [0xFF, 0x23]]
            for _ in 0..<200 {
                let p = probes[Int(rng.next() % UInt64(probes.count))]
                mem.write(p, at: 0x2100)
                cpu.eip = 0x2100
                cpu.setReg32(.ebx, UInt32(truncatingIfNeeded: rng.next()))
                _ = cpu.executeOne()
            }
        }
    }

    /// Random code run by the full interpreter loop, with random descriptor tables:
    /// exceptions are delivered through garbage gates (double and triple faults included);
    /// the run must end in a shutdown, a halt or the instruction limit — never a host trap.
    func testRandomCodeThroughTheInterpreterLoop() throws {
        let mem = try PhysicalMemory(size: 2 << 20)
        let cpu = CPU(memory: mem, bus: RandomBus())
        var rng = RNG(s: 777)
        let rounds = ProcessInfo.processInfo.environment["FULL"] != nil ? 3000 : 200
        var outcomes: [StopReason: Int] = [:]
        for _ in 0..<rounds {
            cpu.resetToFlatProtectedMode()
            var words = [UInt64](repeating: 0, count: 0x20000 / 8)
            for i in 0..<words.count { words[i] = rng.next() }
            words.withUnsafeBytes { mem.write($0, at: 0) }
            cpu.gdtrBase = UInt32(rng.next() % 0x10000); cpu.gdtrLimit = UInt16(truncatingIfNeeded: rng.next())
            cpu.idtrBase = UInt32(rng.next() % 0x10000); cpu.idtrLimit = UInt16(truncatingIfNeeded: rng.next())
            cpu.eip = UInt32(0x10000 + rng.next() % 0x8000)
            cpu.setReg32(.esp, UInt32(0x18000 + rng.next() % 0x4000))
            let reason = cpu.run(until: cpu.icount + 20_000)
            outcomes[reason, default: 0] += 1
        }
        XCTAssertEqual(outcomes.values.reduce(0, +), rounds)
    }
}
