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

    /// `irq 0` injects a timer tick at a chosen instruction: here, in sched_init between
    /// publishing the task table and setting the current task (alloc_task_struct_nopanic's first
    /// instruction), the window in which the guest once panicked with "ptr: null
    /// address" (seen on QEMU TCG under load). The tick must be taken and return there;
    /// reverse execution replays the injected tick at the same instruction.
    func testInjectedTimerTickInSchedInit() throws {
        try Artifacts.require(Artifacts.swift86)
        try Artifacts.require(Artifacts.guest)
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("swift86-irq-\(getpid()).gdb")
        try """
            break alloc_task_struct_nopanic
            continue
            irq 0
            stepi 40
            reverse-stepi 25
            stepi 25
            continue
            delete
            continue

            """.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let r = try Run.exec(Artifacts.swift86, ["debug", "-x", script.path, "-m", "32M", "-append", "init=/bin/sh -c true",
                                                 Artifacts.guest])
        let out = r.stdout + r.stderr
        XCTAssertTrue(out.contains("IRQ 0 raised at instruction"), out)
        XCTAssertFalse(out.contains("panic: "), out)           // the kernel's panic line (the breakpoint's symbol ends in "nopanic")
        let lines = out.split(separator: "\n").map(String.init)
        // the tick ran (vector 0x20) and returned to the breakpoint: hit twice at the same address
        let hits = lines.indices.filter { lines[$0] == "Breakpoint 1 hit" }.map { lines[$0 + 1] }
        XCTAssertEqual(hits.count, 2, out)
        if hits.count == 2 { XCTAssertEqual(hits[0].split(separator: " ").dropFirst(), hits[1].split(separator: " ").dropFirst()) }
        // stepi 40 and (reverse-stepi 25, stepi 25) stop at the same instruction and count
        let afterStep = lines.firstIndex { $0.hasSuffix("stepi 40") }.map { lines[$0 + 1] }
        let afterRedo = lines.lastIndex { $0.hasSuffix("stepi 25") }.map { lines[$0 + 1] }
        XCTAssertNotNil(afterStep, out)
        XCTAssertEqual(afterStep, afterRedo, "re-execution replays the injected tick:\n\(out)")
        XCTAssertTrue(out.contains("The machine stopped (exit status 1)"), out)
    }

    /// Stock gdb in batch mode against `swift86 boot -S -gdb tcp::PORT`.
    func testStockGDBDrivesTheStub() throws {
        let (port, emu) = try startGDBStub(salt: 0)
        defer { if emu.isRunning { emu.terminate() } }
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
/// startGDBStub(salt) -> (port, process): `swift86 boot -S -gdb tcp::PORT` on the fault
/// benchmark, listening (the port from the pid and salt, so parallel suites differ);
/// skips when the emulator, the image or stock gdb is missing. The caller terminates it.
func startGDBStub(salt: Int32) throws -> (Int, Process) {
    try Artifacts.require(Artifacts.swift86)
    let image = Artifacts.benchDir + "/fault.elf"
    try Artifacts.require(image)
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") else {
        throw XCTSkip("gdb is not installed: the GDB stub tests need stock gdb (apt-get install gdb)")
    }
    let port = 20000 + Int((getpid() + salt) % 20000)
    let emu = Process()
    emu.executableURL = URL(fileURLWithPath: Artifacts.swift86)
    emu.arguments = ["boot", "-S", "-gdb", "tcp::\(port)", "-serial", "none", image]
    emu.standardError = Pipe()
    try emu.run()
    usleep(300_000)
    return (port, emu)
}

final class GDBStubSystemTests: XCTestCase {
    func testControlRegistersAndPhysicalMemoryMode() throws {
        let (port, emu) = try startGDBStub(salt: 7919)
        defer { if emu.isRunning { emu.terminate() } }
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

/// The worked session of docs/debugger.md: the first copy-on-write fault after a fork, its
/// PTE before and after, and the TLB entry changing from the shared read-only frame to
/// the new private writable one. Checked by meaning, not byte for byte (the guest changes).
final class CopyOnWriteSessionTests: XCTestCase {
    func testCopyOnWriteWalkthrough() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        try Artifacts.require("build/guest/user/box.elf")
        let r = try Run.exec(Artifacts.swift86, ["debug", "-m", "1G", "-append", "init=/bin/sh -c \"cowdemo\"",
                                                 "-x", Artifacts.root + "/Tests/Swift86CLITests/Golden/cow-session.script", Artifacts.guest])
        let out = r.stdout
        XCTAssertTrue(out.contains("error code 0x0007 [P W U]"), out)
        XCTAssertTrue(out.contains("--- trap from user mode"), out)
        let ptes = out.split(separator: "\n").filter { $0.contains("PTE[1023]") }
        XCTAssertEqual(ptes.count, 2, out)
        XCTAssertTrue(ptes.first?.contains("P RO U") == true, out)
        XCTAssertTrue(ptes.last?.contains("P RW U A D") == true, out)
        let tlb = out.split(separator: "\n").filter { $0.hasPrefix("bffff000 -> ") }
        XCTAssertEqual(tlb.count, 2, out)
        guard tlb.count == 2 else { return }
        XCTAssertTrue(tlb[0].contains("RO") && tlb[1].contains("RW"), out)
        XCTAssertNotEqual(tlb[0].prefix(20), tlb[1].prefix(20), "a new frame after the copy")
        XCTAssertTrue(out.contains("no TLB entry for linear page 0xbffff000"), "the kernel's INVLPG dropped the stale entry")
    }
}
