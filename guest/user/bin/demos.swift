// demos.swift: one demonstration program per concept: layout, demand paging, COW, brk, mmap, stack growth, segfaults, SIGSEGV handler, fork bomb.

var globalValue: UInt32 = 42          // .data
var bssValue: UInt32 = 0              // .bss

/// layout_main(): where things live, next to /proc/self/maps.
func layout_main() -> Int32 {
    var local: UInt32 = 7
    let heap = malloc(100)
    let anon = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    up(anon)[0] = 1
    bssValue = 1
    out().s("code   (a function)  ").x(segvHandlerAddr()).end()
    out().s("global (.data)       ").x(ua(withUnsafeMutablePointer(to: &globalValue) { $0 })).end()
    out().s("bss    (.bss)        ").x(ua(withUnsafeMutablePointer(to: &bssValue) { $0 })).end()
    out().s("heap   (malloc)      ").x(heap).end()
    out().s("mmap   (anonymous)   ").x(anon).end()
    out().s("stack  (a local)     ").x(ua(withUnsafeMutablePointer(to: &local) { $0 })).end()
    puts("/proc/self/maps:")
    _ = cat_path(cstr("/proc/self/maps"))
    return 0
}

/// touch(base, pages, value): write one byte in each page.
@inline(never) func touch(_ base: UInt32, _ pages: UInt32, _ value: UInt8) {
    var i: UInt32 = 0
    while i < pages { up(base &+ i &* PAGE)[0] = value; i &+= 1 }
}

