// ATADisk: an IDE hard disk (master on the primary channel) with LBA28 PIO reads and writes.
#if canImport(Glibc)
import Glibc
#endif

/// An ATA disk on the primary IDE channel: ports 0x1F0–0x1F7 (command block) and 0x3F6
/// (alternate status / device control), IRQ 14. Only the master drive exists: with the
/// DRV bit (0x1F6 bit 4) set, status reads 0 and commands are ignored, as QEMU's absent
/// slave.
///
/// Commands: IDENTIFY DEVICE (0xEC), READ SECTORS (0x20/0x21), WRITE SECTORS (0x30/0x31),
/// INITIALIZE DEVICE PARAMETERS (0x91), SET FEATURES (0xEF), FLUSH CACHE (0xE7/0xEA).
/// Any other command ends with ERR and ABRT in the error register. READ/WRITE with CHS
/// addressing (0x1F6 bit 6 clear) also end with ABRT: only LBA28 is supported. A transfer
/// that would reach a sector beyond the disk ends with ERR and IDNF before any data moves.
///
/// Timing: every command completes at once (BSY is never seen except while SRST is held).
/// The interrupt is raised as a real drive does: for reads and IDENTIFY when each sector is
/// ready to be read (DRQ), for writes after each sector is written, for the other commands
/// at completion; never while nIEN (0x3F6 bit 1) is set. Reading 0x1F7 clears it, reading
/// 0x3F6 does not.
///
/// Storage: the raw image file, whose size rounded down to 512 bytes is the capacity
/// (at most 2^28 − 1 sectors). Writes go to the file with pwrite, or in `snapshot`
/// mode (the file opened read-only) to an in-memory overlay of written sectors, which is
/// part of the device state saved in machine snapshots. (Without `snapshot`, restoring a
/// machine snapshot does not undo writes already made to the file.)
public final class ATADisk {
    // status bits
    public static let BSY: UInt8 = 0x80, DRDY: UInt8 = 0x40, DF: UInt8 = 0x20, DSC: UInt8 = 0x10,
                      DRQ: UInt8 = 0x08, ERR: UInt8 = 0x01
    // error bits
    public static let ABRT: UInt8 = 0x04, IDNF: UInt8 = 0x10
    /// nIEN and SRST in the device control register.
    public static let nIEN: UInt8 = 0x02, SRST: UInt8 = 0x04
    /// The interrupt line (primary channel).
    public static let irq = 14
    /// Model string reported by IDENTIFY.
    public static let model = "SWIFT86 HARDDISK"

    /// The image file as given.
    public let path: String
    /// Capacity in 512-byte sectors.
    public let sectorCount: UInt64
    /// Writes kept in memory (the file is never written).
    public let snapshot: Bool
    let fd: Int32

    /// Drives the interrupt line (the bus wires it to the PIC's IRQ 14).
    public var irqLine: (Bool) -> Void = { _ in }

    enum Transfer: UInt8, Sendable { case none, read, write }

    /// Everything that changes as the guest drives the disk (machine snapshots).
    public struct State: Sendable {
        var error: UInt8 = 1, features: UInt8 = 0, count: UInt8 = 1, lbaLow: UInt8 = 1,
            lbaMid: UInt8 = 0, lbaHigh: UInt8 = 0, device: UInt8 = 0,
            status: UInt8 = ATADisk.DRDY | ATADisk.DSC, control: UInt8 = 0
        var transfer: Transfer = .none
        /// Sector being transferred and sectors left (including it).
        var lba: UInt64 = 0, remaining: Int = 0
        var buffer = [UInt8](repeating: 0, count: 512)
        var bufferPos = 0
        var irqPending = false
        /// Written sectors in snapshot mode.
        var overlay: [UInt64: [UInt8]] = [:]
        /// Bytes of written sectors in the overlay.
        public var overlayBytes: Int { overlay.count * 512 }
    }
    var s = State()

