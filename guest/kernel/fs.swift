// fs.swift: the read-only initramfs (linked into the kernel), /proc files, open file objects, the console.

/// Inode: one file name of the root file system (an initramfs entry, or an s86fs
/// directory entry with its inode's size and first block).
struct Inode {
    var name: UInt32         // absolute path, NUL-terminated
    var data: UInt32         // initramfs: first byte of the contents (kernel .rodata); s86fs: 0
    var size: UInt32         // bytes
    var ino: UInt32          // s86fs inode number (the page-cache mapping; hard links share it); initramfs: 0
    var start: UInt32        // s86fs: first data block
}

/// InitramfsEntry: one row of the table guest.mk generates into initramfs.S.
struct InitramfsEntry {
    var name: UInt32
    var data: UInt32
    var size: UInt32
}

@_extern(c, "initramfs_table_addr") func initramfs_table_addr() -> UInt32

// File kinds.
let FILE_CONSOLE: UInt32 = 1          // the serial console (fds 0, 1, 2)
let FILE_INODE: UInt32 = 2            // an initramfs file
let FILE_PROC: UInt32 = 3             // a /proc file: text generated at open time
let FILE_NULL: UInt32 = 4             // /dev/null: writes vanish, reads see end of file

/// File: struct file, an open file (shared by fork).
struct File {
    var kind: UInt32         // FILE_*
    var inode: UInt32        // name record index + 1 (FILE_INODE)
    var data: UInt32         // contents in memory (initramfs data or the /proc buffer; 0 for s86fs files)
    var size: UInt32         // bytes of contents
    var pos: UInt32          // read offset
    var count: UInt32        // references (fds pointing here)
    var buf: UInt32          // kmalloc buffer to free on the last close (FILE_PROC)
}

@inline(__always) func filep(_ a: UInt32) -> UnsafeMutablePointer<File> { ptr(a, File.self) }

/// nr_inodes() -> file names in the root file system (s86fs or the initramfs).
func nr_inodes() -> UInt32 { Sb.onDisk ? Sb.ndirents : ptr(initramfs_table_addr(), UInt32.self).pointee }

/// inode(i) -> the name record with index i - 1 (i is 1-based).
func inode(_ i: UInt32) -> Inode {
    if i == 0 || i > nr_inodes() { panic("inode: bad inode number") }
    if Sb.onDisk { return ptr(Sb.dir, Inode.self)[Int(i &- 1)] }
    let e = ptr(initramfs_table_addr() &+ 4, InitramfsEntry.self)[Int(i &- 1)]
    return Inode(name: e.name, data: e.data, size: e.size, ino: 0, start: 0)
}

/// kstreq(a, b) -> true if the NUL-terminated strings at kernel addresses a and b match.
func kstreq(_ a: UInt32, _ b: UInt32) -> Bool {
    let p = ptr(a, UInt8.self), q = ptr(b, UInt8.self)
    var i = 0
    while p[i] == q[i] { if p[i] == 0 { return true }; i += 1 }
    return false
}

/// kstrlen(a) -> bytes before the NUL at kernel address a.
func kstrlen(_ a: UInt32) -> UInt32 {
    let p = ptr(a, UInt8.self)
    var i = 0
    while p[i] != 0 { i += 1 }
    return UInt32(i)
}

/// namei(path) -> the inode number (1-based) of an initramfs file, or 0.
func namei(_ path: UInt32) -> UInt32 {
    let n = nr_inodes()
    var i: UInt32 = 1
    while i <= n {
        if kstreq(inode(i).name, path) { return i }
        i &+= 1
    }
    return 0
}

/// File caches.
struct Files {
    static var console: UInt32 = 0     // the one console File (never freed)
}

/// file_alloc(kind) -> a new File with one reference, or 0.
func file_alloc(_ kind: UInt32) -> UInt32 {
    let f = kmalloc(UInt32(MemoryLayout<File>.stride), GFP_KERNEL)
    if f == 0 { return 0 }
    filep(f).pointee = File(kind: kind, inode: 0, data: 0, size: 0, pos: 0, count: 1, buf: 0)
    return f
}

