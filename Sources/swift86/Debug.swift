// Debug: `swift86 debug` (the REPL) and the GDB stub (`boot -s -S`), wiring GDBRemote to Debugger.
import Debugger
import GDBRemote
import PCMachine
import X86CPU
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT while the guest runs under the debugger; read and cleared by the run loop.
nonisolated(unsafe) var interruptFlag: sig_atomic_t = 0

func installInterruptHandler() {
    signal(SIGINT) { _ in interruptFlag = 1 }
}

/// `swift86 debug [boot options] [-x FILE] KERNEL`: the REPL, halted at the entry.
func debugCommand(_ args: [String]) throws -> Int32 {
    let o = try parseBootOptions(args, debug: true)
    let (machine, closeLog) = try makeMachine(o)
    defer { closeLog() }
    let dbg = Debugger(machine: machine)
    installInterruptHandler()
    dbg.interruptRequested = { if interruptFlag != 0 { interruptFlag = 0; return true }; return false }
    if let port = o.gdbPort {
        // the REPL and the stub at once is not supported: the stub takes over
        return try runWithGDBStub(machine, host: o.gdbHost, port: port, startHalted: true, debugger: dbg)
    }
    print("swift86 debugger: \(o.kernel), \(o.config.ramSize >> 20) MiB. \"help\" lists the commands.")
    print(dbg.currentLine())
    var lastCommand = ""
    func run(_ line: String) -> Bool {
        var cmd = line
        if cmd.trimmingSpaces().isEmpty {
            // an empty line repeats a stepping command, as in gdb
            guard ["s", "si", "stepi", "step", "n", "next", "ni", "nexti"].contains(lastCommand.split(separator: " ").first.map(String.init) ?? "") else { return true }
            cmd = lastCommand
        } else { lastCommand = cmd }
        let out = dbg.execute(cmd)
        if out == "quit" { return false }
        if !out.isEmpty { print(out) }
        fflush(stdout)
        return true
    }
    if let script = o.script {
        guard let f = fopen(script, "r") else { throw UsageError("swift86 debug: -x \(script): \(String(cString: strerror(errno)))") }
        defer { fclose(f) }
        var buf = [CChar](repeating: 0, count: 4096)
        while fgets(&buf, 4096, f) != nil {
            let line = String(cString: buf).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            print("(swift86) \(line)")
            if !run(line) { return dbg.exited?.status ?? 0 }
        }
    }
    let editor = LineEditor(prompt: "(swift86) ")   // line editing + history on a terminal, plain lines otherwise
    while true {
        guard let line = editor.readLine() else { break }
        if !run(line) { break }
    }
    return dbg.exited?.status ?? 0
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return String(s)
    }
}

/// Run the machine under the GDB stub on 127.0.0.1:`port`. With `startHalted` (-S) the
/// guest waits for gdb; otherwise it runs and gdb may attach at any time.
func runWithGDBStub(_ machine: Machine, host: String = "127.0.0.1", port: UInt16, startHalted: Bool,
                    debugger: Debugger? = nil) throws -> Int32 {
    let dbg = debugger ?? Debugger(machine: machine)
    let target = GDBAdapter(dbg)
    let server = GDBServer(target: target)
    let bound = try server.listen(host: host, port: port)
    warn("swift86: gdb stub listening on \(host.isEmpty ? "0.0.0.0" : host):\(bound)" + (startHalted ? " (guest halted until gdb continues)" : ""))
    if !startHalted {
        // run the guest until gdb connects (or the machine ends)
        while !server.connectionPending(milliseconds: 0) {
            if let e = machine.step(maxSlice: 1_000_000) { report(e); return e.status }
        }
    }
    let end = try server.run()
    if let e = dbg.exited { return e.status }
    switch end {
    case .killed: warn("swift86: killed by gdb"); return 0
    default:
        // detached or disconnected: let the guest run on, as QEMU does
        machine.terminal.enterRawMode()
        let e = machine.run()
        report(e)
        return e.status
    }
}

/// The GDB protocol's view of the debugger: linear addresses, i386 register order.
final class GDBAdapter: GDBTarget {
    let dbg: Debugger
    var cpu: CPU { dbg.cpu }
    /// Z0/Z1 breakpoints as gdb inserted them (a Z1 stop is reported as hwbreak).
    var hardware = Set<UInt32>()

    init(_ dbg: Debugger) { self.dbg = dbg }

    func readRegisters() -> [UInt32] {
        var r = Reg32.allCases.map { cpu.reg32($0) }
        r.append(cpu.eip)
        r.append(cpu.eflags)
        for s in [SegReg.cs, .ss, .ds, .es, .fs, .gs] { r.append(UInt32(cpu.selector(s))) }
        return r
    }

    func writeRegister(_ index: Int, _ value: UInt32) -> Bool {
        switch index {
        case 0..<8: cpu.setReg32(Reg32(rawValue: index)!, value); return true
        case 8: cpu.eip = value; return true
        case 9: cpu.eflags = value; return true
        default: return false
        }
    }

    func readMemory(_ address: UInt32, count: Int) -> [UInt8]? {
        let b = cpu.peekLinear(address, count: count)
        guard b.allSatisfy({ $0 != nil }) else { return nil }
        return b.map { $0! }
    }

