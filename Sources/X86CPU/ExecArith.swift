// ExecArith: multiply/divide, shifts and rotates, bit tests and scans, exchanges, BCD.
import X86Decoder

extension CPU {
    /// MUL, IMUL (1, 2, 3 operands), DIV, IDIV. Flags left undefined by the SDM are set
    /// as follows: MUL/IMUL compute SF/ZF/PF from the low half and clear AF; DIV/IDIV
    /// leave all flags unchanged.
    @inline(never)
    func execMulDiv(_ d: Insn) throws(Fault) {
        let op = d.pointee.op
        let sz: UInt32 = (op == .mulEb || op == .imulEb || op == .divEb || op == .idivEb) ? 0 : vsz(d)
        let bits = UInt32(8) << sz
        let m = sizeMask(sz)
        switch op {
        case .mulEb, .mulEv:
            let src = UInt64(try readE(d, sz))
            let a = UInt64(getReg(0, sz))
            let p = a &* src
            let lo = UInt32(truncatingIfNeeded: p) & m, hi = UInt32(truncatingIfNeeded: p >> UInt64(bits)) & m
            storeWide(sz, lo, hi)
            let cf: UInt32 = hi != 0 ? EFLAGS.CF | EFLAGS.OF : 0
            setArith(cf | szp(lo, sz))
        case .imulEb, .imulEv:
            let src = signExtend(try readE(d, sz), sz)
            let a = signExtend(getReg(0, sz), sz)
            let p = a &* src
            let lo = UInt32(truncatingIfNeeded: p) & m, hi = UInt32(truncatingIfNeeded: p >> Int64(bits)) & m
            storeWide(sz, lo, hi)
            let cf: UInt32 = signExtend(lo, sz) != p ? EFLAGS.CF | EFLAGS.OF : 0
            setArith(cf | szp(lo, sz))
        case .imulGvEv, .imulGvEvIv:
            let src = signExtend(try readE(d, sz), sz)
            let other = op == .imulGvEv ? signExtend(getReg(d.pointee.reg, sz), sz) : signExtend(d.pointee.imm & m, sz)
            let p = src &* other
            let lo = UInt32(truncatingIfNeeded: p) & m
            setReg(d.pointee.reg, sz, lo)
            let cf: UInt32 = signExtend(lo, sz) != p ? EFLAGS.CF | EFLAGS.OF : 0
            setArith(cf | szp(lo, sz))
        case .divEb, .divEv:
            let src = UInt64(try readE(d, sz))
            if src == 0 { throw Fault(Fault.de) }
            let (lo, hi) = loadWide(sz)
            let n = UInt64(hi) << UInt64(bits) | UInt64(lo)
            let q = n / src, rem = n % src
            if q > UInt64(m) { throw Fault(Fault.de) }
            storeWide(sz, UInt32(q), UInt32(rem))
        default: // idiv
            let src = signExtend(try readE(d, sz), sz)
            if src == 0 { throw Fault(Fault.de) }
            let (lo, hi) = loadWide(sz)
            let n = Int64(bitPattern: UInt64(hi) << UInt64(bits) | UInt64(lo))
            let nn = sz == 2 ? n : (n << (64 - 2 * Int64(bits))) >> (64 - 2 * Int64(bits))
            if nn == Int64.min && src == -1 { throw Fault(Fault.de) }
            let q = nn / src, rem = nn % src
            let maxQ = Int64(1) << (Int64(bits) - 1)
            if q >= maxQ || q < -maxQ { throw Fault(Fault.de) }
            storeWide(sz, UInt32(truncatingIfNeeded: q) & m, UInt32(truncatingIfNeeded: rem) & m)
        }
    }

    @inline(__always) func signExtend(_ v: UInt32, _ sz: UInt32) -> Int64 {
        switch sz {
        case 0: return Int64(Int8(truncatingIfNeeded: v))
        case 1: return Int64(Int16(truncatingIfNeeded: v))
        default: return Int64(Int32(bitPattern: v))
        }
    }
    /// The double-width accumulator AX / DX:AX / EDX:EAX as (low, high) halves.
    @inline(__always) func loadWide(_ sz: UInt32) -> (UInt32, UInt32) {
        switch sz {
        case 0: return (r[0] & 0xFF, (r[0] >> 8) & 0xFF)
        case 1: return (r[0] & 0xFFFF, r[2] & 0xFFFF)
        default: return (r[0], r[2])
        }
    }
    /// Store (low, high) into AL:AH, AX:DX or EAX:EDX.
    @inline(__always) func storeWide(_ sz: UInt32, _ lo: UInt32, _ hi: UInt32) {
        switch sz {
        case 0: r[0] = (r[0] & 0xFFFF_0000) | ((hi & 0xFF) << 8) | (lo & 0xFF)
        case 1: setReg(0, 1, lo); setReg(2, 1, hi)
        default: r[0] = lo; r[2] = hi
        }
    }

