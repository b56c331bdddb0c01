// Scenario: `swift86 test [--update] SCENARIO…` — deterministic fault-path regression tests.
import PCMachine
import X86CPU
#if canImport(Glibc)
import Glibc
#endif

/// One scenario file. Line-oriented, `#` comments:
///
///     image build/guest/kernel.elf          # path relative to the current directory
///     ram 1G
///     append init=/bin/sh
///     disk disk.img                         # raw image as the primary master, in -snapshot mode (never written)
///     boot-until "# "                       # snapshot after boot: runs sharing image/ram/append/disk/boot-until start there
///     input "cowdemo\n"                     # console input (\n \t \\ \" escapes)
///     budget 3000000000                     # instruction budget (exceeding it fails)
///     expect-exit 1                         # process exit status (isa-debug-exit (V<<1)|1)
///     expect-line parent: value=42          # an exact console line
///     expect-match child * wrote value=43*  # a console line matching a * glob
///     expect-count kind=cow-copy pid=4 == 16   # events whose fields match, compared (== != >= <= > <)
///     expect-same MemFree:                  # every console line starting so is the same (memory returns)
///     golden cow.events                     # the guest's events, exactly (file next to the scenario)
struct Scenario {
    var path = ""
    var image = "build/guest/kernel.elf"
    var ram: UInt64 = 128 << 20
    var append = ""
    /// Raw disk image (primary master), writes kept in memory; nil: no disk.
    var disk: String?
    var bootUntil: String?
    var input: [UInt8] = []
    var budget: UInt64 = 2_000_000_000
    var expectExit: Int32?
    var lines: [String] = []
    var matches: [String] = []
    var counts: [(fields: [(String, String)], op: String, value: Int, text: String)] = []
    var same: [String] = []
    var golden: String?

    /// Parse a scenario file; errors name the file and line.
    static func parse(_ path: String) throws -> Scenario {
        let text = String(decoding: try Machine.readFile(path), as: UTF8.self)
        var s = Scenario()
        s.path = path
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let key = String(line.prefix { $0 != " " })
            let rest = String(line.dropFirst(key.count)).trimmingSpaces()
            func fail(_ why: String) -> UsageError { UsageError("\(path):\(n + 1): \(why)") }
            switch key {
            case "image": s.image = rest
            case "ram": s.ram = try parseSize(rest)
            case "append": s.append = rest
            case "disk": guard !rest.isEmpty else { throw fail("disk FILE") }; s.disk = rest
            case "boot-until": s.bootUntil = unquote(rest)
            case "input": s.input += Array(unquote(rest).utf8)
            case "budget": guard let v = parseNumber(rest) else { throw fail("bad budget") }; s.budget = v
            case "expect-exit": guard let v = Int32(rest) else { throw fail("bad exit status") }; s.expectExit = v
            case "expect-line": s.lines.append(rest)
            case "expect-match": s.matches.append(rest)
            case "expect-same": s.same.append(rest)
            case "golden": s.golden = rest
            case "expect-count":
                let words = rest.split(separator: " ").map(String.init)
                guard words.count >= 3, let v = Int(words[words.count - 1]),
                      ["==", "!=", ">=", "<=", ">", "<"].contains(words[words.count - 2]) else {
                    throw fail("expect-count FIELD=VALUE… OP N")
                }
                let fields = words.dropLast(2).compactMap { w -> (String, String)? in
                    guard let eq = w.firstIndex(of: "=") else { return nil }
                    return (String(w[..<eq]), String(w[w.index(after: eq)...]))
                }
                s.counts.append((fields, words[words.count - 2], v, rest))
            default: throw fail("unknown directive '\(key)'")
            }
        }
        return s
    }

    /// `"a\nb"` → a, newline, b (also plain text without quotes).
    static func unquote(_ s: String) -> String {
        var t = Substring(s)
        if t.hasPrefix("\"") && t.hasSuffix("\"") && t.count >= 2 { t = t.dropFirst().dropLast() }
        var out = "", esc = false
        for ch in t {
            if esc {
                switch ch { case "n": out.append("\n"); case "t": out.append("\t"); default: out.append(ch) }
                esc = false
            } else if ch == "\\" { esc = true } else { out.append(ch) }
        }
        return out
    }
}

/// What one run produced.
struct ScenarioRun {
    var console: String
    var events: [String]
    var status: Int32
    var icount: UInt64
    var note: String?
}

