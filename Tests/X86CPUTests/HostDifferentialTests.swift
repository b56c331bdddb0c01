// HostDifferentialTests: random ALU/shift/mul/div/bit/BCD instructions run on the host CPU and in the interpreter; results and SDM-defined flags must agree.
//
// The host side is Native/x86native.c.in, built here with `gcc -m32` (the test is skipped
// when that is impossible). Each case is one instruction with random, edge-biased register,
// memory and flag inputs; the case carries the masks of what the Intel SDM defines for those
// operands (undefined flags, undefined destinations), and only defined bits are compared.
// The masks follow the Intel SDM's "Flags Affected"; the first full run (4.68 M cases) was
// on an AMD EPYC host, whose defined flags agreed with them everywhere.
//
// Environment: SEED=n picks the seed (printed on every run), FULL=1 runs millions of cases,
// DIFF_CASES=n sets the number of cases per instruction form, DIFF_ONLY=ADC,SHLD keeps only
// the forms whose name contains one of the comma-separated words (same cases as a full run).
import Foundation
import XCTest
import X86CPU
import X86Decoder

// MARK: - Flags

private let CF: UInt32 = 0x001, PF: UInt32 = 0x004, AF: UInt32 = 0x010
private let ZF: UInt32 = 0x040, SF: UInt32 = 0x080, OF: UInt32 = 0x800
/// The six arithmetic flags, the only ones cases load and compare.
private let ARITH: UInt32 = 0x8D5

/// "CF PF ZF" style list of the arithmetic flags set in `f`, "-" when none.
private func flagNames(_ f: UInt32) -> String {
    let names: [(UInt32, String)] = [(OF, "OF"), (SF, "SF"), (ZF, "ZF"), (AF, "AF"), (PF, "PF"), (CF, "CF")]
    let s = names.filter { f & $0.0 != 0 }.map(\.1).joined(separator: " ")
    return s.isEmpty ? "-" : s
}

private let regNames = ["EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"]
private func hex8(_ v: UInt32) -> String { String(format: "%08X", v) }

// MARK: - Random numbers

/// SplitMix64: a tiny deterministic generator (the same seed gives the same cases everywhere).
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: next() >> 16) }
    /// Uniform in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// True with probability percent/100.
    mutating func percent(_ p: Int) -> Bool { below(100) < p }
    mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }

    static let edges8: [UInt32] = [0, 1, 2, 0x0F, 0x10, 0x7F, 0x80, 0x81, 0xFE, 0xFF, 0x09, 0x99, 0x9A, 0xF9, 0xFA, 0x55, 0xAA]
    static let edges16: [UInt32] = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0xFFFE, 0x5555, 0xAAAA]
    static let edges32: [UInt32] = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFF_FFFF,
                                    0x8000_0000, 0x8000_0001, 0xFFFF_FFFF, 0xFFFF_FFFE, 0x5555_5555, 0xAAAA_AAAA]
    static let counts: [UInt32] = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 0xFF]

    /// A 32-bit register value whose low `size` bits are biased towards edge values
    /// (and, for 8-bit operands, bits 8..15 too: AH CH DH BH).
    mutating func operand(_ size: Int) -> UInt32 {
        var v = u32()
        let m = sizeMask(size)
        switch below(10) {
        case 0..<4:
            let e = size == 8 ? pick(Self.edges8) : size == 16 ? pick(Self.edges16) : pick(Self.edges32)
            v = (v & ~m) | e
        case 4: v = (v & ~m) | UInt32(below(34))
        case 5: v = (v & ~m) | (m & ~UInt32(below(34)))
        default: break
        }
        if size == 8, percent(40) { v = (v & ~0xFF00) | (pick(Self.edges8) << 8) }
        return v
    }
    /// A shift/rotate count byte: mostly boundaries, sometimes any byte (tests masking to 5 bits).
    mutating func count() -> UInt32 {
        switch below(10) {
        case 0..<5: return pick(Self.counts)
        case 5..<8: return UInt32(below(34))
        default: return u32() & 0xFF
        }
    }
}

@inline(__always) private func sizeMask(_ size: Int) -> UInt32 {
    size == 32 ? 0xFFFF_FFFF : (1 << UInt32(size)) &- 1
}
@inline(__always) private func signBit(_ size: Int) -> UInt32 { 1 << UInt32(size - 1) }
@inline(__always) private func sext(_ v: UInt32, _ size: Int) -> Int64 {
    let m = v & sizeMask(size)
    return m & signBit(size) != 0 ? Int64(m) - (Int64(1) << Int64(size)) : Int64(m)
}

// MARK: - Cases

/// What of an instruction's outcome the SDM defines for given operands.
private struct Mask {
    var flags: UInt32                                           // defined arithmetic flags
    var regs = [UInt32](repeating: 0xFFFF_FFFF, count: 8)       // defined bits per register
    var memory = true                                           // the data buffer is defined
    init(_ flags: UInt32) { self.flags = flags }
}

/// One instruction and its inputs, plus what of the outputs is compared.
private struct DiffCase {
    var form = 0                 // index into the form table
    var code: [UInt8]            // one instruction
    var regs: [UInt32]           // EAX..EDI inputs (ESP unused); regs[memReg] is relative to the buffer base
    var flags: UInt32            // input arithmetic flags
    var memReg: Int              // register holding a buffer address (6 = ESI), or -1
    var mem: [UInt8]             // the 128-byte data buffer; the base address is mem[64]
    var mask: Mask
    var memOff = 64              // where in `mem` the memory operand starts (for reports)
}

/// The state after one instruction, on either side.
private struct Outcome {
    var fault: UInt8?            // exception vector, nil when the instruction completed
    var regs: [UInt32]           // EAX..EDI (memReg relative to the buffer base; ESP slot 0)
    var flags: UInt32            // EFLAGS
    var mem: [UInt8]             // the data buffer
    var eip: UInt32 = 0          // interpreter only: EIP afterwards
}