    /// Group 2: ROL ROR RCL RCR SHL SHR SAL SAR. The count is masked to 5 bits; a masked
    /// count of 0 changes nothing (not even flags). Undefined flags: AF is cleared by
    /// shifts; OF for counts > 1 is computed with the count-1 formula.
    @inline(never)
    func execShift(_ d: Insn, _ sz: UInt32) throws(Fault) {
        let count = (d.pointee.imm2 == 1 ? r[1] : d.pointee.imm) & 0x1F
        let kind = d.pointee.reg
        if count == 0 { _ = try readE(d, sz); return }
        let bits = UInt32(8) << sz, m = sizeMask(sz), sb = signBit(sz)
        var newFlags: UInt32 = 0
        var preserveSZAP = false
        let cin = carry
        materializeFlags()
        let (v, ea) = try readRMW(d, sz)
        do {
            var res: UInt32
            var cf: UInt32, of: UInt32
            switch kind {
            case 0: // ROL
                let c = count % bits
                res = c == 0 ? v : ((v << c) | (v >> (bits - c))) & m
                cf = res & 1
                of = ((res & sb) != 0 ? 1 : 0) ^ cf
                preserveSZAP = true
            case 1: // ROR
                let c = count % bits
                res = c == 0 ? v : ((v >> c) | (v << (bits - c))) & m
                cf = (res & sb) != 0 ? 1 : 0
                of = cf ^ ((res & (sb >> 1)) != 0 ? 1 : 0)
                preserveSZAP = true
            case 2: // RCL through CF: a (bits+1)-bit rotation
                let c = sz == 2 ? count : count % (bits + 1)
                var wide = UInt64(v) | UInt64(cin) << UInt64(bits)      // CF:dest
                let w = UInt64(bits + 1)
                if c != 0 { wide = ((wide << UInt64(c)) | (wide >> (w - UInt64(c)))) & ((1 << w) - 1) }
                res = UInt32(truncatingIfNeeded: wide) & m
                cf = UInt32(truncatingIfNeeded: wide >> UInt64(bits)) & 1
                of = ((res & sb) != 0 ? 1 : 0) ^ cf
                preserveSZAP = true
            case 3: // RCR
                let c = sz == 2 ? count : count % (bits + 1)
                var wide = UInt64(v) | UInt64(cin) << UInt64(bits)
                let w = UInt64(bits + 1)
                if c != 0 { wide = ((wide >> UInt64(c)) | (wide << (w - UInt64(c)))) & ((1 << w) - 1) }
                res = UInt32(truncatingIfNeeded: wide) & m
                cf = UInt32(truncatingIfNeeded: wide >> UInt64(bits)) & 1
                of = ((res & sb) != 0 ? 1 : 0) ^ ((res & (sb >> 1)) != 0 ? 1 : 0)
                preserveSZAP = true
            case 4, 6: // SHL/SAL
                let wide = UInt64(v) << UInt64(count)
                res = UInt32(truncatingIfNeeded: wide) & m
                cf = UInt32(truncatingIfNeeded: wide >> UInt64(bits)) & 1
                of = ((res & sb) != 0 ? 1 : 0) ^ cf
            case 5: // SHR
                res = count >= bits ? 0 : (v & m) >> count
                cf = count > bits ? 0 : ((v & m) >> (count - 1)) & 1
                of = (v & sb) != 0 ? 1 : 0
            default: // SAR
                let sv = signExtend(v, sz)
                res = UInt32(truncatingIfNeeded: sv >> Int64(min(count, 63))) & m
                cf = UInt32(truncatingIfNeeded: sv >> Int64(min(count - 1, 63))) & 1
                of = 0
            }
            newFlags = cf | of << 11 | (preserveSZAP ? 0 : szp(res, sz))
            try writeRMW(d, sz, ea, res)
        }
        if preserveSZAP {
            flagBits = (flagBits & ~(EFLAGS.CF | EFLAGS.OF)) | newFlags
        } else {
            setArith(newFlags)
        }
    }

