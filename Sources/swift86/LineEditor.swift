// LineEditor: the REPL's terminal input — raw mode, keys through LineEditState, history
// file — when stdin and stdout are terminals; plain readLine otherwise.
import Debugger
#if canImport(Glibc)
import Glibc
#endif

// The mode to put back, in globals so that atexit (which may not capture context) reaches it.
nonisolated(unsafe) private var editorSavedTermios = termios()
nonisolated(unsafe) private var editorRawActive = false
nonisolated(unsafe) private var editorAtexitInstalled = false

/// Put the terminal back as the editor found it (no-op when not raw).
private func editorRestoreTermios() {
    if editorRawActive { _ = tcsetattr(STDIN_FILENO, TCSANOW, &editorSavedTermios); editorRawActive = false }
}

/// Reads command lines for the REPL. On a terminal: left/right, Home/End (also Ctrl-A/E),
/// Backspace/Delete, Ctrl-K/U/W/T/L, Alt-b/f and Ctrl-arrows by words, up/down (Ctrl-P/N)
/// through the history; Ctrl-C drops the line and prompts again; Ctrl-D on an empty line
/// ends input. The history lasts the session and is kept in a file when `historyPath` is
/// set (see `defaultHistoryPath`).
final class LineEditor {
    let prompt: String
    private(set) var state: LineEditState
    let historyPath: String?
    /// Both ends are terminals: edit lines; otherwise read plain lines.
    let interactive: Bool

    init(prompt: String, historyPath: String? = LineEditor.defaultHistoryPath()) {
        self.prompt = prompt
        self.historyPath = historyPath
        interactive = isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0
        var history = LineHistory()
        if let p = historyPath, let text = LineEditor.readFile(p) { history.load(text) }
        state = LineEditState(prompt: prompt, columns: 80, history: history)
    }

    /// $SWIFT86_HISTORY when set (empty: no file); else ~/.swift86_history if it exists
    /// (create it to keep the history across sessions).
    static func defaultHistoryPath() -> String? {
        if let e = getenv("SWIFT86_HISTORY") { let p = String(cString: e); return p.isEmpty ? nil : p }
        guard let home = getenv("HOME") else { return nil }
        let p = String(cString: home) + "/.swift86_history"
        return access(p, F_OK) == 0 ? p : nil
    }

    /// Print the prompt and read one line (without its newline); nil at the end of input.
    func readLine() -> String? {
        fflush(stdout)
        guard interactive else {
            print(prompt, terminator: "")
            fflush(stdout)
            return Swift.readLine()
        }
        guard enterRaw() else {
            print(prompt, terminator: "")
            fflush(stdout)
            return Swift.readLine()
        }
        defer { editorRestoreTermios() }
        state.columns = LineEditor.terminalColumns()
        emit(state.begin())
        var decoder = KeyDecoder()
        while true {
            guard let byte = readByte() else {
                // end of input: a line typed so far still counts, as a shell does
                emit("\r\n")
                return state.line.isEmpty ? nil : finish(state.line)
            }
            guard let key = decoder.feed(byte) else { continue }
            if key == .clearScreen || key == .up || key == .down { state.columns = LineEditor.terminalColumns() }
            let (event, output) = state.handle(key)
            emit(output)
            switch event {
            case .editing: continue
            case .done(let line): return finish(line)
            case .cancelled: emit(state.begin())
            case .endOfInput: return nil
            }
        }
    }

    /// A line entered: remember the history file, hand the line back.
    private func finish(_ line: String) -> String {
        if let p = historyPath { LineEditor.writeFile(p, state.history.fileText) }
        return line
    }

    // MARK: terminal

    /// Raw mode on stdin: bytes one at a time, no echo, no signals (Ctrl-C is a key), no
    /// output post-processing (the editor writes \r\n itself).
    private func enterRaw() -> Bool {
        var t = termios()
        guard tcgetattr(STDIN_FILENO, &t) == 0 else { return false }
        editorSavedTermios = t
        t.c_iflag &= ~tcflag_t(BRKINT | ICRNL | INPCK | ISTRIP | IXON)
        t.c_oflag &= ~tcflag_t(OPOST)
        t.c_cflag |= tcflag_t(CS8)
        t.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG)
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0 else { return false }
        editorRawActive = true
        if !editorAtexitInstalled { editorAtexitInstalled = true; atexit { editorRestoreTermios() } }
        return true
    }

    /// One byte from stdin (waiting for it); nil at the end of input or on an error.
    private func readByte() -> UInt8? {
        var b: UInt8 = 0
        while true {
            let n = read(STDIN_FILENO, &b, 1)
            if n == 1 { return b }
            if n == 0 { return nil }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                var p = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, -1)
                continue
            }
            return nil
        }
    }

    private func emit(_ s: String) {
        guard !s.isEmpty else { return }
        var bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(STDOUT_FILENO, $0.baseAddress! + off, $0.count - off) }
            if n > 0 { off += n } else if n < 0 && errno == EINTR { continue } else { break }
        }
        bytes.removeAll()
    }

    /// Width of the terminal on stdout (80 when unknown).
    static func terminalColumns() -> Int {
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 { return Int(ws.ws_col) }
        return 80
    }

    // MARK: history file

    static func readFile(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            data.append(contentsOf: buf[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func writeFile(_ path: String, _ text: String) {
        guard let f = fopen(path, "w") else { return }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}
