// fork.swift: fork (copy_process), execve (the ELF loader: VMAs only), exit, wait4, and starting init.

let FRAME_SIZE = UInt32(MemoryLayout<TrapFrame>.stride)    // a ring-3 trap frame, with ESP and SS
let FORK_MIN_FREE: UInt32 = 256    // fork fails with -ENOMEM below 1 MiB free (a watermark: the
                                   // running tasks' page faults keep this reserve, so a fork loop
                                   // ends with ENOMEM instead of the OOM killer)

/// new_kernel_stack(t, frame) -> false on OOM; else t has a kernel stack whose top
/// holds a copy of trap frame `frame` and whose saved ESP makes the first switch_to
/// into t return to ret_from_fork (and so to user mode with that frame).
func new_kernel_stack(_ t: UInt32, _ frame: TrapFrame) -> Bool {
    let pfn = alloc_pages(GFP_KERNEL, THREAD_ORDER)
    if pfn == NIL_PFN { return false }
    let base = page_address(pfn)
    task(t).pointee.kstack = base
    let top = base &+ THREAD_SIZE
    ptr(top &- FRAME_SIZE, TrapFrame.self).pointee = frame
    let sp = top &- FRAME_SIZE &- 20                 // edi esi ebx ebp, return address
    let w = ptr(sp, UInt32.self)
    for i in 0..<4 { w[i] = 0 }
    w[4] = x86_ret_from_fork()
    task(t).pointee.esp = sp
    return true
}

/// do_fork(f) -> the child's pid to the parent (the child returns 0 from the same
/// frame), or -EAGAIN when the task table is full, -ENOMEM when memory is.
func do_fork(_ f: UnsafeMutablePointer<TrapFrame>) -> UInt32 {
    let parent = current()
    if nr_free_pages() < FORK_MIN_FREE { return err(ENOMEM) }
    let t = alloc_task_struct_nopanic()
    if t == 0 { return err(ENOMEM) }
    var frame = f.pointee
    frame.eax = 0
    if !new_kernel_stack(t, frame) { free_task_struct(t); return err(ENOMEM) }
    let mm = dup_mm(parent.pointee.mm)
    if mm == 0 { free_task_struct(t); return err(ENOMEM) }
    if !task_install(t) { exit_mmap(mm); free_task_struct(t); return err(EAGAIN) }
    let c = task(t)
    c.pointee.mm = mm
    c.pointee.pid = alloc_pid()
    c.pointee.ppid = parent.pointee.pid
    c.pointee.comm = parent.pointee.comm
    c.pointee.sigBlocked = parent.pointee.sigBlocked
    memcpy_k(c.pointee.sigHandlers, parent.pointee.sigHandlers, 32 * 12)
    let pf = ptr(parent.pointee.files, UInt32.self), cf = ptr(c.pointee.files, UInt32.self)
    for i in 0..<NR_OPEN where pf[i] != 0 { cf[i] = pf[i]; fget(pf[i]) }
    return c.pointee.pid
}

/// alloc_task_struct_nopanic() -> a Task as alloc_task_struct makes it, or 0 on OOM.
func alloc_task_struct_nopanic() -> UInt32 {
    let t = kmem_cache_alloc(Sched.cacheTask)
    if t == 0 { return 0 }
    let sig = kmalloc(32 * 12, GFP_KERNEL)
    let files = kmalloc(UInt32(NR_OPEN * 4), GFP_KERNEL)
    if sig == 0 || files == 0 {
        if sig != 0 { kfree(sig) }
        if files != 0 { kfree(files) }
        kmem_cache_free(Sched.cacheTask, t)
        return 0
    }
    memset_bytes(t, 0, UInt32(MemoryLayout<Task>.stride))
    memset_bytes(sig, 0, 32 * 12)
    memset_bytes(files, 0, UInt32(NR_OPEN * 4))
    task(t).pointee.sigHandlers = sig
    task(t).pointee.files = files
    task(t).pointee.state = TASK_RUNNING
    task(t).pointee.timeslice = TIMESLICE
    return t
}

