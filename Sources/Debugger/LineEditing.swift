// LineEditing: the REPL's line editor as a pure state machine — bytes in, keys, buffer,
// cursor and the terminal output that redraws the line out (the terminal I/O lives in swift86).

/// One key of the line editor, decoded from the bytes a terminal sends.
public enum EditKey: Equatable, Sendable {
    case insert(Character)
    case left, right, home, end, wordLeft, wordRight
    case backspace, delete
    case up, down
    case enter
    case killToEnd          // Ctrl-K
    case killToStart        // Ctrl-U
    case killWord           // Ctrl-W
    case transpose          // Ctrl-T
    case clearScreen        // Ctrl-L
    case cancel             // Ctrl-C
    case endOfInputOrDelete // Ctrl-D: end of input on an empty line, else delete
    case ignored
}

/// Turns the bytes a terminal sends (UTF-8 text, control characters, ANSI/VT escape
/// sequences for the arrows, Home, End, Delete) into keys.
public struct KeyDecoder: Sendable {
    var pending: [UInt8] = []

    public init() {}

    /// Feed one byte; returns the key it completes, if any.
    public mutating func feed(_ b: UInt8) -> EditKey? {
        if !pending.isEmpty {
            pending.append(b)
            if pending[0] == 0x1B { return escape() }
            return utf8()
        }
        switch b {
        case 0x1B: pending = [b]; return nil
        case 0x01: return .home                 // Ctrl-A
        case 0x02: return .left                 // Ctrl-B
        case 0x03: return .cancel               // Ctrl-C
        case 0x04: return .endOfInputOrDelete   // Ctrl-D
        case 0x05: return .end                  // Ctrl-E
        case 0x06: return .right                // Ctrl-F
        case 0x08, 0x7F: return .backspace      // Ctrl-H, DEL
        case 0x0A, 0x0D: return .enter
        case 0x0B: return .killToEnd            // Ctrl-K
        case 0x0C: return .clearScreen          // Ctrl-L
        case 0x0E: return .down                 // Ctrl-N
        case 0x10: return .up                   // Ctrl-P
        case 0x14: return .transpose            // Ctrl-T
        case 0x15: return .killToStart          // Ctrl-U
        case 0x17: return .killWord             // Ctrl-W
        case 0x09: return .insert(" ")          // Tab: a space (no completion)
        case 0x00..<0x20: return .ignored
        case 0x20..<0x80: return .insert(Character(Unicode.Scalar(b)))
        case 0xC0..<0xF8: pending = [b]; return nil
        default: return .ignored                // a stray continuation byte
        }
    }

    /// Decode all of `bytes` into keys.
    public mutating func keys(_ bytes: [UInt8]) -> [EditKey] { bytes.compactMap { feed($0) } }

    mutating func utf8() -> EditKey? {
        let lead = pending[0]
        let need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        guard pending.last! & 0xC0 == 0x80 else {
            // not a continuation byte: drop the broken sequence, decode this byte afresh
            let b = pending.removeLast(); pending = []
            return feed(b)
        }
        guard pending.count == need else { return nil }
        defer { pending = [] }
        let s = String(decoding: pending, as: UTF8.self)
        guard s.unicodeScalars.count == 1, let c = s.first, c != "\u{FFFD}" else { return .ignored }
        return .insert(c)
    }

