// GDBEndToEndTests: stock gdb (and a raw socket client) against GDBServer serving the fake target.
import XCTest
import Foundation
import Glibc
@testable import GDBRemote

/// Runs `GDBServer` with a `FakeTarget` on a background thread.
final class ServerHarness: @unchecked Sendable {
    let target = FakeTarget()
    let server: GDBServer
    let port: UInt16
    let done = DispatchSemaphore(value: 0)
    var end: GDBSessionEnd?
    var error: Error?
    var log: [String] = []
    let lock = NSLock()

    init() throws {
        server = GDBServer(target: target)
        port = try server.listen(port: 0)
        server.trace = { [unowned self] line in lock.lock(); log.append(line); lock.unlock() }
        let thread = Thread { [self] in
            do { end = try server.run() } catch { self.error = error }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the session to end; false on timeout.
    func wait(seconds: Double) -> Bool {
        done.wait(timeout: .now() + seconds) == .success
    }

    var packets: [String] { lock.lock(); defer { lock.unlock() }; return log }
}

final class GDBEndToEndTests: XCTestCase {
    static let gdbPath = "/usr/bin/gdb"

    /// Runs gdb in batch mode with `commands` against 127.0.0.1:`port`; returns stdout+stderr.
    func runGDB(port: UInt16, commands: [String], setArchitecture: Bool = true, timeout: Double = 60,
                whileRunning: (Process) -> Void = { _ in }) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.gdbPath)
        var args = ["-batch", "-nx"]
        if setArchitecture { args += ["-ex", "set architecture i386"] }
        args += ["-ex", "target remote 127.0.0.1:\(port)"]
        for c in commands { args += ["-ex", c] }
        process.arguments = args
        let outputPath = NSTemporaryDirectory() + "gdbremote-\(getpid())-\(port).log"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try XCTUnwrap(FileHandle(forWritingAtPath: outputPath))
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        whileRunning(process)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate(); XCTFail("gdb timed out") }
        process.waitUntilExit()
        try output.close()
        let data = FileManager.default.contents(atPath: outputPath) ?? Data()
        if ProcessInfo.processInfo.environment["GDBREMOTE_VERBOSE"] != nil {
            print(String(decoding: data, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }

    func testStockGDBSession() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gdbPath), "gdb is not installed")
        let h = try ServerHarness()
        let out = try runGDB(port: h.port, commands: [
            "info registers eip", "x/4xb 0x1000", "stepi", "info registers eip",
            "break *0x1010", "continue", "monitor hello", "detach",
        ])
        XCTAssertTrue(h.wait(seconds: 10), "server did not finish")
        XCTAssertNil(h.error)
        XCTAssertEqual(h.end, .detached)
        let log = h.packets.joined(separator: "\n")
        XCTAssertFalse(out.contains("rejected"), out)                       // the target description was accepted
        XCTAssertFalse(out.contains("Remote 'g' packet reply"), out)
        XCTAssertTrue(out.contains("eip            0x1000"), out)
        XCTAssertTrue(out.contains("0x1000:\t0x00\t0x01\t0x02\t0x03"), out)
        XCTAssertTrue(out.contains("eip            0x1001"), out)
        XCTAssertTrue(out.contains("Breakpoint 1 at 0x1010"), out)
        XCTAssertTrue(out.contains("Breakpoint 1, 0x00001010"), out)
        XCTAssertTrue(out.contains("hello from the fake target"), out)
        XCTAssertTrue(log.contains("<- qXfer:features:read:target.xml"), log)
        XCTAssertTrue(log.contains("<- Z0,1010,1"), log)
        XCTAssertEqual(h.target.registers[8], 0x1010)
        XCTAssertEqual(h.target.monitorLog, ["hello"])
    }

    func testStockGDBRegistersMemoryAndWatchpoint() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gdbPath), "gdb is not installed")
        let h = try ServerHarness()
        let out = try runGDB(port: h.port, commands: [
            "set \\$eax = 0x12345678", "print/x \\$eax", "print \\$st0", "info registers eflags",
            "set {int}0x3000 = 0xcafef00d", "x/1xw 0x3000", "x/1xb 0x20000",
            "watch *(char*)0x2000", "continue", "delete",
            "set \\$eip = 0x7ff0", "continue", "kill",
        ].map { $0.replacingOccurrences(of: "\\$", with: "$") })
        XCTAssertTrue(h.wait(seconds: 10), "server did not finish")
        if ProcessInfo.processInfo.environment["GDBREMOTE_VERBOSE"] != nil { print(h.packets.joined(separator: "\n")) }
        XCTAssertNil(h.error)
        XCTAssertEqual(h.target.registers[0], 0x1234_5678)
        XCTAssertTrue(out.contains("$1 = 0x12345678"), out)
        XCTAssertTrue(out.contains("<unavailable>"), out)
        XCTAssertTrue(out.contains("[ IF ]"), out)
        XCTAssertTrue(out.contains("0x3000:\t0xcafef00d"), out)
        XCTAssertTrue(out.contains("Cannot access memory at address 0x20000"), out)
        XCTAssertTrue(out.contains("Hardware watchpoint 1: *(char*)0x2000"), out)
        XCTAssertTrue(out.contains("New value"), out)
        XCTAssertTrue(out.contains("exited with code 07"), out + h.packets.suffix(30).joined(separator: "\n"))
    }

    /// Without `set architecture`, gdb (on an x86-64 host) takes i386 from target.xml.
    func testStockGDBTakesArchitectureFromTargetXML() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gdbPath), "gdb is not installed")
        let h = try ServerHarness()
        let out = try runGDB(port: h.port, commands: ["show architecture", "info registers", "stepi", "x/i $pc", "detach"],
                             setArchitecture: false)
        XCTAssertTrue(h.wait(seconds: 10), "server did not finish")
        XCTAssertEqual(h.end, .detached)
        XCTAssertTrue(out.contains("(currently \"i386\")"), out)
        XCTAssertTrue(out.contains("esp            0x9000"), out)
        XCTAssertTrue(out.contains("cs             0x8"), out)
        XCTAssertTrue(out.contains("gs             0x10"), out)
        XCTAssertTrue(out.contains("=> 0x1001:"), out)
    }

    /// SIGINT to gdb while the target runs: gdb sends 0x03, the target stops with SIGINT.
    func testStockGDBInterrupt() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gdbPath), "gdb is not installed")
        let h = try ServerHarness()
        h.target.spinForever = true
        let out = try runGDB(port: h.port, commands: ["continue", "info registers eip", "detach"]) { gdb in
            let deadline = Date().addingTimeInterval(30)
            while h.target.interruptPolls < 1000, Date() < deadline { usleep(10_000) }
            gdb.interrupt()
        }
        XCTAssertTrue(h.wait(seconds: 10), "server did not finish")
        XCTAssertEqual(h.end, .detached)
        XCTAssertTrue(out.contains("received signal SIGINT"), out)
        XCTAssertTrue(out.contains("eip            0x1000"), out)
    }

    /// Ctrl-C while running, acks, a nack resend and QStartNoAckMode over a raw socket.
    func testRawSocketInterruptAndAcks() throws {
        let h = try ServerHarness()
        h.target.spinForever = true
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = h.port.bigEndian
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(rc, 0)
        var received: [UInt8] = []
        func send(_ s: [UInt8]) { _ = s.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) } }
        /// Reads until `expected` appears in what was received since the last call.
        func expect(_ expected: String) {
            let want = Array(expected.utf8)
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if let r = received.firstRange(of: want) {
                    received.removeSubrange(received.startIndex..<r.upperBound)
                    return
                }
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, 100) > 0 {
                    var buf = [UInt8](repeating: 0, count: 1024)
                    let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break }
                    received += buf[0..<n]
                }
            }
            XCTFail("did not receive \(expected); got \(String(decoding: received, as: UTF8.self))")
        }
        send(Array("$?#3f".utf8))
        expect("+$T0508:00100000;thread:01;#")
        send(Array("-".utf8))                                         // nack: resend
        expect("$T0508:00100000;thread:01;#")
        send(Array("+$g#00".utf8))                                    // bad checksum
        expect("-")
        send(GDBPacket.frame(Array("QStartNoAckMode".utf8)))
        expect("+$OK#9a")
        send(Array("+".utf8) + GDBPacket.frame(Array("c".utf8)))
        while h.target.interruptPolls < 10 { usleep(1000) }
        send([0x03])
        expect("$T0208:00100000;thread:01;#")
        XCTAssertFalse(String(decoding: received, as: UTF8.self).contains("+"))
        send(GDBPacket.frame(Array("D".utf8)))
        expect("$OK#9a")
        XCTAssertTrue(h.wait(seconds: 10))
        XCTAssertEqual(h.end, .detached)
    }

    func testDisconnectEndsSession() throws {
        let h = try ServerHarness()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = h.port.bigEndian
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        XCTAssertTrue(h.wait(seconds: 10))
        XCTAssertEqual(h.end, .disconnected)
    }

    func testListenOnBusyPortThrows() throws {
        let h = try ServerHarness()
        let other = GDBServer(target: FakeTarget())
        XCTAssertThrowsError(try other.listen(port: h.port)) { error in
            XCTAssertTrue("\(error)".contains("bind to 127.0.0.1:\(h.port)"), "\(error)")
        }
        // Let the harness finish: connect and hang up.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = h.port.bigEndian
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        XCTAssertTrue(h.wait(seconds: 10))
    }
}
