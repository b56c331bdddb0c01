// IOBus: the PC's I/O port space, dispatching IN/OUT to the PIC, PIT, UARTs and the small debug ports.

import X86CPU

/// The machine's I/O port space and interrupt wiring: the CPU's `MachineBus`.
///
/// Ports decoded (all others are absent: reads give all ones, writes are dropped, and
/// with `logUnknownPorts` each absent port is reported once through `log`):
///
/// | ports | device |
/// |---|---|
/// | 0x20–0x21, 0xA0–0xA1, 0x4D0–0x4D1 | `pic` (8259A pair, ELCR) |
/// | 0x40–0x43, 0x61 | `pit` (8254; port 0x61 speaker/gate bits) |
/// | base…base+7 of each UART in `serial` | 16550A (COM1 = 0x3F8; COM2–4 only if configured) |
/// | 0x92 | system control port A: A20 (bit 1) read back, bit 0 rising requests a reset |
/// | 0xE9 | Bochs/QEMU debug console: written bytes go to `debugConsole`; reads 0xE9 |
/// | 0xF4–0xF7 | QEMU isa-debug-exit: writing V sets `exitRequest = (V << 1) \| 1`; reads 0 |
/// | 0x1F0–0x1F7, 0x3F6 | `disk` (ATA master on the primary channel, IRQ 14), only when attached |
///
/// 16- and 32-bit accesses are split into byte accesses at port, port+1, … (little
/// endian), as the ISA bus does for 8-bit devices; only the debug-exit port sees the
/// whole value (QEMU's device is 4 bytes wide), and the ATA data port 0x1F0 moves 16-bit
/// words (a 32-bit access is two words; a byte access moves a whole word, giving its low byte).
///
/// Time: devices need the current instruction count for port accesses; the machine sets
/// `clock` to a closure returning the number of instructions retired before the IN/OUT.
///
/// Run-loop contract: run the CPU until `nextDeadline` (re-read it after every IN/OUT,
/// which may move it earlier), call `advance(to: now)`, then deliver interrupts when
/// `interruptPending` (also re-check after IN/OUT: an EOI or unmask can raise INTR).
/// After every OUT check `exitRequest` and `resetRequest`.
public final class IOBus: MachineBus {
    /// The interrupt controllers.
    public let pic: PIC8259Pair
    /// The interval timer (IRQ 0).
    public let pit: PIT8254
    /// The serial ports decoded (COM1 first, by convention).
    public let serial: [UART16550]
    /// The guest's fault-event channel: bytes written to port 0x402 (a second debug console,
    /// QEMU: `-device isa-debugcon,iobase=0x402,chardev=…`). Nil: the port is absent.
    public var guestEvents: ((UInt8) -> Void)? {
        didSet { map[IOBus.eventPort] = guestEvents == nil ? IOBus.none : IOBus.eventPortDev }
    }
    /// The ATA disk on the primary IDE channel (nil: ports 0x1F0–0x1F7 and 0x3F6 are absent).
    public var disk: ATADisk? {
        didSet {
            let d = disk == nil ? IOBus.none : IOBus.ataDev
            for p in 0x1F0...0x1F7 { map[p] = d }
            map[0x3F6] = d
            if let disk { let pic = self.pic; disk.irqLine = { [unowned pic] in pic.setLevel(irq: ATADisk.irq, $0) } }
        }
    }
    /// The guest event port.
    public static let eventPort = 0x402
    /// Where bytes written to port 0xE9 go.
    public var debugConsole: (UInt8) -> Void
    /// Where diagnostic lines go (`-d ioport`).
    public var log: (String) -> Void
    /// `-d ioport`: report each absent port once.
    public var logUnknownPorts = false
    /// Current instruction count (set by the machine; devices use it on IN/OUT).
    public var clock: () -> UInt64 = { 0 }
    /// Set by a write of V to the isa-debug-exit port: the process exit status QEMU
    /// would use, `(V << 1) | 1` (the shell sees its low 8 bits). Nil until then.
    public var exitRequest: UInt32?
    /// Set by a 0→1 transition of port 0x92 bit 0 (fast reset). The machine clears it.
    public var resetRequest = false
    /// Port 0x92 as last written (bit 1 = A20 gate; the CPU keeps A20 enabled regardless).
    public private(set) var port92: UInt8 = 0x02
    /// Instruction count of the earliest device event (PIT edge, UART timeout), or UInt64.max.
    public var nextDeadline: UInt64 {
        var d = pit.nextDeadline
        for u in serial { d = min(d, u.nextDeadline) }
        return d
    }