/// Generation context: the case's inputs and its decoded operands, so forms can bias
/// operands (`prep`) and compute masks from them.
private struct Ctx {
    var regs: [UInt32]
    var flags: UInt32
    var mem: [UInt8]
    var size = 32                // operand size in bits
    var regField = 0             // ModRM.reg (register number or /digit)
    var rmReg: Int? = 0          // ModRM.rm register, nil for the memory form
    var memOff = 64              // byte offset of the memory operand in `mem`
    var disp = 0                 // the memory form's displacement
    var imm: UInt32 = 0          // immediate (zero-extended)

    func reg(_ r: Int, _ s: Int) -> UInt32 {
        switch s {
        case 8: return r < 4 ? regs[r] & 0xFF : (regs[r - 4] >> 8) & 0xFF
        case 16: return regs[r] & 0xFFFF
        default: return regs[r]
        }
    }
    mutating func setReg(_ r: Int, _ s: Int, _ v: UInt32) {
        switch s {
        case 8:
            if r < 4 { regs[r] = (regs[r] & ~0xFF) | (v & 0xFF) } else { regs[r - 4] = (regs[r - 4] & ~0xFF00) | ((v & 0xFF) << 8) }
        case 16: regs[r] = (regs[r] & ~0xFFFF) | (v & 0xFFFF)
        default: regs[r] = v
        }
    }
    func memVal(_ off: Int, _ s: Int) -> UInt32 {
        (0..<(s / 8)).reduce(0) { $0 | UInt32(mem[off + $1]) << UInt32(8 * $1) }
    }
    mutating func setMem(_ off: Int, _ s: Int, _ v: UInt32) {
        for i in 0..<(s / 8) { mem[off + i] = UInt8(truncatingIfNeeded: v >> UInt32(8 * i)) }
    }
    /// The r/m operand (register or memory) at the operand size.
    var rm: UInt32 {
        get { rmReg.map { reg($0, size) } ?? memVal(memOff, size) }
        set { if let r = rmReg { setReg(r, size, newValue) } else { setMem(memOff, size, newValue) } }
    }
    /// The ModRM.reg register operand at the operand size.
    var reg: UInt32 {
        get { reg(regField, size) }
        set { setReg(regField, size, newValue) }
    }
    var cl: UInt32 { regs[1] & 0xFF }
}

/// One instruction form: a name for reports and a generator of random cases.
private struct Form {
    let name: String
    let gen: (inout SplitMix64) -> DiffCase
}

private enum RMKind: CustomStringConvertible {
    case reg, mem
    var description: String { self == .reg ? "reg" : "mem" }
}

private let gpr16_32 = [0, 1, 2, 3, 5, 6, 7]      // never ESP
private let gprNoESI = [0, 1, 2, 3, 5, 7]         // ESI holds the buffer address in memory forms

/// A context with random edge-biased registers, random flags and a random buffer.
private func freshCtx(_ rng: inout SplitMix64, size: Int) -> Ctx {
    var regs = (0..<8).map { _ in rng.operand(size) }
    regs[4] = 0
    var mem = (0..<128).map { _ in UInt8(truncatingIfNeeded: rng.u32()) }
    if rng.percent(20) { for i in mem.indices { mem[i] = rng.percent(50) ? 0 : 0xFF } }
    var c = Ctx(regs: regs, flags: rng.u32() & ARITH, mem: mem)
    c.size = size
    return c
}

/// A ModRM instruction form.
/// - opcode: bytes after the 66 prefix (added for size 16), ModRM follows.
/// - digit: fixed ModRM.reg (/digit) or nil for a random register operand.
/// - immBytes: immediate size; `immGen` overrides the edge-biased immediate.
/// - prep: adjusts operands after random generation (must keep the encoding).
/// - mask: what the SDM defines, from the final operands.
private func modrm(_ name: String, _ opcode: [UInt8], size: Int, _ kind: RMKind, digit: Int? = nil,
                   immBytes: Int = 0, immGen: ((inout SplitMix64) -> UInt32)? = nil,
                   prep: ((inout Ctx, inout SplitMix64) -> Void)? = nil,
                   mask: @escaping (Ctx) -> Mask) -> Form {
    let full = "\(name) o\(size) \(kind)"
    return Form(name: full) { rng in
        var c = freshCtx(&rng, size: size)
        var code: [UInt8] = size == 16 ? [0x66] : []
        code += opcode
        let regChoices = size == 8 ? Array(0..<8) : (kind == .mem ? gprNoESI : gpr16_32)
        c.regField = digit ?? rng.pick(regChoices)
        switch kind {
        case .reg:
            let r = rng.pick(size == 8 ? Array(0..<8) : gpr16_32)
            c.rmReg = r
            code.append(UInt8(0xC0 | c.regField << 3 | r))
        case .mem:
            c.rmReg = nil
            let n = max(size / 8, 1)
            c.memOff = rng.below(128 - 8 + 1)   // room for 8 bytes (CMPXCHG8B)
            if rng.percent(50) {
                code.append(UInt8(0x00 | c.regField << 3 | 6))       // [esi]
                c.disp = 0
            } else {
                c.disp = rng.below(64) - 32
                code.append(UInt8(0x40 | c.regField << 3 | 6))       // [esi+disp8]
                code.append(UInt8(truncatingIfNeeded: c.disp))
            }
            c.regs[6] = UInt32(bitPattern: Int32(c.memOff - 64 - c.disp))
            c.setMem(c.memOff, n * 8, rng.operand(n * 8))
        }
        if immBytes > 0 {
            c.imm = immGen?(&rng) ?? (rng.operand(immBytes * 8) & sizeMask(immBytes * 8))
            for i in 0..<immBytes { code.append(UInt8(truncatingIfNeeded: c.imm >> UInt32(8 * i))) }
        }
        prep?(&c, &rng)
        return DiffCase(code: code, regs: c.regs, flags: c.flags, memReg: kind == .mem ? 6 : -1,
                        mem: c.mem, mask: mask(c), memOff: c.memOff)
    }
}

