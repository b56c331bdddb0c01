// SelfModifyingCodeTests: stores into code that was already decoded must take effect (SDM Vol. 3 11.6).
import XCTest
import X86CPU

final class SelfModifyingCodeTests: XCTestCase {
    // A store into the very next instruction's immediate: the new byte runs.
    func testStoreIntoNextInstruction() {
        let m = TestMachine()
        XCTAssertEqual(m.run([0xC6, 0x05, 0x08, 0x10, 0x00, 0x00, 0x42,   // 0x1000 mov byte [0x1008], 0x42
                              0xB0, 0x00]),                               // 0x1007 mov al, 0
                       .halted)
        XCTAssertEqual(m.reg(.eax) & 0xFF, 0x42)
    }

    /// A loop whose body rewrites its own ADD immediate after the first pass:
    /// EBX = 1, then 0x11, then 0x21 (exit). A stale decoded block would count 1, 2, ... 0x20.
    func loop(store: [UInt8]) -> [UInt8] {
        [0x31, 0xDB,                       // 0x1000 xor ebx, ebx
         0x83, 0xC3, 0x01]                 // 0x1002 L: add ebx, 1   (immediate at 0x1004)
        + store                            // 0x1005 mov byte [...], 0x10 (7 bytes)
        + [0x83, 0xFB, 0x20,               // 0x100C cmp ebx, 0x20
           0x72, 0xF1]                     // 0x100F jb L
    }

    // The modified instruction was decoded and cached on the first pass; the second pass runs the new bytes.
    func testLoopRewritesCachedInstruction() {
        let m = TestMachine()
        XCTAssertEqual(m.run(loop(store: [0xC6, 0x05, 0x04, 0x10, 0x00, 0x00, 0x10])), .halted)  // mov byte [0x1004], 0x10
        XCTAssertEqual(m.reg(.ebx), 0x21)
    }

    // The same with paging on, the store going through another linear alias of the code page.
    func testStoreThroughLinearAlias() {
        let m = TestMachine.paged()
        m.setPTE(0x40000, 0x1003)                                   // 0x40000 -> physical 0x1000
        XCTAssertEqual(m.run(loop(store: [0xC6, 0x05, 0x04, 0x00, 0x04, 0x00, 0x10])), .halted)  // mov byte [0x40004], 0x10
        XCTAssertNil(m.handledVector)
        XCTAssertEqual(m.reg(.ebx), 0x21)
    }

    // REP STOSB overwriting code that follows it (the bytes after the REP become NOPs).
    func testRepStosOverFollowingCode() {
        let m = TestMachine()
        m.set(.edi, 0x1002); m.set(.ecx, 2); m.set(.eax, 0x90)      // two NOPs over "inc ebx"
        m.set(.ebx, 0)
        XCTAssertEqual(m.run([0xF3, 0xAA,                           // 0x1000 rep stosb
                              0x43, 0x43,                           // 0x1002 inc ebx; inc ebx (overwritten)
                              0x43]),                               // 0x1004 inc ebx
                       .halted)
        XCTAssertEqual(m.reg(.ebx), 1)
    }
}
