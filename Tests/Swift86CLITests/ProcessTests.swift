// ProcessTests: user processes on the guest kernel (demand paging, COW, brk, mmap, stack growth, SIGSEGV), swift86 vs QEMU.
import Foundation
import XCTest

final class ProcessTests: XCTestCase {
    /// run(cmds, mem) -> the serial output from "Run /bin/sh" on, after booting with
    /// init=/bin/sh -c "cmds" on swift86 and (when installed) QEMU, requiring identical
    /// output and exit status 1 (init exited 0 -> guest exit code 0).
    func run(_ cmds: String, mem: String = "1G", file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try Artifacts.require(Artifacts.swift86)
        try Artifacts.require(Artifacts.guest)
        let append = "init=/bin/sh -c \"\(cmds)\""
        let s = try Run.exec(timeout: 300, Artifacts.swift86, ["boot", "-m", mem, "-append", append, Artifacts.guest])
        if let qemu = Artifacts.qemu {
            let q = try Run.exec(timeout: 300, qemu, Artifacts.qemuFlags + ["-m", mem, "-kernel", Artifacts.guest, "-append", append])
            assertSameAsQEMU(s, q, "for \(cmds)", file: file, line: line)
        }
        return initOutput(s, file: file, line: line)
    }

    func expect(_ out: String, _ needles: [String], file: StaticString = #filePath, line: UInt = #line) {
        for n in needles { XCTAssertTrue(out.contains(n), "missing \"\(n)\" in:\n\(out)", file: file, line: line) }
    }

    func testShellPsAndProc() throws {
        let out = try run("echo hello world; ps; cat /proc/self/status; cat /proc/slabinfo; cat /proc/vmallocinfo; free")
        expect(out, ["hello world\n", "  PID  PPID STAT    VSZ   RSS MINFLT MAJFLT COMMAND",
                     "    1     0 S ", " sh\n", " R ", " ps\n", "Name:\tcat", "slabinfo - version: 2.1",
                     "task_struct", "vm_area_struct", "mm_struct", "Mem: ", "High:"])
    }

    /// The shell's < and > redirections (the file system is read-only: only /dev/null
    /// takes writes, on kernels that have it), cat from stdin, time's page-fault line
    /// (GNU time's second line, on stderr: the console) and its exit status, free's Swap line.
    func testRedirectionsAndTime() throws {
        let out = try run("cat < /etc/motd; echo x > /etc/motd; cat <nofile; echo a >; time cat /etc/motd; "
                          + "time segv null; time false; free")
        expect(out, ["Welcome to swift86", "sh: cannot create /etc/motd: ",
                     "sh: cannot open nofile: No such file or directory\n", "sh: syntax error: newline unexpected\n",
                     "\ncat: 0inputs+0outputs (", "minor)pagefaults 0swaps\n", "Command terminated by signal 11\n",
                     "\nsegv: 0inputs+0outputs (", "Command exited with non-zero status 127\n", "\nSwap: "])
        XCTAssertEqual(out.components(separatedBy: "Welcome to swift86").count - 1, 2, out)
        XCTAssertFalse(out.contains("\nx\n"), "a failed redirection runs nothing:\n\(out)")
    }

    func testLayout() throws {
        let out = try run("layout")
        expect(out, ["global (.data)       0x08050000", "08048000-08050000 r-xp 00000000 00:01 ",
                     "/bin/layout\n", "rw-p 00008000 00:01", "[heap]\n", "[stack]\n", "bffff000-c0000000 rw-p"])
    }

    func testDemandPaging() throws {
        let out = try run("demand 64; demand 10")
        expect(out, ["touched 64 pages: minflt +64 (one demand-zero fault each)", "touched 10 pages: minflt +10",
                     "touched them again: minflt +0"])
    }

    func testCopyOnWrite() throws {
        let out = try run("cowdemo")
        expect(out, ["child 3: wrote value=43 and 'B' into 16 pages: minflt +17 (copy-on-write)",
                     "parent: child 3 exited with status 0", "parent: value=42, buffer[0]='A' (intact)",
                     "after the child exited: minflt +16"])
    }