/// fget(f): one more reference to File f.
func fget(_ f: UInt32) { filep(f).pointee.count &+= 1 }

/// fput(f): drop a reference; the last frees a /proc buffer and the File.
func fput(_ f: UInt32) {
    let p = filep(f)
    p.pointee.count &-= 1
    if p.pointee.count > 0 || f == Files.console { return }
    if p.pointee.buf != 0 { kfree(p.pointee.buf) }
    kfree(f)
}

/// console_file() -> the console File (made on first use, never freed).
func console_file() -> UInt32 {
    if Files.console == 0 {
        Files.console = file_alloc(FILE_CONSOLE)
        if Files.console == 0 { panic("console_file: out of memory") }
    }
    return Files.console
}

let PROC_BUF_SIZE: UInt32 = 16384     // the biggest /proc file

/// proc_open(path) -> a FILE_PROC File with the text of /proc file path, or 0 if no
/// such file (or no memory). The text is generated once, at open.
func proc_open(_ path: UInt32) -> UInt32 {
    let p = ptr(path, UInt8.self)
    // "/proc/" prefix
    if !cstr_prefix(path, "/proc/") || p[6] == 0 { return 0 }
    let rest = path &+ 6
    var which = 0
    var t: UInt32 = 0
    if cstr_is(rest, "meminfo") { which = 1 }
    else if cstr_is(rest, "buddyinfo") { which = 2 }
    else if cstr_is(rest, "slabinfo") { which = 3 }
    else if cstr_is(rest, "vmallocinfo") { which = 4 }
    else if cstr_is(rest, "vmstat") { which = 8 }
    else if cstr_is(rest, "swaps") { which = 9 }
    else {
        // "self/..." or "PID/..."
        var q = rest
        if cstr_prefix(rest, "self/") { t = Sched.current; q = rest &+ 5 }
        else {
            var pid: UInt32 = 0
            var n = 0
            while ptr(q, UInt8.self).pointee >= 0x30 && ptr(q, UInt8.self).pointee <= 0x39 {
                pid = pid &* 10 &+ UInt32(ptr(q, UInt8.self).pointee &- 0x30)
                q &+= 1
                n += 1
            }
            if n == 0 || ptr(q, UInt8.self).pointee != 0x2F { return 0 }
            q &+= 1
            t = find_task(pid)
            if t == 0 { return 0 }
        }
        if cstr_is(q, "maps") { which = 5 }
        else if cstr_is(q, "stat") { which = 6 }
        else if cstr_is(q, "status") { which = 7 }
        else { return 0 }
    }
    let f = file_alloc(FILE_PROC)
    if f == 0 { return 0 }
    let buf = kmalloc(PROC_BUF_SIZE, GFP_KERNEL)
    if buf == 0 { fput(f); return 0 }
    Console.capture = buf
    Console.captureLen = 0
    Console.captureCap = PROC_BUF_SIZE
    switch which {
    case 1: show_meminfo()
    case 2: show_buddyinfo()
    case 3: show_slabinfo(false)
    case 4: show_vmallocinfo()
    case 5: show_maps(t)
    case 6: show_stat(t)
    case 8: show_vmstat()
    case 9: show_swaps()
    default: show_status(t)
    }
    Console.capture = 0
    filep(f).pointee.buf = buf
    filep(f).pointee.data = buf
    filep(f).pointee.size = Console.captureLen
    return f
}

/// cstr_is(a, s) -> true if the C string at a equals s.
func cstr_is(_ a: UInt32, _ s: StaticString) -> Bool {
    let p = ptr(a, UInt8.self)
    let k = s.utf8Start
    let n = s.utf8CodeUnitCount
    for i in 0..<n where p[i] != k[i] { return false }
    return p[n] == 0
}

/// cstr_prefix(a, s) -> true if the C string at a starts with s.
func cstr_prefix(_ a: UInt32, _ s: StaticString) -> Bool {
    let p = ptr(a, UInt8.self)
    let k = s.utf8Start
    for i in 0..<s.utf8CodeUnitCount where p[i] != k[i] { return false }
    return true
}