    /// SHLD / SHRD (count in `imm`, or CL when `imm2` = 1), masked to 5 bits.
    @inline(never)
    func execShiftDouble(_ d: Insn) throws(Fault) {
        let sz = vsz(d), m = sizeMask(sz)
        let count = (d.pointee.imm2 == 1 ? r[1] : d.pointee.imm) & 0x1F
        let src = getReg(d.pointee.reg, sz)
        if count == 0 { _ = try readE(d, sz); return }
        let left = d.pointee.op == .shldEvGv
        var flags: UInt32 = 0
        let (v, ea) = try readRMW(d, sz)
        do {
            var res: UInt32, cf: UInt32
            if sz == 2 {
                if left {
                    res = (v << count) | (src >> (32 - count))
                    cf = (v >> (32 - count)) & 1
                } else {
                    res = (v >> count) | (src << (32 - count))
                    cf = (v >> (count - 1)) & 1
                }
            } else {
                // 16-bit: a 48-bit dest:src:dest pattern (count > 16 is undefined by the SDM)
                if left {
                    let wide = (UInt64(v & m) << 32) | (UInt64(src & m) << 16) | UInt64(v & m)
                    res = UInt32(truncatingIfNeeded: wide >> UInt64(32 - count)) & m
                    cf = UInt32(truncatingIfNeeded: wide >> UInt64(48 - count)) & 1
                } else {
                    let wide = (UInt64(v & m) << 32) | (UInt64(src & m) << 16) | UInt64(v & m)
                    let w2 = (UInt64(src & m) << 16) | UInt64(v & m)
                    res = UInt32(truncatingIfNeeded: w2 >> UInt64(count)) & m
                    cf = UInt32(truncatingIfNeeded: (count <= 16 ? w2 : wide) >> UInt64(count - 1)) & 1
                }
            }
            let of: UInt32 = ((res ^ v) & signBit(sz)) != 0 ? 1 : 0
            flags = cf | of << 11 | szp(res, sz)
            try writeRMW(d, sz, ea, res)
        }
        setArith(flags)
    }

    /// BT/BTS/BTR/BTC with a register or immediate offset. A register offset into a memory
    /// operand addresses a bit string: the address moves by (offset >> 5) * 4 (signed).
    /// Only CF changes (OF, SF, AF, PF are left unchanged; ZF is unaffected).
    @inline(never)
    func execBitTest(_ d: Insn) throws(Fault) {
        let sz = vsz(d), bits = UInt32(8) << sz
        let op = d.pointee.op
        let imm = op == .btEvIb || op == .btsEvIb || op == .btrEvIb || op == .btcEvIb
        let action: Int
        switch op {
        case .btEvGv, .btEvIb: action = 0
        case .btsEvGv, .btsEvIb: action = 1
        case .btrEvGv, .btrEvIb: action = 2
        default: action = 3
        }
        var bit: UInt32
        var cf: UInt32 = 0
        if d.pointee.flags & DecodedInstruction.flagMem != 0 {
            var a = ea(d)
            if imm {
                bit = d.pointee.imm & (bits - 1)
            } else {
                let off = getReg(d.pointee.reg, sz)
                let soff = sz == 2 ? Int64(Int32(bitPattern: off)) : Int64(Int16(truncatingIfNeeded: off))
                let delta = (soff >> Int64(3 + sz)) * Int64(1 << sz)
                a = a &+ UInt32(truncatingIfNeeded: delta)
                if d.pointee.flags & DecodedInstruction.flagA16 != 0 { a &= 0xFFFF }
                bit = off & (bits - 1)
            }
            let s = Int(d.pointee.seg), n = 1 << Int(sz)
            if action == 0 {
                cf = (try load(s, a, n) >> bit) & 1
            } else {
                let v = try loadRMW(s, a, n)
                cf = (v >> bit) & 1
                let nv = action == 1 ? v | (1 << bit) : (action == 2 ? v & ~(1 << bit) : v ^ (1 << bit))
                try store(s, a, n, nv)
            }
        } else {
            bit = (imm ? d.pointee.imm : getReg(d.pointee.reg, sz)) & (bits - 1)
            let v = getReg(d.pointee.rm, sz)
            cf = (v >> bit) & 1
            if action != 0 {
                let nv = action == 1 ? v | (1 << bit) : (action == 2 ? v & ~(1 << bit) : v ^ (1 << bit))
                setReg(d.pointee.rm, sz, nv)
            }
        }
        materializeFlags()
        flagBits = (flagBits & ~EFLAGS.CF) | cf
    }

    /// BSF/BSR: a zero source sets ZF and leaves the destination unchanged; other flags
    /// (undefined by the SDM) are left unchanged.
    @inline(never)
    func execBitScan(_ d: Insn) throws(Fault) {
        let sz = vsz(d)
        let v = try readE(d, sz) & sizeMask(sz)
        materializeFlags()
        if v == 0 { flagBits |= EFLAGS.ZF; return }
        flagBits &= ~EFLAGS.ZF
        let idx = d.pointee.op == .bsfGvEv ? UInt32(v.trailingZeroBitCount) : UInt32(31 - v.leadingZeroBitCount)
        setReg(d.pointee.reg, sz, idx)
    }

