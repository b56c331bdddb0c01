// Disasm: `swift86 disasm FILE.elf [SYMBOL|ADDR [COUNT]]`, in the layout of llvm-objdump -d.
import PCMachine
import X86CPU
import X86Decoder
#if canImport(Glibc)
import Glibc
#endif

/// Disassemble an ELF file: every executable section, one symbol, or COUNT instructions
/// from an address. Output reads like `llvm-objdump -d` (AT&T syntax).
func disasmCommand(_ args: [String]) throws -> Int32 {
    guard let path = args.first else { throw UsageError("swift86 disasm: no file given\n" + usage) }
    guard args.count <= 3 else { throw UsageError("swift86 disasm: too many arguments\n" + usage) }
    let bytes = try Machine.readFile(path)
    let elf = try ELFImage(bytes: bytes, fileName: path)
    let names: (UInt32) -> String? = { a in
        guard let (sym, off) = elf.symbolize(a) else { return nil }
        return off == 0 ? sym.name : "\(sym.name)+0x\(String(off, radix: 16))"
    }
    let exec = elf.sections.filter { $0.flags & 4 != 0 && $0.type != 8 && $0.size > 0 }

    /// The file bytes of `count` bytes at virtual address `addr`, if a section holds them.
    func bytesAt(_ addr: UInt32, _ count: UInt32) -> [UInt8]? {
        for s in elf.sections where s.flags & 2 != 0 && s.type != 8 {
            if addr >= s.addr && UInt64(addr) < UInt64(s.addr) + UInt64(s.size) {
                let n = min(UInt64(count), UInt64(s.addr) + UInt64(s.size) - UInt64(addr))
                let start = UInt64(s.offset) + UInt64(addr - s.addr)
                guard start + n <= UInt64(bytes.count) else { return nil }
                return Array(bytes[Int(start)..<Int(start + n)])
            }
        }
        return nil
    }

    func printLines(_ lines: [Disassembler.Line]) {
        for l in lines {
            if let (sym, off) = elf.symbolize(l.address), off == 0, sym.isAddress, !sym.name.isEmpty {
                print("\n\(hex8(l.address)) <\(sym.name)>:")
            }
            let hexBytes = l.bytes.map { hex2($0) }.joined(separator: " ")
            let pad = String(repeating: " ", count: max(1, 21 - hexBytes.count))
            print(String(repeating: " ", count: max(0, 8 - String(l.address, radix: 16).count))
                  + String(l.address, radix: 16) + ": " + hexBytes + pad + l.text)
        }
    }

    print("\n\(path):\tfile format elf32-i386")
    if args.count == 1 {
        for s in exec {
            print("\nDisassembly of section \(s.name):")
            guard let b = bytesAt(s.addr, s.size) else { continue }
            printLines(Disassembler.disassemble(b, at: s.addr, symbolize: names))
        }
        return 0
    }
    var start: UInt32
    var length: UInt32
    var maxLines = Int.max
    if let sym = elf.symbol(named: args[1]) {
        start = sym.value
        length = sym.size
        if length == 0 {
            // an assembler label: up to the next symbol
            let next = elf.symbols.filter { $0.isAddress && $0.value > start }.map(\.value).min() ?? start &+ 64
            length = next &- start
        }
    } else if let a = parseNumber(args[1]), a <= 0xFFFF_FFFF {
        start = UInt32(a)
        length = 16 * 64
        maxLines = 20
    } else {
        throw UsageError("swift86 disasm: \(args[1]) is neither a symbol of \(path) nor an address")
    }
    if args.count == 3 {
        guard let n = parseNumber(args[2]), n > 0, n < 1_000_000 else { throw UsageError("swift86 disasm: bad count '\(args[2])'") }
        maxLines = Int(n)
        length = max(length, UInt32(n) * 15)
    }
    guard let b = bytesAt(start, length) else {
        throw UsageError("swift86 disasm: no section of \(path) holds address 0x\(String(start, radix: 16))")
    }
    print("\nDisassembly at 0x\(String(start, radix: 16))" + (names(start).map { " <\($0)>" } ?? "") + ":")
    printLines(Array(Disassembler.disassemble(b, at: start, symbolize: names).prefix(maxLines)))
    return 0
}

func hex8(_ v: UInt32) -> String { hex(v, 8) }
func hex2(_ v: UInt8) -> String { hex(v, 2) }