    // Device numbers in `map`.
    static let none: UInt8 = 0, picDev: UInt8 = 1, pitDev: UInt8 = 2, port61Dev: UInt8 = 3,
               port92Dev: UInt8 = 4, debugConDev: UInt8 = 5, debugExitDev: UInt8 = 6, eventPortDev: UInt8 = 7,
               ataDev: UInt8 = 8,
               firstSerialDev: UInt8 = 16

    var map: [UInt8]                                  // port → device number (65 536 entries)
    var logged: [UInt64]                              // one bit per port already reported

    /// A bus with the given devices. UARTs are decoded at their `base`…`base+7`; at most
    /// 200 UARTs, later ones overlapping earlier ones win.
    public init(pic: PIC8259Pair, pit: PIT8254, serial: [UART16550],
                debugConsole: @escaping (UInt8) -> Void = { _ in },
                log: @escaping (String) -> Void = { _ in }) {
        self.pic = pic
        self.pit = pit
        self.serial = Array(serial.prefix(200))
        self.debugConsole = debugConsole
        self.log = log
        var m = [UInt8](repeating: IOBus.none, count: 0x10000)
        for p in [0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1] { m[p] = IOBus.picDev }
        for p in 0x40...0x43 { m[p] = IOBus.pitDev }
        m[0x61] = IOBus.port61Dev
        m[0x92] = IOBus.port92Dev
        m[0xE9] = IOBus.debugConDev
        for p in 0xF4...0xF7 { m[p] = IOBus.debugExitDev }
        for (i, u) in self.serial.enumerated() {
            for k in 0..<8 { m[(Int(u.base) + k) & 0xFFFF] = IOBus.firstSerialDev + UInt8(i) }
        }
        self.map = m
        self.logged = [UInt64](repeating: 0, count: 1024)
    }

    /// A standard PC: a fresh PIC pair, a PIT on IRQ 0 and COM1 (0x3F8, IRQ 4) sending
    /// its output to `com1Output`.
    public convenience init(com1Output: @escaping (UInt8) -> Void,
                            debugConsole: @escaping (UInt8) -> Void = { _ in },
                            log: @escaping (String) -> Void = { _ in }) {
        let pic = PIC8259Pair()
        let pit = PIT8254(pic: pic)
        let com1 = UART16550(base: 0x3F8, irq: 4, pic: pic, output: com1Output)
        self.init(pic: pic, pit: pit, serial: [com1], debugConsole: debugConsole, log: log)
    }

    // MARK: run loop

    /// Deliver the device events due by instruction count `now` (PIT edges, UART
    /// character timeouts); `nextDeadline` then lies after `now`.
    public func advance(to now: UInt64) {
        pit.advance(to: now)
        for u in serial { u.advance(to: now) }
    }

    /// Machine reset at instruction count `now` (after `resetRequest`, a triple fault or
    /// a debugger `reset`): PIC, PIT and UARTs to their power-on state, port 0x92 bit 0
    /// cleared, `resetRequest` cleared. `exitRequest` is kept.
    public func reset(now: UInt64) {
        pic.reset()
        pit.reset(now: now)
        for u in serial { u.reset() }
        disk?.reset()
        port92 &= ~1
        resetRequest = false
    }

    // MARK: MachineBus

    /// True when the master PIC asserts INTR.
    public var interruptPending: Bool { pic.interruptPending }

    /// Interrupt acknowledge: the PIC's vector (spurious base+7 if the request vanished).
    public func acknowledgeInterrupt() -> UInt8 { pic.acknowledge() }

