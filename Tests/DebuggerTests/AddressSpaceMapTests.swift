// AddressSpaceMapTests: `map` on hand-built page tables (classification, layout, summary, SVG).
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Debugger
import PCMachine
import X86CPU

final class AddressSpaceMapTests: XCTestCase {
    /// 16 MiB of RAM with a Linux-like address space:
    /// user text at 0x08048000 (RO) and data at 0x08049000 (RW), a stack page below 0xC0000000,
    /// a direct map of all 16 MiB with four global 4 MiB pages, two vmalloc areas (3 and 2
    /// pages, each followed by a guard page), one pkmap slot and one fixmap slot.
    func makeMemory() throws -> PhysicalMemory {
        let m = try PhysicalMemory(size: 16 << 20)
        let pd: UInt32 = 0x1000
        func pde(_ va: UInt32, _ v: UInt32) { m.store32(pd + (va >> 22) * 4, v) }
        func pte(_ table: UInt32, _ va: UInt32, _ v: UInt32) { m.store32(table + ((va >> 12) & 0x3FF) * 4, v) }
        // user
        pde(0x0804_8000, 0x2000 | 0x7)
        pte(0x2000, 0x0804_8000, 0x0010_0000 | 0x5)        // user RO
        pte(0x2000, 0x0804_9000, 0x0010_1000 | 0x7)        // user RW
        pde(0xBFFF_F000, 0x3000 | 0x7)
        pte(0x3000, 0xBFFF_F000, 0x0010_2000 | 0x7)        // stack
        // direct map: 4 x 4 MiB PSE, global, RW
        for i: UInt32 in 0..<4 { pde(0xC000_0000 + i << 22, (i << 22) | 0x183) }
        // vmalloc at 0xC1800000: pages 0-2, guard, pages 4-5, guard
        pde(0xC180_0000, 0x4000 | 0x3)
        for p: UInt32 in [0, 1, 2, 4, 5] { pte(0x4000, 0xC180_0000 + p << 12, (0x0020_0000 + p << 12) | 0x3) }
        // pkmap slot 5 (global), fixmap slot 2
        pde(0xFF80_0000, 0x5000 | 0x3)
        pte(0x5000, 0xFF80_5000, 0x0030_0000 | 0x103)
        pde(0xFFC0_0000, 0x6000 | 0x3)
        pte(0x6000, 0xFFFF_D000, 0x0030_1000 | 0x103)
        return m
    }

    func makeMap(_ m: PhysicalMemory, cr4: UInt32 = 0x10, hints: LinuxLayout.Hints = .init()) throws -> AddressSpaceMap {
        try XCTUnwrap(AddressSpaceMap(cr3: 0x1000, cr4: cr4, physicalSize: m.size, read32: { m.load32($0) }, hints: hints))
    }

    func testClassificationOfPages() throws {
        let map = try makeMap(try makeMemory())
        let s = map.snapshot
        XCTAssertEqual(PageClass(s.page(0x0804_8000)), .userRO)
        XCTAssertEqual(PageClass(s.page(0x0804_9000)), .userRW)
        XCTAssertEqual(PageClass(s.page(0x0804_A000)), .absent)
        XCTAssertEqual(PageClass(s.page(0xC000_0000)), .globalRW)
        XCTAssertEqual(s.page(0xC012_3000) & PageTableSnapshot.large, PageTableSnapshot.large)
        XCTAssertEqual(s.translate(0xC012_3456), 0x0012_3456)
        XCTAssertEqual(PageClass(s.page(0xC180_0000)), .kernelRW)
        XCTAssertEqual(PageClass(s.page(0xC180_3000)), .absent, "guard page")
        XCTAssertEqual(PageClass(s.page(0xFF80_5000)), .globalRW)
        XCTAssertEqual(s.translate(0xFFFF_D010), 0x0030_1010)
        XCTAssertEqual(map.overviewCell(768), "#")
        XCTAssertEqual(map.overviewCell(32), "r", "ties go to the earlier letter")
        XCTAssertEqual(map.overviewCell(0), ".")
        XCTAssertEqual(map.overviewCell(Int(0xC180_0000 as UInt32) >> 22), "K")
    }

    func testEffectiveFlagsAreTheAndOfBothLevels() throws {
        let m = try makeMemory()
        m.store32(0x1000 + (0x0804_8000 >> 22) * 4, 0x2000 | 0x5)     // PDE read-only
        let s = try makeMap(m).snapshot
        XCTAssertEqual(PageClass(s.page(0x0804_9000)), .userRO)
    }

    func testWithoutPSEAPSBitIsAPageTablePointer() throws {
        let s = try makeMap(try makeMemory(), cr4: 0).snapshot
        XCTAssertEqual(s.page(0xC000_0000) & PageTableSnapshot.large, 0)
    }

