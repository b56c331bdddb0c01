// swift86: the command line — boot a multiboot kernel, or disassemble an ELF file.
import PCMachine
import X86CPU
import X86Decoder
#if canImport(Glibc)
import Glibc
#endif

/// Print one line to stderr.
func warn(_ s: String) {
    fputs(s + "\n", stderr)
}

/// A command-line error: one clear line, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ s: String) { description = s }
}

let usage = """
usage: swift86 boot [options] KERNEL        boot a multiboot ELF32 kernel
       swift86 debug [options] [-x FILE] KERNEL   the same, stopped at the entry in the debugger
       swift86 [options] -kernel KERNEL     the same, QEMU style
       swift86 disasm FILE.elf [SYMBOL|ADDR [COUNT]]
       swift86 test [--update] SCENARIO...         run fault-path scenarios (docs/testing.md)
options:
  -m SIZE              RAM size (QEMU syntax: 128, 512M, 1G, 3.5G; default 128M)
  -append STR          kernel command line
  -initrd A[,B...]     multiboot modules ("file args"; ",," is a literal comma)
  -serial stdio|file:PATH|none   where COM1 goes (default stdio)
  -d int,mmu,ioport,exec         log events (to stderr or -D FILE)
  -D FILE              write the -d log to FILE
  -hda FILE            raw disk image as the primary IDE master (ATA, IRQ 14)
  -drive file=FILE,format=raw,if=ide   the same, QEMU's long form
  -snapshot            keep disk writes in memory (the image file is not changed)
  -no-reboot           exit instead of rebooting (always the case in swift86)
  -max-insns N         stop after N instructions (exit status 6)
  --stats              print instructions, MIPS, exceptions and TLB figures at exit
  --events FILE        write the fault-event log (JSON Lines; guest events from port 0x402)
  -s                   GDB stub on tcp 127.0.0.1:1234 (-gdb tcp::PORT for another port)
  -S                   with -s: wait for gdb before running the guest
exit status: the guest's isa-debug-exit code (V<<1)|1, 0 on Ctrl-A x, 2 bad arguments
  or image, 4 triple fault, 6 instruction limit, 8 halted with interrupts disabled.
"""

/// Parse a QEMU-style size: a number (fractions allowed) with an optional K/M/G/T suffix;
/// no suffix means MiB.
func parseSize(_ s: String) throws -> UInt64 {
    var t = s
    if t.hasPrefix("size=") { t.removeFirst(5) }
    var mult: Double = 1048576.0
    if let last = t.last, last.isLetter {
        switch last {
        case "k", "K": mult = 1024.0
        case "m", "M": mult = 1048576.0
        case "g", "G": mult = 1073741824.0
        case "t", "T": mult = 1099511627776.0
        case "b", "B": mult = 1
        default: throw UsageError("swift86: -m: bad size '\(s)'")
        }
        t.removeLast()
    }
    guard let v = Double(t), v > 0, v.isFinite else { throw UsageError("swift86: -m: bad size '\(s)'") }
    let bytes = v * mult
    guard bytes < 1e13 else { throw UsageError("swift86: -m: size '\(s)' is too large") }
    return UInt64(bytes)
}