    /// IN: `size` 1, 2 or 4 bytes from `port` (other sizes are treated as 4).
    public func portRead(_ port: UInt16, size: Int) -> UInt32 {
        let n = size == 1 ? 1 : (size == 2 ? 2 : 4)
        if n == 1 {
            let dev = map[Int(port)]
            if dev == IOBus.none { return unknownRead(port, size: 1) }
            return UInt32(readByte(port, dev))
        }
        if allAbsent(port, n) { return unknownRead(port, size: n) }
        if port == 0x1F0, let disk, map[0x1F0] == IOBus.ataDev {
            let lo = UInt32(disk.readData())
            return n == 2 ? lo : lo | UInt32(disk.readData()) << 16
        }
        var v: UInt32 = 0
        for k in 0..<n {
            let p = port &+ UInt16(k)
            let dev = map[Int(p)]
            let b = dev == IOBus.none ? UInt8(truncatingIfNeeded: unknownRead(p, size: 1)) : readByte(p, dev)
            v |= UInt32(b) << UInt32(8 * k)
        }
        return v
    }

    /// REP INSW/INSD on the ATA data port: whole units of the current sector at once.
    public func portReadBlock(_ port: UInt16, size: Int, count: Int, into p: UnsafeMutableRawPointer) -> Int {
        guard port == 0x1F0, size == 2 || size == 4, let disk, map[0x1F0] == IOBus.ataDev else { return 0 }
        let per = size / 2
        let words = min(count * per, disk.dataWordsLeft / per * per)
        return disk.readDataBlock(into: p, words: words) / per
    }

    /// REP OUTSW/OUTSD on the ATA data port.
    public func portWriteBlock(_ port: UInt16, size: Int, count: Int, from p: UnsafeRawPointer) -> Int {
        guard port == 0x1F0, size == 2 || size == 4, let disk, map[0x1F0] == IOBus.ataDev else { return 0 }
        let per = size / 2
        let words = min(count * per, disk.dataWordsLeft / per * per)
        return disk.writeDataBlock(from: p, words: words) / per
    }

    /// A write to the ATA data port only moves a word into the sector buffer: no stop.
    public func portWriteNeedsStop(_ port: UInt16) -> Bool {
        !(port == 0x1F0 && disk != nil && map[0x1F0] == IOBus.ataDev)
    }

    /// OUT: the low `size` (1, 2 or 4; other sizes are treated as 4) bytes of `value` to `port`.
    public func portWrite(_ port: UInt16, size: Int, value: UInt32) {
        let n = size == 1 ? 1 : (size == 2 ? 2 : 4)
        let v = n == 4 ? value : value & ((1 << UInt32(8 * n)) - 1)
        let dev = map[Int(port)]
        if dev == IOBus.debugExitDev {
            exitRequest = (v << 1) | 1
            return
        }
        if port == 0x1F0, dev == IOBus.ataDev, let disk {
            disk.writeData(UInt16(truncatingIfNeeded: v))
            if n == 4 { disk.writeData(UInt16(truncatingIfNeeded: v >> 16)) }
            return
        }
        if n == 1 {
            if dev == IOBus.none { unknownWrite(port, size: 1); return }
            writeByte(port, dev, UInt8(truncatingIfNeeded: v))
        } else if allAbsent(port, n) {
            unknownWrite(port, size: n)
            return
        } else {
            for k in 0..<n {
                let p = port &+ UInt16(k)
                let d = map[Int(p)]
                let b = UInt8(truncatingIfNeeded: v >> UInt32(8 * k))
                if d == IOBus.none { unknownWrite(p, size: 1) } else { writeByte(p, d, b) }
            }
        }
    }

    // MARK: dispatch