/// Glob match with `*` (any run of characters).
func globMatch(_ pattern: Substring, _ text: Substring) -> Bool {
    guard let star = pattern.firstIndex(of: "*") else { return pattern == text }
    let head = pattern[..<star], tail = pattern[pattern.index(after: star)...]
    guard text.hasPrefix(head) else { return false }
    var rest = text.dropFirst(head.count)
    while true {
        if globMatch(tail, rest) { return true }
        if rest.isEmpty { return false }
        rest = rest.dropFirst()
    }
}

/// True when the JSON event line has every `key=value` (value compared as a JSON number or string).
func eventMatches(_ line: String, _ fields: [(String, String)]) -> Bool {
    fields.allSatisfy { k, v in
        line.contains("\"\(k)\":\(v),") || line.contains("\"\(k)\":\(v)}") || line.contains("\"\(k)\":\"\(v)\"")
    }
}

/// `swift86 test [--update] SCENARIO…`: run each scenario, check it, print a summary.
func testCommand(_ args: [String]) throws -> Int32 {
    var update = false
    var files: [String] = []
    for a in args {
        if a == "--update" { update = true } else if a.hasPrefix("-") { throw UsageError("swift86 test: unknown option '\(a)'") } else { files.append(a) }
    }
    guard !files.isEmpty else { throw UsageError("swift86 test: no scenario files given") }
    let scenarios = try files.map { try Scenario.parse($0) }
    var snapshots: [String: (Machine, MachineSnapshot, EventLogBox, String, Int)] = [:]
    var failures = 0
    let t0 = now()
    for s in scenarios {
        let problems = try runScenario(s, update: update, snapshots: &snapshots)
        if problems.isEmpty {
            print("PASS \(s.path)")
        } else {
            failures += 1
            print("FAIL \(s.path)")
            for p in problems { print("  " + p.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")) }
        }
    }
    for (_, group) in snapshots { unlink(group.3) }          // the captured console files
    let secs = ((now() - t0) * 100).rounded() / 100
    print("\(scenarios.count - failures) passed, \(failures) failed (\(scenarios.count) scenarios in \(secs) s)")
    return failures == 0 ? 0 : 1
}

/// The event sink of a machine kept for a snapshot group (its lines are reset per run).
final class EventLogBox { var lines: [String] = []; var log: EventLog? }

/// Run one scenario (from a shared post-boot snapshot when it has `boot-until`) and
/// return the list of failed expectations (empty: pass).
func runScenario(_ s: Scenario, update: Bool,
                 snapshots: inout [String: (Machine, MachineSnapshot, EventLogBox, String, Int)]) throws -> [String] {
    var machine: Machine
    let box: EventLogBox
    var consolePath: String
    var consoleStart = 0
    // everything the boot depends on: scenarios agreeing on all of it share the post-boot snapshot
    let key = "\(s.image)|\(s.ram)|\(s.append)|\(s.disk ?? "")|\(s.bootUntil ?? "")"
    if let until = s.bootUntil, let (m, snap, b, path, offset) = snapshots[key] {
        machine = m; box = b; consolePath = path; consoleStart = offset
        machine.restoreSnapshot(snap)
        b.lines = []
        _ = until
    } else {
        var config = Machine.Config()
        config.ramSize = s.ram
        config.commandLine = s.append
        // snapshot mode: the file is opened read-only; the written sectors live in the
        // machine (and in its snapshots), so every scenario starts from the same disk
        if let d = s.disk { config.disk = Machine.DiskConfig(path: d, snapshot: true) }
        consolePath = "/tmp/swift86-scenario-\(getpid())-\(snapshots.count).out"
        config.serial = .capture(consolePath)
        machine = try Machine(config: config)
        box = EventLogBox()
        box.log = EventLog(machine: machine) { [box] in box.lines.append($0) }
        try machine.load(kernelPath: s.image)
        if let until = s.bootUntil {
            // boot once to the marker, snapshot, share it with every scenario of this configuration
            var out = ""
            while !out.hasSuffix(until) {
                if let e = machine.step(maxSlice: 1_000_000) { return ["boot ended before \"\(until)\": \(e)"] }
                if machine.cpu.icount > s.budget { return ["boot did not reach \"\(until)\" within the budget"] }
                machine.terminal.flush()
                out = String(decoding: (try? Machine.readFile(consolePath)) ?? [], as: UTF8.self)
            }
            consoleStart = out.utf8.count
            let snap = machine.saveSnapshot()
            snapshots[key] = (machine, snap, box, consolePath, consoleStart)
            box.lines = []
        }
    }
    machine.terminal.flush()
    let preexisting = (try? Machine.readFile(consolePath))?.count ?? 0
    let startCount = machine.cpu.icount
    if !s.input.isEmpty { machine.feedInput(s.input) }
    var exit: MachineExit?
    while exit == nil {
        exit = machine.step(maxSlice: 10_000_000)
        if machine.cpu.icount - startCount > s.budget { break }
    }
    machine.terminal.flush()
    let all = (try? Machine.readFile(consolePath)) ?? []
    // with a shared snapshot, the console file keeps growing: this run's output starts after the boot part
    let from = s.bootUntil != nil ? max(consoleStart, min(preexisting, all.count)) : 0
    let console = String(decoding: all[min(from, all.count)...], as: UTF8.self)
    if s.bootUntil != nil {
        // rewind the shared console file to the snapshot's output for the next scenario
        truncate(consolePath, off_t(consoleStart))
    } else {
        unlink(consolePath)                                  // not shared: done with it
    }
    var problems: [String] = []
    // split on bytes: "\r\n" is one Character in Swift, so String.split("\n") would not see it
    let lines = console.utf8.split(separator: 10, omittingEmptySubsequences: false)
        .map { String(decoding: $0.filter { $0 != 13 }, as: UTF8.self) }
    let tail = lines.suffix(12).joined(separator: "\n")
    guard let e = exit else {
        return ["instruction budget \(s.budget) exhausted at icount \(machine.cpu.icount); console ends:\n\(tail)"]
    }
    if let want = s.expectExit, e.status != want { problems.append("exit status \(e.status) (\(e)), expected \(want); console ends:\n\(tail)") }
    for l in s.lines where !lines.contains(l) { problems.append("no console line \"\(l)\"; console ends:\n\(tail)") }
    for m in s.matches where !lines.contains(where: { globMatch(Substring(m), Substring($0)) }) {
        problems.append("no console line matches \"\(m)\"; console ends:\n\(tail)")
    }
    for prefix in s.same {
        let found = Set(lines.filter { $0.hasPrefix(prefix) })
        if found.count > 1 { problems.append("lines starting \"\(prefix)\" differ:\n" + found.sorted().joined(separator: "\n")) }
        if found.isEmpty { problems.append("no line starts \"\(prefix)\"") }
    }
    let events = box.lines
    for c in s.counts {
        let n = events.filter { eventMatches($0, c.fields) }.count
        let ok: Bool
        switch c.op {
        case "==": ok = n == c.value
        case "!=": ok = n != c.value
        case ">=": ok = n >= c.value
        case "<=": ok = n <= c.value
        case ">": ok = n > c.value
        default: ok = n < c.value
        }
        if !ok { problems.append("expect-count \(c.text): found \(n)") }
    }
    if let g = s.golden {
        let dir = s.path.contains("/") ? String(s.path[..<s.path.lastIndex(of: "/")!]) : "."
        let gpath = dir + "/" + g
        // the guest's own classifications, without instruction counts (stable across unrelated changes)
        let got = events.filter { $0.contains("\"type\":\"guest\"") }.map { line -> String in
            guard let comma = line.firstIndex(of: ",") else { return line }
            return "{" + line[line.index(after: comma)...]
        }
        let old = (try? Machine.readFile(gpath)).map { String(decoding: $0, as: UTF8.self) }
        let oldLines = old.map { $0.split(separator: "\n").map(String.init) } ?? []
        if update {
            if oldLines != got {
                let text = got.joined(separator: "\n") + (got.isEmpty ? "" : "\n")
                if let f = fopen(gpath, "w") { fputs(text, f); fclose(f) }
                print("  updated \(gpath): \(oldLines.count) → \(got.count) events" + diffSummary(oldLines, got))
            }
        } else if old == nil {
            problems.append("golden file \(gpath) is missing (run with --update to create it)")
        } else if oldLines != got {
            problems.append("events differ from \(gpath):" + diffSummary(oldLines, got))
        }
    }
    return problems
}

/// The first divergence of two event lists, with context.
func diffSummary(_ a: [String], _ b: [String]) -> String {
    var i = 0
    while i < a.count && i < b.count && a[i] == b[i] { i += 1 }
    if i == a.count && i == b.count { return "" }
    var out = "\n    first difference at event \(i + 1):"
    for k in max(0, i - 2)..<i { out += "\n      " + a[k] }
    for k in i..<min(a.count, i + 3) { out += "\n    - " + a[k] }
    for k in i..<min(b.count, i + 3) { out += "\n    + " + b[k] }
    return out
}