    /// Open a raw image. Throws a one-line error for a missing file, a directory, an
    /// unreadable file or one smaller than a sector.
    public init(path: String, snapshot: Bool) throws(ImageLoadError) {
        self.path = path
        self.snapshot = snapshot
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw ImageLoadError(file: path, reason: String(cString: strerror(errno)).lowercased())
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw ImageLoadError(file: path, reason: "is a directory, not a disk image") }
        let f = open(path, snapshot ? O_RDONLY : O_RDWR)
        guard f >= 0 else {
            throw ImageLoadError(file: path, reason: String(cString: strerror(errno)).lowercased()
                                 + (snapshot ? "" : " (opening the disk image for writing; -snapshot keeps writes in memory)"))
        }
        var size = UInt64(max(0, Int64(st.st_size)))
        if (st.st_mode & S_IFMT) != S_IFREG {
            let end = lseek(f, 0, SEEK_END)
            size = end > 0 ? UInt64(end) : 0
        }
        let n = min(size / 512, 0x0FFF_FFFF)
        guard n > 0 else {
            close(f)
            throw ImageLoadError(file: path, reason: "disk image is smaller than one sector (512 bytes)")
        }
        fd = f
        sectorCount = n
    }

    deinit { close(fd) }

    // MARK: ports

    /// True when the guest has selected the (absent) slave.
    var slaveSelected: Bool { s.device & 0x10 != 0 }

    /// Read a command-block register, offset 1…7 from 0x1F0 (0: see `readData`).
    public func readRegister(_ offset: Int) -> UInt8 {
        switch offset {
        case 0: return UInt8(truncatingIfNeeded: readData())
        case 1: return s.error
        case 2: return s.count
        case 3: return s.lbaLow
        case 4: return s.lbaMid
        case 5: return s.lbaHigh
        case 6: return s.device | 0xA0
        default:
            if slaveSelected { return 0 }
            s.irqPending = false
            updateIRQ()
            return s.status
        }
    }

    /// Alternate status (0x3F6): the status without clearing the interrupt.
    public func readAltStatus() -> UInt8 { slaveSelected ? 0 : s.status }

    /// Write a command-block register, offset 1…7 from 0x1F0 (0: see `writeData`).
    public func writeRegister(_ offset: Int, _ v: UInt8) {
        switch offset {
        case 0: writeData(UInt16(v))
        case 1: s.features = v
        case 2: s.count = v
        case 3: s.lbaLow = v
        case 4: s.lbaMid = v
        case 5: s.lbaHigh = v
        case 6: s.device = v & ~0xA0
        default:
            if slaveSelected || s.control & ATADisk.SRST != 0 { return }
            command(v)
        }
    }

    /// Device control (0x3F6): nIEN, SRST (soft reset on the 1 → 0 edge, BSY while held).
    public func writeControl(_ v: UInt8) {
        let old = s.control
        s.control = v
        if v & ATADisk.SRST != 0 {
            s.status = ATADisk.BSY
            s.transfer = .none
            s.irqPending = false
        } else if old & ATADisk.SRST != 0 {
            setSignature()
        }
        updateIRQ()
    }

    /// One 16-bit word from the data port (0 when no data is being transferred).
    public func readData() -> UInt16 {
        var w: UInt16 = 0
        let n = withUnsafeMutableBytes(of: &w) { readDataBlock(into: $0.baseAddress!, words: 1) }
        return n == 1 ? w : 0
    }

    /// Words of the current sector left to move through the data port (0: no transfer).
    public var dataWordsLeft: Int {
        slaveSelected || s.transfer == .none ? 0 : (512 - s.bufferPos) / 2
    }

    /// REP INSW: up to `words` words of the sector buffer to `p` (little-endian, as the
    /// data port delivers them), never past the current sector's end; returns the
    /// words moved (0 when no read is in progress). The sector's end advances the
    /// transfer exactly as word-by-word reads do.
    public func readDataBlock(into p: UnsafeMutableRawPointer, words: Int) -> Int {
        guard !slaveSelected, s.transfer == .read, s.bufferPos < 512, words > 0 else { return 0 }
        let k = min(words, (512 - s.bufferPos) / 2)
        let from = s.bufferPos
        s.buffer.withUnsafeBytes { b in p.copyMemory(from: b.baseAddress! + from, byteCount: 2 * k) }
        s.bufferPos += 2 * k
        if s.bufferPos == 512 {
            s.remaining -= 1
            if s.remaining > 0 {
                s.lba += 1
                loadSector()
            } else {
                s.transfer = .none
                s.status = ATADisk.DRDY | ATADisk.DSC
            }
        }
        return k
    }

    /// One 16-bit word to the data port (ignored when no write is in progress).
    public func writeData(_ w: UInt16) {
        var v = w
        _ = withUnsafeBytes(of: &v) { writeDataBlock(from: $0.baseAddress!, words: 1) }
    }

    /// REP OUTSW: up to `words` words from `p` into the sector buffer, never past the
    /// current sector's end; returns the words taken (0 when no write is in progress).
    /// A full sector is stored exactly as word-by-word writes store it.
    public func writeDataBlock(from p: UnsafeRawPointer, words: Int) -> Int {
        guard !slaveSelected, s.transfer == .write, s.bufferPos < 512, words > 0 else { return 0 }
        let k = min(words, (512 - s.bufferPos) / 2)
        let to = s.bufferPos
        s.buffer.withUnsafeMutableBytes { b in (b.baseAddress! + to).copyMemory(from: p, byteCount: 2 * k) }
        s.bufferPos += 2 * k
        if s.bufferPos == 512 {
            guard storeSector(s.lba, s.buffer) else {
                s.transfer = .none
                finish(error: ATADisk.ABRT)
                return k
            }
            s.remaining -= 1
            if s.remaining > 0 {
                s.lba += 1
                s.bufferPos = 0
                s.status = ATADisk.DRDY | ATADisk.DSC | ATADisk.DRQ
            } else {
                s.transfer = .none
                s.status = ATADisk.DRDY | ATADisk.DSC
            }
            raiseIRQ()
        }
        return k
    }

    /// Machine reset: power-on registers (the overlay of written sectors is kept).
    public func reset() {
        let overlay = s.overlay
        s = State()
        s.overlay = overlay
        updateIRQ()
    }

    // MARK: commands

    func command(_ c: UInt8) {
        s.transfer = .none
        s.error = 0
        switch c {
        case 0xEC:
            s.buffer = identifyData()
            s.bufferPos = 0
            s.remaining = 1
            s.transfer = .read
            s.status = ATADisk.DRDY | ATADisk.DSC | ATADisk.DRQ
            raiseIRQ()
        case 0x20, 0x21, 0x30, 0x31:
            guard s.device & 0x40 != 0 else { finish(error: ATADisk.ABRT); return }   // CHS: unsupported
            let lba = UInt64(s.lbaLow) | UInt64(s.lbaMid) << 8 | UInt64(s.lbaHigh) << 16
                | UInt64(s.device & 0x0F) << 24
            let n = s.count == 0 ? 256 : Int(s.count)
            guard lba + UInt64(n) <= sectorCount else { finish(error: ATADisk.IDNF); return }
            s.lba = lba
            s.remaining = n
            if c < 0x30 {
                s.transfer = .read
                loadSector()
            } else {
                s.transfer = .write
                s.bufferPos = 0
                s.status = ATADisk.DRDY | ATADisk.DSC | ATADisk.DRQ
            }
        case 0x91, 0xEF:
            finish(error: 0)
        case 0xE7, 0xEA:
            if !snapshot { fsync(fd) }
            finish(error: 0)
        default:
            finish(error: ATADisk.ABRT)
        }
    }

    /// End a command: ready (ERR if `error` is nonzero), interrupt.
    func finish(error: UInt8) {
        s.error = error
        s.status = ATADisk.DRDY | ATADisk.DSC | (error != 0 ? ATADisk.ERR : 0)
        raiseIRQ()
    }

    /// Put sector `s.lba` in the buffer, DRQ, interrupt.
    func loadSector() {
        s.buffer = sector(s.lba)
        s.bufferPos = 0
        s.status = ATADisk.DRDY | ATADisk.DSC | ATADisk.DRQ
        raiseIRQ()
    }

    /// The signature after reset / power-on: a PATA disk.
    func setSignature() {
        s.error = 1; s.count = 1; s.lbaLow = 1; s.lbaMid = 0; s.lbaHigh = 0; s.device = 0
        s.status = ATADisk.DRDY | ATADisk.DSC
        s.transfer = .none
    }

    func raiseIRQ() { s.irqPending = true; updateIRQ() }
    func updateIRQ() { irqLine(s.irqPending && s.control & ATADisk.nIEN == 0) }

    // MARK: storage

    /// Contents of sector `lba` (< sectorCount): the overlay, else the file (zeros past its end).
    public func sector(_ lba: UInt64) -> [UInt8] {
        if let d = s.overlay[lba] { return d }
        var buf = [UInt8](repeating: 0, count: 512)
        var done = 0
        while done < 512 {
            let r = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, 512 - done, off_t(lba * 512) + off_t(done)) }
            if r <= 0 { break }
            done += r
        }
        return buf
    }

    /// Write sector `lba`: to the overlay in snapshot mode, else to the file. False on a host error.
    func storeSector(_ lba: UInt64, _ data: [UInt8]) -> Bool {
        if snapshot { s.overlay[lba] = data; return true }
        var done = 0
        while done < 512 {
            let r = data.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, 512 - done, off_t(lba * 512) + off_t(done)) }
            if r <= 0 { return false }
            done += r
        }
        return true
    }

    /// The 256 IDENTIFY DEVICE words, as bytes (little endian).
    func identifyData() -> [UInt8] {
        var w = [UInt16](repeating: 0, count: 256)
        let heads: UInt64 = 16, spt: UInt64 = 63
        let cyls = max(1, min(sectorCount / (heads * spt), 16383))
        func put(_ str: String, _ first: Int, _ words: Int) {
            var b = Array(str.utf8.prefix(words * 2))
            while b.count < words * 2 { b.append(0x20) }
            for i in 0..<words { w[first + i] = UInt16(b[2 * i]) << 8 | UInt16(b[2 * i + 1]) }
        }
        w[0] = 0x0040                                   // fixed disk, ATA
        w[1] = UInt16(cyls); w[3] = UInt16(heads); w[6] = UInt16(spt)
        put("SW86-0000000000000001", 10, 10)             // serial number
        put("1.0", 23, 4)                               // firmware revision
        put(ATADisk.model, 27, 20)                      // model number
        w[47] = 0x8000                                  // READ/WRITE MULTIPLE: not supported
        w[49] = 0x0200                                  // LBA supported
        w[50] = 0x4000
        w[51] = 0x0200                                  // PIO mode 2 timing
        w[53] = 0x0001                                  // words 54–58 valid
        w[54] = UInt16(cyls); w[55] = UInt16(heads); w[56] = UInt16(spt)
        let chs = UInt32(cyls * heads * spt)
        w[57] = UInt16(truncatingIfNeeded: chs); w[58] = UInt16(truncatingIfNeeded: chs >> 16)
        w[59] = 0                                       // no multiple-sector setting
        w[60] = UInt16(truncatingIfNeeded: sectorCount); w[61] = UInt16(truncatingIfNeeded: sectorCount >> 16)
        w[80] = 0x00F0                                  // ATA/ATAPI-4 … 7
        w[82] = 0x4000; w[83] = 0x5000                  // FLUSH CACHE supported, no LBA48
        w[84] = 0x4000; w[85] = 0x4000; w[86] = 0x1000; w[87] = 0x4000
        var bytes = [UInt8](repeating: 0, count: 512)
        for i in 0..<256 { bytes[2 * i] = UInt8(w[i] & 0xFF); bytes[2 * i + 1] = UInt8(w[i] >> 8) }
        bytes[510] = 0xA5                               // integrity word: signature + checksum
        var sum: UInt8 = 0
        for b in bytes[0..<511] { sum &+= b }
        bytes[511] = 0 &- sum
        return bytes
    }

    // MARK: snapshots

    /// The controller state and, in snapshot mode, the overlay of written sectors. Cheap:
    /// the overlay and the transfer buffer are shared copy-on-write with the running disk;
    /// its next write after a save copies the overlay's table (one entry per written
    /// sector, the sectors' bytes stay shared).
    public func saveState() -> State { s }
    /// Back to a saved state: the registers, a PIO transfer in flight at the same word, the
    /// pending interrupt and nIEN, and the overlay (so reads see the sectors as they were).
    /// Writes already made to the file (not in snapshot mode) are not undone. The
    /// interrupt line's level is part of the PIC's saved state, so it is not driven here.
    public func restoreState(_ st: State) { s = st }
}