/// A form without ModRM: `gen` emits the bytes and may adjust the context.
private func raw(_ name: String, size: Int = 32,
                 _ gen: @escaping (inout Ctx, inout SplitMix64) -> [UInt8],
                 mask: @escaping (Ctx) -> Mask) -> Form {
    Form(name: name) { rng in
        var c = freshCtx(&rng, size: size)
        let code = gen(&c, &rng)
        return DiffCase(code: code, regs: c.regs, flags: c.flags, memReg: -1, mem: c.mem, mask: mask(c))
    }
}

private func imm(_ size: Int) -> Int { size == 8 ? 1 : size == 16 ? 2 : 4 }
private func fixed(_ f: UInt32) -> (Ctx) -> Mask { { _ in Mask(f) } }
private let both: [RMKind] = [.reg, .mem]

// MARK: - The form table

/// Every instruction form under test, with the SDM's defined-flags rules.
private func buildForms() -> [Form] {
    var forms: [Form] = []

    // ADD OR ADC SBB AND SUB XOR CMP: 00-3D, 80/81/82/83. Logic ops leave AF undefined.
    let aluNames = ["ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP"]
    for op in 0..<8 {
        let n = aluNames[op]
        let m = fixed([1, 4, 6].contains(op) ? ARITH & ~AF : ARITH)
        let b = UInt8(op * 8)
        for k in both {
            forms.append(modrm("\(n) Eb,Gb", [b], size: 8, k, mask: m))
            forms.append(modrm("\(n) Gb,Eb", [b + 2], size: 8, k, mask: m))
            forms.append(modrm("\(n) Eb,Ib", [0x80], size: 8, k, digit: op, immBytes: 1, mask: m))
            for s in [16, 32] {
                forms.append(modrm("\(n) Ev,Gv", [b + 1], size: s, k, mask: m))
                forms.append(modrm("\(n) Gv,Ev", [b + 3], size: s, k, mask: m))
                forms.append(modrm("\(n) Ev,Iv", [0x81], size: s, k, digit: op, immBytes: imm(s), mask: m))
                forms.append(modrm("\(n) Ev,Ib", [0x83], size: s, k, digit: op, immBytes: 1, mask: m))
            }
        }
        forms.append(modrm("\(n) Eb,Ib (82)", [0x82], size: 8, .reg, digit: op, immBytes: 1, mask: m))
        forms.append(raw("\(n) AL,Ib", size: 8, { c, r in c.imm = r.operand(8) & 0xFF; return [b + 4, UInt8(c.imm)] }, mask: m))
        for s in [16, 32] {
            forms.append(raw("\(n) eAX,Iv o\(s)", size: s, { c, r in
                let v = r.operand(s) & sizeMask(s)
                return (s == 16 ? [0x66] : []) + [b + 5] + (0..<imm(s)).map { UInt8(truncatingIfNeeded: v >> UInt32(8 * $0)) }
            }, mask: m))
        }
    }

    // INC DEC (CF unaffected: compared), NOT (no flags), NEG.
    for (d, n) in [(0, "INC"), (1, "DEC")] {
        for k in both {
            forms.append(modrm("\(n) Eb", [0xFE], size: 8, k, digit: d, mask: fixed(ARITH)))
            for s in [16, 32] { forms.append(modrm("\(n) Ev", [0xFF], size: s, k, digit: d, mask: fixed(ARITH))) }
        }
        for s in [16, 32] {
            forms.append(raw("\(n) r\(s) (\(d == 0 ? "40" : "48")+r)", size: s, { c, r in
                (s == 16 ? [0x66] : []) + [UInt8(0x40 + d * 8 + r.pick(gpr16_32))]
            }, mask: fixed(ARITH)))
        }
    }
    for (d, n) in [(2, "NOT"), (3, "NEG")] {
        for k in both {
            forms.append(modrm("\(n) Eb", [0xF6], size: 8, k, digit: d, mask: fixed(ARITH)))
            for s in [16, 32] { forms.append(modrm("\(n) Ev", [0xF7], size: s, k, digit: d, mask: fixed(ARITH))) }
        }
    }

    // TEST: AF undefined.
    let logic = fixed(ARITH & ~AF)
    for k in both {
        forms.append(modrm("TEST Eb,Gb", [0x84], size: 8, k, mask: logic))
        forms.append(modrm("TEST Eb,Ib", [0xF6], size: 8, k, digit: 0, immBytes: 1, mask: logic))
        for s in [16, 32] {
            forms.append(modrm("TEST Ev,Gv", [0x85], size: s, k, mask: logic))
            forms.append(modrm("TEST Ev,Iv", [0xF7], size: s, k, digit: 0, immBytes: imm(s), mask: logic))
        }
    }
    forms.append(raw("TEST AL,Ib", size: 8, { c, r in [0xA8, UInt8(r.operand(8) & 0xFF)] }, mask: logic))
    for s in [16, 32] {
        forms.append(raw("TEST eAX,Iv o\(s)", size: s, { c, r in
            let v = r.operand(s)
            return (s == 16 ? [0x66] : []) + [0xA9] + (0..<imm(s)).map { UInt8(truncatingIfNeeded: v >> UInt32(8 * $0)) }
        }, mask: logic))
    }

    // Shifts and rotates: D0/D1 (by 1), D2/D3 (by CL), C0/C1 (by imm8).
    let shiftNames = [0: "ROL", 1: "ROR", 2: "RCL", 3: "RCR", 4: "SHL", 5: "SHR", 7: "SAR"]
    for d in [0, 1, 2, 3, 4, 5, 7] {
        let n = shiftNames[d]!
        for s in [8, 16, 32] {
            let o1: UInt8 = s == 8 ? 0xD0 : 0xD1, oc: UInt8 = s == 8 ? 0xD2 : 0xD3, oi: UInt8 = s == 8 ? 0xC0 : 0xC1
            let maskFor = { (count: UInt32) -> Mask in shiftMask(d, size: s, count: count) }
            let setCL: (inout Ctx, inout SplitMix64) -> Void = { c, r in
                if r.percent(85) { c.regs[1] = (c.regs[1] & ~0xFF) | r.count() }
            }
            for k in both {
                forms.append(modrm("\(n) E,1", [o1], size: s, k, digit: d, mask: { _ in maskFor(1) }))
                forms.append(modrm("\(n) E,CL", [oc], size: s, k, digit: d, prep: setCL, mask: { c in maskFor(c.cl) }))
                forms.append(modrm("\(n) E,Ib", [oi], size: s, k, digit: d, immBytes: 1, immGen: { $0.count() },
                                   mask: { c in maskFor(c.imm) }))
            }
        }
    }

    // Undocumented aliases real CPUs execute: SAL = group 2 /6 (as SHL), TEST = F6/F7 /1, SALC (D6).
    for s in [8, 16, 32] {
        let o1: UInt8 = s == 8 ? 0xD0 : 0xD1, oc: UInt8 = s == 8 ? 0xD2 : 0xD3, oi: UInt8 = s == 8 ? 0xC0 : 0xC1
        forms.append(modrm("SAL(/6) E,1", [o1], size: s, .reg, digit: 6, mask: { _ in shiftMask(4, size: s, count: 1) }))
        forms.append(modrm("SAL(/6) E,CL", [oc], size: s, .reg, digit: 6,
                           prep: { c, r in c.regs[1] = (c.regs[1] & ~0xFF) | r.count() },
                           mask: { c in shiftMask(4, size: s, count: c.cl) }))
        forms.append(modrm("SAL(/6) E,Ib", [oi], size: s, .reg, digit: 6, immBytes: 1, immGen: { $0.count() },
                           mask: { c in shiftMask(4, size: s, count: c.imm) }))
        forms.append(modrm("TEST(/1) E,I", [s == 8 ? 0xF6 : 0xF7], size: s, .reg, digit: 1, immBytes: imm(s), mask: logic))
    }
    forms.append(raw("SALC", size: 8, { _, _ in [0xD6] }, mask: fixed(ARITH)))

    // SHLD SHRD (imm8, CL): 16 and 32 bits.
    for (o, n) in [(UInt8(0xA4), "SHLD"), (UInt8(0xAC), "SHRD")] {
        for s in [16, 32] {
            for k in both {
                forms.append(modrm("\(n) Ev,Gv,Ib", [0x0F, o], size: s, k, immBytes: 1, immGen: { $0.count() },
                                   mask: { c in doubleShiftMask(c, count: c.imm) }))
                forms.append(modrm("\(n) Ev,Gv,CL", [0x0F, o + 1], size: s, k,
                                   prep: { c, r in if r.percent(85) { c.regs[1] = (c.regs[1] & ~0xFF) | r.count() } },
                                   mask: { c in doubleShiftMask(c, count: c.cl) }))
            }
        }
    }

    // MUL IMUL: CF OF defined, SF ZF AF PF undefined.
    let mulMask = fixed(CF | OF)
    for (d, n) in [(4, "MUL"), (5, "IMUL")] {
        for k in both {
            forms.append(modrm("\(n) Eb", [0xF6], size: 8, k, digit: d, mask: mulMask))
            for s in [16, 32] { forms.append(modrm("\(n) Ev", [0xF7], size: s, k, digit: d, mask: mulMask)) }
        }
    }
    for s in [16, 32] {
        for k in both {
            forms.append(modrm("IMUL Gv,Ev", [0x0F, 0xAF], size: s, k, mask: mulMask))
            forms.append(modrm("IMUL Gv,Ev,Iv", [0x69], size: s, k, immBytes: imm(s), mask: mulMask))
            forms.append(modrm("IMUL Gv,Ev,Ib", [0x6B], size: s, k, immBytes: 1, mask: mulMask))
        }
    }

    // DIV IDIV: all six flags undefined; #DE on a zero divisor or a quotient overflow.
    for (d, n) in [(6, "DIV"), (7, "IDIV")] {
        for s in [8, 16, 32] {
            for k in both {
                forms.append(modrm("\(n) E", [s == 8 ? 0xF6 : 0xF7], size: s, k, digit: d,
                                   prep: { c, r in prepDivide(&c, &r, signed: d == 7) }, mask: fixed(0)))
            }
        }
    }

    // BT BTS BTR BTC: CF defined, ZF unaffected, OF SF AF PF undefined.
    let btMask = fixed(CF | ZF)
    for (i, n) in ["BT", "BTS", "BTR", "BTC"].enumerated() {
        for s in [16, 32] {
            forms.append(modrm("\(n) Ev,Gv", [0x0F, UInt8(0xA3 + 8 * i)], size: s, .reg, mask: btMask))
            forms.append(modrm("\(n) Mv,Gv (bit string)", [0x0F, UInt8(0xA3 + 8 * i)], size: s, .mem,
                               prep: { c, r in prepBitString(&c, &r) }, mask: btMask))
            for k in both {
                forms.append(modrm("\(n) Ev,Ib", [0x0F, 0xBA], size: s, k, digit: 4 + i, immBytes: 1,
                                   immGen: { r in r.percent(50) ? UInt32(r.below(34)) : r.u32() & 0xFF }, mask: btMask))
            }
        }
    }

    // BSF BSR: ZF defined, the rest undefined; the destination is undefined for a zero source.
    for (o, n) in [(UInt8(0xBC), "BSF"), (UInt8(0xBD), "BSR")] {
        for s in [16, 32] {
            for k in both {
                forms.append(modrm("\(n) Gv,Ev", [0x0F, o], size: s, k, prep: { c, r in
                    switch r.below(4) {
                    case 0: c.rm = 0
                    case 1: c.rm = 1 << UInt32(r.below(s))
                    default: break
                    }
                }, mask: { c in
                    var m = Mask(ZF)
                    if c.rm == 0 { m.regs[c.regField] = s == 16 ? 0xFFFF_0000 : 0 }
                    return m
                }))
            }
        }
    }

    // BSWAP: no flags.
    forms.append(raw("BSWAP r32", { c, r in [0x0F, UInt8(0xC8 + r.pick(gpr16_32))] }, mask: fixed(ARITH)))

    // XADD and CMPXCHG: flags as ADD / CMP.
    for k in both {
        forms.append(modrm("XADD Eb,Gb", [0x0F, 0xC0], size: 8, k, mask: fixed(ARITH)))
        forms.append(modrm("CMPXCHG Eb,Gb", [0x0F, 0xB0], size: 8, k, prep: prepCmpxchg, mask: fixed(ARITH)))
        for s in [16, 32] {
            forms.append(modrm("XADD Ev,Gv", [0x0F, 0xC1], size: s, k, mask: fixed(ARITH)))
            forms.append(modrm("CMPXCHG Ev,Gv", [0x0F, 0xB1], size: s, k, prep: prepCmpxchg, mask: fixed(ARITH)))
        }
    }
    // CMPXCHG8B m64: ZF defined, CF PF AF SF OF unaffected.
    forms.append(modrm("CMPXCHG8B Mq", [0x0F, 0xC7], size: 32, .mem, digit: 1, prep: { c, r in
        if r.percent(50) {
            c.regs[0] = c.memVal(c.memOff, 32)
            c.regs[2] = c.memVal(c.memOff + 4, 32)
            if r.percent(30) { c.regs[r.pick([0, 2])] ^= 1 << UInt32(r.below(32)) }
        }
    }, mask: fixed(ARITH)))

    // BCD adjustments.
    let bcdAX: (inout Ctx, inout SplitMix64) -> Void = { c, r in
        if r.percent(50) { c.regs[0] = (c.regs[0] & ~0xFF) | UInt32(r.below(10) << 4 | r.below(16)) }
    }
    forms.append(raw("DAA", size: 8, { c, r in bcdAX(&c, &r); return [0x27] }, mask: fixed(ARITH & ~OF)))
    forms.append(raw("DAS", size: 8, { c, r in bcdAX(&c, &r); return [0x2F] }, mask: fixed(ARITH & ~OF)))
    forms.append(raw("AAA", size: 8, { c, r in bcdAX(&c, &r); return [0x37] }, mask: fixed(AF | CF)))
    forms.append(raw("AAS", size: 8, { c, r in bcdAX(&c, &r); return [0x3F] }, mask: fixed(AF | CF)))
    let base: (inout SplitMix64) -> UInt8 = { r in
        switch r.below(10) {
        case 0..<5: return 10
        case 5: return 0
        case 6: return r.pick([1, 2, 16, 0xFF])
        default: return UInt8(r.below(256))
        }
    }
    forms.append(raw("AAM Ib", size: 8, { c, r in [0xD4, base(&r)] }, mask: fixed(SF | ZF | PF)))
    forms.append(raw("AAD Ib", size: 8, { c, r in [0xD5, base(&r)] }, mask: fixed(SF | ZF | PF)))

    // Sign extensions of the accumulator; flag moves.
    forms.append(raw("CBW", size: 8, { _, _ in [0x66, 0x98] }, mask: fixed(ARITH)))
    forms.append(raw("CWDE", size: 16, { _, _ in [0x98] }, mask: fixed(ARITH)))
    forms.append(raw("CWD", size: 16, { _, _ in [0x66, 0x99] }, mask: fixed(ARITH)))
    forms.append(raw("CDQ", size: 32, { _, _ in [0x99] }, mask: fixed(ARITH)))
    forms.append(raw("SAHF", size: 8, { _, _ in [0x9E] }, mask: fixed(ARITH)))
    forms.append(raw("LAHF", size: 8, { _, _ in [0x9F] }, mask: fixed(ARITH)))
    forms.append(raw("CLC", { _, _ in [0xF8] }, mask: fixed(ARITH)))
    forms.append(raw("STC", { _, _ in [0xF9] }, mask: fixed(ARITH)))
    forms.append(raw("CMC", { _, _ in [0xF5] }, mask: fixed(ARITH)))

    // SETcc and CMOVcc over random flags (no flags changed).
    let ccNames = ["O", "NO", "B", "AE", "E", "NE", "BE", "A", "S", "NS", "P", "NP", "L", "GE", "LE", "G"]
    for cc in 0..<16 {
        forms.append(modrm("SET\(ccNames[cc]) Eb", [0x0F, UInt8(0x90 + cc)], size: 8, .reg, digit: 0, mask: fixed(ARITH)))
        for s in [16, 32] {
            forms.append(modrm("CMOV\(ccNames[cc]) Gv,Ev", [0x0F, UInt8(0x40 + cc)], size: s, .reg, mask: fixed(ARITH)))
        }
    }
    for cc in [2, 5, 12, 15] {
        forms.append(modrm("SET\(ccNames[cc]) Eb", [0x0F, UInt8(0x90 + cc)], size: 8, .mem, digit: 0, mask: fixed(ARITH)))
        forms.append(modrm("CMOV\(ccNames[cc]) Gv,Ev", [0x0F, UInt8(0x40 + cc)], size: 32, .mem, mask: fixed(ARITH)))
    }

    // Moves with extension and exchanges (cheap, and they share the operand-size paths).
    for k in both {
        for s in [16, 32] {
            forms.append(modrm("MOVZX Gv,Eb", [0x0F, 0xB6], size: s, k, mask: fixed(ARITH)))
            forms.append(modrm("MOVSX Gv,Eb", [0x0F, 0xBE], size: s, k, mask: fixed(ARITH)))
            forms.append(modrm("XCHG Ev,Gv", [0x87], size: s, k, mask: fixed(ARITH)))
        }
        forms.append(modrm("MOVZX Gd,Ew", [0x0F, 0xB7], size: 32, k, mask: fixed(ARITH)))
        forms.append(modrm("MOVSX Gd,Ew", [0x0F, 0xBF], size: 32, k, mask: fixed(ARITH)))
        forms.append(modrm("XCHG Eb,Gb", [0x86], size: 8, k, mask: fixed(ARITH)))
    }
    return forms
}

