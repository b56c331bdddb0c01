// ELFImageTests: ELF32 parsing of crafted and real images, symbol lookup, and every malformed-input error.
import XCTest
@testable import PCMachine

final class ELFImageTests: XCTestCase {
    /// A two-segment image with a function, an object and an assembler label.
    func sample() -> ELFBuilder {
        ELFBuilder(entry: 0x100010, segments: [
            .init(vaddr: 0x100000, paddr: 0x100000, data: multibootHeader(flags: 3) + [UInt8](repeating: 0x90, count: 52), memsz: 64),
            .init(vaddr: 0x101000, paddr: 0x101000, data: [1, 2, 3, 4], memsz: 0x100, flags: 6),
        ], symbols: [
            .init(name: "_start", value: 0x100010, size: 0x20, info: 0x12, shndx: 1),
            .init(name: "loop", value: 0x100030, size: 0, info: 0x00, shndx: 1),
            .init(name: "counter", value: 0x101000, size: 4, info: 0x11, shndx: 2),
            .init(name: "_start", value: 0x100000, size: 4, info: 0x02, shndx: 1),    // a local twin
            .init(name: "undef", value: 0, size: 0, info: 0x10, shndx: 0),
            .init(name: "CONST", value: 0x1234, size: 0, info: 0x10, shndx: 0xFFF1),
        ])
    }

    func parse(_ b: [UInt8], _ name: String = "kernel.elf") throws -> ELFImage {
        try ELFImage(bytes: b, fileName: name)
    }

    /// Assert that parsing throws exactly `message`.
    func assertError(_ b: [UInt8], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try ELFImage(bytes: b, fileName: "kernel.elf")
            XCTFail("parsed, expected: \(message)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, message, file: file, line: line)
        }
    }

    func testParsesCraftedImage() throws {
        let (b, _) = sample().build()
        let e = try parse(b)
        XCTAssertEqual(e.entry, 0x100010)
        XCTAssertEqual(e.type, 2)
        XCTAssertEqual(e.loadSegments.count, 2)
        XCTAssertEqual(e.loadSegments[1].paddr, 0x101000)
        XCTAssertEqual(e.loadSegments[1].filesz, 4)
        XCTAssertEqual(e.loadSegments[1].memsz, 0x100)
        XCTAssertTrue(e.loadSegments[0].isExecutable)
        XCTAssertFalse(e.loadSegments[1].isExecutable)
        XCTAssertEqual(e.sections.map(\.name), ["", ".seg0", ".seg1", ".symtab", ".strtab", ".shstrtab"])
        XCTAssertEqual(e.symbols.count, 7)
        XCTAssertEqual(e.symbol(named: "_start")?.value, 0x100010, "the global definition wins")
        XCTAssertEqual(e.symbol(named: "counter")?.type, .object)
        XCTAssertNil(e.symbol(named: "undef"))
        XCTAssertNil(e.symbol(named: "nothing"))
    }

    func testSymbolizeFindsContainingSymbol() throws {
        let e = try parse(sample().build().bytes)
        XCTAssertEqual(e.describe(0x100010), "_start")
        XCTAssertEqual(e.describe(0x10001c), "_start+0xc")
        XCTAssertEqual(e.describe(0x100034), "loop+0x4", "a label covers up to the end of its section")
        XCTAssertNil(e.describe(0x100040), "past the end of .seg0")
        XCTAssertEqual(e.describe(0x101003), "counter+0x3")
        XCTAssertNil(e.describe(0x101004), "past the end of a sized symbol")
        XCTAssertNil(e.describe(0x1000))
        XCTAssertEqual(e.describe(0x100002), "_start+0x2", "the local _start at 0x100000 of size 4")
        XCTAssertNil(e.describe(0x1234), "absolute symbols are not addresses")
        XCTAssertEqual(e.symbolize(0x100011)?.offset, 1)
    }

    func testParsesRealNasmImage() throws {
        let dir = try RealFixtures.scratch()
        let e = try parse(try RealFixtures.bytes(try RealFixtures.probe(in: dir)), "probe.elf")
        let start = try XCTUnwrap(e.symbol(named: "_start"))
        XCTAssertEqual(e.entry, start.value)
        XCTAssertEqual(e.entry, 0x100010)
        XCTAssertEqual(e.loadSegments.first?.paddr, 0x100000)
        XCTAssertEqual(e.loadSegments.first?.flags, 5)
        XCTAssertEqual(e.describe(e.entry + 3), "_start+0x3")
        XCTAssertNotNil(e.symbol(named: "hex32"))
        XCTAssertNotNil(e.sections.first { $0.name == ".bss" && $0.type == 8 })
    }

    func testParsesRealClangImage() throws {
        let dir = try RealFixtures.scratch()
        let e = try parse(try RealFixtures.bytes(try RealFixtures.higherHalf(in: dir)), "higherhalf.elf")
        let add = try XCTUnwrap(e.symbol(named: "add"))
        XCTAssertEqual(add.type, .function)
        XCTAssertGreaterThan(add.size, 0)
        XCTAssertEqual(e.describe(add.value + 2), "add+0x2")
        XCTAssertEqual(e.symbol(named: "counter")?.size, 4)
        XCTAssertEqual(e.symbol(named: "scratch")?.size, 8192)
        XCTAssertEqual(e.describe(e.symbol(named: "scratch")!.value + 100), "scratch+0x64")
        XCTAssertEqual(e.entry, e.symbol(named: "_start")?.value)
        XCTAssertEqual(e.loadSegments.first?.vaddr, 0xC010_0000)
        XCTAssertEqual(e.loadSegments.first?.paddr, 0x0010_0000)
    }

