// ulib.swift: the user programs' tiny runtime: system call wrappers, line output, strings, sbrk and a small malloc.

@_extern(c, "syscall6") func syscall6(_ n: UInt32, _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ e: UInt32, _ f: UInt32) -> UInt32
@_extern(c, "sig_restorer") func sig_restorer()
@_extern(c, "priv_hlt") func priv_hlt()

typealias CStr = UnsafeMutablePointer<UInt8>

/// sys(n, a...) -> the raw result (negative errno as a large UInt32).
@inline(__always) func sys(_ n: UInt32, _ a: UInt32 = 0, _ b: UInt32 = 0, _ c: UInt32 = 0,
                           _ d: UInt32 = 0, _ e: UInt32 = 0, _ f: UInt32 = 0) -> UInt32 {
    syscall6(n, a, b, c, d, e, f)
}

/// failed(r) -> true if a raw result is -errno (-4095..-1).
@inline(__always) func failed(_ r: UInt32) -> Bool { r >= 0xFFFF_F001 }

/// ua(p) -> a pointer as a 32-bit address.
@inline(__always) func ua<T>(_ p: UnsafeMutablePointer<T>) -> UInt32 { UInt32(UInt(bitPattern: p)) }
@inline(__always) func ua<T>(_ p: UnsafePointer<T>) -> UInt32 { UInt32(UInt(bitPattern: p)) }

/// up(a) -> a byte pointer to address a.
@inline(__always) func up(_ a: UInt32) -> CStr { UnsafeMutablePointer<UInt8>(bitPattern: UInt(a))! }

func exit(_ code: UInt32) -> Never { _ = sys(1, code); while true {} }
func getpid() -> UInt32 { sys(20) }
func getppid() -> UInt32 { sys(64) }
func fork() -> UInt32 { sys(2) }
/// wait4(pid, status, rusage): rusage, if not 0, is the address of a 72-byte Linux i386
/// struct rusage the kernel fills (ru_minflt at byte 32, ru_majflt at 36).
func wait4(_ pid: UInt32, _ status: UnsafeMutablePointer<UInt32>?, _ rusage: UInt32 = 0) -> UInt32 {
    sys(114, pid, status.map { ua($0) } ?? 0, 0, rusage)
}
func kill(_ pid: UInt32, _ sig: UInt32) -> UInt32 { sys(37, pid, sig) }
func brk(_ a: UInt32) -> UInt32 { sys(45, a) }
func mmap(_ a: UInt32, _ len: UInt32, _ prot: UInt32, _ flags: UInt32, _ fd: UInt32 = 0xFFFF_FFFF, _ pgoff: UInt32 = 0) -> UInt32 {
    sys(192, a, len, prot, flags, fd, pgoff)
}
func munmap(_ a: UInt32, _ len: UInt32) -> UInt32 { sys(91, a, len) }
func mprotect(_ a: UInt32, _ len: UInt32, _ prot: UInt32) -> UInt32 { sys(125, a, len, prot) }
func open(_ path: StaticString) -> UInt32 { sys(5, ua(path.utf8Start), 0) }
func openc(_ path: CStr, _ flags: UInt32 = O_RDONLY) -> UInt32 { sys(5, ua(path), flags) }
func dup2(_ old: UInt32, _ new: UInt32) -> UInt32 { sys(63, old, new) }
func lseek(_ fd: UInt32, _ off: UInt32, _ whence: UInt32) -> UInt32 { sys(19, fd, off, whence) }
func read(_ fd: UInt32, _ buf: UInt32, _ n: UInt32) -> UInt32 { sys(3, fd, buf, n) }
func close(_ fd: UInt32) { _ = sys(6, fd) }
func write(_ fd: UInt32, _ buf: UInt32, _ n: UInt32) { _ = sys(4, fd, buf, n) }
func sched_yield() { _ = sys(158) }
func nanosleep(_ sec: UInt32) {
    var ts: (UInt32, UInt32) = (sec, 0)
    _ = sys(162, ua(withUnsafeMutablePointer(to: &ts) { $0 }), 0)
}

