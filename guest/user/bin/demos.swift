// demos.swift: one demonstration program per concept: layout, demand paging, COW, brk, mmap, stack growth, segfaults, SIGSEGV handler, fork bomb, swap.

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

/// SwapRegion: swapdemo's anonymous mapping and the first mismatch a verify pass found.
struct SwapRegion {
    static var base: UInt32 = 0         // start of the mapping
    static var pages: UInt32 = 0        // its length in pages
    static var badAddr: UInt32 = 0      // address of the first wrong word (0: none)
    static var badVal: UInt32 = 0       // what it held
    static var badWant: UInt32 = 0      // what the pattern says
}
let SWAP_SEED: UInt32 = 0x5EED_0001, SWAP_SEED2: UInt32 = 0xC0FF_EE02

/// swap_word(i, seed) -> word i (counted from the start of the region) of the pattern.
@inline(__always) func swap_word(_ i: UInt32, _ seed: UInt32) -> UInt32 { (i &* 2_654_435_761) ^ seed }

/// fnv(h, w) -> checksum h extended by word w (FNV-1a a word at a time, with the high
/// half folded back in so that every bit of h depends on every bit of the words).
@inline(__always) func fnv(_ h: UInt32, _ w: UInt32) -> UInt32 {
    let x = (h ^ w) &* 16_777_619
    return x ^ (x >> 16)
}

/// swap_fill(rewrite) -> the checksum of the region's new contents, after writing the
/// pattern into every word: of every page with SWAP_SEED (rewrite false), or of the even
/// pages only with SWAP_SEED2 (rewrite true: the odd pages are not touched, their
/// SWAP_SEED words only go into the checksum).
@inline(never) func swap_fill(_ rewrite: Bool) -> UInt32 {
    var h: UInt32 = 2_166_136_261
    var pg: UInt32 = 0
    while pg < SwapRegion.pages {
        let store = !rewrite || pg & 1 == 0
        let seed = rewrite && pg & 1 == 0 ? SWAP_SEED2 : SWAP_SEED
        let p = UnsafeMutablePointer<UInt32>(bitPattern: UInt(SwapRegion.base &+ pg &* PAGE))!
        var i = pg &* (PAGE / 4)
        var k = 0
        while k < Int(PAGE / 4) {
            let w = swap_word(i, seed)
            if store { p[k] = w }
            h = fnv(h, w)
            i &+= 1
            k &+= 1
        }
        pg &+= 1
    }
    return h
}

/// swap_verify(rewritten) -> the checksum of every word read back from the region, each
/// compared with the pattern swap_fill wrote (rewritten: the even pages hold SWAP_SEED2's);
/// the first mismatch is left in SwapRegion.bad*.
@inline(never) func swap_verify(_ rewritten: Bool) -> UInt32 {
    var h: UInt32 = 2_166_136_261
    var pg: UInt32 = 0
    while pg < SwapRegion.pages {
        let seed = rewritten && pg & 1 == 0 ? SWAP_SEED2 : SWAP_SEED
        let p = UnsafeMutablePointer<UInt32>(bitPattern: UInt(SwapRegion.base &+ pg &* PAGE))!
        var i = pg &* (PAGE / 4)
        var k = 0
        while k < Int(PAGE / 4) {
            let v = p[k]
            let w = swap_word(i, seed)
            if v != w && SwapRegion.badAddr == 0 {
                SwapRegion.badAddr = ua(p + k)
                SwapRegion.badVal = v
                SwapRegion.badWant = w
            }
            h = fnv(h, v)
            i &+= 1
            k &+= 1
        }
        pg &+= 1
    }
    return h
}

/// swap_check(who, mib, rewritten) -> true if every word of the region holds the pattern:
/// prints "WHOread back MIB MiB, checksum 0x...: ok", or the first mismatch.
func swap_check(_ who: StaticString, _ mib: UInt32, _ rewritten: Bool) -> Bool {
    SwapRegion.badAddr = 0
    let h = swap_verify(rewritten)
    if SwapRegion.badAddr != 0 {
        out().s(who).s("mismatch at ").x(SwapRegion.badAddr).s(": read ").x(SwapRegion.badVal)
            .s(", expected ").x(SwapRegion.badWant).end()
        return false
    }
    out().s(who).s("read back ").u(mib).s(" MiB, checksum ").x(h).s(": ok").end()
    return true
}