/// demand_main(argc, argv): mmap N pages (default 64): no fault until each is touched;
/// minflt grows by exactly N; touching them again costs nothing.
func demand_main(_ argc: Int, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    let n = argc > 1 ? atou(argv[1]) : 64
    let a = mmap(0, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    touch(a, 0, 0)
    _ = minflt(); _ = minflt()
    out().s("mmap ").u(n).s(" pages at ").x(a).s(" (a VMA, no page yet)").end()
    _ = minflt()
    let f1 = minflt()
    touch(a, n, 1)
    let f2 = minflt()
    out().s("touched ").u(n).s(" pages: minflt +").u(f2 &- f1).s(" (one demand-zero fault each)").end()
    touch(a, n, 2)
    let f3 = minflt()
    out().s("touched them again: minflt +").u(f3 &- f2).end()
    return 0
}

/// cow_main(): fork; the child writes a global and 16 pages (copy-on-write faults), the
/// parent's copies stay intact; after the child exits, the parent's writes reuse the
/// pages (it is their only user now).
func cow_main() -> Int32 {
    let n: UInt32 = 16
    let buf = mmap(0, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    touch(buf, n, 0x41)
    globalValue = 42
    _ = minflt(); _ = minflt()
    out().s("parent ").u(getpid()).s(": value=").u(globalValue).s(", buffer filled with 'A' (").u(n).s(" pages)").end()
    let pid = fork()
    if pid == 0 {
        _ = minflt()
        let f0 = minflt()
        globalValue = 43
        touch(buf, n, 0x42)
        let f1 = minflt()
        out().s("child ").u(getpid()).s(": wrote value=").u(globalValue).s(" and 'B' into ").u(n)
            .s(" pages: minflt +").u(f1 &- f0).s(" (copy-on-write)").end()
        exit(0)
    }
    wait_report(pid)
    let f0 = minflt()
    out().s("parent: value=").u(globalValue).s(", buffer[0]='").c(up(buf)[0]).s("' (intact)").end()
    let f1 = minflt()
    globalValue = 44
    touch(buf, n, 0x43)
    let f2 = minflt()
    _ = f0
    out().s("parent: wrote 'C' into the ").u(n).s(" pages after the child exited: minflt +").u(f2 &- f1)
        .s(" (write-protect faults; the pages are reused, not copied)").end()
    return 0
}

/// brk_main(): the break moves with sbrk; a small malloc on top.
func brk_main() -> Int32 {
    let b0 = brk(0)
    out().s("initial break: ").x(b0).end()
    let f0 = minflt()
    let p = sbrk(3 * PAGE)
    let b1 = brk(0)
    out().s("sbrk(3 pages) -> ").x(p).s(", break now ").x(b1).end()
    let f1 = minflt()
    touch(p, 3, 1)
    let f2 = minflt()
    out().s("touching the 3 new pages: minflt +").u(f2 &- f1).end()
    _ = f0
    _ = sbrk(0 &- 2 * PAGE)
    out().s("sbrk(-2 pages): break ").x(brk(0)).end()
    let m = mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)
    let r = brk(m &+ PAGE)
    out().s("brk into the mmap at ").x(m).s(" refused: break stays ").x(r).end()
    let a = malloc(24), b = malloc(5000), c = malloc(24)
    out().s("malloc(24)=").x(a).s(" malloc(5000)=").x(b).s(" malloc(24)=").x(c).end()
    mfree(a)
    let d = malloc(16)
    out().s("free(first); malloc(16)=").x(d).s(d == a ? " (reused)" : "").end()
    puts("heap line of /proc/self/maps:")
    let buf = malloc(4096)
    _ = read_file(cstr("/proc/self/maps"), buf, 4096)
    print_lines_with(up(buf), "[heap]")
    return 0
}

/// print_lines_with(p, key): print the lines of p that contain key.
func print_lines_with(_ p: CStr, _ key: StaticString) {
    var i = 0
    while p[i] != 0 {
        let start = i
        while p[i] != 0 && p[i] != 0x0A { i += 1 }
        var hit = false
        let k = key.utf8Start
        var j = start
        while j + key.utf8CodeUnitCount <= i && !hit {
            var m = 0
            while m < key.utf8CodeUnitCount && p[j + m] == k[m] { m += 1 }
            hit = m == key.utf8CodeUnitCount
            j += 1
        }
        if hit { let l = out(); for q in start..<i { l.c(p[q]) }; l.end() }
        if p[i] == 0x0A { i += 1 }
    }
}

/// mmap_main(): anonymous private and shared memory across fork, a file mapped private
/// (and written: copy-on-write, the file stays as it was), munmap.
func mmap_main() -> Int32 {
    let priv = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    let shared = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS)
    up(priv)[0] = 0x70       // 'p'
    up(shared)[0] = 0x73     // 's'
    out().s("private anon at ").x(priv).s(", shared anon at ").x(shared).end()
    let pid = fork()
    if pid == 0 {
        up(priv)[0] = 0x50
        up(shared)[0] = 0x53
        puts("child: wrote 'P' into the private page and 'S' into the shared page")
        exit(0)
    }
    wait_report(pid)
    out().s("parent: private page holds '").c(up(priv)[0]).s("', shared page holds '").c(up(shared)[0]).s("'").end()
    let fd = open("/etc/motd")
    if failed(fd) { puts("mmapdemo: no /etc/motd"); return 1 }
    let f = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd)
    let l = out().s("file /etc/motd mapped private at ").x(f).s(": \"")
    var i = 0
    while up(f)[i] != 0x0A && up(f)[i] != 0 && i < 60 { l.c(up(f)[i]); i += 1 }
    l.s("\"").end()
    up(f)[0] = 0x2A
    let buf = malloc(64)
    _ = read(fd, buf, 8)
    up(buf)[8] = 0
    out().s("wrote '*' into the mapping: mapping starts \"").c(up(f)[0]).c(up(f)[1]).c(up(f)[2])
        .s("\", the file still starts \"").c(up(buf)[0]).c(up(buf)[1]).c(up(buf)[2]).s("\"").end()
    let r = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd)
    out().s("shared writable mapping of the read-only file: ").d(Int32(bitPattern: r)).s(" (-EACCES)").end()
    _ = munmap(f, PAGE)
    puts("munmap'ed the file mapping; /proc/self/maps:")
    _ = cat_path(cstr("/proc/self/maps"))
    return 0
}