    mutating func escape() -> EditKey? {
        // ESC [ params final, ESC O final; anything else after ESC: Alt+key (b/f move by words)
        if pending.count == 2 {
            switch pending[1] {
            case UInt8(ascii: "["), UInt8(ascii: "O"): return nil
            case UInt8(ascii: "b"): pending = []; return .wordLeft
            case UInt8(ascii: "f"): pending = []; return .wordRight
            case 0x7F: pending = []; return .killWord
            default: pending = []; return .ignored
            }
        }
        let last = pending.last!
        if pending.count > 12 { pending = []; return .ignored }
        guard (0x40...0x7E).contains(last) else { return nil }   // parameters go on
        let params = String(decoding: pending[2..<(pending.count - 1)], as: UTF8.self)
        pending = []
        let ctrl = params.hasSuffix(";5") || params.hasSuffix(";3")  // Ctrl or Alt with an arrow
        switch last {
        case UInt8(ascii: "A"): return .up
        case UInt8(ascii: "B"): return .down
        case UInt8(ascii: "C"): return ctrl ? .wordRight : .right
        case UInt8(ascii: "D"): return ctrl ? .wordLeft : .left
        case UInt8(ascii: "H"): return .home
        case UInt8(ascii: "F"): return .end
        case UInt8(ascii: "~"):
            switch params.split(separator: ";").first.map(String.init) ?? "" {
            case "1", "7": return .home
            case "4", "8": return .end
            case "3": return .delete
            default: return .ignored
            }
        default: return .ignored
        }
    }
}

/// The history of entered lines, newest last, without consecutive duplicates.
public struct LineHistory: Sendable {
    public private(set) var entries: [String] = []
    public var limit: Int

    public init(limit: Int = 1000) { self.limit = limit }

    /// Add a line (empty lines and a repeat of the newest entry are not added).
    public mutating func add(_ line: String) {
        guard !line.allSatisfy({ $0 == " " || $0 == "\t" }), entries.last != line else { return }
        entries.append(line)
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
    }

    /// Load entries from a history file's text (one line each), keeping the newest `limit`.
    public mutating func load(_ text: String) {
        for l in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            add(String(l.hasSuffix("\r") ? l.dropLast() : l))
        }
    }

    /// The text of a history file.
    public var fileText: String { entries.map { $0 + "\n" }.joined() }
}

/// What the line editor does after a key.
public enum LineEditEvent: Equatable, Sendable {
    case editing
    case done(String)       // Enter: the line
    case cancelled          // Ctrl-C: the line is dropped, a new prompt follows
    case endOfInput         // Ctrl-D on an empty line
}

/// The line being edited: buffer, cursor, history browsing, and the escape sequences that
/// bring the terminal's single line up to date after each key (linenoise's method: redraw
/// the prompt and the visible part of the buffer, erase the rest, put the cursor back).
public struct LineEditState: Sendable {
    public let prompt: String
    /// Terminal width in columns (the line scrolls sideways when longer).
    public var columns: Int
    public private(set) var buffer: [Character] = []
    public private(set) var cursor = 0
    public var history: LineHistory
    /// Position while browsing history: history.entries.count means the new line.
    var historyIndex: Int
    var savedLine: [Character] = []

    public init(prompt: String, columns: Int = 80, history: LineHistory = LineHistory()) {
        self.prompt = prompt
        self.columns = max(columns, prompt.count + 2)
        self.history = history
        historyIndex = history.entries.count
    }

    public var line: String { String(buffer) }

    /// Start a new line: empty buffer, history browsing reset. Returns the prompt to print.
    public mutating func begin() -> String {
        buffer = []; cursor = 0; savedLine = []
        historyIndex = history.entries.count
        return prompt
    }

