// TLB: a direct-mapped translation cache whose entries hold host pointers and permission tags.

/// A direct-mapped TLB of `TLB.entries` entries indexed by linear page number.
///
/// Each entry has four tags — supervisor read, supervisor write, user read, user write —
/// holding the linear page base when that access is allowed without a page walk, or 1
/// (never page-aligned, so never equal) when not. A load hits with one compare:
/// `tagR[i] == linear & ~0xFFF`. The active pair `tagR`/`tagW` is switched by CPL.
/// Write tags are only set for pages whose dirty bit is already set and that hold no
/// cached decoded code, so the first write to a clean page or a code page takes the walk.
final class TLB {
    static let entries = 1024
    static let mask = UInt32(entries - 1)
    static let invalid: UInt32 = 1

    let tagRS: UnsafeMutablePointer<UInt32>
    let tagWS: UnsafeMutablePointer<UInt32>
    let tagRU: UnsafeMutablePointer<UInt32>
    let tagWU: UnsafeMutablePointer<UInt32>
    /// Active read and write tags (supervisor or user, by CPL).
    var tagR: UnsafeMutablePointer<UInt32>
    var tagW: UnsafeMutablePointer<UInt32>
    /// Host address of the page minus its linear base: host = addend &+ linear.
    let addend: UnsafeMutablePointer<UInt>
    /// Physical page base of the entry.
    let phys: UnsafeMutablePointer<UInt32>
    /// Page attributes for the debugger: the combined PDE/PTE bits (P, RW, US, A, D, PS, G).
    let attrs: UnsafeMutablePointer<UInt32>
    /// The linear page an entry maps (valid when any tag matches it).
    let linear: UnsafeMutablePointer<UInt32>

    /// Statistics: page walks (misses) and full flushes.
    var walks: UInt64 = 0
    var lookups: UInt64 = 0
    var flushes: UInt64 = 0

    init() {
        func alloc<T>(_ v: T) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: TLB.entries)
            p.initialize(repeating: v, count: TLB.entries)
            return p
        }
        tagRS = alloc(TLB.invalid); tagWS = alloc(TLB.invalid)
        tagRU = alloc(TLB.invalid); tagWU = alloc(TLB.invalid)
        addend = alloc(0); phys = alloc(0); attrs = alloc(0); linear = alloc(TLB.invalid)
        tagR = tagRS; tagW = tagWS
    }

    deinit {
        tagRS.deallocate(); tagWS.deallocate(); tagRU.deallocate(); tagWU.deallocate()
        addend.deallocate(); phys.deallocate(); attrs.deallocate(); linear.deallocate()
    }

    /// Switch the active tags to user (CPL 3) or supervisor (CPL 0–2) permissions.
    @inline(__always) func selectPrivilege(user: Bool) {
        tagR = user ? tagRU : tagRS
        tagW = user ? tagWU : tagWS
    }

    /// Invalidate entry `i`.
    @inline(__always) func clear(_ i: Int) {
        tagRS[i] = TLB.invalid; tagWS[i] = TLB.invalid; tagRU[i] = TLB.invalid; tagWU[i] = TLB.invalid
        linear[i] = TLB.invalid
    }

    /// Invalidate every entry, or every non-global entry when `keepGlobal`.
    func flushAll(keepGlobal: Bool) {
        flushes &+= 1
        for i in 0..<TLB.entries where !(keepGlobal && attrs[i] & 0x100 != 0) { clear(i) }
    }

    /// Invalidate the entry for linear address `lin` (INVLPG), global or not.
    func flushPage(_ lin: UInt32) {
        let i = Int((lin >> 12) & TLB.mask)
        if linear[i] == lin & ~0xFFF { clear(i) }
    }

    /// Remove write permission from every entry that maps physical page `page` (it now holds code).
    func revokeWrites(physPage page: UInt32) {
        for i in 0..<TLB.entries where phys[i] == page && linear[i] != TLB.invalid {
            tagWS[i] = TLB.invalid; tagWU[i] = TLB.invalid
        }
    }

    /// The valid entries, for the debugger's `tlb` command.
    func validEntries() -> [(linear: UInt32, phys: UInt32, attrs: UInt32, sr: Bool, sw: Bool, ur: Bool, uw: Bool)] {
        var out: [(linear: UInt32, phys: UInt32, attrs: UInt32, sr: Bool, sw: Bool, ur: Bool, uw: Bool)] = []
        for i in 0..<TLB.entries where linear[i] != TLB.invalid {
            let l = linear[i]
            out.append((l, phys[i], attrs[i], tagRS[i] == l, tagWS[i] == l, tagRU[i] == l, tagWU[i] == l))
        }
        return out.sorted { $0.linear < $1.linear }
    }
}