    /// XADD, CMPXCHG, CMPXCHG8B. A memory destination is always written (locked cycle).
    @inline(never)
    func execExchange(_ d: Insn) throws(Fault) {
        switch d.pointee.op {
        case .xaddEbGb, .xaddEvGv:
            let sz: UInt32 = d.pointee.op == .xaddEbGb ? 0 : vsz(d)
            let src = getReg(d.pointee.reg, sz)
            let (old, a) = try readRMW(d, sz)
            try writeRMW(d, sz, a, alu(0, old, src, sz))
            // SRC <- DEST, then DEST <- sum: with the same register on both sides the sum wins
            if !(d.pointee.flags & DecodedInstruction.flagMem == 0 && d.pointee.rm == d.pointee.reg) {
                setReg(d.pointee.reg, sz, old)
            }
        case .cmpxchgEbGb, .cmpxchgEvGv:
            let sz: UInt32 = d.pointee.op == .cmpxchgEbGb ? 0 : vsz(d)
            let acc = getReg(0, sz), src = getReg(d.pointee.reg, sz)
            let (old, a) = try readRMW(d, sz)
            try writeRMW(d, sz, a, acc == old ? src : old)
            _ = alu(7, acc, old, sz)
            if acc != old { setReg(0, sz, old) }
        default: // cmpxchg8b m64
            let s = Int(d.pointee.seg), a = ea(d)
            let lo = try loadRMW(s, a, 4)
            let hi = try loadRMW(s, a &+ 4, 4)
            materializeFlags()
            if lo == r[0] && hi == r[2] {
                try store(s, a, 4, r[3]); try store(s, a &+ 4, 4, r[1])
                flagBits |= EFLAGS.ZF
            } else {
                try store(s, a, 4, lo); try store(s, a &+ 4, 4, hi)
                r[0] = lo; r[2] = hi
                flagBits &= ~EFLAGS.ZF
            }
        }
    }

    /// DAA DAS AAA AAS AAM AAD as the SDM's pseudocode. Undefined flags: OF is cleared by
    /// DAA/DAS; AAA/AAS leave OF SF ZF PF as computed from AL; AAM/AAD clear OF AF CF.
    @inline(never)
    func execBCD(_ d: Insn) throws(Fault) {
        materializeFlags()
        let al = r[0] & 0xFF
        let af = flagBits & EFLAGS.AF != 0, cf = flagBits & EFLAGS.CF != 0
        switch d.pointee.op {
        case .daa:
            var a = al, ncf = false, naf = false
            if (al & 0xF) > 9 || af { a = (a &+ 6) & 0xFF; ncf = cf || al + 6 > 0xFF; naf = true }
            if al > 0x99 || cf { a = (a &+ 0x60) & 0xFF; ncf = true } else { ncf = false }
            setReg8(0, a)
            setArith((ncf ? EFLAGS.CF : 0) | (naf ? EFLAGS.AF : 0) | szp(a, 0))
        case .das:
            var a = al, ncf = false, naf = false
            if (al & 0xF) > 9 || af { a = (a &- 6) & 0xFF; ncf = cf || al < 6; naf = true }
            if al > 0x99 || cf { a = (a &- 0x60) & 0xFF; ncf = true }
            setReg8(0, a)
            setArith((ncf ? EFLAGS.CF : 0) | (naf ? EFLAGS.AF : 0) | szp(a, 0))
        case .aaa:
            var ax = r[0] & 0xFFFF
            let adj = (al & 0xF) > 9 || af
            if adj { ax = (ax &+ 0x106) & 0xFFFF }
            ax &= 0xFF0F
            setReg(0, 1, ax)
            setArith((adj ? EFLAGS.CF | EFLAGS.AF : 0) | szp(ax & 0xFF, 0))
        case .aas:
            var ax = r[0] & 0xFFFF
            let adj = (al & 0xF) > 9 || af
            if adj { ax = (ax &- 6) & 0xFFFF; ax = (ax &- 0x100) & 0xFFFF }
            ax &= 0xFF0F
            setReg(0, 1, ax)
            setArith((adj ? EFLAGS.CF | EFLAGS.AF : 0) | szp(ax & 0xFF, 0))
        case .aam:
            let base = d.pointee.imm & 0xFF
            if base == 0 { throw Fault(Fault.de) }
            let a = al % base, h = al / base
            setReg(0, 1, h << 8 | a)
            setArith(szp(a, 0))
        default: // aad
            let base = d.pointee.imm & 0xFF
            let a = (al &+ ((r[0] >> 8) & 0xFF) &* base) & 0xFF
            setReg(0, 1, a)
            setArith(szp(a, 0))
        }
    }
}
