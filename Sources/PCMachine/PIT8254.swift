// PIT8254: the 8254 programmable interval timer (ports 0x40–0x43) and the port 0x61 speaker bits, in instruction-count time.

/// The PC's 8254 interval timer: three channels clocked at 1 193 182 Hz, channel 0's
/// output wired to IRQ 0, channel 2's gate and output on port 0x61 (as QEMU's pcspk).
///
/// Time is instruction-count time: at instruction count `n` (1 instruction = 1 ns, as
/// QEMU's `-icount shift=0`) the input clock has ticked `tick(n) = ⌊n · 1193182 / 10⁹⌋`
/// times. A channel loaded at instruction count `L` has counted `d = tick(n) − tick(L)`
/// ticks at `n`; its counter and OUT are pure functions of `d` (the formulas of QEMU's
/// hw/timer/i8254*.c), so readbacks at a given instruction count are reproducible.
///
/// OUT per mode, with `c` the initial count (0 means 0x10000):
/// - 0: `d ≥ c`; 1: `d < c`; 2: `d mod c == 0 && d ≠ 0` (a one-tick pulse each period);
///   3: `d mod c < ⌈c/2⌉` (square wave); 4, 5: `d == c`. Modes 6 and 7 act as 2 and 3.
/// Channel 0 raises IRQ 0 on every rising edge of OUT: at `d = k·c` (k ≥ 1) in modes 2
/// and 3 (mode 3 needs c ≥ 2, mode 2 with c = 1 rises once), at `d = c` in modes 0, 4, 5.
///
/// The run loop runs the CPU until `nextDeadline`, then calls `advance(to:)`. If the
/// loop arrives late and several rising edges were skipped, `advance` delivers exactly
/// one edge for all of them (like lost timer ticks on a busy host): IRQ 0 is pulsed once.
public final class PIT8254 {
    /// The 8254's input clock in Hz.
    public static let frequency: UInt64 = 1_193_182

    /// One counter channel.
    struct Channel {
        var count: UInt32 = 0x10000     // initial count, 1...0x10000
        var loadTime: UInt64 = 0        // instruction count when the count was loaded
        var loadTick: UInt64 = 0        // tick(loadTime)
        var mode: UInt8 = 3             // 0...5 (6, 7 folded into 2, 3)
        var rawMode: UInt8 = 3          // mode bits as written (status readback)
        var bcd: UInt8 = 0              // BCD bit as written (stored, counting stays binary)
        var rwMode: UInt8 = 3           // 1 lobyte, 2 hibyte, 3 lobyte then hibyte
        var readState: UInt8 = 3        // next byte of a counter read (3 = low, 4 = high)
        var writeState: UInt8 = 3       // next byte of a count write (3 = low, 4 = high)
        var writeLatch: UInt8 = 0       // low byte waiting for its high byte
        var latchedCount: UInt16 = 0    // counter latch value
        var countLatched: UInt8 = 0     // 0 none, else the read sequence left (1, 2, 3)
        var status: UInt8 = 0           // read-back status latch value
        var statusLatched = false       // the status latch is full
        var gate = true                 // GATE input
        var counting = true             // false between a control word and the count write
    }

    var channels = [Channel(), Channel(), Channel()]
    var irqLine = false                 // channel 0 OUT as last driven onto IRQ 0
    var lastAdvanceTick: UInt64 = 0     // tick of the last advance / line update
    var refreshToggle: UInt8 = 0        // port 0x61 bit 4, flips on each read (QEMU)
    var speakerData: UInt8 = 0          // port 0x61 bit 1
    let pic: PIC8259Pair?               // IRQ 0 goes here (nil: unconnected)
    /// Instruction count of channel 0's next rising OUT edge, or UInt64.max.
    public private(set) var nextDeadline: UInt64 = .max

    /// A PIT in its reset state at instruction count 0: all channels mode 3 with count
    /// 0x10000 (channel 0 interrupts at 18.2 Hz once the PIC lets it), channel 2's gate low.
    public init(pic: PIC8259Pair?) {
        self.pic = pic
        channels[2].gate = false
        recomputeDeadline()
    }

