// Commands: the debugger's command language (gdb and Bochs names) — one line in, text out.
import PCMachine
import X86CPU
import X86Decoder

extension Debugger {
    /// One command's help: name(s), usage, one-line description.
    struct Help { let names: [String]; let usage: String; let text: String }

    static let help: [Help] = [
        Help(names: ["stepi", "si", "step", "s"], usage: "stepi [N]", text: "execute N instructions (default 1)"),
        Help(names: ["next", "n", "nexti", "ni"], usage: "next", text: "step over a call"),
        Help(names: ["continue", "c"], usage: "continue", text: "run until a breakpoint, watchpoint, catchpoint or Ctrl-C"),
        Help(names: ["until"], usage: "until ADDR", text: "run until ADDR is about to execute"),
        Help(names: ["finish"], usage: "finish", text: "run until the current function returns ([EBP+4])"),
        Help(names: ["run-to"], usage: "run-to COUNT", text: "run until exactly COUNT instructions have retired"),
        Help(names: ["break", "b"], usage: "break ADDR|SYMBOL [if $reg==V]", text: "breakpoint on a virtual (CS-relative) address"),
        Help(names: ["lbreak"], usage: "lbreak ADDR", text: "breakpoint on a linear address"),
        Help(names: ["pbreak"], usage: "pbreak ADDR", text: "breakpoint on a physical address, hit through any mapping"),
        Help(names: ["watch", "rwatch", "awatch"], usage: "watch ADDR [LEN]", text: "stop on a write (watch), read (rwatch) or any access (awatch) of linear ADDR"),
        Help(names: ["pwatch"], usage: "pwatch ADDR [LEN]", text: "stop on a write to physical ADDR through any alias"),
        Help(names: ["delete", "d"], usage: "delete [N]", text: "delete breakpoint/watchpoint N, or all"),
        Help(names: ["catch"], usage: "catch vector N|pf|gp|... [if $err==7] | catch syscall [N] | catch cr3 | catch off", text: "stop when an exception/interrupt is delivered (or CR3 is written)"),
        Help(names: ["irq"], usage: "irq N", text: "raise PIC line N (0-15) now, as a device edge would: a timer tick (0) or disk interrupt (14) at a point of your choosing; replayed by reverse execution"),
        Help(names: ["dump"], usage: "dump FILE ADDR LEN", text: "write LEN bytes of virtual memory at ADDR to FILE"),
        Help(names: ["log"], usage: "log int,mmu|off", text: "print exceptions/interrupts and MMU events as they happen"),
        Help(names: ["trace"], usage: "trace on [FILE] | trace off", text: "print every executed instruction (to FILE)"),
        Help(names: ["info"], usage: "info registers|breakpoints|gdt|idt|ldt|tss|eflags|tab [CR3]", text: "show state"),
        Help(names: ["sreg"], usage: "sreg", text: "segment selectors and their descriptor caches"),
        Help(names: ["creg"], usage: "creg", text: "CR0, CR2, CR3, CR4 with flag names"),
        Help(names: ["x"], usage: "x/NFU ADDR", text: "examine virtual memory (F: x d u c i; U: b h w) — no side effects"),
        Help(names: ["xp"], usage: "xp/NFU ADDR", text: "examine physical memory"),
        Help(names: ["set"], usage: "set $reg = V | set *ADDR = V", text: "change a register or a dword of memory"),
        Help(names: ["page"], usage: "page VA", text: "walk the page tables for VA: PDE, PTE, flags, physical address"),
        Help(names: ["tlb"], usage: "tlb [ADDR]", text: "list the emulated TLB entries (or the one for ADDR's page)"),
        Help(names: ["map"], usage: "map [CR3] [--svg FILE] [--high-memory ADDR]", text: "draw the 4 GiB address space (user, direct map, vmalloc, pkmap, fixmap); --svg writes a picture"),
        Help(names: ["disas", "disassemble"], usage: "disas [ADDR [N]]", text: "disassemble N instructions (default 10) at ADDR (default EIP)"),
        Help(names: ["bt", "backtrace"], usage: "bt", text: "backtrace through frame pointers"),
        Help(names: ["add-symbol-file"], usage: "add-symbol-file FILE", text: "load symbols of a user program"),
        Help(names: ["snapshot"], usage: "snapshot save|load|list NAME", text: "save or restore the whole machine"),
        Help(names: ["reverse-stepi", "rsi"], usage: "reverse-stepi [N]", text: "go back N instructions (snapshot + deterministic re-execution)"),
        Help(names: ["reverse-continue", "rc"], usage: "reverse-continue", text: "go back to the previous breakpoint/watchpoint/catchpoint stop"),
        Help(names: ["help", "h"], usage: "help [COMMAND]", text: "this list, or one command's help"),
        Help(names: ["quit", "q"], usage: "quit", text: "leave the debugger"),
    ]

