// SwapTests: the s86fs disk, the page cache and swap at -m 32M, swift86 vs QEMU with the same disk image (both in -snapshot mode).
import Foundation
import XCTest

/// The QEMU run going on beside swift86's (written by its thread before group.wait returns).
final class QEMURun: @unchecked Sendable { var result: Result<Run, Error>? }

final class SwapTests: XCTestCase {
    /// run(cmds, mem) -> the serial output from "Run /bin/sh" on, after booting
    /// init=/bin/sh -c "cmds" with build/guest/disk.img on swift86 and (when installed)
    /// QEMU at the same time; the two outputs and exit statuses must be identical and
    /// init must exit 0. The image is never written (-snapshot on both).
    func run(_ cmds: String, mem: String = "32M", file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try Artifacts.require(Artifacts.swift86)
        try Artifacts.require(Artifacts.guest)
        try Artifacts.require(Artifacts.disk)
        let append = "init=/bin/sh -c \"\(cmds)\""
        let referee = QEMURun()
        let group = DispatchGroup()
        if let qemu = Artifacts.qemu {
            DispatchQueue.global().async(group: group) {
                referee.result = Result { try Run.exec(timeout: 600, qemu, Artifacts.qemuFlags + [
                    "-m", mem, "-drive", "file=\(Artifacts.disk),format=raw,if=ide", "-snapshot",
                    "-kernel", Artifacts.guest, "-append", append]) }
            }
        }
        let s = try Run.exec(timeout: 600, Artifacts.swift86, ["boot", "-m", mem, "-hda", Artifacts.disk, "-snapshot",
                                                               "-append", append, Artifacts.guest])
        group.wait()
        if let q = try referee.result?.get() { assertSameAsQEMU(s, q, "for \(cmds)", file: file, line: line) }
        XCTAssertTrue(s.stdout.contains("VFS: Mounted root (s86fs filesystem) readonly on device 3:0"), s.stdout,
                      file: file, line: line)
        return initOutput(s, file: file, line: line)
    }

    /// value(out, prefix, field) -> the number after `field ` on the first line starting
    /// with prefix (e.g. "swapdemo: pswpin", "pswpout").
    func value(_ out: String, _ prefix: String, _ field: String) -> Int? {
        guard let l = out.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        let words = l.split(separator: " ")
        guard let i = words.firstIndex(where: { $0 == field }), i + 1 < words.count else { return nil }
        return Int(words[i + 1])
    }

    /// 48 MiB of anonymous memory in a 32 MiB machine: every word survives the round
    /// trip through swap (the checksum is computed while writing and again while
    /// reading back), with thousands of pages written out and read back in; ps shows
    /// swapdemo's RSS below its size and its major faults; swap space returns when the
    /// program exits.
    func testSwapOutSwapInChecksum() throws {
        let out = try run("swapdemo 48 ps; cat /proc/meminfo; vmstat")
        XCTAssertTrue(out.contains("swapdemo: wrote 48 MiB, checksum 0x3bb9a3f3\n"), out)
        XCTAssertTrue(out.contains("swapdemo: read back 48 MiB, checksum 0x3bb9a3f3: ok\n"), out)
        let pswpout = value(out, "swapdemo: pswpin", "pswpout") ?? 0
        let pswpin = value(out, "swapdemo: pswpin", "pswpin") ?? 0
        let majflt = value(out, "swapdemo: minflt", "majflt") ?? 0
        XCTAssertGreaterThan(pswpout, 4096, out)     // at least the 16+ MiB that cannot fit
        XCTAssertGreaterThan(pswpin, 4096, out)
        XCTAssertGreaterThanOrEqual(majflt, pswpin - 64, "each swap-in is a major fault of swapdemo's:\n\(out)")
        // ps: "PID PPID S VSZ RSS MINFLT MAJFLT swapdemo" -> the six numbers
        let ps = out.split(separator: "\n").first { $0.hasSuffix(" swapdemo") && $0.contains(" S ") }
            .map { $0.split(separator: " ").compactMap { Int($0) } } ?? []
        XCTAssertEqual(ps.count, 6, "ps line for swapdemo:\n\(out)")
        if ps.count == 6 {
            XCTAssertGreaterThan(ps[2], 48 << 10, "VSZ covers the 48 MiB region")
            XCTAssertLessThan(ps[3], 32 << 10, "RSS fits in RAM")
            XCTAssertEqual(ps[5], majflt, "ps's MAJFLT is swapdemo's own count")
        }
        // SwapFree back (within the shell's own few swapped pages) after the exit
        let free = out.split(separator: "\n").first { $0.hasPrefix("SwapFree:") }.map(String.init) ?? ""
        let kb = Int(free.split(separator: " ").dropFirst().first ?? "") ?? 0
        XCTAssertGreaterThan(kb, 65532 - 256, out)
        // vmstat -s: the totals since boot include swapdemo's traffic
        let swappedOut = out.split(separator: "\n").first { $0.hasSuffix(" pages swapped out") }
            .flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
        XCTAssertGreaterThanOrEqual(swappedOut, pswpout, out)
    }

