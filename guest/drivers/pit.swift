// pit.swift: the 8254 timer, channel 0 at HZ as the system tick (IRQ 0), and jiffies.

let PIT_CH0: UInt16 = 0x40           // channel 0 data
let PIT_CMD: UInt16 = 0x43           // mode/command
let PIT_HZ: UInt32 = 1_193_182       // input clock
let HZ: UInt32 = 100                 // ticks per second

/// Timer: the tick count. Never printed: it depends on how fast the host runs.
struct Timer {
    static var jiffies: UInt32 = 0   // IRQ 0 interrupts since pit_init
}

/// pit_init(): channel 0, lobyte/hibyte, mode 2 (rate generator) at HZ; unmask IRQ 0.
func pit_init() {
    let divisor = (PIT_HZ + HZ / 2) / HZ
    outb(PIT_CMD, 0x34)
    outb(PIT_CH0, UInt8(truncatingIfNeeded: divisor))
    outb(PIT_CH0, UInt8(truncatingIfNeeded: divisor >> 8))
    pic_enable_irq(0)
}

/// wait_for_tick(): enable interrupts and spin until jiffies moves (proves the PIT,
/// the PIC and the IDT work together). Leaves interrupts enabled. A busy wait, not
/// sti;hlt: swift86 (as of this writing) never wakes a halted CPU for an IRQ (see
/// docs/kernel.md); both emulators count PIT time in instructions, so this ends.
func wait_for_tick() {
    let j = Timer.jiffies
    while Timer.jiffies == j { x86_safe_halt() }   // sti; hlt: sleep until the next interrupt
}
