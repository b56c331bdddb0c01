// ata.swift: the primary ATA channel's master disk: probe, IDENTIFY, polled PIO LBA28 read/write.
//
// Polled only, with the drive's interrupt masked (nIEN = 1 in the device control
// register, 0x3F6): an IRQ-14-driven version (sleep on the request, wake from the
// handler) comes with the block cache. Nothing here prints anything that depends on
// time; polls are bounded by an iteration count, not by jiffies.

let ATA_DATA: UInt16 = 0x1F0         // data (16-bit PIO)
let ATA_ERROR: UInt16 = 0x1F1        // error (read)
let ATA_NSECT: UInt16 = 0x1F2        // sector count
let ATA_LBA0: UInt16 = 0x1F3         // LBA bits 0-7
let ATA_LBA1: UInt16 = 0x1F4         // LBA bits 8-15
let ATA_LBA2: UInt16 = 0x1F5         // LBA bits 16-23
let ATA_DEVICE: UInt16 = 0x1F6       // 0xE0 | LBA bits 24-27 (master, LBA mode)
let ATA_STATUS: UInt16 = 0x1F7       // status (read) / command (write)
let ATA_CTRL: UInt16 = 0x3F6         // alternate status (read) / device control (write)

let ATA_SR_BSY: UInt8 = 0x80         // busy
let ATA_SR_DRDY: UInt8 = 0x40        // device ready
let ATA_SR_DRQ: UInt8 = 0x08         // data request
let ATA_SR_ERR: UInt8 = 0x01         // error (details in the error register)
let ATA_CTRL_NIEN: UInt8 = 0x02      // device control: no interrupts

let ATA_CMD_READ: UInt8 = 0x20       // READ SECTORS (PIO, LBA28)
let ATA_CMD_WRITE: UInt8 = 0x30      // WRITE SECTORS (PIO, LBA28)
let ATA_CMD_IDENTIFY: UInt8 = 0xEC   // IDENTIFY DEVICE

let ATA_SECTOR: UInt32 = 512         // bytes per sector
let ATA_POLL_LIMIT: UInt32 = 10_000_000  // status reads before giving up

// Error codes (negative, Linux style).
let ATA_ENODEV: Int32 = -19          // no disk
let ATA_EIO: Int32 = -5              // ERR set (or the drive stopped answering)
let ATA_EINVAL: Int32 = -22          // LBA/count out of range

/// Ata: what IDENTIFY reported about the primary master.
struct Ata {
    static var present = false                         // a disk answered IDENTIFY
    static var sectors: UInt32 = 0                     // LBA28 capacity (words 60-61)
    static var model = [UInt8](repeating: 0, count: 41) // words 27-46, byte-swapped, NUL-terminated
}

/// ata_wait(needDRQ) -> 0 when BSY is clear (and DRQ set if needDRQ), ATA_EIO when
/// ERR is set or the poll limit runs out.
func ata_wait(_ needDRQ: Bool) -> Int32 {
    var n: UInt32 = 0
    while n < ATA_POLL_LIMIT {
        let st = inb(ATA_STATUS)
        if st & ATA_SR_BSY == 0 {
            if st & ATA_SR_ERR != 0 { return ATA_EIO }
            if !needDRQ || st & ATA_SR_DRQ != 0 { return 0 }
        }
        n &+= 1
    }
    return ATA_EIO
}

/// ata_probe() -> 0 with Ata filled in when the primary master answers IDENTIFY,
/// ATA_ENODEV when there is no disk. Masks the drive's interrupt (nIEN). Prints nothing.
func ata_probe() -> Int32 {
    outb(ATA_CTRL, ATA_CTRL_NIEN)
    outb(ATA_DEVICE, 0xA0)
    let st = inb(ATA_STATUS)
    if st == 0 || st == 0xFF { return ATA_ENODEV }        // no drive (QEMU: 0, floating bus: 0xFF)
    outb(ATA_NSECT, 0); outb(ATA_LBA0, 0); outb(ATA_LBA1, 0); outb(ATA_LBA2, 0)
    outb(ATA_STATUS, ATA_CMD_IDENTIFY)
    if inb(ATA_STATUS) == 0 { return ATA_ENODEV }
    if ata_wait(true) != 0 { return ATA_ENODEV }         // ABRT: not an ATA disk (ATAPI)
    var words = [UInt16](repeating: 0, count: 256)
    for i in 0..<256 { words[i] = inw(ATA_DATA) }
    for i in 0..<20 {
        Ata.model[2 * i] = UInt8(truncatingIfNeeded: words[27 + i] >> 8)
        Ata.model[2 * i + 1] = UInt8(truncatingIfNeeded: words[27 + i])
    }
    var end = 40
    while end > 0 && (Ata.model[end - 1] == 0x20 || Ata.model[end - 1] == 0) { end -= 1 }
    Ata.model[end] = 0
    Ata.sectors = UInt32(words[60]) | UInt32(words[61]) << 16
    Ata.present = true
    return 0
}

