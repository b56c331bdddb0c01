// Server: runs a GDBSession over one TCP connection (127.0.0.1 by default) with Glibc sockets.
import Glibc

/// A socket-level failure, with the call that failed and errno's text.
public struct GDBServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ call: String) {
        description = "gdb stub: \(call) failed: \(String(cString: strerror(errno)))"
    }
    /// An error that is not a failed system call.
    init(message: String) { description = "gdb stub: " + message }
}

/// The GDB remote stub: listens (on 127.0.0.1 unless told otherwise), accepts one gdb, runs its session.
///
/// Typical use: `let port = try server.listen(port: 1234)`, tell the user the port,
/// then `let end = try server.run()`. Or `serve(port:)` for both. Acks (`+`/`-`) are
/// handled until gdb asks for `QStartNoAckMode`; a `-` resends the last packet; Ctrl-C
/// (0x03) while the target runs makes `GDBSession.interruptCheck` return true.
public final class GDBServer {
    /// The session core (packet handling, state); usable directly without sockets.
    public let session: GDBSession
    var listenFD: Int32 = -1
    var connFD: Int32 = -1
    var parser = GDBPacketParser(maxPacket: GDBSession.packetSize * 2)
    var pending: [GDBInputEvent] = []       // events read but not yet handled
    var lastSent: [UInt8] = []              // last framed packet, for `-`
    var interruptSeen = false
    /// Optional log of every packet in and out (for `-d gdb` style tracing).
    public var trace: ((String) -> Void)?

    /// A server for `target`.
    public init(target: GDBTarget) {
        session = GDBSession(target: target)
        session.interruptCheck = { [unowned self] in self.pollInterrupt() }
    }

    deinit {
        if connFD >= 0 { close(connFD) }
        if listenFD >= 0 { close(listenFD) }
    }

    /// Binds and listens on 127.0.0.1:`port` (0 picks a free port) and returns the port
    /// actually bound. Throws `GDBServerError` on failure (e.g. the port is in use).
    @discardableResult
    public func listen(port: UInt16) throws -> UInt16 { try listen(host: "127.0.0.1", port: port) }

    /// Binds and listens on `host` (a dotted IPv4 address; "" or "0.0.0.0" for every
    /// interface) and `port`; returns the port bound.
    @discardableResult
    public func listen(host: String, port: UInt16) throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw GDBServerError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        if host.isEmpty {
            addr.sin_addr.s_addr = 0
        } else if inet_pton(AF_INET, host, &addr.sin_addr) != 1 {
            close(fd)
            throw GDBServerError(message: "not an IPv4 address: \(host)")
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { let e = GDBServerError("bind to \(host.isEmpty ? "0.0.0.0" : host):\(port)"); close(fd); throw e }
        guard Glibc.listen(fd, 1) == 0 else { let e = GDBServerError("listen"); close(fd); throw e }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listenFD = fd
        return UInt16(bigEndian: actual.sin_port)
    }

    /// Listens on `port`, calls `ready` with the bound port, then runs one session.
    public func serve(port: UInt16, ready: (UInt16) -> Void = { _ in }) throws -> GDBSessionEnd {
        let bound = try listen(port: port)
        ready(bound)
        return try run()
    }

    /// Accepts one connection on the listening socket (closing the listener), then
    /// handles packets until `D`, `k`/`vKill`, or the connection closes.
    public func run() throws -> GDBSessionEnd {
        guard listenFD >= 0 else { throw GDBServerError("run before listen") }
        let fd = accept(listenFD, nil, nil)
        close(listenFD)
        listenFD = -1
        guard fd >= 0 else { throw GDBServerError("accept") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        connFD = fd
        defer { close(fd); connFD = -1 }
        while true {
            guard let event = nextEvent() else { return .disconnected }
            switch event {
            case .ack, .interrupt:
                break   // 0x03 while stopped: nothing runs, nothing to interrupt
            case .nack:
                if !session.noAckMode, !lastSent.isEmpty, !sendRaw(lastSent) { return .disconnected }
            case .badChecksum:
                if !session.noAckMode, !sendRaw([UInt8(ascii: "-")]) { return .disconnected }
            case .packet(let body):
                trace?("<- " + String(decoding: body, as: UTF8.self))
                if !session.noAckMode, !sendRaw([UInt8(ascii: "+")]) { return .disconnected }
                interruptSeen = false
                for reply in session.handle(body) {
                    trace?("-> " + String(decoding: reply, as: UTF8.self))
                    lastSent = GDBPacket.frame(reply)
                    if !sendRaw(lastSent) { return .disconnected }
                }
                if let end = session.end { return end }
            }
        }
    }

    /// The next input event, reading from the socket as needed; nil on EOF or error.
    func nextEvent() -> GDBInputEvent? {
        while pending.isEmpty {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(connFD, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            pending = parser.feed(buffer[0..<n])
        }
        return pending.removeFirst()
    }

    /// Whether gdb sent Ctrl-C: reads whatever is waiting without blocking. Other events
    /// are kept for after the stop; a closed connection counts as an interrupt (the
    /// session then ends as disconnected).
    func pollInterrupt() -> Bool {
        if interruptSeen { return true }
        if pending.contains(.interrupt) {
            pending.removeAll { $0 == .interrupt }
            interruptSeen = true
            return true
        }
        var pfd = pollfd(fd: connFD, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 0) > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { recv(connFD, $0.baseAddress, $0.count, 0) }
        if n <= 0 {
            interruptSeen = true
            return true
        }
        for event in parser.feed(buffer[0..<n]) {
            if event == .interrupt { interruptSeen = true } else { pending.append(event) }
        }
        return interruptSeen
    }

    /// Sends all of `bytes`; false if the connection failed.
    func sendRaw(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(connFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
}
