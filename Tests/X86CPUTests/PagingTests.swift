// PagingTests: #PF error codes and CR2, CR0.WP, accessed/dirty bits, 4 MiB pages, INVLPG and the TLB, page-crossing accesses.
import XCTest
import X86CPU

final class PagingTests: XCTestCase {
    let readEAX: [UInt8] = [0xA1, 0x00, 0x00, 0x04, 0x00]           // mov eax, [0x40000]
    let writeEAX: [UInt8] = [0xA3, 0x00, 0x00, 0x04, 0x00]          // mov [0x40000], eax

    /// Check the #PF frame of a CPL-0 fault at 0x1000: vector 14, error code, CR2, saved EIP.
    func assertPageFault(_ m: TestMachine, error: UInt32, cr2: UInt32, eip: UInt32 = 0x1000,
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(m.handledVector, Fault.pf, "delivered vector", file: file, line: line)
        XCTAssertEqual(m.stack(0), error, "error code", file: file, line: line)
        XCTAssertEqual(m.stack(1), eip, "saved EIP", file: file, line: line)
        XCTAssertEqual(m.stack(2), 0x10, "saved CS", file: file, line: line)
        XCTAssertEqual(m.cpu.cr2, cr2, "CR2", file: file, line: line)
    }

    // Supervisor read of a not-present page: error code 0 (P=0, W=0, U=0), CR2 = the address.
    func testReadNotPresent() {
        let m = TestMachine.paged()
        m.setPTE(0x40000, 0)
        m.set(.eax, 0x1234)
        XCTAssertEqual(m.run(readEAX), .halted)
        assertPageFault(m, error: 0, cr2: 0x40000)
        XCTAssertEqual(m.reg(.eax), 0x1234)
    }

    // Supervisor write of a not-present page: error code 2 (W).
    func testWriteNotPresent() {
        let m = TestMachine.paged()
        m.setPTE(0x40000, 0x40000)                                  // P = 0, other bits ignored
        XCTAssertEqual(m.run(writeEAX), .halted)
        assertPageFault(m, error: 2, cr2: 0x40000)
    }

    // CR0.WP = 1: a supervisor write to a read-only page faults with error code 3 (P | W).
    func testSupervisorWriteReadOnlyWithWP() {
        let m = TestMachine.paged(wp: true)
        m.setPTE(0x40000, 0x40001)                                  // present, read-only
        m.set(.eax, 0xFEED)
        XCTAssertEqual(m.run(writeEAX), .halted)
        assertPageFault(m, error: 3, cr2: 0x40000)
        XCTAssertEqual(m.read32(0x40000), 0)
    }

    // CR0.WP = 0: supervisor writes ignore R/W; the write lands and sets the dirty bit.
    func testSupervisorWriteReadOnlyWithoutWP() {
        let m = TestMachine.paged(wp: false)
        m.setPTE(0x40000, 0x40001)
        m.set(.eax, 0xFEED)
        XCTAssertEqual(m.run(writeEAX), .halted)
        XCTAssertNil(m.handledVector)
        XCTAssertEqual(m.read32(0x40000), 0xFEED)
        XCTAssertEqual(m.pte(0x40000), 0x40061)                     // A | D set
    }

    // A read sets the accessed bit (PDE and PTE) but not dirty; a write then sets dirty.
    func testAccessedAndDirtyBits() {
        let m = TestMachine.paged()
        m.setPTE(0x40000, 0x40003)
        m.write32(Layout.pageTable | 0x7, at: Layout.pageDir)       // PDE without A
        XCTAssertEqual(m.run(readEAX
                             + [0x8B, 0x1D, 0x00, 0x11, 0x01, 0x00]  // mov ebx, [0x11100] (PTE of 0x40000)
                             + writeEAX
                             + [0x8B, 0x0D, 0x00, 0x11, 0x01, 0x00]), // mov ecx, [0x11100]
                       .halted)
        XCTAssertNil(m.handledVector)
        XCTAssertEqual(m.reg(.ebx), 0x40023, "after the read: A only")
        XCTAssertEqual(m.reg(.ecx), 0x40063, "after the write: A and D")
        XCTAssertEqual(m.read32(Layout.pageDir) & 0x20, 0x20, "PDE accessed")
    }

    // A 4 MiB page (CR4.PSE, PDE.PS): linear 0x400000 + x maps physical x; A and D set in the PDE.
    func testLargePage() {
        let m = TestMachine()
        m.installTables()
        m.installIdentityPaging()
        m.write32(0x0000_0083, at: Layout.pageDir + 4)              // PDE 1: 4 MiB page at 0, P W PS
        XCTAssertNil(m.writeCR(4, 0x10))                            // CR4.PSE
        m.enablePaging()
        m.write32(0xCAFE_BABE, at: 0x5000)
        m.set(.ebx, 0x600D_F00D)
        XCTAssertEqual(m.run([0xA1, 0x00, 0x50, 0x40, 0x00,         // mov eax, [0x405000]
                              0x89, 0x1D, 0x00, 0x60, 0x40, 0x00]),  // mov [0x406000], ebx
                       .halted)
        XCTAssertNil(m.handledVector)
        XCTAssertEqual(m.reg(.eax), 0xCAFE_BABE)
        XCTAssertEqual(m.read32(0x6000), 0x600D_F00D)
        XCTAssertEqual(m.read32(Layout.pageDir + 4), 0xE3)          // A | D
    }

