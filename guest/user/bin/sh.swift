// sh.swift: the shell (init): `sh -c "cmd; cmd"` or an interactive prompt, with < and > redirections; time, ps, cat, echo, free, poweroff.

/// sh_main(argc, argv): with -c, run each ';'-separated command of argv[2] in turn;
/// otherwise read lines from the console and run them. Returns the last status.
func sh_main(_ argc: Int, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    let line = malloc(512)
    if argc >= 3 && streq(argv[1], "-c") {
        var last: Int32 = 0
        let src = argv[2]
        var i = 0
        while src[i] != 0 {
            var n = 0
            while src[i] != 0 && src[i] != 0x3B && n < 510 { up(line)[n] = src[i]; n += 1; i += 1 }
            up(line)[n] = 0
            if src[i] == 0x3B { i += 1 }
            last = run_line(up(line))
        }
        return last
    }
    while true {
        out().s("# ").flush()
        var n: UInt32 = 0
        while n < 510 {
            let r = read(0, line &+ n, 1)
            if failed(r) || r == 0 { break }
            if up(line)[Int(n)] == 0x0A { break }
            n &+= 1
        }
        up(line)[Int(n)] = 0
        _ = run_line(up(line))
    }
}

/// run_line(l) -> status: split the command into words and run it: `exit N` ends the
/// shell; anything else is /bin/WORD (or a path) in a child (spawn), with `< FILE` /
/// `> FILE` (or `<FILE` / `>FILE`) redirections; the shell waits for it and reports a
/// death by signal as bash does.
func run_line(_ l: CStr) -> Int32 {
    let argv = UnsafeMutablePointer<UInt32>(bitPattern: UInt(malloc(33 * 4)))!
    defer { mfree(ua(argv)) }
    var argc = 0
    var inPath: UInt32 = 0, outPath: UInt32 = 0   // redirection targets (0: none)
    var pending: UInt8 = 0                        // '<' or '>' still waiting for its file
    var i = 0
    while l[i] != 0 {
        while l[i] == 0x20 { l[i] = 0; i += 1 }
        if l[i] == 0 { break }
        let w = l + i
        while l[i] != 0 && l[i] != 0x20 { i += 1 }
        if l[i] == 0x20 { l[i] = 0; i += 1 }
        if pending != 0 {
            if pending == 0x3C { inPath = ua(w) } else { outPath = ua(w) }
            pending = 0
        } else if w[0] == 0x3C || w[0] == 0x3E {
            if w[1] == 0 { pending = w[0] }
            else if w[0] == 0x3C { inPath = ua(w + 1) } else { outPath = ua(w + 1) }
        } else if argc < 32 {
            argv[argc] = ua(w)
            argc += 1
        }
    }
    argv[argc] = 0
    if pending != 0 { out().s("sh: syntax error: newline unexpected").end(2); return 2 }
    if argc == 0 {
        // Only redirections: open the files (and report failures), run nothing.
        if !redirect(inPath, 0, O_RDONLY, false) || !redirect(outPath, 1, O_WRONLY, false) { return 2 }
        return 0
    }
    let cmd = up(argv[0])
    if streq(cmd, "exit") { exit(argc > 1 ? atou(up(argv[1])) : 0) }
    let pid = spawn(argv, inPath, outPath, "sh")
    if failed(pid) { out().s("sh: fork failed: ").d(Int32(bitPattern: pid)).end(2); return 1 }
    var st: UInt32 = 0
    _ = wait4(pid, &st)
    if st & 0x7F != 0 {
        out().s(signame(st & 0x7F)).end()
        return Int32(128 &+ (st & 0x7F))
    }
    return Int32((st >> 8) & 0xFF)
}

