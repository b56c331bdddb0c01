// Snapshot: the whole machine — CPU, RAM, devices, console input — saved and restored.
import X86CPU

/// A complete machine state: restoring it and running on gives exactly the run that
/// followed the save (the machine is deterministic; console input is replayed from the log).
///
/// The ATA disk is included through the bus: its controller state (registers, a PIO
/// transfer in flight, the pending interrupt) and, in `-snapshot` mode, the overlay of
/// written sectors, so a restore gives back exactly the disk the guest saw. A disk that
/// writes through to its file keeps the writes made after the save (only the controller
/// state is restored).
public struct MachineSnapshot: Sendable {
    public let cpu: CPUState
    let memory: MemoryImage
    let bus: IOBus.State
    let pendingInput: [UInt8]
    let inputLogCount: Int
    let irqLogCount: Int
    /// Instruction count at the save.
    public var icount: UInt64 { cpu.icount }
    /// Bytes of RAM held.
    public var memoryBytes: Int { memory.byteCount }
    /// Bytes of written disk sectors held (the `-snapshot` overlay; 0 without a disk or
    /// when writes go to the file). Shared with the running disk until it writes again.
    public var diskBytes: Int { bus.disk?.overlayBytes ?? 0 }
}

extension Machine {
    /// Save the whole machine.
    public func saveSnapshot() -> MachineSnapshot {
        MachineSnapshot(cpu: cpu.saveState(), memory: memory.saveImage(), bus: bus.saveState(),
                        pendingInput: pendingInput, inputLogCount: inputLog.count, irqLogCount: irqLog.count)
    }

    /// Restore a saved machine. Console input received after the save is kept in the
    /// input log and replayed at the same instruction counts when the run passes them
    /// again; so are interrupts injected with `injectIRQ`.
    public func restoreSnapshot(_ s: MachineSnapshot) {
        memory.restoreImage(s.memory)
        cpu.restoreState(s.cpu)
        bus.restoreState(s.bus)
        pendingInput = s.pendingInput
        replayIndex = s.inputLogCount
        irqReplayIndex = min(s.irqLogCount, irqLog.count)
    }
}