/// Defined flags of ROL ROR RCL RCR SHL SHR SAR by `count` (SDM "Flags Affected").
private func shiftMask(_ op: Int, size: Int, count: UInt32) -> Mask {
    let c = count & 0x1F
    if c == 0 { return Mask(ARITH) }                           // nothing changes at all
    let ofDefined = c == 1 ? OF : 0
    switch op {
    case 0, 1, 2, 3:                                           // rotates: SF ZF AF PF unaffected
        return Mask(ARITH & ~OF | ofDefined)
    case 4, 5:                                                 // SHL SHR: CF undefined for count >= size
        return Mask(SF | ZF | PF | ofDefined | (c >= UInt32(size) ? 0 : CF))
    default:                                                   // SAR
        return Mask(SF | ZF | PF | CF | ofDefined)
    }
}

/// Defined flags and destination of SHLD/SHRD by `count`: nothing changes for 0; result
/// and flags are undefined for a count above the operand size; OF only for 1; AF never.
private func doubleShiftMask(_ c: Ctx, count: UInt32) -> Mask {
    let n = count & 0x1F
    if n == 0 { return Mask(ARITH) }
    if n > UInt32(c.size) {
        var m = Mask(0)
        if let r = c.rmReg { m.regs[r] = 0xFFFF_0000 } else { m.memory = false }
        return m
    }
    return Mask(SF | ZF | PF | CF | (n == 1 ? OF : 0))
}

