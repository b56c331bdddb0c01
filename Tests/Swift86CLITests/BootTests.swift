// BootTests: boot the guest image on the release swift86 binary, and on QEMU as the referee.
import Foundation
import XCTest

final class BootTests: XCTestCase {
    func testGuestBootsAndExitsThroughDebugExit() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        let r = try Run.exec(Artifacts.swift86, ["boot", "-m", "128M", Artifacts.guest])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stdout.contains("boot complete, exit code 0"), r.stdout)
        XCTAssertFalse(r.stdout.contains("FAIL"), r.stdout)
        XCTAssertTrue(r.stdout.contains("memory map"), r.stdout)
    }

    func testCommandLineExitCodeAndModules() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        let dir = NSTemporaryDirectory() + "swift86-boot-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("hello module".utf8).write(to: URL(fileURLWithPath: dir + "/a.txt"))
        try Data(repeating: 0x5A, count: 5000).write(to: URL(fileURLWithPath: dir + "/b.bin"))
        let r = try Run.exec(Artifacts.swift86, ["-m", "64M", "-append", "hello exit=3",
                                                 "-initrd", "\(dir)/a.txt arg1,\(dir)/b.bin", "-kernel", Artifacts.guest])
        XCTAssertEqual(r.status, 7, r.stderr)              // (3 << 1) | 1, as QEMU
        XCTAssertTrue(r.stdout.contains("hello exit=3"), r.stdout)
        XCTAssertTrue(r.stdout.contains("modules: 2"), r.stdout)
    }

    /// Ctrl-A c on the console enters the debugger's monitor; `continue` returns to the guest.
    func testMonitorKeyEntersTheDebugger() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        let r = try Run.exec(Artifacts.swift86, ["boot", "-m", "128M", Artifacts.guest], stdin: "\u{01}ccreg\ninfo eflags\ncontinue\n")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stdout.contains("swift86 monitor"), r.stdout)
        XCTAssertTrue(r.stdout.contains("CR0=0x"), r.stdout)
        XCTAssertTrue(r.stdout.contains("boot complete, exit code 0"), r.stdout)
    }

    /// The referee: the same image on QEMU prints the same serial output.
    func testSerialOutputMatchesQEMU() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        guard let qemu = Artifacts.qemu else { throw XCTSkip("qemu-system-i386 is not installed") }
        for (mem, append) in [("128M", ""), ("1G", "loglevel=7 exit=5")] {
            var args = ["boot", "-m", mem]
            var qargs = Artifacts.qemuFlags + ["-m", mem, "-kernel", Artifacts.guest]
            if !append.isEmpty { args += ["-append", append]; qargs += ["-append", append] }
            let s = try Run.exec(Artifacts.swift86, args + [Artifacts.guest])
            let q = try Run.exec(qemu, qargs)
            XCTAssertEqual(s.status, q.status, "exit status, -m \(mem)")
            XCTAssertEqual(s.stdout, q.stdout, "serial output differs from QEMU's at -m \(mem)")
        }
    }

    /// The benchmark workloads have instruction counts verified on QEMU (-icount): the
    /// interpreter must retire exactly that many and print the same checksums.
    func testWorkloadChecksumsAndInstructionCounts() throws {
        try Artifacts.require(Artifacts.swift86)
        let empty = Artifacts.benchDir + "/empty.elf"
        try Artifacts.require(empty)
        let r = try Run.exec(Artifacts.swift86, ["boot", "--stats", empty])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("swift86: 537 instructions"), r.stderr)
        XCTAssertTrue(r.stdout.contains("sum=00000000"), r.stdout)
    }
}

