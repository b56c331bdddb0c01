// DisassemblerTests: the decoder's lengths and the disassembler's text, refereed by llvm-objdump.

import Foundation
import XCTest
@testable import X86Decoder

/// Runs the LLVM tools next to the Swift toolchain (or on PATH): `clang` assembles and
/// compiles the corpora, `llvm-objdump` disassembles them. The tests skip when either is missing.
struct Referee {
    let clang: String
    let objdump: String

    /// One instruction as llvm-objdump prints it, with a lone prefix line (`lock`) merged
    /// into the instruction it belongs to.
    struct Line {
        var address: Int
        var bytes: [UInt8]
        var text: String
    }

    /// Finds the tools: `$SWIFT86_LLVM_BIN`, the Swift toolchain's bin directory, then PATH.
    static func find() -> Referee? {
        var dirs: [String] = []
        let env = ProcessInfo.processInfo.environment
        if let d = env["SWIFT86_LLVM_BIN"] { dirs.append(d) }
        dirs.append("/opt/swift/usr/bin")
        dirs += (env["PATH"] ?? "").split(separator: ":").map(String.init)
        func tool(_ name: String) -> String? {
            dirs.lazy.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        guard let c = tool("clang"), let o = tool("llvm-objdump") else { return nil }
        return Referee(clang: c, objdump: o)
    }

    /// Runs `exe` with `args`; returns stdout, or throws with stderr on a non-zero status.
    func run(_ exe: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let edata = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            throw NSError(domain: "Referee", code: Int(p.terminationStatus), userInfo: [
                NSLocalizedDescriptionKey: "\(exe) \(args.joined(separator: " ")):\n"
                    + String(decoding: edata, as: UTF8.self)])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Compiles or assembles `source` (file name `name`, .s or .c) for i686 with `flags` and
    /// returns llvm-objdump's listing of its .text, parsed.
    func listing(source: String, name: String, flags: [String] = [], code16: Bool = false) throws -> [Line] {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("swift86-disasm-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = dir.appendingPathComponent(name).path
        let obj = src + ".o"
        try source.write(toFile: src, atomically: true, encoding: .utf8)
        _ = try run(clang, ["-target", "i686-unknown-none-elf", "-march=i686", "-c", src, "-o", obj] + flags)
        var args = ["-d", "--print-imm-hex", "-j", ".text"]
        if code16 { args.append("--triple=i386-unknown-unknown-code16") }
        return Self.parse(try run(objdump, args + [obj]))
    }

    static let loneprefixes: [String: String] = [
        "lock": "lock", "rep": "rep", "repne": "repne", "xacquire": "repne", "xrelease": "rep",
    ]

    /// Parses `addr: bytes \t text` lines; merges lone prefix lines into the next instruction.
    static func parse(_ listing: String) -> [Line] {
        var lines: [Line] = []
        var pending: Line?
        for raw in listing.split(separator: "\n", omittingEmptySubsequences: true) {
            let s = String(raw)
            guard let colon = s.firstIndex(of: ":"),
                  let addr = Int(s[..<colon].trimmingCharacters(in: .whitespaces), radix: 16) else { continue }
            let rest = s[s.index(after: colon)...]
            let parts = rest.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            let bytes = parts[0].split(separator: " ").compactMap { UInt8($0, radix: 16) }
            if bytes.isEmpty { continue }
            let text = parts.count > 1 ? normalize(String(parts[1])) : ""
            if text.isEmpty, !lines.isEmpty {                // a wrapped byte line
                lines[lines.count - 1].bytes += bytes
                continue
            }
            var line = Line(address: addr, bytes: bytes, text: text)
            if let p = pending {
                line = Line(address: p.address, bytes: p.bytes + bytes, text: p.text + " " + text)
                pending = nil
            }
            if bytes.count == 1, let name = loneprefixes[text] {
                pending = Line(address: line.address, bytes: line.bytes, text: name)
                continue
            }
            lines.append(line)
        }
        if let p = pending { lines.append(p) }
        return lines
    }

    /// Drops `# imm = …` comments and ` <symbol+off>` annotations, collapses blanks.
    static func normalize(_ t: String) -> String {
        var s = t
        if let hash = s.firstIndex(of: "#") { s = String(s[..<hash]) }
        while let lt = s.range(of: " <"), let gt = s[lt.upperBound...].firstIndex(of: ">") {
            s.removeSubrange(lt.lowerBound...gt)
        }
        s = s.replacingOccurrences(of: "\t", with: " ")
        s = s.split(separator: " ").joined(separator: " ")
        return s == "<unknown>" ? "(bad)" : s
    }
}

extension Op {
    /// JMP/CALL/Jcc/LOOP/JECXZ with a relative displacement.
    var isRelativeBranch: Bool { [.jcc, .jmpJ, .callJ, .loop, .loope, .loopne, .jcxz].contains(self) }
}

/// Known, accepted differences between our text and llvm-objdump's (lengths must still match):
/// our text starts with `ours`, llvm-objdump's with `theirs`.
let knownTextDifferences: [(ours: String, theirs: String, reason: String)] = [
    ("int1", "(bad)", "F1 (ICEBP): LLVM does not decode it"),
    ("sal", "(bad)", "D0-D3 /6 (SAL, alias of SHL): LLVM does not decode it"),
    ("rep bsf", "tzcnt", "F3 0F BC is TZCNT only with BMI1; an i686 runs it as BSF (REP ignored)"),
    ("cbtw", "cwtl", "LLVM bug: in code16 it names 98 (CBW) after the 32-bit form"),
    ("cwtd", "cltd", "LLVM bug: in code16 it names 99 (CWD) after the 32-bit form"),
    ("wbinvd", "(bad)", "LLVM rejects 66 0F 09; the CPU ignores the 0x66"),
]

final class DisassemblerTests: XCTestCase {
    // MARK: - hand-checked text

    func dis(_ bytes: [UInt8], at address: UInt32 = 0x100000, code32: Bool = true) -> String {
        let lines = Disassembler.disassemble(bytes, at: address, code32: code32)
        return lines.map(\.text).joined(separator: "; ")
    }

    func testBriefExamples() {
        XCTAssertEqual(dis([0x55]), "pushl %ebp")
        XCTAssertEqual(dis([0x89, 0xE5]), "movl %esp, %ebp")
        XCTAssertEqual(dis([0x83, 0xEC, 0x18]), "subl $0x18, %esp")
        XCTAssertEqual(dis([0x8B, 0x45, 0x08]), "movl 0x8(%ebp), %eax")
        XCTAssertEqual(dis([0xE8, 0x1E, 0x01, 0x00, 0x00], at: 0x100000), "calll 0x100123")
        XCTAssertEqual(dis([0xC3]), "retl")
        XCTAssertEqual(dis([0x75, 0xF1], at: 0x100100), "jne 0x1000f3")
        XCTAssertEqual(dis([0x8D, 0x0C, 0x98]), "leal (%eax,%ebx,4), %ecx")
        XCTAssertEqual(dis([0x0F, 0xB6, 0xC0]), "movzbl %al, %eax")
        XCTAssertEqual(dis([0x0F, 0xBE, 0x00]), "movsbl (%eax), %eax")
        XCTAssertEqual(dis([0x66, 0x89, 0x01]), "movw %ax, (%ecx)")
        XCTAssertEqual(dis([0xF3, 0xA4]), "rep movsb (%esi), %es:(%edi)")
        XCTAssertEqual(dis([0xF0, 0x0F, 0xB1, 0x0A]), "lock cmpxchgl %ecx, (%edx)")
        XCTAssertEqual(dis([0xEA, 0x20, 0x00, 0x10, 0x00, 0x08, 0x00]), "ljmpl $0x8, $0x100020")
        XCTAssertEqual(dis([0x0F, 0x01, 0x10]), "lgdtl (%eax)")
        XCTAssertEqual(dis([0xCD, 0x80]), "int $0x80")
        XCTAssertEqual(dis([0xE4, 0x60]), "inb $0x60, %al")
        XCTAssertEqual(dis([0xEE]), "outb %al, %dx")
        XCTAssertEqual(dis([0x0F, 0x20, 0xC0]), "movl %cr0, %eax")
    }

    func testSymbolizer() {
        let lines = Disassembler.disassemble([0xE8, 0x1E, 0x01, 0x00, 0x00, 0xEB, 0xFE], at: 0x100000) {
            $0 == 0x100123 ? "kmain" : nil
        }
        XCTAssertEqual(lines.map(\.text), ["calll 0x100123 <kmain>", "jmp 0x100005"])
        XCTAssertEqual(lines.map(\.address), [0x100000, 0x100005])
        XCTAssertEqual(lines.map(\.length), [5, 2])
        XCTAssertEqual(lines[1].bytes, [0xEB, 0xFE])
    }

    func testBadBytesGiveOneByteLines() {
        // FE /7 is not an instruction (F8 after it is CLC); the final call is cut short.
        let lines = Disassembler.disassemble([0xFE, 0xF8, 0x90, 0xE8, 0x00], at: 0)
        XCTAssertEqual(lines.map(\.text), ["(bad)", "clc", "nop", "(bad)", "(bad)"])
        XCTAssertEqual(lines.map(\.length), [1, 1, 1, 1, 1])
        XCTAssertEqual(lines.map(\.address), [0, 1, 2, 3, 4])
        // 16 prefixes: too long; every byte becomes a line and nothing traps.
        let long = Disassembler.disassemble(Array(repeating: 0x66, count: 16) + [0x90], at: 0)
        XCTAssertEqual(long.reduce(0) { $0 + $1.length }, 17)
        XCTAssertEqual(long.first?.text, "(bad)")
        XCTAssertEqual(long.last?.text, "nop")
        // Decodable but #UD by construction: one line covering the whole instruction.
        XCTAssertEqual(Disassembler.disassemble([0x8D, 0xC0], at: 0).map(\.length), [2])
        XCTAssertEqual(dis([0xF0, 0x89, 0x00]), "(bad)")
        XCTAssertTrue(Disassembler.disassemble([], at: 0).isEmpty)
    }

    func testSixteenBitCode() {
        XCTAssertEqual(dis([0x89, 0xE5], code32: false), "movw %sp, %bp")
        XCTAssertEqual(dis([0x8B, 0x46, 0x04], code32: false), "movw 0x4(%bp), %ax")
        XCTAssertEqual(dis([0x66, 0x8B, 0x07], code32: false), "movl (%bx), %eax")
        XCTAssertEqual(dis([0xE9, 0xFD, 0xFF], at: 0x7C00, code32: false), "jmp 0x7c00")
        XCTAssertEqual(dis([0xEA, 0x00, 0x7C, 0x00, 0x00], code32: false), "ljmpw $0x0, $0x7c00")
    }

    // MARK: - refereed by llvm-objdump

    /// Decodes every instruction of `ref` from the listing's own bytes and compares the
    /// length (must match exactly) and the text (must match unless allow-listed).
    func compare(_ ref: [Referee.Line], code32: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        let bytes = ref.flatMap(\.bytes)
        var offset = 0
        var lengthFailures = 0, textFailures = 0
        var insn = DecodedInstruction()
        for r in ref {
            XCTAssertEqual(r.address, offset, "listing not contiguous", file: file, line: line)
            let status = bytes.withUnsafeBufferPointer {
                Decoder.decode($0.baseAddress! + offset, count: bytes.count - offset, code32: code32, into: &insn)
            }
            let hex = r.bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
            if status != .ok || Int(insn.length) != r.bytes.count {
                lengthFailures += 1
                XCTFail("length at 0x\(String(offset, radix: 16)) [\(hex)] `\(r.text)`: objdump \(r.bytes.count),"
                        + " ours \(status == .ok ? String(insn.length) : "needMoreBytes") (op \(insn.op))",
                        file: file, line: line)
                offset += r.bytes.count
                continue
            }
            let ours = Disassembler.text(of: insn, at: UInt32(offset), code32: code32)
            if ours != r.text {
                if ours == "(x87)" && insn.op == .fpu {
                    // x87 is not disassembled (outside the i686 integer set): length only.
                } else if knownTextDifferences.contains(where: {
                    ours.replacingOccurrences(of: "addr16 ", with: "").hasPrefix($0.ours) && r.text.hasPrefix($0.theirs)
                }) {
                    // accepted difference, see the table
                } else if insn.o16, insn.op.isRelativeBranch, Self.sameTargetModulo64K(ours, r.text) {
                    // 16-bit operand size: the CPU wraps EIP at 64 KiB, llvm-objdump does not
                } else {
                    textFailures += 1
                    XCTFail("text at 0x\(String(offset, radix: 16)) [\(hex)]: objdump `\(r.text)`, ours `\(ours)`",
                            file: file, line: line)
                }
            }
            offset += r.bytes.count
        }
        XCTAssertGreaterThan(ref.count, 0, file: file, line: line)
        if lengthFailures + textFailures > 0 {
            print("compare: \(ref.count) instructions, \(lengthFailures) length and \(textFailures) text mismatches")
        }
    }

    /// True when `a` and `b` differ only in a final hex branch target, equal modulo 64 KiB.
    static func sameTargetModulo64K(_ a: String, _ b: String) -> Bool {
        let x = a.split(separator: " "), y = b.split(separator: " ")
        guard x.count == y.count, x.dropLast() == y.dropLast(), let p = x.last, let q = y.last,
              p.hasPrefix("0x"), q.hasPrefix("0x"),
              let u = UInt64(p.dropFirst(2), radix: 16), let v = UInt64(q.dropFirst(2), radix: 16) else { return false }
        return u & 0xFFFF == v & 0xFFFF
    }

    func referee() throws -> Referee {
        guard let r = Referee.find() else {
            throw XCTSkip("clang/llvm-objdump not found (set SWIFT86_LLVM_BIN): referee tests skipped")
        }
        return r
    }

    /// (a) Hand-written assembly covering the one-byte and 0F maps of the i686 integer set.
    func testAssemblyCorpusAgainstObjdump() throws {
        let r = try referee()
        let ref = try r.listing(source: Corpus.assembly(), name: "corpus.s")
        XCTAssertGreaterThan(ref.count, 1500)
        compare(ref)
    }

    /// (a') The same forms in 16-bit code (CS.D = 0), disassembled as code16 by llvm-objdump.
    func testSixteenBitCorpusAgainstObjdump() throws {
        let r = try referee()
        let ref = try r.listing(source: ".code16\n" + Corpus.assembly16(), name: "corpus16.s", code16: true)
        compare(ref, code32: false)
    }

    /// (c) A systematic sweep: every valid one-byte and 0F opcode × every ModRM.reg × four
    /// ModRM forms (plain, SIB + disp8, disp32, register), bare and with 0x66 / 0x67; then every
    /// ModRM × SIB byte of `8B` in 32-bit and 16-bit addressing. Each case sits in its own
    /// 16-byte slot padded with filler instructions; the listing is compared line by line, so a
    /// length mismatch shows up as a failure in its slot.
    func testOpcodeAndModRMSweepAgainstObjdump() throws {
        let r = try referee()
        var slots: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        func add(_ b: [UInt8]) {
            // only encodings our decoder calls valid; LLVM decodes a few of them differently
            let padded = b + Array(repeating: 0x90, count: 16 - b.count)
            var insn = DecodedInstruction()
            let status = padded.withUnsafeBufferPointer { Decoder.decode($0.baseAddress!, count: 16, code32: true, into: &insn) }
            guard status == .ok, insn.op != .ud, insn.op != .tooLong else { return }
            let key = Array(padded.prefix(Int(insn.length)))
            if seen.insert(key).inserted { slots.append(key) }
        }
        let prefixes: Set<Int> = [0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x0F]
        for pre: [UInt8] in [[], [0x66], [0x67]] {
            for two in [false, true] {
                for op in 0..<256 where two || !prefixes.contains(op) {
                    if two && (0x19...0x1E).contains(op) { continue }       // LLVM: <unknown>
                    let opc: [UInt8] = two ? [0x0F, UInt8(op)] : [UInt8(op)]
                    for reg in 0..<8 {
                        if !two && (op == 0xF6 || op == 0xF7) && reg == 1 { continue }   // LLVM: <unknown>, wrong length
                        if !two && (0xC0...0xD3).contains(op) && reg == 6 { continue }   // SAL alias: same
                        if two && op == 0x18 && reg >= 4 { continue }      // LLVM: prefetchrst2 / reserved hints
                        for form: UInt8 in [0x00, 0x44, 0x85, 0xC1] {
                            // LLVM gives MOV CR/DR a memory operand when mod != 3 (wrong: the SDM says
                            // mod is ignored; DecoderTests checks our 3 bytes), and has no 0F 18 reg form.
                            if two && (0x20...0x23).contains(op) && form != 0xC1 { continue }
                            if two && op == 0x18 && form == 0xC1 { continue }
                            add(pre + opc + [form | UInt8(reg) << 3, 0x24, 0x11, 0x22, 0x33, 0x44])
                        }
                    }
                }
            }
        }
        for modrm in 0..<256 {
            let hasSIB = modrm & 7 == 4 && modrm >> 6 != 3
            for sib in hasSIB ? Array(0..<256) : [0x55] {
                add([0x8B, UInt8(modrm), UInt8(sib), 0x81, 0x82, 0x83, 0x84])
            }
            add([0x67, 0x8B, UInt8(modrm), 0x81, 0x82])
        }
        var src = ""
        for b in slots {
            // pad to 16 bytes with few filler instructions: leal 0x0(%eax), %eax (6), leal (%eax) (3), movl (2), nop
            var padded = b
            while padded.count < 16 {
                switch 16 - padded.count {
                case 6...: padded += [0x8D, 0x80, 0, 0, 0, 0]
                case 3...: padded += [0x8D, 0x40, 0]
                case 2: padded += [0x89, 0xC0]
                default: padded += [0x90]
                }
            }
            src += ".byte " + padded.map { String($0) }.joined(separator: ",") + "\n"
        }
        let ref = try r.listing(source: src, name: "sweep.s")
        XCTAssertGreaterThan(slots.count, 10_000)
        compare(ref)
    }

    /// (b) Compiler-generated code at several optimisation levels.
    func testCompiledCodeAgainstObjdump() throws {
        let r = try referee()
        for flags in [["-O2"], ["-Os"], ["-O0"], ["-O2", "-fomit-frame-pointer", "-mregparm=3"]] {
            let ref = try r.listing(source: Corpus.cSource, name: "corpus.c",
                                    flags: flags + ["-ffreestanding", "-fno-pic", "-fno-builtin"])
            XCTAssertGreaterThan(ref.count, 200)
            compare(ref)
        }
    }
}

/// The referee corpora: assembly generated from templates (each `{E…}` / `{M…}` placeholder is
/// expanded over register and memory forms) and a C file for the compiler to turn into code.
enum Corpus {
    /// Memory forms: ModRM with and without SIB, disp8/disp32, no base, no index, ESP/EBP
    /// bases, segment overrides, and 16-bit addressing (which makes the assembler add 0x67).
    static let memFull = ["(%eax)", "0x12(%ebp)", "-0x80(%esp)", "0x12345678(%eax,%ebx,4)", "(,%esi,8)",
                          "0x1234", "%fs:0x10(%edi)", "%es:(%ebx,%ecx,2)", "(%esp)", "0x7f(%ebp,%edx)",
                          "-0x12345678(%ecx)", "(%bx,%si)", "0x10(%bp,%di)", "%ss:-0x1234(%si)", "(%bp)",
                          "%cs:0x5678"]
    static let memShort = ["(%eax)", "-0x4(%ebp,%ecx,2)", "(%bx,%di)", "%gs:0x12345678"]
    static let regs = ["b": "%dh", "w": "%si", "l": "%edi"]

    /// Expands the placeholder of `t`: `{Eb}`/`{Ew}`/`{El}` (register + memory), `{M}` (memory);
    /// `full` picks the long list of memory forms.
    static func expand(_ t: String, full: Bool = false) -> [String] {
        let mems = full ? memFull : memShort
        for s in ["b", "w", "l"] where t.contains("{E\(s)}") {
            return ([regs[s]!] + mems).map { t.replacingOccurrences(of: "{E\(s)}", with: $0) }
        }
        if t.contains("{M}") { return mems.map { t.replacingOccurrences(of: "{M}", with: $0) } }
        return [t]
    }

    static let conditions = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"]

    /// Instructions valid in both 32- and 16-bit code.
    static func common() -> [String] {
        var t: [String] = [".Lstart:"]
        func add(_ xs: [String], full: Bool = false) { for x in xs { t += expand(x, full: full) } }
        // one-byte ALU rows 00-05, groups 80/81/83, 82, the 02/03 register forms
        for (k, op) in ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"].enumerated() {
            add(["\(op)b %cl, {Eb}", "\(op)l %ecx, {El}", "\(op)b $-0x7f, {Eb}", "\(op)l $0x12345678, {El}",
                 "\(op)l $-0x3, {El}"], full: true)
            add(["\(op)w %cx, {Ew}", "\(op)b {M}, %cl", "\(op)l {M}, %ecx", "\(op)w {M}, %cx",
                 "\(op)w $0x1234, {Ew}", "\(op)w $0x3, {Ew}"])
            add(["\(op)b $0x12, %al", "\(op)l $0x12345678, %eax", "\(op)w $0x1234, %ax", "\(op)l $0x1, %eax"])
            add([".byte \(k * 8 + 2), 0xc1", ".byte \(k * 8 + 3), 0xd6", ".byte 0x82, \(0xC0 + k * 8), 0x1"])
            if op != "cmp" { add(["lock \(op)l %eax, (%ebx)", "lock \(op)b $0x1, 0x4(%esi)", "lock \(op)w $0x3, {M}"]) }
        }
        // unary groups F6/F7/FE/FF, inc/dec/push/pop/xchg/mov with the register in the opcode
        for op in ["inc", "dec", "not", "neg", "mul", "imul", "div", "idiv"] {
            add(["\(op)b {Eb}", "\(op)w {Ew}", "\(op)l {El}"])
        }
        add(["lock incl (%eax)", "lock negb (%ecx)", "lock notw 0x4(%edx)", "lock decl %fs:(%eax)"])
        for r in ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"] {
            add(["incl %\(r)", "decl %\(r)", "pushl %\(r)", "popl %\(r)", "xchgl %\(r), %eax", "movl $0x12345678, %\(r)",
                 "bswap %\(r)"])
        }
        for r in ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"] { add(["movb $0x7f, %\(r)", "movb $-0x1, %\(r)"]) }
        add(["incw %cx", "decw %si", "pushw %cx", "popw %di", "xchgw %ax, %si", "movw $0x1234, %bp", "nop", "pause",
             ".byte 0x66, 0x90"])
        // stack, BCD, conversions, flags
        add(["pushl {M}", "pushw {M}", "popl {M}", "popw {M}", "pushl $0x12", "pushl $-0x12", "pushl $0x12345678",
             "pushw $0x1234", "pushw $-0x2"])
        add(["pushl %es", "popl %es", "pushl %cs", "pushl %ss", "popl %ss", "pushl %ds", "popl %ds", "pushl %fs",
             "popl %fs", "pushl %gs", "popl %gs", "pushw %ds", "popw %es", "pushw %gs", "popw %fs"])
        add(["daa", "das", "aaa", "aas", "pushal", "popal", "pushaw", "popaw", "cbtw", "cwtl", "cwtd", "cltd",
             "pushfl", "popfl", "pushfw", "popfw", "sahf", "lahf", "wait", "cmc", "clc", "stc", "cli", "sti",
             "cld", "std", "hlt", "int3", "int $0x80", "int $0xff", "into", "iretl", "iretw", "salc", "xlatb",
             "aam", "aad", "aam $0x3", "aad $0x7", "leave", "enter $0x10, $0x0", "enter $0x1234, $0x3",
             ".byte 0x66, 0xc9", ".byte 0xf1"])
        add(["bound %eax, {M}", "bound %ax, {M}", "arpl %dx, {Ew}"])
        // multiply
        add(["imull $0x12345678, {El}, %edx", "imull $0x12, {El}, %edx", "imulw $0x1234, {Ew}, %dx",
             "imulw $-0x2, {Ew}, %dx", "imull {El}, %ecx", "imulw {Ew}, %cx"])
        // strings, with REP/REPNE, segment overrides on the source, 16-bit addressing
        for m in ["movs", "cmps", "stos", "lods", "scas", "ins", "outs"] {
            for s in ["b", "w", "l"] {
                add(["\(m)\(s)", "rep \(m)\(s)"])
                if m == "cmps" || m == "scas" { add(["repne \(m)\(s)"]) }
            }
        }
        add([".byte 0x64, 0xa4", ".byte 0x2e, 0xa5", ".byte 0x65, 0xad", ".byte 0x26, 0xa6", ".byte 0x3e, 0x6e",
             ".byte 0x67, 0xa5", ".byte 0x67, 0xf3, 0xaa", ".byte 0x66, 0xf3, 0xa5", ".byte 0x67, 0xf2, 0xae",
             ".byte 0x36, 0x67, 0xac"])
        // test, xchg, mov, lea, moffs, segment moves
        add(["testb %cl, {Eb}", "testl %ecx, {El}", "testb $0x12, {Eb}", "testl $0x12345678, {El}"], full: true)
        add(["testw %cx, {Ew}", "testw $0x1234, {Ew}", "testb $0x12, %al", "testl $0x12345678, %eax",
             "testw $0x1234, %ax"])
        add(["xchgb %cl, {M}", "xchgl %ecx, {M}", "xchgw %cx, {M}", "xchgl %ecx, %edx", "xchgb %cl, %dh",
             "lock xchgl %eax, (%ebx)"])
        add(["movb %cl, {Eb}", "movl %ecx, {El}", "movb {M}, %cl", "movl {M}, %ecx", "movb $0x12, {Eb}",
             "movl $0x12345678, {El}", "leal {M}, %ecx"], full: true)
        add(["movw %cx, {Ew}", "movw {M}, %cx", "movw $0x1234, {Ew}", ".byte 0x8a, 0xc1", ".byte 0x8b, 0xc1",
             "leaw {M}, %cx"])
        add(["movl 0x12345678, %eax", "movb 0x1234, %al", "movw %ax, 0x1234", "movl %eax, %fs:0x10",
             "movb %al, %es:0x12", ".byte 0x67, 0xa1, 0x34, 0x12", ".byte 0x67, 0xa2, 0xfe, 0xff"])
        add(["movw %ds, {M}", "movw {M}, %es", "movw {M}, %ss", "movl %gs, %ecx", "movw %fs, %si", "movl %ecx, %ds",
             "movw %si, %fs", "movl %cs, %eax", "movl %ss, %edx"])
        // shifts and rotates: C0/C1/D0-D3 (and the D0/D1 /6 SAL alias)
        for s in ["rol", "ror", "rcl", "rcr", "shl", "shr", "sar"] {
            add(["\(s)b {Eb}", "\(s)l {El}", "\(s)w {Ew}", "\(s)b $0x3, {Eb}", "\(s)l $0x1f, {El}", "\(s)w $0x3, {Ew}",
                 "\(s)b %cl, {Eb}", "\(s)l %cl, {El}", "\(s)w %cl, {Ew}"])
        }
        add([".byte 0xd1, 0xf0", ".byte 0xd0, 0xf0"])
        // returns, far pointers, in/out
        add(["retl", "retl $0x10", "retw", "lretl", "lretl $0x8", "lretw", ".byte 0xc2, 0xff, 0xff",
             "lesl {M}, %ecx", "ldsl {M}, %ecx", "lssl {M}, %ecx", "lfsl {M}, %ecx", "lgsl {M}, %ecx",
             "lesw {M}, %cx", "lgsw {M}, %cx"])
        add(["inb $0x60, %al", "inw $0x60, %ax", "inl $0x60, %eax", "outb %al, $0x80", "outw %ax, $0x80",
             "outl %eax, $0xff", "inb %dx, %al", "inw %dx, %ax", "inl %dx, %eax", "outb %al, %dx", "outw %ax, %dx",
             "outl %eax, %dx"])
        // control transfer: short and near jcc/jmp/call, loops, indirect and far forms
        for c in conditions { add(["j\(c) 1f", "1:", "j\(c) .Lfar", "j\(c) .Lstart"]) }
        add(["1:", "loop 1b", "loope 1b", "loopne 1b", "jecxz 1b", "jcxz 1b", ".byte 0x67, 0xe2, 0xfe",
             "jmp 1f", "1:", "jmp .Lfar", "jmp .Lstart", "call .Lstart", "call .Lfar",
             "call *%ecx", "call *{M}", "jmp *%edx", "jmp *{M}", "lcall *{M}", "ljmp *{M}", "callw *%cx",
             "lcallw *(%eax)", "ljmpw *(%eax)", ".byte 0x2e, 0x74, 0x00", ".byte 0x3e, 0x75, 0x00"])
        // x87 escapes: length only
        add(["fld %st(1)", "fldl (%eax)", "fstps 0x4(%esp)", "fnstsw %ax", "fildl -0x8(%ebp,%ecx,4)",
             "fnstcw (%bx,%si)", "faddp %st, %st(1)", "fldt 0x12345678"])
        // 0F 00 / 0F 01 system groups, LAR/LSL, CR/DR moves, MSRs
        add(["sldt %ecx", "sldt (%eax)", "str %ecx", "str 0x4(%eax)", "lldt %cx", "lldt (%eax)", "ltr %cx",
             "ltr (%eax)", "verr %cx", "verr (%eax)", "verw %dx", "verw (%eax)", "sgdtl (%eax)", "sidtl 0x4(%esp)",
             "lgdtl {M}", "lidtl {M}", "lgdtw (%eax)", "smsw %ecx", "smsw (%eax)", "lmsw %cx", "lmsw (%eax)",
             "invlpg {M}", "lar %cx, %edx", "lar (%eax), %edx", "lsl %cx, %edx", "lsl (%eax), %edx",
             ".byte 0x66, 0x0f, 0x02, 0xc1", ".byte 0x66, 0x0f, 0x00, 0xc1", ".byte 0x66, 0x0f, 0x01, 0xe1",
             "clts", "invd", "wbinvd", "ud2", "wrmsr", "rdtsc", "rdmsr", "rdpmc", "cpuid",
             "prefetchnta (%eax)", "prefetcht0 (%eax)", "prefetcht1 0x4(%ebx)", "prefetcht2 (%bx,%si)",
             "nopl {M}", "nopw {M}", ".byte 0x0f, 0x1f, 0xc0", ".byte 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0"])
        for n in [0, 2, 3, 4] { add(["movl %cr\(n), %ecx", "movl %esi, %cr\(n)"]) }
        for n in 0..<8 { add(["movl %dr\(n), %ecx", "movl %edi, %dr\(n)"]) }
        // 0F 40-4F, 80-8F (above), 90-9F
        for c in conditions { add(["cmov\(c)l {El}, %ecx", "cmov\(c)w {Ew}, %cx", "set\(c) {Eb}"]) }
        // bit tests, double shifts, exchange-and-add, compare-and-exchange, zero/sign extension, bit scans
        for b in ["bt", "bts", "btr", "btc"] {
            add(["\(b)l %ecx, {El}", "\(b)w %cx, {Ew}", "\(b)l $0x3, {El}", "\(b)w $0xf, {Ew}"])
            if b != "bt" { add(["lock \(b)l %eax, (%ebx)", "lock \(b)l $0x1f, 0x8(%ebx)"]) }
        }
        add(["shldl $0x3, %ecx, {El}", "shldl %cl, %ecx, {El}", "shldw $0x3, %cx, {Ew}", "shrdl $0x3, %ecx, {El}",
             "shrdl %cl, %ecx, {El}", "shrdw %cl, %cx, {Ew}", "cmpxchgb %cl, {Eb}", "cmpxchgl %ecx, {El}",
             "cmpxchgw %cx, {Ew}", "lock cmpxchgl %ecx, (%edx)", "xaddb %cl, {Eb}", "xaddl %ecx, {El}",
             "xaddw %cx, {Ew}", "lock xaddl %ecx, (%edx)", "cmpxchg8b {M}", "lock cmpxchg8b (%esi)",
             "bsfl {El}, %ecx", "bsrl {El}, %ecx", "bsfw {Ew}, %cx", "bsrw {Ew}, %cx"])
        add(["movzbl {Eb}, %ecx", "movsbl {Eb}, %ecx", "movzwl {Ew}, %ecx", "movswl {Ew}, %ecx"], full: true)
        add(["movzbw {Eb}, %cx", "movsbw {Eb}, %cx", "bswap %eax", ".byte 0x66, 0x0f, 0xc8"])
        // a 15-byte instruction (two redundant prefixes)
        add([".byte 0x3e, 0x3e, 0xf0, 0x64, 0x81, 0x84, 0x98, 0x78, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12"])
        return t
    }

    /// The 32-bit corpus: the common forms plus far jumps/calls, padded so `.Lfar` needs rel32.
    static func assembly() -> String {
        var t = common()
        t += ["ljmp $0x10, $0x12345678", "lcall $0x8, $0x100020", "ljmpw $0x10, $0x1234", "lcallw $0x8, $0x20"]
        t += [".fill 200, 1, 0x90", ".Lfar:", "ret"]
        return t.joined(separator: "\n") + "\n"
    }

    /// The 16-bit corpus: the same forms assembled as `.code16` (the assembler inverts 0x66/0x67).
    static func assembly16() -> String {
        var t = common()
        t += ["ljmp $0x10, $0x1234", "lcall $0x8, $0x20", ".fill 200, 1, 0x90", ".Lfar:", "ret"]
        return t.joined(separator: "\n") + "\n"
    }

    /// Freestanding C that exercises what compilers emit for a kernel: loops, switches, 64-bit
    /// arithmetic, bit fields, byte/word conversions, string loops, port I/O and system registers.
    static let cSource = #"""
    typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32;
    typedef unsigned long long u64; typedef signed char s8; typedef short s16; typedef long long s64;
    struct page { u32 flags; struct page *next; u16 order; u8 zone; s8 count; u32 bits : 5, more : 11; };
    static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
    static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
    static inline void invlpg(void *p) { __asm__ volatile("invlpg (%0)" :: "r"(p) : "memory"); }
    static inline u32 read_cr2(void) { u32 v; __asm__ volatile("movl %%cr2, %0" : "=r"(v)); return v; }
    static inline void write_cr3(u32 v) { __asm__ volatile("movl %0, %%cr3" :: "r"(v) : "memory"); }
    void *memcpy_(void *d, const void *s, u32 n) { u8 *a = d; const u8 *b = s; while (n--) *a++ = *b++; return d; }
    void memset_rep(void *d, int c, u32 n) { __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory"); }
    u32 strlen_(const char *s) { u32 n = 0; while (s[n]) n++; return n; }
    int strcmp_(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return (u8)*a - (u8)*b; }
    u64 mul64(u64 a, u64 b) { return a * b; }
    s64 shl64(s64 a, int n) { return a << n; }
    u64 shr64(u64 a, int n) { return a >> n; }
    s64 sar64(s64 a, int n) { return a >> n; }
    u64 add64(u64 a, u64 b) { return a + b + (a < b); }
    int cmp64(s64 a, s64 b) { return a < b ? -1 : a > b; }
    int sext(s8 a, s16 b, u8 c, u16 d) { return a * 3 + b - c + d; }
    u32 rot(u32 x, int n) { return (x << n) | (x >> (32 - n)); }
    int popc(u32 x) { int n = 0; while (x) { x &= x - 1; n++; } return n; }
    int fls_(u32 x) { return x ? 32 - __builtin_clz(x) : 0; }
    int ffs_(u32 x) { return x ? __builtin_ctz(x) + 1 : 0; }
    u32 bswap32(u32 x) { return __builtin_bswap32(x); }
    int sw(int x) {
        switch (x) { case 0: return 7; case 1: return 9; case 2: return 12; case 3: return -5;
                     case 4: return 99; case 5: return x * 17; case 7: return 1; default: return x; }
    }
    int minmax(int a, int b, int c) { int m = a < b ? a : b; return m > c ? m : c; }
    unsigned udiv(unsigned a, unsigned b) { return a / b + a % b; }
    int sdiv(int a, int b) { return a / b + a % 7 + a / 16; }
    struct page *pages;
    void free_list(struct page *p, u16 order) {
        for (; p; p = p->next) { p->order = order; p->zone = (u8)(order & 3); p->count--; p->bits = order; p->more++; }
    }
    u32 sum_flags(u32 n) { u32 s = 0; for (u32 i = 0; i < n; i++) s += pages[i].flags >> pages[i].zone; return s; }
    void fault(u32 *pte) { u32 a = read_cr2(); if (*pte & 1) { *pte |= 0x20; invlpg((void *)a); } else write_cr3(a & ~0xfffu); }
    void serial(const char *s) { while (*s) { while (!(inb(0x3fd) & 0x20)) ; outb(0x3f8, (u8)*s++); } }
    volatile int counter;
    int atomic_inc(int *p) { return __sync_fetch_and_add(p, 1); }
    int cas(int *p, int o, int n) { return __sync_val_compare_and_swap(p, o, n); }
    long long cas64(long long *p, long long o, long long n) { return __sync_val_compare_and_swap(p, o, n); }
    int xchg_(int *p, int v) { return __sync_lock_test_and_set(p, v); }
    void bits(u32 *m, int n) { __sync_fetch_and_or(m, 1u << n); m[n >> 5] ^= 1u << (n & 31); }
    int (*table[4])(int) = { sw, 0, 0, 0 };
    int indirect(int i, int x) { return table[i & 3](x) + counter; }
    s16 narrow(int x) { return (s16)(x * 5); }
    u8 clamp8(int x) { return x < 0 ? 0 : x > 255 ? 255 : (u8)x; }
    int deep(int a, int b, int c, int d, int e, int f) { int arr[40]; for (int i = 0; i < 40; i++) arr[i] = a * i + b;
        return arr[c & 31] + arr[d & 31] + e * f; }
    """#
}
