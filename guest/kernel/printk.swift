// printk.swift: the kernel log: console output, "[level] text" lines, integer formatting.

/// LogLevel: message priority, numbered as Linux's KERN_* levels.
enum LogLevel: UInt8 {
    case emerg = 0     // system is unusable (panic)
    case alert = 1     // action must be taken immediately
    case crit = 2      // critical conditions
    case err = 3       // error conditions
    case warning = 4   // warning conditions
    case notice = 5    // normal but significant
    case info = 6      // informational
    case debug = 7     // debug-level messages
}

/// Console state: the UART the log goes to and the level filter.
struct Console {
    static var uart = Uart(base: COM1)      // console device
    static var ready = false                // uart initialized
    static var loglevel: UInt8 = 7          // print messages with level < loglevel
    static var atLineStart = true           // the last byte sent was a newline (or none)
    static var capture: UInt32 = 0          // a /proc file being generated: bytes go here
    static var captureLen: UInt32 = 0       // bytes captured
    static var captureCap: UInt32 = 0       // capture buffer size (the rest is dropped)

    /// Console.putc(b): emit one byte; "\n" becomes "\r\n". Works before console_init
    /// (the UART then runs at whatever the firmware left). While a /proc file is being
    /// generated (capture set), the byte is appended to its buffer instead.
    static func putc(_ b: UInt8) {
        if capture != 0 {
            if captureLen < captureCap { ptr(capture &+ captureLen, UInt8.self).pointee = b; captureLen &+= 1 }
            return
        }
        if b == 0x0A { uart.putc(0x0D) }
        uart.putc(b)
        atLineStart = b == 0x0A
    }

    /// Console.newline(): end an unterminated line, so the next output starts a line.
    static func newline() {
        if !atLineStart { putc(0x0A) }
    }
}

/// console_init(): program COM1 at 115200 8N1 and start the log.
func console_init() {
    Console.uart.initialize(baud: 115200)
    Console.ready = true
}

/// Printk: one log line under construction. Each method appends and returns the line;
/// end() terminates it. A line below the console level is built but not printed.
struct Printk {
    let on: Bool        // true if this line reaches the console

    /// s(text): append a static string.
    @discardableResult func s(_ text: StaticString) -> Printk {
        if on { put(text) }
        return self
    }

    /// str(text): append a String's UTF-8 bytes (no Unicode processing).
    @discardableResult func str(_ text: String) -> Printk {
        if on { for b in text.utf8 { Console.putc(b) } }
        return self
    }

    /// c(b): append one byte.
    @discardableResult func c(_ b: UInt8) -> Printk {
        if on { Console.putc(b) }
        return self
    }

    /// cstr(addr, max): append the NUL-terminated string at virtual addr, at most max bytes.
    @discardableResult func cstr(_ addr: UInt32, max: Int = 256) -> Printk {
        if on && addr != 0 {
            let p = ptr(addr, UInt8.self)
            var i = 0
            while i < max && p[i] != 0 { Console.putc(p[i]); i += 1 }
        }
        return self
    }

    /// u(v): append v in unsigned decimal.
    @discardableResult func u<T: FixedWidthInteger>(_ v: T) -> Printk {
        if on { fmt_udec(UInt64(truncatingIfNeeded: v), Console.putc) }
        return self
    }

    /// d(v): append v in signed decimal.
    @discardableResult func d<T: FixedWidthInteger & SignedInteger>(_ v: T) -> Printk {
        if on { fmt_sdec(Int64(v), Console.putc) }
        return self
    }

    /// hex32(v): append v as 0x followed by 8 hex digits.
    @discardableResult func hex32(_ v: UInt32) -> Printk {
        if on { fmt_hex(UInt64(v), digits: 8, Console.putc) }
        return self
    }

    /// hex(v, digits): append v as 0x followed by exactly `digits` hex digits.
    @discardableResult func hex(_ v: UInt32, _ digits: Int) -> Printk {
        if on { fmt_hex(UInt64(v), digits: digits, Console.putc) }
        return self
    }

    /// hex64(v): append v as 0x followed by 16 hex digits.
    @discardableResult func hex64(_ v: UInt64) -> Printk {
        if on { fmt_hex(v, digits: 16, Console.putc) }
        return self
    }

    /// x(v): append v as 0x followed by as many hex digits as needed (at least one).
    @discardableResult func x<T: FixedWidthInteger>(_ v: T) -> Printk {
        if on { fmt_hex(UInt64(truncatingIfNeeded: v), digits: 0, Console.putc) }
        return self
    }