    func writeMemory(_ address: UInt32, _ bytes: [UInt8]) -> Bool {
        var phys: [UInt32] = []
        for k in 0..<bytes.count {
            guard let pa = cpu.peekTranslate(address &+ UInt32(k)) else { return false }
            phys.append(pa)
        }
        for (k, pa) in phys.enumerated() { cpu.pokePhysical(pa, [bytes[k]]) }
        return true
    }

    func map(_ s: DebugStop) -> GDBStopReason {
        switch s {
        case .breakpoint(_, let eip):
            return hardware.contains(cpu.segmentCache(.cs).base &+ eip) ? .hardwareBreakpoint : .softwareBreakpoint
        case .watchpoint(let id, _, _, _):
            guard let w = dbg.watchpoints.first(where: { $0.id == id }) else { return .signal(5) }
            let kind: GDBBreakpointKind = w.access == .read ? .readWatch : (w.access == .access ? .accessWatch : .writeWatch)
            return .watchpoint(kind, address: w.address)
        case .interrupted: return .signal(2)
        case .exited(let e): return .exited(UInt8(truncatingIfNeeded: e.status))
        case .caughtVector(let v, _, _, _, _, _): return .signal(v == 14 || v == 13 ? 11 : 5)
        default: return .signal(5)
        }
    }

    func step() -> GDBStopReason { map(dbg.stepInstructions(1)) }

    func resume(interrupt: () -> Bool) -> GDBStopReason {
        withoutActuallyEscaping(interrupt) { check in
            let previous = dbg.interruptRequested
            dbg.interruptRequested = check
            defer { dbg.interruptRequested = previous }
            return map(dbg.resume())
        }
    }

    func insertBreakpoint(_ kind: GDBBreakpointKind, address: UInt32, length: Int) -> Bool {
        switch kind {
        case .software, .hardware:
            if kind == .hardware { hardware.insert(address) }
            dbg.addBreakpoint(.linear, address)
        case .writeWatch: dbg.addWatchpoint(.write, address, length: UInt32(max(length, 1)))
        case .readWatch: dbg.addWatchpoint(.read, address, length: UInt32(max(length, 1)))
        case .accessWatch: dbg.addWatchpoint(.access, address, length: UInt32(max(length, 1)))
        }
        return true
    }

    func removeBreakpoint(_ kind: GDBBreakpointKind, address: UInt32, length: Int) -> Bool {
        switch kind {
        case .software, .hardware:
            hardware.remove(address)
            return dbg.removeBreakpoint(.linear, address)
        case .writeWatch: return dbg.removeWatchpoint(.write, address)
        case .readWatch: return dbg.removeWatchpoint(.read, address)
        case .accessWatch: return dbg.removeWatchpoint(.access, address)
        }
    }

    func readControlRegister(_ index: Int) -> UInt32? {
        [cpu.cr0, cpu.cr2, cpu.cr3, cpu.cr4][safe: index]
    }

    func writeControlRegister(_ index: Int, _ value: UInt32) -> Bool {
        guard index >= 0 && index < 4 else { return false }
        return cpu.debugSetControlRegister([0, 2, 3, 4][index], value)
    }

    func readPhysicalMemory(_ address: UInt32, count: Int) -> [UInt8]? {
        guard UInt64(address) + UInt64(count) <= cpu.memory.size else { return nil }
        return cpu.memory.read(at: address, count: count)
    }

    func writePhysicalMemory(_ address: UInt32, _ bytes: [UInt8]) -> Bool {
        guard UInt64(address) + UInt64(bytes.count) <= cpu.memory.size else { return false }
        cpu.pokePhysical(address, bytes)
        return true
    }

    func monitor(_ command: String) -> String {
        let out = dbg.execute(command)
        return out.isEmpty || out.hasSuffix("\n") ? out : out + "\n"
    }
}

/// Run the machine on the console; Ctrl-A c enters the debugger REPL (QEMU's monitor
/// key), where `continue` returns to the console and `quit` ends the run.
func runConsole(_ machine: Machine) -> MachineExit {
    var monitorRequested = false
    machine.onMonitorKey = { monitorRequested = true }
    var dbg: Debugger?
    machine.terminal.enterRawMode()
    defer { machine.terminal.flush(); machine.terminal.restoreMode() }
    while true {
        if let e = machine.step(maxSlice: 10_000_000) { return e }
        guard monitorRequested else { continue }
        monitorRequested = false
        machine.terminal.flush()
        machine.terminal.restoreMode()
        let d = dbg ?? Debugger(machine: machine)
        dbg = d
        print("\r\nswift86 monitor (the debugger's commands; \"continue\" returns to the console)")
        print(d.currentLine())
        var early = machine.terminal.drainQueuedInput()
        func nextLine() -> String? {
            if let nl = early.firstIndex(of: 10) {
                let line = String(decoding: early[..<nl], as: UTF8.self)
                early.removeFirst(nl + 1)
                return line
            }
            if !early.isEmpty, let rest = readLine() {
                let line = String(decoding: early, as: UTF8.self) + rest
                early = []
                return line
            }
            if !early.isEmpty { defer { early = [] }; return String(decoding: early, as: UTF8.self) }
            return readLine()
        }
        while true {
            print("(swift86) ", terminator: "")
            fflush(stdout)
            guard let line = nextLine() else { return .quit("end of input in the monitor") }
            let t = line.trimmingSpaces()
            if t == "c" || t == "continue" { break }
            let out = d.execute(t)
            if out == "quit" { return .quit("quit from the monitor") }
            if !out.isEmpty { print(out) }
            if let e = d.exited { return e }
        }
        machine.terminal.enterRawMode()
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