    // A changed PTE is not seen through a cached translation until INVLPG (the stale entry is
    // architectural: SDM Vol. 3 4.10.4.2); after INVLPG the new mapping is used.
    func testStaleTLBUntilInvlpg() {
        let m = TestMachine.paged()
        m.setPTE(0x40000, 0x50003)
        m.write32(0x5555, at: 0x50000); m.write32(0x6666, at: 0x60000)
        XCTAssertEqual(m.run(readEAX
                             + [0xC7, 0x05, 0x00, 0x11, 0x01, 0x00, 0x03, 0x00, 0x06, 0x00]  // mov dword [0x11100], 0x60003
                             + [0x8B, 0x1D, 0x00, 0x00, 0x04, 0x00]    // mov ebx, [0x40000]
                             + [0x0F, 0x01, 0x3D, 0x00, 0x00, 0x04, 0x00]  // invlpg [0x40000]
                             + [0x8B, 0x0D, 0x00, 0x00, 0x04, 0x00]),  // mov ecx, [0x40000]
                       .halted)
        XCTAssertNil(m.handledVector)
        XCTAssertEqual(m.reg(.eax), 0x5555)
        XCTAssertEqual(m.reg(.ebx), 0x5555, "stale translation still in use before INVLPG")
        XCTAssertEqual(m.reg(.ecx), 0x6666, "INVLPG makes the new PTE visible")
    }

    // A MOV to CR3 flushes non-global translations: a PTE made not-present then faults.
    func testCR3ReloadFlushes() {
        let m = TestMachine.paged()
        m.setPTE(0x40000, 0x40003)
        XCTAssertEqual(m.run(readEAX
                             + [0xC7, 0x05, 0x00, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00]  // mov dword [0x11100], 0
                             + [0x0F, 0x20, 0xD8, 0x0F, 0x22, 0xD8]    // mov eax, cr3; mov cr3, eax
                             + [0x8B, 0x1D, 0x00, 0x00, 0x04, 0x00]),  // mov ebx, [0x40000] (at 0x1015)
                       .halted)
        assertPageFault(m, error: 0, cr2: 0x40000, eip: 0x1015)
    }

    // A dword write straddling into a not-present page: #PF with CR2 = the first byte of the
    // second page, and no byte of the first page is written.
    func testStraddlingWriteIntoNotPresentPage() {
        let m = TestMachine.paged()
        m.setPTE(0x41000, 0)
        m.write([0xAA, 0xBB], at: 0x40FFE)
        m.set(.eax, 0x1122_3344)
        XCTAssertEqual(m.run([0xA3, 0xFE, 0x0F, 0x04, 0x00]), .halted)   // mov [0x40FFE], eax
        assertPageFault(m, error: 2, cr2: 0x41000)
        XCTAssertEqual(m.mem.read(at: 0x40FFE, count: 2), [0xAA, 0xBB])
    }

    // A dword read straddling into a not-present page faults on the second page; EAX unchanged.
    func testStraddlingReadIntoNotPresentPage() {
        let m = TestMachine.paged()
        m.setPTE(0x41000, 0)
        m.set(.eax, 0x77)
        XCTAssertEqual(m.run([0xA1, 0xFE, 0x0F, 0x04, 0x00]), .halted)   // mov eax, [0x40FFE]
        assertPageFault(m, error: 0, cr2: 0x41000)
        XCTAssertEqual(m.reg(.eax), 0x77)
    }

    // User-mode faults set U (bit 2): a read of a supervisor page is P | U = 5.
    func testUserReadOfSupervisorPage() {
        let m = TestMachine()
        m.installTables(); m.installIdentityPaging(pteFlags: 0x7); m.enablePaging()
        m.setPTE(0x40000, 0x40003)                                  // supervisor only
        XCTAssertEqual(m.runUser(readEAX), .halted)
        XCTAssertEqual(m.handledVector, Fault.pf)
        XCTAssertEqual(m.stack(0), 5)
        XCTAssertEqual(m.stack(1), Layout.userCode)
        XCTAssertEqual(m.stack(2), 0x23)
        XCTAssertEqual(m.stack(4), Layout.userStack); XCTAssertEqual(m.stack(5), 0x2B)
        XCTAssertEqual(m.cpu.cr2, 0x40000)
        XCTAssertEqual(m.reg(.esp), Layout.stackTop - 24)           // ring-0 stack from the TSS
    }