/// do_exit(status): end the current task with wait status `status`: close its files,
/// free its address space (CR3 back to swapper_pg_dir first), hand its children to
/// init, become a zombie, wake the parent. When init exits, the machine powers off
/// with init's exit code. Never returns.
func do_exit(_ status: UInt32) -> Never {
    let t = current()
    let fds = ptr(t.pointee.files, UInt32.self)
    for i in 0..<NR_OPEN where fds[i] != 0 { fput(fds[i]); fds[i] = 0 }
    let mm = t.pointee.mm
    if mm != 0 {
        x86_write_cr3(__pa(Pgtable.swapperPgDir))
        t.pointee.mm = 0
        exit_mmap(mm)
    }
    if t.pointee.pid == 1 {
        let code = status & 0x7F != 0 ? 128 &+ (status & 0x7F) : (status >> 8) & 0xFF
        printk(.info).s("init: exited with status ").u(code).s(", powering off").end()
        exit_machine(code)
    }
    for i in 1..<NR_TASKS {
        let c = task_slot(i)
        if c != 0 && task(c).pointee.ppid == t.pointee.pid {
            task(c).pointee.ppid = 1
            if task(c).pointee.state == TASK_ZOMBIE { wake_up(find_task(1)) }
        }
    }
    t.pointee.exitCode = status
    t.pointee.state = TASK_ZOMBIE
    let parent = find_task(t.pointee.ppid)
    if parent != 0 { wake_up(parent) }
    schedule()
    panic("do_exit: a zombie ran again")
}

let WNOHANG: UInt32 = 1

/// sys_wait4(pid, status, options): reap a zombie child (pid -1: any), storing its
/// wait status; sleeps until one exits unless WNOHANG. -ECHILD if there is no such
/// child, -EINTR if a signal arrives first.
/// rusage != 0: a struct rusage (72 bytes) with ru_minflt and ru_majflt of the child
/// and its reaped children.
func sys_wait4(_ pid: UInt32, _ ustatus: UInt32, _ options: UInt32, _ rusage: UInt32) -> UInt32 {
    let me = current()
    while true {
        var found = false
        for i in 1..<NR_TASKS {
            let c = task_slot(i)
            if c == 0 || task(c).pointee.ppid != me.pointee.pid { continue }
            if pid != 0xFFFF_FFFF && task(c).pointee.pid != pid { continue }
            found = true
            if task(c).pointee.state != TASK_ZOMBIE { continue }
            let cpid = task(c).pointee.pid
            if ustatus != 0 && !put_user(ustatus, task(c).pointee.exitCode) { return err(EFAULT) }
            let minflt = task(c).pointee.minflt &+ task(c).pointee.cminflt
            let majflt = task(c).pointee.majflt &+ task(c).pointee.cmajflt
            if rusage != 0 {
                var ok = access_ok(rusage, 72) && clear_user(rusage, 72) == 0
                ok = ok && put_user(rusage &+ 32, minflt) && put_user(rusage &+ 36, majflt)
                if !ok { return err(EFAULT) }
            }
            me.pointee.cminflt &+= minflt
            me.pointee.cmajflt &+= majflt
            task_remove(c)
            free_task_struct(c)
            kmem_cache_shrink_all()              // give empty slabs back: meminfo returns to where it was
            return cpid
        }
        if !found { return err(ECHILD) }
        if options & WNOHANG != 0 { return 0 }
        sleep_on(Sched.current)
        if me.pointee.sigPending & ~me.pointee.sigBlocked != 0 { return err(EINTR) }
    }
}

// ELF constants.
let PT_LOAD: UInt32 = 1
let PF_X: UInt32 = 1, PF_W: UInt32 = 2, PF_R: UInt32 = 4
let MAX_ARG_PAGES_BYTES: UInt32 = 4096     // argv strings and pointers fit in one page
let MAX_ARGS = 32

