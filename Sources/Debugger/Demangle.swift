// Demangle: readable names for Embedded Swift symbols, through swift-demangle when present.
#if canImport(Glibc)
import Glibc
#endif
import PCMachine

extension Debugger {
    /// Where swift-demangle lives (the toolchain, or PATH), or nil.
    static let demanglerPath: String? = {
        var dirs = ["/opt/swift/usr/bin"]
        if let p = getenv("PATH") { dirs += String(cString: p).split(separator: ":").map(String.init) }
        return dirs.map { $0 + "/swift-demangle" }.first { access($0, X_OK) == 0 }
    }()

    /// Demangle every Swift symbol of `images` in one swift-demangle run; an empty map
    /// when the tool is missing (names then print mangled).
    static func demangleAll(_ images: [ELFImage]) -> [String: String] {
        guard let tool = demanglerPath else { return [:] }
        let names = Array(Set(images.flatMap { $0.symbols.map(\.name) }.filter { $0.hasPrefix("$s") || $0.hasPrefix("$e") })).sorted()
        if names.isEmpty { return [:] }
        var template = Array("/tmp/swift86-symbols-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { return [:] }
        let path = String(cString: template)
        defer { unlink(path) }
        let text = names.joined(separator: "\n") + "\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        guard let p = popen("'\(tool)' --simplified --compact < '\(path)'", "r") else { return [:] }
        var out: [String: String] = [:]
        var buf = [CChar](repeating: 0, count: 4096)
        var i = 0
        while i < names.count, fgets(&buf, 4096, p) != nil {
            var line = String(cString: buf)
            if line.hasSuffix("\n") { line.removeLast() }
            if !line.isEmpty && line != names[i] { out[names[i]] = line }
            i += 1
        }
        pclose(p)
        return out
    }

    /// The readable form of a symbol name (itself when not a Swift name).
    func readable(_ name: String) -> String {
        if demangled == nil {
            demangled = Debugger.demangleAll((machine.boot?.elf.map { [$0] } ?? []) + extraSymbols)
        }
        return demangled?[name] ?? name
    }
}