/// swap_counters(who, global): this process's fault counts (/proc/self/stat minflt and
/// majflt); with global, a second line with the swap counters since boot (/proc/vmstat
/// pswpin and pswpout, /proc/meminfo SwapFree; 0 when the kernel has none).
func swap_counters(_ who: StaticString, _ global: Bool) {
    let minf = self_stat_field(10), majf = self_stat_field(12)
    out().s(who).s("minflt ").u(minf).s(" majflt ").u(majf).end()
    if !global { return }
    let buf = malloc(8192)
    up(buf)[0] = 0
    _ = read_file(cstr("/proc/vmstat"), buf, 8192)
    let pin = proc_value(up(buf), "pswpin "), pout = proc_value(up(buf), "pswpout ")
    up(buf)[0] = 0
    _ = read_file(cstr("/proc/meminfo"), buf, 8192)
    let sfree = proc_value(up(buf), "SwapFree:")
    mfree(buf)
    out().s(who).s("pswpin ").u(pin).s(" pswpout ").u(pout).s(" SwapFree ").u(sfree).s(" kB").end()
}

/// swap_ps(): run `ps` while this process still holds its region (much of it in
/// swap): its RSS is what fits in RAM, MAJFLT its swap-ins.
func swap_ps() {
    let argv = UnsafeMutablePointer<UInt32>(bitPattern: UInt(scratch(8)))!
    argv[0] = ua(cstr("ps"))
    argv[1] = 0
    let pid = spawn(argv, 0, 0, "swapdemo")
    if failed(pid) { out().s("swapdemo: fork failed: ").d(Int32(bitPattern: pid)).end(); return }
    var st: UInt32 = 0
    _ = wait4(pid, &st)
}

/// swap_main(argc, argv): `swapdemo [MiB] [fork] [ps]` (default 48 MiB, more than -m 32M
/// holds): fill an anonymous private mapping with a pattern (every word of every page),
/// read it all back and check it, then print the fault and swap counters. With fork,
/// the child (sharing the pages copy-on-write, some of them in swap) checks the region,
/// rewrites every other page with another pattern and checks again; the parent then
/// checks that its copy still holds the first pattern. With ps (no fork), `ps` runs at
/// the end, while the region is still mapped. Status 0 if every check passed.
func swap_main(_ argc: Int, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    var mib: UInt32 = 48
    var doFork = false
    var showPs = false
    for i in 1..<max(argc, 1) {
        if streq(argv[i], "fork") { doFork = true } else if streq(argv[i], "ps") { showPs = true } else { mib = atou(argv[i]) }
    }
    if mib == 0 || mib > 1024 { puts("usage: swapdemo [MiB] [fork] [ps]  (1 .. 1024 MiB)"); return 2 }
    let len = mib << 20
    let a = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    if failed(a) { out().s("swapdemo: mmap of ").u(mib).s(" MiB failed: ").d(Int32(bitPattern: a)).end(); return 1 }
    SwapRegion.base = a
    SwapRegion.pages = len / PAGE
    out().s("swapdemo: ").u(mib).s(" MiB of private anonymous memory at ").x(a).s(" (").u(SwapRegion.pages)
        .s(" pages)").end()
    out().s("swapdemo: wrote ").u(mib).s(" MiB, checksum ").x(swap_fill(false)).end()
    if !doFork {
        let ok = swap_check("swapdemo: ", mib, false)
        swap_counters("swapdemo: ", true)
        if showPs { swap_ps() }
        return ok ? 0 : 1
    }
    let pid = fork()
    if failed(pid) { out().s("swapdemo: fork failed: ").d(Int32(bitPattern: pid)).end(); return 1 }
    if pid == 0 {
        if !swap_check("swapdemo: child: ", mib, false) { exit(1) }
        out().s("swapdemo: child: rewrote every other page (").u((SwapRegion.pages &+ 1) / 2)
            .s(" pages), checksum ").x(swap_fill(true)).end()
        if !swap_check("swapdemo: child: ", mib, true) { exit(1) }
        swap_counters("swapdemo: child: ", false)
        exit(0)
    }
    var st: UInt32 = 0
    _ = wait4(pid, &st)
    let l = out().s("swapdemo: child ").u(pid)
    if st & 0x7F == 0 { l.s(" exited with status ").u((st >> 8) & 0xFF).end() }
    else { l.s(" killed by signal ").u(st & 0x7F).s(" (").s(signame(st & 0x7F)).s(")").end() }
    let ok = swap_check("swapdemo: parent: ", mib, false)
    swap_counters("swapdemo: ", true)
    return ok && st == 0 ? 0 : 1
}