    /// Machine reset at instruction count `now`: the reset state of `init`, counting
    /// from `now`. The IRQ 0 line is left as it is (as QEMU).
    public func reset(now: UInt64) {
        let t = PIT8254.tick(at: now)
        channels = [Channel(), Channel(), Channel()]
        for i in 0..<3 { channels[i].loadTime = now; channels[i].loadTick = t }
        channels[2].gate = false
        lastAdvanceTick = t
        speakerData = 0
        recomputeDeadline()
    }

    // MARK: time

    /// Input clock ticks elapsed by instruction count `n`: ⌊n · 1193182 / 10⁹⌋, exact.
    @inline(__always)
    public static func tick(at n: UInt64) -> UInt64 {
        let p = n.multipliedFullWidth(by: frequency)
        return UInt64(1_000_000_000).dividingFullWidth((p.high, p.low)).quotient
    }

    /// The first instruction count `n` with `tick(at: n) ≥ t` (UInt64.max if beyond range).
    public static func time(ofTick t: UInt64) -> UInt64 {
        let p = t.multipliedFullWidth(by: 1_000_000_000)
        if p.high >= frequency { return .max }
        let (q, r) = frequency.dividingFullWidth((p.high, p.low))
        if r == 0 { return q }
        return q == .max ? .max : q + 1
    }

    // MARK: run loop

    /// Bring channel 0's IRQ line up to instruction count `now` (≥ the previous call):
    /// if any rising edge of OUT happened since the last call, IRQ 0 gets one edge
    /// (lowered first if it was high), then the line is left at OUT(now).
    public func advance(to now: UInt64) {
        let t = PIT8254.tick(at: now)
        updateLine(toTick: t)
        recomputeDeadline()
    }

    /// Drive IRQ 0 for the interval (lastAdvanceTick, t]: one edge if OUT rose in it
    /// (lower, then raise), then lower the line if OUT is low at t. The line never rises
    /// except at a computed edge or a count load, as in QEMU.
    private func updateLine(toTick t: UInt64) {
        let ch = channels[0]
        guard t >= lastAdvanceTick else { return }
        if ch.counting {
            let d0 = lastAdvanceTick &- ch.loadTick
            let d1 = t &- ch.loadTick
            if let edge = PIT8254.nextRisingEdge(ch, after: d0), edge <= d1 {
                pic?.lower(irq: 0)
                pic?.raise(irq: 0)
                irqLine = true
            }
            if irqLine && !PIT8254.out(ch, d1) {
                irqLine = false
                pic?.lower(irq: 0)
            }
        }
        lastAdvanceTick = t
    }

    /// Drive IRQ 0 to `level` (the PIC does its own edge detection).
    private func setLine(_ level: Bool) {
        irqLine = level
        pic?.setLevel(irq: 0, level)
    }

    /// nextDeadline from channel 0's state and the last advance.
    private func recomputeDeadline() {
        let ch = channels[0]
        guard ch.counting, let e = PIT8254.nextRisingEdge(ch, after: lastAdvanceTick &- ch.loadTick) else {
            nextDeadline = .max; return
        }
        let (abs, o) = ch.loadTick.addingReportingOverflow(e)
        nextDeadline = o ? .max : PIT8254.time(ofTick: abs)
    }

    /// OUT of `ch` after `d` ticks of counting (the QEMU formulas; see the type comment).
    static func out(_ ch: Channel, _ d: UInt64) -> Bool {
        let c = UInt64(ch.count)
        switch ch.mode {
        case 0: return d >= c
        case 1: return d < c
        case 2: return d % c == 0 && d != 0
        case 3: return d % c < (c + 1) >> 1
        default: return d == c
        }
    }

    /// The smallest tick count `t > d` at which OUT of `ch` rises, or nil if it never does.
    static func nextRisingEdge(_ ch: Channel, after d: UInt64) -> UInt64? {
        let c = UInt64(ch.count)
        switch ch.mode {
        case 0, 4, 5:
            return d < c ? c : nil
        case 2:
            if c == 1 { return d < 1 ? 1 : nil }
            let (m, o) = (d / c &+ 1).multipliedReportingOverflow(by: c)
            return o ? nil : m
        case 3:
            if c < 2 { return nil }
            let (m, o) = (d / c &+ 1).multipliedReportingOverflow(by: c)
            return o ? nil : m
        default:
            return nil
        }
    }

