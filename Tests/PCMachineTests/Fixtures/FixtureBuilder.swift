// FixtureBuilder: builds test kernels — crafted ELF32 byte arrays in Swift, and real images with nasm/clang + ld.lld.
import Foundation
import XCTest

/// A minimal ELF32 i386 writer for tests: program headers, one section per segment,
/// .symtab/.strtab/.shstrtab. The output is a valid image the tests then corrupt.
struct ELFBuilder {
    struct Segment {
        var vaddr: UInt32
        var paddr: UInt32
        var data: [UInt8]
        var memsz: UInt32
        var flags: UInt32 = 5          // R + X
    }
    struct Sym {
        var name: String
        var value: UInt32
        var size: UInt32
        var info: UInt8                // (bind << 4) | type
        var shndx: UInt16              // section index; segment i is section i + 1
    }

    var entry: UInt32
    var segments: [Segment]
    var symbols: [Sym] = []
    var machine: UInt16 = 3

    /// Offsets of interest in the built file (for corruption tests).
    struct Layout { var phoff = 0; var segmentOffsets: [Int] = []; var shoff = 0; var symtabOffset = 0; var strtabOffset = 0 }

    /// Contract: returns the file bytes and where its parts are.
    func build() -> (bytes: [UInt8], layout: Layout) {
        var out = [UInt8](repeating: 0, count: 52)
        var layout = Layout()
        func align4() { while out.count % 4 != 0 { out.append(0) } }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) } }
        func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func put(_ off: Int, _ bytes: [UInt8]) { out.replaceSubrange(off..<off + bytes.count, with: bytes) }

        layout.phoff = out.count
        out += [UInt8](repeating: 0, count: 32 * segments.count)
        for s in segments {
            align4()
            layout.segmentOffsets.append(out.count)
            out += s.data
        }
        for (i, s) in segments.enumerated() {
            let o = layout.phoff + 32 * i
            put(o, le32(1) + le32(UInt32(layout.segmentOffsets[i])) + le32(s.vaddr) + le32(s.paddr)
                + le32(UInt32(s.data.count)) + le32(s.memsz) + le32(s.flags) + le32(0x1000))
        }
        // String tables.
        var strtab: [UInt8] = [0]
        var symNameOffsets: [UInt32] = []
        for s in symbols { symNameOffsets.append(UInt32(strtab.count)); strtab += Array(s.name.utf8) + [0] }
        var shstrtab: [UInt8] = [0]
        var secNames: [UInt32] = []
        let names = segments.indices.map { ".seg\($0)" } + [".symtab", ".strtab", ".shstrtab"]
        for n in names { secNames.append(UInt32(shstrtab.count)); shstrtab += Array(n.utf8) + [0] }
        align4()
        layout.symtabOffset = out.count
        out += [UInt8](repeating: 0, count: 16)   // null symbol
        for (i, s) in symbols.enumerated() {
            out += le32(symNameOffsets[i]) + le32(s.value) + le32(s.size) + [s.info, 0] + le16(s.shndx)
        }
        let symtabSize = out.count - layout.symtabOffset
        layout.strtabOffset = out.count
        out += strtab
        let shstrOffset = out.count
        out += shstrtab
        align4()
        layout.shoff = out.count
        let nsec = segments.count + 4
        let symtabIndex = segments.count + 1
        func shdr(_ name: UInt32, _ type: UInt32, _ flags: UInt32, _ addr: UInt32, _ off: Int, _ size: Int,
                  _ link: UInt32, _ entsize: UInt32) -> [UInt8] {
            le32(name) + le32(type) + le32(flags) + le32(addr) + le32(UInt32(off)) + le32(UInt32(size))
                + le32(link) + le32(0) + le32(4) + le32(entsize)
        }
        out += [UInt8](repeating: 0, count: 40)
        for (i, s) in segments.enumerated() {
            out += shdr(secNames[i], 1, 6, s.vaddr, layout.segmentOffsets[i], s.data.count, 0, 0)
        }
        out += shdr(secNames[segments.count], 2, 0, 0, layout.symtabOffset, symtabSize, UInt32(symtabIndex + 1), 16)
        out += shdr(secNames[segments.count + 1], 3, 0, 0, layout.strtabOffset, strtab.count, 0, 0)
        out += shdr(secNames[segments.count + 2], 3, 0, 0, shstrOffset, shstrtab.count, 0, 0)

        put(0, [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0])
        put(16, le16(2) + le16(machine) + le32(1) + le32(entry) + le32(UInt32(layout.phoff))
            + le32(UInt32(layout.shoff)) + le32(0) + le16(52) + le16(32) + le16(UInt16(segments.count))
            + le16(40) + le16(UInt16(nsec)) + le16(UInt16(nsec - 1)))
        return (out, layout)
    }
}