let PROT_READ: UInt32 = 1, PROT_WRITE: UInt32 = 2, PROT_EXEC: UInt32 = 4
let MAP_SHARED: UInt32 = 1, MAP_PRIVATE: UInt32 = 2, MAP_ANONYMOUS: UInt32 = 0x20
let PAGE: UInt32 = 4096
let O_RDONLY: UInt32 = 0, O_WRONLY: UInt32 = 1, O_RDWR: UInt32 = 2
let SEEK_SET: UInt32 = 0, SEEK_CUR: UInt32 = 1, SEEK_END: UInt32 = 2

/// scratch(n) -> n bytes that are never freed (from malloc).
func scratch(_ n: UInt32) -> UInt32 { malloc(n) }

@_cdecl("posix_memalign")
func posix_memalign(_ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ align: Int, _ size: Int) -> Int32 {
    let p = malloc(UInt32(size &+ align))
    if p == 0 { return 12 }
    out.pointee = UnsafeMutableRawPointer(bitPattern: UInt((p &+ UInt32(align) &- 1) & ~(UInt32(align) &- 1)))
    return 0
}

@_cdecl("putchar")
func putchar(_ c: Int32) -> Int32 {
    var b = UInt8(truncatingIfNeeded: c)
    write(1, ua(withUnsafeMutablePointer(to: &b) { $0 }), 1)
    return c
}

/// Out: one line of output being built; end() writes it with one write(2).
struct Out {
    static var buf: UInt32 = 0
    static var len: UInt32 = 0
}

/// out() -> a fresh output line.
func out() -> Line {
    if Out.buf == 0 { Out.buf = malloc(1024) }
    Out.len = 0
    return Line()
}

/// Line: printf-like appenders (each returns the line), end() adds "\n" and writes (to
/// stdout, or to the descriptor given: end(2) for error messages).
struct Line {
    @inline(never) @discardableResult func c(_ b: UInt8) -> Line {
        if Out.len < 1023 { up(Out.buf)[Int(Out.len)] = b; Out.len += 1 }
        return self
    }
    @inline(never) @discardableResult func s(_ t: StaticString) -> Line {
        let p = t.utf8Start
        for i in 0..<t.utf8CodeUnitCount { c(p[i]) }
        return self
    }
    @inline(never) @discardableResult func cs(_ p: CStr) -> Line {
        var i = 0
        while p[i] != 0 { c(p[i]); i += 1 }
        return self
    }
    @inline(never) @discardableResult func u(_ v: UInt32) -> Line {
        var pow: UInt32 = 1
        while pow <= v / 10 { pow &*= 10 }
        while pow > 0 { c(0x30 &+ UInt8(truncatingIfNeeded: (v / pow) % 10)); pow /= 10 }
        return self
    }
    @inline(never) @discardableResult func d(_ v: Int32) -> Line {
        if v < 0 { c(0x2D); return u(UInt32(bitPattern: 0 &- v)) }
        return u(UInt32(v))
    }
    /// uw(v, w): v right-aligned in w columns.
    @inline(never) @discardableResult func uw(_ v: UInt32, _ w: Int) -> Line {
        var n = 1
        var t = v
        while t >= 10 { t /= 10; n += 1 }
        for _ in 0..<max(0, w - n) { c(0x20) }
        return u(v)
    }
    /// x(v): 0x and 8 hex digits.
    @inline(never) @discardableResult func x(_ v: UInt32) -> Line {
        s("0x")
        var i = 8
        while i > 0 {
            i -= 1
            let nib = UInt8(truncatingIfNeeded: (v >> UInt32(i * 4)) & 0xF)
            c(nib < 10 ? 0x30 &+ nib : 0x57 &+ nib)
        }
        return self
    }
    func end(_ fd: UInt32 = 1) {
        c(0x0A)
        write(fd, Out.buf, Out.len)
        Out.len = 0
    }
    /// errno(e): the text of error number e (positive) as strerror gives it for the
    /// common ones, else "error E".
    @inline(never) @discardableResult func errno(_ e: UInt32) -> Line {
        switch e {
        case 2: return s("No such file or directory")
        case 13: return s("Permission denied")
        case 30: return s("Read-only file system")
        default: return s("error ").u(e)
        }
    }
    /// flush(): write without a newline.
    func flush() {
        write(1, Out.buf, Out.len)
        Out.len = 0
    }
}

/// puts(t): write a static string and a newline.
func puts(_ t: StaticString) { out().s(t).end() }

/// streq(a, b) -> C string equals static string.
func streq(_ a: CStr, _ b: StaticString) -> Bool {
    let k = b.utf8Start
    let n = b.utf8CodeUnitCount
    for i in 0..<n where a[i] != k[i] { return false }
    return a[n] == 0
}

