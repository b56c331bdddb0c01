// DebuggerSessionTests: REPL scripts with golden output, and stock gdb driving the GDB stub.
import Foundation
import XCTest

final class DebuggerSessionTests: XCTestCase {
    var golden: String { Artifacts.root + "/Tests/Swift86CLITests/Golden" }

    /// `swift86 debug -x SCRIPT` prints exactly the golden transcript (UPDATE_GOLDEN=1 rewrites it).
    func testREPLScriptMatchesGolden() throws {
        try Artifacts.require(Artifacts.swift86)
        let image = Artifacts.benchDir + "/fault.elf"
        try Artifacts.require(image)
        let r = try Run.exec(Artifacts.swift86, ["debug", "-x", golden + "/debug-fault.script", image])
        let out = r.stdout + r.stderr
        let path = golden + "/debug-fault.txt"
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try out.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        if out != expected {
            let a = out.split(separator: "\n", omittingEmptySubsequences: false)
            let b = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let i = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
            XCTFail("debugger transcript differs from \(path) at line \(i + 1):\n  got:      \(i < a.count ? String(a[i]) : "<end>")\n  expected: \(i < b.count ? String(b[i]) : "<end>")")
        }
        XCTAssertEqual(r.status, 0)
    }

    /// Stock gdb in batch mode against `swift86 boot -S -gdb tcp::PORT`.
    func testStockGDBDrivesTheStub() throws {
        try Artifacts.require(Artifacts.swift86)
        let image = Artifacts.benchDir + "/fault.elf"
        try Artifacts.require(image)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") else {
            throw XCTSkip("gdb is not installed: the GDB stub test needs stock gdb (apt-get install gdb)")
        }
        let port = 20000 + Int(getpid() % 20000)
        let emu = Process()
        emu.executableURL = URL(fileURLWithPath: Artifacts.swift86)
        emu.arguments = ["boot", "-S", "-gdb", "tcp::\(port)", "-serial", "none", image]
        emu.standardError = Pipe()
        try emu.run()
        defer { if emu.isRunning { emu.terminate() } }
        usleep(300_000)
        let gdb = try Run.exec("/usr/bin/gdb", ["-batch", "-nx",
            "-ex", "target remote 127.0.0.1:\(port)",
            "-ex", "info registers eip",
            "-ex", "break *0x10008d",
            "-ex", "continue",
            "-ex", "info registers eip cr2",
            "-ex", "x/2xw $esp",
            "-ex", "stepi",
            "-ex", "info registers eip",
            "-ex", "monitor page 0x40000000",
            "-ex", "monitor creg",
            "-ex", "kill"], timeout: 60)
        let out = gdb.stdout + gdb.stderr
        XCTAssertTrue(out.contains("0x1000c8"), out)                      // entry point
        XCTAssertTrue(out.contains("Breakpoint 1, 0x0010008d"), out)       // the #PF handler
        XCTAssertTrue(out.contains("0x00000000\t0x00100163") || out.contains("0x00000000      0x00100163")
                      || out.contains("0x00100163"), out)                   // error code 0, faulting EIP
        XCTAssertTrue(out.contains("0x10008e"), out)                       // after stepi
        XCTAssertTrue(out.contains("PDE[256]"), out)                       // monitor page
        XCTAssertTrue(out.contains("CR2=0x40000000"), out)                 // monitor creg
        emu.waitUntilExit()
    }
}

/// gdb sees the control registers and, like QEMU's stub, physical memory on request.
final class GDBStubSystemTests: XCTestCase {
    func testControlRegistersAndPhysicalMemoryMode() throws {
        try Artifacts.require(Artifacts.swift86)
        let image = Artifacts.benchDir + "/fault.elf"
        try Artifacts.require(image)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") else { throw XCTSkip("gdb is not installed") }
        let port = 20000 + Int((getpid() + 7919) % 20000)
        let emu = Process()
        emu.executableURL = URL(fileURLWithPath: Artifacts.swift86)
        emu.arguments = ["boot", "-S", "-gdb", "tcp::\(port)", "-serial", "none", image]
        emu.standardError = Pipe()
        try emu.run()
        defer { if emu.isRunning { emu.terminate() } }
        usleep(300_000)
        let r = try Run.exec("/usr/bin/gdb", ["-batch", "-nx", "-ex", "target remote 127.0.0.1:\(port)",
            "-ex", "break *0x10008d", "-ex", "continue", "-ex", "info registers cr2 cr3",
            "-ex", "maint packet Qqemu.PhyMemMode:1", "-ex", "x/xw 0x106400",
            "-ex", "maint packet Qqemu.PhyMemMode:0", "-ex", "kill"], timeout: 60)
        let out = r.stdout + r.stderr
        XCTAssertTrue(out.contains("cr2            0x40000000"), out)
        XCTAssertTrue(out.contains("cr3            0x106000"), out)
        XCTAssertTrue(out.contains("0x106400:\t0x00108023"), out)     // the PDE, read physically
    }
}
