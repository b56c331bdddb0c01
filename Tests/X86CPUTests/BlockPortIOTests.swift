// BlockPortIOTests: REP INSW/INSD/OUTSW through a bus's block transfer give exactly what unit-by-unit port I/O gives.
import XCTest
import X86CPU

/// A data port at 0x1F0 backed by a counter (reads) and a log (writes), with or
/// without block transfers; blocks stop every `chunk` units, as a sector's end does.
final class FifoBus: MachineBus {
    let block: Bool
    let chunk = 256
    var next: UInt16 = 0x1000        // the next word a read returns
    var written: [UInt16] = []
    var blockCalls = 0
    init(block: Bool) { self.block = block }
    func word() -> UInt16 { defer { next &+= 0x0101 }; return next }
    func portRead(_ port: UInt16, size: Int) -> UInt32 {
        guard port == 0x1F0 else { return 0xFFFF_FFFF }
        return size == 4 ? UInt32(word()) | UInt32(word()) << 16 : UInt32(word())
    }
    func portWrite(_ port: UInt16, size: Int, value: UInt32) {
        guard port == 0x1F0 else { return }
        written.append(UInt16(truncatingIfNeeded: value))
        if size == 4 { written.append(UInt16(truncatingIfNeeded: value >> 16)) }
    }
    func portWriteNeedsStop(_ port: UInt16) -> Bool { port != 0x1F0 }
    func portReadBlock(_ port: UInt16, size: Int, count: Int, into p: UnsafeMutableRawPointer) -> Int {
        guard block, port == 0x1F0 else { return 0 }
        let k = min(count, chunk * 2 / size)
        let w = p.bindMemory(to: UInt16.self, capacity: k * size / 2)
        for i in 0..<(k * size / 2) { w[i] = word() }
        blockCalls += 1
        return k
    }
    func portWriteBlock(_ port: UInt16, size: Int, count: Int, from p: UnsafeRawPointer) -> Int {
        guard block, port == 0x1F0 else { return 0 }
        let k = min(count, chunk * 2 / size)
        for i in 0..<(k * size / 2) { written.append(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        blockCalls += 1
        return k
    }
    func acknowledgeInterrupt() -> UInt8 { 0x20 }
    var interruptPending: Bool { false }
}

final class BlockPortIOTests: XCTestCase {
    /// run(code, block, step) -> (memory 0x10000..0x14000, ECX, EDI/ESI, icount, bus)
    /// after running `code` at 0x1000 to its HLT in slices of `step` instructions.
    func run(_ code: [UInt8], block: Bool, step: UInt64, source: [UInt8] = []) throws
        -> (mem: [UInt8], ecx: UInt32, edi: UInt32, esi: UInt32, icount: UInt64, bus: FifoBus) {
        let mem = try PhysicalMemory(size: 2 << 20)
        let bus = FifoBus(block: block)
        let cpu = CPU(memory: mem, bus: bus)
        cpu.resetToFlatProtectedMode()
        mem.write(code + [0xF4], at: 0x1000)
        mem.write(source, at: 0x10000)
        cpu.eip = 0x1000
        cpu.setReg32(.esp, 0x8000)
        var limit = step
        while !cpu.halted && limit < 1_000_000 { _ = cpu.run(until: limit); limit += step }
        XCTAssertTrue(cpu.halted)
        let bytes = mem.read(at: 0x10000, count: 0x4000).map { $0 ?? 0 }
        return (bytes, cpu.reg32(.ecx), cpu.reg32(.edi), cpu.reg32(.esi), cpu.icount, bus)
    }

    /// mov edi, 0x10F02 ; mov ecx, N ; mov edx, 0x1F0 ; rep ins{w,d} — starting 254
    /// bytes before a page end, so blocks split at page boundaries and at the bus's
    /// chunks; run limits land inside the transfer.
    func testRepInsMatchesUnitByUnit() throws {
        for (opsize, count) in [([UInt8](), UInt32(3000)), ([0x66], 4001), ([], 1)] {
            let insd: [UInt8] = opsize.isEmpty ? [0xF3, 0x6D] : [0x66, 0xF3, 0x6D]   // rep insd / rep insw
            let code: [UInt8] = [0xBF, 0x02, 0x0F, 0x01, 0x00, 0xB9] + withUnsafeBytes(of: count.littleEndian) { Array($0) }
                + [0xBA, 0xF0, 0x01, 0, 0] + insd
            for step: UInt64 in [7, 1000, 100_000] {
                let a = try run(code, block: false, step: step)
                let b = try run(code, block: true, step: step)
                XCTAssertEqual(a.mem, b.mem, "memory, count \(count) step \(step)")
                XCTAssertEqual(a.ecx, 0); XCTAssertEqual(b.ecx, 0)
                XCTAssertEqual(a.edi, b.edi); XCTAssertEqual(a.icount, b.icount, "each unit counts once")
                XCTAssertEqual(a.bus.next, b.bus.next, "words read from the port")
                if count > 300 && step >= 1000 { XCTAssertGreaterThan(b.bus.blockCalls, 0, "the block path ran") }
            }
        }
    }

    /// mov esi, 0x10100 ; mov ecx, 2500 ; mov edx, 0x1F0 ; rep outsw.
    func testRepOutsMatchesUnitByUnit() throws {
        let source = (0..<0x4000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ ($0 >> 8)) }
        let code: [UInt8] = [0xBE, 0x00, 0x01, 0x01, 0x00, 0xB9, 0xC4, 0x09, 0, 0, 0xBA, 0xF0, 0x01, 0, 0, 0x66, 0xF3, 0x6F]
        for step: UInt64 in [5, 999, 100_000] {
            let a = try run(code, block: false, step: step, source: source)
            let b = try run(code, block: true, step: step, source: source)
            XCTAssertEqual(a.bus.written.count, 2500)
            XCTAssertEqual(a.bus.written, b.bus.written, "step \(step)")
            XCTAssertEqual(a.esi, b.esi); XCTAssertEqual(a.icount, b.icount)
            if step >= 999 { XCTAssertGreaterThan(b.bus.blockCalls, 0) }
        }
    }
}
