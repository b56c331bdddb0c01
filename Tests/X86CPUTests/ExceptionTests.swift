// ExceptionTests: delivery through the IDT (frames, EIP of faults vs traps, IF), bad gates, #DF and triple fault.
import XCTest
import X86CPU

final class ExceptionTests: XCTestCase {
    let RF: UInt32 = 1 << 16

    // #DE through an interrupt gate: pushes EFLAGS, CS, EIP (of the faulting DIV: a fault),
    // no error code; the handler runs with IF = 0. Fault-class exceptions set RF in the image.
    func testDivideErrorFrame() {
        let m = TestMachine()
        m.installTables()
        m.cpu.eflags = 0x2 | F.IF | F.CF
        m.set(.ebx, 0); m.set(.eax, 7)
        XCTAssertEqual(m.run([0xF7, 0xF3]), .halted)                // div ebx
        XCTAssertEqual(m.handledVector, Fault.de)
        XCTAssertEqual(m.reg(.esp), Layout.stackTop - 12)
        XCTAssertEqual(m.stack(0), 0x1000)
        XCTAssertEqual(m.stack(1), 0x10)
        XCTAssertEqual(m.stack(2) & ~RF, 0x2 | F.IF | F.CF)
        XCTAssertEqual(m.stack(2) & RF, RF, "RF set in the image of a fault")
        XCTAssertEqual(m.cpu.eflags & F.IF, 0, "interrupt gate clears IF")
        XCTAssertEqual(m.reg(.eax), 7)
    }

    // INT n is a trap: the saved EIP is the next instruction; a trap gate leaves IF set.
    func testInt80PushesNextEIP() {
        let m = TestMachine()
        m.installTables()
        m.setGate(0x80, offset: Layout.handler(0x80), attr: 0xEF)  // 32-bit trap gate, DPL 3
        m.cpu.eflags = 0x2 | F.IF
        XCTAssertEqual(m.run([0xCD, 0x80]), .halted)                // int 0x80
        XCTAssertEqual(m.handledVector, 0x80)
        XCTAssertEqual(m.reg(.esp), Layout.stackTop - 12)
        XCTAssertEqual(m.stack(0), 0x1002)
        XCTAssertEqual(m.stack(2), 0x2 | F.IF)
        XCTAssertEqual(m.cpu.eflags & F.IF, F.IF, "trap gate keeps IF")
    }

    // INT3 and INTO (with OF = 1) are traps: EIP after the one-byte instruction.
    func testInt3AndInto() {
        let m = TestMachine()
        m.installTables()
        XCTAssertEqual(m.run([0xCC]), .halted)                      // int3
        XCTAssertEqual(m.handledVector, Fault.bp)
        XCTAssertEqual(m.stack(0), 0x1001)

        let m2 = TestMachine()
        m2.installTables()
        m2.cpu.eflags = 0x2 | F.OF
        XCTAssertEqual(m2.run([0x90, 0xCE]), .halted)               // nop; into
        XCTAssertEqual(m2.handledVector, Fault.of)
        XCTAssertEqual(m2.stack(0), 0x1002)
    }

    // INTO with OF = 0 does nothing.
    func testIntoWithoutOverflow() {
        let m = TestMachine()
        m.installTables()
        XCTAssertEqual(m.run([0xCE]), .halted)
        XCTAssertNil(m.handledVector)
        XCTAssertEqual(m.cpu.eip, 0x1002)
    }

    // UD2 is a fault: EIP of the UD2, no error code.
    func testUD2Frame() {
        let m = TestMachine()
        m.installTables()
        XCTAssertEqual(m.run([0x90, 0x0F, 0x0B]), .halted)          // nop; ud2
        XCTAssertEqual(m.handledVector, Fault.ud)
        XCTAssertEqual(m.reg(.esp), Layout.stackTop - 12)
        XCTAssertEqual(m.stack(0), 0x1001)
    }

    // INT n through a gate of an invalid type (a call gate): #GP with error code n*8 + 2 (IDT, EXT = 0).
    func testSoftwareInterruptBadGateType() {
        let m = TestMachine()
        m.installTables()
        m.setGate(0x81, offset: Layout.handler(0x81), attr: 0xEC)  // type 0xC: call gate
        XCTAssertEqual(m.run([0xCD, 0x81]), .halted)                // int 0x81
        XCTAssertEqual(m.handledVector, Fault.gp)
        XCTAssertEqual(m.stack(0), 0x81 * 8 + 2)
        XCTAssertEqual(m.stack(1), 0x1000, "the INT faulted: EIP of the INT")
    }

