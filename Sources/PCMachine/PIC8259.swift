// PIC8259Pair: the PC's two cascaded 8259A interrupt controllers (master 0x20, slave 0xA0) and the ELCR.

/// The master (ports 0x20/0x21, IRQ 0–7) and slave (ports 0xA0/0xA1, IRQ 8–15) 8259A
/// programmable interrupt controllers, the slave cascaded on the master's IRQ 2, plus the
/// edge/level control registers at 0x4D0/0x4D1.
///
/// Behaviour follows QEMU's hw/intc/i8259.c: ICW1–ICW4, OCW1 (IMR), OCW2 (EOI, specific
/// EOI, rotations), OCW3 (IRR/ISR select, poll, special mask), edge-triggered lines
/// (a low→high transition sets IRR) unless the ELCR makes the line level-triggered,
/// fixed priority (or rotated priority after a rotate command), spurious IRQ 7 / IRQ 15
/// when the request vanished before the acknowledge cycle.
///
/// Devices drive lines with `raise(irq:)` / `lower(irq:)` (or `setLevel`), the CPU asks
/// `interruptPending` and calls `acknowledge()` for the vector.
public final class PIC8259Pair {
    /// One 8259A chip's state (the fields are those of the data sheet).
    struct Chip {
        var lastIRR: UInt8 = 0          // line levels as last seen (edge detection)
        var irr: UInt8 = 0              // interrupt request register
        var imr: UInt8 = 0              // interrupt mask register (OCW1)
        var isr: UInt8 = 0              // in-service register
        var priorityAdd: UInt8 = 0      // IRQ number with the highest priority (rotation)
        var irqBase: UInt8 = 0          // vector base from ICW2 (low 3 bits zero)
        var readISR = false             // OCW3 RR/RIS: reads of the command port return ISR
        var poll = false                // OCW3 P: the next read is a poll
        var specialMask = false         // OCW3 SMM
        var initState: UInt8 = 0        // 0 ready, 1 expect ICW2, 2 expect ICW3, 3 expect ICW4
        var autoEOI = false             // ICW4 AEOI
        var rotateOnAutoEOI = false     // OCW2 rotate-in-AEOI
        var specialFullyNested = false  // ICW4 SFNM
        var init4 = false               // ICW1 IC4: ICW4 follows
        var singleMode = false          // ICW1 SNGL: no ICW3
        var elcr: UInt8 = 0             // edge/level control (1 = level-triggered)
        let elcrMask: UInt8             // ELCR bits that can be set on this chip
        let isMaster: Bool              // the master ignores its IRQ 2 ISR bit in SFNM

        init(isMaster: Bool) {
            self.isMaster = isMaster
            self.elcrMask = isMaster ? 0xF8 : 0xDE
        }

        /// Reset done by ICW1 (the ELCR survives it).
        mutating func initReset() {
            lastIRR = 0; irr = 0; imr = 0; isr = 0; priorityAdd = 0; irqBase = 0
            readISR = false; poll = false; specialMask = false; initState = 0
            autoEOI = false; rotateOnAutoEOI = false; specialFullyNested = false
            init4 = false; singleMode = false
        }

        /// Priority (0 = highest) of the highest-priority bit of `mask`, 8 when none.
        func priority(of mask: UInt8) -> Int {
            if mask == 0 { return 8 }
            var p = 0
            while mask & (1 << ((p &+ Int(priorityAdd)) & 7)) == 0 { p += 1 }
            return p
        }

        /// The IRQ (0–7) this chip wants to deliver now, or -1.
        func pendingIRQ() -> Int {
            let p = priority(of: irr & ~imr)
            if p == 8 { return -1 }
            var mask = isr
            if specialMask { mask &= ~imr }
            if specialFullyNested && isMaster { mask &= ~0x04 }
            let current = priority(of: mask)
            return p < current ? (p &+ Int(priorityAdd)) & 7 : -1
        }

        /// Drive input line `irq` (0–7) to `level`.
        mutating func setLevel(_ irq: Int, _ level: Bool) {
            let m = UInt8(1) << UInt8(irq & 7)
            if elcr & m != 0 {
                if level { irr |= m; lastIRR |= m } else { irr &= ~m; lastIRR &= ~m }
            } else if level {
                if lastIRR & m == 0 { irr |= m }
                lastIRR |= m
            } else {
                lastIRR &= ~m
            }
        }