    // MARK: errors

    func testNotELF() {
        assertError([], "kernel.elf: not an ELF file")
        assertError([0x7F, 0x45, 0x4C], "kernel.elf: not an ELF file")
        assertError(Array("#!/bin/sh\n".utf8), "kernel.elf: not an ELF file")
    }

    func testTruncatedHeader() {
        let b = sample().build().bytes
        assertError(Array(b[0..<10]), "kernel.elf: truncated ELF header (10 bytes)")
        assertError(Array(b[0..<40]), "kernel.elf: truncated ELF header (40 bytes, need 52)")
    }

    func testWrongClassAndMachine() {
        var b = sample().build().bytes
        b[4] = 2; b[18] = 62
        assertError(b, "kernel.elf: not a 32-bit x86 ELF (class 2, machine 62)")
        var arm = sample()
        arm.machine = 40
        assertError(arm.build().bytes, "kernel.elf: not a 32-bit x86 ELF (class 1, machine 40)")
        var be = sample().build().bytes
        be[5] = 2
        assertError(be, "kernel.elf: not a little-endian ELF (data encoding 2)")
    }

    func testProgramHeaderErrors() {
        let (b, l) = sample().build()
        assertError(Array(b[0..<60]), "kernel.elf: program header table (2 entries at offset 0x34) extends past end of file")
        var past = b
        past.replaceSubrange(l.phoff + 32 + 4..<l.phoff + 32 + 8, with: [0xF0, 0xFF, 0xFF, 0xFF])  // p_offset
        assertError(past, "kernel.elf: program header 1 extends past end of file")
        var huge = b
        huge.replaceSubrange(l.phoff + 16..<l.phoff + 20, with: [0xFF, 0xFF, 0xFF, 0xFF])        // p_filesz
        assertError(huge, "kernel.elf: program header 0 extends past end of file")
        var fileBig = b
        fileBig.replaceSubrange(l.phoff + 32 + 20..<l.phoff + 32 + 24, with: [2, 0, 0, 0])          // p_memsz < filesz
        assertError(fileBig, "kernel.elf: program header 1: file size 0x4 exceeds memory size 0x2")
        var wrap = b
        wrap.replaceSubrange(l.phoff + 32 + 12..<l.phoff + 32 + 16, with: [0x01, 0xFF, 0xFF, 0xFF]) // p_paddr
        assertError(wrap, "kernel.elf: program header 1: segment at 0xffffff01 of 0x100 bytes wraps past 4 GiB")
        var small = b
        small[42] = 16
        assertError(small, "kernel.elf: program header size 16 is smaller than 32")
    }

    func testSectionAndSymbolErrors() {
        let (b, l) = sample().build()
        assertError(Array(b[0..<(l.shoff + 50)]),
                    "kernel.elf: section header table (6 entries at offset \(hex(l.shoff))) extends past end of file")
        var secPast = b
        secPast.replaceSubrange(l.shoff + 40 * 3 + 20..<l.shoff + 40 * 3 + 24, with: [0, 0, 1, 0])  // .symtab size
        assertError(secPast, "kernel.elf: section 3 extends past end of file")
        var badShstr = b
        badShstr[50] = 9
        assertError(badShstr, "kernel.elf: section name table index 9 is not a string table")
        var badLink = b
        badLink[l.shoff + 40 * 3 + 24] = 1                                                        // .symtab link → .seg0
        assertError(badLink, "kernel.elf: symbol table links to section 1, which is not a string table")
        var badName = b
        badName.replaceSubrange(l.symtabOffset + 16..<l.symtabOffset + 20, with: [0, 1, 0, 0])
        assertError(badName, "kernel.elf: symbol 1 name (offset 0x100) lies past its string table")
        var unterminated = b
        let strtabSize = Int(le32(b, l.shoff + 40 * 4 + 20))
        unterminated[l.strtabOffset + strtabSize - 1] = 0x41
        assertError(unterminated, "kernel.elf: symbol 6 name (offset 0x22) is not NUL-terminated")
        var entsize = b
        entsize[l.shoff + 40 * 3 + 36] = 8
        assertError(entsize, "kernel.elf: symbol table entry size 8 is smaller than 16")
    }

    /// Every prefix and thousands of random corruptions parse or throw; none traps.
    func testMalformedInputsNeverTrap() {
        let (b, _) = sample().build()
        for n in 0..<b.count { _ = try? parse(Array(b[0..<n])) }
        var rng = SplitMix(seed: 0x5EED)
        for _ in 0..<5000 {
            var m = b
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(m.count))
                m[i] = rng.next() % 3 == 0 ? 0xFF : UInt8(truncatingIfNeeded: rng.next())
            }
            if let e = try? parse(m) {
                _ = e.describe(UInt32(truncatingIfNeeded: rng.next()))
            }
        }
    }
}

/// A small deterministic PRNG for the corruption test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
