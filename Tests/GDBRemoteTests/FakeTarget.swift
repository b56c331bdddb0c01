// FakeTarget: a tiny GDBTarget for the tests — 16 registers, 64 KiB of memory, a "program" whose step increments eip.
import GDBRemote

/// A machine with 64 KiB of memory at 0 (everything above is unmapped) whose every
/// instruction is one byte long and does one thing: it stores the low byte of eip at
/// `FakeTarget.scratch` (so write watchpoints there trigger on every step). Reaching
/// `exitAddress` or above ends the program with status 7.
final class FakeTarget: GDBTarget {
    static let scratch: UInt32 = 0x2000
    static let exitAddress: UInt32 = 0x8000
    var registers = [UInt32](repeating: 0, count: 16)
    var memory = [UInt8](repeating: 0, count: 0x10000)
    var breakpoints: [GDBBreakpointKind: Set<UInt32>] = [:]
    var watchpoints: [(kind: GDBBreakpointKind, address: UInt32, length: Int)] = []
    var monitorLog: [String] = []
    var steps = 0
    /// When true, `resume` ignores breakpoints and runs until interrupted.
    var spinForever = false
    var interruptPolls = 0

    init() {
        registers[8] = 0x1000         // eip
        registers[4] = 0x9000         // esp
        registers[9] = 0x202          // eflags: IF
        registers[10] = 0x08          // cs
        for seg in 11...15 { registers[seg] = 0x10 }
        for i in 0..<memory.count { memory[i] = UInt8(truncatingIfNeeded: i) }
    }

    func readRegisters() -> [UInt32] { registers }

    func writeRegister(_ index: Int, _ value: UInt32) -> Bool {
        guard registers.indices.contains(index) else { return false }
        registers[index] = value
        return true
    }

    func readMemory(_ address: UInt32, count: Int) -> [UInt8]? {
        let start = Int(address)
        guard start + count <= memory.count else { return nil }
        return Array(memory[start..<(start + count)])
    }

    func writeMemory(_ address: UInt32, _ bytes: [UInt8]) -> Bool {
        let start = Int(address)
        guard start + bytes.count <= memory.count else { return false }
        memory.replaceSubrange(start..<(start + bytes.count), with: bytes)
        return true
    }

    func step() -> GDBStopReason {
        if registers[8] >= Self.exitAddress { return .exited(7) }
        memory[Int(Self.scratch)] = UInt8(truncatingIfNeeded: registers[8])
        registers[8] &+= 1
        steps += 1
        for w in watchpoints where w.kind != .readWatch
            && Self.scratch >= w.address && Self.scratch < w.address &+ UInt32(w.length) {
            return .watchpoint(w.kind, address: w.address)
        }
        return .signal(5)
    }

    func resume(interrupt: () -> Bool) -> GDBStopReason {
        if spinForever {
            while true {
                interruptPolls += 1
                if interrupt() { return .signal(2) }
            }
        }
        var first = true
        while true {
            if !first {
                if breakpoints[.software, default: []].contains(registers[8]) { return .softwareBreakpoint }
                if breakpoints[.hardware, default: []].contains(registers[8]) { return .hardwareBreakpoint }
            }
            first = false
            let reason = step()
            if reason != .signal(5) { return reason }
            if steps % 64 == 0, interrupt() { return .signal(2) }
        }
    }

    func insertBreakpoint(_ kind: GDBBreakpointKind, address: UInt32, length: Int) -> Bool {
        switch kind {
        case .software, .hardware: breakpoints[kind, default: []].insert(address)
        default: watchpoints.append((kind, address, length))
        }
        return true
    }

    func removeBreakpoint(_ kind: GDBBreakpointKind, address: UInt32, length: Int) -> Bool {
        switch kind {
        case .software, .hardware:
            return breakpoints[kind, default: []].remove(address) != nil
        default:
            guard let i = watchpoints.firstIndex(where: { $0.kind == kind && $0.address == address && $0.length == length })
            else { return false }
            watchpoints.remove(at: i)
            return true
        }
    }

    func monitor(_ command: String) -> String {
        monitorLog.append(command)
        return command == "hello" ? "hello from the fake target\n" : "unknown command: \(command)\n"
    }
}