    func testTablesOutsideRAMAreAbsentNotGarbage() throws {
        let m = try makeMemory()
        m.store32(0x1000 + 5 * 4, 0xF000_0000 | 0x7)
        let map = try makeMap(m)
        XCTAssertEqual(map.snapshot.tablesOutsideRAM, [5])
        XCTAssertEqual(map.snapshot.page(5 << 22), 0)
        XCTAssertTrue(map.text().contains("outside RAM"))
        XCTAssertNil(AddressSpaceMap(cr3: 0x0200_0000, cr4: 0x10, physicalSize: m.size, read32: { m.load32($0) }))
    }

    func testLayoutDerivedFromTheMappings() throws {
        let l = try makeMap(try makeMemory()).layout
        XCTAssertEqual(l.highMemory, 0xC100_0000)
        XCTAssertEqual(l.vmallocStart, 0xC180_0000)
        XCTAssertEqual(l.fixaddrStart, 0xFFFE_E000)
        XCTAssertEqual(l.pkmapBase, 0xFF80_0000)
        XCTAssertEqual(l.vmallocEnd, 0xFF7F_E000)
        XCTAssertEqual(l.regions.map(\.name), ["user", "direct map", "vmalloc hole", "vmalloc", "pkmap gap", "pkmap", "unused", "fixmap", "top hole"])
        XCTAssertEqual(l.regions.first?.start, 0)
        XCTAssertEqual(l.regions.last?.end, 0x1_0000_0000)
        for (a, b) in zip(l.regions, l.regions.dropFirst()) { XCTAssertEqual(a.end, b.start) }
        XCTAssertTrue(l.notes.contains { $0.contains("end of the direct map") })
    }

    func testLayoutHintsWinAndSayWhereTheyCameFrom() throws {
        let hints = LinuxLayout.Hints(highMemory: (0xC080_0000, "given with --high-memory"))
        let l = try makeMap(try makeMemory(), hints: hints).layout
        XCTAssertEqual(l.highMemory, 0xC080_0000)
        XCTAssertEqual(l.vmallocStart, 0xC100_0000)
        XCTAssertTrue(l.notes[0].contains("--high-memory") && l.notes[0].contains("the mappings say 0xc1000000"))
        // out-of-order hints never produce overlapping regions
        let bad = try makeMap(try makeMemory(), hints: .init(vmallocStart: (0xB000_0000, "test"))).layout
        for (a, b) in zip(bad.regions, bad.regions.dropFirst()) { XCTAssertLessThanOrEqual(a.end, b.start) }
    }

    func testRegionSummaries() throws {
        let map = try makeMap(try makeMemory())
        let byName = Dictionary(uniqueKeysWithValues: map.layout.regions.map { ($0.name, RegionSummary(map.snapshot, from: $0.start, to: $0.end)) })
        let user = try XCTUnwrap(byName["user"])
        XCTAssertEqual([user.mapped, user.writable, user.user, user.global, user.runs], [3, 2, 3, 0, 2])
        let direct = try XCTUnwrap(byName["direct map"])
        XCTAssertEqual([direct.mapped, direct.global, direct.large, direct.runs], [4096, 4096, 4096, 1])
        let vmalloc = try XCTUnwrap(byName["vmalloc"])
        XCTAssertEqual([vmalloc.mapped, vmalloc.runs, vmalloc.global], [5, 2, 0], "two areas separated by guard pages")
        XCTAssertEqual(byName["pkmap"]?.mapped, 1)
        XCTAssertEqual(byName["fixmap"]?.mapped, 1)
        XCTAssertEqual(byName["vmalloc hole"]?.mapped, 0)
    }

    func testTerminalText() throws {
        let t = try makeMap(try makeMemory()).text()
        let lines = t.split(separator: "\n").map(String.init)
        let c0 = try XCTUnwrap(lines.first { $0.hasPrefix("0xc0000000  ") })
        XCTAssertTrue(c0.hasPrefix("0xc0000000  ####..K...."), c0)
        XCTAssertTrue(c0.contains("direct map@c0000000") && c0.contains("vmalloc@c1800000"), c0)
        let f = try XCTUnwrap(lines.first { $0.hasPrefix("0xf0000000  ") })
        XCTAssertTrue(f.contains("pkmap@ff800000") && f.contains("fixmap@fffee000"), f)
        // the zoom of vmalloc shows the guard pages as dots
        XCTAssertTrue(lines.contains { $0.hasPrefix("0xc1800000  KKK.KK....") }, t)
        XCTAssertTrue(lines.contains { $0.hasPrefix("0x08040000  ........rw") }, t)
        XCTAssertTrue(t.contains("nothing mapped"))
        XCTAssertTrue(t.contains("VMALLOC_START 0xc1800000"))
        let vm = try XCTUnwrap(lines.first { $0.hasPrefix("vmalloc   ") })
        XCTAssertTrue(vm.hasSuffix(" 2"), vm)
    }

