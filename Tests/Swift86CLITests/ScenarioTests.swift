// ScenarioTests: `swift86 test Tests/Scenarios/*.scenario` — the fault-path regression suite.
import Foundation
import XCTest

final class ScenarioTests: XCTestCase {
    func testEveryScenarioPasses() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        let dir = Artifacts.root + "/Tests/Scenarios"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".scenario") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 20)
        let r = try Run.exec(Artifacts.swift86, ["test"] + files.map { "Tests/Scenarios/" + $0 }, timeout: 300)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("\(files.count) passed, 0 failed"), r.stdout)
    }

    /// A broken expectation fails with a readable report (the suite can fail).
    func testAFailingScenarioSaysWhy() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        let path = NSTemporaryDirectory() + "bad-\(getpid()).scenario"
        try """
        image \(Artifacts.guest)
        ram 1G
        append test=buddy
        expect-exit 1
        expect-line this line is never printed
        expect-count vector=14 == 12345
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try Run.exec(Artifacts.swift86, ["test", path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("FAIL \(path)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("no console line \"this line is never printed\""), r.stdout)
        XCTAssertTrue(r.stdout.contains("expect-count vector=14 == 12345: found"), r.stdout)
    }

    /// `disk FILE`: the guest's ATA driver sees the image (in snapshot mode: the file stays
    /// as it was), and the disk is part of the shared post-boot snapshot's key.
    func testDiskDirective() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        let dir = NSTemporaryDirectory() + "swift86-scenario-disk-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let img = dir + "/disk.img"
        let bytes = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 9)) })
        try bytes.write(to: URL(fileURLWithPath: img))
        func scenario(_ name: String, _ text: String) throws -> String {
            let path = dir + "/" + name + ".scenario"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        // a whole boot: the driver finds the 1 MiB disk, writes sector 1 and reads it back
        let whole = try scenario("whole", """
            image \(Artifacts.guest)
            ram 128M
            disk \(img)
            append disktest init=/bin/sh -c poweroff
            expect-exit 1
            expect-match *ata0: LBA28 disk 2048 sectors (1 MiB)
            expect-match *disktest: ok
            """)
        // two runs from one post-boot snapshot taken after the disk test wrote the disk
        let shared = """
            image \(Artifacts.guest)
            ram 128M
            append disktest init=/bin/sh
            disk \(img)
            boot-until "# "
            input "poweroff\\n"
            expect-exit 1
            """
        let first = try scenario("shared1", shared), second = try scenario("shared2", shared)
        // the same without the disk: the disk test panics at boot. It must boot on its own
        // (a key without the disk would hand it the snapshot above and it would pass)
        let noDisk = try scenario("nodisk", shared.split(separator: "\n").filter { !$0.hasPrefix("disk ") }
                                    .joined(separator: "\n") + "\nbudget 500000000\n")
        let r = try Run.exec(Artifacts.swift86, ["test", whole, first, second, noDisk], timeout: 300)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        for p in [whole, first, second] { XCTAssertTrue(r.stdout.contains("PASS \(p)"), r.stdout) }
        XCTAssertTrue(r.stdout.contains("FAIL \(noDisk)\n  boot ended before \"# \""), r.stdout)
        XCTAssertTrue(r.stdout.contains("3 passed, 1 failed"), r.stdout)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: img)), bytes, "a scenario wrote to its disk image")

        let missing = try scenario("missing", "image \(Artifacts.guest)\ndisk \(dir)/none.img\n")
        let m = try Run.exec(Artifacts.swift86, ["test", missing])
        XCTAssertEqual(m.status, 2, m.stdout + m.stderr)
        XCTAssertTrue(m.stderr.contains("\(dir)/none.img: no such file or directory"), m.stderr)
        let bare = try scenario("bare", "# no file\ndisk\n")
        let b = try Run.exec(Artifacts.swift86, ["test", bare])
        XCTAssertEqual(b.status, 2, b.stdout + b.stderr)
        XCTAssertTrue(b.stderr.contains("\(bare):2: disk FILE"), b.stderr)
    }
}
