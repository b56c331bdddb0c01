// Disasm: `swift86 disasm FILE.elf [SYMBOL|ADDR [COUNT]]`.
import PCMachine
import X86Decoder

/// Disassemble an ELF file's executable sections (or one symbol / address range).
func disasmCommand(_ args: [String]) throws -> Int32 {
    throw UsageError("swift86 disasm: not available yet")
}