/// Parse a number in decimal or 0x-hexadecimal.
func parseNumber(_ s: String) -> UInt64? {
    if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
    return UInt64(s)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Event logs alive for the run (kept here: the CPU's hooks hold them unowned).
var eventLogs: [EventLog] = []

/// Everything `boot` and `debug` take from the command line.
struct BootOptions {
    var config = Machine.Config()
    var kernel = ""
    var logItems: Set<String> = []
    var logFile: String?
    var stats = false
    /// GDB stub port (-s = 1234, -gdb tcp::PORT); nil: no stub.
    var gdbPort: UInt16?
    /// GDB stub address (-gdb tcp:HOST:PORT); 127.0.0.1 by default.
    var gdbHost = "127.0.0.1"
    /// -S: do not start the guest until gdb (or the REPL) says so.
    var startHalted = false
    /// debug -x FILE: a command script.
    var script: String?
    /// --events FILE: the JSON Lines fault-event log.
    var events: String?
}

/// Parse a `-drive` value: `file=FILE[,format=raw][,if=ide][,media=disk][,index=0][,snapshot=on|off]`.
/// Returns the file and whether snapshot=on was given; other formats, interfaces or keys
/// are one-line errors.
func parseDrive(_ v: String) throws -> (path: String, snapshot: Bool) {
    var path: String?
    var snapshot = false
    // QEMU: ",," is a literal comma inside a value
    var parts: [String] = []
    var cur = ""
    var chars = Array(v)[...]
    while let c = chars.popFirst() {
        if c == "," {
            if chars.first == "," { cur.append(","); chars.removeFirst() } else { parts.append(cur); cur = "" }
        } else { cur.append(c) }
    }
    parts.append(cur)
    for p in parts where !p.isEmpty {
        guard let eq = p.firstIndex(of: "=") else { throw UsageError("swift86: -drive: expected key=value, got '\(p)'") }
        let key = String(p[..<eq]), val = String(p[p.index(after: eq)...])
        switch key {
        case "file": path = val
        case "format":
            guard val == "raw" else { throw UsageError("swift86: -drive: format '\(val)' is not supported (only format=raw)") }
        case "if":
            guard val == "ide" else { throw UsageError("swift86: -drive: interface '\(val)' is not supported (only if=ide)") }
        case "media":
            guard val == "disk" else { throw UsageError("swift86: -drive: media '\(val)' is not supported (only media=disk)") }
        case "index":
            guard val == "0" else { throw UsageError("swift86: -drive: only index=0 (the primary master) is supported") }
        case "snapshot":
            guard val == "on" || val == "off" else { throw UsageError("swift86: -drive: snapshot=on or snapshot=off, got '\(val)'") }
            snapshot = val == "on"
        default: throw UsageError("swift86: -drive: unsupported option '\(key)' (known: file, format, if, media, index, snapshot)")
        }
    }
    guard let file = path, !file.isEmpty else { throw UsageError("swift86: -drive: file=FILE is required") }
    return (file, snapshot)
}

/// Parse `boot`/`debug` arguments (QEMU spellings where they mean the same thing).
func parseBootOptions(_ args: [String], debug: Bool) throws -> BootOptions {
    var o = BootOptions()
    var config = Machine.Config()
    var kernel: String?
    var logItems: Set<String> = []
    var logFile: String?
    var stats = false
    var diskPath: String?
    var diskSnapshot = false
    var i = 0
    func value(_ flag: String) throws -> String {
        i += 1
        guard i < args.count else { throw UsageError("swift86: option \(flag) needs a value") }
        return args[i]
    }
    while i < args.count {
        let a = args[i]
        switch a {
        case "-m": config.ramSize = try parseSize(try value(a))
        case "-append": config.commandLine = try value(a)
        case "-initrd": config.modules = MultibootLoader.splitInitrdList(try value(a))
        case "-kernel": kernel = try value(a)
        case "-serial":
            let v = try value(a)
            if v == "stdio" { config.serial = .stdio }
            else if v == "none" || v == "null" { config.serial = .none }
            else if v.hasPrefix("file:") && v.count > 5 { config.serial = .file(String(v.dropFirst(5))) }
            else { throw UsageError("swift86: -serial: expected stdio, none or file:PATH, got '\(v)'") }
        case "-d":
            for item in try value(a).split(separator: ",") {
                let s = String(item)
                guard ["int", "mmu", "ioport", "exec"].contains(s) else {
                    throw UsageError("swift86: -d: unknown log item '\(s)' (known: int, mmu, ioport, exec)")
                }
                logItems.insert(s)
            }
        case "-D": logFile = try value(a)
        case "-no-reboot": config.noReboot = true
        case "-hda":
            if diskPath != nil { throw UsageError("swift86: only one disk is supported (-hda / -drive given twice)") }
            diskPath = try value(a)
        case "-drive":
            if diskPath != nil { throw UsageError("swift86: only one disk is supported (-hda / -drive given twice)") }
            let (path, snap) = try parseDrive(try value(a))
            diskPath = path
            if snap { diskSnapshot = true }
        case "-snapshot": diskSnapshot = true
        case "-max-insns":
            let v = try value(a)
            guard let n = parseNumber(v), n > 0 else { throw UsageError("swift86: -max-insns: bad count '\(v)'") }
            config.maxInstructions = n
        case "--stats", "-stats": stats = true
        case "-s": o.gdbPort = 1234
        case "-S": o.startHalted = true
        case "-gdb":
            let v = try value(a)
            let parts = v.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts[0] == "tcp", let port = UInt16(parts[2]) else {
                throw UsageError("swift86: -gdb: expected tcp::PORT or tcp:HOST:PORT, got '\(v)'")
            }
            o.gdbPort = port
            if !parts[1].isEmpty { o.gdbHost = parts[1] }
        case "-x" where debug: o.script = try value(a)
        case "--events", "-events": o.events = try value(a)
        case "-h", "-help", "--help": print(usage); exit(0)
        default:
            if a.hasPrefix("-") { throw UsageError("swift86: unknown option '\(a)'\n" + usage) }
            if kernel != nil { throw UsageError("swift86: more than one kernel given ('\(kernel!)' and '\(a)')") }
            kernel = a
        }
        i += 1
    }
    guard let kernelPath = kernel else { throw UsageError("swift86: no kernel image given\n" + usage) }
    guard config.ramSize >= 1 << 20, config.ramSize <= PhysicalMemory.maximumSize else {
        throw UsageError("swift86: -m: RAM size must be between 1M and \(PhysicalMemory.maximumSize >> 20)M")
    }
    if let p = diskPath { config.disk = Machine.DiskConfig(path: p, snapshot: diskSnapshot) }
    o.config = config; o.kernel = kernelPath; o.logItems = logItems; o.logFile = logFile; o.stats = stats
    return o
}

/// Build the machine the options describe, with its logging, and load the kernel.
func makeMachine(_ o: BootOptions) throws -> (Machine, closeLog: () -> Void) {
    let config = o.config, logItems = o.logItems, logFile = o.logFile, kernelPath = o.kernel
    let machine = try Machine(config: config)
    // logging
    var logSink: UnsafeMutablePointer<FILE> = stderr
    if let path = logFile {
        guard let f = fopen(path, "w") else { throw UsageError("swift86: -D \(path): \(String(cString: strerror(errno)))") }
        logSink = f
    }
    let sink = logSink
    let logLine: (String) -> Void = { fputs($0 + "\n", sink) }
    if logItems.contains("int") {
        machine.cpu.onInterrupt = { e in
            var s = "int: icount=\(e.icount) vec=0x\(hex(e.vector, 2)) \(e.external ? "IRQ" : Fault.name(e.vector))"
            if let ec = e.errorCode { s += " err=0x\(hex(ec, 4))" }
            if e.vector == 14 { s += " cr2=0x\(hex(e.cr2, 8))" }
            s += " cs:eip=\(hex(e.cs, 4)):\(hex(e.eip, 8)) cpl=\(e.cpl) esp=0x\(hex(e.esp, 8))"
            logLine(s)
        }
    }
    if logItems.contains("mmu") { machine.cpu.onMMUEvent = { logLine("mmu: \($0)") } }
    if logItems.contains("ioport") { machine.bus.logUnknownPorts = true; machine.bus.log = logLine }
    if logItems.contains("exec") { machine.cpu.onBlockExec = { cs, eip, n in logLine("exec: \(hex(cs, 4)):\(hex(eip, 8)) icount=\(n)") } }

    var eventFile: UnsafeMutablePointer<FILE>?
    if let path = o.events {
        guard let f = fopen(path, "w") else { throw UsageError("swift86: --events \(path): \(String(cString: strerror(errno)))") }
        eventFile = f
        let log = EventLog(machine: machine) { fputs($0 + "\n", f) }
        eventLogs.append(log)
    }
    try machine.load(kernelPath: kernelPath)
    return (machine, {
        if logFile != nil { fclose(sink) }
        if let f = eventFile { fclose(f) }
    })
}

/// `swift86 boot`: parse flags, build the machine, run it (or hand it to gdb), report.
func bootCommand(_ args: [String]) throws -> Int32 {
    let o = try parseBootOptions(args, debug: false)
    let (machine, closeLog) = try makeMachine(o)
    defer { closeLog() }
    if let port = o.gdbPort {
        return try runWithGDBStub(machine, host: o.gdbHost, port: port, startHalted: o.startHalted)
    }
    let t0 = now()
    let exit = runConsole(machine)
    let dt = now() - t0
    fflush(stdout)
    report(exit)
    if o.stats { printStats(machine, seconds: dt) }
    return exit.status
}

/// One line on stderr for how the run ended (nothing for a guest's own debug exit).
func report(_ exit: MachineExit) {
    switch exit {
    case .debugExit: break
    case .quit(let why): warn("swift86: \(why)")
    case .shutdown(let why): warn("swift86: \(why)")
    case .instructionLimit(let n): warn("swift86: instruction limit reached (\(n) instructions)")
    case .deadlock(let why): warn("swift86: \(why)")
    }
}

/// `--stats`: instructions, MIPS, exceptions by vector, TLB figures.
func printStats(_ m: Machine, seconds: Double) {
    let n = m.cpu.icount
    let mips = seconds > 0 ? Double(n) / seconds / 1e6 : 0
    let secs = (seconds * 1000).rounded() / 1000
    warn("swift86: \(n) instructions in \(secs) s (\((mips * 10).rounded() / 10) MIPS)")
    var parts: [String] = []
    for v in 0..<256 where m.cpu.vectorCounts[v] > 0 {
        parts.append("\(v < 32 ? Fault.name(UInt8(v)) : "vec 0x" + hex(v, 2))=\(m.cpu.vectorCounts[v])")
    }
    warn("swift86: exceptions and interrupts: " + (parts.isEmpty ? "none" : parts.joined(separator: " ")))
    let t = m.cpu.tlbStats
    let lookups = max(t.lookups, t.walks)
    let rate = lookups > 0 ? 100.0 * Double(lookups - t.walks) / Double(lookups) : 100
    warn("swift86: TLB \(lookups) lookups, \(t.walks) walks, hit rate \((rate * 100).rounded() / 100)%, \(t.flushes) flushes")
    let c = m.cpu.cacheStats
    warn("swift86: decoded blocks \(c.blocks), code-page invalidations \(c.invalidations), cache flushes \(c.flushes)")
}

// MARK: main

var argv = Array(CommandLine.arguments.dropFirst())
var status: Int32 = 0
do {
    if argv.isEmpty { warn(usage); exit(2) }
    switch argv[0] {
    case "boot": status = try bootCommand(Array(argv.dropFirst()))
    case "disasm": status = try disasmCommand(Array(argv.dropFirst()))
    case "debug": status = try debugCommand(Array(argv.dropFirst()))
    case "test": status = try testCommand(Array(argv.dropFirst()))
    case "-h", "--help", "help": print(usage)
    default:
        if argv[0].hasPrefix("-") { status = try bootCommand(argv) }
        else { throw UsageError("swift86: unknown command '\(argv[0])'\n" + usage) }
    }
} catch {
    fflush(stdout)
    warn("\(error)")
    status = 2
}
exit(status)
