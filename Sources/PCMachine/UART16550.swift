// UART16550: a 16550A serial port (COM1 at 0x3F8, IRQ 4) with instantaneous transmit and a 16-byte receive FIFO.

/// A National Semiconductor 16550A UART at an 8-port base (COM1 0x3F8/IRQ 4), modelled
/// on QEMU's hw/char/serial.c.
///
/// - Transmit is instantaneous: every THR write hands the byte to `output` (or, in
///   loopback mode, to the receiver) and THRE/TEMT are set again at once; with IER.THRI
///   the THR-empty interrupt re-fires after every byte (the line drops and rises, an edge).
/// - Receive: the host side calls `receive(_:now:)`; bytes go into the 16-byte FIFO
///   (FIFO mode) or RBR (16450 mode). A byte arriving with no room is lost and sets
///   LSR.OE, as on the wire; use `receiveSpace` to avoid that.
/// - Interrupt priorities (IIR): line status (OE/PE/FE/BI) 0x6 > received data 0x4 /
///   character timeout 0xC > THR empty 0x2 > modem status 0x0; 0x1 none; bits 0xC0 when
///   the FIFOs are enabled. The line is driven on the PIC at every recomputation.
/// - The character timeout (FIFO mode) fires 4 character times after the last receive
///   or RBR read with data left in the FIFO. A character time is QEMU's
///   `(10⁹ / (115200 / divisor)) · frame bits` ns = instructions; it is this device's
///   only deadline (`nextDeadline`).
/// - MSR reads DCD|DSR|CTS (0xB0) normally; in loopback mode OUT2→DCD, OUT1→RI, RTS→CTS,
///   DTR→DSR, and input from the host is ignored.
public final class UART16550 {
    /// First of the UART's eight ports (0x3F8 for COM1).
    public let base: UInt16
    /// ISA IRQ line (4 for COM1).
    public let irq: Int
    let pic: PIC8259Pair?                        // where the IRQ line goes (nil: unconnected)
    /// Where transmitted bytes go (cold path: one call per byte).
    public var output: (UInt8) -> Void

    var rbr: UInt8 = 0                           // receive buffer (16450 mode)
    var ier: UInt8 = 0                           // interrupt enable (low 4 bits)
    var iir: UInt8 = 0x01                        // interrupt identification
    var lcr: UInt8 = 0                           // line control
    var mcr: UInt8 = 0x08                        // modem control (OUT2 at reset, as QEMU)
    var lsr: UInt8 = 0x60                        // line status: THRE | TEMT
    var msr: UInt8 = 0xB0                        // modem status: DCD | DSR | CTS
    var scr: UInt8 = 0                           // scratch
    var fcr: UInt8 = 0                           // FIFO control bits that stick (0xC9)
    var divisor: UInt16 = 12                     // divisor latch (9600 baud at reset)
    var fifo = [UInt8](repeating: 0, count: 16)  // receive FIFO ring
    var fifoHead = 0                             // index of the oldest byte
    var fifoCount = 0                            // bytes in the FIFO
    var triggerLevel = 1                         // RDI trigger level in FIFO mode
    var thrInterruptPending = false              // THR-empty interrupt condition latched
    var timeoutPending = false                   // character timeout condition
    var timeoutDeadline: UInt64 = .max           // when the character timeout fires
    var charTime: UInt64 = 1_041_660             // ns per character (QEMU's formula at 9600 8N1)

    /// Instruction count of the next character-timeout check, or UInt64.max.
    public var nextDeadline: UInt64 { timeoutDeadline }

    /// A UART at `base` wired to `irq` on `pic`, in its reset state (9600 8N1, FIFOs off,
    /// MCR = OUT2), sending transmitted bytes to `output`.
    public init(base: UInt16 = 0x3F8, irq: Int = 4, pic: PIC8259Pair?, output: @escaping (UInt8) -> Void) {
        self.base = base
        self.irq = irq
        self.pic = pic
        self.output = output
    }

    /// Machine reset: registers to their power-on values, FIFOs emptied, IRQ line lowered.
    public func reset() {
        rbr = 0; ier = 0; iir = 0x01; lcr = 0; mcr = 0x08; lsr = 0x60; msr = 0xB0; scr = 0
        fcr = 0; divisor = 12; fifoHead = 0; fifoCount = 0; triggerLevel = 1
        thrInterruptPending = false; timeoutPending = false; timeoutDeadline = .max
        charTime = 1_041_660
        updateIRQ()
    }

    private var fifoEnabled: Bool { fcr & 0x01 != 0 }
    private var loopback: Bool { mcr & 0x10 != 0 }