    func testBrkAndMalloc() throws {
        let out = try run("brkdemo")
        expect(out, ["touching the 3 new pages: minflt +3", "refused: break stays", "(reused)", "[heap]"])
    }

    func testMmap() throws {
        let out = try run("mmapdemo")
        expect(out, ["parent: private page holds 'p', shared page holds 'S'",
                     "mapping starts \"*el\", the file still starts \"Wel\"",
                     "shared writable mapping of the read-only file: -13 (-EACCES)", "rw-s 00000000 00:00 0"])
    }

    func testStackGrowthAndOverflow() throws {
        let out = try run("stackdemo; stackdemo overflow; true")
        expect(out, ["stack VMA now 68 KiB (grew by 64 KiB)", "]: segfault at bf7ff", "Segmentation fault\n"])
    }

    func testSegfaults() throws {
        let out = try run("segv")
        expect(out, ["]: segfault at 0 ip ", "error 4\n", "]: segfault at c0100000 ip ", "error 5\n",
                     "]: segfault at 8048000 ip ", "error 7\n", "] general protection fault ip:",
                     "killed by signal 11 (Segmentation fault)"])
        XCTAssertEqual(out.components(separatedBy: "killed by signal 11").count - 1, 4, out)
    }

    func testSigsegvHandler() throws {
        let out = try run("sigdemo")
        expect(out, ["handler: signal 11 at address 0xb7fff00c (si_code 2: SEGV_ACCERR)",
                     "write completed after 1 SIGSEGV; byte is 0x00000055"])
        XCTAssertFalse(out.contains("segfault at"), "a handled SIGSEGV is not logged:\n\(out)")
    }

    /// swapdemo's pattern checks (here without memory pressure: the same lines must hold
    /// when the pages go to swap and back): the checksums are properties of the pattern.
    func testSwapdemoPattern() throws {
        let out = try run("swapdemo 8; swapdemo 8 fork")
        expect(out, ["swapdemo: wrote 8 MiB, checksum 0xe6047662\n",
                     "swapdemo: read back 8 MiB, checksum 0xe6047662: ok\n",
                     "swapdemo: child: read back 8 MiB, checksum 0xe6047662: ok\n",
                     "swapdemo: child: rewrote every other page (1024 pages), checksum 0x37dc3b54\n",
                     "swapdemo: child: read back 8 MiB, checksum 0x37dc3b54: ok\n",
                     "swapdemo: child 4 exited with status 0\n",
                     "swapdemo: parent: read back 8 MiB, checksum 0xe6047662: ok\n", "swapdemo: pswpin "])
    }

    /// A fork loop ends cleanly with -ENOMEM at -m 64M. (It found a swift86 bug: a REP
    /// string instruction stopped by the run limit let the rest of its block run with a
    /// stale EIP — see X86CPUTests/RepResumeTests.)
    func testForkLoopEndsWithENOMEM() throws {
        let out = try run("free; forkbomb; free", mem: "64M")
        expect(out, ["failed: -12 (ENOMEM)", "all killed by SIGKILL"])
    }

    /// Nothing leaks: /proc/meminfo and /proc/buddyinfo read the same before and after
    /// the demos.
    func testMemoryReturns() throws {
        let out = try run("true; cat /proc/meminfo; cat /proc/buddyinfo; cowdemo; demand; mmapdemo; segv; sigdemo; brkdemo; "
                          + "cat /proc/meminfo; cat /proc/buddyinfo")
        let lines = out.split(separator: "\n").map(String.init)
        let info = lines.filter { $0.hasPrefix("MemFree:") || $0.hasPrefix("HighFree:") || $0.hasPrefix("Node 0") || $0.hasPrefix("PageTables:") }
        XCTAssertEqual(info.count % 2, 0, out)
        XCTAssertEqual(Array(info[0..<info.count / 2]), Array(info[(info.count / 2)...]), out)
    }
}
