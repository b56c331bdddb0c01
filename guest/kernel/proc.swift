// proc.swift: tasks (struct task_struct), the task table, the round-robin scheduler, sleep and wakeup.

let NR_TASKS = 4096                   // task table slots (pid 0 = idle)
let THREAD_ORDER: UInt32 = 1          // kernel stacks are 2 pages (8 KiB)
let THREAD_SIZE: UInt32 = PAGE_SIZE << THREAD_ORDER
let NR_OPEN = 16                      // file descriptors per task
let TIMESLICE: UInt32 = 5             // ticks a task runs before the timer preempts it
let PID_MAX: UInt32 = 32768           // pids wrap here

// Task states (Linux's ps letters: R, S, Z).
let TASK_UNUSED: UInt32 = 0           // free slot
let TASK_RUNNING: UInt32 = 1          // runnable or running ("R")
let TASK_INTERRUPTIBLE: UInt32 = 2    // sleeping on waitChan ("S")
let TASK_ZOMBIE: UInt32 = 3           // exited, waiting for its parent's wait4 ("Z")

/// Task: struct task_struct, one per process, in a kmalloc block.
struct Task {
    var pid: UInt32            // process id
    var ppid: UInt32           // parent's pid
    var state: UInt32          // TASK_*
    var esp: UInt32            // saved kernel ESP while switched out
    var kstack: UInt32         // base of the kernel stack (THREAD_SIZE bytes, lowmem)
    var mm: UInt32             // MmStruct address (0: kernel thread, the idle task)
    var exitCode: UInt32       // wait status once a zombie (Linux's encoding)
    var waitChan: UInt32       // what a sleeping task waits for (an address)
    var timeslice: UInt32      // ticks left before preemption
    var wakeAt: UInt32         // jiffies a nanosleep ends at
    var sigPending: UInt32     // bit n-1: signal n pending
    var sigBlocked: UInt32     // bit n-1: signal n blocked (while its handler runs)
    var sigHandlers: UInt32    // 32 x (handler, flags, restorer) words, kmalloc
    var files: UInt32          // NR_OPEN File addresses (0 = closed), kmalloc
    var comm: (UInt32, UInt32, UInt32, UInt32)   // command name, NUL-padded (16 bytes)
    var minflt: UInt32         // minor faults (page supplied without I/O)
    var majflt: UInt32         // major faults (the page came from the disk)
    var cminflt: UInt32        // minor faults of waited-for children
    var cmajflt: UInt32        // major faults of waited-for children
    var sigAddr: UInt32        // fault address of a pending SIGSEGV (si_addr)
    var sigCode: UInt32        // si_code of a pending SIGSEGV (SEGV_MAPERR / SEGV_ACCERR)
}

/// Sched: the task table and the scheduler's state.
struct Sched {
    static var tasks: UnsafeMutablePointer<UInt32>? = nil   // NR_TASKS Task addresses (0 = free)
    static var current: UInt32 = 0        // the running Task
    static var currentSlot = 0            // its index in tasks
    static var needResched = false        // set by the timer: switch before returning to user
    static var nextPid: UInt32 = 1        // last pid handed out + 1
    static var switches: UInt32 = 0       // context switches (not printed: timing-dependent)
    static var cacheTask = -1             // kmem_cache for Task
}

/// task(a) -> the Task at address a.
@inline(__always) func task(_ a: UInt32) -> UnsafeMutablePointer<Task> { ptr(a, Task.self) }

/// current() -> the running task.
@inline(__always) func current() -> UnsafeMutablePointer<Task> { task(Sched.current) }

/// task_slot(i) -> the Task address in slot i (0 if free).
@inline(__always) func task_slot(_ i: Int) -> UInt32 { Sched.tasks.unsafelyUnwrapped[i] }

/// sched_init(): make the boot thread the idle task (pid 0, slot 0, no mm, boot stack).
/// The timer interrupt may run at any point in here; it does nothing until
/// Sched.current is set, last.
func sched_init() {
    let table = ptr(kmalloc(UInt32(NR_TASKS * 4), GFP_KERNEL), UInt32.self)
    for i in 0..<NR_TASKS { table[i] = 0 }
    Sched.tasks = table
    Sched.cacheTask = kmem_cache_create("task_struct", UInt32(MemoryLayout<Task>.stride), 4)
    let idle = alloc_task_struct()
    task(idle).pointee.pid = 0
    task(idle).pointee.kstack = boot_stack_top_addr() &- 16384
    set_comm(idle, "swapper")
    Sched.tasks.unsafelyUnwrapped[0] = idle
    Sched.current = idle
    Sched.currentSlot = 0
}

