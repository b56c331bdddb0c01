// DiskTests: the guest's ATA driver (-append disktest) on swift86 -hda and QEMU -drive, identical output.
import Foundation
import XCTest

final class DiskTests: XCTestCase {
    static let size = 4 << 20              // 4 MiB image: 8192 sectors

    /// pattern() -> the image's initial contents (every sector different).
    static func pattern() -> Data {
        var d = Data(count: size)
        d.withUnsafeMutableBytes { (b: UnsafeMutableRawBufferPointer) in
            for i in 0..<size { b[i] = UInt8(truncatingIfNeeded: i &* 31 &+ (i >> 9)) }
        }
        return d
    }

    /// image(name) -> a fresh temporary image holding pattern(); removed at teardown.
    func image(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("swift86-disktest-\(ProcessInfo.processInfo.processIdentifier)-\(name).img")
        try DiskTests.pattern().write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// sector(url, n) -> the 512 bytes of sector n of the image file.
    func sector(_ url: URL, _ n: Int) throws -> Data {
        let d = try Data(contentsOf: url)
        return d.subdata(in: n * 512..<(n + 1) * 512)
    }

    /// swift86(img, extra) -> the run of `swift86 boot -m 128M -hda IMG extra -append disktest kernel`.
    func swift86(_ img: URL, _ extra: [String] = []) throws -> Run {
        try Artifacts.require(Artifacts.swift86)
        try Artifacts.require(Artifacts.guest)
        return try Run.exec(timeout: 300, Artifacts.swift86, ["boot", "-m", "128M", "-hda", img.path] + extra
                                + ["-append", "disktest", Artifacts.guest])
    }

    /// expectOK(r): exit code 0 (status 1), the disk line, the test's success line.
    func expectOK(_ r: Run, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("ata0: LBA28 disk 8192 sectors (4 MiB)"), r.stdout, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("disktest: ok"), r.stdout, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("boot complete, exit code 0"), r.stdout, file: file, line: line)
    }

    func testDisktestMatchesQEMUAndWritesTheImage() throws {
        let img = try image("a")
        let before = try sector(img, 1)
        let s = try swift86(img)
        expectOK(s)
        // The checksums printed are those of the file's sectors 0 and 8191.
        XCTAssertNotEqual(try sector(img, 1), before, "sector 1 of the image did not change")
        XCTAssertEqual(try sector(img, 0), try DiskTests.pattern().subdata(in: 0..<512))
        var want = Data(count: 512)
        for i in 0..<512 { want[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 0x5A) }
        XCTAssertEqual(try sector(img, 1), want, "sector 1 does not hold the pattern the guest wrote")

        guard let qemu = Artifacts.qemu else { return }
        let img2 = try image("b")
        let q = try Run.exec(timeout: 300, qemu, Artifacts.qemuFlags
                                 + ["-m", "128M", "-drive", "file=\(img2.path),format=raw,if=ide",
                                    "-append", "disktest", "-kernel", Artifacts.guest])
        expectOK(q)
        assertSameAsQEMU(s, q, "-append disktest")
        XCTAssertEqual(try sector(img2, 1), want, "QEMU's image: sector 1 differs")
    }

    func testSnapshotLeavesTheImageAlone() throws {
        let img = try image("snap")
        let r = try swift86(img, ["-snapshot"])
        expectOK(r)
        XCTAssertEqual(try Data(contentsOf: img), DiskTests.pattern(), "-snapshot wrote to the image")
    }

    func testNoDiskPrintsNothingNew() throws {
        try Artifacts.require(Artifacts.swift86)
        try Artifacts.require(Artifacts.guest)
        let r = try Run.exec(timeout: 300, Artifacts.swift86, ["boot", "-m", "128M", Artifacts.guest])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertFalse(r.stdout.contains("ata0:"), r.stdout)
        XCTAssertFalse(r.stdout.contains("ata:"), r.stdout)
    }
}
