// MultibootLoaderTests: the multiboot loader against values measured on QEMU 7.2, a.out kludge, and every error path.
import Foundation
import XCTest
import X86CPU
@testable import PCMachine

final class MultibootLoaderTests: XCTestCase {
    // Measured on qemu-system-i386 7.2 with Fixtures/qemu-probe.sh (probe.elf, -m 128M, -append "hello world"):
    // the 22 dwords of the info structure at EBX = 0x9500 and the memory map at 0x9000.
    static let qemuInfo128M: [UInt32] = [
        0x24F, 0x27F, 0x1FB80, 0x8000FFFF, 0x102000, 0, 0x102000, 0, 0, 0, 0, 0x90, 0x9000,
        0, 0, 0, 0x102016, 0, 0, 0, 0, 0,
    ]
    static let qemuMmap128M: [UInt32] = [
        0x14, 0x00000000, 0, 0x0009FC00, 0, 1,
        0x14, 0x0009FC00, 0, 0x00000400, 0, 2,
        0x14, 0x000F0000, 0, 0x00010000, 0, 2,
        0x14, 0x00100000, 0, 0x07EE0000, 0, 1,
        0x14, 0x07FE0000, 0, 0x00020000, 0, 2,
        0x14, 0xFFFC0000, 0, 0x00040000, 0, 2,
    ]

    func memory(_ size: UInt64 = 128 << 20) throws -> PhysicalMemory { try PhysicalMemory(size: size) }

    func dwords(_ m: PhysicalMemory, _ addr: UInt32, _ n: Int) -> [UInt32] {
        (0..<n).map { m.load32(addr + UInt32($0 * 4)) }
    }

    func cString(_ m: PhysicalMemory, _ addr: UInt32) -> String {
        var out: [UInt8] = []
        var a = addr
        while m.load8(a) != 0 && out.count < 4096 { out.append(m.load8(a)); a += 1 }
        return String(decoding: out, as: UTF8.self)
    }