    /// The counter value of `ch` at tick distance `d` (QEMU's formulas; mode 3 counts by 2).
    static func counter(_ ch: Channel, _ d: UInt64) -> UInt16 {
        guard ch.counting else { return UInt16(truncatingIfNeeded: ch.count) }
        let c = UInt64(ch.count)
        switch ch.mode {
        case 2: return UInt16(truncatingIfNeeded: c &- d % c)
        case 3: return UInt16(truncatingIfNeeded: c &- (d &* 2) % c)
        default: return UInt16(truncatingIfNeeded: c &- d)
        }
    }

    // MARK: ports

    /// Read port 0x40–0x42 (counter or latched status/count) at instruction count `now`;
    /// port 0x43 reads 0 (as QEMU). Other port numbers read 0xFF.
    public func read(port: UInt16, now: UInt64) -> UInt8 {
        guard port >= 0x40, port <= 0x42 else { return port == 0x43 ? 0 : 0xFF }
        let i = Int(port - 0x40)
        var ch = channels[i]
        defer { channels[i] = ch }
        if ch.statusLatched {
            ch.statusLatched = false
            return ch.status
        }
        if ch.countLatched != 0 {
            switch ch.countLatched {
            case 2:
                ch.countLatched = 0
                return UInt8(truncatingIfNeeded: ch.latchedCount >> 8)
            case 3:
                ch.countLatched = 2
                return UInt8(truncatingIfNeeded: ch.latchedCount)
            default:
                ch.countLatched = 0
                return UInt8(truncatingIfNeeded: ch.latchedCount)
            }
        }
        let count = PIT8254.counter(ch, ticks(ch, now))
        switch ch.readState {
        case 2: return UInt8(truncatingIfNeeded: count >> 8)
        case 3: ch.readState = 4; return UInt8(truncatingIfNeeded: count)
        case 4: ch.readState = 3; return UInt8(truncatingIfNeeded: count >> 8)
        default: return UInt8(truncatingIfNeeded: count)
        }
    }

    /// Write port 0x40–0x42 (count bytes) or 0x43 (control word, counter latch, read-back)
    /// at instruction count `now`. Every value is accepted; other ports are ignored.
    public func write(port: UInt16, value: UInt8, now: UInt64) {
        guard port >= 0x40, port <= 0x43 else { return }
        updateLine(toTick: PIT8254.tick(at: now))
        if port == 0x43 {
            let sel = Int(value >> 6)
            if sel == 3 {                                          // read-back command
                for i in 0..<3 where value & (2 << UInt8(i)) != 0 {
                    if value & 0x20 == 0 { latchCount(i, now) }
                    if value & 0x10 == 0 && !channels[i].statusLatched {
                        let ch = channels[i]
                        let o: UInt8 = outLevel(channel: i, now: now) ? 0x80 : 0
                        let nullCount: UInt8 = ch.counting ? 0 : 0x40
                        channels[i].status = o | nullCount | (ch.rwMode << 4) | (ch.rawMode << 1) | ch.bcd
                        channels[i].statusLatched = true
                    }
                }
            } else {
                let access = (value >> 4) & 3
                if access == 0 {
                    latchCount(sel, now)                            // counter latch command
                } else {                                           // control word
                    var ch = channels[sel]
                    ch.rwMode = access
                    ch.readState = access
                    ch.writeState = access
                    ch.rawMode = (value >> 1) & 7
                    ch.mode = ch.rawMode >= 6 ? ch.rawMode - 4 : ch.rawMode
                    ch.bcd = value & 1
                    ch.counting = false                             // until the count is written
                    ch.countLatched = 0
                    ch.statusLatched = false
                    channels[sel] = ch
                }
            }
        } else {
            let i = Int(port - 0x40)
            switch channels[i].writeState {
            case 2:
                load(i, UInt32(value) << 8, now)
            case 3:
                channels[i].writeLatch = value
                channels[i].writeState = 4
            case 4:
                load(i, UInt32(channels[i].writeLatch) | UInt32(value) << 8, now)
                channels[i].writeState = 3
            default:
                load(i, UInt32(value), now)
            }
        }
        recomputeDeadline()
    }

