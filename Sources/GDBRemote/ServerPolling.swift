// ServerPolling: lets a running emulator check for an incoming gdb connection without blocking.
#if canImport(Glibc)
import Glibc
#endif

extension GDBServer {
    /// True when a gdb connection is waiting on the listening socket (after `listen`),
    /// so `run()` would accept it at once. Waits at most `milliseconds`.
    public func connectionPending(milliseconds: Int32 = 0) -> Bool {
        guard listenFD >= 0 else { return false }
        var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) > 0 && p.revents & Int16(POLLIN) != 0
    }
}
