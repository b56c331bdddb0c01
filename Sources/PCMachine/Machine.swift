// Machine: a PC — CPU, RAM, I/O bus, console — and the run loop that ties their clocks together.
import X86CPU
#if canImport(Glibc)
import Glibc
#endif

/// How a run of the machine ended, and the process exit status it maps to.
public enum MachineExit: Equatable, Sendable {
    /// The guest wrote V to isa-debug-exit: status (V << 1) | 1, as QEMU.
    case debugExit(UInt32)
    /// The user quit (Ctrl-A x), or the guest asked for a reset with -no-reboot.
    case quit(String)
    /// Triple fault (or another processor shutdown): the one-line report.
    case shutdown(String)
    /// `-max-insns` reached.
    case instructionLimit(UInt64)
    /// HLT with interrupts disabled and nothing that could ever wake it.
    case deadlock(String)

    /// The process exit status: odd values come from the guest (isa-debug-exit), even
    /// nonzero values are swift86's own (documented in docs/usage.md).
    public var status: Int32 {
        switch self {
        case .debugExit(let v): return Int32(truncatingIfNeeded: v & 0xFF)
        case .quit: return 0
        case .shutdown: return 4
        case .instructionLimit: return 6
        case .deadlock: return 8
        }
    }
}

/// A PC with one i686 CPU, RAM, the PIC/PIT/UART bus and a console, booted from a
/// multiboot image. Time is the CPU's retired-instruction count: a run is a pure function
/// of the image, the flags and the input bytes.
public final class Machine {
    /// Console wiring of COM1.
    public enum Serial: Equatable, Sendable {
        case stdio, file(String), none
        /// Output to a file, no host input (console input comes from `feedInput`).
        case capture(String)
    }

    /// Everything a run depends on.
    public struct Config: Sendable {
        public var ramSize: UInt64 = 128 << 20
        public var commandLine = ""
        public var modules: [String] = []
        public var serial: Serial = .stdio
        public var maxInstructions: UInt64 = .max
        public var noReboot = false
        /// The primary master ATA disk (`-hda`, `-drive`); nil: none.
        public var disk: DiskConfig?
        public init() {}
    }

    /// A raw disk image and whether its writes are kept in memory (`-snapshot`).
    public struct DiskConfig: Equatable, Sendable {
        public var path: String
        public var snapshot: Bool
        public init(path: String, snapshot: Bool = false) { self.path = path; self.snapshot = snapshot }
    }

    public let config: Config
    public let memory: PhysicalMemory
    public let bus: IOBus
    public let cpu: CPU
    public let terminal: HostTerminal
    /// The loaded kernel (symbols for the debugger and logs).
    public private(set) var boot: MultibootBootState?
    /// Diagnostic log sink (`-d` output); nil when logging is off.
    public var log: ((String) -> Void)?
    /// Called when the user presses Ctrl-A c on the console (the debugger hooks in here).
    public var onMonitorKey: (() -> Void)?

    /// Build the machine: reserve RAM and wire the devices (nothing is loaded yet).
    public init(config: Config) throws {
        self.config = config
        memory = try PhysicalMemory(size: config.ramSize)
        switch config.serial {
        case .stdio: terminal = HostTerminal()
        case .file(let path): terminal = try HostTerminal.fileSink(path: path, inputFD: STDIN_FILENO)
        case .none: terminal = HostTerminal(inputFD: -1, outputFD: open("/dev/null", O_WRONLY), ownsOutput: true, escapes: false)
        case .capture(let path): terminal = try HostTerminal.fileSink(path: path, inputFD: -1)
        }
        let term = terminal
        bus = IOBus(com1Output: { term.write($0) }, debugConsole: { term.write($0) })
        if let d = config.disk { bus.disk = try ATADisk(path: d.path, snapshot: d.snapshot) }
        cpu = CPU(memory: memory, bus: bus)
        let c = cpu
        bus.clock = { [unowned c] in c.icount }
    }

    /// Load a multiboot kernel image and its modules and put the CPU in the state the
    /// multiboot specification (and QEMU's loader) leaves it in.
    public func load(kernelPath: String) throws {
        let image = try Machine.readFile(kernelPath)
        var mods: [MultibootModule] = []
        for m in config.modules {
            let path = MultibootLoader.fileName(ofModule: m)
            mods.append(MultibootModule(commandLine: m, bytes: try Machine.readFile(path)))
        }
        let st = try MultibootLoader.load(image: image, fileName: kernelPath, memory: memory,
                                          commandLine: config.commandLine, modules: mods)
        boot = st
        cpu.resetToFlatProtectedMode()
        // QEMU's option ROM leaves a GDT with a flat code segment at 0x08 and data at 0x10.
        let gdt: UInt32 = 0xC02B8
        memory.write([0, 0, 0, 0, 0, 0, 0, 0,
                      0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0,
                      0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0], at: gdt)
        cpu.setMultibootEntry(eip: st.eip, eax: st.eax, ebx: st.ebx, ecx: st.qemuECX, edx: st.qemuEDX,
                              esi: st.qemuESI, edi: st.qemuEDI, esp: st.qemuESP, ebp: st.qemuEBP,
                              eflags: st.qemuEFLAGS, cs: st.qemuCS, ds: st.qemuDataSelector,
                              gdtBase: gdt, gdtLimit: 0x17)
    }