    // A user write to a read-only user page is P | W | U = 7 (regardless of CR0.WP).
    func testUserWriteOfReadOnlyPage() {
        let m = TestMachine()
        m.installTables(); m.installIdentityPaging(pteFlags: 0x7); m.enablePaging(wp: false)
        m.setPTE(0x40000, 0x40005)                                  // user, read-only
        XCTAssertEqual(m.runUser(writeEAX), .halted)
        XCTAssertEqual(m.handledVector, Fault.pf)
        XCTAssertEqual(m.stack(0), 7)
        XCTAssertEqual(m.cpu.cr2, 0x40000)
    }

    // A user read of a not-present page is U = 4.
    func testUserReadNotPresent() {
        let m = TestMachine()
        m.installTables(); m.installIdentityPaging(pteFlags: 0x7); m.enablePaging()
        m.setPTE(0x40000, 0)
        XCTAssertEqual(m.runUser(readEAX), .halted)
        XCTAssertEqual(m.handledVector, Fault.pf)
        XCTAssertEqual(m.stack(0), 4)
        XCTAssertEqual(m.cpu.cr2, 0x40000)
    }

    // A user read of a user page whose PDE is supervisor-only faults (U/S of both levels must allow).
    func testUserBlockedByPDE() {
        let m = TestMachine()
        m.installTables(); m.installIdentityPaging(pteFlags: 0x7); m.enablePaging()
        // a second page table for 4-8 MiB would be needed to keep the user code reachable, so
        // instead alias 0x400000 through a supervisor PDE whose PTEs are user pages.
        m.write32(Layout.pageTable | 0x3, at: Layout.pageDir + 4)   // PDE 1: supervisor, same table
        XCTAssertEqual(m.runUser([0xA1, 0x00, 0x00, 0x44, 0x00]), .halted)   // mov eax, [0x440000]
        XCTAssertEqual(m.handledVector, Fault.pf)
        XCTAssertEqual(m.stack(0), 5)
        XCTAssertEqual(m.cpu.cr2, 0x440000)
    }

    // An instruction fetch crossing into a not-present page: #PF with CR2 = the second page,
    // saved EIP = the instruction's first byte, nothing executed.
    func testFetchStraddlingIntoNotPresentPage() {
        let m = TestMachine.paged()
        m.setPTE(0x41000, 0)
        m.write([0xB8, 0x11, 0x22], at: 0x40FFE)                    // mov eax, imm32 (rest on 0x41000)
        m.cpu.eip = 0x40FFE
        m.set(.eax, 0x55)
        XCTAssertEqual(m.cpu.run(until: 1000), .halted)
        XCTAssertEqual(m.handledVector, Fault.pf)
        XCTAssertEqual(m.stack(0), 0)
        XCTAssertEqual(m.stack(1), 0x40FFE)
        XCTAssertEqual(m.cpu.cr2, 0x41000)
        XCTAssertEqual(m.reg(.eax), 0x55)
    }

    // POP to a read-only page faults with ESP unchanged (the instruction has no effect).
    func testPopToReadOnlyPageLeavesESP() {
        let m = TestMachine.paged()
        m.setPTE(0x40000, 0x40001)
        m.write32(0xABCD, at: 0x8FFC); m.set(.esp, 0x8FFC)
        XCTAssertEqual(m.run([0x8F, 0x05, 0x00, 0x00, 0x04, 0x00]), .halted)   // pop dword [0x40000]
        XCTAssertEqual(m.handledVector, Fault.pf)
        XCTAssertEqual(m.stack(0), 3)
        XCTAssertEqual(m.reg(.esp), 0x8FFC - 16, "error code + EIP + CS + EFLAGS below the unchanged ESP 0x8FFC")
        XCTAssertEqual(m.read32(0x40000), 0)
    }

    // REP MOVSD whose source runs into a not-present page: completed dwords stay copied,
    // ECX/ESI/EDI point at the faulting iteration, CR2 = the source address, error code 0 (read).
    func testRepMovsdSourceFault() {
        let m = TestMachine.paged()
        m.setPTE(0x41000, 0)
        m.write32(0x1111, at: 0x40FF8); m.write32(0x2222, at: 0x40FFC)
        m.set(.esi, 0x40FF8); m.set(.edi, 0x50000); m.set(.ecx, 3)
        XCTAssertEqual(m.run([0xF3, 0xA5]), .halted)                // rep movsd
        XCTAssertEqual(m.handledVector, Fault.pf)
        XCTAssertEqual(m.stack(0), 0)
        XCTAssertEqual(m.cpu.cr2, 0x41000)
        XCTAssertEqual(m.reg(.ecx), 1); XCTAssertEqual(m.reg(.esi), 0x41000); XCTAssertEqual(m.reg(.edi), 0x50008)
        XCTAssertEqual(m.read32(0x50000), 0x1111); XCTAssertEqual(m.read32(0x50004), 0x2222)
    }
}
