// HostTerminal: the host side of the serial console (stdin raw mode, non-blocking input, Ctrl-A escapes, buffered output).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The terminal state to restore, kept in globals so that a signal handler (which may not
// capture context) and atexit can reach it.
nonisolated(unsafe) private var savedTermios = termios()
nonisolated(unsafe) private var savedTermiosFD: Int32 = -1

/// Put the saved terminal mode back (async-signal-safe: tcsetattr only).
private func restoreSavedTermios() {
    if savedTermiosFD >= 0 { _ = tcsetattr(savedTermiosFD, TCSANOW, &savedTermios) }
}

/// write(2), callable from inside a type that has its own `write` methods.
private func hostWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }

/// SIGINT/SIGTERM/SIGHUP/SIGQUIT handler: restore the terminal, then die of the signal.
private func restoreTermiosAndReraise(_ sig: Int32) {
    restoreSavedTermios()
    _ = signal(sig, SIG_DFL)
    _ = raise(sig)
}

/// The console as the host sees it: guest output bytes go to a file descriptor
/// (stdout, or a file for `-serial file:PATH`), host input bytes come from another
/// (stdin) without ever blocking the emulator.
///
/// Input: when the input is a terminal, `enterRawMode()` makes it raw (no echo, no line
/// editing, no signals: Ctrl-C goes to the guest) and arranges for the old mode to come
/// back at exit and on SIGINT/SIGTERM/SIGHUP/SIGQUIT. `pollInput()` reads what is
/// available and interprets QEMU's escapes (when `escapes` is on): Ctrl-A x → `.quit`,
/// Ctrl-A c → `.monitor`, Ctrl-A Ctrl-A → a literal 0x01, Ctrl-A h or ? → help text on
/// the output, any other Ctrl-A sequence is swallowed. A pipe or file works the same way;
/// its end just means no more input (`Input.endOfInput`).
///
/// Output is buffered: flushed when 4 KiB accumulate, at each newline when the output
/// is a terminal, before every input poll, by `flush()` and at deinit.
public final class HostTerminal {
    /// A console command typed on the host.
    public enum Event: Equatable, Sendable {
        /// Ctrl-A x: stop the emulator.
        case quit
        /// Ctrl-A c: enter the monitor / debugger.
        case monitor
    }

    /// What one `pollInput()` found.
    public struct Input: Equatable {
        /// Bytes for the guest, in order (escapes removed).
        public var bytes: [UInt8] = []
        /// A console command; bytes typed after it stay queued for the next poll.
        public var event: Event? = nil
        /// The input has ended (pipe closed, end of file, or no input at all).
        public var endOfInput = false
    }

    /// An error opening a file sink.
    public struct OpenError: Error, CustomStringConvertible {
        /// The path that could not be opened.
        public let path: String
        /// errno from open(2).
        public let code: Int32
        public var description: String {
            "cannot open \(path) for serial output: \(String(cString: strerror(code)))"
        }
    }

    /// The input descriptor, or -1 for none.
    public let inputFD: Int32
    /// The output descriptor.
    public let outputFD: Int32
    /// Whether the input is a terminal.
    public let inputIsTerminal: Bool
    /// Whether Ctrl-A escapes are interpreted.
    public var escapes: Bool

    private let outputIsTerminal: Bool          // flush at each newline
    private let ownsOutput: Bool                // close outputFD at deinit
    private var outBuffer: [UInt8] = []         // output not yet written
    var queued: [UInt8] = []            // input read but not yet handed out
    var queuedStart = 0                 // first unprocessed byte of `queued`
    private var sawEscape = false               // the last input byte was Ctrl-A
    private var inputEnded: Bool                // EOF (or error) seen on the input
    private var rawModeActive = false           // we changed the terminal mode

    /// A console reading `inputFD` (-1: no input) and writing `outputFD`; `ownsOutput`
    /// closes the output descriptor at deinit (file sinks).
    public init(inputFD: Int32 = STDIN_FILENO, outputFD: Int32 = STDOUT_FILENO,
                ownsOutput: Bool = false, escapes: Bool = true) {
        self.inputFD = inputFD
        self.outputFD = outputFD
        self.ownsOutput = ownsOutput
        self.escapes = escapes
        self.inputIsTerminal = inputFD >= 0 && isatty(inputFD) == 1
        self.outputIsTerminal = isatty(outputFD) == 1
        self.inputEnded = inputFD < 0
        outBuffer.reserveCapacity(4096)
    }