        /// Interrupt acknowledge of `irq` on this chip: IRR → ISR (unless AEOI).
        mutating func intack(_ irq: Int) {
            let m = UInt8(1) << UInt8(irq & 7)
            if autoEOI {
                if rotateOnAutoEOI { priorityAdd = UInt8((irq &+ 1) & 7) }
            } else {
                isr |= m
            }
            if elcr & m == 0 { irr &= ~m }
        }

        /// A write to the command port (offset 0) or data port (offset 1).
        mutating func write(offset: Int, _ val: UInt8) {
            if offset == 0 {
                if val & 0x10 != 0 {                       // ICW1
                    initReset()
                    initState = 1
                    init4 = val & 1 != 0
                    singleMode = val & 2 != 0
                    // LTIM (bit 3, all lines level-triggered) is not modelled, as in QEMU.
                } else if val & 0x08 != 0 {                // OCW3
                    if val & 0x04 != 0 { poll = true }
                    if val & 0x02 != 0 { readISR = val & 1 != 0 }
                    if val & 0x40 != 0 { specialMask = (val >> 5) & 1 != 0 }
                } else {                                   // OCW2
                    let cmd = val >> 5
                    switch cmd {
                    case 0, 4:                             // (clear/set) rotate in AEOI mode
                        rotateOnAutoEOI = cmd == 4
                    case 1, 5:                             // non-specific EOI (5: and rotate)
                        let p = priority(of: isr)
                        if p != 8 {
                            let irq = (p &+ Int(priorityAdd)) & 7
                            isr &= ~(1 << UInt8(irq))
                            if cmd == 5 { priorityAdd = UInt8((irq &+ 1) & 7) }
                        }
                    case 3:                                // specific EOI
                        isr &= ~(1 << (val & 7))
                    case 6:                                // set priority
                        priorityAdd = (val &+ 1) & 7
                    case 7:                                // rotate on specific EOI
                        let irq = val & 7
                        isr &= ~(1 << irq)
                        priorityAdd = (irq &+ 1) & 7
                    default:                               // 2: no operation
                        break
                    }
                }
            } else {
                switch initState {
                case 1:                                    // ICW2
                    irqBase = val & 0xF8
                    initState = singleMode ? (init4 ? 3 : 0) : 2
                case 2:                                    // ICW3 (cascade wiring is fixed)
                    initState = init4 ? 3 : 0
                case 3:                                    // ICW4
                    specialFullyNested = (val >> 4) & 1 != 0
                    autoEOI = (val >> 1) & 1 != 0
                    initState = 0
                default:                                   // OCW1
                    imr = val
                }
            }
        }
    }

    var master = Chip(isMaster: true)   // IRQ 0–7, INTR to the CPU
    var slave = Chip(isMaster: false)   // IRQ 8–15, INT to master IRQ 2
    /// Cached: the master's INT output (the CPU's INTR pin).
    public private(set) var interruptPending = false

    /// A pair in its power-on state (all IMR bits clear, vector bases 0, all edge-triggered).
    public init() {}

    /// Reset both chips, ELCRs included (machine reset).
    public func reset() {
        master = Chip(isMaster: true)
        slave = Chip(isMaster: false)
        update()
    }

    // MARK: interrupt lines

    /// Drive ISA IRQ line `irq` (0–15; other values are taken modulo 16) high.
    /// (IRQ 2 is the cascade input: the slave's output overrides whatever drives it.)
    /// On an edge-triggered line a low→high transition sets the IRR bit.
    public func raise(irq: Int) { setLevel(irq: irq, true) }

    /// An interrupt request on line `irq` (0–15, modulo 16) from outside any device (the
    /// debugger's `irq N`): the IRR bit is set as a low→high edge would set it; the
    /// line's level, which the device owns, is left alone.
    public func pulse(irq: Int) {
        let n = irq & 15
        if n < 8 { master.irr |= 1 << UInt8(n) } else { slave.irr |= 1 << UInt8(n - 8) }
        update()
    }

    /// True if line `irq` is masked in its chip's IMR (or, for 8-15, the cascade is).
    public func isMasked(irq: Int) -> Bool {
        let n = irq & 15
        if n < 8 { return master.imr & (1 << UInt8(n)) != 0 }
        return slave.imr & (1 << UInt8(n - 8)) != 0 || master.imr & 0x04 != 0
    }

