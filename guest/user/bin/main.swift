// main.swift: the multi-call user binary (as busybox): /bin/NAME runs the applet NAME.

/// umain(argc, argv) -> exit status: dispatch on the last component of argv[0].
@_cdecl("umain")
func umain(_ argc: Int32, _ argv: UnsafeMutablePointer<CStr>) -> Int32 {
    var name = argv[0]
    var i = 0
    while argv[0][i] != 0 { if argv[0][i] == 0x2F { name = argv[0] + i + 1 }; i += 1 }
    let n = Int(argc)
    if streq(name, "sh") { return sh_main(n, argv) }
    if streq(name, "ps") { return ps_main() }
    if streq(name, "cat") { return cat_main(n, argv) }
    if streq(name, "echo") { return echo_main(n, argv) }
    if streq(name, "cksum") { return cksum_main(n, argv) }
    if streq(name, "free") { return free_main() }
    if streq(name, "vmstat") { return vmstat_main() }
    if streq(name, "poweroff") { return poweroff_main() }
    if streq(name, "true") { return 0 }
    if streq(name, "layout") { return layout_main() }
    if streq(name, "demand") { return demand_main(n, argv) }
    if streq(name, "cowdemo") { return cow_main() }
    if streq(name, "brkdemo") { return brk_main() }
    if streq(name, "mmapdemo") { return mmap_main() }
    if streq(name, "stackdemo") { return stack_main(n, argv) }
    if streq(name, "segv") { return segv_main(n, argv) }
    if streq(name, "sigdemo") { return sig_main() }
    if streq(name, "forkbomb") { return forkbomb_main() }
    if streq(name, "efault") { return efault_main() }
    if streq(name, "swapdemo") { return swap_main(n, argv) }
    if streq(name, "time") { return time_main(n, argv) }
    out().cs(name).s(": applet not found").end()
    return 127
}
