// selftest.swift: boot-time computations with known answers that exercise compiled Swift.

/// check(name, got, want) -> true if got == want; logs "name: got ok" or "... FAIL want".
@discardableResult
func check(_ name: StaticString, _ got: UInt64, _ want: UInt64) -> Bool {
    let line = printk(.info).s("  ").s(name).s(" = ").u(got)
    if got == want { line.s(" ok").end(); return true }
    line.s(" FAIL (want ").u(want).s(")").end()
    SelfTest.failures += 1
    return false
}

/// checkSigned(name, got, want): as check, for signed values.
func checkSigned(_ name: StaticString, _ got: Int64, _ want: Int64) {
    let line = printk(.info).s("  ").s(name).s(" = ").d(got)
    if got == want { line.s(" ok").end(); return }
    line.s(" FAIL (want ").d(want).s(")").end()
    SelfTest.failures += 1
}

/// SelfTest: the tally of failed checks.
struct SelfTest {
    static var failures = 0   // checks that did not match their known answer
}

/// sieve(limit) -> (count, sum, largest) of the primes below limit (Eratosthenes).
func sieve(_ limit: Int) -> (Int, UInt64, Int) {
    var composite = [Bool](repeating: false, count: limit)
    var count = 0
    var sum: UInt64 = 0
    var largest = 0
    var i = 2
    while i < limit {
        if !composite[i] {
            count += 1
            sum &+= UInt64(i)
            largest = i
            var j = i * i
            while j < limit { composite[j] = true; j += i }
        }
        i += 1
    }
    return (count, sum, largest)
}

/// Opaque64: keeps the optimizer from folding the 64-bit tests at compile time.
@inline(never) func opaque64(_ v: UInt64) -> UInt64 { v }

/// Particle: a heap object for the allocation test (refcounted through the Swift runtime).
final class Particle {
    let id: UInt32          // creation index
    var value: UInt32       // id * 2654435761 (Knuth's multiplicative hash)
    var next: Particle?     // intrusive singly linked list

    /// init(id): a particle with its hash value, not linked.
    init(id: UInt32) {
        self.id = id
        self.value = id &* 2654435761
        self.next = nil
    }
}

/// particles(n) -> (array checksum, list checksum) over n Particle instances, built both
/// as an Array and as a linked list; everything is freed before returning.
func particles(_ n: Int) -> (UInt32, UInt32) {
    var all: [Particle] = []
    var head: Particle? = nil
    for i in 0..<n {
        let p = Particle(id: UInt32(i))
        p.next = head
        head = p
        all.append(p)
    }
    var a: UInt32 = 0
    for p in all { a = (a &* 31) &+ (p.value ^ p.id) }
    var b: UInt32 = 0
    var cur = head
    while let p = cur { b = (b &* 31) &+ p.value; cur = p.next }
    // Unlink iteratively so releasing the list does not recurse n deep.
    while let p = head { head = p.next; p.next = nil }
    return (a, b)
}

/// fnv1a(bytes) -> the 32-bit FNV-1a hash of the bytes.
func fnv1a<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
    var h: UInt32 = 0x811C_9DC5
    for b in bytes { h = (h ^ UInt32(b)) &* 0x0100_0193 }
    return h
}

/// decimalString(v) -> v in signed decimal, as a String built with the kernel formatter.
func decimalString(_ v: Int64) -> String {
    var bytes: [UInt8] = []
    fmt_sdec(v, { bytes.append($0) })
    return String(decoding: bytes, as: UTF8.self)
}

/// hexString(v) -> "0x" and v in hex, as a String.
func hexString(_ v: UInt64) -> String {
    var bytes: [UInt8] = []
    fmt_hex(v, digits: 0, { bytes.append($0) })
    return String(decoding: bytes, as: UTF8.self)
}