/// spawn(argv, inPath, outPath, who) -> the child's pid (or -errno from fork): fork; the
/// child redirects stdin from inPath and stdout to outPath (C strings, 0: none; on
/// failure it exits with 2 without running anything, as dash) and execs argv: /bin/ARGV0
/// (or ARGV0 itself if it holds a '/'); if that fails it prints "WHO: CMD: not found
/// (-E)" and exits with 127. The path is made before the fork in a buffer kept for
/// every spawn, so neither the child (unless it redirects) nor the parent while the
/// child runs writes the heap: no copy-on-write copies of it.
/// Used by the shell and by `time`.
func spawn(_ argv: UnsafeMutablePointer<UInt32>, _ inPath: UInt32, _ outPath: UInt32, _ who: StaticString) -> UInt32 {
    let cmd = up(argv[0])
    if Spawn.path == 0 { Spawn.path = scratch(128) }
    let path = Spawn.path
    var hasSlash = false
    var k = 0
    while cmd[k] != 0 { if cmd[k] == 0x2F { hasSlash = true }; k += 1 }
    var n = 0
    if !hasSlash { for b in [UInt8(0x2F), 0x62, 0x69, 0x6E, 0x2F] { up(path)[n] = b; n += 1 } }
    k = 0
    while cmd[k] != 0 && n < 126 { up(path)[n] = cmd[k]; n += 1; k += 1 }
    up(path)[n] = 0
    let pid = fork()
    if pid == 0 {
        if !redirect(inPath, 0, O_RDONLY, true) || !redirect(outPath, 1, O_WRONLY, true) { exit(2) }
        let r = sys(11, path, ua(argv), 0)
        out().s(who).s(": ").cs(cmd).s(": not found (").d(Int32(bitPattern: r)).s(")").end(2)
        exit(127)
    }
    return pid
}

struct Spawn { static var path: UInt32 = 0 }   // spawn's path buffer (never freed)

/// redirect(path, fd, flags, install) -> false (after dash's "sh: cannot open FILE: ..."
/// or "cannot create ...") if file path (a C string address; 0: nothing to do) cannot be
/// opened with flags; with install, the file then becomes descriptor fd (dup2; a kernel
/// without dup2 gets close(fd) and a second open, which takes the lowest free
/// descriptor: fd), else it is closed again.
func redirect(_ path: UInt32, _ fd: UInt32, _ flags: UInt32, _ install: Bool) -> Bool {
    if path == 0 { return true }
    let f = openc(up(path), flags)
    if failed(f) {
        out().s("sh: ").s(flags == O_RDONLY ? "cannot open " : "cannot create ").cs(up(path)).s(": ")
            .errno(0 &- f).end(2)
        return false
    }
    if !install { close(f); return true }
    if f == fd { return true }
    if !failed(dup2(f, fd)) { close(f); return true }
    close(f)
    close(fd)
    let g = openc(up(path), flags)
    if g == fd { return true }
    if !failed(g) { close(g) }
    out().s("sh: cannot redirect to descriptor ").u(fd).end(2)
    return false
}

/// time_main(argc, argv): `time CMD [ARGS...]`: run CMD as the shell does (spawn), wait
/// for it with wait4(rusage) and print GNU time's page-fault line on stderr:
/// "CMD: 0inputs+0outputs (2major+40minor)pagefaults 0swaps" (no times: the line is the
/// same on every machine), after GNU time's "Command exited with non-zero status N" /
/// "Command terminated by signal N" line if it failed. Exits with CMD's status
/// (128 + N for signal N). A kernel that leaves the rusage alone (older wait4) gets the
/// minor and major counts from the change of our cminflt/cmajflt (/proc/self/stat).
func time_main(_ argc: Int, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    if argc < 2 { out().s("Usage: time COMMAND [ARG]...").end(2); return 1 }
    let ru = UnsafeMutablePointer<UInt32>(bitPattern: UInt(malloc(72)))!
    for i in 0..<18 { ru[i] = 0 }
    ru[8] = 0xFFFF_FFFF                       // ru_minflt: stays so if wait4 ignores rusage
    let c0 = self_stat_field(11), cmaj0 = self_stat_field(13)
    let args = UnsafeMutableRawPointer(argv + 1).assumingMemoryBound(to: UInt32.self)
    let pid = spawn(args, 0, 0, "time")
    if failed(pid) { out().s("time: fork failed: ").d(Int32(bitPattern: pid)).end(2); return 1 }
    var st: UInt32 = 0
    _ = wait4(pid, &st, ua(ru))
    if ru[8] == 0xFFFF_FFFF {
        ru[8] = self_stat_field(11) &- c0
        ru[9] = self_stat_field(13) &- cmaj0
    }
    let sig = st & 0x7F, code = (st >> 8) & 0xFF
    if sig != 0 { out().s("Command terminated by signal ").u(sig).end(2) }
    else if code != 0 { out().s("Command exited with non-zero status ").u(code).end(2) }
    out().cs(argv[1]).s(": ").u(ru[11]).s("inputs+").u(ru[12]).s("outputs (").u(ru[9]).s("major+")
        .u(ru[8]).s("minor)pagefaults ").u(ru[10]).s("swaps").end(2)
    return Int32(sig != 0 ? 128 &+ sig : code)
}