    /// pad(text, width): append text right-aligned in width columns (printf "%*s").
    @discardableResult func pad(_ text: StaticString, _ width: Int) -> Printk {
        if on {
            for _ in 0..<max(0, width - text.utf8CodeUnitCount) { Console.putc(0x20) }
            put(text)
        }
        return self
    }

    /// padl(text, width): append text left-aligned in width columns (printf "%-*s").
    @discardableResult func padl(_ text: StaticString, _ width: Int) -> Printk {
        if on {
            put(text)
            for _ in 0..<max(0, width - text.utf8CodeUnitCount) { Console.putc(0x20) }
        }
        return self
    }

    /// udw(v, width): append v in decimal, right-aligned in width columns (printf "%*u").
    @discardableResult func udw<T: FixedWidthInteger>(_ v: T, _ width: Int) -> Printk {
        if on {
            let w = UInt64(truncatingIfNeeded: v)
            var digits = 1
            var t = w
            while t >= 10 { t /= 10; digits += 1 }
            for _ in 0..<max(0, width - digits) { Console.putc(0x20) }
            fmt_udec(w, Console.putc)
        }
        return self
    }

    /// end(): terminate the line with a newline.
    func end() {
        if on { Console.putc(0x0A) }
    }
}

/// put(text): send a static string to the console, byte by byte.
func put(_ text: StaticString) {
    text.withUTF8Buffer { buf in
        for b in buf { Console.putc(b) }
    }
}

/// printk(level) -> a new log line "[level] " (empty and silent if filtered out). An
/// unterminated previous line is ended first.
func printk(_ level: LogLevel) -> Printk {
    if Console.capture != 0 { return Printk(on: true) }    // /proc text: no level prefix
    let line = Printk(on: level.rawValue < Console.loglevel)
    if line.on {
        Console.newline()
        Console.putc(0x5B)                   // "["
        Console.putc(0x30 &+ level.rawValue) // "0".."7"
        Console.putc(0x5D)                   // "]"
        Console.putc(0x20)
    }
    return line
}

/// fmt_udec(v, emit): emit the decimal digits of v, most significant first, no padding.
/// Uses 64-bit division (__udivdi3/__umoddi3) only while v needs more than 32 bits.
func fmt_udec(_ v: UInt64, _ emit: (UInt8) -> Void) {
    if v > UInt64(UInt32.max) {
        fmt_udec(v / 10, emit)
        emit(0x30 &+ UInt8(truncatingIfNeeded: v % 10))
        return
    }
    let w = UInt32(truncatingIfNeeded: v)
    var pow: UInt32 = 1
    while pow <= w / 10 { pow &*= 10 }
    while pow > 0 {
        emit(0x30 &+ UInt8(truncatingIfNeeded: (w / pow) % 10))
        pow /= 10
    }
}

/// fmt_sdec(v, emit): emit v in decimal with a leading "-" when negative.
func fmt_sdec(_ v: Int64, _ emit: (UInt8) -> Void) {
    if v < 0 {
        emit(0x2D)
        fmt_udec(0 &- UInt64(bitPattern: v), emit)   // also right for Int64.min
    } else {
        fmt_udec(UInt64(v), emit)
    }
}

/// fmt_hex(v, digits, emit): emit "0x" and v in lower-case hex, zero-padded to `digits`
/// (0: as many as needed, at least one).
func fmt_hex(_ v: UInt64, digits: Int, _ emit: (UInt8) -> Void) {
    emit(0x30); emit(0x78)   // "0x"
    fmt_hex_digits(v, digits: digits, emit)
}

/// fmt_hex_digits(v, digits, emit): v in lower-case hex without "0x", zero-padded to
/// `digits` (0: as many as needed, at least one), as Linux's %lx / %08lx.
func fmt_hex_digits(_ v: UInt64, digits: Int, _ emit: (UInt8) -> Void) {
    var n = digits
    if n == 0 {
        n = 1
        while n < 16 && (v >> UInt64(n * 4)) != 0 { n += 1 }
    }
    var i = n
    while i > 0 {
        i -= 1
        let nib = UInt8(truncatingIfNeeded: (v >> UInt64(i * 4)) & 0xF)
        emit(nib < 10 ? 0x30 &+ nib : 0x57 &+ nib)   // '0'.. or 'a'-10..
    }
}
