// syscall.swift: int 0x80 with Linux's i386 ABI (numbers, EBX..EBP arguments, -errno in EAX) and the file, memory and misc calls.

// errno values (Linux).
let EPERM: Int32 = 1, ENOENT: Int32 = 2, ESRCH: Int32 = 3, EINTR: Int32 = 4, E2BIG: Int32 = 7
let ENOEXEC: Int32 = 8, EBADF: Int32 = 9, ECHILD: Int32 = 10, EAGAIN: Int32 = 11, ENOMEM: Int32 = 12
let EACCES: Int32 = 13, EFAULT: Int32 = 14, EINVAL: Int32 = 22, EMFILE: Int32 = 24, EROFS: Int32 = 30
let ENOSYS: Int32 = 38, EIO: Int32 = 5, ESPIPE: Int32 = 29

// System call numbers (arch/x86/entry/syscalls/syscall_32.tbl).
let NR_exit: UInt32 = 1, NR_fork: UInt32 = 2, NR_read: UInt32 = 3, NR_write: UInt32 = 4
let NR_open: UInt32 = 5, NR_close: UInt32 = 6, NR_waitpid: UInt32 = 7, NR_execve: UInt32 = 11
let NR_getpid: UInt32 = 20, NR_kill: UInt32 = 37, NR_brk: UInt32 = 45, NR_getppid: UInt32 = 64
let NR_reboot: UInt32 = 88, NR_munmap: UInt32 = 91, NR_wait4: UInt32 = 114, NR_uname: UInt32 = 122
let NR_mprotect: UInt32 = 125, NR_sched_yield: UInt32 = 158, NR_nanosleep: UInt32 = 162
let NR_rt_sigreturn: UInt32 = 173, NR_rt_sigaction: UInt32 = 174, NR_mmap2: UInt32 = 192
let NR_exit_group: UInt32 = 252, NR_sigreturn: UInt32 = 119
let NR_lseek: UInt32 = 19, NR_dup2: UInt32 = 63

@_extern(c, "copy_user") func copy_user(_ dst: UInt32, _ src: UInt32, _ n: UInt32) -> UInt32
@_extern(c, "clear_user") func clear_user(_ dst: UInt32, _ n: UInt32) -> UInt32

/// access_ok(a, n) -> true if [a, a+n) lies in user space.
@inline(__always) func access_ok(_ a: UInt32, _ n: UInt32) -> Bool {
    a &+ n >= a && a &+ n <= TASK_SIZE
}

/// copy_from_user(kdst, usrc, n) -> true if all n bytes were copied (faults resolve
/// like the user's own; a bad address ends in the fixup).
func copy_from_user(_ kdst: UInt32, _ usrc: UInt32, _ n: UInt32) -> Bool {
    access_ok(usrc, n) && copy_user(kdst, usrc, n) == 0
}

/// copy_to_user(udst, ksrc, n) -> true if all n bytes were copied.
func copy_to_user(_ udst: UInt32, _ ksrc: UInt32, _ n: UInt32) -> Bool {
    access_ok(udst, n) && copy_user(udst, ksrc, n) == 0
}

/// put_user(ua, v) -> true if the word was stored.
func put_user(_ ua: UInt32, _ v: UInt32) -> Bool {
    var w = v
    return copy_to_user(ua, addr(withUnsafeMutablePointer(to: &w) { $0 }), 4)
}

/// get_user(ua) -> the word at user address ua, or nil on a fault.
func get_user(_ ua: UInt32) -> UInt32? {
    var w: UInt32 = 0
    return copy_from_user(addr(withUnsafeMutablePointer(to: &w) { $0 }), ua, 4) ? w : nil
}

/// strncpy_from_user(kdst, usrc, max) -> the string's length (NUL copied too), or -1
/// on a fault or if it does not fit in max bytes.
func strncpy_from_user(_ kdst: UInt32, _ usrc: UInt32, _ max: UInt32) -> Int32 {
    var i: UInt32 = 0
    while i < max {
        if !copy_from_user(kdst &+ i, usrc &+ i, 1) { return -1 }
        if ptr(kdst &+ i, UInt8.self).pointee == 0 { return Int32(i) }
        i &+= 1
    }
    return -1
}

