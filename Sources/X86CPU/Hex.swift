// Hex: fixed-width hexadecimal formatting for logs and reports (no Foundation).

/// `v` in lower-case hexadecimal, zero-padded to `width` digits.
public func hex<T: BinaryInteger>(_ v: T, _ width: Int) -> String {
    let s = String(v, radix: 16)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