/// elf_headers(ino) -> a kernel page holding the first 4 KiB of file ino (zero past
/// its end; the ELF and program headers must lie there), or 0 on OOM / I/O error.
/// The caller frees it with free_page.
func elf_headers(_ ino: UInt32) -> UInt32 {
    let pg = __get_free_page(GFP_KERNEL | __GFP_ZERO)
    if pg == 0 { return 0 }
    if inode_read(ino, 0, pg, PAGE_SIZE) < 0 { free_page(pg); return 0 }
    return pg
}

/// free_page(va): free a page from __get_free_page.
func free_page(_ va: UInt32) { free_pages(virt_to_pfn(va), 0) }

/// elf_check(ino) -> true if file ino is a static i386 ELF executable.
func elf_check(_ ino: UInt32) -> Bool {
    if inode(ino).size < 52 { return false }
    let hdr = elf_headers(ino)
    if hdr == 0 { return false }
    defer { free_page(hdr) }
    let h = ptr(hdr, UInt8.self)
    if h[0] != 0x7F || h[1] != 0x45 || h[2] != 0x4C || h[3] != 0x46 || h[4] != 1 { return false }
    let w = ptr(hdr, UInt16.self)
    return w[8] == 2 && w[9] == 3                     // ET_EXEC, EM_386
}

/// load_elf(mm, ino) -> the entry point, after creating mm's VMAs for each PT_LOAD
/// segment (file-backed up to p_filesz, anonymous bss beyond), the brk start and the
/// stack VMA; 0 if the file is malformed or memory ran out. Maps no page.
func load_elf(_ mm: UInt32, _ ino: UInt32) -> UInt32 {
    let i = inode(ino)
    let hdr = elf_headers(ino)
    if hdr == 0 { return 0 }
    defer { free_page(hdr) }
    let w = ptr(hdr, UInt32.self)
    let entry = w[6], phoff = w[7]
    let phnum = UInt32(ptr(hdr, UInt16.self)[22])
    let m = mmp(mm)
    m.pointee.startCode = 0xFFFF_FFFF
    var brk: UInt32 = 0
    for k in 0..<phnum {
        let ph = phoff &+ k &* 32
        if ph &+ 32 > min(i.size, PAGE_SIZE) || ph &+ 32 < ph { return 0 }
        let p = ptr(hdr &+ ph, UInt32.self)
        if p[0] != PT_LOAD { continue }
        let off = p[1], vaddr = p[2], filesz = p[4], memsz = p[5], pflags = p[6]
        if vaddr < ELF_MIN_ADDR || vaddr &+ memsz > STACK_TOP - RLIMIT_STACK || off &+ filesz > i.size { return 0 }
        let flags = (pflags & PF_R != 0 ? VM_READ : 0) | (pflags & PF_W != 0 ? VM_WRITE : 0) | (pflags & PF_X != 0 ? VM_EXEC : 0)
        let start = vaddr & PAGE_MASK
        let fileEnd = vaddr &+ filesz
        let fileTop = page_align(fileEnd)
        let memTop = page_align(vaddr &+ memsz)
        if filesz > 0 {
            let v = vma_new(start, fileTop, flags, ino, off &- (vaddr &- start), fileEnd)
            if v == 0 { return 0 }
            insert_vm_struct(mm, v)
        }
        if memTop > fileTop {
            let v = vma_new(filesz > 0 ? fileTop : start, memTop, flags, 0, 0, 0)
            if v == 0 { return 0 }
            insert_vm_struct(mm, v)
        }
        if pflags & PF_X != 0 {
            m.pointee.startCode = min(m.pointee.startCode, vaddr)
            m.pointee.endCode = max(m.pointee.endCode, vaddr &+ filesz)
        } else {
            if m.pointee.startData == 0 { m.pointee.startData = vaddr }
            m.pointee.endData = max(m.pointee.endData, vaddr &+ filesz)
        }
        brk = max(brk, memTop)
    }
    if brk == 0 { return 0 }
    m.pointee.startBrk = brk
    m.pointee.brk = brk
    let stack = vma_new(STACK_TOP &- PAGE_SIZE, STACK_TOP, VM_READ | VM_WRITE | VM_GROWSDOWN, 0, 0, 0)
    if stack == 0 { return 0 }
    insert_vm_struct(mm, stack)
    m.pointee.exeInode = ino
    return entry
}

