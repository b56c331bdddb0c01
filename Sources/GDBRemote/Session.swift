// Session: the transport-free core — one received packet body in, its reply packet bodies out.

/// How a session ended.
public enum GDBSessionEnd: Equatable, Sendable {
    case detached       // `D`: gdb let go; the machine may keep running
    case killed         // `k` or `vKill`: gdb asked to kill the program
    case disconnected   // the connection closed (or failed) without either
}

/// The protocol state machine for one gdb connection, independent of any transport.
///
/// Contract: `handle` takes a packet body exactly as framed by gdb (run-length decoded,
/// still escaped — what `GDBPacketParser` yields) and returns the reply bodies to send, in
/// order, each to be framed with `GDBPacket.frame`. An empty array means "send nothing"
/// (only `k`). An unknown or unsupported packet gets one empty reply; a malformed one gets
/// `E01` (or empty) — never a trap. `c`/`s`/`vCont` call into the target and return only
/// when it stops. Single-threaded: one thread, id 1, process id 1.
public final class GDBSession {
    /// The machine being debugged.
    public let target: GDBTarget
    /// Polled by `resume` while the target runs (the transport checks for Ctrl-C here).
    public var interruptCheck: () -> Bool = { false }
    /// `Qqemu.PhyMemMode:1`: memory packets address physical memory (as QEMU's stub).
    public var physicalMemoryMode = false
    /// True once `QStartNoAckMode` has been answered: no more `+`/`-` either way.
    public private(set) var noAckMode = false
    /// Set by `D`, `k` and `vKill`: the transport sends the replies, then ends the session.
    public private(set) var end: GDBSessionEnd?
    /// The most recent stop, reported again for `?`.
    public private(set) var lastStop: GDBStopReason = .signal(5)

    /// Largest packet gdb may send us (bytes of body), advertised in `qSupported`.
    public static let packetSize = 0x4000
    /// Integer registers supplied by the target (eax…gs).
    public static let integerRegisters = 16
    /// Registers described in `targetXML`: 16 integer + 8 st (10 bytes) + 8 x87 control (4 bytes).
    public static let describedRegisters = 36
    /// Control registers described after the x87 ones: cr0, cr2, cr3, cr4 (numbers 32–35).
    public static let controlRegisterNames = ["cr0", "cr2", "cr3", "cr4"]

    /// The i386 target description served for `qXfer:features:read:target.xml`: gdb 13
    /// validates `org.gnu.gdb.i386.core` against its full list, x87 included, so the x87
    /// registers are described (and always reported unavailable). No SSE feature, so the
    /// `g` layout gdb expects is 16×4 + 8×10 + 8×4 = 176 bytes; we send the first 64 and gdb
    /// treats the rest as unavailable.
    public static let targetXML: String = {
        var regs = ""
        for name in ["eax", "ecx", "edx", "ebx"] { regs += "<reg name=\"\(name)\" bitsize=\"32\" type=\"int32\"/>" }
        for name in ["esp", "ebp"] { regs += "<reg name=\"\(name)\" bitsize=\"32\" type=\"data_ptr\"/>" }
        for name in ["esi", "edi"] { regs += "<reg name=\"\(name)\" bitsize=\"32\" type=\"int32\"/>" }
        regs += "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>"
        regs += "<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>"
        for name in ["cs", "ss", "ds", "es", "fs", "gs"] { regs += "<reg name=\"\(name)\" bitsize=\"32\" type=\"int32\"/>" }
        for i in 0..<8 { regs += "<reg name=\"st\(i)\" bitsize=\"80\" type=\"i387_ext\"/>" }
        for name in ["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"] {
            regs += "<reg name=\"\(name)\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
        }
        var flags = ""
        for (name, bit) in [("CF", 0), ("", 1), ("PF", 2), ("AF", 4), ("ZF", 6), ("SF", 7), ("TF", 8),
                            ("IF", 9), ("DF", 10), ("OF", 11), ("NT", 14), ("RF", 16), ("VM", 17),
                            ("AC", 18), ("VIF", 19), ("VIP", 20), ("ID", 21)] {
            flags += "<field name=\"\(name)\" start=\"\(bit)\" end=\"\(bit)\"/>"
        }
        var sys = ""
        for (i, name) in controlRegisterNames.enumerated() {
            sys += "<reg name=\"\(name)\" bitsize=\"32\" type=\"int32\" regnum=\"\(32 + i)\" group=\"system\"/>"
        }
        return "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
            + "<target version=\"1.0\"><architecture>i386</architecture>"
            + "<feature name=\"org.gnu.gdb.i386.core\">"
            + "<flags id=\"i386_eflags\" size=\"4\">" + flags + "</flags>"
            + regs + "</feature>"
            + "<feature name=\"org.swift86.i386.sys\">" + sys + "</feature></target>"
    }()