/// err(e) -> -e as the UInt32 EAX carries.
@inline(__always) func err(_ e: Int32) -> UInt32 { UInt32(bitPattern: -e) }

/// do_syscall(f): run system call EAX with arguments EBX, ECX, EDX, ESI, EDI, EBP and
/// put the result (or -errno) in EAX.
func do_syscall(_ f: UnsafeMutablePointer<TrapFrame>) {
    let r = f.pointee
    let nr = r.eax
    var ret: UInt32
    switch nr {
    case NR_exit, NR_exit_group: do_exit((r.ebx & 0xFF) << 8)
    case NR_fork: ret = do_fork(f)
    case NR_read: ret = sys_read(r.ebx, r.ecx, r.edx)
    case NR_write: ret = sys_write(r.ebx, r.ecx, r.edx)
    case NR_open: ret = sys_open(r.ebx, r.ecx)
    case NR_close: ret = sys_close(r.ebx)
    case NR_waitpid: ret = sys_wait4(r.ebx, r.ecx, r.edx, 0)
    case NR_wait4: ret = sys_wait4(r.ebx, r.ecx, r.edx, r.esi)
    case NR_lseek: ret = sys_lseek(r.ebx, r.ecx, r.edx)
    case NR_dup2: ret = sys_dup2(r.ebx, r.ecx)
    case NR_execve: ret = do_execve(f, r.ebx, r.ecx)
    case NR_getpid: ret = current().pointee.pid
    case NR_getppid: ret = current().pointee.ppid
    case NR_kill: ret = sys_kill(r.ebx, r.ecx)
    case NR_brk: ret = sys_brk(r.ebx)
    case NR_mmap2: ret = sys_mmap2(r.ebx, r.ecx, r.edx, r.esi, r.edi, r.ebp)
    case NR_munmap: ret = sys_munmap(r.ebx, r.ecx)
    case NR_mprotect: ret = sys_mprotect(r.ebx, r.ecx, r.edx)
    case NR_sched_yield:
        schedule()
        ret = 0
    case NR_nanosleep: ret = sys_nanosleep(r.ebx)
    case NR_rt_sigaction: ret = sys_rt_sigaction(r.ebx, r.ecx, r.edx)
    case NR_rt_sigreturn, NR_sigreturn: ret = sys_rt_sigreturn(f)
    case NR_uname: ret = sys_uname(r.ebx)
    case NR_reboot: ret = sys_reboot(r.ebx, r.ecx, r.edx)
    default: ret = err(ENOSYS)
    }
    f.pointee.eax = ret
}

/// fd_file(fd) -> the File of descriptor fd of the current task, or 0.
func fd_file(_ fd: UInt32) -> UInt32 {
    if fd >= UInt32(NR_OPEN) { return 0 }
    return ptr(current().pointee.files, UInt32.self)[Int(fd)]
}

/// fd_install(f) -> the lowest free descriptor now holding f, or -EMFILE.
func fd_install(_ f: UInt32) -> UInt32 {
    let fds = ptr(current().pointee.files, UInt32.self)
    for i in 0..<NR_OPEN where fds[i] == 0 {
        fds[i] = f
        return UInt32(i)
    }
    fput(f)
    return err(EMFILE)
}