/// Bias DIV/IDIV towards quotients that fit (most cases), keeping zero divisors and
/// overflows as edge cases.
private func prepDivide(_ c: inout Ctx, _ r: inout SplitMix64, signed: Bool) {
    guard r.percent(75) else { return }
    let s = c.size
    if c.rm == 0, r.percent(80) { c.rm = UInt32(r.below(Int(sizeMask(min(s, 16)))) + 1) }
    let d = c.rm
    let low = r.operand(s) & sizeMask(s)
    var high: UInt32
    if signed {
        high = low & signBit(s) != 0 ? sizeMask(s) : 0         // the sign extension of `low`
    } else {
        high = d == 0 ? 0 : UInt32(UInt64(r.u32() & sizeMask(s)) % UInt64(d))
    }
    switch s {
    case 8: c.regs[0] = (c.regs[0] & ~0xFFFF) | (high & 0xFF) << 8 | (low & 0xFF)
    case 16: c.setReg(0, 16, low); c.setReg(2, 16, high)
    default: c.regs[0] = low; c.regs[2] = high
    }
    _ = c.rm    // the divisor may have been overwritten when it aliases the dividend: still a valid case
}

/// BT* m,r: a register bit offset (negative or large) whose addressed word lies in the buffer.
private func prepBitString(_ c: inout Ctx, _ r: inout SplitMix64) {
    let s = c.size, bytes = s / 8
    let esiRel = r.below(33) - 16
    let addrRel = esiRel + c.disp                              // buffer index of the base word, minus 64
    // k: word index relative to the base; 64 + addrRel + k*bytes within [0, 128 - bytes]
    let lo = Int((Double(-64 - addrRel) / Double(bytes)).rounded(.up))
    let hi = Int((Double(64 - bytes - addrRel) / Double(bytes)).rounded(.down))
    let k = lo + r.below(hi - lo + 1)
    let off = k * s + r.below(s)
    c.regs[6] = UInt32(bitPattern: Int32(esiRel))
    c.memOff = 64 + addrRel + k * bytes                        // the addressed word (for reports)
    if s == 16 {
        c.setReg(c.regField, 16, UInt32(truncatingIfNeeded: off))
    } else {
        c.regs[c.regField] = UInt32(bitPattern: Int32(off))
    }
}