    /// Read one byte from device `dev` at `port`.
    private func readByte(_ port: UInt16, _ dev: UInt8) -> UInt8 {
        switch dev {
        case IOBus.picDev: return pic.read(port: port)
        case IOBus.pitDev: return pit.read(port: port, now: clock())
        case IOBus.port61Dev: return pit.readPort61(now: clock())
        case IOBus.port92Dev: return port92
        case IOBus.debugConDev: return 0xE9
        case IOBus.eventPortDev: return 0xE9
        case IOBus.debugExitDev: return 0
        case IOBus.ataDev:
            guard let disk else { return 0xFF }
            return port == 0x3F6 ? disk.readAltStatus() : disk.readRegister(Int(port &- 0x1F0))
        default:
            let i = Int(dev &- IOBus.firstSerialDev)
            guard i < serial.count else { return 0xFF }
            let u = serial[i]
            return u.read(offset: Int(port &- u.base), now: clock())
        }
    }

    /// Write one byte to device `dev` at `port`.
    private func writeByte(_ port: UInt16, _ dev: UInt8, _ value: UInt8) {
        switch dev {
        case IOBus.picDev: pic.write(port: port, value: value)
        case IOBus.pitDev: pit.write(port: port, value: value, now: clock())
        case IOBus.port61Dev: pit.writePort61(value: value, now: clock())
        case IOBus.port92Dev:
            if value & 1 != 0 && port92 & 1 == 0 { resetRequest = true }
            port92 = value
        case IOBus.debugConDev: debugConsole(value)
        case IOBus.eventPortDev: guestEvents?(value)
        case IOBus.debugExitDev: exitRequest = (UInt32(value) << 1) | 1
        case IOBus.ataDev:
            guard let disk else { return }
            if port == 0x3F6 { disk.writeControl(value) } else { disk.writeRegister(Int(port &- 0x1F0), value) }
        default:
            let i = Int(dev &- IOBus.firstSerialDev)
            guard i < serial.count else { return }
            let u = serial[i]
            u.write(offset: Int(port &- u.base), value: value, now: clock())
        }
    }

    /// True when none of the `n` ports from `port` is decoded.
    private func allAbsent(_ port: UInt16, _ n: Int) -> Bool {
        for k in 0..<n where map[Int(port &+ UInt16(k))] != IOBus.none { return false }
        return true
    }

    /// Read of an absent port: all ones; reported once per port when logging is on.
    @inline(never)
    private func unknownRead(_ port: UInt16, size: Int) -> UInt32 {
        if logUnknownPorts { report(port, "read", size) }
        return size == 1 ? 0xFF : (size == 2 ? 0xFFFF : 0xFFFF_FFFF)
    }

    /// Write to an absent port: dropped; reported once per port when logging is on.
    @inline(never)
    private func unknownWrite(_ port: UInt16, size: Int) {
        if logUnknownPorts { report(port, "write", size) }
    }

    /// Emit `ioport: unknown <kind> of port 0x1234 (size N)` unless `port` was reported before.
    @inline(never)
    private func report(_ port: UInt16, _ kind: String, _ size: Int) {
        let w = Int(port >> 6), bit = UInt64(1) << UInt64(port & 63)
        if logged[w] & bit != 0 { return }
        logged[w] |= bit
        log("ioport: unknown \(kind) of port 0x\(IOBus.hex4(port)) (size \(size))")
    }

    /// `port` as four lower-case hex digits.
    static func hex4(_ v: UInt16) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 4 - s.count) + s
    }
}

extension IOBus {
    /// Saved state of the bus's own ports and every device on it (machine snapshots).
    public struct State: Sendable {
        var pic: PIC8259Pair.State, pit: PIT8254.State, serial: [UART16550.State]
        var exitRequest: UInt32?, resetRequest: Bool, port92: UInt8
        var disk: ATADisk.State?
    }
    public func saveState() -> State {
        State(pic: pic.saveState(), pit: pit.saveState(), serial: serial.map { $0.saveState() },
              exitRequest: exitRequest, resetRequest: resetRequest, port92: port92, disk: disk?.saveState())
    }
    public func restoreState(_ s: State) {
        pic.restoreState(s.pic); pit.restoreState(s.pit)
        for (u, st) in zip(serial, s.serial) { u.restoreState(st) }
        exitRequest = s.exitRequest; resetRequest = s.resetRequest; port92 = s.port92
        if let d = s.disk { disk?.restoreState(d) }
    }
}
