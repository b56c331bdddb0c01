// KernelTests: the guest kernel's memory management self-tests, on swift86 and on QEMU with identical output.
import Foundation
import XCTest

final class KernelTests: XCTestCase {
    /// boot(append, mem) -> the swift86 run, after checking QEMU (when installed) prints
    /// byte-identical serial output and exits with the same status. No line is exempt:
    /// the kernel keeps timing out of its output and masks EFLAGS.RF in trap reports
    /// (the SDM sets it in a fault's pushed EFLAGS, QEMU 7.2 does not).
    func boot(_ append: String, mem: String = "1G", file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        try Artifacts.require(Artifacts.swift86)
        try Artifacts.require(Artifacts.guest)
        var args = ["boot", "-m", mem]
        if !append.isEmpty { args += ["-append", append] }
        let s = try Run.exec(timeout: 300, Artifacts.swift86, args + [Artifacts.guest])
        if let qemu = Artifacts.qemu {
            var qargs = Artifacts.qemuFlags + ["-m", mem, "-kernel", Artifacts.guest]
            if !append.isEmpty { qargs += ["-append", append] }
            let q = try Run.exec(timeout: 300, qemu, qargs)
            assertSameAsQEMU(s, q, "-append \"\(append)\"", file: file, line: line)
        }
        XCTAssertFalse(s.stdout.contains("FAIL"), s.stdout, file: file, line: line)
        return s
    }

    /// expectSuccess(r, test): exit code 0 (status 1), the test's success line, a clean end.
    func expectSuccess(_ r: Run, _ test: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("test \(test): ok, memory back to its starting counts"), r.stdout, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("boot complete, exit code 0"), r.stdout, file: file, line: line)
    }

    func testBootReports() throws {
        let r = try boot("")
        XCTAssertEqual(r.status, 1, r.stderr)
        for s in ["virtual kernel memory layout:", "    fixmap  : 0xfffee000 - 0xfffff000",
                  "    pkmap   : 0xff800000 - 0xffc00000", "    vmalloc : 0xf8800000 - 0xff7fe000",
                  "    lowmem  : 0xc0000000 - 0xf8000000", "Zone ranges:",
                  "  HighMem  [mem 0x0000000038000000-0x000000003ffdffff]", "Node 0, zone   Normal",
                  "Node 0, zone  HighMem", "MemTotal:", "HighTotal:        130944 kB", "VmallocTotal:     114680 kB",
                  "timer: PIT at 100 Hz on IRQ 0, ticking", "boot complete, exit code 0"] {
            XCTAssertTrue(r.stdout.contains(s), "missing \"\(s)\" in:\n\(r.stdout)")
        }
    }

    func testBuddySplitAndCoalesce() throws {
        let r = try boot("test=buddy")
        expectSuccess(r, "buddy")
        XCTAssertTrue(r.stdout.contains("the buddy of the first (pfn ^ 1)"), r.stdout)
    }

    func testSlab() throws {
        let r = try boot("test=slab")
        expectSuccess(r, "slab")
        XCTAssertTrue(r.stdout.contains("kmalloc(8193) -> buddy allocator, order 2"), r.stdout)
    }

    func testFragmentation() throws {
        let r = try boot("test=frag")
        expectSuccess(r, "frag")
        XCTAssertTrue(r.stdout.contains("in zone HighMem: fails with 16368 pages free"), r.stdout)
        XCTAssertTrue(r.stdout.contains("16 of 16 pages from zone HighMem, no two physically adjacent"), r.stdout)
    }

    func testVmallocExhaustion() throws {
        let r = try boot("test=vmalloc")
        expectSuccess(r, "vmalloc")
        XCTAssertTrue(r.stdout.contains("27 areas of 4 MiB (+ guard page) fit"), r.stdout)
    }

    func testHighmemKmap() throws {
        let r = try boot("test=highmem")
        expectSuccess(r, "highmem")
        XCTAssertTrue(r.stdout.contains("(pkmap window)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("wrapped 1 time(s), TLB flushed; 0 stale writes"), r.stdout)
    }

    func testAllAtOnce() throws {
        let r = try boot("test=all")
        for t in ["buddy", "slab", "frag", "vmalloc", "highmem"] { expectSuccess(r, t) }
    }

    func testGuardPageOops() throws {
        let r = try boot("test=guard")
        XCTAssertEqual(r.status, 255, r.stderr)                  // (0x7F << 1) | 1: panic
        XCTAssertTrue(r.stdout.contains("BUG: unable to handle page fault for address: 0xf8802000"), r.stdout)
        XCTAssertTrue(r.stdout.contains("#PF: address in the guard page of vmalloc area 0xf8800000-0xf8803000"), r.stdout)
        XCTAssertTrue(r.stdout.contains("EIP: guard_touch(_:)+0x"), r.stdout)
        XCTAssertTrue(r.stdout.contains("panic: do_page_fault: kernel oops"), r.stdout)
    }

    func testSmallMachineWithoutHighmem() throws {
        let r = try boot("test=all", mem: "128M")
        for t in ["buddy", "slab", "frag", "vmalloc", "highmem"] { expectSuccess(r, t) }
        XCTAssertTrue(r.stdout.contains("no highmem at this RAM size"), r.stdout)
    }
}
