// sh.swift: the shell (init): `sh -c "cmd; cmd"` or an interactive prompt; ps, cat, echo, free, poweroff.

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
/// shell; anything else is /bin/WORD (or a path) in a child; the shell waits for it
/// and reports a death by signal as bash does.
func run_line(_ l: CStr) -> Int32 {
    let argv = UnsafeMutablePointer<UInt32>(bitPattern: UInt(malloc(33 * 4)))!
    var argc = 0
    var i = 0
    while l[i] != 0 && argc < 32 {
        while l[i] == 0x20 { l[i] = 0; i += 1 }
        if l[i] == 0 { break }
        argv[argc] = ua(l + i)
        argc += 1
        while l[i] != 0 && l[i] != 0x20 { i += 1 }
    }
    argv[argc] = 0
    defer { mfree(ua(argv)) }
    if argc == 0 { return 0 }
    let cmd = up(argv[0])
    if streq(cmd, "exit") { exit(argc > 1 ? atou(up(argv[1])) : 0) }
    // "/bin/" + cmd unless it holds a '/'
    let path = malloc(128)
    defer { mfree(path) }
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
        let r = sys(11, path, ua(argv), 0)
        out().s("sh: ").cs(cmd).s(": not found (").d(Int32(bitPattern: r)).s(")").end()
        exit(127)
    }
    if failed(pid) { out().s("sh: fork failed: ").d(Int32(bitPattern: pid)).end(); return 1 }
    var st: UInt32 = 0
    _ = wait4(pid, &st)
    if st & 0x7F != 0 {
        out().s(signame(st & 0x7F)).end()
        return Int32(128 &+ (st & 0x7F))
    }
    return Int32((st >> 8) & 0xFF)
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

/// cat_main(argc, argv): print each file.
func cat_main(_ argc: Int, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    var st: Int32 = 0
    for i in 1..<max(argc, 1) {
        if !cat_path(argv[i]) { out().s("cat: ").cs(argv[i]).s(": No such file or directory").end(); st = 1 }
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

/// meminfo_kb(p, key) -> the kB value of a /proc/meminfo line.
func meminfo_kb(_ p: CStr, _ key: StaticString) -> UInt32 {
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

/// free_main(): `free` in kB from /proc/meminfo (Mem, Low, High lines).
func free_main() -> Int32 {
    let buf = malloc(2048)
    _ = read_file(cstr("/proc/meminfo"), buf, 2048)
    let p = up(buf)
    let total = meminfo_kb(p, "MemTotal:"), free = meminfo_kb(p, "MemFree:")
    let lt = meminfo_kb(p, "LowTotal:"), lf = meminfo_kb(p, "LowFree:")
    let ht = meminfo_kb(p, "HighTotal:"), hf = meminfo_kb(p, "HighFree:")
    puts("              total       used       free")
    out().s("Mem:   ").uw(total, 11).uw(total &- free, 11).uw(free, 11).end()
    out().s("Low:   ").uw(lt, 11).uw(lt &- lf, 11).uw(lf, 11).end()
    out().s("High:  ").uw(ht, 11).uw(ht &- hf, 11).uw(hf, 11).end()
    return 0
}

/// poweroff_main(): reboot(LINUX_REBOOT_CMD_POWER_OFF).
func poweroff_main() -> Int32 {
    _ = sys(88, 0xFEE1_DEAD, 672_274_793, 0x4321_FEDC)
    puts("poweroff: failed")
    return 1
}