    /// Run one command line and return its output (possibly empty). `quit` returns "quit".
    public func execute(_ raw: String) -> String {
        let line = raw.trimmed()
        if line.isEmpty || line.hasPrefix("#") { return "" }
        var words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        var cmd = words.removeFirst()
        var format = ""
        if let slash = cmd.firstIndex(of: "/") {
            format = String(cmd[cmd.index(after: slash)...])
            cmd = String(cmd[..<slash])
        }
        let arg = words.joined(separator: " ")
        switch cmd {
        case "stepi", "si", "step", "s":
            let n = words.first.flatMap { Int($0) } ?? 1
            return describe(stepInstructions(n))
        case "next", "n", "nexti", "ni": return describe(next())
        case "continue", "c": return describe(resume())
        case "until", "u":
            guard let a = evaluate(arg) else { return "until: bad address '\(arg)'" }
            return describe(runUntil(linear: cpu.segmentCache(.cs).base &+ a))
        case "finish": return describe(finish())
        case "run-to":
            guard let n = UInt64(arg), n >= cpu.icount else { return "run-to: give an instruction count ≥ \(cpu.icount)" }
            return describe(resume(untilCount: n))
        case "break", "b", "lbreak", "pbreak":
            var expr = arg, cond: String?
            if let r = arg.components(separatedBy: " if ").dropFirst().first {
                expr = arg.components(separatedBy: " if ")[0]; cond = r
            }
            guard let a = evaluate(expr) else { return "\(cmd): bad address '\(expr)'" }
            let kind: Breakpoint.Kind = cmd == "lbreak" ? .linear : (cmd == "pbreak" ? .physical : .virtual)
            let id = addBreakpoint(kind, a, condition: cond)
            return "Breakpoint \(id) (\(kind.rawValue)) at 0x\(hex(a, 8))" + (symbolize(a).map { " <\($0)>" } ?? "")
                + (cond.map { " if \($0)" } ?? "")
        case "watch", "rwatch", "awatch", "pwatch":
            guard let a = words.first.flatMap({ evaluate($0) }) else { return "\(cmd): bad address '\(arg)'" }
            let len = words.count > 1 ? (evaluate(words[1]) ?? 4) : 4
            let access = Watchpoint.Access(rawValue: cmd)!
            let lin = access == .physical ? a : cpu.segmentCache(.ds).base &+ a
            let id = addWatchpoint(access, lin, length: len)
            return "Watchpoint \(id) (\(cmd)) on \(access == .physical ? "physical" : "linear") 0x\(hex(lin, 8)), \(len) bytes"
        case "delete", "d":
            if arg.isEmpty { delete(nil); return "Deleted all breakpoints and watchpoints" }
            guard let n = Int(arg), delete(n) else { return "delete: no breakpoint or watchpoint \(arg)" }
            return "Deleted \(n)"
        case "catch":
            return catchCommand(words)
        case "info", "i":
            return info(words)
        case "sreg": return segmentRegisters()
        case "creg": return controlRegisters()
        case "x", "xp": return examine(format, arg, physical: cmd == "xp")
        case "set": return setCommand(arg)
        case "page": 
            guard let a = evaluate(arg) else { return "page: bad address '\(arg)'" }
            return pageWalk(a)
        case "tlb": return tlbListing(page: words.first.flatMap { evaluate($0) })
        case "irq":
            guard let n = words.first.flatMap({ evaluate($0) }), n < 16, words.count == 1 else { return "usage: irq N (a PIC line, 0-15)" }
            machine.injectIRQ(Int(n))
            let masked = machine.bus.pic.isMasked(irq: Int(n))
            return "IRQ \(n) raised at instruction \(cpu.icount)" + (masked ? " (masked at the PIC: it stays pending)"
                : cpu.eflags & 0x200 == 0 ? " (IF=0: delivered once the guest sets IF)" : "")
        case "map": return mapCommand(words)
        case "disas", "disassemble":
            let a = words.first.flatMap { evaluate($0) } ?? cpu.eip
            let n = words.count > 1 ? Int(words[1]) ?? 10 : 10
            return disassemble(a, count: n)
        case "bt", "backtrace", "where": return backtrace()
        case "add-symbol-file":
            guard let bytes = try? Machine.readFile(arg) else { return "add-symbol-file: cannot read \(arg)" }
            do { addSymbols(try ELFImage(bytes: bytes, fileName: arg)); return "Symbols from \(arg) added" }
            catch { return "add-symbol-file: \(error)" }
        case "help", "h":
            if let w = words.first, let h = Debugger.help.first(where: { $0.names.contains(w) }) {
                return "\(h.usage)\n  \(h.text)"
            }
            return Debugger.help.map { "  \($0.usage.padded(44)) \($0.text)" }.joined(separator: "\n")
        case "dump":
            guard words.count == 3, let a = evaluate(words[1]), let n = evaluate(words[2]), n <= 1 << 30 else {
                return "dump FILE ADDR LEN"
            }
            let bytes = cpu.peekLinear(cpu.segmentCache(.ds).base &+ a, count: Int(n))
            guard let first = bytes.firstIndex(where: { $0 == nil }) ?? Optional(bytes.count), first == bytes.count else {
                return "dump: 0x\(hex(a &+ UInt32(bytes.firstIndex(where: { $0 == nil })!), 8)) is not mapped"
            }
            guard let f = fopen(words[0], "wb") else { return "dump: cannot write \(words[0])" }
            let data = bytes.map { $0! }
            _ = data.withUnsafeBytes { fwrite($0.baseAddress, 1, data.count, f) }
            fclose(f)
            return "Wrote \(n) bytes from 0x\(hex(a, 8)) to \(words[0])"
        case "log":
            let items = Set(arg.split(separator: ",").map { String($0).trimmed() })
            logInterrupts = items.contains("int"); logMMU = items.contains("mmu")
            return "logging: " + ([logInterrupts ? "int" : nil, logMMU ? "mmu" : nil].compactMap { $0 }.joined(separator: ",") + (items.contains("off") || items.isEmpty ? "off" : ""))
        case "trace":
            if let t = traceSink, t != stdout { fclose(t) }
            traceSink = nil
            if words.first == "on" {
                if words.count > 1 {
                    guard let f = fopen(words[1], "w") else { return "trace: cannot write \(words[1])" }
                    traceSink = f
                } else { traceSink = stdout }
            }
            installHooks()
            return traceSink == nil ? "trace off" : "trace on" + (words.count > 1 ? " (\(words[1]))" : "")
        case "snapshot", "reverse-stepi", "rsi", "reverse-continue", "rc": return reverseCommand(cmd, words)
        case "quit", "q", "exit": return "quit"
        default:
            return "Undefined command: \"\(cmd)\".  Try \"help\"."
        }
    }

