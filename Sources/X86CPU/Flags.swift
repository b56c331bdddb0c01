// Flags: lazy EFLAGS — keep operands and result, compute CF/PF/AF/ZF/SF/OF when read.

/// Lazy flag kinds, stored in `fOp` bits 2–5; bits 0–1 hold the size (0 = 8, 1 = 16, 2 = 32 bits).
/// `fOp` = 0 means the arithmetic flags are materialized in `flagBits`.
@usableFromInline enum LazyKind {
    @usableFromInline static let add: UInt32 = 1 << 2
    @usableFromInline static let adc: UInt32 = 2 << 2
    @usableFromInline static let sub: UInt32 = 3 << 2
    @usableFromInline static let sbb: UInt32 = 4 << 2
    @usableFromInline static let logic: UInt32 = 5 << 2
    @usableFromInline static let inc: UInt32 = 6 << 2
    @usableFromInline static let dec: UInt32 = 7 << 2
}

/// EFLAGS bit masks.
public enum EFLAGS {
    public static let CF: UInt32 = 1 << 0, PF: UInt32 = 1 << 2, AF: UInt32 = 1 << 4, ZF: UInt32 = 1 << 6
    public static let SF: UInt32 = 1 << 7, TF: UInt32 = 1 << 8, IF: UInt32 = 1 << 9, DF: UInt32 = 1 << 10
    public static let OF: UInt32 = 1 << 11, IOPL: UInt32 = 3 << 12, NT: UInt32 = 1 << 14
    public static let RF: UInt32 = 1 << 16, VM: UInt32 = 1 << 17, AC: UInt32 = 1 << 18, ID: UInt32 = 1 << 21
    public static let arith: UInt32 = CF | PF | AF | ZF | SF | OF
}

@inline(__always) func sizeMask(_ sz: UInt32) -> UInt32 { sz == 0 ? 0xFF : (sz == 1 ? 0xFFFF : 0xFFFF_FFFF) }
@inline(__always) func signBit(_ sz: UInt32) -> UInt32 { sz == 0 ? 0x80 : (sz == 1 ? 0x8000 : 0x8000_0000) }
/// PF: 1 when the low byte of `x` has an even number of set bits.
@inline(__always) func parity(_ x: UInt32) -> UInt32 {
    let v = (x ^ (x >> 4)) & 0xF
    return (0x9669 >> v) & 1
}

extension CPU {
    /// Record an arithmetic result whose flags are computed later.
    @inline(__always) func setLazy(_ kind: UInt32, _ sz: UInt32, _ a: UInt32, _ b: UInt32, _ res: UInt32) {
        fOp = kind | sz; fA = a; fB = b; fRes = res
    }

    @inline(__always) var lazyCF: UInt32 {
        let sz = fOp & 3, m = sizeMask(sz)
        switch fOp & ~3 {
        case 0: return flagBits & 1
        case LazyKind.add: return (fRes & m) < (fA & m) ? 1 : 0
        case LazyKind.adc: return fCarry != 0 ? ((fRes & m) <= (fA & m) ? 1 : 0) : ((fRes & m) < (fA & m) ? 1 : 0)
        case LazyKind.sub: return (fA & m) < (fB & m) ? 1 : 0
        case LazyKind.sbb: return fCarry != 0 ? ((fA & m) <= (fB & m) ? 1 : 0) : ((fA & m) < (fB & m) ? 1 : 0)
        case LazyKind.logic: return 0
        default: return fCarry   // inc, dec preserve CF
        }
    }
    @inline(__always) var lazyZF: UInt32 {
        fOp == 0 ? (flagBits >> 6) & 1 : ((fRes & sizeMask(fOp & 3)) == 0 ? 1 : 0)
    }
    @inline(__always) var lazySF: UInt32 {
        fOp == 0 ? (flagBits >> 7) & 1 : ((fRes & signBit(fOp & 3)) != 0 ? 1 : 0)
    }
    @inline(__always) var lazyPF: UInt32 { fOp == 0 ? (flagBits >> 2) & 1 : parity(fRes) }
    @inline(__always) var lazyAF: UInt32 {
        switch fOp & ~3 {
        case 0: return (flagBits >> 4) & 1
        case LazyKind.logic: return 0
        default: return ((fA ^ fB ^ fRes) >> 4) & 1
        }
    }
    @inline(__always) var lazyOF: UInt32 {
        let sb = signBit(fOp & 3)
        switch fOp & ~3 {
        case 0: return (flagBits >> 11) & 1
        case LazyKind.add, LazyKind.adc, LazyKind.inc:
            return ((fA ^ fRes) & (fB ^ fRes) & sb) != 0 ? 1 : 0
        case LazyKind.sub, LazyKind.sbb, LazyKind.dec:
            return ((fA ^ fB) & (fA ^ fRes) & sb) != 0 ? 1 : 0
        default: return 0
        }
    }