/// lcgSort(n) -> (weighted checksum, min, max) of n LCG numbers after sorting, and
/// panics if the sort left them out of order.
func lcgSort(_ n: Int) -> (UInt32, UInt32, UInt32) {
    var x: UInt32 = 12345
    var v: [UInt32] = []
    v.reserveCapacity(n)
    for _ in 0..<n {
        x = x &* 1103515245 &+ 12345
        v.append(x >> 8)
    }
    v.sort()
    var sum: UInt32 = 0
    for i in 0..<n {
        if i > 0 && v[i - 1] > v[i] { panic("lcgSort: not sorted") }
        sum = sum &+ UInt32(i + 1) &* v[i]
    }
    return (sum, v[0], v[n - 1])
}

/// crc32(addr, len) -> the CRC-32 (IEEE, reflected) of len bytes at virtual addr.
func crc32(_ addr: UInt32, _ len: UInt32) -> UInt32 {
    var table = [UInt32](repeating: 0, count: 256)
    for i in 0..<256 {
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        table[i] = c
    }
    var crc: UInt32 = 0xFFFF_FFFF
    if len > 0 {
        let p = ptr(addr, UInt8.self)
        for i in 0..<Int(len) {
            crc = table[Int((crc ^ UInt32(p[i])) & 0xFF)] ^ (crc >> 8)
        }
    }
    return crc ^ 0xFFFF_FFFF
}

/// selftest_run() -> the number of failed checks after running every computation.
func selftest_run() -> Int {
    printk(.info).s("selftest:").end()

    let (count, sum, largest) = sieve(10000)
    check("primes below 10000", UInt64(count), 1229)
    check("sum of primes below 10000", sum, 5736396)
    check("largest prime below 10000", UInt64(largest), 9973)

    let a = opaque64(0xDEAD_BEEF_CAFE_BABE)
    check("0xdeadbeefcafebabe / 1000000007", a / opaque64(1_000_000_007), 16045690872)
    check("0xdeadbeefcafebabe % 1000000007", a % opaque64(1_000_000_007), 183261942)
    check("0xdeadbeefcafebabe / 0x100000001", a / opaque64(0x1_0000_0001), 3735928558)
    check("0xdeadbeefcafebabe % 0x100000001", a % opaque64(0x1_0000_0001), 3964730320)
    let n = Int64(bitPattern: opaque64(UInt64(bitPattern: -1234567890123456789)))
    let m = Int64(bitPattern: opaque64(987654321))
    checkSigned("-1234567890123456789 / 987654321", n / m, -1249999988)
    checkSigned("-1234567890123456789 % 987654321", n % m, -725308641)
    check("0xffffffff * 0xffffffff", opaque64(0xFFFF_FFFF) &* opaque64(0xFFFF_FFFF), 18446744065119617025)

    let live0 = RuntimeHeap.live
    let (pa, pl) = particles(1000)
    check("particle array checksum", UInt64(pa), 1377823680)
    check("particle list checksum", UInt64(pl), 2586621900)
    check("objects still live after release", UInt64(RuntimeHeap.live &- live0), 0)

    var s = "swift86:"
    s += " "
    s += decimalString(12345)
    s += " "
    s += decimalString(-42)
    s += " "
    s += hexString(42)
    s += " done"
    printk(.info).s("  string \"").str(s).s("\"").end()
    check("string utf8 count", UInt64(s.utf8.count), 28)
    check("string fnv1a", UInt64(fnv1a(s.utf8)), 0x4342_0A15)

    let (ssum, smin, smax) = lcgSort(2000)
    check("sorted lcg checksum", UInt64(ssum), 1677592752)
    check("sorted lcg min", UInt64(smin), 4940)
    check("sorted lcg max", UInt64(smax), 16772127)

    check("crc32(\"123456789\")", UInt64(crc32String("123456789")), 0xCBF4_3926)

    return SelfTest.failures
}

/// crc32String(text) -> crc32 of a static string's bytes.
func crc32String(_ text: StaticString) -> UInt32 {
    crc32(UInt32(UInt(bitPattern: text.utf8Start)), UInt32(text.utf8CodeUnitCount))
}
