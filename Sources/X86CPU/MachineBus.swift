// MachineBus: what the CPU needs from the machine around it (ports, interrupts).

/// The machine side of the CPU: port I/O and the interrupt controller.
///
/// Called on cold paths only (IN/OUT, interrupt acknowledge), so an existential
/// here costs nothing measurable on the hot path.
public protocol MachineBus: AnyObject {
    /// Read `size` (1, 2 or 4) bytes from I/O port `port`. Unknown ports read all ones.
    func portRead(_ port: UInt16, size: Int) -> UInt32
    /// Write the low `size` (1, 2 or 4) bytes of `value` to I/O port `port`.
    func portWrite(_ port: UInt16, size: Int, value: UInt32)
    /// True if a write to `port` may need the machine loop's attention before the next
    /// instruction (an exit request, a new timer deadline): OUT and OUTS then end the
    /// run slice. A data port (the ATA PIO data register) says false, so REP OUTSW
    /// runs at full speed.
    func portWriteNeedsStop(_ port: UInt16) -> Bool
    /// REP INS fast path: read up to `count` units of `size` (2 or 4) bytes from `port`
    /// into `p` as that many IN instructions would, returning the units moved (fewer,
    /// or 0 when the port has no block transfer: the CPU then goes unit by unit).
    func portReadBlock(_ port: UInt16, size: Int, count: Int, into p: UnsafeMutableRawPointer) -> Int
    /// REP OUTS fast path: write up to `count` units of `size` bytes from `p` to `port`;
    /// returns the units taken (0: not supported).
    func portWriteBlock(_ port: UInt16, size: Int, count: Int, from p: UnsafeRawPointer) -> Int
    /// Interrupt acknowledge cycle: the vector of the highest-priority pending IRQ.
    /// Called only when `interruptPending` is true and EFLAGS.IF = 1.
    func acknowledgeInterrupt() -> UInt8
    /// True when the interrupt controller asserts INTR.
    var interruptPending: Bool { get }
}

extension MachineBus {
    /// By default every port write may need attention.
    public func portWriteNeedsStop(_ port: UInt16) -> Bool { true }
    /// By default no port moves blocks.
    public func portReadBlock(_ port: UInt16, size: Int, count: Int, into p: UnsafeMutableRawPointer) -> Int { 0 }
    public func portWriteBlock(_ port: UInt16, size: Int, count: Int, from p: UnsafeRawPointer) -> Int { 0 }
}