    /// Compute the arithmetic flags into `flagBits` and drop the lazy state.
    @inline(__always) func materializeFlags() {
        if fOp != 0 { materializeSlow() }
    }
    @inline(never) func materializeSlow() {
        let f = lazyCF | lazyPF << 2 | lazyAF << 4 | lazyZF << 6 | lazySF << 7 | lazyOF << 11
        flagBits = (flagBits & ~EFLAGS.arith) | f
        fOp = 0
    }

    /// Set the six arithmetic flags explicitly (used by instructions computed eagerly).
    @inline(__always) func setArith(_ f: UInt32) {
        fOp = 0
        flagBits = (flagBits & ~EFLAGS.arith) | (f & EFLAGS.arith)
    }

    /// ZF, SF, PF of `res` at size `sz` as flag bits.
    @inline(__always) func szp(_ res: UInt32, _ sz: UInt32) -> UInt32 {
        let m = sizeMask(sz)
        return ((res & m) == 0 ? EFLAGS.ZF : 0) | ((res & signBit(sz)) != 0 ? EFLAGS.SF : 0) | parity(res) << 2
    }

    /// Evaluate condition code `cc` (0–15: O NO B AE E NE BE A S NS P NP L GE LE G).
    @inline(__always) func condition(_ cc: UInt8) -> Bool {
        if fOp == LazyKind.sub | 2 {
            // the common case: CMP/SUB at 32 bits
            let a = fA, b = fB
            switch cc {
            case 2: return a < b
            case 3: return a >= b
            case 4: return a == b
            case 5: return a != b
            case 6: return a <= b
            case 7: return a > b
            case 12: return Int32(bitPattern: a) < Int32(bitPattern: b)
            case 13: return Int32(bitPattern: a) >= Int32(bitPattern: b)
            case 14: return Int32(bitPattern: a) <= Int32(bitPattern: b)
            case 15: return Int32(bitPattern: a) > Int32(bitPattern: b)
            default: break
            }
        }
        let v: Bool
        switch cc >> 1 {
        case 0: v = lazyOF != 0
        case 1: v = lazyCF != 0
        case 2: v = lazyZF != 0
        case 3: v = lazyCF != 0 || lazyZF != 0
        case 4: v = lazySF != 0
        case 5: v = lazyPF != 0
        case 6: v = lazySF != lazyOF
        default: v = lazyZF != 0 || lazySF != lazyOF
        }
        return v != (cc & 1 != 0)
    }

    /// The current carry flag as 0 or 1.
    @inline(__always) var carry: UInt32 { fOp == 0 ? flagBits & 1 : lazyCF }
}

extension UInt32 {
    /// Rotate left by `n` (0...31; 32 means 0).
    @inline(__always) func rotateLeft(_ n: UInt32) -> UInt32 {
        let k = n & 31
        return k == 0 ? self : (self << k) | (self >> (32 - k))
    }
}