/// stack_vma() -> the size in KiB of the [stack] line of /proc/self/maps.
func stack_vma() -> UInt32 {
    let buf = statBuf2()
    _ = read_file(cstr("/proc/self/maps"), buf, 4096)
    let p = up(buf)
    var i = 0
    while p[i] != 0 {
        let start = i
        while p[i] != 0 && p[i] != 0x0A { i += 1 }
        if i - start > 7 && p[i - 1] == 0x5D && p[i - 2] == 0x6B {     // "...k]": [stack]
            let lo = hexval(p + start), hi = hexval(p + start + 9)
            return (hi &- lo) / 1024
        }
        if p[i] == 0x0A { i += 1 }
    }
    return 0
}
struct Buf2 { static var b: UInt32 = 0 }
func statBuf2() -> UInt32 { if Buf2.b == 0 { Buf2.b = malloc(4096) }; return Buf2.b }

/// hexval(p) -> the 8 hex digits at p.
func hexval(_ p: CStr) -> UInt32 {
    var v: UInt32 = 0
    for i in 0..<8 {
        let c = p[i]
        v = v << 4 | UInt32(c >= 0x61 ? c &- 0x57 : c &- 0x30)
    }
    return v
}

@_extern(c, "load_from") func load_from(_ a: UInt32) -> UInt32
@_extern(c, "store_to") func store_to(_ a: UInt32, _ v: UInt32)
@_extern(c, "stack_recurse") func stack_recurse(_ n: UInt32) -> UInt32

/// stack_main(argc, argv): recursion grows the stack VMA; "overflow" recurses past
/// the 8 MiB limit and dies with SIGSEGV.
func stack_main(_ argc: Int, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    let s0 = stack_vma()
    let f0 = minflt()
    let depth: UInt32 = argc > 1 && streq(argv[1], "overflow") ? 10_000 : 64
    out().s("stack VMA ").u(s0).s(" KiB; recursing ").u(depth).s(" levels of 1 KiB").end()
    let r = stack_recurse(depth)
    let f1 = minflt()
    let s1 = stack_vma()
    out().s("stack VMA now ").u(s1).s(" KiB (grew by ").u(s1 &- s0).s(" KiB), minflt +").u(f1 &- f0)
        .s(", result ").u(r).end()
    return 0
}

/// segv_main(argc, argv): with an argument, commit that fault; without, run each in a
/// child and report how it died.
func segv_main(_ argc: Int, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    if argc > 1 {
        let w = argv[1]
        if streq(w, "null") { return Int32(bitPattern: load_from(0)) }
        if streq(w, "kernel") { return Int32(bitPattern: load_from(0xC010_0000)) }
        if streq(w, "text") { store_to(0x0804_8000, 0); return 0 }
        if streq(w, "priv") { priv_hlt(); return 0 }
        if streq(w, "unmapped") { store_to(0x6000_0000, 1); return 0 }
        return 2
    }
    for what in ["null", "kernel", "text", "priv"] as [StaticString] {
        out().s("segv: ").s(what).end()
        let pid = fork()
        if pid == 0 {
            let a = UnsafeMutablePointer<UInt32>(bitPattern: UInt(malloc(8)))!
            a[0] = ua(cstr("/bin/segv")); a[1] = ua(cstr(what)); _ = a
            let argv2 = UnsafeMutablePointer<UInt32>(bitPattern: UInt(malloc(12)))!
            argv2[0] = a[0]; argv2[1] = a[1]; argv2[2] = 0
            _ = sys(11, a[0], ua(argv2), 0)
            exit(126)
        }
        wait_report(pid)
    }
    return 0
}

/// opaque(v) -> v, hidden from the optimizer.
@inline(never) func opaque(_ v: UInt32) -> UInt32 { v }

struct SigState { static var page: UInt32 = 0; static var hits: UInt32 = 0 }

