// ATADiskTests: the primary-master ATA disk driven through IOBus ports with a temporary image.
import XCTest
#if canImport(Glibc)
import Glibc
#endif
import X86CPU
@testable import PCMachine

final class ATADiskTests: XCTestCase {
    var imagePath = ""
    let sectors = 64

    override func setUp() {
        imagePath = NSTemporaryDirectory() + "swift86-ata-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).img"
        var bytes = [UInt8](repeating: 0, count: sectors * 512 + 100)   // trailing partial sector ignored
        for lba in 0..<sectors {
            for i in 0..<512 { bytes[lba * 512 + i] = UInt8(truncatingIfNeeded: lba &* 7 &+ i) }
        }
        FileManager.default.createFile(atPath: imagePath, contents: Data(bytes))
    }

    override func tearDown() { unlink(imagePath) }

    func fileBytes() -> [UInt8] { [UInt8](FileManager.default.contents(atPath: imagePath)!) }
    func expected(_ lba: Int) -> [UInt8] { (0..<512).map { UInt8(truncatingIfNeeded: lba &* 7 &+ $0) } }

    func makeBus(snapshot: Bool = false) throws -> IOBus {
        let bus = IOBus(com1Output: { _ in })
        bus.disk = try ATADisk(path: imagePath, snapshot: snapshot)
        // PIC: unmask everything on both chips (ICW1-4), so IRR reflects IRQ 14 on the slave
        for (base, vec, icw3) in [(0x20, 0x20, 0x04), (0xA0, 0x28, 0x02)] as [(UInt16, UInt32, UInt32)] {
            bus.portWrite(base, size: 1, value: 0x11)
            bus.portWrite(base + 1, size: 1, value: vec)
            bus.portWrite(base + 1, size: 1, value: icw3)
            bus.portWrite(base + 1, size: 1, value: 0x01)
            bus.portWrite(base + 1, size: 1, value: 0x00)
        }
        return bus
    }

    /// The level of the disk's interrupt line (the PIC is edge-triggered: IRR keeps a request
    /// after the line drops, so the line itself is what the status read must clear).
    func irqRequested(_ bus: IOBus) -> Bool {
        let s = bus.disk!.saveState()
        return s.irqPending && s.control & ATADisk.nIEN == 0
    }

    /// Acknowledge and EOI whatever is pending so the next edge is seen.
    func ackIRQ(_ bus: IOBus) {
        XCTAssertTrue(bus.interruptPending)
        XCTAssertEqual(bus.acknowledgeInterrupt(), 0x2E)
        bus.portWrite(0xA0, size: 1, value: 0x20)
        bus.portWrite(0x20, size: 1, value: 0x20)
    }

    func select(_ bus: IOBus, lba: UInt32, count: UInt8, slave: Bool = false) {
        bus.portWrite(0x1F6, size: 1, value: 0xE0 | (slave ? 0x10 : 0) | (lba >> 24 & 0x0F))
        bus.portWrite(0x1F2, size: 1, value: UInt32(count))
        bus.portWrite(0x1F3, size: 1, value: lba & 0xFF)
        bus.portWrite(0x1F4, size: 1, value: lba >> 8 & 0xFF)
        bus.portWrite(0x1F5, size: 1, value: lba >> 16 & 0xFF)
    }