    /// fork shares the swapped-out and resident pages copy-on-write: the child reads
    /// the parent's pattern (some of it from swap), rewrites half, and the parent's
    /// copy is still intact after the child exits.
    func testCopyOnWriteAcrossSwap() throws {
        let out = try run("swapdemo 24 fork")
        for l in ["swapdemo: wrote 24 MiB, checksum 0xb558454c", "swapdemo: child: read back 24 MiB, checksum 0xb558454c: ok",
                  "swapdemo: child: read back 24 MiB, checksum 0x03be6f19: ok", "exited with status 0",
                  "swapdemo: parent: read back 24 MiB, checksum 0xb558454c: ok"] {
            XCTAssertTrue(out.contains(l), "missing \"\(l)\" in:\n\(out)")
        }
        XCTAssertGreaterThan(value(out, "swapdemo: pswpin", "pswpout") ?? 0, 1024, out)
        XCTAssertGreaterThan(value(out, "swapdemo: child: minflt", "majflt") ?? 0, 0, "the child read pages from swap:\n\(out)")
    }

    /// The page cache: the first cat of the 2 MiB file faults every page in from the
    /// disk (major), the second finds them cached (minor); /proc/vmstat agrees.
    func testPageCacheMajorThenMinor() throws {
        let out = try run("time cat /data/big > /dev/null; time cat /data/big > /dev/null; cat /proc/vmstat", mem: "32M")
        let times = out.split(separator: "\n").filter { $0.hasPrefix("cat: 0inputs") }
        XCTAssertEqual(times.count, 2, out)
        guard times.count == 2 else { return }
        XCTAssertTrue(times[0].contains("(512major+"), "first cat: one major fault per page of /data/big:\n\(out)")
        XCTAssertTrue(times[1].contains("(0major+"), "second cat: all minor (cached):\n\(out)")
        XCTAssertGreaterThanOrEqual(value(out, "pgmajfault", "pgmajfault") ?? 0, 512, out)
        XCTAssertGreaterThanOrEqual(value(out, "pgpgin", "pgpgin") ?? 0, 2048, out)
    }

    /// At 1 GiB the page cache lives in high memory (kmap paths): the executables and
    /// the file read the same, maps name the disk inode, reads through read() and mmap
    /// agree, and nothing is swapped.
    func testHighmemPageCacheAndMaps() throws {
        let out = try run("cat /etc/motd; cat < /etc/motd; layout; cat /proc/vmstat", mem: "1G")
        XCTAssertEqual(out.components(separatedBy: "served from the s86fs disk").count - 1, 2, out)
        XCTAssertTrue(out.contains("r-xp 00000000 03:00 1          /bin/layout"), out)
        XCTAssertEqual(value(out, "pswpout", "pswpout"), 0, out)
    }

    /// Memory and swap both exhausted: the process that faults is killed (no hang,
    /// no panic, no thrashing without end), and everything it had comes back.
    func testSwapFullKillsTheFaultingProcess() throws {
        let out = try run("swapdemo 100; free; swapdemo 8")
        XCTAssertTrue(out.contains("Out of memory: killed process 2 (swapdemo)\n"), out)
        XCTAssertTrue(out.contains("swapdemo: read back 8 MiB, checksum 0xe6047662: ok"), out)
        let swap = out.split(separator: "\n").first { $0.hasPrefix("Swap:") }.map(String.init) ?? ""
        let used = Int(swap.split(separator: " ").dropFirst(2).first ?? "") ?? -1
        XCTAssertTrue(used >= 0 && used < 1024, "swap returned after the kill:\n\(out)")
    }

    /// fileBytes(image, path) -> the contents of `path` in an s86fs image, read with the
    /// on-disk format of docs/kernel.md (superblock, directory, inode table).
    func fileBytes(_ image: String, _ path: String) throws -> Data {
        let d = try Data(contentsOf: URL(fileURLWithPath: image))
        func u32(_ o: Int) -> Int { Int(d[o]) | Int(d[o + 1]) << 8 | Int(d[o + 2]) << 16 | Int(d[o + 3]) << 24 }
        XCTAssertEqual(u32(0), 0x4636_3853, "s86fs magic")
        let inodeStart = u32(16), direntStart = u32(20), ndirents = u32(24)
        for k in 0..<ndirents {
            let e = direntStart * 4096 + k * 64
            let name = String(decoding: d[(e + 4)..<(e + 64)].prefix { $0 != 0 }, as: UTF8.self)
            guard name == path, u32(e) != 0 else { continue }
            let ino = inodeStart * 4096 + (u32(e) - 1) * 32
            let size = u32(ino), start = u32(ino + 4)
            return d.subdata(in: (start * 4096)..<(start * 4096 + size))
        }
        throw XCTSkip("\(path) not in \(image)")
    }

    /// Clean file pages are dropped under memory pressure and read again from the disk
    /// correctly: cksum of /data/big before and after swapdemo 40 equals the host's
    /// `cksum` of the file's bytes in the image, and the second one faults every page
    /// in from the disk again (major).
    func testFilePagesDroppedUnderPressureReadBackIntact() throws {
        let out = try run("time cksum /data/big; swapdemo 40; time cksum /data/big")
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("swift86-big-\(getpid())")
        try fileBytes(Artifacts.disk, "/data/big").write(to: tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let host = try Run.exec("/usr/bin/cksum", [tmp.path])
        let want = host.stdout.split(separator: " ").prefix(2).joined(separator: " ") + " /data/big"
        let sums = out.split(separator: "\n").filter { $0.hasSuffix(" /data/big") }
        XCTAssertEqual(sums.count, 2, out)
        for l in sums { XCTAssertEqual(String(l), want, "guest cksum vs host cksum") }
        let times = out.split(separator: "\n").filter { $0.hasPrefix("cksum: 0inputs") }
        XCTAssertEqual(times.count, 2, out)
        for t in times { XCTAssertTrue(t.contains("(512major+"), "every page from the disk: \(t)\n\(out)") }
    }
}