/// CMPXCHG: make the accumulator equal the destination half of the time.
private func prepCmpxchg(_ c: inout Ctx, _ r: inout SplitMix64) {
    if r.percent(50) { c.setReg(0, c.size, c.rm) }
}

// MARK: - Native side

/// Builds and runs Native/x86native.c.in: the host CPU's answers for a batch of cases.
private final class NativeRunner {
    let dir: URL
    let exe: URL

    static let inSize = 184, outSize = 168

    /// Compile the harness with gcc -m32 into a temp dir; throws XCTSkip when impossible.
    init() throws {
        #if !(arch(x86_64) || arch(i386))
        throw XCTSkip("HostDifferentialTests needs an x86 host")
        #endif
        let src = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Native/x86native.c.in")
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("swift86-diff-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        exe = dir.appendingPathComponent("x86native")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["gcc", "-m32", "-O1", "-fno-pie", "-no-pie", "-x", "c", src.path, "-o", exe.path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = err
        do { try p.run() } catch { throw XCTSkip("gcc not runnable (\(error)); install gcc and gcc-multilib") }
        let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw XCTSkip("gcc -m32 cannot build the native harness (install gcc-multilib):\n\(msg)")
        }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Run `cases` natively, one Outcome per case, in order.
    func run(_ cases: ArraySlice<DiffCase>) throws -> [Outcome] {
        var input = [UInt8]()
        input.reserveCapacity(cases.count * Self.inSize)
        func put(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { input.append(contentsOf: $0) } }
        for c in cases {
            for r in c.regs { put(r) }
            put(c.flags)
            put(c.memReg < 0 ? 0xFFFF_FFFF : UInt32(c.memReg))
            input.append(UInt8(c.code.count))
            input.append(contentsOf: c.code)
            input.append(contentsOf: [UInt8](repeating: 0, count: 15 - c.code.count))
            input.append(contentsOf: c.mem)
        }
        let inURL = dir.appendingPathComponent("in.bin"), outURL = dir.appendingPathComponent("out.bin")
        try Data(input).write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let p = Process()
        p.executableURL = exe
        let inH = try FileHandle(forReadingFrom: inURL), outH = try FileHandle(forWritingTo: outURL)
        p.standardInput = inH
        p.standardOutput = outH
        try p.run()
        p.waitUntilExit()
        try inH.close(); try outH.close()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: "x86native", code: Int(p.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "x86native exited with status \(p.terminationStatus)"])
        }
        let out = [UInt8](try Data(contentsOf: outURL))
        guard out.count == cases.count * Self.outSize else {
            throw NSError(domain: "x86native", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "x86native wrote \(out.count) bytes for \(cases.count) cases"])
        }
        return out.withUnsafeBytes { raw in
            (0..<cases.count).map { i in
                let b = i * Self.outSize
                func get(_ o: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: b + o, as: UInt32.self)) }
                let f = get(0)
                return Outcome(fault: f == 0xFFFF_FFFF ? nil : UInt8(truncatingIfNeeded: f),
                               regs: (0..<8).map { get(4 + 4 * $0) }, flags: get(36),
                               mem: Array(raw[(b + 40)..<(b + 168)]))
            }
        }
    }
}