    /// A console whose output goes to the file at `path` (created or truncated), for
    /// `-serial file:PATH`; input from `inputFD` (-1 for none).
    public static func fileSink(path: String, inputFD: Int32 = -1) throws(OpenError) -> HostTerminal {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OpenError(path: path, code: errno) }
        return HostTerminal(inputFD: inputFD, outputFD: fd, ownsOutput: true, escapes: inputFD >= 0)
    }

    deinit {
        flush()
        restoreMode()
        if ownsOutput { _ = close(outputFD) }
    }

    // MARK: terminal mode

    /// If the input is a terminal: save its mode, make it raw (keeping output
    /// post-processing, as QEMU does), and restore it at exit and on fatal signals.
    /// Does nothing for pipes and files, or when already raw.
    public func enterRawMode() {
        guard inputIsTerminal, !rawModeActive else { return }
        var t = termios()
        guard tcgetattr(inputFD, &t) == 0 else { return }
        savedTermios = t
        savedTermiosFD = inputFD
        t.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)
        t.c_oflag |= tcflag_t(OPOST)
        t.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | IEXTEN | ISIG)
        t.c_cflag &= ~tcflag_t(CSIZE | PARENB)
        t.c_cflag |= tcflag_t(CS8)
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(inputFD, TCSANOW, &t) == 0 else { return }
        rawModeActive = true
        atexit { restoreSavedTermios() }
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { _ = signal(sig, restoreTermiosAndReraise) }
    }

    /// Put the terminal back in the mode `enterRawMode()` found (no-op otherwise).
    public func restoreMode() {
        guard rawModeActive else { return }
        flush()
        restoreSavedTermios()
        rawModeActive = false
    }

    // MARK: input

    /// Read whatever input is available without blocking and return it, escapes
    /// interpreted; stops at the first console command (the rest stays queued).
    public func pollInput() -> Input {
        flush()
        var result = Input()
        if queuedStart >= queued.count && !inputEnded { readAvailable() }
        while queuedStart < queued.count {
            let b = queued[queuedStart]
            queuedStart += 1
            if let e = interpret(b, into: &result.bytes) {
                result.event = e
                break
            }
        }
        if queuedStart >= queued.count { queued.removeAll(keepingCapacity: true); queuedStart = 0 }
        result.endOfInput = inputEnded && queued.isEmpty
        return result
    }

    /// Block until input is available or `milliseconds` pass (-1: forever); true if input
    /// (or its end) is there. For an idle guest (HLT with nothing else to wait for).
    public func waitForInput(milliseconds: Int32) -> Bool {
        flush()
        if queuedStart < queued.count { return true }
        if inputEnded { return false }
        var p = pollfd(fd: inputFD, events: Int16(POLLIN), revents: 0)
        while true {
            let r = poll(&p, 1, milliseconds)
            if r < 0 && errno == EINTR { continue }
            return r > 0
        }
    }

    /// One byte through the Ctrl-A escape state machine: appends data to `out`, returns an event.
    private func interpret(_ b: UInt8, into out: inout [UInt8]) -> Event? {
        guard escapes else { out.append(b); return nil }
        if sawEscape {
            sawEscape = false
            switch b {
            case 0x01: out.append(0x01)
            case UInt8(ascii: "x"), UInt8(ascii: "X"): return .quit
            case UInt8(ascii: "c"), UInt8(ascii: "C"): return .monitor
            case UInt8(ascii: "h"), UInt8(ascii: "?"): printHelp()
            default: break
            }
        } else if b == 0x01 {
            sawEscape = true
        } else {
            out.append(b)
        }
        return nil
    }

    /// Print the escape help (QEMU's wording, shortened) to the output.
    @inline(never)
    private func printHelp() {
        write(bytes: Array("\r\nC-a h    print this help\r\nC-a x    exit emulator\r\nC-a c    switch to the monitor\r\nC-a C-a  send C-a\r\n".utf8))
        flush()
    }

    /// Append all bytes readable now (poll with zero timeout, then read) to `queued`.
    private func readAvailable() {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            var p = pollfd(fd: inputFD, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, 0)
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { return }
            if p.revents & Int16(POLLNVAL) != 0 { inputEnded = true; return }
            let n = buf.withUnsafeMutableBytes { read(inputFD, $0.baseAddress, $0.count) }
            if n > 0 {
                queued.append(contentsOf: buf[0..<n])
                if n < buf.count { return }
            } else if n == 0 {
                inputEnded = true
                return
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return
            } else {
                inputEnded = true
                return
            }
        }
    }

    // MARK: output

    /// Queue one guest output byte (the UART's and debug console's sink).
    public func write(_ byte: UInt8) {
        outBuffer.append(byte)
        if outBuffer.count >= 4096 || (outputIsTerminal && byte == 0x0A) { flush() }
    }

    /// Queue several output bytes.
    public func write(bytes: [UInt8]) {
        for b in bytes { write(b) }
    }

    /// Write all queued output to the descriptor (retrying on EINTR/EAGAIN; output
    /// that cannot be written because of another error is dropped).
    public func flush() {
        guard !outBuffer.isEmpty else { return }
        var off = 0
        outBuffer.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            while off < raw.count {
                let n = hostWrite(outputFD, base + off, raw.count - off)
                if n > 0 { off += n; continue }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    var p = pollfd(fd: outputFD, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&p, 1, 100)
                    continue
                }
                return
            }
        }
        outBuffer.removeAll(keepingCapacity: true)
    }
}

extension HostTerminal {
    /// Input already read from the host but not yet handed out (typed after an escape
    /// such as Ctrl-A c): the monitor reads its command lines from here first.
    public func drainQueuedInput() -> [UInt8] {
        let rest = Array(queued[min(queuedStart, queued.count)...])
        queued.removeAll()
        queuedStart = 0
        return rest
    }
}