/// One clear line and a non-zero status for every kind of bad input; never a Swift trap.
final class CLIErrorTests: XCTestCase {
    func check(_ args: [String], _ expected: String, status: Int32 = 2, file: StaticString = #filePath, line: UInt = #line) throws {
        try Artifacts.require(Artifacts.swift86)
        let r = try Run.exec(Artifacts.swift86, args)
        XCTAssertEqual(r.status, status, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(expected), "stderr: \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr, file: file, line: line)
    }

    func testMissingFile() throws { try check(["boot", "/nonexistent/kernel.elf"], "/nonexistent/kernel.elf: no such file") }
    func testNotAnImage() throws {
        // not an ELF: QEMU then looks for a multiboot a.out-kludge header, and so do we
        let p = NSTemporaryDirectory() + "notelf-\(getpid())"
        try Data("hello, not an ELF file at all".utf8).write(to: URL(fileURLWithPath: p))
        try check(["boot", p], "no multiboot header")
    }
    func testNot32BitX86() throws {
        var b = [UInt8](repeating: 0, count: 4096)
        b[0...3] = [0x7F, 0x45, 0x4C, 0x46]; b[4] = 2; b[5] = 1; b[6] = 1; b[16] = 2; b[18] = 62
        // a valid multiboot header (magic, flags 0, checksum) so the ELF itself is judged
        b[64...75] = [0x02, 0xB0, 0xAD, 0x1B, 0, 0, 0, 0, 0xFE, 0x4F, 0x52, 0xE4]
        let p = NSTemporaryDirectory() + "elf64-\(getpid())"
        try Data(b).write(to: URL(fileURLWithPath: p))
        try check(["boot", p], "x86-64 image")
    }
    func testNoMultibootHeader() throws {
        // an ELF32 without a multiboot header: the host's own 32-bit ELF header fields suffice
        var b = [UInt8](repeating: 0, count: 8192)
        b[0...3] = [0x7F, 0x45, 0x4C, 0x46]; b[4] = 1; b[5] = 1; b[6] = 1
        b[16] = 2; b[18] = 3; b[20] = 1; b[40] = 52; b[42] = 32; b[46] = 40
        let p = NSTemporaryDirectory() + "nomb-\(getpid()).elf"
        try Data(b).write(to: URL(fileURLWithPath: p))
        try check(["boot", p], "multiboot")
    }
    func testBadMemorySize() throws { try check(["boot", "-m", "lots", "x.elf"], "-m: bad size") }
    func testTooMuchMemory() throws { try check(["boot", "-m", "8G", "x.elf"], "RAM size") }
    func testUnknownOption() throws { try check(["boot", "--frobnicate", "x.elf"], "unknown option '--frobnicate'") }
    func testUnknownLogItem() throws { try check(["boot", "-d", "int,bogus", "x.elf"], "unknown log item 'bogus'") }
    func testMissingValue() throws { try check(["boot", "-m"], "needs a value") }
    func testSegmentsOutsideRAM() throws {
        try Artifacts.require(Artifacts.guest)
        try check(["boot", "-m", "1M", Artifacts.guest], "outside RAM")
    }
}

/// `swift86 disasm` against the referee llvm-objdump: every instruction starts at the same address.
final class DisasmCommandTests: XCTestCase {
    func testInstructionBoundariesMatchLLVMObjdump() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        let objdump = ["/opt/swift/usr/bin/llvm-objdump", "/usr/bin/llvm-objdump"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let od = objdump else { throw XCTSkip("llvm-objdump is not installed") }
        // llvm-objdump prints a LOCK prefix on a line of its own: the next line is its instruction
        func addresses(_ text: String) -> Set<String> {
            var s = Set<String>()
            var afterLock = false
            for line in text.split(separator: "\n") {
                let t = line.trimmingCharacters(in: .whitespaces)
                guard let colon = t.firstIndex(of: ":"), t.first?.isHexDigit == true else { continue }
                let a = t[..<colon]
                guard a.count <= 8, a.allSatisfy(\.isHexDigit), t[t.index(after: colon)...].hasPrefix(" ") else { continue }
                if !afterLock { s.insert(String(a)) }
                afterLock = t.hasSuffix("lock")
            }
            return s
        }
        let ours = try Run.exec(Artifacts.swift86, ["disasm", Artifacts.guest])
        XCTAssertEqual(ours.status, 0, ours.stderr)
        let theirs = try Run.exec(od, ["-d", Artifacts.guest])
        let a = addresses(ours.stdout), b = addresses(theirs.stdout)
        XCTAssertGreaterThan(a.count, 1000)
        XCTAssertEqual(a.symmetricDifference(b).sorted().prefix(10), [], "instruction boundaries differ")
        let sym = try Run.exec(Artifacts.swift86, ["disasm", Artifacts.guest, "kmain"])
        XCTAssertTrue(sym.stdout.contains("<kmain>:"), sym.stdout)
        let bad = try Run.exec(Artifacts.swift86, ["disasm", Artifacts.guest, "no_such_symbol"])
        XCTAssertEqual(bad.status, 2)
    }
}
