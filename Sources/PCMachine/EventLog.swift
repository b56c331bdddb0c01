// EventLog: the deterministic fault-event stream — CPU exceptions and interrupts, MMU
// events and the guest's own fault classifications — as JSON Lines.
import X86CPU

/// Writes one JSON object per line, in the order events happen, stamped with the
/// instruction count (never host time), so two runs give the same file.
///
/// Sources: every exception and interrupt the CPU delivers; CR3 writes, INVLPG, TLB
/// flushes, failed page walks and double faults; and each line the guest writes to the
/// event port 0x402 (`kind=cow-copy pid=3 addr=0x0804a000 pfn=0x1234`), whose
/// `key=value` words become fields. The same guest channel works on QEMU with
/// `-chardev file,id=ev,path=F -device isa-debugcon,iobase=0x402,chardev=ev`.
public final class EventLog {
    let machine: Machine
    let sink: (String) -> Void
    var guestLine: [UInt8] = []
    /// Events written so far.
    public private(set) var count = 0

    /// Start logging `machine`'s events to `sink` (one JSON line per call). Chains to
    /// hooks already installed (logging, the debugger).
    public init(machine: Machine, sink: @escaping (String) -> Void) {
        self.machine = machine
        self.sink = sink
        let cpu = machine.cpu
        let previousInterrupt = cpu.onInterrupt
        cpu.onInterrupt = { [unowned self] e in
            previousInterrupt?(e)
            var f: [(String, String)] = [("type", Self.str(e.external ? "interrupt" : (e.software ? "software" : "exception"))),
                                         ("vector", "\(e.vector)"), ("name", Self.str(e.external ? "IRQ" : Fault.name(e.vector)))]
            if let ec = e.errorCode { f.append(("error", Self.hexs(ec))) }
            if e.vector == 14 && !e.external { f.append(("cr2", Self.hexs(e.cr2))) }
            f += [("cs", Self.hexs(UInt32(e.cs))), ("eip", Self.hexs(e.eip)), ("cpl", "\(e.cpl)"), ("cr3", Self.hexs(e.cr3))]
            self.emit(e.icount, f)
        }
        let previousMMU = cpu.onMMUEvent
        cpu.onMMUEvent = { [unowned self] m in
            previousMMU?(m)
            let n = self.machine.cpu.icount
            switch m {
            case .cr3Write(let v): self.emit(n, [("type", Self.str("cr3")), ("value", Self.hexs(v))])
            case .invlpg(let a): self.emit(n, [("type", Self.str("invlpg")), ("address", Self.hexs(a))])
            case .tlbFlush(let r, let g): self.emit(n, [("type", Self.str("tlb-flush")), ("reason", Self.str(r)), ("global-kept", g ? "true" : "false")])
            case .walkFault(let l, let e, let c): self.emit(n, [("type", Self.str("walk-fault")), ("address", Self.hexs(l)), ("error", Self.hexs(e)), ("cr3", Self.hexs(c))])
            case .doubleFault(let a, let b): self.emit(n, [("type", Self.str("double-fault")), ("first", "\(a)"), ("second", "\(b)")])
            }
        }
        machine.bus.guestEvents = { [unowned self] b in self.guestByte(b) }
    }

    func guestByte(_ b: UInt8) {
        if b == 10 {
            let text = String(decoding: guestLine, as: UTF8.self)
            guestLine = []
            var f: [(String, String)] = [("type", Self.str("guest"))]
            for word in text.split(separator: " ") {
                if let eq = word.firstIndex(of: "="), eq != word.startIndex {
                    let k = String(word[..<eq]), v = String(word[word.index(after: eq)...])
                    if ["type", "icount"].contains(k) { continue }
                    f.append((k, UInt64(v).map { "\($0)" } ?? Self.str(v)))
                }
            }
            f.append(("text", Self.str(text)))
            emit(machine.cpu.icount, f)
        } else if guestLine.count < 4096 {
            guestLine.append(b)
        }
    }

    func emit(_ icount: UInt64, _ fields: [(String, String)]) {
        count += 1
        sink("{\"icount\":\(icount)," + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
    }

    static func hexs(_ v: UInt32) -> String { "\"0x" + hex(v, 8) + "\"" }

    /// A JSON string literal.
    static func str(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if u.value < 0x20 { out += "\\u00" + hex(u.value, 2) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