/// alloc_task_struct() -> a zeroed Task (state RUNNING) with its signal table and fd
/// table, not yet in the task table. Panics when the slab is exhausted.
func alloc_task_struct() -> UInt32 {
    let t = alloc_task_struct_nopanic()
    if t == 0 { panic("alloc_task_struct: out of memory") }
    return t
}

/// free_task_struct(t): give back a Task, its tables and its kernel stack.
func free_task_struct(_ t: UInt32) {
    let p = task(t)
    if p.pointee.kstack != 0 { free_pages(virt_to_pfn(p.pointee.kstack), THREAD_ORDER) }
    kfree(p.pointee.sigHandlers)
    kfree(p.pointee.files)
    kmem_cache_free(Sched.cacheTask, t)
}

/// memset_bytes(va, b, n): fill n bytes at kernel address va with b.
func memset_bytes(_ va: UInt32, _ b: UInt8, _ n: UInt32) {
    let p = ptr(va, UInt8.self)
    for i in 0..<Int(n) { p[i] = b }
}

/// set_comm(t, name): set the command name (at most 15 bytes) from a static string.
func set_comm(_ t: UInt32, _ name: StaticString) {
    name.withUTF8Buffer { buf in set_comm_bytes(t, addr(UnsafeMutablePointer(mutating: buf.baseAddress!)), UInt32(buf.count)) }
}

/// set_comm_bytes(t, va, n): set the command name from n bytes at kernel address va.
func set_comm_bytes(_ t: UInt32, _ va: UInt32, _ n: UInt32) {
    withUnsafeMutablePointer(to: &task(t).pointee.comm) { c in
        c.withMemoryRebound(to: UInt8.self, capacity: 16) { b in
            let src = ptr(va, UInt8.self)
            for i in 0..<16 { b[i] = i < Int(min(n, 15)) ? src[i] : 0 }
        }
    }
}

/// comm_addr(t) -> the kernel address of t's NUL-terminated command name.
func comm_addr(_ t: UInt32) -> UInt32 {
    t &+ UInt32(MemoryLayout<Task>.offset(of: \Task.comm)!)
}

/// alloc_pid() -> the next free pid (pids count up and wrap, skipping live ones).
func alloc_pid() -> UInt32 {
    while true {
        let pid = Sched.nextPid
        Sched.nextPid = pid &+ 1 >= PID_MAX ? 2 : pid &+ 1
        if find_task(pid) == 0 { return pid }
    }
}

/// find_task(pid) -> the task with that pid, or 0.
func find_task(_ pid: UInt32) -> UInt32 {
    for i in 1..<NR_TASKS {
        let t = task_slot(i)
        if t != 0 && task(t).pointee.pid == pid { return t }
    }
    return 0
}

/// task_install(t) -> true if t got a free slot in the task table.
func task_install(_ t: UInt32) -> Bool {
    for i in 1..<NR_TASKS where task_slot(i) == 0 {
        Sched.tasks.unsafelyUnwrapped[i] = t
        return true
    }
    return false
}

/// task_remove(t): clear t's slot in the task table.
func task_remove(_ t: UInt32) {
    for i in 1..<NR_TASKS where task_slot(i) == t { Sched.tasks.unsafelyUnwrapped[i] = 0 }
}