/// strlen(p) -> bytes before the NUL.
func strlen(_ p: CStr) -> Int {
    var i = 0
    while p[i] != 0 { i += 1 }
    return i
}

/// atou(p) -> the decimal number at p (stops at the first non-digit).
func atou(_ p: CStr) -> UInt32 {
    var v: UInt32 = 0
    var i = 0
    while p[i] >= 0x30 && p[i] <= 0x39 { v = v &* 10 &+ UInt32(p[i] &- 0x30); i += 1 }
    return v
}

/// Heap: sbrk and a first-fit malloc with a free list (blocks carry a size header).
struct Heap {
    static var brk: UInt32 = 0
    static var freeList: UInt32 = 0      // first free block (header address) or 0
    static var grows: UInt32 = 0         // sbrk calls that moved the break
}

/// sbrk(n) -> the old break, after moving it by n bytes; 0 on failure.
func sbrk(_ n: UInt32) -> UInt32 {
    if Heap.brk == 0 { Heap.brk = brk(0) }
    let old = Heap.brk
    if n == 0 { return old }
    let r = brk(old &+ n)
    if r != old &+ n { return 0 }
    Heap.brk = r
    Heap.grows &+= 1
    return old
}

/// malloc(n) -> a 16-byte aligned block of at least n bytes, or 0. Blocks: an 16-byte
/// header (size, next) before the data; free blocks on a first-fit list; the heap
/// grows by at least 16 KiB at a time.
func malloc(_ n: UInt32) -> UInt32 {
    let need = (n &+ 15) & ~15
    var prev: UInt32 = 0
    var b = Heap.freeList
    while b != 0 {
        let hdr = UnsafeMutablePointer<UInt32>(bitPattern: UInt(b))!
        if hdr[0] >= need {
            if prev == 0 { Heap.freeList = hdr[1] } else { UnsafeMutablePointer<UInt32>(bitPattern: UInt(prev))![1] = hdr[1] }
            return b &+ 16
        }
        prev = b
        b = hdr[1]
    }
    let grow = max(need &+ 16, 16384)
    let a = sbrk(grow)
    if a == 0 { return 0 }
    let hdr = UnsafeMutablePointer<UInt32>(bitPattern: UInt(a))!
    hdr[0] = grow &- 16
    hdr[1] = 0
    return a &+ 16
}

/// mfree(p): put a malloc block on the free list.
func mfree(_ p: UInt32) {
    if p == 0 { return }
    let hdr = UnsafeMutablePointer<UInt32>(bitPattern: UInt(p &- 16))!
    hdr[1] = Heap.freeList
    Heap.freeList = p &- 16
}

/// read_file(path, buf, cap) -> bytes read from the whole file into buf (NUL added),
/// or -1 if it cannot be opened.
func read_file(_ path: CStr, _ buf: UInt32, _ cap: UInt32) -> Int32 {
    let fd = openc(path)
    if failed(fd) { return -1 }
    var n: UInt32 = 0
    while n < cap &- 1 {
        let r = read(fd, buf &+ n, cap &- 1 &- n)
        if failed(r) || r == 0 { break }
        n &+= r
    }
    up(buf)[Int(n)] = 0
    close(fd)
    return Int32(n)
}

/// cat_path(path) -> false if path cannot be opened; else copies the file to stdout
/// with cat_fd (mapped unless it is a /proc file, whose text only read() gives).
func cat_path(_ path: CStr) -> Bool {
    let fd = openc(path)
    if failed(fd) { return false }
    cat_fd(fd, !has_prefix(path, "/proc/"))
    close(fd)
    return true
}

/// cat_fd(fd, map): copy an open file to stdout: with map, through a private read-only
/// mapping (cat_mapped); if that is not possible (no lseek or mmap on this file), with
/// read() into a 4 KiB buffer.
func cat_fd(_ fd: UInt32, _ map: Bool) {
    let buf = malloc(PAGE)
    if !map || !cat_mapped(fd, buf) {
        while true {
            let r = read(fd, buf, PAGE)
            if failed(r) || r == 0 { break }
            write(1, buf, r)
        }
    }
    mfree(buf)
}