/// sys_open(path, flags): open a root file system or /proc file read-only, or
/// /dev/null for anything.
func sys_open(_ upath: UInt32, _ flags: UInt32) -> UInt32 {
    var buf: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    let k = addr(withUnsafeMutablePointer(to: &buf) { $0 })
    if strncpy_from_user(k, upath, 64) < 0 { return err(EFAULT) }
    if cstr_is(k, "/dev/null") {
        let n = file_alloc(FILE_NULL)
        return n == 0 ? err(ENOMEM) : fd_install(n)
    }
    var f = proc_open(k)
    if f == 0 {
        if cstr_prefix(k, "/proc/") { return err(ENOENT) }
        let ino = namei(k)
        if ino == 0 { return err(ENOENT) }
        if flags & 3 != 0 { return err(EROFS) }
        f = file_alloc(FILE_INODE)
        if f == 0 { return err(ENOMEM) }
        filep(f).pointee.inode = ino
        filep(f).pointee.data = inode(ino).data
        filep(f).pointee.size = inode(ino).size
    } else if flags & 3 != 0 {
        fput(f)
        return err(EACCES)
    }
    return fd_install(f)
}

/// sys_close(fd).
func sys_close(_ fd: UInt32) -> UInt32 {
    let f = fd_file(fd)
    if f == 0 { return err(EBADF) }
    ptr(current().pointee.files, UInt32.self)[Int(fd)] = 0
    fput(f)
    return 0
}

/// sys_write(fd, buf, n): only the console is writable.
func sys_write(_ fd: UInt32, _ ubuf: UInt32, _ n: UInt32) -> UInt32 {
    let f = fd_file(fd)
    if f == 0 { return err(EBADF) }
    if filep(f).pointee.kind == FILE_NULL { return n }
    if filep(f).pointee.kind != FILE_CONSOLE { return err(EBADF) }
    var chunk: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    let k = addr(withUnsafeMutablePointer(to: &chunk) { $0 })
    var done: UInt32 = 0
    while done < n {
        let m = min(64, n &- done)
        if !copy_from_user(k, ubuf &+ done, m) { return done > 0 ? done : err(EFAULT) }
        for i in 0..<Int(m) { Console.putc(ptr(k, UInt8.self)[i]) }
        done &+= m
    }
    return done
}

/// sys_read(fd, buf, n): files from their position; the console waits for at least
/// one byte from the UART and returns what is there, up to a newline.
func sys_read(_ fd: UInt32, _ ubuf: UInt32, _ n: UInt32) -> UInt32 {
    let f = fd_file(fd)
    if f == 0 { return err(EBADF) }
    let p = filep(f)
    if p.pointee.kind == FILE_CONSOLE {
        var got: UInt32 = 0
        while got < n {
            var lsr = inb(COM1 + UART_LSR)
            while lsr & 1 == 0 {
                if got > 0 { return got }
                x86_safe_halt()
                x86_cli()
                if current().pointee.sigPending != 0 { return err(EINTR) }
                lsr = inb(COM1 + UART_LSR)
            }
            var b = inb(COM1)
            if b == 0x0D { b = 0x0A }
            Console.putc(b)                       // echo, as a tty in cooked mode
            if !put_byte_user(ubuf &+ got, b) { return err(EFAULT) }
            got &+= 1
            if b == 0x0A { break }
        }
        return got
    }
    if p.pointee.kind == FILE_NULL { return 0 }
    let avail = p.pointee.pos < p.pointee.size ? p.pointee.size &- p.pointee.pos : 0
    let m = min(n, avail)
    if p.pointee.kind == FILE_INODE && inode(p.pointee.inode).ino != 0 {
        return file_read_cached(p, ubuf, m)
    }
    if m > 0 && !copy_to_user(ubuf, p.pointee.data &+ p.pointee.pos, m) { return err(EFAULT) }
    p.pointee.pos &+= m
    return m
}

/// file_read_cached(p, ubuf, m) -> bytes copied (m, or fewer before a fault or an
/// I/O error) from s86fs file p at its position through the page cache, or -errno when
/// nothing could be copied.
func file_read_cached(_ p: UnsafeMutablePointer<File>, _ ubuf: UInt32, _ m: UInt32) -> UInt32 {
    let done = filemap_read(inode(p.pointee.inode).ino, p.pointee.pos, m) { src, at, c in copy_to_user(ubuf &+ at, src, c) }
    p.pointee.pos &+= done
    if done == 0 && m > 0 {
        return err(Cache.lastError == -14 ? EFAULT : Cache.lastError == -12 ? ENOMEM : EIO)
    }
    return done
}