    /// Apply one key; returns what happened and the bytes to write to the terminal.
    public mutating func handle(_ key: EditKey) -> (event: LineEditEvent, output: String) {
        switch key {
        case .insert(let c):
            buffer.insert(c, at: cursor); cursor += 1
            // typing at the end of a line that fits: just echo
            if cursor == buffer.count && prompt.count + buffer.count < columns { return (.editing, String(c)) }
            return (.editing, refresh())
        case .left: if cursor > 0 { cursor -= 1; return (.editing, refresh()) }
        case .right: if cursor < buffer.count { cursor += 1; return (.editing, refresh()) }
        case .home: if cursor > 0 { cursor = 0; return (.editing, refresh()) }
        case .end: if cursor < buffer.count { cursor = buffer.count; return (.editing, refresh()) }
        case .wordLeft:
            let c = wordStart(before: cursor)
            if c != cursor { cursor = c; return (.editing, refresh()) }
        case .wordRight:
            var c = cursor
            while c < buffer.count && buffer[c] == " " { c += 1 }
            while c < buffer.count && buffer[c] != " " { c += 1 }
            if c != cursor { cursor = c; return (.editing, refresh()) }
        case .backspace:
            if cursor > 0 { cursor -= 1; buffer.remove(at: cursor); return (.editing, refresh()) }
        case .delete:
            if cursor < buffer.count { buffer.remove(at: cursor); return (.editing, refresh()) }
        case .endOfInputOrDelete:
            if buffer.isEmpty { return (.endOfInput, "\r\n") }
            if cursor < buffer.count { buffer.remove(at: cursor); return (.editing, refresh()) }
        case .killToEnd:
            if cursor < buffer.count { buffer.removeSubrange(cursor...); return (.editing, refresh()) }
        case .killToStart:
            if cursor > 0 { buffer.removeSubrange(..<cursor); cursor = 0; return (.editing, refresh()) }
        case .killWord:
            let s = wordStart(before: cursor)
            if s != cursor { buffer.removeSubrange(s..<cursor); cursor = s; return (.editing, refresh()) }
        case .transpose:
            if cursor > 0 && buffer.count > 1 {
                let i = cursor == buffer.count ? cursor - 1 : cursor
                buffer.swapAt(i - 1, i)
                cursor = min(i + 1, buffer.count)
                return (.editing, refresh())
            }
        case .up:
            if historyIndex > 0 {
                if historyIndex == history.entries.count { savedLine = buffer }
                historyIndex -= 1
                buffer = Array(history.entries[historyIndex]); cursor = buffer.count
                return (.editing, refresh())
            }
        case .down:
            if historyIndex < history.entries.count {
                historyIndex += 1
                buffer = historyIndex == history.entries.count ? savedLine : Array(history.entries[historyIndex])
                cursor = buffer.count
                return (.editing, refresh())
            }
        case .enter:
            let l = line
            history.add(l)
            historyIndex = history.entries.count
            return (.done(l), "\r\n")
        case .cancel:
            buffer = []; cursor = 0
            historyIndex = history.entries.count
            return (.cancelled, "^C\r\n")
        case .clearScreen:
            return (.editing, "\u{1B}[H\u{1B}[2J" + refresh())
        case .ignored: break
        }
        return (.editing, "")
    }

    /// Apply keys in order; returns the last event and all the output.
    public mutating func handle(_ keys: [EditKey]) -> (event: LineEditEvent, output: String) {
        var out = "", ev = LineEditEvent.editing
        for k in keys {
            let r = handle(k)
            out += r.output; ev = r.event
            if ev != .editing { break }
        }
        return (ev, out)
    }

    /// Start of the word before `i` (spaces before it skipped), as Ctrl-W deletes.
    func wordStart(before i: Int) -> Int {
        var s = i
        while s > 0 && buffer[s - 1] == " " { s -= 1 }
        while s > 0 && buffer[s - 1] != " " { s -= 1 }
        return s
    }

    /// The part of the buffer shown and where the cursor sits in it: the line scrolls
    /// sideways so the cursor stays visible when prompt + line are wider than the terminal.
    public var visible: (text: String, cursorColumn: Int) {
        let plen = prompt.count
        var start = 0, len = buffer.count, pos = cursor
        while plen + pos >= columns { start += 1; len -= 1; pos -= 1 }
        while plen + len > columns - 1 && len > 0 { len -= 1 }
        return (String(buffer[start..<(start + max(len, 0))]), plen + pos)
    }

    /// Redraw: carriage return, prompt, visible text, erase to the end, cursor to its column.
    public func refresh() -> String {
        let v = visible
        return "\r" + prompt + v.text + "\u{1B}[0K" + "\r" + (v.cursorColumn > 0 ? "\u{1B}[\(v.cursorColumn)C" : "")
    }
}
