// LineEditorTests: the REPL's line editor as a pure function — bytes in, buffer/cursor/output out.
import XCTest
import Debugger

final class LineEditorTests: XCTestCase {
    let esc = "\u{1B}"

    /// Feed `input` (as a terminal would send it) to a fresh editor; returns the state,
    /// the last event and all output.
    func run(_ input: String, columns: Int = 80, history: [String] = []) -> (LineEditState, LineEditEvent, String) {
        var h = LineHistory()
        for l in history { h.add(l) }
        var st = LineEditState(prompt: "(swift86) ", columns: columns, history: h)
        var out = st.begin()
        var dec = KeyDecoder()
        let (ev, o) = st.handle(dec.keys(Array(input.utf8)))
        out += o
        return (st, ev, out)
    }

    /// The redraw sequence for `text` with the cursor `col` columns after the prompt.
    func redraw(_ text: String, _ col: Int) -> String { "\r(swift86) \(text)\(esc)[0K\r\(esc)[\(10 + col)C" }

    func testDecoderKeys() {
        var d = KeyDecoder()
        XCTAssertEqual(d.keys(Array("\(esc)[A\(esc)[B\(esc)[C\(esc)[D".utf8)), [.up, .down, .right, .left])
        XCTAssertEqual(d.keys(Array("\(esc)[H\(esc)[F\(esc)OH\(esc)OF\(esc)[1~\(esc)[4~\(esc)[7~\(esc)[8~".utf8)),
                       [.home, .end, .home, .end, .home, .end, .home, .end])
        XCTAssertEqual(d.keys(Array("\(esc)[3~\(esc)[1;5C\(esc)[1;5D\(esc)b\(esc)f".utf8)), [.delete, .wordRight, .wordLeft, .wordLeft, .wordRight])
        XCTAssertEqual(d.keys([0x01, 0x05, 0x0B, 0x15, 0x17, 0x03, 0x04, 0x7F, 0x08, 0x0D, 0x0A, 0x10, 0x0E, 0x02, 0x06]),
                       [.home, .end, .killToEnd, .killToStart, .killWord, .cancel, .endOfInputOrDelete, .backspace, .backspace,
                        .enter, .enter, .up, .down, .left, .right])
        XCTAssertEqual(d.keys(Array("aé€".utf8)), [.insert("a"), .insert("é"), .insert("€")])
        XCTAssertEqual(d.keys([0xC3, 0x41]), [.insert("A")], "a broken UTF-8 sequence is dropped, the next byte kept")
        XCTAssertEqual(d.keys(Array("\(esc)[99~\(esc)[Z".utf8)), [.ignored, .ignored])
    }

    func testTypingEchoesAndEnterEndsTheLine() {
        let (st, ev, out) = run("x/4xw $esp\r")
        XCTAssertEqual(ev, .done("x/4xw $esp"))
        XCTAssertEqual(out, "(swift86) x/4xw $esp\r\n")
        XCTAssertEqual(st.history.entries, ["x/4xw $esp"])
    }

    func testCursorMovesAndInsertsInTheMiddle() {
        let (st, ev, out) = run("stpi\(esc)[D\(esc)[De")
        XCTAssertEqual(ev, .editing)
        XCTAssertEqual(st.line, "stepi")
        XCTAssertEqual(st.cursor, 3)
        XCTAssertTrue(out.hasSuffix(redraw("stepi", 3)), out)
        let (h, _, _) = run("abc\u{01}X\u{05}Y")
        XCTAssertEqual(h.line, "XabcY")
        let (h2, _, _) = run("abc\(esc)[HX\(esc)[FY\(esc)OHZ")
        XCTAssertEqual(h2.line, "ZXabcY")
        XCTAssertEqual(h2.cursor, 1)
    }