    // MARK: host side

    /// Bytes the receiver can take now without an overrun (FIFO: 16 − count; 16450 mode:
    /// 1 if RBR is empty). Zero in loopback mode (the serial input is disconnected).
    public var receiveSpace: Int {
        if loopback { return 0 }
        if fifoEnabled { return 16 - fifoCount }
        return lsr & 0x01 == 0 ? 1 : 0
    }

    /// Bytes arrive from the host at instruction count `now`. Bytes beyond the free room
    /// are lost with LSR.OE set. Ignored in loopback mode.
    public func receive<C: Collection>(_ bytes: C, now: UInt64) where C.Element == UInt8 {
        guard !loopback, !bytes.isEmpty else { return }
        receiveInternal(bytes, now: now)
    }

    /// Put bytes into the receiver (the wire or the loopback path) and update the IRQ.
    private func receiveInternal<C: Collection>(_ bytes: C, now: UInt64) where C.Element == UInt8 {
        if fifoEnabled {
            for b in bytes {
                if fifoCount < 16 {
                    fifo[(fifoHead + fifoCount) & 15] = b
                    fifoCount += 1
                } else {
                    lsr |= 0x02                               // overrun: FIFO keeps its bytes
                }
            }
            lsr |= 0x01
            timeoutDeadline = now &+ charTime &* 4
            if timeoutDeadline < now { timeoutDeadline = .max }
        } else {
            for b in bytes {
                if lsr & 0x01 != 0 { lsr |= 0x02 }           // overrun: RBR overwritten
                rbr = b
                lsr |= 0x01
            }
        }
        updateIRQ()
    }

    /// Fire the character timeout if its deadline has passed at `now`.
    public func advance(to now: UInt64) {
        guard now >= timeoutDeadline else { return }
        timeoutDeadline = .max
        if fifoCount > 0 {
            timeoutPending = true
            updateIRQ()
        }
    }

    // MARK: guest side

    /// Read register `offset` (0–7, taken modulo 8) at instruction count `now`.
    public func read(offset: Int, now: UInt64) -> UInt8 {
        switch offset & 7 {
        case 0:
            if lcr & 0x80 != 0 { return UInt8(truncatingIfNeeded: divisor) }
            var ret: UInt8
            if fifoEnabled {
                ret = 0
                if fifoCount > 0 {
                    ret = fifo[fifoHead]
                    fifoHead = (fifoHead + 1) & 15
                    fifoCount -= 1
                }
                if fifoCount == 0 {
                    lsr &= ~0x11
                    timeoutDeadline = .max
                } else {
                    timeoutDeadline = now &+ charTime &* 4
                    if timeoutDeadline < now { timeoutDeadline = .max }
                }
                timeoutPending = false
            } else {
                ret = rbr
                lsr &= ~0x11
            }
            updateIRQ()
            return ret
        case 1:
            return lcr & 0x80 != 0 ? UInt8(truncatingIfNeeded: divisor >> 8) : ier
        case 2:
            let ret = iir
            if ret & 0x0F == 0x02 {                          // reading IIR acknowledges THRI
                thrInterruptPending = false
                updateIRQ()
            }
            return ret
        case 3:
            return lcr
        case 4:
            return mcr
        case 5:
            let ret = lsr
            if lsr & 0x12 != 0 {                             // reading clears BI and OE
                lsr &= ~0x12
                updateIRQ()
            }
            return ret
        case 6:
            if loopback {
                return (mcr & 0x0C) << 4 | (mcr & 0x02) << 3 | (mcr & 0x01) << 5
            }
            let ret = msr
            if msr & 0x0F != 0 {
                msr &= 0xF0
                updateIRQ()
            }
            return ret
        default:
            return scr
        }
    }

    /// Write `value` to register `offset` (0–7, taken modulo 8) at instruction count `now`.
    public func write(offset: Int, value: UInt8, now: UInt64) {
        switch offset & 7 {
        case 0:
            if lcr & 0x80 != 0 {
                divisor = divisor & 0xFF00 | UInt16(value)
                updateParameters()
                return
            }
            thrInterruptPending = false
            lsr &= ~0x60
            updateIRQ()
            if loopback { receiveInternal(CollectionOfOne(value), now: now) } else { output(value) }
            lsr |= 0x60
            thrInterruptPending = true
            updateIRQ()
        case 1:
            if lcr & 0x80 != 0 {
                divisor = divisor & 0x00FF | UInt16(value) << 8
                updateParameters()
                return
            }
            let changed = (ier ^ value) & 0x0F
            ier = value & 0x0F
            if changed & 0x02 != 0 {
                thrInterruptPending = ier & 0x02 != 0 && lsr & 0x20 != 0
            }
            if changed != 0 { updateIRQ() }
        case 2:
            writeFCR(value)
        case 3:
            lcr = value
            updateParameters()
        case 4:
            mcr = value & 0x1F
        case 5, 6:
            break                                            // LSR, MSR: read-only
        default:
            scr = value
        }
    }