    /// Read a whole file, or throw a one-line error naming it ("PATH: no such file or directory").
    public static func readFile(_ path: String) throws(ImageLoadError) -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw ImageLoadError(file: path, reason: String(cString: strerror(errno)).lowercased())
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n > 0 { out.append(contentsOf: buf[0..<n]) }
            if n < buf.count { break }
        }
        if ferror(f) != 0 { throw ImageLoadError(file: path, reason: "read error") }
        return out
    }

    /// The longest slice of instructions run between looks at the console input.
    static let inputSlice: UInt64 = 10_000_000

    /// Run until the guest exits, the user quits, the CPU shuts down or a limit is hit.
    public func run() -> MachineExit {
        terminal.enterRawMode()
        defer { terminal.flush(); terminal.restoreMode() }
        while true {
            if let exit = step(maxSlice: Machine.inputSlice) { return exit }
        }
    }

    /// One slice of the run loop: run the CPU to the next device deadline (or at most
    /// `maxSlice` instructions), advance the devices, feed console input. Returns a
    /// result when the run is over.
    public func step(maxSlice: UInt64) -> MachineExit? {
        let now = cpu.icount
        while irqReplayIndex < irqLog.count && irqLog[irqReplayIndex].icount <= now {
            bus.pic.pulse(irq: irqLog[irqReplayIndex].line)      // after a restore: injected at this count before
            irqReplayIndex += 1
        }
        var deadline = min(bus.nextDeadline, now &+ maxSlice)
        if replayIndex < inputLog.count { deadline = min(deadline, max(inputLog[replayIndex].icount, now &+ 1)) }
        if irqReplayIndex < irqLog.count { deadline = min(deadline, max(irqLog[irqReplayIndex].icount, now &+ 1)) }
        if deadline <= now { deadline = now &+ 1 }
        deadline = min(deadline, config.maxInstructions)
        if bus.interruptPending { cpu.interruptLineChanged() }
        let reason = cpu.run(until: deadline)
        if let v = bus.exitRequest { return .debugExit(v) }
        if let s = cpu.shutdownReason { return .shutdown(s) }
        if bus.resetRequest { return .quit("guest requested a reset (port 0x92)") }
        if reason == .halted {
            // waiting for an interrupt: jump the clock to the next device event
            if cpu.eflags & EFLAGS.IF == 0 {
                return .deadlock("CPU halted with interrupts disabled at \(hex(cpu.selector(.cs), 4)):\(hex(cpu.eip, 8))"
                                 + " (icount \(cpu.icount))")
            }
            let next = bus.nextDeadline
            if bus.interruptPending {
                cpu.interruptLineChanged()      // taken (and HLT left) at the next run
            } else if next == .max {
                if terminal.waitForInput(milliseconds: 100) == false && terminalInputEnded {
                    return .deadlock("CPU halted waiting for an interrupt that can never come (no timer, no input)")
                }
            } else {
                cpu.advanceIdle(to: min(next, config.maxInstructions))
            }
        }
        let t = cpu.icount
        bus.advance(to: t)
        if let exit = pollConsole(now: t) { return exit }
        if bus.interruptPending { cpu.interruptLineChanged() }
        if t >= config.maxInstructions { return .instructionLimit(t) }
        return nil
    }

    var terminalInputEnded = false

    /// Move console input into COM1 as far as its FIFO has room; handle Ctrl-A x / c.
    func pollConsole(now: UInt64) -> MachineExit? {
        let com1 = bus.serial[0]
        if replayIndex < inputLog.count {
            // after a snapshot restore: the input the first run received, at the same counts
            while replayIndex < inputLog.count && inputLog[replayIndex].icount <= now {
                pendingInput.append(contentsOf: inputLog[replayIndex].bytes)
                replayIndex += 1
            }
        } else if pendingInput.isEmpty {
            let input = terminal.pollInput()
            pendingInput.append(contentsOf: input.bytes)
            if !input.bytes.isEmpty { inputLog.append((now, input.bytes)); replayIndex = inputLog.count }
            if input.endOfInput { terminalInputEnded = true }
            switch input.event {
            case .quit?: return .quit("QEMU: Terminated (Ctrl-A x)")
            case .monitor?: onMonitorKey?()
            default: break
            }
        }
        if !pendingInput.isEmpty {
            let n = min(pendingInput.count, com1.receiveSpace)
            if n > 0 {
                com1.receive(Array(pendingInput.prefix(n)), now: now)
                pendingInput.removeFirst(n)
            }
        }
        return nil
    }
    var pendingInput: [UInt8] = []

    /// Queue console input (scenario files, tests): it reaches COM1 as its FIFO has room.
    public func feedInput(_ bytes: [UInt8]) {
        pendingInput.append(contentsOf: bytes)
        inputLog.append((cpu.icount, bytes))
        replayIndex = inputLog.count
    }
    /// Raise an interrupt request on PIC line `line` now, from outside any device (the
    /// debugger's `irq N`: a timer tick or a disk interrupt at a moment of your
    /// choosing). Logged with the instruction count, so that re-execution after a
    /// snapshot restore (reverse debugging) injects it at the same point again.
    public func injectIRQ(_ line: Int) {
        irqLog.removeSubrange(irqReplayIndex...)        // a new future: forget injections past this point
        irqLog.append((cpu.icount, line & 15))
        irqReplayIndex = irqLog.count
        bus.pic.pulse(irq: line)
        if bus.interruptPending { cpu.interruptLineChanged() }
    }
    /// Injected interrupts: (instruction count, line), for replay after a restore.
    var irqLog: [(icount: UInt64, line: Int)] = []
    /// Next entry of `irqLog` to replay (== count: none pending).
    var irqReplayIndex = 0
    /// Console input as received: (instruction count, bytes), for replay after a restore.
    var inputLog: [(icount: UInt64, bytes: [UInt8])] = []
    /// Next entry of `inputLog` to replay (== count: live input).
    var replayIndex = 0
}
