// DecodedInstruction: one decoded i686 instruction, the unit the interpreter caches.

/// A decoded instruction: the handler to run plus every operand field the handler needs,
/// resolved once at decode time so that execution never looks at instruction bytes again.
///
/// Memory operands are kept as `base + (index << scale) + disp` where `base` and `index`
/// are register numbers 0–7, or `DecodedInstruction.noRegister` (8), which the CPU maps
/// to a register that always holds zero: the effective address is computed without branches.
@frozen
public struct DecodedInstruction: Sendable {
    /// The handler (named after the SDM operand form, e.g. `addEvGv`).
    public var op: Op
    /// Total length in bytes, prefixes included (1...15).
    public var length: UInt8
    /// Prefix and size attributes: see the `flag…` constants.
    public var flags: UInt8
    /// Segment register of the memory operand (0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS), after overrides.
    public var seg: UInt8
    /// ModRM.reg (or the register encoded in the opcode's low three bits).
    public var reg: UInt8
    /// ModRM.rm when the r/m operand is a register (mod = 3).
    public var rm: UInt8
    /// Base register of the memory operand, or `noRegister`.
    public var base: UInt8
    /// Index register of the memory operand, or `noRegister`.
    public var index: UInt8
    /// Scale shift (0...3) applied to the index.
    public var scale: UInt8
    /// The raw ModRM byte (0 when the instruction has none), for the disassembler.
    public var modrm: UInt8
    /// The opcode: 0x00–0xFF for one-byte opcodes, 0x100 | b for 0F b.
    public var opcode: UInt16
    /// Displacement (sign-extended) of the memory operand, or the relative branch offset.
    public var disp: UInt32
    /// First immediate (sign- or zero-extended as the form says).
    public var imm: UInt32
    /// Second immediate: ENTER's nesting level, a far pointer's selector.
    public var imm2: UInt32

    /// Operand size is 16 bits (0x66 in 32-bit code, or no 0x66 in 16-bit code).
    @inlinable public static var flagO16: UInt8 { 1 << 0 }
    /// Address size is 16 bits.
    @inlinable public static var flagA16: UInt8 { 1 << 1 }
    /// The r/m operand is memory (ModRM.mod != 3), or the instruction accesses memory implicitly.
    @inlinable public static var flagMem: UInt8 { 1 << 2 }
    /// LOCK prefix.
    @inlinable public static var flagLock: UInt8 { 1 << 3 }
    /// REP/REPE prefix (F3).
    @inlinable public static var flagRep: UInt8 { 1 << 4 }
    /// REPNE prefix (F2).
    @inlinable public static var flagRepne: UInt8 { 1 << 5 }
    /// An explicit segment-override prefix was present.
    @inlinable public static var flagSegOverride: UInt8 { 1 << 6 }
    /// The instruction ends a basic block (control transfer, mode change, or may fault by design).
    @inlinable public static var flagEndsBlock: UInt8 { 1 << 7 }

    /// The "no register" number: the CPU keeps a register that always reads zero here.
    @inlinable public static var noRegister: UInt8 { 8 }

    @inline(__always) public var o16: Bool { flags & Self.flagO16 != 0 }
    @inline(__always) public var a16: Bool { flags & Self.flagA16 != 0 }
    @inline(__always) public var isMem: Bool { flags & Self.flagMem != 0 }
    @inline(__always) public var hasRep: Bool { flags & (Self.flagRep | Self.flagRepne) != 0 }
    @inline(__always) public var endsBlock: Bool { flags & Self.flagEndsBlock != 0 }

    public init() {
        op = .ud; length = 0; flags = 0; seg = 3; reg = 0; rm = 0
        base = Self.noRegister; index = Self.noRegister; scale = 0; modrm = 0; opcode = 0
        disp = 0; imm = 0; imm2 = 0
    }
}
