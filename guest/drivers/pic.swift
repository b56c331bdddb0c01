// pic.swift: the two 8259A interrupt controllers, remapped to vectors 32-47 (IRQ 0-15).

let PIC1_CMD: UInt16 = 0x20       // master command / status
let PIC1_DATA: UInt16 = 0x21      // master interrupt mask
let PIC2_CMD: UInt16 = 0xA0       // slave command / status
let PIC2_DATA: UInt16 = 0xA1      // slave interrupt mask
let IRQ0_VECTOR: UInt32 = 32      // vector of IRQ 0 after the remap (Linux: FIRST_EXTERNAL_VECTOR)
let PIC_EOI: UInt8 = 0x20         // non-specific end of interrupt

/// Pic: the current interrupt masks (1 = masked).
struct Pic {
    static var mask: UInt16 = 0xFFFF   // bit n masks IRQ n
}

/// pic_init(): ICW1-4 for both chips: edge triggered, cascade on IRQ 2, vectors 32 and
/// 40, 8086 mode; every IRQ masked except the cascade.
func pic_init() {
    outb(PIC1_DATA, 0xFF)
    outb(PIC2_DATA, 0xFF)
    outb(PIC1_CMD, 0x11)              // ICW1: init, ICW4 follows
    outb(PIC1_DATA, UInt8(IRQ0_VECTOR))   // ICW2: vector base
    outb(PIC1_DATA, 0x04)             // ICW3: slave on IRQ 2
    outb(PIC1_DATA, 0x01)             // ICW4: 8086 mode
    outb(PIC2_CMD, 0x11)
    outb(PIC2_DATA, UInt8(IRQ0_VECTOR + 8))
    outb(PIC2_DATA, 0x02)             // ICW3: cascade identity
    outb(PIC2_DATA, 0x01)
    Pic.mask = 0xFFFB                 // all masked but IRQ 2 (cascade)
    pic_write_mask()
}

/// pic_write_mask(): send Pic.mask to both chips.
func pic_write_mask() {
    outb(PIC1_DATA, UInt8(truncatingIfNeeded: Pic.mask))
    outb(PIC2_DATA, UInt8(truncatingIfNeeded: Pic.mask >> 8))
}

/// pic_enable_irq(irq): unmask IRQ irq (0-15).
func pic_enable_irq(_ irq: UInt32) {
    if irq > 15 { panic("pic_enable_irq: bad irq") }
    Pic.mask &= ~(UInt16(1) << UInt16(irq))
    pic_write_mask()
}

/// pic_eoi(irq): acknowledge IRQ irq (the slave and then the master for IRQ 8-15).
func pic_eoi(_ irq: UInt32) {
    if irq >= 8 { outb(PIC2_CMD, PIC_EOI) }
    outb(PIC1_CMD, PIC_EOI)
}
