// DebuggerTests: run control and inspection on a real image (the page-fault benchmark).
import Foundation
import XCTest
import Debugger
import PCMachine
import X86CPU

/// A machine with build/bench/fault.elf loaded, under a debugger (skips when the image
/// is missing). Shared by the suites of this target.
func makeFaultDebugger() throws -> Debugger {
    let dir = ProcessInfo.processInfo.environment["SWIFT86_BENCH_DIR"] ?? "build/bench"
    let image = dir + "/fault.elf"
    guard FileManager.default.fileExists(atPath: image) else { throw XCTSkip("\(image) missing: run `make test`") }
    var config = Machine.Config()
    config.serial = .none
    let m = try Machine(config: config)
    try m.load(kernelPath: image)
    return Debugger(machine: m)
}

final class DebuggerTests: XCTestCase {
    func testExpressionsRegistersAndSymbols() throws {
        let d = try makeFaultDebugger()
        XCTAssertEqual(d.evaluate("0x10"), 16)
        XCTAssertEqual(d.evaluate("10+0x10-2"), 24)
        XCTAssertEqual(d.evaluate("$eip"), 0x1000C8)
        XCTAssertEqual(d.evaluate("pf_handler"), 0x10008D)
        XCTAssertEqual(d.evaluate("pf_handler+3"), 0x100090)
        XCTAssertNil(d.evaluate("no_such_symbol"))
        XCTAssertTrue(d.setRegister("eax", 0x1234))
        XCTAssertEqual(d.registerValue("ax"), 0x1234)
        XCTAssertEqual(d.registerValue("ah"), 0x12)
        XCTAssertEqual(d.symbolize(0x10008F), "pf_handler+0x2")
    }

    func testStepBreakpointAndCatch() throws {
        let d = try makeFaultDebugger()
        XCTAssertEqual(d.stepInstructions(1), .stepped)
        XCTAssertEqual(d.cpu.icount, 1)
        d.catchVector(14)
        guard case .caughtVector(14, let ec, let cr2, _, _, 0) = d.resume() else { return XCTFail("no #PF caught") }
        XCTAssertEqual(ec, 0)
        XCTAssertEqual(cr2, 0x4000_0000)
        XCTAssertEqual(d.cpu.eip, 0x10008D, "stopped at the handler's first instruction")
        d.catchVector(14, on: false)
        let id = d.addBreakpoint(.virtual, 0x10008D)
        XCTAssertEqual(d.resume(), .breakpoint(id, 0x10008D))
        XCTAssertEqual(d.cpu.cr2, 0x4000_1000, "the second fault is the write to page B")
        // stepping off a breakpoint does not hit it again
        XCTAssertEqual(d.stepInstructions(1), .stepped)
        XCTAssertEqual(d.cpu.eip, 0x10008E)
    }

    func testPhysicalWatchpointSeesThePTEWrite() throws {
        let d = try makeFaultDebugger()
        d.addWatchpoint(.physical, 0x108000, length: 4)
        guard case .watchpoint(_, _, let pa, true) = d.resume() else { return XCTFail("no watchpoint stop") }
        XCTAssertEqual(pa & ~3, 0x108000)
        XCTAssertTrue(d.pageWalk(0x4000_0000).contains("PDE[256]"))
    }

    /// A not-present PTE's other bits are the OS's: `page` shows them raw (no flag
    /// names) and recognizes the swift86 guest's swap entry (slot << 8 | 0x2).
    func testPageWalkOfANotPresentEntryWithOSBits() throws {
        let d = try makeFaultDebugger()
        d.addWatchpoint(.physical, 0x108000, length: 4)
        guard case .watchpoint = d.resume() else { return XCTFail("no watchpoint stop") }
        let pde = d.cpu.memory.load32((d.cpu.cr3 & ~0xFFF) + (0x4000_0000 >> 22) * 4)
        let pteAddr = (pde & ~0xFFF) + ((0x4000_0000 >> 12) & 0x3FF) * 4
        d.cpu.memory.store32(pteAddr, 0x0001_2302)              // slot 0x123
        let w = d.pageWalk(0x4000_0000)
        XCTAssertTrue(w.contains("= 0x00012302 not present"), w)
        XCTAssertTrue(w.contains("bits 31..1 are the OS's: swift86 guest swap entry, slot 291"), w)
        d.cpu.memory.store32(pteAddr, 0x0001_2340)
        XCTAssertFalse(d.pageWalk(0x4000_0000).contains("swap entry"))
    }

    func testRunToExactInstructionCount() throws {
        let d = try makeFaultDebugger()
        XCTAssertEqual(d.resume(untilCount: 12345), .reachedCount(12345))
        XCTAssertEqual(d.cpu.icount, 12345)
    }

    func testCommandsNeverTrapOnBadInput() throws {
        let d = try makeFaultDebugger()
        for line in ["", "x/", "x/99999xw 0xffffffff", "xp/4xb 0xfffffff0", "page", "page zz", "break", "watch",
                     "info", "info gdt 9999", "irq", "irq zz", "irq 99", "irq 1 2", "info idt 300", "set", "set $nope = 1", "set *0xdeadbeef = 1", "catch vector 999",
                     "delete 42", "disas 0xfffffff0 5", "help x", "frobnicate", "until", "run-to 1"] {
            _ = d.execute(line)
        }
        XCTAssertTrue(d.execute("help").contains("stepi"))
    }

    /// Snapshots restore the whole machine; reverse execution lands on the exact earlier state.
    func testSnapshotsAndReverseExecution() throws {
        let d = try makeFaultDebugger()
        _ = d.stepInstructions(40)
        let regsAt40 = (d.cpu.eip, d.cpu.reg32(.eax), d.cpu.reg32(.esp), d.cpu.eflags)
        _ = d.saveSnapshot("s")
        _ = d.stepInstructions(25)
        XCTAssertEqual(d.cpu.icount, 65)
        XCTAssertTrue(d.loadSnapshot("s"))
        XCTAssertEqual(d.cpu.icount, 40)
        XCTAssertEqual(d.cpu.eip, regsAt40.0); XCTAssertEqual(d.cpu.reg32(.eax), regsAt40.1)
        XCTAssertEqual(d.cpu.reg32(.esp), regsAt40.2); XCTAssertEqual(d.cpu.eflags, regsAt40.3)
        _ = d.stepInstructions(1)
        XCTAssertEqual(d.reverseStep(), .stepped)
        XCTAssertEqual(d.cpu.icount, 40)
        XCTAssertEqual(d.cpu.eip, regsAt40.0)
        // the second #PF, then back to the first one
        d.catchVector(14)
        _ = d.resume(); _ = d.resume()
        XCTAssertEqual(d.cpu.cr2, 0x4000_1000)
        guard case .caughtVector(14, _, let cr2, _, _, _) = d.reverseContinue() else { return XCTFail("no earlier catch") }
        XCTAssertEqual(cr2, 0x4000_0000)
        XCTAssertEqual(d.cpu.eip, 0x10008D)
        XCTAssertEqual(d.cpu.cr2, 0x4000_0000)
        // and forward again is the same run
        guard case .caughtVector(14, _, let again, _, _, _) = d.resume() else { return XCTFail("no catch going forward") }
        XCTAssertEqual(again, 0x4000_1000)
    }
}