    /// FIFO control: enable (a change flushes both FIFOs), resets, trigger level.
    private func writeFCR(_ v: UInt8) {
        var val = v
        if fcr == val { return }
        if (val ^ fcr) & 0x01 != 0 { val |= 0x06 }
        if val & 0x02 != 0 {                                 // receive FIFO reset
            lsr &= ~0x11
            timeoutDeadline = .max
            timeoutPending = false
            fifoHead = 0
            fifoCount = 0
        }
        // Transmit FIFO reset (0x04): transmission is instantaneous, nothing is queued.
        if val & 0x01 != 0 {
            iir |= 0xC0
            switch val & 0xC0 {
            case 0x00: triggerLevel = 1
            case 0x40: triggerLevel = 4
            case 0x80: triggerLevel = 8
            default: triggerLevel = 14
            }
        } else {
            iir &= ~0xC0
        }
        fcr = val & 0xC9
        updateIRQ()
    }

    /// Character time from the divisor and LCR, with QEMU's integer arithmetic
    /// (a divisor of 0 keeps the previous value).
    private func updateParameters() {
        guard divisor != 0 else { return }
        var frame: UInt64 = 1                                // start bit
        if lcr & 0x08 != 0 { frame += 1 }                   // parity
        frame += lcr & 0x04 != 0 ? 2 : 1                     // stop bits
        frame += UInt64(lcr & 0x03) + 5                      // data bits
        let speed = max(UInt64(115_200 / UInt32(divisor)), 1)
        charTime = (1_000_000_000 / speed) * frame
    }

    /// Recompute IIR from the interrupt conditions and drive the IRQ line.
    private func updateIRQ() {
        var id: UInt8 = 0x01
        if ier & 0x04 != 0 && lsr & 0x1E != 0 {
            id = 0x06
        } else if ier & 0x01 != 0 && timeoutPending {
            id = 0x0C
        } else if ier & 0x01 != 0 && lsr & 0x01 != 0 && (!fifoEnabled || fifoCount >= triggerLevel) {
            id = 0x04
        } else if ier & 0x02 != 0 && thrInterruptPending {
            id = 0x02
        } else if ier & 0x08 != 0 && msr & 0x0F != 0 {
            id = 0x00
        }
        iir = id | (iir & 0xF0)
        pic?.setLevel(irq: irq, id != 0x01)
    }

    /// True while the UART asserts its interrupt line (IIR bit 0 clear).
    public var interruptAsserted: Bool { iir & 0x01 == 0 }
}

extension UART16550 {
    /// Saved register and FIFO state (machine snapshots).
    public struct State: Sendable {
        var regs: [UInt8]          // rbr ier iir lcr mcr lsr msr scr fcr
        var divisor: UInt16, fifo: [UInt8], fifoHead: Int, fifoCount: Int, triggerLevel: Int
        var thrInterruptPending: Bool, timeoutPending: Bool, timeoutDeadline: UInt64, charTime: UInt64
    }
    public func saveState() -> State {
        State(regs: [rbr, ier, iir, lcr, mcr, lsr, msr, scr, fcr], divisor: divisor, fifo: fifo, fifoHead: fifoHead,
              fifoCount: fifoCount, triggerLevel: triggerLevel, thrInterruptPending: thrInterruptPending,
              timeoutPending: timeoutPending, timeoutDeadline: timeoutDeadline, charTime: charTime)
    }
    public func restoreState(_ s: State) {
        rbr = s.regs[0]; ier = s.regs[1]; iir = s.regs[2]; lcr = s.regs[3]; mcr = s.regs[4]
        lsr = s.regs[5]; msr = s.regs[6]; scr = s.regs[7]; fcr = s.regs[8]
        divisor = s.divisor; fifo = s.fifo; fifoHead = s.fifoHead; fifoCount = s.fifoCount; triggerLevel = s.triggerLevel
        thrInterruptPending = s.thrInterruptPending; timeoutPending = s.timeoutPending
        timeoutDeadline = s.timeoutDeadline; charTime = s.charTime
    }
}