/// ps_main(): PID PPID STAT VSZ RSS MINFLT MAJFLT COMMAND for pids 1 .. our own (ps is
/// the newest process), from /proc/PID/stat.
func ps_main() -> Int32 {
    puts("  PID  PPID STAT    VSZ   RSS MINFLT MAJFLT COMMAND")
    let me = getpid()
    let path = malloc(32)
    let buf = malloc(512)
    var pid: UInt32 = 1
    while pid <= me {
        var n = 0
        for b in [UInt8(0x2F), 0x70, 0x72, 0x6F, 0x63, 0x2F] { up(path)[n] = b; n += 1 }
        var digits: UInt32 = 1
        while digits <= pid / 10 { digits *= 10 }
        while digits > 0 { up(path)[n] = 0x30 &+ UInt8((pid / digits) % 10); n += 1; digits /= 10 }
        for b in [UInt8(0x2F), 0x73, 0x74, 0x61, 0x74, 0] { up(path)[n] = b; n += 1 }
        if read_file(up(path), buf, 512) > 0 {
            let p = up(buf)
            var i = 0
            while p[i] != 0x28 { i += 1 }
            let nameStart = i + 1
            while p[i] != 0x29 { i += 1 }
            let state = p[i + 2]
            let l = out().uw(pid, 5).s(" ").uw(stat_field(p, 4), 5).s(" ").c(state).s("    ")
                .uw(stat_field(p, 23) / 1024, 6).s(" ").uw(stat_field(p, 24) * 4, 5).s(" ")
                .uw(stat_field(p, 10), 6).s(" ").uw(stat_field(p, 12), 6).s(" ")
            var j = nameStart
            while j < i { l.c(p[j]); j += 1 }
            l.end()
        }
        pid &+= 1
    }
    return 0
}

/// cat_main(argc, argv): print each file (cat_path: regular files through a mapping, so
/// reading them takes page faults); no file or "-": standard input.
func cat_main(_ argc: Int, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    if argc < 2 { cat_fd(0, false); return 0 }
    var st: Int32 = 0
    for i in 1..<argc {
        if streq(argv[i], "-") { cat_fd(0, false) }
        else if !cat_path(argv[i]) { out().s("cat: ").cs(argv[i]).s(": No such file or directory").end(2); st = 1 }
    }
    return st
}

/// cksum_main(argc, argv): POSIX cksum: "CRC SIZE NAME" per file (CRC-32, polynomial
/// 0x04C11DB7 MSB first, the length appended, complemented), reading each regular
/// file through a read-only private mapping (so its pages fault in, from the disk or
/// the page cache) and /proc files with read().
func cksum_main(_ argc: Int, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    var table = [UInt32](repeating: 0, count: 256)
    for i in 0..<256 {
        var c = UInt32(i) << 24
        for _ in 0..<8 { c = c & 0x8000_0000 != 0 ? (c << 1) ^ 0x04C1_1DB7 : c << 1 }
        table[i] = c
    }
    var st: Int32 = 0
    for i in 1..<max(argc, 1) {
        let fd = openc(argv[i])
        if failed(fd) { out().s("cksum: ").cs(argv[i]).s(": No such file or directory").end(2); st = 1; continue }
        var crc: UInt32 = 0
        var size: UInt32 = 0
        let len = has_prefix(argv[i], "/proc/") ? 0xFFFF_FFFF : lseek(fd, 0, SEEK_END)
        let a = failed(len) || len == 0 ? len : mmap(0, len, PROT_READ, MAP_PRIVATE, fd, 0)
        if !failed(len) && len != 0 && !failed(a) {
            let p = up(a)
            for k in 0..<Int(len) { crc = (crc << 8) ^ table[Int((crc >> 24) ^ UInt32(p[k]))] }
            size = len
            _ = munmap(a, len)
        } else {
            _ = lseek(fd, 0, SEEK_SET)
            let buf = malloc(PAGE)
            while true {
                let r = read(fd, buf, PAGE)
                if failed(r) || r == 0 { break }
                for k in 0..<Int(r) { crc = (crc << 8) ^ table[Int((crc >> 24) ^ UInt32(up(buf)[k]))] }
                size &+= r
            }
            mfree(buf)
        }
        close(fd)
        var n = size
        while n != 0 { crc = (crc << 8) ^ table[Int((crc >> 24) ^ (n & 0xFF))]; n >>= 8 }
        out().u(~crc).c(0x20).u(size).c(0x20).cs(argv[i]).end()
    }
    return st
}