    func testBackspaceDeleteAndKills() {
        XCTAssertEqual(run("abcd\u{7F}\u{7F}x").0.line, "abx")
        XCTAssertEqual(run("abcd\u{01}\(esc)[3~").0.line, "bcd")
        XCTAssertEqual(run("\u{7F}\(esc)[3~\u{08}").0.line, "", "nothing to delete is harmless")
        XCTAssertEqual(run("break kmain if $eax==1\u{01}\(esc)[C\(esc)[C\(esc)[C\(esc)[C\(esc)[C\u{0B}").0.line, "break")
        let u = run("break kmain\(esc)[D\(esc)[D\u{15}").0
        XCTAssertEqual(u.line, "in"); XCTAssertEqual(u.cursor, 0)
        XCTAssertEqual(run("x/4xw  0x1000  \u{17}").0.line, "x/4xw  ")
        XCTAssertEqual(run("x/4xw 0x1000\u{17}\u{17}y").0.line, "y")
        XCTAssertEqual(run("ab\u{14}").0.line, "ba", "Ctrl-T swaps the two characters before the cursor at the end")
    }

    func testCtrlCCancelsAndCtrlDEnds() {
        let (c, ev, out) = run("continue\u{03}")
        XCTAssertEqual(ev, .cancelled)
        XCTAssertEqual(c.line, "")
        XCTAssertTrue(out.hasSuffix("^C\r\n"))
        XCTAssertTrue(c.history.entries.isEmpty, "a cancelled line is not history")
        XCTAssertEqual(run("\u{04}").1, .endOfInput)
        let (d, dev, _) = run("abc\u{01}\u{04}")
        XCTAssertEqual(dev, .editing)
        XCTAssertEqual(d.line, "bc", "Ctrl-D on a non-empty line deletes under the cursor")
    }

    func testHistoryUpDownKeepsTheLineBeingTyped() {
        let hist = ["break kmain", "continue", "page 0xc0100000"]
        let (a, _, out) = run("\(esc)[A", history: hist)
        XCTAssertEqual(a.line, "page 0xc0100000")
        XCTAssertTrue(out.hasSuffix(redraw("page 0xc0100000", 15)))
        XCTAssertEqual(run("\(esc)[A\(esc)[A\(esc)[A\(esc)[A", history: hist).0.line, "break kmain", "stops at the oldest")
        XCTAssertEqual(run("tl\(esc)[A\(esc)[A\(esc)[B\(esc)[B", history: hist).0.line, "tl", "down past the newest restores the typed line")
        XCTAssertEqual(run("\(esc)[B", history: hist).0.line, "")
        // an entry recalled and entered again is not duplicated; a new one goes last
        let (b, ev, _) = run("\(esc)[A\r", history: hist)
        XCTAssertEqual(ev, .done("page 0xc0100000"))
        XCTAssertEqual(b.history.entries, hist)
        let (c, _, _) = run("\(esc)[A\(esc)[A\r", history: hist)
        XCTAssertEqual(c.history.entries, hist + ["continue"])
    }

    func testStateIsReusableAcrossLines() {
        var st = LineEditState(prompt: "> ")
        var d = KeyDecoder()
        _ = st.begin()
        XCTAssertEqual(st.handle(d.keys(Array("si\r".utf8))).event, .done("si"))
        XCTAssertEqual(st.begin(), "> ")
        XCTAssertEqual(st.line, "")
        XCTAssertEqual(st.handle(d.keys(Array("\(esc)[A\r".utf8))).event, .done("si"))
    }

    func testLongLinesScrollSideways() {
        // 20 columns: prompt 10, 9 characters, the cursor in the last column (nothing autowraps)
        let (st, _, out) = run("0123456789abcdef", columns: 20)
        XCTAssertEqual(st.visible.text, "789abcdef")
        XCTAssertEqual(st.visible.cursorColumn, 19)
        XCTAssertTrue(out.hasPrefix("(swift86) 012345678\r(swift86) 123456789\(esc)[0K\r\(esc)[19C"), out)
        XCTAssertTrue(out.hasSuffix("\r(swift86) 789abcdef\(esc)[0K\r\(esc)[19C"), out)
        let (home, _, _) = run("0123456789abcdef\u{01}", columns: 20)
        XCTAssertEqual(home.visible.text, "012345678")
        XCTAssertEqual(home.visible.cursorColumn, 10)
    }

    func testHistoryFileTextAndLimit() {
        var h = LineHistory(limit: 3)
        h.load("a\nb\n\nb\nc\r\nd\n")
        XCTAssertEqual(h.entries, ["b", "c", "d"])
        h.add("   ")
        h.add("d")
        XCTAssertEqual(h.fileText, "b\nc\nd\n")
    }
}