    /// Assert that loading throws exactly `message` and leaves RAM untouched.
    func assertLoadError(_ image: [UInt8], _ message: String, ram: UInt64 = 128 << 20, modules: [MultibootModule] = [],
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let m = try memory(ram)
        do {
            _ = try MultibootLoader.load(image: image, fileName: "kernel.elf", memory: m, commandLine: "", modules: modules)
            XCTFail("loaded, expected: \(message)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, message, file: file, line: line)
        }
        XCTAssertEqual(m.load32(MultibootLoader.infoAddress), 0, "RAM written before the error", file: file, line: line)
    }

    /// A crafted ELF kernel: text with the multiboot header at 1 MiB, data + bss after it.
    func craftedKernel(vbase: UInt32 = 0x100000) -> [UInt8] {
        ELFBuilder(entry: vbase + 12, segments: [
            .init(vaddr: vbase, paddr: 0x100000, data: multibootHeader(flags: 3) + [0xF4, 0xEB, 0xFD], memsz: 15),
            .init(vaddr: vbase + 0x1000, paddr: 0x101000, data: [0xDE, 0xAD, 0xBE, 0xEF], memsz: 0x2000, flags: 6),
        ]).build().bytes
    }

    // MARK: memory map

    func testMemoryMapMatchesQEMU() {
        // (RAM, the RAM-above-1-MiB length and the reserved base QEMU 7.2 + SeaBIOS report, mem_upper)
        let measured: [(UInt64, UInt64, UInt64, UInt32)] = [
            (2 << 20, 0x000E_0000, 0x001E_0000, 0x380),
            (16 << 20, 0x00EE_0000, 0x00FE_0000, 0x3B80),
            (128 << 20, 0x07EE_0000, 0x07FE_0000, 0x1FB80),
            (512 << 20, 0x1FEE_0000, 0x1FFE_0000, 0x7FB80),
            (1 << 30, 0x3FEE_0000, 0x3FFE_0000, 0xFFB80),
            (3583 << 20, 0xDFDE_0000, 0xDFEE_0000, 0x37F780),
        ]
        for (ram, len, reserved, upper) in measured {
            let map = MultibootLoader.memoryMap(ramSize: ram)
            XCTAssertEqual(map, [
                MemoryMapEntry(base: 0, length: 0x9FC00, type: 1),
                MemoryMapEntry(base: 0x9FC00, length: 0x400, type: 2),
                MemoryMapEntry(base: 0xF0000, length: 0x10000, type: 2),
                MemoryMapEntry(base: 0x100000, length: len, type: 1),
                MemoryMapEntry(base: reserved, length: 0x20000, type: 2),
                MemoryMapEntry(base: 0xFFFC_0000, length: 0x40000, type: 2),
            ], "-m \(ram >> 20)M")
            XCTAssertEqual(MultibootLoader.memUpper(from: map), upper, "-m \(ram >> 20)M")
        }
        // Above 3.5 GiB QEMU moves RAM past 4 GiB; swift86's flat RAM keeps the same rule.
        let flat = MultibootLoader.memoryMap(ramSize: 3840 << 20)
        XCTAssertEqual(flat[3], MemoryMapEntry(base: 0x100000, length: 0xEFEE_0000, type: 1))
        XCTAssertEqual(flat[4], MemoryMapEntry(base: 0xEFFE_0000, length: 0x20000, type: 2))
        // 1 MiB of RAM: nothing above 1 MiB.
        XCTAssertEqual(MultibootLoader.memoryMap(ramSize: 1 << 20).count, 4)
    }

    // MARK: against the QEMU probe

    func testInfoStructureMatchesQEMU() throws {
        let dir = try RealFixtures.scratch()
        let image = try RealFixtures.bytes(try RealFixtures.probe(in: dir))
        let m = try memory()
        let s = try MultibootLoader.load(image: image, fileName: "probe.elf", memory: m,
                                         commandLine: "hello world", modules: [])
        XCTAssertEqual(s.eax, 0x2BAD_B002)
        XCTAssertEqual(s.ebx, 0x9500)
        XCTAssertEqual(s.eip, 0x100010)
        XCTAssertEqual(s.qemuEDX, 0x0001_0511)
        XCTAssertEqual(dwords(m, s.ebx, 22), Self.qemuInfo128M)
        XCTAssertEqual(dwords(m, 0x9000, 36), Self.qemuMmap128M)
        XCTAssertEqual(cString(m, 0x102000), "probe.elf hello world")
        XCTAssertEqual(cString(m, 0x102016), "qemu")
        XCTAssertEqual(s.elf?.symbol(named: "_start")?.value, s.eip)
        // The kernel is in RAM: its first bytes are the multiboot header.
        XCTAssertEqual(m.load32(0x100000), 0x1BAD_B002)
    }

    func testModulesMatchQEMU() throws {
        // qemu -kernel probe.elf -initrd "mod1.bin arg1 arg2,a,,b.bin,mod2.bin" (no -append).
        let dir = try RealFixtures.scratch()
        let image = try RealFixtures.bytes(try RealFixtures.probe(in: dir))
        let lines = MultibootLoader.splitInitrdList("mod1.bin arg1 arg2,a,,b.bin,mod2.bin")
        XCTAssertEqual(lines, ["mod1.bin arg1 arg2", "a,b.bin", "mod2.bin"])
        let contents = [Array("MODULE-ONE-DATA!xyz".utf8), Array("second".utf8), Array("second".utf8)]
        let mods = zip(lines, contents).map { MultibootModule(commandLine: $0, bytes: $1) }
        let m = try memory()
        let s = try MultibootLoader.load(image: image, fileName: "probe.elf", memory: m, commandLine: "", modules: mods)
        let info = dwords(m, s.ebx, 22)
        XCTAssertEqual(info[4], 0x102054, "cmdline")
        XCTAssertEqual(info[5], 3, "mods_count")
        XCTAssertEqual(info[6], 0x102000, "mods_addr")
        XCTAssertEqual(info[16], 0x102060, "boot_loader_name")
        XCTAssertEqual(dwords(m, 0x102000, 12), [0x103000, 0x103013, 0x102030, 0,
                                                 0x104000, 0x104006, 0x102043, 0,
                                                 0x105000, 0x105006, 0x10204B, 0])
        XCTAssertEqual(cString(m, 0x102030), "mod1.bin arg1 arg2")
        XCTAssertEqual(cString(m, 0x102043), "a,b.bin")
        XCTAssertEqual(cString(m, 0x10204B), "mod2.bin")
        XCTAssertEqual(cString(m, 0x102054), "probe.elf ")
        XCTAssertEqual(m.read(at: 0x103000, count: 19), contents[0])
        XCTAssertEqual(m.load8(0x103013), 0, "padding after a module is zero")
        XCTAssertEqual(s.modules.map(\.start), [0x103000, 0x104000, 0x105000])
        XCTAssertEqual(s.loadEnd, 0x106000)
        XCTAssertEqual(MultibootLoader.fileName(ofModule: lines[0]), "mod1.bin")
    }

    /// Runs QEMU itself on the probe (when installed) and compares what it prints with our RAM.
    func testLiveAgainstQEMU() throws {
        guard let qemu = RealFixtures.which("qemu-system-i386"), let timeout = RealFixtures.which("timeout") else {
            throw XCTSkip("qemu-system-i386 not on PATH: skipping the live comparison")
        }
        let dir = try RealFixtures.scratch()
        let elf = try RealFixtures.probe(in: dir)
        let image = try RealFixtures.bytes(elf)
        try Data("module one".utf8).write(to: dir.appendingPathComponent("m1"))
        for (ram, append, initrd) in [("16M", "x", ""), ("512M", "a b  c", "m1 arg"), ("3583M", "", "m1,m1")] {
            var args = [timeout, "20", qemu, "-accel", "tcg", "-m", ram, "-kernel", "probe.elf", "-display", "none",
                        "-vga", "none", "-net", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
                        "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-append", append]
            if !initrd.isEmpty { args += ["-initrd", initrd] }
            let (_, out) = try RealFixtures.run(args, in: dir)
            let lines = out.split(separator: "\n").map(String.init)
            guard lines.count >= 5 else { return XCTFail("QEMU printed: \(out)") }
            let mods = MultibootLoader.splitInitrdList(initrd).map {
                MultibootModule(commandLine: $0, bytes: Array("module one".utf8))
            }
            let m = try memory(UInt64(ram.dropLast())! << 20)
            let s = try MultibootLoader.load(image: image, fileName: "probe.elf", memory: m, commandLine: append, modules: mods)
            func hexWords(_ w: [UInt32]) -> String {
                w.map { String($0, radix: 16, uppercase: true) }.map { String(repeating: "0", count: 8 - $0.count) + $0 }
                    .joined(separator: " ") + " "
            }
            let regs = [s.eax, s.ebx, s.qemuECX, s.qemuEDX, s.qemuESI, s.qemuEDI, s.qemuESP, s.qemuEBP, s.qemuEFLAGS,
                        UInt32(s.qemuCS), UInt32(s.qemuDataSelector), UInt32(s.qemuDataSelector), s.qemuCR0]
            XCTAssertTrue(lines[0].hasPrefix(hexWords(regs)), "-m \(ram): registers\n\(lines[0])\n\(hexWords(regs))")
            XCTAssertEqual(lines[1], hexWords(dwords(m, s.ebx, 22)), "-m \(ram): info structure")
            XCTAssertEqual(lines[2], hexWords(dwords(m, 0x9000, Int(m.load32(s.ebx + 44)) / 4)), "-m \(ram): mmap")
            XCTAssertEqual(lines[3], "\"probe.elf \(append)\"")
            for (k, lm) in s.modules.enumerated() {
                XCTAssertTrue(lines[5 + 2 * k].hasPrefix(hexWords([lm.start, lm.end, lm.commandLine, 0])), "module \(k)")
            }
        }
    }

    // MARK: crafted kernels (no tools needed)

    func testCraftedELFLoadsAtPhysicalAddressesAndZeroesBss() throws {
        let m = try memory()
        m.write([UInt8](repeating: 0xAA, count: 0x4000), at: 0x100000)   // stale RAM
        let s = try MultibootLoader.load(image: craftedKernel(), fileName: "kernel.elf", memory: m,
                                         commandLine: "console=ttyS0", modules: [])
        XCTAssertEqual(s.eip, 0x10000C)
        XCTAssertEqual(s.kernelStart, 0x100000)
        XCTAssertEqual(s.kernelEnd, 0x103000)
        XCTAssertEqual(m.read(at: 0x10000C, count: 4), [0xF4, 0xEB, 0xFD, 0], "text then zeroed memsz tail")
        XCTAssertEqual(m.load32(0x101000), 0xEFBE_ADDE)
        XCTAssertEqual(m.load32(0x101004), 0, "bss zeroed")
        XCTAssertEqual(m.load32(0x100F00), 0, "gap between segments zeroed, as QEMU copies the whole range")
        XCTAssertEqual(m.load32(0x102FFC), 0)
        XCTAssertEqual(cString(m, m.load32(0x9500 + 16)), "kernel.elf console=ttyS0")
        XCTAssertEqual(m.load32(0x9500 + 16), 0x103000)
        XCTAssertEqual(m.load32(0x9500 + 24), 0x103000)
        XCTAssertEqual(m.load32(0x9500 + 64), 0x103000 + 11 + 14)
        XCTAssertEqual(s.loadEnd, 0x104000)
    }

    func testHigherHalfEntryIsTranslated() throws {
        let m = try memory()
        let s = try MultibootLoader.load(image: craftedKernel(vbase: 0xC010_0000), fileName: "k", memory: m,
                                         commandLine: "", modules: [])
        XCTAssertEqual(s.eip, 0x10000C, "virtual entry 0xC010000C translated through the executable segment")
        XCTAssertEqual(m.load32(0x100000), 0x1BAD_B002)
    }

    func testRealHigherHalfKernel() throws {
        // QEMU runs this image and exits with status 0xAB from its first instruction, which
        // proves its entry 0xC0100040 is translated to 0x100040 (checked when it was written).
        let dir = try RealFixtures.scratch()
        let image = try RealFixtures.bytes(try RealFixtures.higherHalf(in: dir))
        let m = try memory()
        let s = try MultibootLoader.load(image: image, fileName: "higherhalf.elf", memory: m, commandLine: "", modules: [])
        let start = try XCTUnwrap(s.elf?.symbol(named: "_start"))
        XCTAssertEqual(s.eip, start.value - 0xC000_0000)
        let code = m.read(at: s.eip, count: 8)
        XCTAssertTrue((0...4).contains { Array(code[$0..<$0 + 4]) == [0xB0, 0x55, 0xE6, 0xF4] },
                      "mov al,0x55; out 0xf4,al near the entry: \(code)")
        let counter = try XCTUnwrap(s.elf?.symbol(named: "counter"))
        let seg = try XCTUnwrap(s.elf?.loadSegments.first { counter.value >= $0.vaddr && counter.value < $0.vaddr + $0.memsz })
        XCTAssertEqual(m.load32(counter.value - seg.vaddr + seg.paddr), 42, "data loaded at its physical address")
    }

    func testAoutKludge() throws {
        // A flat file: 0x20 bytes of code, the header at file offset 0x20, 0x50 bytes in all; load at 2 MiB.
        func flat(loadEnd: UInt32, bssEnd: UInt32) -> [UInt8] {
            var f = [UInt8](repeating: 0x90, count: 0x20)
            f += multibootHeader(flags: 0x10003, aout: [0x200020, 0x200000, loadEnd, bssEnd, 0x200004])
            f += [UInt8](repeating: 0xCC, count: 0x50 - f.count)
            return f
        }
        let m = try memory()
        m.write([UInt8](repeating: 0xAA, count: 0x2000), at: 0x200000)
        let s = try MultibootLoader.load(image: flat(loadEnd: 0x200030, bssEnd: 0x200100), fileName: "k.bin",
                                         memory: m, commandLine: "", modules: [])
        XCTAssertEqual(s.eip, 0x200004)
        XCTAssertNil(s.elf)
        XCTAssertEqual(s.kernelEnd, 0x200100)
        XCTAssertEqual(m.load32(0x200020), 0x1BAD_B002)
        XCTAssertEqual(m.load8(0x20002F), 0x00, "file bytes up to load_end_addr (the header's 0x2003xx word)")
        XCTAssertEqual(m.load8(0x200030), 0, "past load_end_addr: bss")
        XCTAssertEqual(m.load32(0x2000FC), 0)
        XCTAssertEqual(m.load32(0x9500 + 24), 0x201000, "info after the page-aligned image")
        // load_end_addr = 0: the rest of the file; bss_end_addr = 0: no bss.
        let m2 = try memory()
        let s2 = try MultibootLoader.load(image: flat(loadEnd: 0, bssEnd: 0), fileName: "k.bin", memory: m2,
                                          commandLine: "", modules: [])
        XCTAssertEqual(s2.kernelEnd, 0x200050)
        XCTAssertEqual(m2.load8(0x20004F), 0xCC)
    }

    // MARK: errors

    func testNoMultibootHeader() throws {
        try assertLoadError([UInt8](repeating: 0, count: 100), "kernel.elf: no multiboot header in the first 8 KiB")
        var bad = craftedKernel()
        bad[MultibootLoader.findHeader(bad)!.offset + 8] ^= 1          // break the checksum
        try assertLoadError(bad, "kernel.elf: no multiboot header in the first 8 KiB")
        let late = [UInt8](repeating: 0, count: 8192 - 48) + multibootHeader(flags: 0x10000, aout: [0, 0, 0, 0, 0])
        try assertLoadError(late, "kernel.elf: no multiboot header in the first 8 KiB")
        XCTAssertNotNil(MultibootLoader.findHeader([UInt8](repeating: 0, count: 8192 - 52) + multibootHeader(flags: 0)))
        XCTAssertNil(MultibootLoader.findHeader([0] + multibootHeader(flags: 0)), "must be 4-byte aligned")
    }

    func testRejectsX86_64AndNonELF() throws {
        var k = craftedKernel()
        k[4] = 2; k[18] = 62
        try assertLoadError(k, "kernel.elf: cannot load an x86-64 image, give a 32-bit one")
        try assertLoadError(multibootHeader(flags: 0) + [0, 0, 0, 0],
                            "kernel.elf: not an ELF file, and the multiboot header has no load addresses (flag bit 16 clear)")
        let shoff = Int(le32(k, 32))
        try assertLoadError(Array(craftedKernel()[0..<shoff + 10]),
                            "kernel.elf: section header table (6 entries at offset \(hex(shoff))) extends past end of file")
    }

    func testSegmentsOutsideRAM() throws {
        let k = ELFBuilder(entry: 0x800_0000, segments: [
            .init(vaddr: 0x800_0000, paddr: 0x800_0000, data: multibootHeader(flags: 3), memsz: 0x1000),
        ]).build().bytes
        try assertLoadError(k, "kernel.elf: segment 0x8000000 – 0x8001000 (program header 0) lies outside RAM (128 MiB)")
        let top = ELFBuilder(entry: 0x7FF_F000, segments: [
            .init(vaddr: 0x7FF_F000, paddr: 0x7FF_F000, data: multibootHeader(flags: 3), memsz: 0x1000),
        ]).build().bytes
        try assertLoadError(top, "kernel.elf: multiboot information and modules 0x8000000 – 0x8001000 lie outside RAM (128 MiB)")
        let big = [MultibootModule(commandLine: "big", bytes: [UInt8](repeating: 1, count: 0x7F0_0000))]
        try assertLoadError(craftedKernel(), "kernel.elf: multiboot information and modules 0x103000 – 0x8004000 lie outside RAM (128 MiB)",
                            modules: big)
        let huge = ELFBuilder(entry: 0x100000, segments: [
            .init(vaddr: 0x100000, paddr: 0x100000, data: multibootHeader(flags: 3), memsz: 0xFFFF_0000),
        ]).build().bytes
        try assertLoadError(huge, "kernel.elf: program header 0: segment at 0x100000 of 0xffff0000 bytes wraps past 4 GiB")
        let empty = ELFBuilder(entry: 0, segments: [
            .init(vaddr: 0x100000, paddr: 0x100000, data: multibootHeader(flags: 3), memsz: 12),
        ]).build().bytes
        var noLoad = empty
        noLoad[52] = 4                                                   // p_type PT_NOTE
        try assertLoadError(noLoad, "kernel.elf: no loadable segments (no PT_LOAD program header)")
    }

    func testAoutKludgeErrors() throws {
        func img(_ fields: [UInt32], pad: Int = 0x40) -> [UInt8] {
            let f = [UInt8](repeating: 0, count: 0x20) + multibootHeader(flags: 0x10000, aout: fields)
            return f + [UInt8](repeating: 0, count: max(0, pad - f.count))
        }
        try assertLoadError(img([0x200020, 0x200040, 0, 0, 0]),
                            "kernel.elf: invalid multiboot load_addr 0x200040 (above header_addr 0x200020)")
        try assertLoadError(img([0x200020, 0x100000, 0, 0, 0]),
                            "kernel.elf: invalid multiboot header_addr 0x200020 (the load address would lie before the file)")
        try assertLoadError(img([0x200020, 0x200000, 0x1FFFFF, 0, 0]),
                            "kernel.elf: invalid multiboot load_end_addr 0x1fffff (below load_addr 0x200000)")
        try assertLoadError(img([0x200020, 0x200000, 0x200040, 0x200030, 0]),
                            "kernel.elf: invalid multiboot bss_end_addr 0x200030 (below the end of the loaded image)")
        try assertLoadError(img([0x200020, 0x200000, 0x200080, 0, 0]),
                            "kernel.elf: multiboot load_end_addr 0x200080 lies past the end of the file")
        try assertLoadError(img([0xFFFF_FFF0, 0xFFFF_FFD0, 0, 0, 0], pad: 0x80),
                            "kernel.elf: kernel does not fit in the 32-bit address space")
        try assertLoadError(img([0x800_0020, 0x800_0000, 0, 0x800_1000, 0]),
                            "kernel.elf: segment 0x8000000 – 0x8001000 lies outside RAM (128 MiB)")
    }

    func testSplitInitrdList() {
        XCTAssertEqual(MultibootLoader.splitInitrdList(""), [])
        XCTAssertEqual(MultibootLoader.splitInitrdList("a"), ["a"])
        XCTAssertEqual(MultibootLoader.splitInitrdList("a,"), ["a"])
        XCTAssertEqual(MultibootLoader.splitInitrdList(",a"), ["", "a"])
        XCTAssertEqual(MultibootLoader.splitInitrdList("a,,b,c d"), ["a,b", "c d"])
        XCTAssertEqual(MultibootLoader.splitInitrdList("a,,,b"), ["a,", "b"])
        XCTAssertEqual(MultibootLoader.fileName(ofModule: "x.img a b"), "x.img")
        XCTAssertEqual(MultibootLoader.fileName(ofModule: "x.img"), "x.img")
    }
}