/// schedule(): pick the next runnable task after the current one in table order (round
/// robin; the idle task only when nothing else runs) and switch to it: CR3 to its page
/// directory, TSS.esp0 to the top of its kernel stack, then switch_to. Returns when
/// this task is picked again. Called with interrupts off.
func schedule() {
    Sched.needResched = false
    var next = 0
    var i = Sched.currentSlot
    for _ in 0..<NR_TASKS {
        i = i + 1 == NR_TASKS ? 1 : i + 1
        let t = task_slot(i)
        if t != 0 && task(t).pointee.state == TASK_RUNNING { next = i; break }
    }
    let nt = task_slot(next)
    task(nt).pointee.timeslice = TIMESLICE
    if next == Sched.currentSlot { return }
    let prev = Sched.current
    Sched.current = nt
    Sched.currentSlot = next
    Sched.switches &+= 1
    let mm = task(nt).pointee.mm
    if mm != 0 {
        x86_write_cr3(__pa(mmp(mm).pointee.pgd))
        tss_set_esp0(task(nt).pointee.kstack &+ THREAD_SIZE)
    }
    switch_to(addr(withUnsafeMutablePointer(to: &task(prev).pointee.esp) { $0 }), task(nt).pointee.esp)
}

@_extern(c, "switch_to") func switch_to(_ prevEsp: UnsafeMutablePointer<UInt32>, _ nextEsp: UInt32)
@_extern(c, "x86_ret_from_fork") func x86_ret_from_fork() -> UInt32

/// switch_to(prevEspAddr, next): switch_to with the save slot given as an address.
func switch_to(_ prevEspAddr: UInt32, _ nextEsp: UInt32) {
    switch_to(ptr(prevEspAddr, UInt32.self), nextEsp)
}

/// sleep_on(chan): sleep until wake_up(chan) or a signal; returns to the caller after.
func sleep_on(_ chan: UInt32) {
    let t = current()
    t.pointee.waitChan = chan
    t.pointee.state = TASK_INTERRUPTIBLE
    schedule()
    t.pointee.waitChan = 0
}

/// wake_up(chan): make every task sleeping on chan runnable.
func wake_up(_ chan: UInt32) {
    for i in 1..<NR_TASKS {
        let t = task_slot(i)
        if t != 0 && task(t).pointee.state == TASK_INTERRUPTIBLE && task(t).pointee.waitChan == chan {
            task(t).pointee.state = TASK_RUNNING
        }
    }
}

/// wake_up_process(t): make t runnable if it sleeps (a signal arrived).
func wake_up_process(_ t: UInt32) {
    if task(t).pointee.state == TASK_INTERRUPTIBLE { task(t).pointee.state = TASK_RUNNING }
}

/// timer_interrupt(): IRQ 0: count a jiffy, wake nanosleepers whose time is up, and
/// charge the running task's time slice (at 0 it is preempted on its way to user mode).
func timer_interrupt() {
    Timer.jiffies &+= 1
    // Before sched_init has made the idle task there is no task to charge (a tick
    // between its two stores used to dereference task 0: "ptr: null address").
    guard let tasks = Sched.tasks, Sched.current != 0 else { return }
    for i in 1..<NR_TASKS {
        let t = tasks[i]
        if t != 0 && task(t).pointee.state == TASK_INTERRUPTIBLE && task(t).pointee.waitChan == 1
            && Int32(bitPattern: Timer.jiffies &- task(t).pointee.wakeAt) >= 0 {
            task(t).pointee.state = TASK_RUNNING
        }
    }
    let c = current()
    if c.pointee.timeslice > 0 { c.pointee.timeslice -= 1 }
    if c.pointee.timeslice == 0 || Sched.currentSlot == 0 { Sched.needResched = true }
}

/// cpu_idle(): the idle task's loop, forever: run whoever is runnable, else halt until
/// an interrupt. Never returns.
func cpu_idle() -> Never {
    while true {
        x86_cli()
        schedule()
        x86_safe_halt()
    }
}

/// tss_set_esp0(esp0): the kernel stack the CPU switches to on a ring 3 -> 0 trap.
func tss_set_esp0(_ esp0: UInt32) {
    withUnsafeMutablePointer(to: &Tss.area) { p in
        p.withMemoryRebound(to: UInt32.self, capacity: 26) { w in w[1] = esp0 }
    }
}

/// exit_to_user_mode(f): on the way back to ring 3: switch if the time slice is used
/// up (or someone woke), then deliver pending signals.
func exit_to_user_mode(_ f: UnsafeMutablePointer<TrapFrame>) {
    if Sched.needResched { schedule() }
    if current().pointee.sigPending & ~current().pointee.sigBlocked != 0 { do_signal(f) }
}