/// ArgBuf: argv gathered in a kernel page while the old address space still exists.
struct ArgBuf {
    var page: UInt32        // the kernel page: strings from offset 0
    var used: UInt32        // bytes of strings
    var argc: UInt32        // strings
}

/// copy_strings(uargv) -> the user's argv strings in a kernel page, or an errno.
func copy_strings(_ uargv: UInt32, _ ab: UnsafeMutablePointer<ArgBuf>) -> Int32 {
    while uargv != 0 {
        guard let up = get_user(uargv &+ ab.pointee.argc &* 4) else { return EFAULT }
        if up == 0 { break }
        if ab.pointee.argc >= UInt32(MAX_ARGS) { return E2BIG }
        let room = MAX_ARG_PAGES_BYTES / 2 &- ab.pointee.used
        let n = strncpy_from_user(ab.pointee.page &+ ab.pointee.used, up, room)
        if n < 0 { return room == 0 ? E2BIG : EFAULT }
        ab.pointee.used &+= UInt32(n) &+ 1
        ab.pointee.argc &+= 1
    }
    return 0
}

/// exec_mm(t, f, ino, ab) -> errno or 0: give task t a new address space loaded from
/// ELF ino with argv from ab on its stack (argc, argv[], NULL, envp NULL, auxv
/// AT_NULL), free the old one, and point frame f at the entry point.
func exec_mm(_ t: UInt32, _ f: UnsafeMutablePointer<TrapFrame>, _ ino: UInt32, _ ab: ArgBuf) -> Int32 {
    let mm = mm_alloc()
    if mm == 0 { return ENOMEM }
    let entry = load_elf(mm, ino)
    if entry == 0 { exit_mmap(mm); return ENOEXEC }
    let old = task(t).pointee.mm
    task(t).pointee.mm = mm
    x86_write_cr3(__pa(mmp(mm).pointee.pgd))
    if old != 0 { exit_mmap(old) }
    // Strings at the top of the stack, then the pointer block below, 16-byte aligned.
    let strTop = STACK_TOP &- 4
    let strBase = (strTop &- ab.used) & ~3
    let words = 1 &+ ab.argc &+ 1 &+ 1 &+ 2
    let sp = (strBase &- words &* 4) & ~15
    var ok = copy_to_user(strBase, ab.page, ab.used) && put_user(strTop, 0)
    ok = ok && put_user(sp, ab.argc)
    var off: UInt32 = 0
    for k in 0..<ab.argc {
        ok = ok && put_user(sp &+ 4 &+ k &* 4, strBase &+ off)
        off &+= kstrlen(ab.page &+ off) &+ 1
    }
    let tail = sp &+ 4 &+ ab.argc &* 4
    ok = ok && put_user(tail, 0) && put_user(tail &+ 4, 0) && put_user(tail &+ 8, 0) && put_user(tail &+ 12, 0)
    if !ok { return EFAULT }
    mmp(mm).pointee.startStack = sp
    f.pointee = TrapFrame(edi: 0, esi: 0, ebp: 0, esp0: 0, ebx: 0, edx: 0, ecx: 0, eax: 0,
                          gs: 0, fs: 0, es: __USER_DS, ds: __USER_DS, vector: 0, error: 0,
                          eip: entry, cs: __USER_CS, eflags: 0x202, useresp: sp, ss: __USER_DS)
    // The command name: the file name's last component.
    let name = inode(ino).name
    var base = name
    var p = name
    while ptr(p, UInt8.self).pointee != 0 { if ptr(p, UInt8.self).pointee == 0x2F { base = p &+ 1 }; p &+= 1 }
    set_comm_bytes(t, base, kstrlen(base))
    let h = ptr(task(t).pointee.sigHandlers, UInt32.self)
    for s in 0..<32 where h[s * 3] > 1 { h[s * 3] = 0; h[s * 3 + 1] = 0; h[s * 3 + 2] = 0 }  // caught -> default
    return 0
}