// MARK: - Interpreter side

/// A machine with nothing on its ports and no interrupts.
private final class NullBus: MachineBus {
    func portRead(_ port: UInt16, size: Int) -> UInt32 { 0xFFFF_FFFF }
    func portWrite(_ port: UInt16, size: Int, value: UInt32) {}
    func acknowledgeInterrupt() -> UInt8 { 0 }
    var interruptPending: Bool { false }
}

/// Runs one case at a time in the interpreter: code at 0x1000, buffer at 0x8000 (base 0x8040).
private final class InterpreterRunner {
    static let codeAddr: UInt32 = 0x1000, bufAddr: UInt32 = 0x8000, base: UInt32 = 0x8040
    let allRegs: [Reg32] = [.eax, .ecx, .edx, .ebx, .esp, .ebp, .esi, .edi]
    let mem: PhysicalMemory
    let bus = NullBus()
    let cpu: CPU

    init() throws {
        mem = try PhysicalMemory(size: 1 << 20)
        cpu = CPU(memory: mem, bus: bus)
        cpu.resetToFlatProtectedMode()
    }

    func run(_ c: DiffCase) -> Outcome {
        var code = c.code
        code += [UInt8](repeating: 0x90, count: 16 - code.count)   // NOPs after the instruction
        mem.write(code, at: Self.codeAddr)
        mem.write(c.mem, at: Self.bufAddr)
        for (i, r) in allRegs.enumerated() {
            var v = c.regs[i]
            if i == 4 { v = 0x7000 }
            if i == c.memReg { v = v &+ Self.base }
            cpu.setReg32(r, v)
        }
        cpu.eip = Self.codeAddr
        cpu.eflags = 0x2 | (c.flags & ARITH)
        let fault = cpu.executeOne()
        var regs = allRegs.map { cpu.reg32($0) }
        regs[4] = 0
        if c.memReg >= 0 { regs[c.memReg] = regs[c.memReg] &- Self.base }
        return Outcome(fault: fault.map { $0.vector }, regs: regs, flags: cpu.eflags,
                       mem: mem.read(at: Self.bufAddr, count: 128), eip: cpu.eip)
    }
}

// MARK: - Comparison

/// The differences between native `n` and interpreter `i` outcomes that the SDM defines
/// (empty when they agree).
private func differences(_ c: DiffCase, _ n: Outcome, _ i: Outcome) -> [String] {
    var d: [String] = []
    let vec = { (f: UInt8?) in f.map { "#\($0)" } ?? "none" }
    if n.fault != i.fault { d.append("fault native=\(vec(n.fault)) interp=\(vec(i.fault))") }
    let faulted = n.fault != nil
    for r in [0, 1, 2, 3, 5, 6, 7] {
        let m = faulted ? 0xFFFF_FFFF : c.mask.regs[r]
        if (n.regs[r] ^ i.regs[r]) & m != 0 { d.append(regNames[r]) }
    }
    let fm = (faulted ? ARITH : c.mask.flags) & ARITH
    let fd = (n.flags ^ i.flags) & fm
    if fd != 0 { d.append("flags(\(flagNames(fd)))") }
    if (faulted || c.mask.memory) && n.mem != i.mem {
        let idx = zip(n.mem, i.mem).enumerated().first { $0.element.0 != $0.element.1 }!.offset
        d.append("mem[base\(idx >= 64 ? "+" : "-")\(abs(idx - 64))]")
    }
    let expectEIP = InterpreterRunner.codeAddr + (i.fault == nil ? UInt32(c.code.count) : 0)
    if i.eip != expectEIP { d.append("EIP=\(hex8(i.eip)) expected \(hex8(expectEIP))") }
    return d
}

/// A readable multi-line report of one mismatching case.
private func describe(_ c: DiffCase, _ n: Outcome, _ i: Outcome, _ diffs: [String]) -> String {
    let bytes = c.code.map { String(format: "%02X", $0) }.joined(separator: " ")
    func regs(_ v: [UInt32]) -> String {
        [0, 1, 2, 3, 5, 6, 7].map { "\(regNames[$0])=\(hex8(v[$0]))" }.joined(separator: " ")
    }
    let vec = { (f: UInt8?) in f.map { " FAULT #\($0)" } ?? "" }
    var s = "    bytes \(bytes)   differs: \(diffs.joined(separator: ", "))\n"
    s += "      in:     \(regs(c.regs)) flags [\(flagNames(c.flags))]\(c.memReg >= 0 ? " (ESI relative to buffer base)" : "")\n"
    s += "      native: \(regs(n.regs)) flags [\(flagNames(n.flags & ARITH))]\(vec(n.fault))\n"
    s += "      interp: \(regs(i.regs)) flags [\(flagNames(i.flags & ARITH))]\(vec(i.fault))\n"
    s += "      defined flags [\(flagNames(c.mask.flags))]"
    if c.memReg >= 0 || n.mem != i.mem {
        let first = zip(n.mem, i.mem).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        let lo = min(max(0, (first ?? c.memOff) - 8), 128 - 24)
        let r = lo..<(lo + 24)
        s += "\n      mem[\(r.lowerBound - 64)..]: in \(c.mem[r].map { String(format: "%02X", $0) }.joined())"
        s += " native \(n.mem[r].map { String(format: "%02X", $0) }.joined())"
        s += " interp \(i.mem[r].map { String(format: "%02X", $0) }.joined())"
    }
    return s
}