    /// Drive ISA IRQ line `irq` (0–15, modulo 16) low. Clears IRR only on a level-triggered line.
    public func lower(irq: Int) { setLevel(irq: irq, false) }

    /// Drive ISA IRQ line `irq` (0–15, modulo 16) to `level`; recomputes INTR.
    public func setLevel(irq: Int, _ level: Bool) {
        let n = irq & 15
        if n < 8 { master.setLevel(n, level) } else { slave.setLevel(n - 8, level) }
        update()
    }

    /// Recompute the slave's INT (master IRQ 2 line) and the master's INTR.
    func update() {
        master.setLevel(2, slave.pendingIRQ() >= 0)
        interruptPending = master.pendingIRQ() >= 0
    }

    /// The interrupt acknowledge cycle: moves the winning request to ISR and returns its
    /// vector. With nothing left to deliver (the request vanished: masked, or a level
    /// line lowered) it returns the spurious vector base+7 of the chip concerned
    /// (IRQ 7, or IRQ 15 through the cascade) without setting any ISR bit.
    public func acknowledge() -> UInt8 {
        let irq = master.pendingIRQ()
        let vector: UInt8
        if irq >= 0 {
            if irq == 2 {
                var irq2 = slave.pendingIRQ()
                if irq2 >= 0 { slave.intack(irq2) } else { irq2 = 7 }
                vector = slave.irqBase | UInt8(irq2)
            } else {
                vector = master.irqBase | UInt8(irq)
            }
            master.intack(irq)
        } else {
            vector = master.irqBase | 7
        }
        update()
        return vector
    }

    // MARK: ports

    /// Read a byte from 0x20/0x21 (master), 0xA0/0xA1 (slave) or 0x4D0/0x4D1 (ELCR).
    /// Command port: IRR or ISR per OCW3, or the poll byte (0x80|irq, or 0) after an OCW3 poll;
    /// data port: IMR. Any other port number reads 0xFF.
    public func read(port: UInt16) -> UInt8 {
        switch port {
        case 0x20, 0x21: return readChip(master: true, offset: Int(port & 1))
        case 0xA0, 0xA1: return readChip(master: false, offset: Int(port & 1))
        case 0x4D0: return master.elcr
        case 0x4D1: return slave.elcr
        default: return 0xFF
        }
    }

    /// Write a byte to one of the ports listed in `read(port:)`; others are ignored.
    public func write(port: UInt16, value: UInt8) {
        switch port {
        case 0x20, 0x21: master.write(offset: Int(port & 1), value)
        case 0xA0, 0xA1: slave.write(offset: Int(port & 1), value)
        case 0x4D0: master.elcr = value & master.elcrMask
        case 0x4D1: slave.elcr = value & slave.elcrMask
        default: return
        }
        update()
    }

    /// Read of one chip's command (offset 0) or data (offset 1) port, poll mode included.
    private func readChip(master isMaster: Bool, offset: Int) -> UInt8 {
        var chip = isMaster ? master : slave
        let result: UInt8
        if chip.poll {
            chip.poll = false
            let irq = chip.pendingIRQ()
            if irq >= 0 {
                chip.intack(irq)
                result = 0x80 | UInt8(irq)
            } else {
                result = 0
            }
        } else if offset == 0 {
            result = chip.readISR ? chip.isr : chip.irr
        } else {
            result = chip.imr
        }
        if isMaster { master = chip } else { slave = chip }
        update()
        return result
    }

    // MARK: inspection (debugger, tests)

    /// IRR, ISR, IMR, vector base and ELCR of the master (`slave == false`) or slave chip.
    public func registers(slave isSlave: Bool) -> (irr: UInt8, isr: UInt8, imr: UInt8, base: UInt8, elcr: UInt8) {
        let c = isSlave ? slave : master
        return (c.irr, c.isr, c.imr, c.irqBase, c.elcr)
    }
}

extension PIC8259Pair {
    /// Saved register state of both chips (machine snapshots).
    public struct State: Sendable { var master: Chip, slave: Chip, pending: Bool }
    public func saveState() -> State { State(master: master, slave: slave, pending: interruptPending) }
    public func restoreState(_ s: State) { master = s.master; slave = s.slave; interruptPending = s.pending }
}
