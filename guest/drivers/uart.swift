// uart.swift: 16550 UART driver, polled transmit only; COM1 is the kernel console.

let COM1: UInt16 = 0x3F8        // I/O base of the first serial port

// Register offsets from the I/O base.
let UART_THR: UInt16 = 0        // transmit holding register (write, DLAB=0)
let UART_DLL: UInt16 = 0        // divisor latch low (DLAB=1)
let UART_IER: UInt16 = 1        // interrupt enable (DLAB=0)
let UART_DLM: UInt16 = 1        // divisor latch high (DLAB=1)
let UART_FCR: UInt16 = 2        // FIFO control (write)
let UART_LCR: UInt16 = 3        // line control
let UART_MCR: UInt16 = 4        // modem control
let UART_LSR: UInt16 = 5        // line status

let LCR_8N1: UInt8 = 0x03       // 8 data bits, no parity, 1 stop bit
let LCR_DLAB: UInt8 = 0x80      // divisor latch access bit
let FCR_ENABLE_CLEAR: UInt8 = 0xC7  // enable FIFOs, clear both, 14-byte trigger
let MCR_DTR_RTS_OUT2: UInt8 = 0x0B  // DTR, RTS, OUT2 (OUT2 gates the IRQ line)
let LSR_THRE: UInt8 = 0x20      // transmit holding register empty
let UART_BAUD_BASE: UInt32 = 115200  // input clock / 16

/// Uart: one polled 16550 at an I/O base.
struct Uart {
    let base: UInt16             // I/O base, e.g. COM1

    /// initialize(baud): program the divisor for `baud`, 8N1, FIFOs on, interrupts off.
    /// Panics if baud does not divide 115200.
    func initialize(baud: UInt32) {
        if baud == 0 || UART_BAUD_BASE % baud != 0 { panic("uart_init: bad baud rate") }
        let divisor = UART_BAUD_BASE / baud
        outb(base + UART_IER, 0)
        outb(base + UART_LCR, LCR_DLAB)
        outb(base + UART_DLL, UInt8(truncatingIfNeeded: divisor))
        outb(base + UART_DLM, UInt8(truncatingIfNeeded: divisor >> 8))
        outb(base + UART_LCR, LCR_8N1)
        outb(base + UART_FCR, FCR_ENABLE_CLEAR)
        outb(base + UART_MCR, MCR_DTR_RTS_OUT2)
    }

    /// putc(b): wait until the transmitter holding register is empty, then send b.
    @inline(__always) func putc(_ b: UInt8) {
        while inb(base + UART_LSR) & LSR_THRE == 0 {}
        outb(base + UART_THR, b)
    }
}
