// ConformanceTests: the protected-mode conformance kernel (guest/conformance) on swift86,
// compared line by line with QEMU; on lines tagged [sdm] (QEMU known to deviate from the
// Intel SDM) swift86's value must equal the SDM's value that the kernel prints as expect=.
import Foundation
import XCTest

final class ConformanceTests: XCTestCase {
    private static let sdmTag = " [sdm]"

    private var image: String {
        ProcessInfo.processInfo.environment["SWIFT86_CONFORMANCE"] ?? "build/conformance/conformance.elf"
    }
    private var swift86: String { FileManager.default.currentDirectoryPath + "/.build/release/swift86" }

    private static let qemuFlags = ["-accel", "tcg", "-display", "none", "-vga", "none", "-net", "none",
                                    "-serial", "stdio", "-monitor", "none", "-no-reboot",
                                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]

    private static func findQEMU() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/qemu-system-i386"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Runs a program to completion (or the timeout) and returns its stdout and exit status.
    private static func exec(_ path: String, _ args: [String], timeout: TimeInterval = 120) throws -> (out: String, status: Int32) {
        let r = try Run.exec(path, args, timeout: timeout)
        return (r.stdout, r.status)
    }

    private func requireArtifacts() throws {
        for path in [swift86, image] where !FileManager.default.fileExists(atPath: path) {
            throw XCTSkip("\(path) is missing: build it with `make emulator conformance-image`")
        }
    }

    /// Splits "name: GOT expect=EXP [sdm]" into (name, got, exp).
    private static func sdmParts(_ line: String) -> (name: String, got: String, exp: String)? {
        guard line.hasSuffix(sdmTag), let colon = line.range(of: ": ") else { return nil }
        let name = String(line[..<colon.lowerBound])
        let rest = String(line[colon.upperBound...].dropLast(sdmTag.count))
        guard let e = rest.range(of: " expect=", options: .backwards) else { return nil }
        return (name, String(rest[..<e.lowerBound]), String(rest[e.upperBound...]))
    }

    /// swift86 alone: every [sdm] line holds the SDM's value, no line is judged FAIL, and the
    /// run ends with the summary and the debug-exit status.
    func testSwift86FollowsTheSDM() throws {
        try requireArtifacts()
        let s = try Self.exec(swift86, ["boot", "-m", "128M", image])
        XCTAssertEqual(s.status, 1, "swift86 exit status")
        let lines = s.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.last?.hasPrefix("summary: ") ?? false, "the run did not finish:\n\(s.out)")
        var sdmLines = 0
        for line in lines {
            if line.hasSuffix(Self.sdmTag) {
                sdmLines += 1
                guard let p = Self.sdmParts(line) else { XCTFail("malformed [sdm] line: \(line)"); continue }
                XCTAssertEqual(p.got, p.exp, "\(p.name): swift86 differs from the SDM")
            } else if line.contains(" FAIL ") {
                XCTFail("judged against the SDM: \(line)")
            }
        }
        XCTAssertGreaterThan(sdmLines, 0)
    }

    /// swift86 against QEMU: every line not tagged [sdm] is identical.
    func testMatchesQEMUOutsideKnownDeviations() throws {
        try requireArtifacts()
        guard let qemu = Self.findQEMU() else { throw XCTSkip("qemu-system-i386 is not installed") }
        let s = try Self.exec(swift86, ["boot", "-m", "128M", image])
        let q = try Self.exec(qemu, Self.qemuFlags + ["-m", "128M", "-kernel", image])
        XCTAssertEqual(s.status, q.status, "exit status")
        let sl = s.out.split(separator: "\n").map(String.init)
        let ql = q.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(sl.count, ql.count, "line count")
        for (a, b) in zip(sl, ql) where a != b {
            let nameA = a.components(separatedBy: ": ").first, nameB = b.components(separatedBy: ": ").first
            if a.hasSuffix(Self.sdmTag) && b.hasSuffix(Self.sdmTag) && nameA == nameB { continue }
            XCTFail("differs from QEMU:\n  qemu:    \(b)\n  swift86: \(a)")
        }
    }

    /// `-append triple`: the kernel ends in a triple fault; swift86 reports it and exits 4
    /// (QEMU with -no-reboot exits 0), after printing the same last line.
    func testTripleFaultRun() throws {
        try requireArtifacts()
        let s = try Self.exec(swift86, ["boot", "-m", "128M", "-append", "triple", image])
        XCTAssertEqual(s.status, 4, "swift86 exit status after a triple fault")
        XCTAssertTrue(s.out.contains("triple-fault: "), s.out)
        if let qemu = Self.findQEMU() {
            let q = try Self.exec(qemu, Self.qemuFlags + ["-m", "128M", "-kernel", image, "-append", "triple"])
            XCTAssertEqual(q.status, 0, "QEMU -no-reboot exit status after a triple fault")
            XCTAssertEqual(s.out.split(separator: "\n").last, q.out.split(separator: "\n").last)
        }
    }
}