/// A multiboot header: magic, flags, checksum, then the a.out-kludge fields if given.
func multibootHeader(flags: UInt32, aout: [UInt32] = []) -> [UInt8] {
    let words = [0x1BAD_B002, flags, 0 &- (0x1BAD_B002 &+ flags)] + aout
    return words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> ($0 * 8)) } }
}

/// Little-endian 32-bit value at `o` of `b`.
func le32(_ b: [UInt8], _ o: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(b[o + $1]) << ($1 * 8) }
}

/// Real kernels built from the sources beside this file with nasm, clang and ld.lld.
enum RealFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// Find `tool` on PATH. Contract: nil when absent.
    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Run `argv`; contract: returns (status, stdout+stderr).
    @discardableResult
    static func run(_ argv: [String], in dir: URL) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        p.currentDirectoryURL = dir
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A fresh scratch directory. Contract: created, empty.
    static func scratch() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("swift86-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    /// Build probe.elf (nasm + ld.lld) into `dir`. Contract: throws XCTSkip when a tool is missing.
    static func probe(in dir: URL) throws -> URL {
        guard let nasm = which("nasm"), let lld = which("ld.lld") else {
            throw XCTSkip("nasm or ld.lld not on PATH: skipping the test that needs a real probe kernel")
        }
        let obj = dir.appendingPathComponent("probe.o"), elf = dir.appendingPathComponent("probe.elf")
        var (st, out) = try run([nasm, "-f", "elf32", directory.appendingPathComponent("probe.asm").path, "-o", obj.path], in: dir)
        guard st == 0 else { throw XCTSkip("nasm failed: \(out)") }
        (st, out) = try run([lld, "-m", "elf_i386", "-T", directory.appendingPathComponent("probe.ld").path,
                             "-o", elf.path, obj.path], in: dir)
        guard st == 0 else { throw XCTSkip("ld.lld failed: \(out)") }
        return elf
    }

    /// Build higherhalf.elf (clang + ld.lld) into `dir`. Contract: throws XCTSkip when a tool is missing.
    static func higherHalf(in dir: URL) throws -> URL {
        guard let clang = which("clang"), let lld = which("ld.lld") else {
            throw XCTSkip("clang or ld.lld not on PATH: skipping the test that needs a real C kernel")
        }
        let obj = dir.appendingPathComponent("hh.o"), elf = dir.appendingPathComponent("higherhalf.elf")
        var (st, out) = try run([clang, "-target", "i686-unknown-none-elf", "-ffreestanding", "-nostdlib", "-O1",
                                 "-x", "c", "-c", directory.appendingPathComponent("higherhalf.c.in").path,
                                 "-o", obj.path], in: dir)
        guard st == 0 else { throw XCTSkip("clang failed: \(out)") }
        (st, out) = try run([lld, "-m", "elf_i386", "-T", directory.appendingPathComponent("higherhalf.ld").path,
                             "-o", elf.path, obj.path], in: dir)
        guard st == 0 else { throw XCTSkip("ld.lld failed: \(out)") }
        return elf
    }

    /// Bytes of a file. Contract: throws on I/O error.
    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}