    func readSector(_ bus: IOBus) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<128 {
            let v = bus.portRead(0x1F0, size: 4)
            for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * k))) }
        }
        return out
    }

    func status(_ bus: IOBus) -> UInt8 { UInt8(bus.portRead(0x1F7, size: 1)) }
    func altStatus(_ bus: IOBus) -> UInt8 { UInt8(bus.portRead(0x3F6, size: 1)) }

    func testPortsAbsentWithoutDisk() {
        let bus = IOBus(com1Output: { _ in })
        XCTAssertEqual(bus.portRead(0x1F7, size: 1), 0xFF)
        XCTAssertEqual(bus.portRead(0x3F6, size: 1), 0xFF)
    }

    func testIdentify() throws {
        let bus = try makeBus()
        XCTAssertEqual(status(bus), 0x50)
        bus.portWrite(0x1F6, size: 1, value: 0xA0)
        bus.portWrite(0x1F7, size: 1, value: 0xEC)
        XCTAssertTrue(irqRequested(bus))
        XCTAssertEqual(altStatus(bus), 0x58)          // alt status: IRQ stays
        XCTAssertTrue(irqRequested(bus))
        XCTAssertEqual(status(bus), 0x58)             // DRDY DSC DRQ; clears the IRQ
        XCTAssertFalse(irqRequested(bus))
        var words: [UInt16] = []
        for _ in 0..<256 { words.append(UInt16(bus.portRead(0x1F0, size: 2))) }
        XCTAssertEqual(status(bus), 0x50)
        XCTAssertEqual(words[0], 0x0040)
        var model = ""
        for w in words[27..<47] { model.append(Character(UnicodeScalar(UInt8(w >> 8)))); model.append(Character(UnicodeScalar(UInt8(w & 0xFF)))) }
        XCTAssertEqual(model.trimmingCharacters(in: .whitespaces), "SWIFT86 HARDDISK")
        XCTAssertNotEqual(words[10], 0x2020)          // serial
        XCTAssertNotEqual(words[23], 0x2020)          // firmware
        XCTAssertEqual(words[49] & 0x0200, 0x0200)    // LBA
        XCTAssertEqual(words[47] & 0xFF, 0)
        XCTAssertEqual(words[59] & 0x100, 0)
        XCTAssertEqual(UInt32(words[60]) | UInt32(words[61]) << 16, UInt32(sectors))
        XCTAssertEqual(words[83] & 0x0400, 0)         // no LBA48
        XCTAssertEqual(words[86] & 0x0400, 0)
        var sum: UInt8 = 0
        for w in words { sum &+= UInt8(w & 0xFF) &+ UInt8(w >> 8) }
        XCTAssertEqual(words[255] & 0xFF, 0xA5)
        XCTAssertEqual(sum, 0)
        XCTAssertEqual(bus.portRead(0x1F0, size: 2), 0)   // no more data
    }

    func testReadFirstAndLastSector() throws {
        let bus = try makeBus()
        for lba in [0, sectors - 1] {
            select(bus, lba: UInt32(lba), count: 1)
            bus.portWrite(0x1F7, size: 1, value: 0x20)
            XCTAssertEqual(status(bus), 0x58)
            XCTAssertEqual(readSector(bus), expected(lba))
            XCTAssertEqual(status(bus), 0x50)
        }
    }

    func testMultiSectorReadRaisesIRQPerSector() throws {
        let bus = try makeBus()
        select(bus, lba: 5, count: 3)
        bus.portWrite(0x1F7, size: 1, value: 0x21)
        for k in 0..<3 {
            XCTAssertTrue(irqRequested(bus), "sector \(k)")
            ackIRQ(bus)
            XCTAssertEqual(status(bus), 0x58)
            XCTAssertEqual(readSector(bus), expected(5 + k))
        }
        XCTAssertFalse(irqRequested(bus))
        XCTAssertEqual(status(bus), 0x50)
    }

    func testSectorCountZeroMeans256() throws {
        let bus = try makeBus()
        select(bus, lba: 0, count: 0)                 // 256 sectors > 64: IDNF
        bus.portWrite(0x1F7, size: 1, value: 0x20)
        XCTAssertEqual(status(bus), 0x51)
        XCTAssertEqual(bus.portRead(0x1F1, size: 1), 0x10)
    }

    func testWriteThenReadBack() throws {
        let bus = try makeBus()
        let data = (0..<1024).map { UInt8(truncatingIfNeeded: 255 - $0 % 251) }
        select(bus, lba: 10, count: 2)
        bus.portWrite(0x1F7, size: 1, value: 0x30)
        XCTAssertFalse(irqRequested(bus))             // no IRQ before the first sector
        XCTAssertEqual(altStatus(bus), 0x58)
        for s in 0..<2 {
            for i in stride(from: 0, to: 512, by: 2) {
                bus.portWrite(0x1F0, size: 2, value: UInt32(data[s * 512 + i]) | UInt32(data[s * 512 + i + 1]) << 8)
            }
            XCTAssertTrue(irqRequested(bus))
            ackIRQ(bus)
            XCTAssertEqual(status(bus), s == 0 ? 0x58 : 0x50)
        }
        let f = fileBytes()
        XCTAssertEqual(Array(f[10 * 512..<12 * 512]), data)
        XCTAssertEqual(Array(f[9 * 512..<10 * 512]), expected(9))
        select(bus, lba: 10, count: 2)
        bus.portWrite(0x1F7, size: 1, value: 0x20)
        XCTAssertEqual(readSector(bus) + readSector(bus), data)
    }

    func testSnapshotModeKeepsFileUnchanged() throws {
        let before = fileBytes()
        let bus = try makeBus(snapshot: true)
        select(bus, lba: 3, count: 1)
        bus.portWrite(0x1F7, size: 1, value: 0x30)
        for _ in 0..<128 { bus.portWrite(0x1F0, size: 4, value: 0xDEAD_BEEF) }
        XCTAssertEqual(status(bus), 0x50)
        XCTAssertEqual(fileBytes(), before)
        select(bus, lba: 3, count: 1)
        bus.portWrite(0x1F7, size: 1, value: 0x20)
        let s = readSector(bus)
        XCTAssertEqual(Array(s[0..<4]), [0xEF, 0xBE, 0xAD, 0xDE])
        XCTAssertEqual(Array(s[508..<512]), [0xEF, 0xBE, 0xAD, 0xDE])
    }

    func testIDNFBeyondTheEnd() throws {
        let bus = try makeBus()
        for (lba, count) in [(sectors, 1), (sectors - 1, 2), (0x0FFF_FFFF, 1)] as [(Int, UInt8)] {
            for cmd: UInt32 in [0x20, 0x30] {
                select(bus, lba: UInt32(lba), count: count)
                bus.portWrite(0x1F7, size: 1, value: cmd)
                XCTAssertTrue(irqRequested(bus))
                XCTAssertEqual(status(bus), 0x51)
                XCTAssertEqual(bus.portRead(0x1F1, size: 1), 0x10)
                XCTAssertEqual(bus.portRead(0x1F0, size: 2), 0)
            }
        }
        XCTAssertEqual(fileBytes().count, sectors * 512 + 100)
    }

    func testAbortForUnknownCommandAndCHS() throws {
        let bus = try makeBus()
        bus.portWrite(0x1F6, size: 1, value: 0xE0)
        bus.portWrite(0x1F7, size: 1, value: 0xC8)    // READ DMA: not supported
        XCTAssertTrue(irqRequested(bus))
        XCTAssertEqual(status(bus), 0x51)
        XCTAssertEqual(bus.portRead(0x1F1, size: 1), 0x04)
        bus.portWrite(0x1F6, size: 1, value: 0xA0)    // CHS read
        bus.portWrite(0x1F7, size: 1, value: 0x20)
        XCTAssertEqual(status(bus), 0x51)
        XCTAssertEqual(bus.portRead(0x1F1, size: 1), 0x04)
        for cmd: UInt32 in [0x91, 0xEF, 0xE7] {       // accepted
            bus.portWrite(0x1F7, size: 1, value: cmd)
            XCTAssertTrue(irqRequested(bus))
            XCTAssertEqual(status(bus), 0x50)
            XCTAssertEqual(bus.portRead(0x1F1, size: 1), 0)
        }
    }

    func testAbsentSlave() throws {
        let bus = try makeBus()
        select(bus, lba: 0, count: 1, slave: true)
        XCTAssertEqual(status(bus), 0)
        XCTAssertEqual(altStatus(bus), 0)
        bus.portWrite(0x1F7, size: 1, value: 0xEC)
        XCTAssertFalse(irqRequested(bus))
        XCTAssertEqual(status(bus), 0)
        XCTAssertEqual(bus.portRead(0x1F0, size: 2), 0)
        bus.portWrite(0x1F6, size: 1, value: 0xE0)    // back to the master: idle
        XCTAssertEqual(status(bus), 0x50)
    }

    func testSoftResetSignatureAndNIEN() throws {
        let bus = try makeBus()
        select(bus, lba: 0x123456, count: 9)
        bus.portWrite(0x1F7, size: 1, value: 0xEC)
        bus.portWrite(0x3F6, size: 1, value: 0x04 | 0x02)   // SRST, nIEN
        XCTAssertEqual(altStatus(bus), 0x80)               // BSY while held
        bus.portWrite(0x3F6, size: 1, value: 0x02)
        XCTAssertEqual(altStatus(bus), 0x50)
        XCTAssertEqual(bus.portRead(0x1F1, size: 1), 0x01)
        XCTAssertEqual(bus.portRead(0x1F2, size: 1), 0x01)
        XCTAssertEqual(bus.portRead(0x1F3, size: 1), 0x01)
        XCTAssertEqual(bus.portRead(0x1F4, size: 1), 0x00)
        XCTAssertEqual(bus.portRead(0x1F5, size: 1), 0x00)
        XCTAssertEqual(bus.portRead(0x1F0, size: 2), 0)    // IDENTIFY data gone
        // nIEN: commands complete without an interrupt
        bus.portWrite(0x1F6, size: 1, value: 0xE0)
        bus.portWrite(0x1F7, size: 1, value: 0xEF)
        XCTAssertFalse(irqRequested(bus))
        XCTAssertEqual(altStatus(bus), 0x50)
    }

    func testStateSaveRestore() throws {
        let bus = try makeBus(snapshot: true)
        select(bus, lba: 7, count: 1)
        bus.portWrite(0x1F7, size: 1, value: 0x30)
        for _ in 0..<128 { bus.portWrite(0x1F0, size: 4, value: 0x1122_3344) }
        select(bus, lba: 6, count: 2)
        bus.portWrite(0x1F7, size: 1, value: 0x20)
        let first = readSector(bus)                       // mid-command: sector 7 next
        XCTAssertEqual(first, expected(6))
        let saved = bus.saveState()
        let seventh = readSector(bus)
        XCTAssertEqual(Array(seventh[0..<4]), [0x44, 0x33, 0x22, 0x11])
        // scribble: overwrite sector 7 again and start something else
        select(bus, lba: 7, count: 1)
        bus.portWrite(0x1F7, size: 1, value: 0x30)
        for _ in 0..<128 { bus.portWrite(0x1F0, size: 4, value: 0) }
        bus.portWrite(0x1F7, size: 1, value: 0xEC)
        bus.restoreState(saved)
        XCTAssertEqual(altStatus(bus), 0x58)
        XCTAssertEqual(readSector(bus), seventh)
        XCTAssertEqual(status(bus), 0x50)
    }

    func testOpenErrors() {
        XCTAssertThrowsError(try ATADisk(path: imagePath + ".missing", snapshot: false)) { e in
            XCTAssertTrue("\(e)".contains("no such file"), "\(e)")
        }
        XCTAssertThrowsError(try ATADisk(path: NSTemporaryDirectory(), snapshot: true)) { e in
            XCTAssertTrue("\(e)".contains("directory"), "\(e)")
        }
    }

    // MARK: machine snapshots

    func makeMachine(snapshot: Bool) throws -> Machine {
        var c = Machine.Config()
        c.ramSize = 2 << 20
        c.serial = .none
        c.disk = Machine.DiskConfig(path: imagePath, snapshot: snapshot)
        return try Machine(config: c)
    }

    /// A sector of `v`, as bytes.
    func filled(_ v: UInt8) -> [UInt8] { [UInt8](repeating: v, count: 512) }

    /// WRITE SECTORS of whole sectors through the data port, 16 bits at a time.
    func writeSectors(_ bus: IOBus, lba: UInt32, _ data: [[UInt8]]) {
        select(bus, lba: lba, count: UInt8(data.count))
        bus.portWrite(0x1F7, size: 1, value: 0x30)
        for d in data { writeWords(bus, d, 0..<256) }
        XCTAssertEqual(status(bus), 0x50)
    }

    /// Words `words` of the sector `d` to the data port.
    func writeWords(_ bus: IOBus, _ d: [UInt8], _ words: Range<Int>) {
        for i in words { bus.portWrite(0x1F0, size: 2, value: UInt32(d[2 * i]) | UInt32(d[2 * i + 1]) << 8) }
    }

    func readSectors(_ bus: IOBus, lba: UInt32, count: UInt8) -> [[UInt8]] {
        select(bus, lba: lba, count: count)
        bus.portWrite(0x1F7, size: 1, value: 0x20)
        return (0..<Int(count)).map { _ in readSector(bus) }
    }

    func testMachineConfigAttachesDisk() throws {
        let m = try makeMachine(snapshot: true)
        XCTAssertEqual(m.bus.disk?.sectorCount, UInt64(sectors))
        XCTAssertEqual(m.saveSnapshot().diskBytes, 0)
    }

    /// -snapshot mode: a machine snapshot holds the written sectors; writes made after it
    /// are gone after a restore, and reads through the ports see the disk as it was.
    func testMachineSnapshotRestoresWrittenSectors() throws {
        let before = fileBytes()
        let m = try makeMachine(snapshot: true)
        writeSectors(m.bus, lba: 3, [filled(0xA3), filled(0xA4)])
        let snap = m.saveSnapshot()
        XCTAssertEqual(snap.diskBytes, 1024)
        writeSectors(m.bus, lba: 4, [filled(0xB4), filled(0xB5)])      // over a saved sector, and a new one
        XCTAssertEqual(readSectors(m.bus, lba: 3, count: 3), [filled(0xA3), filled(0xB4), filled(0xB5)])
        XCTAssertEqual(m.saveSnapshot().diskBytes, 1536)
        m.restoreSnapshot(snap)
        XCTAssertEqual(readSectors(m.bus, lba: 2, count: 4), [expected(2), filled(0xA3), filled(0xA4), expected(5)])
        XCTAssertEqual(snap.diskBytes, 1024, "the running disk's writes leaked into the snapshot")
        // a snapshot can be restored again, after more writes
        writeSectors(m.bus, lba: 3, [filled(0xC3)])
        m.restoreSnapshot(snap)
        XCTAssertEqual(readSectors(m.bus, lba: 3, count: 1), [filled(0xA3)])
        XCTAssertEqual(fileBytes(), before)
    }

    /// A write in flight: the snapshot keeps the registers, the partly filled buffer and its
    /// position, the pending interrupt and nIEN; the guest finishes the write after a restore.
    func testMachineSnapshotMidWrite() throws {
        let m = try makeMachine(snapshot: true)
        let bus = m.bus
        bus.portWrite(0x3F6, size: 1, value: UInt32(ATADisk.nIEN))
        let first = filled(0x11), second = (0..<512).map { UInt8(truncatingIfNeeded: $0 * 3) }
        select(bus, lba: 20, count: 2)
        bus.portWrite(0x1F7, size: 1, value: 0x30)
        writeWords(bus, first, 0..<256)                   // sector 20 done: IRQ pending (masked by nIEN)
        writeWords(bus, second, 0..<100)                  // sector 21: 100 of 256 words
        let snap = m.saveSnapshot()
        // scribble: finish with other data, clear nIEN, run other commands
        writeWords(bus, filled(0xEE), 100..<256)
        bus.portWrite(0x3F6, size: 1, value: 0)
        _ = readSectors(bus, lba: 7, count: 2)
        bus.portWrite(0x1F7, size: 1, value: 0xEC)
        m.restoreSnapshot(snap)
        let st = bus.disk!.saveState()
        XCTAssertEqual(st.transfer, .write)
        XCTAssertEqual(st.lba, 21)
        XCTAssertEqual(st.remaining, 1)
        XCTAssertEqual(st.bufferPos, 200)
        XCTAssertTrue(st.irqPending)
        XCTAssertEqual(st.control, ATADisk.nIEN)
        XCTAssertEqual(bus.portRead(0x1F2, size: 1), 2)   // the task file as the guest left it
        XCTAssertEqual(bus.portRead(0x1F3, size: 1), 20)
        XCTAssertEqual(altStatus(bus), 0x58)              // DRQ: more data wanted
        writeWords(bus, second, 100..<256)
        XCTAssertEqual(status(bus), 0x50)
        XCTAssertFalse(bus.disk!.saveState().irqPending)
        XCTAssertEqual(readSectors(bus, lba: 20, count: 2), [first, second])
    }

    /// Writing through to the file: a restore brings back the controller (a read in flight
    /// goes on where it was) but cannot undo the file writes made after the save.
    func testWriteThroughRestoreKeepsFileWrites() throws {
        let m = try makeMachine(snapshot: false)
        let bus = m.bus
        writeSectors(bus, lba: 2, [filled(0x22)])
        select(bus, lba: 1, count: 3)
        bus.portWrite(0x1F7, size: 1, value: 0x20)
        XCTAssertEqual(readSector(bus), expected(1))
        let snap = m.saveSnapshot()
        XCTAssertEqual(snap.diskBytes, 0)
        XCTAssertEqual(readSector(bus), filled(0x22))     // the buffer held sector 2 at the save
        writeSectors(bus, lba: 3, [filled(0x33)])
        m.restoreSnapshot(snap)
        XCTAssertEqual(altStatus(bus), 0x58)
        XCTAssertEqual(readSector(bus), filled(0x22))
        XCTAssertEqual(readSector(bus), filled(0x33), "sector 3 was written to the file after the save")
        XCTAssertEqual(status(bus), 0x50)
        XCTAssertEqual(Array(fileBytes()[3 * 512..<4 * 512]), filled(0x33))
    }
}