let SEEK_SET: UInt32 = 0, SEEK_CUR: UInt32 = 1, SEEK_END: UInt32 = 2

/// sys_lseek(fd, off, whence) -> the new position of a file, or -errno (-ESPIPE on
/// the console, -EINVAL for a negative result).
func sys_lseek(_ fd: UInt32, _ off: UInt32, _ whence: UInt32) -> UInt32 {
    let f = fd_file(fd)
    if f == 0 { return err(EBADF) }
    let p = filep(f)
    if p.pointee.kind == FILE_CONSOLE { return err(ESPIPE) }
    if p.pointee.kind == FILE_NULL { return 0 }
    let base: Int64
    switch whence {
    case SEEK_SET: base = 0
    case SEEK_CUR: base = Int64(p.pointee.pos)
    case SEEK_END: base = Int64(p.pointee.size)
    default: return err(EINVAL)
    }
    let to = base + Int64(Int32(bitPattern: off))
    if to < 0 || to > 0x7FFF_FFFF { return err(EINVAL) }
    p.pointee.pos = UInt32(to)
    return p.pointee.pos
}

/// sys_dup2(old, new) -> new, now referring to old's file (new closed first if open).
func sys_dup2(_ old: UInt32, _ new: UInt32) -> UInt32 {
    let f = fd_file(old)
    if f == 0 || new >= UInt32(NR_OPEN) { return err(EBADF) }
    if old == new { return new }
    let fds = ptr(current().pointee.files, UInt32.self)
    if fds[Int(new)] != 0 { fput(fds[Int(new)]) }
    fget(f)
    fds[Int(new)] = f
    return new
}

/// put_byte_user(ua, b) -> true if stored.
func put_byte_user(_ ua: UInt32, _ b: UInt8) -> Bool {
    var v = b
    return copy_to_user(ua, addr(withUnsafeMutablePointer(to: &v) { $0 }), 1)
}

/// sys_uname(buf): struct new_utsname (6 fields of 65 bytes).
func sys_uname(_ ubuf: UInt32) -> UInt32 {
    let k = kmalloc(6 * 65, GFP_KERNEL)
    if k == 0 { return err(ENOMEM) }
    memset_bytes(k, 0, 6 * 65)
    let fields: (StaticString, StaticString, StaticString, StaticString, StaticString, StaticString) =
        ("Linux", "swift86", "2.6.0-swift86", "#1 Embedded Swift", "i686", "(none)")
    put_field(k, 0, fields.0); put_field(k, 1, fields.1); put_field(k, 2, fields.2)
    put_field(k, 3, fields.3); put_field(k, 4, fields.4); put_field(k, 5, fields.5)
    let ok = copy_to_user(ubuf, k, 6 * 65)
    kfree(k)
    return ok ? 0 : err(EFAULT)
}

/// put_field(k, i, s): copy s into the i-th 65-byte field at k.
func put_field(_ k: UInt32, _ i: UInt32, _ s: StaticString) {
    let d = ptr(k &+ i &* 65, UInt8.self)
    let src = s.utf8Start
    for j in 0..<min(64, s.utf8CodeUnitCount) { d[j] = src[j] }
}

/// sys_reboot(magic1, magic2, cmd): LINUX_REBOOT_CMD_POWER_OFF (or HALT/RESTART) ends
/// the machine through the debug-exit port with code 0.
func sys_reboot(_ m1: UInt32, _ m2: UInt32, _ cmd: UInt32) -> UInt32 {
    if m1 != 0xFEE1_DEAD || m2 != 672_274_793 { return err(EINVAL) }
    printk(.emerg).s("reboot: Power down").end()
    exit_machine(0)
}

