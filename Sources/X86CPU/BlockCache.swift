// BlockCache: decoded basic blocks keyed by physical address, invalidated by writes to code pages.
import X86Decoder

/// Decoded basic blocks: straight-line runs of instructions within one 4 KiB page, ending
/// at a control transfer (or an instruction that changes how later ones decode or run).
///
/// Blocks are found through a direct-mapped table keyed by physical address, so one cached
/// copy serves every virtual alias. A per-page generation number makes invalidation O(1):
/// a write to a page holding decoded code bumps the page's generation and every block
/// decoded from it becomes stale. Pages holding code are marked so the TLB never gives
/// them a fast write tag; the first write takes the slow path, which invalidates.
final class BlockCache {
    struct Block {
        var phys: UInt32        // physical address of the first instruction
        var gen: UInt32         // generation of its page when decoded
        var first: Int32        // index of the first instruction in `insns`
        var count: UInt16       // instructions
        var code32: Bool        // decoded with CS.D = 1
    }

    static let tableSize = 1 << 16
    static let maxBlocks = 1 << 16
    static let maxInsns = 1 << 20
    static let maxBlockLength = 64

    let table: UnsafeMutablePointer<Int32>
    let blocks: UnsafeMutablePointer<Block>
    let insns: UnsafeMutablePointer<DecodedInstruction>
    var blockCount = 0
    var insnCount = 0
    let ramPages: Int
    let pageGen: UnsafeMutablePointer<UInt32>
    let codePage: UnsafeMutablePointer<UInt8>
    /// Statistics.
    var compiled: UInt64 = 0
    var invalidations: UInt64 = 0
    var flushes: UInt64 = 0

    init(ramPages: Int) {
        self.ramPages = ramPages
        table = .allocate(capacity: Self.tableSize); table.initialize(repeating: -1, count: Self.tableSize)
        blocks = .allocate(capacity: Self.maxBlocks)
        insns = .allocate(capacity: Self.maxInsns)
        pageGen = .allocate(capacity: max(ramPages, 1)); pageGen.initialize(repeating: 0, count: max(ramPages, 1))
        codePage = .allocate(capacity: max(ramPages, 1)); codePage.initialize(repeating: 0, count: max(ramPages, 1))
    }

    deinit {
        table.deallocate(); blocks.deallocate(); insns.deallocate(); pageGen.deallocate(); codePage.deallocate()
    }

    @inline(__always) static func slot(_ phys: UInt32) -> Int {
        Int((phys &* 0x9E37_79B1) >> 16)
    }

    /// True when physical page `page` holds decoded code.
    @inline(__always) func isCodePage(_ page: UInt32) -> Bool {
        Int(page) < ramPages && codePage[Int(page)] != 0
    }

    /// The valid block starting at `phys` decoded with `code32`, or nil.
    @inline(__always) func lookup(_ phys: UInt32, code32: Bool) -> UnsafeMutablePointer<Block>? {
        let b = table[Self.slot(phys)]
        if b < 0 { return nil }
        let blk = blocks + Int(b)
        if blk.pointee.phys == phys && blk.pointee.code32 == code32
            && blk.pointee.gen == pageGen[Int(phys >> 12)] { return blk }
        return nil
    }

    /// Invalidate every block decoded from physical page `page`.
    func invalidate(page: UInt32) {
        guard Int(page) < ramPages else { return }
        pageGen[Int(page)] &+= 1
        codePage[Int(page)] = 0
        invalidations &+= 1
    }

    /// Drop everything (the pools are full).
    func flush() {
        table.update(repeating: -1, count: Self.tableSize)
        blockCount = 0
        insnCount = 0
        flushes &+= 1
    }
}
