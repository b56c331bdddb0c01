// Operands: register files, effective addresses, E/G operand access and the stack.
import X86Decoder

typealias Insn = UnsafePointer<DecodedInstruction>

extension CPU {
    // MARK: registers by size (sz: 0 = 8, 1 = 16, 2 = 32 bits)

    @inline(__always) func reg8(_ n: UInt8) -> UInt32 {
        n < 4 ? r[Int(n)] & 0xFF : (r[Int(n & 3)] >> 8) & 0xFF
    }
    @inline(__always) func setReg8(_ n: UInt8, _ v: UInt32) {
        if n < 4 { r[Int(n)] = (r[Int(n)] & 0xFFFF_FF00) | (v & 0xFF) }
        else { let i = Int(n & 3); r[i] = (r[i] & 0xFFFF_00FF) | ((v & 0xFF) << 8) }
    }
    @inline(__always) func getReg(_ n: UInt8, _ sz: UInt32) -> UInt32 {
        switch sz {
        case 0: return reg8(n)
        case 1: return r[Int(n)] & 0xFFFF
        default: return r[Int(n)]
        }
    }
    @inline(__always) func setReg(_ n: UInt8, _ sz: UInt32, _ v: UInt32) {
        switch sz {
        case 0: setReg8(n, v)
        case 1: r[Int(n)] = (r[Int(n)] & 0xFFFF_0000) | (v & 0xFFFF)
        default: r[Int(n)] = v
        }
    }

    /// Operand size code of a `v` operand: 1 (16 bits) or 2 (32 bits).
    @inline(__always) func vsz(_ d: Insn) -> UInt32 { d.pointee.flags & DecodedInstruction.flagO16 != 0 ? 1 : 2 }

    // MARK: effective address

    /// Effective address (offset within the segment) of the memory operand.
    @inline(__always) func ea(_ d: Insn) -> UInt32 {
        let a = r[Int(d.pointee.base)] &+ (r[Int(d.pointee.index)] << UInt32(d.pointee.scale)) &+ d.pointee.disp
        return d.pointee.flags & DecodedInstruction.flagA16 != 0 ? a & 0xFFFF : a
    }

    // MARK: E operand

    /// Read the r/m operand of size `sz`.
    @inline(__always) func readE(_ d: Insn, _ sz: UInt32) throws(Fault) -> UInt32 {
        if d.pointee.flags & DecodedInstruction.flagMem != 0 {
            return try load(Int(d.pointee.seg), ea(d), 1 << Int(sz))
        }
        return getReg(d.pointee.rm, sz)
    }
    /// Write the r/m operand of size `sz`.
    @inline(__always) func writeE(_ d: Insn, _ sz: UInt32, _ v: UInt32) throws(Fault) {
        if d.pointee.flags & DecodedInstruction.flagMem != 0 {
            try store(Int(d.pointee.seg), ea(d), 1 << Int(sz), v)
        } else {
            setReg(d.pointee.rm, sz, v)
        }
    }
    /// First half of a read-modify-write of the r/m operand: the old value and, for
    /// memory, its effective address. A memory operand faults here exactly as the write
    /// would (write permission is checked), so nothing changes before the last fault.
    @inline(__always) func readRMW(_ d: Insn, _ sz: UInt32) throws(Fault) -> (value: UInt32, ea: UInt32) {
        if d.pointee.flags & DecodedInstruction.flagMem != 0 {
            let a = ea(d)
            return (try loadRMW(Int(d.pointee.seg), a, 1 << Int(sz)), a)
        }
        return (getReg(d.pointee.rm, sz), 0)
    }
    /// Second half of a read-modify-write: store `v` where `readRMW` read.
    @inline(__always) func writeRMW(_ d: Insn, _ sz: UInt32, _ a: UInt32, _ v: UInt32) throws(Fault) {
        if d.pointee.flags & DecodedInstruction.flagMem != 0 {
            try store(Int(d.pointee.seg), a, 1 << Int(sz), v)
        } else {
            setReg(d.pointee.rm, sz, v)
        }
    }

    // MARK: stack

    /// Push `size` (2 or 4) bytes; ESP (or SP for a 16-bit stack) changes only on success.
    @inline(__always) func push(_ v: UInt32, _ size: Int) throws(Fault) {
        if stack32 {
            let sp = r[4] &- UInt32(size)
            try store(2, sp, size, v)
            r[4] = sp
        } else {
            let sp = (r[4] &- UInt32(size)) & 0xFFFF
            try store(2, sp, size, v)
            r[4] = (r[4] & 0xFFFF_0000) | sp
        }
    }
    /// Pop `size` (2 or 4) bytes.
    @inline(__always) func pop(_ size: Int) throws(Fault) -> UInt32 {
        if stack32 {
            let v = try load(2, r[4], size)
            r[4] = r[4] &+ UInt32(size)
            return v
        }
        let sp = r[4] & 0xFFFF
        let v = try load(2, sp, size)
        r[4] = (r[4] & 0xFFFF_0000) | ((sp &+ UInt32(size)) & 0xFFFF)
        return v
    }
    /// Read the stack at offset `k` bytes above the top without popping.
    @inline(__always) func peekStack(_ k: UInt32, _ size: Int) throws(Fault) -> UInt32 {
        try load(2, stack32 ? r[4] &+ k : (r[4] &+ k) & 0xFFFF, size)
    }
    /// Add `k` to the stack pointer (ESP or SP by SS.B).
    @inline(__always) func adjustSP(_ k: UInt32) {
        if stack32 { r[4] = r[4] &+ k } else { r[4] = (r[4] & 0xFFFF_0000) | ((r[4] &+ k) & 0xFFFF) }
    }
}