    /// Read port 0x61: bit 0 channel 2 gate, bit 1 speaker data, bit 4 a refresh bit
    /// that toggles on every read, bit 5 channel 2 OUT.
    public func readPort61(now: UInt64) -> UInt8 {
        refreshToggle ^= 0x10
        let gate: UInt8 = channels[2].gate ? 1 : 0
        let o: UInt8 = outLevel(channel: 2, now: now) ? 0x20 : 0
        return gate | speakerData << 1 | refreshToggle | o
    }

    /// Write port 0x61: bit 0 channel 2 gate (a rising edge restarts counting in modes
    /// 1, 2, 3, 5), bit 1 speaker data.
    public func writePort61(value: UInt8, now: UInt64) {
        speakerData = (value >> 1) & 1
        setGate(channel: 2, value & 1 != 0, now: now)
    }

    /// Set channel `i`'s GATE input at instruction count `now` (only channel 2's is wired).
    public func setGate(channel i: Int, _ level: Bool, now: UInt64) {
        guard i >= 0, i < 3 else { return }
        if i == 0 { updateLine(toTick: PIT8254.tick(at: now)) }
        var ch = channels[i]
        let restart = !ch.gate && level && ch.counting && [1, 2, 3, 5].contains(ch.mode)
        if restart {
            ch.loadTime = now
            ch.loadTick = PIT8254.tick(at: now)
        }
        ch.gate = level
        channels[i] = ch
        if i == 0 && restart {
            lastAdvanceTick = ch.loadTick
            setLine(PIT8254.out(ch, 0))
            recomputeDeadline()
        }
    }

    // MARK: helpers

    /// Ticks channel `ch` has counted at instruction count `now` (0 before its load time).
    private func ticks(_ ch: Channel, _ now: UInt64) -> UInt64 {
        let t = PIT8254.tick(at: now)
        return t >= ch.loadTick ? t - ch.loadTick : 0
    }

    /// Load count `value` (0 means 0x10000) into channel `i` at `now`; starts counting.
    private func load(_ i: Int, _ value: UInt32, _ now: UInt64) {
        var ch = channels[i]
        ch.count = value & 0xFFFF == 0 ? 0x10000 : value & 0xFFFF
        ch.loadTime = now
        ch.loadTick = PIT8254.tick(at: now)
        ch.counting = true
        channels[i] = ch
        if i == 0 {
            lastAdvanceTick = ch.loadTick
            setLine(PIT8254.out(ch, 0))
        }
    }

    /// Counter latch command for channel `i` (ignored while a latched count is unread).
    private func latchCount(_ i: Int, _ now: UInt64) {
        guard i >= 0, i < 3, channels[i].countLatched == 0 else { return }
        channels[i].latchedCount = PIT8254.counter(channels[i], ticks(channels[i], now))
        channels[i].countLatched = channels[i].rwMode
    }

    /// OUT of channel `i` at instruction count `now` (a channel awaiting its count shows OUT at d = 0).
    public func outLevel(channel i: Int, now: UInt64) -> Bool {
        guard i >= 0, i < 3 else { return false }
        let ch = channels[i]
        return PIT8254.out(ch, ch.counting ? ticks(ch, now) : 0)
    }

    /// The value channel `i`'s counter would read at instruction count `now` (no side effects).
    public func counterValue(channel i: Int, now: UInt64) -> UInt16 {
        guard i >= 0, i < 3 else { return 0 }
        return PIT8254.counter(channels[i], ticks(channels[i], now))
    }
}

extension PIT8254 {
    /// Saved counter state (machine snapshots).
    public struct State: Sendable {
        var channels: [Channel], irqLine: Bool, lastAdvanceTick: UInt64, refreshToggle: UInt8, speakerData: UInt8, nextDeadline: UInt64
    }
    public func saveState() -> State {
        State(channels: channels, irqLine: irqLine, lastAdvanceTick: lastAdvanceTick, refreshToggle: refreshToggle,
              speakerData: speakerData, nextDeadline: nextDeadline)
    }
    public func restoreState(_ s: State) {
        channels = s.channels; irqLine = s.irqLine; lastAdvanceTick = s.lastAdvanceTick
        refreshToggle = s.refreshToggle; speakerData = s.speakerData; nextDeadline = s.nextDeadline
    }
}