/// segv_handler(sig, info, uc): report the fault address, make the page writable,
/// return (the write is retried and succeeds).
@_cdecl("segv_handler")
func segv_handler(_ sig: Int32, _ info: UnsafeMutablePointer<UInt32>, _ uc: UnsafeMutableRawPointer) {
    SigState.hits &+= 1
    out().s("handler: signal ").d(sig).s(" at address ").x(info[3]).s(" (si_code ").u(info[2])
        .s(info[2] == 2 ? ": SEGV_ACCERR" : ": SEGV_MAPERR").s(")").end()
    _ = mprotect(SigState.page, PAGE, PROT_READ | PROT_WRITE)
}

/// sig_main(): a read-only page, a SIGSEGV handler, a write: the handler fixes the
/// protection and the write completes.
func sig_main() -> Int32 {
    let p = mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)
    SigState.page = p
    var act: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0x0400_0004, 0, 0, 0)   // SA_SIGINFO | SA_RESTORER
    act.0 = segvHandlerAddr()
    act.2 = sigRestorerAddr()
    _ = sys(174, 11, ua(withUnsafeMutablePointer(to: &act) { $0 }), 0, 8)
    out().s("page at ").x(p).s(" is read-only; writing 0x55 to it").end()
    up(p + 12)[0] = 0x55
    out().s("write completed after ").u(SigState.hits).s(" SIGSEGV; byte is ").x(UInt32(up(p + 12)[0])).end()
    return 0
}

@_extern(c, "segv_handler") func segv_handler_c(_ s: Int32, _ i: UnsafeMutablePointer<UInt32>, _ u: UnsafeMutableRawPointer)
func segvHandlerAddr() -> UInt32 { UInt32(UInt(bitPattern: unsafeBitCast(segv_handler_c as @convention(c) (Int32, UnsafeMutablePointer<UInt32>, UnsafeMutableRawPointer) -> Void, to: UnsafeRawPointer.self))) }
func sigRestorerAddr() -> UInt32 { UInt32(UInt(bitPattern: unsafeBitCast(sig_restorer as @convention(c) () -> Void, to: UnsafeRawPointer.self))) }

/// forkbomb_main(): fork sleeping children until fork fails, then kill and reap them all.
func forkbomb_main() -> Int32 {
    let pids = UnsafeMutablePointer<UInt32>(bitPattern: UInt(malloc(16384)))!
    var n = 0
    while n < 4096 {
        let pid = fork()
        if pid == 0 { nanosleep(1000); exit(0) }
        if failed(pid) {
            out().s("fork #").u(UInt32(n + 1)).s(" failed: ").d(Int32(bitPattern: pid))
                .s(Int32(bitPattern: pid) == -12 ? " (ENOMEM)" : Int32(bitPattern: pid) == -11 ? " (EAGAIN)" : "").end()
            break
        }
        pids[n] = pid
        n += 1
    }
    out().s("forked ").u(UInt32(n)).s(" children; killing them").end()
    for i in 0..<n { _ = kill(pids[i], 9) }
    var reaped: UInt32 = 0
    for i in 0..<n {
        var st: UInt32 = 0
        if wait4(pids[i], &st) == pids[i] && st & 0x7F == 9 { reaped &+= 1 }
    }
    out().s("reaped ").u(reaped).s(" children, all killed by SIGKILL").end()
    return 0
}

/// efault_main(): system calls given bad user pointers return -EFAULT instead of
/// crashing the kernel: a NULL buffer makes copy_from_user fault inside the kernel (the
/// exception table fixes it up), a kernel address is refused before any access.
func efault_main() -> Int32 {
    let null = Int32(bitPattern: sys(4, 1, 0, 8))            // write(1, NULL, 8)
    out().s("write(1, NULL, 8) = ").d(null).s(null == -14 ? " (EFAULT: copy_from_user fixup)" : " (unexpected)").end()
    let kern = Int32(bitPattern: sys(4, 1, 0xC010_0000, 8))   // write(1, kernel address, 8)
    out().s("write(1, 0xc0100000, 8) = ").d(kern).s(kern == -14 ? " (EFAULT)" : " (unexpected)").end()
    return null == -14 && kern == -14 ? 0 : 1
}