    // An exception through a not-present gate: #NP with error code vector*8 + 2 + EXT(1).
    func testExceptionThroughNotPresentGate() {
        let m = TestMachine()
        m.installTables()
        m.setGate(6, offset: Layout.handler(6), attr: 0x6E)        // P = 0
        XCTAssertEqual(m.run([0x0F, 0x0B]), .halted)                // ud2
        XCTAssertEqual(m.handledVector, Fault.np)
        XCTAssertEqual(m.stack(0), 6 * 8 + 3)
        XCTAssertEqual(m.stack(1), 0x1000)
    }

    // INT n from CPL 3 through a DPL 0 gate: #GP(n*8 + 2), delivered on the ring-0 stack.
    func testSoftwareInterruptGateDPLCheck() {
        let m = TestMachine()
        m.installTables()
        m.setGate(0x80, offset: Layout.handler(0x80), attr: 0x8E)  // DPL 0
        XCTAssertEqual(m.runUser([0xCD, 0x80]), .halted)            // int 0x80 at CPL 3
        XCTAssertEqual(m.handledVector, Fault.gp)
        XCTAssertEqual(m.stack(0), 0x80 * 8 + 2)
        XCTAssertEqual(m.stack(1), Layout.userCode)
        XCTAssertEqual(m.stack(2), 0x23)
        XCTAssertEqual(m.reg(.esp), Layout.stackTop - 24)
    }

    // Contributory then contributory (#DE, then #NP reading its gate) is a double fault, error code 0.
    func testDoubleFaultContributory() {
        let m = TestMachine()
        m.installTables()
        m.setGate(0, offset: Layout.handler(0), attr: 0x6E)        // #DE gate not present
        m.set(.ebx, 0)
        XCTAssertEqual(m.run([0xF7, 0xF3]), .halted)                // div ebx
        XCTAssertEqual(m.handledVector, Fault.df)
        XCTAssertEqual(m.stack(0), 0)
    }

    // #PF while delivering #PF (the page holding IDT entry 14 is not present) is a double fault;
    // CR2 names the IDT entry's address.
    func testDoubleFaultPageFaultOnIDT() {
        let m = TestMachine.paged()
        let idt: UInt32 = 0x2F90                                    // entry 8 at 0x2FD0, entry 14 at 0x3000
        for v in 0..<256 { m.setGate(UInt8(v), offset: Layout.handler(UInt8(v)), idt: idt) }
        m.cpu.idtrBase = idt
        m.setPTE(0x3000, 0)
        m.setPTE(0x40000, 0)
        XCTAssertEqual(m.run([0xA1, 0x00, 0x00, 0x04, 0x00]), .halted)   // mov eax, [0x40000]
        XCTAssertEqual(m.handledVector, Fault.df)
        XCTAssertEqual(m.stack(0), 0)
        XCTAssertEqual(m.cpu.cr2, 0x3000)
    }

    // A benign exception whose delivery faults is not a double fault: #UD through a gate of an
    // invalid type becomes #GP(6*8 + 2 + 1).
    func testBenignThenContributoryIsSerial() {
        let m = TestMachine()
        m.installTables()
        m.setGate(6, offset: Layout.handler(6), attr: 0xE0)        // type 0: invalid
        XCTAssertEqual(m.run([0x0F, 0x0B]), .halted)
        XCTAssertEqual(m.handledVector, Fault.gp)
        XCTAssertEqual(m.stack(0), 6 * 8 + 3)
    }

    // A fault while delivering #DF shuts the processor down (triple fault): IDT with only vector 0.
    func testTripleFaultShutsDown() {
        let m = TestMachine()
        m.installTables()
        m.cpu.idtrLimit = 7
        XCTAssertEqual(m.run([0x0F, 0x0B]), .shutdown)              // ud2 -> #GP -> #GP (= #DF) -> #GP
        XCTAssertNotNil(m.cpu.shutdownReason)
        XCTAssertEqual(m.cpu.run(until: m.cpu.icount + 10), .shutdown, "stays shut down")
    }

    // A not-present stack: #UD, then #PF pushing its frame, then #PF delivering that #PF (#DF),
    // then #PF delivering #DF: triple fault.
    func testTripleFaultFromNotPresentStack() {
        let m = TestMachine.paged()
        m.setPTE(0x40000, 0)
        m.set(.esp, 0x41000)                                        // pushes go to 0x40FFC: not present
        XCTAssertEqual(m.run([0x0F, 0x0B]), .shutdown)
        XCTAssertNotNil(m.cpu.shutdownReason)
        XCTAssertEqual(m.cpu.cr2, 0x40FFC)
    }
}