    // MARK: stops

    /// One line describing where and why the guest stopped, then the next instruction.
    public func describe(_ stop: DebugStop) -> String {
        var s: String
        switch stop {
        case .stepped: s = ""
        case .breakpoint(let id, _): s = "Breakpoint \(id) hit\n"
        case .watchpoint(let id, let lin, let pa, let w):
            s = "Watchpoint \(id): \(w ? "write" : "read") at linear 0x\(hex(lin, 8)) (physical 0x\(hex(pa, 8)))\n"
        case .caughtVector(let v, let ec, let cr2, let cs, let eip, let cpl):
            s = "Caught vector \(v) (\(v < 32 ? Fault.name(v) : "interrupt"))"
            if let e = ec { s += " error code 0x\(hex(e, 4))" + (v == 14 ? " [\(pfErrorText(e))]" : "") }
            if v == 14 { s += " CR2=0x\(hex(cr2, 8))" }
            s += " at \(hex(cs, 4)):\(hex(eip, 8))" + (symbolize(eip).map { " <\($0)>" } ?? "") + " CPL \(cpl)\n"
        case .caughtCR3(let v): s = "Caught CR3 write: CR3=0x\(hex(v, 8))\n"
        case .caughtSyscall(let n, let eip): s = "Caught system call \(n) (EAX) from 0x\(hex(eip, 8))\n"
        case .interrupted: s = "Interrupted\n"
        case .reachedCount(let n): s = "Reached instruction count \(n)\n"
        case .exited(let e):
            return "The machine stopped (exit status \(e.status)): \(e)"
        }
        return s + currentLine()
    }

