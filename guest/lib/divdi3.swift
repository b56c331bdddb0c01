// divdi3.swift: the 64-bit arithmetic helpers i386 code generation calls (libgcc names).

// No 64-bit `/`, `%` or variable 64-bit shift of the Swift integer types may appear in
// this file: those operators compile to calls of the functions defined here.

@_extern(c, "x86_divl") func x86_divl(_ hi: UInt32, _ lo: UInt32, _ d: UInt32, _ rem: UnsafeMutablePointer<UInt32>) -> UInt32

/// udivmod64(n, d) -> (quotient, remainder) of n / d, by shift-and-subtract on 32-bit
/// halves. Panics on d == 0 (the hardware would raise #DE).
func udivmod64(_ n: UInt64, _ d: UInt64) -> (UInt64, UInt64) {
    if d == 0 { panic("udivmod64: division by zero") }
    let nhi = UInt32(truncatingIfNeeded: n >> 32)
    let nlo = UInt32(truncatingIfNeeded: n)
    let dhi = UInt32(truncatingIfNeeded: d >> 32)
    let dlo = UInt32(truncatingIfNeeded: d)
    if nhi == 0 && dhi == 0 {                      // 32 by 32: one hardware divide
        return (UInt64(nlo / dlo), UInt64(nlo % dlo))
    }
    if dhi == 0 {                                  // 64 by 32: two hardware divides
        let qhi = nhi / dlo
        var r: UInt32 = 0
        let qlo = x86_divl(nhi % dlo, nlo, dlo, &r)
        return ((UInt64(qhi) &<< 32) | UInt64(qlo), UInt64(r))
    }
    // Divisor above 32 bits: restoring division, one quotient bit per step.
    var q: UInt64 = 0
    var r: UInt64 = 0
    var i = 63
    while i >= 0 {
        r = (r &<< 1) | ((n &>> UInt64(i)) & 1)
        if r >= d {
            r &-= d
            q |= 1 &<< UInt64(i)
        }
        i -= 1
    }
    return (q, r)
}

/// __udivdi3(n, d) -> n / d, unsigned 64-bit.
@_cdecl("__udivdi3")
func __udivdi3(_ n: UInt64, _ d: UInt64) -> UInt64 { udivmod64(n, d).0 }

/// __umoddi3(n, d) -> n % d, unsigned 64-bit.
@_cdecl("__umoddi3")
func __umoddi3(_ n: UInt64, _ d: UInt64) -> UInt64 { udivmod64(n, d).1 }

/// __udivmoddi4(n, d, rem) -> n / d, and *rem = n % d when rem is not null.
@_cdecl("__udivmoddi4")
func __udivmoddi4(_ n: UInt64, _ d: UInt64, _ rem: UnsafeMutablePointer<UInt64>?) -> UInt64 {
    let (q, r) = udivmod64(n, d)
    rem?.pointee = r
    return q
}

/// magnitude64(v) -> |v| as unsigned (right for Int64.min too).
@inline(__always) func magnitude64(_ v: Int64) -> UInt64 {
    v < 0 ? 0 &- UInt64(bitPattern: v) : UInt64(bitPattern: v)
}

/// __divdi3(n, d) -> n / d, signed 64-bit, truncating toward zero.
@_cdecl("__divdi3")
func __divdi3(_ n: Int64, _ d: Int64) -> Int64 {
    let q = udivmod64(magnitude64(n), magnitude64(d)).0
    return (n < 0) != (d < 0) ? Int64(bitPattern: 0 &- q) : Int64(bitPattern: q)
}

/// __moddi3(n, d) -> n % d, signed 64-bit; the result has the sign of n.
@_cdecl("__moddi3")
func __moddi3(_ n: Int64, _ d: Int64) -> Int64 {
    let r = udivmod64(magnitude64(n), magnitude64(d)).1
    return n < 0 ? Int64(bitPattern: 0 &- r) : Int64(bitPattern: r)
}
