// GDBRemote: the GDB remote serial protocol (no emulator knowledge) — the target protocol and stop reasons.
//
// The module is split like WasmKit's debugger: `GDBTarget` is everything the protocol
// needs from a machine, `GDBSession` turns one packet into its replies (transport-free,
// unit-testable), `GDBPacket`/`GDBPacketParser` frame bytes, and `GDBServer` runs a
// session over one TCP connection with Glibc sockets. Nothing here knows the emulator.
//
// Wiring (in the executable, which knows both sides):
//
//     let server = GDBServer(target: MachineGDBTarget(debugger))   // adapter: GDBTarget → Debugger
//     let port = try server.listen(port: 1234)                      // 0 picks a free port
//     print("gdb stub listening on 127.0.0.1:\(port)")
//     switch try server.run() { case .detached: …; case .killed, .disconnected: … }
//
// What stock gdb 13 gets: a target description (i386, integer registers + the x87 ones
// gdb insists on, reported unavailable), `g`/`G`/`p`/`P`, `m`/`M`/`X` (partial reads
// at page granularity), `c`/`s`/`C`/`S`/`vCont` (with range stepping `r`), `Z0`–`Z4`,
// stop replies with swbreak/hwbreak/watch/rwatch/awatch, Ctrl-C, `monitor` (qRcmd),
// `D`, `k`/`vKill`, QStartNoAckMode. One thread (id 1); no non-stop mode, no vFile,
// no reverse execution (yet).

/// The kinds of `Z`/`z` packets, numbered as on the wire (`Z0`…`Z4`).
public enum GDBBreakpointKind: Int, Sendable, CaseIterable {
    case software = 0       // Z0: the target stops before executing `address` (no int3 is written)
    case hardware = 1       // Z1: the same, as a "hardware" breakpoint
    case writeWatch = 2     // Z2: stop after an instruction writes any byte of [address, address+length)
    case readWatch = 3      // Z3: stop after an instruction reads it
    case accessWatch = 4    // Z4: stop after an instruction reads or writes it
}

/// Why the target stopped, as reported to gdb in a stop reply.
///
/// GDB signal numbers are gdb's own, which coincide with Linux's for the usual ones:
/// 5 = SIGTRAP (step done, breakpoint), 2 = SIGINT (Ctrl-C), 11 = SIGSEGV, 4 = SIGILL.
public enum GDBStopReason: Equatable, Sendable {
    /// Stopped with a signal and no more detail (`T<sig>`): a completed step is `.signal(5)`.
    case signal(UInt8)
    /// Hit a `Z0` breakpoint (`T05swbreak:;`). EIP must be the breakpoint's address:
    /// gdb trusts the stub (swbreak+) and does not back the PC up after an int3.
    case softwareBreakpoint
    /// Hit a `Z1` breakpoint (`T05hwbreak:;`), EIP at the breakpoint's address.
    case hardwareBreakpoint
    /// A watchpoint triggered (`T05watch:`/`rwatch:`/`awatch:<address>;`) after the access;
    /// `kind` is one of the three watch kinds, `address` the watched address that was hit.
    case watchpoint(GDBBreakpointKind, address: UInt32)
    /// The program exited with a status (`W<status>`); gdb considers the process gone.
    case exited(UInt8)
    /// The program was terminated by a signal (`X<sig>`); gdb considers the process gone.
    case terminated(UInt8)
}

/// What a debugged machine offers the protocol. Called only from the thread that runs
/// the session (`GDBServer.run` or `GDBSession.handle`), one call at a time.
///
/// Registers are numbered as gdb numbers them for i386, and as `GDBSession.targetXML`
/// describes them: 0 eax, 1 ecx, 2 edx, 3 ebx, 4 esp, 5 ebp, 6 esi, 7 edi, 8 eip, 9 eflags,
/// 10 cs, 11 ss, 12 ds, 13 es, 14 fs, 15 gs (segment selectors, zero-extended), then the
/// x87 registers 16…31 (st0–st7, fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop) that
/// gdb's `org.gnu.gdb.i386.core` feature insists on: the target never supplies them and
/// the stub reports them unavailable (`x…x`), so gdb prints `<unavailable>` for them.
public protocol GDBTarget: AnyObject {
    /// The 16 integer registers in gdb's order (see above). Fewer entries: the missing
    /// ones are reported unavailable; more: the extra ones are ignored.
    func readRegisters() -> [UInt32]
    /// Sets register `index` (0…15); false if it cannot be written (reply `E01`).
    func writeRegister(_ index: Int, _ value: UInt32) -> Bool
    /// `count` bytes of the linear (debugger's view of) memory at `address`, or nil if
    /// any byte cannot be read (unmapped): the reply is then an error.
    func readMemory(_ address: UInt32, count: Int) -> [UInt8]?
    /// Writes `bytes` at `address`; false if any byte cannot be written.
    func writeMemory(_ address: UInt32, _ bytes: [UInt8]) -> Bool
    /// Executes one instruction and reports why it stopped (`.signal(5)` normally).
    func step() -> GDBStopReason
    /// Runs until a stop (breakpoint, watchpoint, fault the target chooses to report,
    /// exit) or until `interrupt()` returns true, then returns `.signal(2)`. Call
    /// `interrupt()` every few thousand instructions: it costs one poll(2) system call.
    func resume(interrupt: () -> Bool) -> GDBStopReason
    /// Inserts a breakpoint or watchpoint covering `length` bytes (1 for `Z0`/`Z1` on
    /// x86); false if it cannot (reply `E01`). Inserting the same one twice is allowed.
    func insertBreakpoint(_ kind: GDBBreakpointKind, address: UInt32, length: Int) -> Bool
    /// Removes one; false if there is none such (reply `E01`).
    func removeBreakpoint(_ kind: GDBBreakpointKind, address: UInt32, length: Int) -> Bool
    /// Runs a `monitor <command>` line and returns its text output ("" for none).
    func monitor(_ command: String) -> String
    /// Control register `index` (0 cr0, 1 cr2, 2 cr3, 3 cr4), or nil (default: nil).
    func readControlRegister(_ index: Int) -> UInt32?
    /// Writes a control register; false if not possible (default: false).
    func writeControlRegister(_ index: Int, _ value: UInt32) -> Bool
    /// Physical memory for `Qqemu.PhyMemMode:1`, or nil (default: nil).
    func readPhysicalMemory(_ address: UInt32, count: Int) -> [UInt8]?
    /// Writes physical memory; false if not possible (default: false).
    func writePhysicalMemory(_ address: UInt32, _ bytes: [UInt8]) -> Bool
}

/// Optional parts of a target: control registers and physical memory. The defaults say
/// "not available", so a target that has neither needs no code for them.
extension GDBTarget {
    /// Control register `index` (0 cr0, 1 cr2, 2 cr3, 3 cr4), or nil.
    public func readControlRegister(_ index: Int) -> UInt32? { nil }
    /// Writes a control register; false if not possible.
    public func writeControlRegister(_ index: Int, _ value: UInt32) -> Bool { false }
    /// Physical memory (after `maint packet Qqemu.PhyMemMode:1`), or nil.
    public func readPhysicalMemory(_ address: UInt32, count: Int) -> [UInt8]? { nil }
    /// Writes physical memory; false if not possible.
    public func writePhysicalMemory(_ address: UInt32, _ bytes: [UInt8]) -> Bool { false }
}