    func testSVGIsWellFormedWithTooltips() throws {
        let svg = try makeMap(try makeMemory()).svg()
        final class Collector: NSObject, XMLParserDelegate {
            var elements: [String: Int] = [:]
            var titles: [String] = []
            var inTitle = false, text = ""
            func parser(_ p: XMLParser, didStartElement e: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                elements[e, default: 0] += 1
                if e == "title" { inTitle = true; text = "" }
            }
            func parser(_ p: XMLParser, foundCharacters s: String) { if inTitle { text += s } }
            func parser(_ p: XMLParser, didEndElement e: String, namespaceURI: String?, qualifiedName: String?) {
                if e == "title" { titles.append(text); inTitle = false }
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let c = Collector()
        parser.delegate = c
        XCTAssertTrue(parser.parse(), "SVG does not parse: \(parser.parserError.map { "\($0)" } ?? "?") line \(parser.lineNumber)")
        XCTAssertEqual(c.elements["svg"], 1)
        XCTAssertGreaterThan(c.elements["rect"] ?? 0, 10)
        XCTAssertTrue(c.titles.contains { $0.hasPrefix("0xc1800000-0xc1802fff (3 pages) -> phys 0x00200000-0x00202fff: writable, supervisor") }, "\(c.titles)")
        XCTAssertTrue(c.titles.contains { $0.hasPrefix("0xc1804000-0xc1805fff (2 pages)") })
        XCTAssertTrue(c.titles.contains { $0.hasPrefix("vmalloc 0xc1800000-0xff7fdfff") })
        XCTAssertTrue(c.titles.contains { $0.contains("user") && $0.hasPrefix("0x08049000") })
    }

    func testWriteTextFile() throws {
        let path = NSTemporaryDirectory() + "swift86-map-\(getpid()).svg"
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertNil(writeTextFile(path, "<svg/>"))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "<svg/>")
        XCTAssertNotNil(writeTextFile("/nonexistent-dir/x.svg", "x"))
    }
}

extension AddressSpaceMapTests {
    /// Writes the hand-built map to $SWIFT86_MAP_DEMO (text and .svg) for a look by eye.
    func testDemoOutputWhenAsked() throws {
        guard let out = ProcessInfo.processInfo.environment["SWIFT86_MAP_DEMO"] else { throw XCTSkip("set SWIFT86_MAP_DEMO=PATH to write the demo") }
        let map = try makeMap(try makeMemory())
        XCTAssertNil(writeTextFile(out + ".txt", map.text()))
        XCTAssertNil(writeTextFile(out + ".svg", map.svg()))
    }
}

extension AddressSpaceMapTests {
    func testZoomFoldsIdenticalRows() throws {
        let m = try makeMemory()
        for p: UInt32 in 0..<200 { m.store32(0x4000 + p * 4, (0x0020_0000 + p << 12) | 0x3) }
        let lines = try makeMap(m).text().split(separator: "\n").map(String.init)
        let i = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("0xc1800000  ") })
        XCTAssertEqual(lines[i], "0xc1800000  " + String(repeating: "K", count: 64))
        XCTAssertEqual(lines[i + 1], "            ... 2 more rows the same")
        XCTAssertEqual(lines[i + 2], "0xc18c0000  " + String(repeating: "K", count: 8) + String(repeating: ".", count: 56))
    }
}

extension AddressSpaceMapTests {
    /// `map` through the Debugger on the page-fault benchmark (skips when the image is missing).
    func testMapCommandOnARealMachine() throws {
        let d = try makeFaultDebugger()
        XCTAssertTrue(d.mapCommand([]).hasPrefix("map: paging is off"))
        XCTAssertTrue(d.mapCommand(["zz"]).hasPrefix("map: bad argument"))
        XCTAssertTrue(d.mapCommand(["--svg"]).hasPrefix("map: --svg needs"))
        d.catchVector(14)
        guard case .caughtVector = d.resume() else { return XCTFail("no #PF") }
        let path = NSTemporaryDirectory() + "swift86-map-test-\(getpid()).svg"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let out = d.mapCommand(["--svg", path])
        XCTAssertTrue(out.hasPrefix("Address space of CR3=0x\(hex(d.cpu.cr3, 8))"), out)
        XCTAssertTrue(out.hasSuffix("SVG written to \(path)"), out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertTrue(XMLParser(contentsOf: URL(fileURLWithPath: path))?.parse() ?? false)
        XCTAssertTrue(d.mapCommand(["0x7ffff000"]).hasPrefix("map: page directory 0x7ffff000 lies outside RAM"))
        XCTAssertTrue(d.mapCommand(["--svg", "/nonexistent-dir/x.svg"]).contains("map: cannot write /nonexistent-dir/x.svg"))
    }
}