/// echo_main(argc, argv): print the arguments.
func echo_main(_ argc: Int, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    let l = out()
    for i in 1..<max(argc, 1) { if i > 1 { l.c(0x20) }; l.cs(argv[i]) }
    l.end()
    return 0
}

/// free_main(): `free -l` in kB from /proc/meminfo (Mem, Low, High and Swap lines; the
/// Swap line reads 0 0 0 without SwapTotal/SwapFree).
func free_main() -> Int32 {
    let buf = malloc(2048)
    _ = read_file(cstr("/proc/meminfo"), buf, 2048)
    let p = up(buf)
    let total = proc_value(p, "MemTotal:"), free = proc_value(p, "MemFree:")
    let lt = proc_value(p, "LowTotal:"), lf = proc_value(p, "LowFree:")
    let ht = proc_value(p, "HighTotal:"), hf = proc_value(p, "HighFree:")
    puts("              total       used       free")
    out().s("Mem:   ").uw(total, 11).uw(total &- free, 11).uw(free, 11).end()
    out().s("Low:   ").uw(lt, 11).uw(lt &- lf, 11).uw(lf, 11).end()
    out().s("High:  ").uw(ht, 11).uw(ht &- hf, 11).uw(hf, 11).end()
    let st = proc_value(p, "SwapTotal:"), sf = proc_value(p, "SwapFree:")
    out().s("Swap:  ").uw(st, 11).uw(st &- sf, 11).uw(sf, 11).end()
    return 0
}

/// vmstat_main(): procps's `vmstat -s` for what this kernel counts (totals since boot:
/// the kernel keeps no time base to average over), from /proc/meminfo and /proc/vmstat,
/// plus the page-fault totals.
func vmstat_main() -> Int32 {
    let mi = malloc(2048), vs = malloc(2048)
    _ = read_file(cstr("/proc/meminfo"), mi, 2048)
    _ = read_file(cstr("/proc/vmstat"), vs, 2048)
    let m = up(mi), v = up(vs)
    let total = proc_value(m, "MemTotal:"), free = proc_value(m, "MemFree:")
    let st = proc_value(m, "SwapTotal:"), sf = proc_value(m, "SwapFree:")
    func row(_ n: UInt32, _ what: StaticString) { out().uw(n, 12).c(0x20).s(what).end() }
    row(total, "K total memory")
    row(total &- free, "K used memory")
    row(free, "K free memory")
    row(proc_value(m, "Cached:"), "K cache")
    row(proc_value(m, "SwapCached:"), "K swap cache")
    row(st, "K total swap")
    row(st &- sf, "K used swap")
    row(sf, "K free swap")
    row(proc_value(v, "pgpgin "), "K paged in")
    row(proc_value(v, "pgpgout "), "K paged out")
    row(proc_value(v, "pswpin "), "pages swapped in")
    row(proc_value(v, "pswpout "), "pages swapped out")
    row(proc_value(v, "pgfault "), "page faults")
    row(proc_value(v, "pgmajfault "), "major page faults")
    mfree(vs); mfree(mi)
    return 0
}

/// poweroff_main(): reboot(LINUX_REBOOT_CMD_POWER_OFF).
func poweroff_main() -> Int32 {
    _ = sys(88, 0xFEE1_DEAD, 672_274_793, 0x4321_FEDC)
    puts("poweroff: failed")
    return 1
}