    /// Size in bytes of described register `n`, or nil past the description.
    static func registerSize(_ n: Int) -> Int? {
        switch n {
        case 0..<16: return 4
        case 16..<24: return 10
        case 24..<32: return 4
        case 32..<36: return 4
        default: return nil
        }
    }

    /// A session for `target`, stopped (as gdb assumes on connecting) with SIGTRAP.
    public init(target: GDBTarget) {
        self.target = target
    }

    /// Convenience for tests: a packet body as text in, reply bodies as text out.
    public func handle(_ packet: String) -> [String] {
        handle(Array(packet.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The replies to one packet body (see the class contract).
    public func handle(_ packet: [UInt8]) -> [[UInt8]] {
        guard let first = packet.first else { return [[]] }
        let args = packet[1...]
        switch first {
        case UInt8(ascii: "?"): return [stopReply(lastStop)]
        case UInt8(ascii: "g"): return [readAllRegisters()]
        case UInt8(ascii: "G"): return [writeAllRegisters(args)]
        case UInt8(ascii: "p"): return [readOneRegister(args)]
        case UInt8(ascii: "P"): return [writeOneRegister(args)]
        case UInt8(ascii: "m"): return [readMemory(args)]
        case UInt8(ascii: "M"): return [writeMemory(args, binary: false)]
        case UInt8(ascii: "X"): return [writeMemory(args, binary: true)]
        case UInt8(ascii: "c"), UInt8(ascii: "C"), UInt8(ascii: "s"), UInt8(ascii: "S"):
            return [resumeOrStep(first, args)]
        case UInt8(ascii: "Z"), UInt8(ascii: "z"): return [breakpoint(insert: first == UInt8(ascii: "Z"), args)]
        case UInt8(ascii: "H"), UInt8(ascii: "T"): return [ok]       // one thread: any selection is fine, it is alive
        case UInt8(ascii: "D"):
            end = .detached
            return [ok]
        case UInt8(ascii: "k"):
            end = .killed
            return []
        case UInt8(ascii: "q"), UInt8(ascii: "Q"), UInt8(ascii: "v"):
            return query(packet)
        default:
            return [[]]
        }
    }

    // MARK: replies

    let ok: [UInt8] = Array("OK".utf8)
    let error01: [UInt8] = Array("E01".utf8)
    let errorFault: [UInt8] = Array("E14".utf8)   // EFAULT: memory that cannot be accessed

    /// The stop reply for `reason`: `T<sig>[reason:…;]thread:01;` for stops, `W`/`X` for
    /// the end of the program. `T` replies also carry eip (register 8) to save gdb a `p`.
    public func stopReply(_ reason: GDBStopReason) -> [UInt8] {
        var text: String
        func sig(_ s: UInt8) -> String { String(decoding: GDBPacket.hex([s]), as: UTF8.self) }
        switch reason {
        case .signal(let s): text = "T" + sig(s)
        case .softwareBreakpoint: text = "T05swbreak:;"
        case .hardwareBreakpoint: text = "T05hwbreak:;"
        case .watchpoint(let kind, let address):
            let name: String
            switch kind {
            case .readWatch: name = "rwatch"
            case .accessWatch: name = "awatch"
            default: name = "watch"
            }
            text = "T05" + name + ":" + String(address, radix: 16) + ";"
        case .exited(let status): return Array(("W" + sig(status)).utf8)
        case .terminated(let s): return Array(("X" + sig(s)).utf8)
        }
        let regs = target.readRegisters()
        if regs.count > 8 {
            text += "08:" + String(decoding: Self.registerHex(regs[8]), as: UTF8.self) + ";"
        }
        text += "thread:01;"
        return Array(text.utf8)
    }

    /// A register value as 8 hex digits, little-endian (target byte order).
    static func registerHex(_ v: UInt32) -> [UInt8] {
        GDBPacket.hex([UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8),
                       UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 24)])
    }

    /// `g`: the 16 integer registers (missing ones as `xxxxxxxx`).
    func readAllRegisters() -> [UInt8] {
        let regs = target.readRegisters()
        var out: [UInt8] = []
        out.reserveCapacity(Self.integerRegisters * 8)
        for i in 0..<Self.integerRegisters {
            if i < regs.count {
                out.append(contentsOf: Self.registerHex(regs[i]))
            } else {
                out.append(contentsOf: [UInt8](repeating: UInt8(ascii: "x"), count: 8))
            }
        }
        return out
    }

    /// Little-endian 32-bit value from 8 hex digits; nil if malformed or unavailable (`x`).
    static func parseRegister<C: Collection>(_ digits: C) -> UInt32? where C.Element == UInt8 {
        guard digits.count == 8, let bytes = GDBPacket.unhex(digits) else { return nil }
        return UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }

    /// `G<hex>`: writes each integer register the packet covers; x87 data (and `x`
    /// unavailable values) are ignored.
    func writeAllRegisters(_ args: ArraySlice<UInt8>) -> [UInt8] {
        let digits = Array(args)
        guard digits.count % 2 == 0 else { return error01 }
        var i = 0
        while i < Self.integerRegisters, (i + 1) * 8 <= digits.count {
            let chunk = digits[(i * 8)..<((i + 1) * 8)]
            if !chunk.contains(UInt8(ascii: "x")) {
                guard let v = Self.parseRegister(chunk) else { return error01 }
                guard target.writeRegister(i, v) else { return error01 }
            }
            i += 1
        }
        return ok
    }

    /// `p<n>`: one register; x87 registers are unavailable, numbers past them `E01`.
    func readOneRegister(_ args: ArraySlice<UInt8>) -> [UInt8] {
        guard let n = Self.parseHex(args), let size = Self.registerSize(Int(n)) else { return error01 }
        if n < Self.integerRegisters {
            let regs = target.readRegisters()
            if Int(n) < regs.count { return Self.registerHex(regs[Int(n)]) }
        }
        if n >= 32, let v = target.readControlRegister(Int(n) - 32) { return Self.registerHex(v) }
        return [UInt8](repeating: UInt8(ascii: "x"), count: size * 2)
    }

    /// `P<n>=<value>`: one integer register; x87 registers cannot be written (`E01`).
    func writeOneRegister(_ args: ArraySlice<UInt8>) -> [UInt8] {
        guard let eq = args.firstIndex(of: UInt8(ascii: "=")),
              let n = Self.parseHex(args[args.startIndex..<eq]),
              let v = Self.parseRegister(args[(eq + 1)...]) else { return error01 }
        if n >= 32 && n < 36 { return target.writeControlRegister(Int(n) - 32, v) ? ok : error01 }
        guard n < Self.integerRegisters else { return error01 }
        return target.writeRegister(Int(n), v) ? ok : error01
    }

    /// `m<addr>,<len>`: hex bytes; `E01` if malformed. If the whole range cannot be read,
    /// the readable prefix is returned (gdb accepts a short reply as a partial read),
    /// found by reading up to each 4 KiB boundary in turn; `E14` if not even the first
    /// byte can be read.
    func readMemory(_ args: ArraySlice<UInt8>) -> [UInt8] {
        guard let (address, count) = Self.parseAddressLength(args),
              count <= Self.packetSize / 2 else { return error01 }
        if count == 0 { return [] }
        let read: (UInt32, Int) -> [UInt8]? = physicalMemoryMode
            ? { self.target.readPhysicalMemory($0, count: $1) } : { self.target.readMemory($0, count: $1) }
        if let bytes = read(address, count), bytes.count == count {
            return GDBPacket.hex(bytes)
        }
        var prefix: [UInt8] = []
        while prefix.count < count {
            let at = address &+ UInt32(prefix.count)
            let chunk = min(count - prefix.count, 0x1000 - Int(at & 0xFFF))
            guard let bytes = read(at, chunk), bytes.count == chunk else { break }
            prefix += bytes
        }
        return prefix.isEmpty ? errorFault : GDBPacket.hex(prefix)
    }

    /// `M<addr>,<len>:<hex>` or `X<addr>,<len>:<escaped binary>`; a zero-length `X` (gdb's
    /// probe for binary support) succeeds without touching the target.
    func writeMemory(_ args: ArraySlice<UInt8>, binary: Bool) -> [UInt8] {
        guard let colon = args.firstIndex(of: UInt8(ascii: ":")),
              let (address, count) = Self.parseAddressLength(args[args.startIndex..<colon]) else { return error01 }
        let payload = args[(colon + 1)...]
        let data: [UInt8]
        if binary {
            data = GDBPacket.unescape(payload)
        } else {
            guard let d = GDBPacket.unhex(payload) else { return error01 }
            data = d
        }
        guard data.count == count else { return error01 }
        if count == 0 { return ok }
        let written = physicalMemoryMode ? target.writePhysicalMemory(address, data) : target.writeMemory(address, data)
        return written ? ok : errorFault
    }

    /// `c`/`C`/`s`/`S` with an optional resume address (the signal of `C`/`S` is ignored:
    /// there is no signal to deliver to a bare machine).
    func resumeOrStep(_ command: UInt8, _ args: ArraySlice<UInt8>) -> [UInt8] {
        var addressPart = args
        if command == UInt8(ascii: "C") || command == UInt8(ascii: "S") {
            // C<sig>[;addr]
            if let semi = args.firstIndex(of: UInt8(ascii: ";")) {
                addressPart = args[(semi + 1)...]
            } else {
                addressPart = []
            }
        }
        if !addressPart.isEmpty {
            guard let address = Self.parseHex(addressPart), target.writeRegister(8, address) else { return error01 }
        }
        return run(step: command == UInt8(ascii: "s") || command == UInt8(ascii: "S"))
    }

    /// Runs or steps the target and returns the stop reply.
    func run(step: Bool) -> [UInt8] {
        lastStop = step ? target.step() : target.resume(interrupt: interruptCheck)
        return stopReply(lastStop)
    }

    /// Steps while eip stays in [start, end) and each step ends in a plain SIGTRAP
    /// (`vCont;r`), polling for Ctrl-C every 1024 steps.
    func rangeStep(start: UInt32, end: UInt32) -> [UInt8] {
        var steps = 0
        while true {
            let reason = target.step()
            steps += 1
            let regs = target.readRegisters()
            let eip = regs.count > 8 ? regs[8] : 0
            if reason != .signal(5) || eip < start || eip >= end {
                lastStop = reason
                break
            }
            if steps & 1023 == 0, interruptCheck() {
                lastStop = .signal(2)
                break
            }
        }
        return stopReply(lastStop)
    }

    /// `Z<kind>,<addr>,<length>[;cond…]` / `z…`.
    func breakpoint(insert: Bool, _ args: ArraySlice<UInt8>) -> [UInt8] {
        let fields = args.split(separator: UInt8(ascii: ";"), maxSplits: 1, omittingEmptySubsequences: false)
        let parts = (fields.first ?? []).split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard parts.count == 3, let k = Self.parseHex(parts[0]) else { return error01 }
        guard let kind = GDBBreakpointKind(rawValue: Int(k)) else { return [] }   // unknown kind: unsupported
        guard let address = Self.parseHex(parts[1]), let length = Self.parseHex(parts[2]) else { return error01 }
        let done = insert
            ? target.insertBreakpoint(kind, address: address, length: Int(length))
            : target.removeBreakpoint(kind, address: address, length: Int(length))
        return done ? ok : error01
    }

    // MARK: q, Q and v packets

    /// Answers `q…`, `Q…` and `v…` packets (the whole packet body is passed).
    func query(_ packet: [UInt8]) -> [[UInt8]] {
        let text = String(decoding: packet, as: UTF8.self)
        func reply(_ s: String) -> [[UInt8]] { [Array(s.utf8)] }
        if text.hasPrefix("qSupported") {
            return reply("PacketSize=\(String(Self.packetSize, radix: 16));qXfer:features:read+;"
                         + "swbreak+;hwbreak+;QStartNoAckMode+")
        }
        if text.hasPrefix("Qqemu.PhyMemMode:") {
            // QEMU's switch between virtual and physical addresses for m/M/X (maint packet)
            physicalMemoryMode = text.hasSuffix(":1")
            return reply("OK")
        }
        if text == "qqemu.PhyMemMode" { return reply(physicalMemoryMode ? "1" : "0") }
        if text == "QStartNoAckMode" {
            noAckMode = true
            return reply("OK")
        }
        if text.hasPrefix("qXfer:features:read:") { return [featuresRead(text)] }
        if text == "qAttached" || text.hasPrefix("qAttached:") { return reply("1") }
        if text == "qC" { return reply("QC1") }
        if text == "qfThreadInfo" { return reply("m1") }
        if text == "qsThreadInfo" { return reply("l") }
        if text == "qOffsets" { return reply("Text=0;Data=0;Bss=0") }
        if text.hasPrefix("qSymbol") { return reply("OK") }
        if text.hasPrefix("qRcmd,") { return monitor(packet.dropFirst(6)) }
        if text == "vCont?" { return reply("vCont;c;C;s;S;r") }
        if text.hasPrefix("vCont;") { return [vCont(packet.dropFirst(6))] }
        if text.hasPrefix("vKill") {
            end = .killed
            return reply("OK")
        }
        return [[]]   // unknown (vMustReplyEmpty included): empty reply
    }

    /// `qXfer:features:read:target.xml:<offset>,<length>`: `m<chunk>` or `l<last chunk>`.
    func featuresRead(_ text: String) -> [UInt8] {
        let rest = text.dropFirst("qXfer:features:read:".count)
        guard let colon = rest.lastIndex(of: ":") else { return error01 }
        let annex = rest[rest.startIndex..<colon]
        guard annex == "target.xml" else { return Array("E00".utf8) }
        guard let (offset, length) = Self.parseAddressLength(Array(rest[rest.index(after: colon)...].utf8)[...]) else { return error01 }
        let xml = Array(Self.targetXML.utf8)
        let start = min(Int(offset), xml.count)
        let end = min(start + length, xml.count)
        let chunk = Array(xml[start..<end])
        return [UInt8(ascii: end == xml.count ? "l" : "m")] + GDBPacket.escape(chunk)
    }

    /// `qRcmd,<hex command>`: the output as `O<hex>` console packets, then `OK`.
    func monitor(_ hexCommand: ArraySlice<UInt8>) -> [[UInt8]] {
        guard let bytes = GDBPacket.unhex(hexCommand) else { return [error01] }
        let output = Array(target.monitor(String(decoding: bytes, as: UTF8.self)).utf8)
        var replies: [[UInt8]] = []
        let chunk = (Self.packetSize - 16) / 2
        var i = 0
        while i < output.count {
            let j = min(i + chunk, output.count)
            replies.append([UInt8(ascii: "O")] + GDBPacket.hex(output[i..<j]))
            i = j
        }
        replies.append(ok)
        return replies
    }

    /// `vCont;<action>[:<thread>];…`: the first action for our thread (or for all threads)
    /// decides: `c`/`C` run, `s`/`S` step, `r<start>,<end>` range-step. Anything else `E01`.
    func vCont(_ actions: ArraySlice<UInt8>) -> [UInt8] {
        for action in actions.split(separator: UInt8(ascii: ";")) {
            var body = action
            if let colon = action.firstIndex(of: UInt8(ascii: ":")) {
                let thread = String(decoding: action[(colon + 1)...], as: UTF8.self)
                let tid = thread.split(separator: ".").last.map(String.init) ?? thread   // p1.1 form
                guard tid == "-1" || tid == "0" || Int(tid, radix: 16) == 1 else { continue }
                body = action[action.startIndex..<colon]
            }
            guard let op = body.first else { continue }
            switch op {
            case UInt8(ascii: "c"), UInt8(ascii: "C"): return run(step: false)
            case UInt8(ascii: "s"), UInt8(ascii: "S"): return run(step: true)
            case UInt8(ascii: "r"):
                guard let (start, endAddress) = Self.parseAddressPair(body.dropFirst()) else { return error01 }
                return rangeStep(start: start, end: endAddress)
            default: return error01
            }
        }
        return error01
    }

    // MARK: parsing

    /// A hex number of at most 8 digits (no sign); nil if empty, too long or not hex.
    static func parseHex<C: Collection>(_ digits: C) -> UInt32? where C.Element == UInt8 {
        guard !digits.isEmpty, digits.count <= 8 || digits.drop(while: { $0 == UInt8(ascii: "0") }).count <= 8 else { return nil }
        var v: UInt32 = 0
        for c in digits {
            guard let d = GDBPacket.hexValue(c) else { return nil }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// `<hex>,<hex>` as two 32-bit numbers.
    static func parseAddressPair(_ args: ArraySlice<UInt8>) -> (UInt32, UInt32)? {
        let parts = args.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard parts.count == 2, let a = parseHex(parts[0]), let b = parseHex(parts[1]) else { return nil }
        return (a, b)
    }

    /// `<addr>,<len>` with a length that fits comfortably in an Int.
    static func parseAddressLength(_ args: ArraySlice<UInt8>) -> (UInt32, Int)? {
        guard let (a, n) = parseAddressPair(args), n <= 0x1000_0000 else { return nil }
        return (a, Int(n))
    }
}