/// sys_nanosleep(req): sleep for the timespec's time in ticks (rounded up); -EINTR if
/// a signal ends it early.
func sys_nanosleep(_ ureq: UInt32) -> UInt32 {
    guard let sec = get_user(ureq), let nsec = get_user(ureq &+ 4) else { return err(EFAULT) }
    if nsec >= 1_000_000_000 { return err(EINVAL) }
    let ticks = min(sec, 1_000_000) &* HZ &+ (nsec &+ 9_999_999) / 10_000_000
    let t = current()
    t.pointee.wakeAt = Timer.jiffies &+ ticks
    if ticks == 0 { return 0 }
    sleep_on(1)
    if Int32(bitPattern: Timer.jiffies &- t.pointee.wakeAt) < 0 { return err(EINTR) }
    return 0
}

/// sys_brk(newbrk) -> the new break, or the old one if newbrk is out of range or in
/// the way of another mapping (Linux's semantics: brk never returns -errno).
func sys_brk(_ newbrk: UInt32) -> UInt32 {
    let mm = current().pointee.mm
    let m = mmp(mm)
    let oldbrk = m.pointee.brk
    if newbrk < m.pointee.startBrk || newbrk >= TASK_SIZE { return oldbrk }
    let oldEnd = page_align(oldbrk)
    let newEnd = page_align(newbrk)
    if newEnd < oldEnd {
        do_munmap(mm, newEnd, oldEnd &- newEnd)
    } else if newEnd > oldEnd {
        let next = find_vma(mm, oldEnd)
        if next != 0 && vmap(next).pointee.start < newEnd &+ PAGE_SIZE { return oldbrk }
        // Extend the heap VMA (the one ending at oldEnd that starts at start_brk) or make it.
        let prev = oldEnd > page_align(m.pointee.startBrk) ? find_vma(mm, oldEnd &- 1) : 0
        if prev != 0 && vmap(prev).pointee.end == oldEnd && vmap(prev).pointee.inode == 0 {
            vmap(prev).pointee.end = newEnd
            m.pointee.totalVm &+= (newEnd &- oldEnd) >> PAGE_SHIFT
        } else {
            let v = vma_new(oldEnd, newEnd, VM_READ | VM_WRITE, 0, 0, 0)
            if v == 0 { return oldbrk }
            insert_vm_struct(mm, v)
        }
    }
    m.pointee.brk = newbrk
    return newbrk
}

/// page_align(a) -> a rounded up to a page boundary.
@inline(__always) func page_align(_ a: UInt32) -> UInt32 { (a &+ PAGE_SIZE &- 1) & PAGE_MASK }

/// split_range(mm, start, end) -> false on OOM; else every VMA overlapping
/// [start, end) now lies entirely inside or outside it.
func split_range(_ mm: UInt32, _ start: UInt32, _ end: UInt32) -> Bool {
    var v = find_vma(mm, start)
    while v != 0 && vmap(v).pointee.start < end {
        let s = vmap(v).pointee
        if s.start < start && s.end > start { if !split_vma(mm, v, start) { return false }; v = vmap(v).pointee.next; continue }
        if s.start < end && s.end > end { if !split_vma(mm, v, end) { return false } }
        v = vmap(v).pointee.next
    }
    return true
}

/// do_munmap(mm, start, len): unmap [start, start+len): split the VMAs at the edges,
/// unmap their pages and free them. Returns 0 or -errno.
@discardableResult
func do_munmap(_ mm: UInt32, _ start: UInt32, _ len: UInt32) -> UInt32 {
    let end = start &+ page_align(len)
    if !split_range(mm, start, end) { return err(ENOMEM) }
    var v = find_vma(mm, start)
    while v != 0 && vmap(v).pointee.start < end {
        let next = vmap(v).pointee.next
        zap_page_range(mm, vmap(v).pointee.start, vmap(v).pointee.end)
        remove_vma(mm, v)
        v = next
    }
    return 0
}

/// sys_munmap(addr, len).
func sys_munmap(_ a: UInt32, _ len: UInt32) -> UInt32 {
    if a & ~PAGE_MASK != 0 || len == 0 || !access_ok(a, page_align(len)) { return err(EINVAL) }
    return do_munmap(current().pointee.mm, a, len)
}