/// ata_setup(lba, count, cmd): select the master in LBA mode and issue cmd for count
/// sectors (1-256; 256 is sent as 0) at lba.
func ata_setup(_ lba: UInt32, _ count: UInt32, _ cmd: UInt8) {
    outb(ATA_DEVICE, 0xE0 | UInt8(truncatingIfNeeded: (lba >> 24) & 0x0F))
    outb(ATA_NSECT, UInt8(truncatingIfNeeded: count))
    outb(ATA_LBA0, UInt8(truncatingIfNeeded: lba))
    outb(ATA_LBA1, UInt8(truncatingIfNeeded: lba >> 8))
    outb(ATA_LBA2, UInt8(truncatingIfNeeded: lba >> 16))
    outb(ATA_STATUS, cmd)
}

/// ata_check(lba, count) -> 0 when the request fits the disk, else an error code.
func ata_check(_ lba: UInt32, _ count: UInt32) -> Int32 {
    if !Ata.present { return ATA_ENODEV }
    if count == 0 || count > 256 || lba >= Ata.sectors || count > Ata.sectors &- lba { return ATA_EINVAL }
    return 0
}

/// ata_read(lba, count, buf) -> 0 after reading count sectors at lba into the kernel
/// virtual address buf (count * 512 bytes), or an error code. Polled PIO.
func ata_read(_ lba: UInt32, _ count: UInt32, _ buf: UInt32) -> Int32 {
    let bad = ata_check(lba, count)
    if bad != 0 { return bad }
    ata_setup(lba, count, ATA_CMD_READ)
    for s in 0..<count {
        let r = ata_wait(true)
        if r != 0 { return r }
        x86_insw(UInt32(ATA_DATA), buf &+ s &* ATA_SECTOR, 256)
    }
    return ata_wait(false)
}

/// ata_write(lba, count, buf) -> 0 after writing count sectors from the kernel virtual
/// address buf to lba (the drive done with the last one), or an error code. Polled PIO.
func ata_write(_ lba: UInt32, _ count: UInt32, _ buf: UInt32) -> Int32 {
    let bad = ata_check(lba, count)
    if bad != 0 { return bad }
    ata_setup(lba, count, ATA_CMD_WRITE)
    for s in 0..<count {
        let r = ata_wait(true)
        if r != 0 { return r }
        x86_outsw(UInt32(ATA_DATA), buf &+ s &* ATA_SECTOR, 256)
    }
    return ata_wait(false)
}

/// ata_init(): probe at boot; log the disk only when one answers (the line is the same
/// on QEMU and swift86: the model string, which differs, is left out).
func ata_init() {
    if ata_probe() != 0 { return }
    printk(.info).s("ata0: LBA28 disk ").u(Ata.sectors).s(" sectors (").u(Ata.sectors >> 11).s(" MiB)").end()
}

/// ata_disktest(): -append disktest: checksums of sector 0 and the last sector, then a
/// pattern written to sector 1, read back and compared. Prints "disktest: ok" or panics.
func ata_disktest() {
    if !Ata.present { printk(.info).s("ata: no disk").end(); panic("ata_disktest: no disk") }
    let buf = kmalloc(ATA_SECTOR, GFP_KERNEL)
    var r = ata_read(0, 1, buf)
    if r != 0 { printk(.err).s("disktest: read 0: ").d(r).end(); panic("ata_disktest: read failed") }
    printk(.info).s("disktest: sector 0 crc32 ").hex32(crc32(buf, ATA_SECTOR)).end()
    let last = Ata.sectors &- 1
    r = ata_read(last, 1, buf)
    if r != 0 { printk(.err).s("disktest: read last: ").d(r).end(); panic("ata_disktest: read failed") }
    printk(.info).s("disktest: sector ").u(last).s(" crc32 ").hex32(crc32(buf, ATA_SECTOR)).end()
    let b = ptr(buf, UInt8.self)
    for i in 0..<Int(ATA_SECTOR) { b[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 0x5A) }
    let want = crc32(buf, ATA_SECTOR)
    r = ata_write(1, 1, buf)
    if r != 0 { printk(.err).s("disktest: write 1: ").d(r).end(); panic("ata_disktest: write failed") }
    for i in 0..<Int(ATA_SECTOR) { b[i] = 0 }
    r = ata_read(1, 1, buf)
    if r != 0 { printk(.err).s("disktest: read 1: ").d(r).end(); panic("ata_disktest: read failed") }
    for i in 0..<Int(ATA_SECTOR) where b[i] != UInt8(truncatingIfNeeded: i &* 7 &+ 0x5A) {
        printk(.err).s("disktest: sector 1 byte ").u(UInt32(i)).s(" reads ").x(b[i]).end()
        panic("ata_disktest: readback differs")
    }
    printk(.info).s("disktest: sector 1 written and read back, crc32 ").hex32(want).end()
    printk(.info).s("disktest: ok").end()
    kfree(buf)
}