/// do_execve(f, path, argv) -> -errno, or (on success) the new program's EAX (0): the
/// frame now starts the program.
func do_execve(_ f: UnsafeMutablePointer<TrapFrame>, _ upath: UInt32, _ uargv: UInt32) -> UInt32 {
    let pg = __get_free_page(GFP_KERNEL)
    if pg == 0 { return err(ENOMEM) }
    defer { free_pages(virt_to_pfn(pg), 0) }
    let pathBuf = pg &+ MAX_ARG_PAGES_BYTES / 2
    if strncpy_from_user(pathBuf, upath, 256) < 0 { return err(EFAULT) }
    let ino = namei(pathBuf)
    if ino == 0 { return err(ENOENT) }
    if !elf_check(ino) { return err(ENOEXEC) }
    var ab = ArgBuf(page: pg, used: 0, argc: 0)
    let e = copy_strings(uargv, &ab)
    if e != 0 { return err(e) }
    let r = exec_mm(Sched.current, f, ino, ab)
    if r != 0 {
        if current().pointee.mm == 0 || r == EFAULT { do_exit(UInt32(SIGSEGV)) }
        return err(r)
    }
    return 0
}

/// spawn_init(path, args): create pid 1 running initramfs program path with the
/// command line's init arguments (split at spaces, "double quotes" group words).
/// Panics if it cannot.
func spawn_init(_ path: UInt32, _ args: UInt32) {
    let t = alloc_task_struct()
    let fds = ptr(task(t).pointee.files, UInt32.self)
    let con = console_file()
    for i in 0..<3 { fds[i] = con; fget(con) }
    let ino = namei(path)
    if ino == 0 || !elf_check(ino) { panic("spawn_init: no such program") }
    let pg = __get_free_page(GFP_KERNEL)
    var ab = ArgBuf(page: pg, used: 0, argc: 0)
    add_arg(&ab, path, kstrlen(path))
    // Split the rest of the command line.
    var p = args
    while true {
        while ptr(p, UInt8.self).pointee == 0x20 { p &+= 1 }
        if ptr(p, UInt8.self).pointee == 0 { break }
        var q = p
        var quoted = false
        let startOut = ab.page &+ ab.used
        var n: UInt32 = 0
        while true {
            let c = ptr(q, UInt8.self).pointee
            if c == 0 || (c == 0x20 && !quoted) { break }
            if c == 0x22 { quoted.toggle() } else { ptr(startOut &+ n, UInt8.self).pointee = c; n &+= 1 }
            q &+= 1
        }
        ptr(startOut &+ n, UInt8.self).pointee = 0
        ab.used &+= n &+ 1
        ab.argc &+= 1
        p = q
    }
    task(t).pointee.pid = alloc_pid()
    if !task_install(t) { panic("spawn_init: no task slot") }
    var frame = TrapFrame(edi: 0, esi: 0, ebp: 0, esp0: 0, ebx: 0, edx: 0, ecx: 0, eax: 0, gs: 0, fs: 0,
                          es: 0, ds: 0, vector: 0, error: 0, eip: 0, cs: 0, eflags: 0, useresp: 0, ss: 0)
    // exec_mm needs the task to be current for copy_to_user: borrow it for the load.
    let idle = Sched.current
    Sched.current = t
    let r = withUnsafeMutablePointer(to: &frame) { exec_mm(t, $0, ino, ab) }
    Sched.current = idle
    x86_write_cr3(__pa(Pgtable.swapperPgDir))
    free_pages(virt_to_pfn(pg), 0)
    if r != 0 { panic("spawn_init: exec failed") }
    if !new_kernel_stack(t, frame) { panic("spawn_init: no kernel stack") }
    task(t).pointee.minflt = 0
}

/// add_arg(ab, s, n): append the n-byte kernel string s to ab.
func add_arg(_ ab: UnsafeMutablePointer<ArgBuf>, _ s: UInt32, _ n: UInt32) {
    memcpy_k(ab.pointee.page &+ ab.pointee.used, s, n)
    ptr(ab.pointee.page &+ ab.pointee.used &+ n, UInt8.self).pointee = 0
    ab.pointee.used &+= n &+ 1
    ab.pointee.argc &+= 1
}
