// Reverse: named snapshots, and reverse-stepi / reverse-continue by restoring a snapshot
// and re-executing deterministically to the wanted instruction count.
import PCMachine
import X86CPU

extension Debugger {
    /// Save the machine under `name`.
    public func saveSnapshot(_ name: String) -> MachineSnapshot {
        let s = machine.saveSnapshot()
        snapshots[name] = s
        return s
    }

    /// Restore the snapshot `name`; false if there is none.
    @discardableResult
    public func loadSnapshot(_ name: String) -> Bool {
        guard let s = snapshots[name] else { return false }
        restore(s)
        return true
    }

    func restore(_ s: MachineSnapshot) {
        machine.restoreSnapshot(s)
        exited = nil
        pendingStop = nil
    }

    /// The latest automatic checkpoint (or the origin) at or before instruction `count`.
    func checkpoint(atOrBefore count: UInt64) -> MachineSnapshot? {
        ([origin].compactMap { $0 } + checkpoints).filter { $0.icount <= count }.max { $0.icount < $1.icount }
    }

    /// Run forward to exactly `count` instructions with every breakpoint, watchpoint and
    /// catchpoint off (re-execution of a run already seen).
    func replay(to count: UInt64) {
        let (b, w, c, cr3) = (breakpoints, watchpoints, caughtVectors, catchCR3)
        breakpoints = []; watchpoints = []; caughtVectors = []; catchCR3 = false
        installHooks()
        while cpu.icount < count {
            if machine.step(maxSlice: count - cpu.icount) != nil { break }
        }
        breakpoints = b; watchpoints = w; caughtVectors = c; catchCR3 = cr3
        installHooks()
        pendingStop = nil
    }

    /// Go back one instruction.
    public func reverseStep() -> DebugStop {
        let now = cpu.icount
        guard now > 0, let cp = checkpoint(atOrBefore: now - 1) else { return .reachedCount(now) }
        restore(cp)
        replay(to: now - 1)
        return .stepped
    }

    /// Go back to the most recent stop (breakpoint, watchpoint, catchpoint) before the
    /// current instruction count, or to the start when there was none.
    public func reverseContinue() -> DebugStop {
        let now = cpu.icount
        guard let start = origin else { return .reachedCount(now) }
        restore(start)
        var last: (UInt64, UInt32, DebugStop)?
        while cpu.icount < now {
            let s = resume(untilCount: now)
            switch s {
            case .reachedCount, .exited, .interrupted: break
            default:
                if cpu.icount < now { last = (cpu.icount, cpu.eip, s) }
                continue
            }
            break
        }
        restore(start)
        guard let (k, eip, stop) = last else { return .reachedCount(cpu.icount) }
        replay(to: k)
        if cpu.eip != eip {
            // the stop came while delivering an exception or interrupt at this count:
            // run into it again with every stop condition on
            _ = resume(untilCount: k + 1, skipFirst: false)
        }
        return stop
    }

    /// `snapshot save|load|list NAME`, `reverse-stepi`, `reverse-continue`.
    func reverseCommand(_ cmd: String, _ w: [String]) -> String {
        switch cmd {
        case "snapshot":
            guard let sub = w.first else { return "snapshot save|load|list NAME" }
            switch sub {
            case "save":
                guard w.count > 1 else { return "snapshot save NAME" }
                let s = saveSnapshot(w[1])
                let n = s.diskBytes / 512
                let disk = n > 0 ? ", \(n) written disk sector\(n == 1 ? "" : "s")" : ""
                return "Snapshot \(w[1]) saved at instruction \(s.icount) (\(s.memoryBytes >> 10) KiB of RAM\(disk))"
            case "load":
                guard w.count > 1, loadSnapshot(w[1]) else { return "snapshot: no snapshot '\(w.count > 1 ? w[1] : "")'" }
                return "Snapshot \(w[1]) loaded\n" + currentLine()
            case "list":
                if snapshots.isEmpty { return "no snapshots" }
                return snapshots.sorted { $0.key < $1.key }.map { "\($0.key): instruction \($0.value.icount)" }.joined(separator: "\n")
            default: return "snapshot save|load|list NAME"
            }
        case "reverse-stepi", "rsi":
            let n = w.first.flatMap { Int($0) } ?? 1
            var s = DebugStop.stepped
            for _ in 0..<max(1, n) { s = reverseStep() }
            if case .reachedCount = s { return "Already at the start of the run\n" + currentLine() }
            return currentLine()
        default: // reverse-continue
            let s = reverseContinue()
            if case .reachedCount = s { return "No earlier stop: back at the start of the run\n" + currentLine() }
            return describe(s)
        }
    }
}
