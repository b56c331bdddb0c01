// PhysicalMemory: guest RAM as one reserved-but-uncommitted block of host memory.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Guest physical RAM: `size` bytes starting at physical address 0, reserved with
/// `mmap(MAP_NORESERVE)` so that a 3.5 GiB guest costs only the pages it touches.
///
/// Physical addresses at or above `size` are unbacked: the CPU reads them as 0xFF
/// and ignores writes (see `CPU`), as a PC does for addresses no device decodes.
public final class PhysicalMemory {
    /// Host address of guest physical address 0.
    public let base: UnsafeMutablePointer<UInt8>
    /// RAM size in bytes (a multiple of 4096, at most 4 GiB - 4 KiB... up to 0xFFFF_F000).
    public let size: UInt64

    /// The largest RAM swift86 accepts: the 32-bit physical address space minus the
    /// top 256 MiB kept unbacked (where a PC has its BIOS ROM and APICs).
    public static let maximumSize: UInt64 = 0xF000_0000

    public enum Error: Swift.Error, CustomStringConvertible {
        case badSize(UInt64)
        case mmapFailed(Int32)
        public var description: String {
            switch self {
            case .badSize(let s): return "RAM size \(s) bytes is not between 1 MiB and 3840 MiB"
            case .mmapFailed(let e): return "cannot reserve guest RAM: \(String(cString: strerror(e)))"
            }
        }
    }

    /// Reserve `size` bytes (rounded up to 4 KiB) of zeroed guest RAM.
    public init(size requested: UInt64) throws(Error) {
        let size = (requested &+ 0xFFF) & ~0xFFF
        guard size >= 1 << 20, size <= PhysicalMemory.maximumSize else { throw .badSize(requested) }
        let p = mmap(nil, Int(size), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let p, p != MAP_FAILED else { throw .mmapFailed(errno) }
        self.base = p.assumingMemoryBound(to: UInt8.self)
        self.size = size
    }

    deinit { munmap(base, Int(size)) }

    /// True when the `count` bytes at `addr` are all backed by RAM.
    @inline(__always)
    public func contains(_ addr: UInt32, count: Int = 1) -> Bool {
        UInt64(addr) &+ UInt64(count) <= size
    }

    /// Copy host bytes into RAM (loader use; the range must be backed).
    public func write(_ bytes: UnsafeRawBufferPointer, at addr: UInt32) {
        precondition(contains(addr, count: bytes.count), "PhysicalMemory.write: outside RAM")
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        (base + Int(addr)).update(from: src.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    /// Copy an array of bytes into RAM (loader use; the range must be backed).
    public func write(_ bytes: [UInt8], at addr: UInt32) {
        bytes.withUnsafeBytes { write($0, at: addr) }
    }

    /// Zero `count` bytes at `addr` (the range must be backed).
    public func zero(at addr: UInt32, count: Int) {
        precondition(contains(addr, count: count), "PhysicalMemory.zero: outside RAM")
        (base + Int(addr)).update(repeating: 0, count: count)
    }

    /// Read bytes; unbacked bytes read as 0xFF.
    public func read(at addr: UInt32, count: Int) -> [UInt8] {
        (0..<count).map { i in
            let a = UInt64(addr) &+ UInt64(i)
            return a < size ? base[Int(a)] : 0xFF
        }
    }

    @inline(__always) public func load32(_ addr: UInt32) -> UInt32 {
        contains(addr, count: 4) ? UnsafeRawPointer(base + Int(addr)).loadUnaligned(as: UInt32.self) : 0xFFFF_FFFF
    }
    @inline(__always) public func store32(_ addr: UInt32, _ v: UInt32) {
        if contains(addr, count: 4) { UnsafeMutableRawPointer(base + Int(addr)).storeBytes(of: v, as: UInt32.self) }
    }
    @inline(__always) public func load16(_ addr: UInt32) -> UInt16 {
        contains(addr, count: 2) ? UnsafeRawPointer(base + Int(addr)).loadUnaligned(as: UInt16.self) : 0xFFFF
    }
    @inline(__always) public func store16(_ addr: UInt32, _ v: UInt16) {
        if contains(addr, count: 2) { UnsafeMutableRawPointer(base + Int(addr)).storeBytes(of: v, as: UInt16.self) }
    }
    @inline(__always) public func load8(_ addr: UInt32) -> UInt8 {
        contains(addr) ? base[Int(addr)] : 0xFF
    }
    @inline(__always) public func store8(_ addr: UInt32, _ v: UInt8) {
        if contains(addr) { base[Int(addr)] = v }
    }
}

/// The contents of guest RAM as a list of pages (pages never touched are left out: they
/// read as zero).
public struct MemoryImage: Sendable {
    var pages: [UInt32] = []
    var data: [UInt8] = []
    /// Bytes held.
    public var byteCount: Int { data.count }
}

extension PhysicalMemory {
    /// Copy every page the host has made resident (mincore), i.e. every page the guest or
    /// the loader ever touched; the rest of RAM is still zero.
    public func saveImage() -> MemoryImage {
        let pages = Int(size >> 12)
        var vec = [UInt8](repeating: 0, count: pages)
        var image = MemoryImage()
        if mincore(UnsafeMutableRawPointer(base), Int(size), &vec) != 0 {
            vec = [UInt8](repeating: 1, count: pages)      // cannot tell: copy everything
        }
        for p in 0..<pages where vec[p] & 1 != 0 {
            image.pages.append(UInt32(p))
            image.data.append(contentsOf: UnsafeBufferPointer(start: base + (p << 12), count: 4096))
        }
        return image
    }

    /// Make RAM equal to `image`: drop every page (back to zero) and copy the saved ones.
    /// The caller must also drop caches of RAM (the CPU's `restoreState` does).
    public func restoreImage(_ image: MemoryImage) {
        madvise(UnsafeMutableRawPointer(base), Int(size), MADV_DONTNEED)
        image.data.withUnsafeBufferPointer { src in
            for (k, p) in image.pages.enumerated() where UInt64(p) << 12 < size {
                (base + (Int(p) << 12)).update(from: src.baseAddress! + k * 4096, count: 4096)
            }
        }
    }
}
