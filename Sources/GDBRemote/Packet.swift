// Packet: `$body#cs` framing, checksums, `}` escaping, run-length decoding, and a byte-stream parser.

/// Stateless helpers for the remote protocol's packet encoding.
public enum GDBPacket {
    /// The modulo-256 sum of `body`'s bytes, as carried after `#`.
    public static func checksum<C: Collection>(_ body: C) -> UInt8 where C.Element == UInt8 {
        var sum: UInt8 = 0
        for byte in body { sum &+= byte }
        return sum
    }

    /// `$body#cs` with the two-digit lowercase hex checksum. `body` must already be
    /// escaped if it carries binary data (see `escape`).
    public static func frame(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "$")]
        out.reserveCapacity(body.count + 4)
        out.append(contentsOf: body)
        out.append(UInt8(ascii: "#"))
        let cs = checksum(body)
        out.append(hexDigit(cs >> 4))
        out.append(hexDigit(cs & 0xF))
        return out
    }

    /// Escapes binary data: each of `$ # } *` becomes `}` followed by the byte XOR 0x20.
    public static func escape(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        for byte in data {
            switch byte {
            case UInt8(ascii: "$"), UInt8(ascii: "#"), UInt8(ascii: "}"), UInt8(ascii: "*"):
                out.append(UInt8(ascii: "}"))
                out.append(byte ^ 0x20)
            default:
                out.append(byte)
            }
        }
        return out
    }

    /// Undoes `escape`. A trailing lone `}` is dropped (malformed input never traps).
    public static func unescape<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        var escaped = false
        for byte in data {
            if escaped {
                out.append(byte ^ 0x20)
                escaped = false
            } else if byte == UInt8(ascii: "}") {
                escaped = true
            } else {
                out.append(byte)
            }
        }
        return out
    }

    /// Expands run-length encoding: `X*n` stands for X followed by (n − 29) more copies
    /// of X, where n is a printable byte. An escape pair `}y` counts as one unit, so it
    /// is repeated whole and stays escaped (unescaping comes after). A `*` with nothing
    /// to repeat, or a count below 3 (n < ' ' ), is kept literally.
    public static func decodeRunLength(_ data: [UInt8]) -> [UInt8] {
        guard data.contains(UInt8(ascii: "*")) else { return data }
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        var unit: ArraySlice<UInt8> = []   // the last unit copied (1 byte or an escape pair)
        var i = 0
        while i < data.count {
            let byte = data[i]
            if byte == UInt8(ascii: "*"), !unit.isEmpty, i + 1 < data.count, data[i + 1] >= 32 {
                let repeats = Int(data[i + 1]) - 29
                for _ in 0..<max(repeats, 0) { out.append(contentsOf: unit) }
                unit = []
                i += 2
            } else if byte == UInt8(ascii: "}"), i + 1 < data.count {
                unit = data[i...(i + 1)]
                out.append(contentsOf: unit)
                i += 2
            } else {
                unit = data[i...i]
                out.append(byte)
                i += 1
            }
        }
        return out
    }

    /// Lowercase hex digit of the low nibble of `n`.
    @inline(__always)
    static func hexDigit(_ n: UInt8) -> UInt8 {
        let v = n & 0xF
        return v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10
    }

    /// Value of one hex digit (either case), or nil.
    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `bytes` as lowercase hex, two digits each.
    public static func hex<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(hexDigit(b >> 4))
            out.append(hexDigit(b & 0xF))
        }
        return out
    }

    /// Decodes pairs of hex digits; nil on an odd length or a non-hex byte.
    public static func unhex<C: Collection>(_ digits: C) -> [UInt8]? where C.Element == UInt8 {
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var high: UInt8? = nil
        for c in digits {
            guard let v = hexValue(c) else { return nil }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }
}

/// One thing read from gdb's byte stream.
public enum GDBInputEvent: Equatable, Sendable {
    case ack                      // `+`
    case nack                     // `-`: resend the last packet
    case interrupt                // 0x03 outside a packet (Ctrl-C)
    case packet([UInt8])          // a packet with a good checksum: its body, run-length decoded, still escaped
    case badChecksum([UInt8])     // a packet whose checksum did not match (raw body)
}

/// Splits gdb's byte stream into events. Feed it bytes in any chunking; it keeps the
/// partial packet between calls. Bytes outside packets other than `+ - 0x03 $` are
/// ignored; a packet longer than `maxPacket` is truncated (and will fail its checksum).
public struct GDBPacketParser: Sendable {
    enum State: Sendable { case idle, body, checksum1, checksum2 }
    var state = State.idle
    var body: [UInt8] = []
    var sumHigh: UInt8 = 0
    var sumValid = true
    /// Longest body kept, in bytes.
    public var maxPacket: Int

    public init(maxPacket: Int = 1 << 20) { self.maxPacket = maxPacket }

    /// True while in the middle of a packet.
    public var inPacket: Bool { state != .idle }

    /// Consumes one byte; returns an event when one completes.
    public mutating func feed(_ byte: UInt8) -> GDBInputEvent? {
        switch state {
        case .idle:
            switch byte {
            case UInt8(ascii: "+"): return .ack
            case UInt8(ascii: "-"): return .nack
            case 0x03: return .interrupt
            case UInt8(ascii: "$"):
                body.removeAll(keepingCapacity: true)
                state = .body
            default: break
            }
        case .body:
            if byte == UInt8(ascii: "#") {
                state = .checksum1
            } else if byte == UInt8(ascii: "$") {
                body.removeAll(keepingCapacity: true)   // a new start: gdb gave up on the old one
            } else if body.count < maxPacket {
                body.append(byte)
            } else {
                sumValid = false
            }
        case .checksum1:
            sumHigh = GDBPacket.hexValue(byte) ?? 0
            if GDBPacket.hexValue(byte) == nil { sumValid = false }
            state = .checksum2
        case .checksum2:
            state = .idle
            let low = GDBPacket.hexValue(byte)
            let ok = sumValid && low != nil && (sumHigh << 4 | (low ?? 0)) == GDBPacket.checksum(body)
            sumValid = true
            return ok ? .packet(GDBPacket.decodeRunLength(body)) : .badChecksum(body)
        }
        return nil
    }

    /// Consumes bytes and returns every completed event in order.
    public mutating func feed<C: Sequence>(_ bytes: C) -> [GDBInputEvent] where C.Element == UInt8 {
        var events: [GDBInputEvent] = []
        for b in bytes { if let e = feed(b) { events.append(e) } }
        return events
    }
}