// MARK: - The test

final class HostDifferentialTests: XCTestCase {
    /// The host CPU harness itself: known answers, independent of the interpreter.
    func testNativeHarnessKnownAnswers() throws {
        let native = try NativeRunner()
        var regs = [UInt32](repeating: 0, count: 8)
        regs[0] = 0xFFFF_FFFF; regs[1] = 1
        let add = DiffCase(code: [0x01, 0xC8], regs: regs, flags: 0, memReg: -1,   // add eax, ecx
                           mem: [UInt8](repeating: 0, count: 128), mask: Mask(ARITH))
        var div = add
        div.code = [0xF7, 0xF2]                                                     // div edx (= 0)
        var bts = add
        bts.code = [0x0F, 0xAB, 0x0E]                                               // bts [esi], ecx
        bts.regs[1] = UInt32(bitPattern: -100); bts.regs[6] = 0; bts.memReg = 6
        let out = try native.run([add, div, bts][...])
        XCTAssertNil(out[0].fault)
        XCTAssertEqual(out[0].regs[0], 0)
        XCTAssertEqual(out[0].flags & ARITH, CF | ZF | PF | AF)
        XCTAssertEqual(out[1].fault, 0)
        XCTAssertEqual(out[1].regs[0], 0xFFFF_FFFF, "registers at #DE are the inputs")
        XCTAssertEqual(out[2].regs[6], 0, "ESI reported relative to the buffer base")
        XCTAssertEqual(out[2].mem[64 - 16 + 3], 0x10, "bit -100 = byte -13 bit 4")
    }

    /// Every generated instruction decodes (not #UD) to exactly its own length: a check of
    /// the form table against X86Decoder, so interpreter mismatches are not encoding slips.
    func testFormsDecodeToTheirLength() {
        var rng = SplitMix64(state: 1)
        var bad: [String] = []
        for f in buildForms() {
            for _ in 0..<20 {
                let c = f.gen(&rng)
                var insn = DecodedInstruction()
                let padded = c.code + [UInt8](repeating: 0x90, count: 15 - c.code.count)
                let st = padded.withUnsafeBufferPointer { Decoder.decode($0.baseAddress!, count: 15, code32: true, into: &insn) }
                if st != .ok || insn.op == .ud || insn.op == .tooLong || Int(insn.length) != c.code.count {
                    bad.append("\(f.name): \(c.code.map { String(format: "%02X", $0) }.joined(separator: " ")) decodes as \(insn.op) length \(insn.length)")
                    break
                }
            }
        }
        XCTAssert(bad.isEmpty, "forms that do not decode to their length:\n" + bad.joined(separator: "\n"))
    }

    /// Every form, random edge-biased operands, native vs interpreter.
    func testInterpreterMatchesHostCPU() throws {
        let env = ProcessInfo.processInfo.environment
        let seed = env["SEED"].flatMap { UInt64($0) } ?? 0x5EED_0086
        let full = env["FULL"] == "1"
        let allForms = buildForms()
        let only = env["DIFF_ONLY"].map { $0.split(separator: ",").map(String.init) } ?? []
        let chosen = allForms.indices.filter { i in only.isEmpty || only.contains { allForms[i].name.contains($0) } }
        let forms = chosen.map { allForms[$0] }
        let perForm = env["DIFF_CASES"].flatMap { Int($0) } ?? (full ? 8_000 : max(250, (120_000 + forms.count - 1) / forms.count))
        print("HostDifferentialTests: seed \(seed) (SEED=n overrides), \(forms.count) forms x \(perForm) cases = \(forms.count * perForm)\(full ? " (FULL)" : "")")

        let native = try NativeRunner()
        let interp = try InterpreterRunner()
        // One stream per form, keyed by its index in the full table: DIFF_ONLY reproduces a full run's cases.
        var rngs = chosen.map { SplitMix64(state: seed &+ UInt64($0) &* 0x1_0000_0001) }
        var failures = [Int: (count: Int, examples: [String])]()
        var total = 0, faults = 0
        let chunk = max(1, 60_000 / forms.count)                   // cases per form per native batch
        var done = 0
        let started = Date()
        while done < perForm {
            let n = min(chunk, perForm - done)
            var cases: [DiffCase] = []
            cases.reserveCapacity(n * forms.count)
            for (fi, f) in forms.enumerated() {
                for _ in 0..<n {
                    var c = f.gen(&rngs[fi])
                    c.form = fi
                    cases.append(c)
                }
            }
            let nat = try native.run(cases[...])
            for (k, c) in cases.enumerated() {
                let i = interp.run(c)
                if nat[k].fault != nil { faults += 1 }
                let d = differences(c, nat[k], i)
                if !d.isEmpty {
                    var e = failures[c.form] ?? (0, [])
                    e.count += 1
                    if e.examples.count < 3 { e.examples.append(describe(c, nat[k], i, d)) }
                    failures[c.form] = e
                }
            }
            total += cases.count
            done += n
        }
        let secs = Date().timeIntervalSince(started)
        print("HostDifferentialTests: \(total) cases (\(faults) faulting natively) in \(String(format: "%.1f", secs)) s, "
              + "\(failures.values.reduce(0) { $0 + $1.count }) mismatches in \(failures.count) of \(forms.count) forms")
        if !failures.isEmpty {
            var report = "Mismatches by form (seed \(seed)):\n"
            for fi in failures.keys.sorted() {
                let e = failures[fi]!
                report += "  \(forms[fi].name): \(e.count) of \(perForm)\n" + e.examples.joined(separator: "\n") + "\n"
            }
            print(report)
            XCTFail("\(failures.count) instruction forms differ from the host CPU (report above)")
        }
    }
}
