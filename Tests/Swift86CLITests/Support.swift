// Support: running the release binary and QEMU from the CLI tests, and where the artifacts are.
import Foundation
import XCTest

/// Runs a program and captures stdout, stderr and the exit status.
struct Run {
    var stdout: String
    var stderr: String
    var status: Int32

    static func exec(_ path: String, _ args: [String], stdin: String? = nil, timeout: TimeInterval = 120) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let inPipe = Pipe()
        p.standardInput = inPipe
        try p.run()
        if let s = stdin { inPipe.fileHandleForWriting.write(Data(s.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        final class Box: @unchecked Sendable { var data = Data() }
        let o = Box(), e = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { o.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { e.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { p.terminate(); XCTFail("\(path) \(args) timed out") }
        p.waitUntilExit()
        group.wait()
        return Run(stdout: String(decoding: o.data, as: UTF8.self), stderr: String(decoding: e.data, as: UTF8.self),
                   status: p.terminationStatus)
    }

    /// The same with a longer bound, for whole-kernel runs (boots at 1 GiB, process demos).
    static func exec(timeout: TimeInterval, _ path: String, _ args: [String]) throws -> Run {
        try exec(path, args, stdin: nil, timeout: timeout)
    }
}

/// assertSameAsQEMU(s, q, what): the two runs exited alike and printed the same serial
/// output; otherwise one failure naming the first line that differs.
func assertSameAsQEMU(_ s: Run, _ q: Run, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(s.status, q.status, "exit status vs QEMU, \(what)", file: file, line: line)
    if s.stdout != q.stdout {
        let a = s.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let b = q.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        XCTFail("serial output differs from QEMU's at line \(i + 1), \(what):\n swift86: "
                + (i < a.count ? String(a[i]) : "<end>") + "\n qemu:    " + (i < b.count ? String(b[i]) : "<end>"),
                file: file, line: line)
    }
}

/// initOutput(s) -> the serial output of a guest run from "Run /bin/sh as init process"
/// on (CRLF as LF), after checking that init started, exited 0 and powered off
/// (status 1: guest code 0).
func initOutput(_ s: Run, file: StaticString = #filePath, line: UInt = #line) -> String {
    XCTAssertEqual(s.status, 1, s.stdout + s.stderr, file: file, line: line)
    guard let r = s.stdout.range(of: "Run /bin/sh as init process") else {
        XCTFail("init did not start:\n\(s.stdout)", file: file, line: line)
        return ""
    }
    let out = String(s.stdout[r.upperBound...]).replacingOccurrences(of: "\r\n", with: "\n")
    XCTAssertTrue(out.contains("init: exited with status 0, powering off"), out, file: file, line: line)
    return out
}

/// Paths of the artifacts `make test` builds before running the tests.
enum Artifacts {
    static var root: String { FileManager.default.currentDirectoryPath }
    static var swift86: String { ProcessInfo.processInfo.environment["SWIFT86_BIN"] ?? root + "/.build/release/swift86" }
    static var guest: String { ProcessInfo.processInfo.environment["SWIFT86_GUEST"] ?? "build/guest/kernel.elf" }
    static var disk: String { ProcessInfo.processInfo.environment["SWIFT86_DISK"] ?? "build/guest/disk.img" }
    static var benchDir: String { ProcessInfo.processInfo.environment["SWIFT86_BENCH_DIR"] ?? "build/bench" }
    static var qemu: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/qemu-system-i386"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
    static let qemuFlags = ["-accel", "tcg", "-display", "none", "-vga", "none", "-net", "none",
                            "-serial", "stdio", "-monitor", "none", "-no-reboot",
                            "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                            // instruction-count time, as swift86: the guest's timer interrupts land at
                            // the same points every run, so QEMU's runs are reproducible too
                            "-icount", "shift=0"]

    static func require(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is missing: run `make test` (it builds the emulator and the guest first)")
        }
    }
}