/// show_maps(t): /proc/PID/maps in Linux's format:
/// "08048000-0804a000 r-xp 00000000 00:01 3          /bin/memdemo", [heap], [stack].
func show_maps(_ t: UInt32) {
    let mm = task(t).pointee.mm
    if mm == 0 { return }
    let m = mmp(mm).pointee
    var v = m.mmap
    while v != 0 {
        let s = vmap(v).pointee
        let line = printk(.info).xr(s.start, 8).s("-").xr(s.end, 8).s(" ")
        line.s(s.flags & VM_READ != 0 ? "r" : "-").s(s.flags & VM_WRITE != 0 ? "w" : "-")
            .s(s.flags & VM_EXEC != 0 ? "x" : "-").s(s.flags & VM_SHARED != 0 ? "s" : "p")
            .s(" ").xr(s.inode != 0 ? s.pgoff : 0, 8)
        if s.inode != 0 {
            let ino = inode(s.inode)
            let num = ino.ino != 0 ? ino.ino : s.inode          // s86fs: the disk inode; initramfs: the entry
            line.s(ino.ino != 0 ? " 03:00 " : " 00:01 ").u(num)
            var w = 1
            var k = num
            while k >= 10 { k /= 10; w += 1 }
            for _ in 0..<(11 - w) { line.c(0x20) }
            line.cstr(inode(s.inode).name)
        } else {
            line.s(" 00:00 0")
            if s.start == m.startBrk {
                line.s("          [heap]")
            } else if s.flags & VM_GROWSDOWN != 0 {
                line.s("          [stack]")
            } else {
                line.s(" ")
            }
        }
        line.end()
        v = s.next
    }
}

/// task_state_char(t) -> 'R', 'S' or 'Z'.
func task_state_char(_ t: UInt32) -> UInt8 {
    switch task(t).pointee.state {
    case TASK_RUNNING: return 0x52
    case TASK_ZOMBIE: return 0x5A
    default: return 0x53
    }
}

/// show_stat(t): /proc/PID/stat: Linux's first 24 fields (times are 0: they depend on
/// the host's speed).
func show_stat(_ t: UInt32) {
    let p = task(t).pointee
    let vsz = p.mm != 0 ? mmp(p.mm).pointee.totalVm << PAGE_SHIFT : 0
    let rss = p.mm != 0 ? mmp(p.mm).pointee.rss : 0
    printk(.info).u(p.pid).s(" (").cstr(comm_addr(t)).s(") ").c(task_state_char(t)).s(" ").u(p.ppid)
        .s(" ").u(p.pid).s(" ").u(p.pid).s(" 0 -1 0 ").u(p.minflt).s(" ").u(p.cminflt).s(" ")
        .u(p.majflt).s(" ").u(p.cmajflt).s(" 0 0 0 0 20 0 1 0 0 ").u(vsz).s(" ").u(rss).end()
}

/// show_status(t): /proc/PID/status: the memory fields (kB).
func show_status(_ t: UInt32) {
    let p = task(t).pointee
    printk(.info).s("Name:\t").cstr(comm_addr(t)).end()
    printk(.info).s("State:\t").c(task_state_char(t)).end()
    printk(.info).s("Pid:\t").u(p.pid).end()
    printk(.info).s("PPid:\t").u(p.ppid).end()
    if p.mm != 0 {
        let m = mmp(p.mm).pointee
        printk(.info).s("VmSize:\t").udw(m.totalVm << 2, 8).s(" kB").end()
        printk(.info).s("VmRSS:\t").udw(m.rss << 2, 8).s(" kB").end()
        printk(.info).s("VmData:\t").udw((m.brk &- m.startData) >> 10, 8).s(" kB").end()
        printk(.info).s("VmPTE:\t").udw(m.ptPages << 2, 8).s(" kB").end()
        printk(.info).s("VmSwap:\t").udw(m.swapEnts << 2, 8).s(" kB").end()
    }
}