    /// "icount N  CS:EIP <sym>:  bytes  text"
    public func currentLine() -> String {
        let lin = cpu.segmentCache(.cs).base &+ cpu.eip
        let bytes = cpu.peekLinear(lin, count: 15)
        let known = bytes.prefix { $0 != nil }.map { $0! }
        let text = known.isEmpty ? "(not mapped)" : (Disassembler.disassemble(known, at: cpu.eip).first?.text ?? "(bad)")
        return "(\(cpu.icount)) \(hex(cpu.selector(.cs), 4)):\(hex(cpu.eip, 8))"
            + (symbolize(cpu.eip).map { " <\($0)>" } ?? "") + ": \(text)"
    }

    func pfErrorText(_ e: UInt32) -> String {
        [(e & 1 != 0 ? "P" : "not-present"), (e & 2 != 0 ? "W" : "R"), (e & 4 != 0 ? "U" : "S")]
            .joined(separator: " ") + (e & 8 != 0 ? " RSVD" : "")
    }

    func catchCommand(_ w: [String]) -> String {
        guard let what = w.first else {
            return "catching: " + (caughtVectors.isEmpty ? "no vectors" : caughtVectors.sorted().map { "\($0)" }.joined(separator: " "))
                + (catchCR3 ? ", cr3" : "")
        }
        if what == "cr3" { catchCR3 = true; return "Catching CR3 writes" }
        if what == "syscall" {
            let nums = w.dropFirst().compactMap { evaluate($0) }
            caughtSyscalls = Set(nums)
            return nums.isEmpty ? "Catching every system call (INT 0x80)" : "Catching system calls " + nums.map { "\($0)" }.joined(separator: " ")
        }
        if what == "off" { caughtVectors = []; catchCR3 = false; caughtSyscalls = nil; return "Catchpoints removed" }
        var w = w
        var condition: String?
        if let i = w.firstIndex(of: "if") { condition = w[(i + 1)...].joined(separator: " "); w = Array(w[..<i]) }
        let spec = what == "vector" ? (w.count > 1 ? w[1] : "") : what
        let names: [String: UInt8] = ["de": 0, "db": 1, "bp": 3, "of": 4, "br": 5, "ud": 6, "nm": 7, "df": 8,
                                      "ts": 10, "np": 11, "ss": 12, "gp": 13, "pf": 14, "mf": 16, "ac": 17]
        if spec == "all" { for v in 0..<32 { caughtVectors.insert(UInt8(v)) }; return "Catching vectors 0-31" }
        if let v = names[spec.lowercased()] ?? UInt8(spec) ?? (spec.hasPrefix("0x") ? UInt8(spec.dropFirst(2), radix: 16) : nil) {
            caughtVectors.insert(v)
            catchConditions[v] = condition
            return "Catching vector \(v) (\(v < 32 ? Fault.name(v) : "interrupt"))" + (condition.map { " if \($0)" } ?? "")
        }
        return "catch: unknown vector '\(spec)'"
    }
}

#if canImport(Glibc)
import Glibc
#endif