/// cat_mapped(fd, buf) -> true if the file was copied to stdout through a mapping: size
/// from lseek(SEEK_END), mmap(MAP_PRIVATE, PROT_READ), then page by page a user-mode
/// copy into buf (4 KiB) and a write(), so the copy takes the page faults (major when
/// the page comes from disk, minor when it is in the page cache); munmap after. False
/// (offset back at 0) if lseek or mmap fails or the file is empty.
func cat_mapped(_ fd: UInt32, _ buf: UInt32) -> Bool {
    let size = lseek(fd, 0, SEEK_END)
    if failed(size) { return false }
    if size == 0 { return false }
    let a = mmap(0, size, PROT_READ, MAP_PRIVATE, fd, 0)
    _ = lseek(fd, 0, SEEK_SET)
    if failed(a) { return false }
    var off: UInt32 = 0
    while off < size {
        let n = min(PAGE, size &- off)
        UnsafeMutableRawPointer(up(buf)).copyMemory(from: UnsafeRawPointer(up(a &+ off)), byteCount: Int(n))
        write(1, buf, n)
        off &+= n
    }
    _ = munmap(a, (size &+ PAGE &- 1) & ~(PAGE &- 1))
    return true
}

/// has_prefix(p, s) -> true if the C string p starts with s.
func has_prefix(_ p: CStr, _ s: StaticString) -> Bool {
    let k = s.utf8Start
    for i in 0..<s.utf8CodeUnitCount where p[i] != k[i] { return false }
    return true
}

/// proc_value(p, key) -> the number after key (and spaces) on the line of p that starts
/// with key ("MemFree:" in /proc/meminfo, "pswpin " in /proc/vmstat), or 0 if no line does.
func proc_value(_ p: CStr, _ key: StaticString) -> UInt32 {
    var i = 0
    let k = key.utf8Start
    let n = key.utf8CodeUnitCount
    while p[i] != 0 {
        var j = 0
        while j < n && p[i + j] == k[j] { j += 1 }
        if j == n {
            i += n
            while p[i] == 0x20 { i += 1 }
            return atou(p + i)
        }
        while p[i] != 0 && p[i] != 0x0A { i += 1 }
        if p[i] == 0x0A { i += 1 }
    }
    return 0
}

/// self_stat_field(k) -> field k (1-based, as proc(5) numbers them) of /proc/self/stat.
func self_stat_field(_ k: Int) -> UInt32 {
    let buf = statBuf()
    if read_file(cstr("/proc/self/stat"), buf, 512) < 0 { return 0 }
    return stat_field(up(buf), k)
}

/// statBuf() -> a 512-byte buffer reserved once (so measuring does not fault).
func statBuf() -> UInt32 {
    if Stat.buf == 0 { Stat.buf = scratch(512) }
    return Stat.buf
}
struct Stat { static var buf: UInt32 = 0 }

/// stat_field(p, k) -> field k of a /proc/PID/stat line (the comm is one field).
func stat_field(_ p: CStr, _ k: Int) -> UInt32 {
    var i = 0
    var field = 1
    while p[i] != 0 && field < k {
        if p[i] == 0x28 { while p[i] != 0 && p[i] != 0x29 { i += 1 } }   // skip "(comm)"
        if p[i] == 0x20 { field += 1 }
        i += 1
    }
    return atou(p + i)
}

/// minflt() -> this process's minor fault count (field 10 of /proc/self/stat).
func minflt() -> UInt32 { self_stat_field(10) }

/// cstr(s) -> a static string as a C pointer (static strings are NUL-terminated).
func cstr(_ s: StaticString) -> CStr { UnsafeMutablePointer(mutating: s.utf8Start) }

/// wait_report(pid): wait for child pid and print how it ended.
func wait_report(_ pid: UInt32) {
    var st: UInt32 = 0
    _ = wait4(pid, &st)
    let l = out().s("parent: child ").u(pid)
    if st & 0x7F == 0 { l.s(" exited with status ").u((st >> 8) & 0xFF).end() }
    else { l.s(" killed by signal ").u(st & 0x7F).s(" (").s(signame(st & 0x7F)).s(")").end() }
}

/// signame(s) -> the shell's description of signal s.
func signame(_ s: UInt32) -> StaticString {
    switch s {
    case 4: return "Illegal instruction"
    case 8: return "Floating point exception"
    case 9: return "Killed"
    case 11: return "Segmentation fault"
    case 15: return "Terminated"
    default: return "Signal"
    }
}