// mmap prot and flags.
let PROT_READ: UInt32 = 1, PROT_WRITE: UInt32 = 2, PROT_EXEC: UInt32 = 4
let MAP_SHARED: UInt32 = 1, MAP_PRIVATE: UInt32 = 2, MAP_FIXED: UInt32 = 0x10, MAP_ANONYMOUS: UInt32 = 0x20

/// prot_to_vm(prot) -> VM_READ/WRITE/EXEC.
@inline(__always) func prot_to_vm(_ prot: UInt32) -> UInt32 { prot & 7 }

/// sys_mmap2(addr, len, prot, flags, fd, pgoff): anonymous or file mappings, private
/// or shared, placed top-down below mmap_base unless MAP_FIXED. Creates the VMA only.
func sys_mmap2(_ a: UInt32, _ len0: UInt32, _ prot: UInt32, _ flags: UInt32, _ fd: UInt32, _ pgoff: UInt32) -> UInt32 {
    let mm = current().pointee.mm
    if len0 == 0 || len0 > TASK_SIZE { return err(EINVAL) }
    let len = page_align(len0)
    let type = flags & 3
    if type != MAP_SHARED && type != MAP_PRIVATE { return err(EINVAL) }
    var ino: UInt32 = 0
    if flags & MAP_ANONYMOUS == 0 {
        let f = fd_file(fd)
        if f == 0 { return err(EBADF) }
        if filep(f).pointee.kind != FILE_INODE { return err(EACCES) }
        if type == MAP_SHARED && prot & PROT_WRITE != 0 { return err(EACCES) }   // read-only fs
        ino = filep(f).pointee.inode
    }
    var start: UInt32
    if flags & MAP_FIXED != 0 {
        if a & ~PAGE_MASK != 0 || !access_ok(a, len) || a < ELF_MIN_ADDR { return err(EINVAL) }
        start = a
        if do_munmap(mm, start, len) != 0 { return err(ENOMEM) }
    } else {
        start = get_unmapped_area(mm, len)
        if start == 0 { return err(ENOMEM) }
    }
    var vmflags = prot_to_vm(prot)
    if type == MAP_SHARED { vmflags |= VM_SHARED }
    let off = pgoff << PAGE_SHIFT
    let v = vma_new(start, start &+ len, vmflags, ino, off, start &+ len)
    if v == 0 { return err(ENOMEM) }
    insert_vm_struct(mm, v)
    return start
}

/// sys_mprotect(addr, len, prot): change the VMA flags of [addr, addr+len) and the
/// present PTEs; -ENOMEM if part of the range is not mapped, -EACCES for write
/// access to a shared file mapping (the file system is read-only).
func sys_mprotect(_ a: UInt32, _ len0: UInt32, _ prot: UInt32) -> UInt32 {
    let mm = current().pointee.mm
    if a & ~PAGE_MASK != 0 { return err(EINVAL) }
    let end = a &+ page_align(len0)
    if !access_ok(a, end &- a) { return err(ENOMEM) }
    var cur = a
    var v = find_vma(mm, a)
    while cur < end {                                  // the range must be fully mapped
        if v == 0 || vmap(v).pointee.start > cur { return err(ENOMEM) }
        // a shared file mapping of the read-only file system cannot become writable
        if prot & PROT_WRITE != 0 && vmap(v).pointee.flags & VM_SHARED != 0 && vmap(v).pointee.inode != 0 { return err(EACCES) }
        cur = vmap(v).pointee.end
        v = vmap(v).pointee.next
    }
    if !split_range(mm, a, end) { return err(ENOMEM) }
    v = find_vma(mm, a)
    while v != 0 && vmap(v).pointee.start < end {
        let fl = (vmap(v).pointee.flags & ~7) | prot_to_vm(prot)
        vmap(v).pointee.flags = fl
        change_protection(mm, vmap(v).pointee.start, vmap(v).pointee.end, fl)
        v = vmap(v).pointee.next
    }
    return 0
}
