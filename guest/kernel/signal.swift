// signal.swift: signals: kill, rt_sigaction, delivery with an rt_sigframe on the user stack, rt_sigreturn, traps -> signals.

let SIGILL: UInt32 = 4, SIGTRAP: UInt32 = 5, SIGBUS: UInt32 = 7, SIGFPE: UInt32 = 8, SIGKILL: UInt32 = 9
let SIGSEGV: UInt32 = 11, SIGCHLD: UInt32 = 17, SIGSTOP: UInt32 = 19
let SA_SIGINFO: UInt32 = 4, SA_NODEFER: UInt32 = 0x4000_0000, SA_RESETHAND: UInt32 = 0x8000_0000
let SA_RESTORER: UInt32 = 0x0400_0000
let SEGV_MAPERR: UInt32 = 1, SEGV_ACCERR: UInt32 = 2
let SIG_DFL: UInt32 = 0, SIG_IGN: UInt32 = 1

// rt_sigframe layout (arch/x86/include/asm/sigframe.h, i386).
let RT_INFO: UInt32 = 16              // struct siginfo (128 bytes)
let RT_UC: UInt32 = 144               // struct ucontext: flags, link, stack (12), mcontext, sigmask
let RT_MCTX: UInt32 = RT_UC + 20      // struct sigcontext (22 words)
let RT_MASK: UInt32 = RT_MCTX + 88    // uc_sigmask (8 bytes)
let RT_RETCODE: UInt32 = RT_MASK + 8  // movl $173, %eax; int $0x80
let RT_FRAME_SIZE: UInt32 = RT_RETCODE + 8

/// handler_word(t, sig, k) -> &word k (0 handler, 1 flags, 2 restorer) of t's action for sig.
@inline(__always) func handler_word(_ t: UInt32, _ sig: UInt32, _ k: Int) -> UnsafeMutablePointer<UInt32> {
    ptr(task(t).pointee.sigHandlers, UInt32.self) + Int(sig &* 3) + k
}

/// send_sig(t, sig): make sig pending for t and wake it.
func send_sig(_ t: UInt32, _ sig: UInt32) {
    task(t).pointee.sigPending |= 1 << (sig &- 1)
    wake_up_process(t)
}

/// unhandled(t, sig) -> true if sig would take its default action (or is ignored).
func unhandled(_ t: UInt32, _ sig: UInt32) -> Bool { handler_word(t, sig, 0).pointee <= SIG_IGN }

/// force_sig_fault(sig, address, f): a synchronous fault signal for the current task:
/// if it is blocked or ignored, the default action is restored (Linux's force_sig).
func force_sig_fault(_ sig: UInt32, _ address: UInt32, _ f: UnsafeMutablePointer<TrapFrame>) {
    let t = Sched.current
    let bit: UInt32 = 1 << (sig &- 1)
    if task(t).pointee.sigBlocked & bit != 0 || handler_word(t, sig, 0).pointee == SIG_IGN {
        handler_word(t, sig, 0).pointee = SIG_DFL
        task(t).pointee.sigBlocked &= ~bit
    }
    task(t).pointee.sigAddr = address
    task(t).pointee.sigCode = f.pointee.error & PF_PROT != 0 && f.pointee.vector == 14 ? SEGV_ACCERR : SEGV_MAPERR
    task(t).pointee.sigPending |= bit
}

/// do_user_trap(f, vector): a CPU exception in user mode (other than #PF): log it as
/// Linux does when nobody handles it, and send the matching signal.
func do_user_trap(_ f: UnsafeMutablePointer<TrapFrame>, _ vector: UInt32) {
    let t = Sched.current
    var sig = SIGSEGV
    var what: StaticString = "general protection fault"
    switch vector {
    case 0: sig = SIGFPE; what = "divide error"
    case 1, 3: sig = SIGTRAP; what = "int3"
    case 6: sig = SIGILL; what = "invalid opcode"
    case 13: break
    default: what = "trap"
    }
    if unhandled(t, sig) {
        let line = printk(.info).s("traps: ").cstr(comm_addr(t)).s("[").u(task(t).pointee.pid).s("] ")
        if vector != 13 { line.s("trap ") }
        line.s(what).s(" ip:").xr(f.pointee.eip, 0).s(" sp:").xr(f.pointee.useresp, 0)
            .s(" error:").xr(f.pointee.error, 0).end()
    }
    force_sig_fault(sig, 0, f)
}

/// sys_kill(pid, sig).
func sys_kill(_ pid: UInt32, _ sig: UInt32) -> UInt32 {
    if sig > 31 { return err(EINVAL) }
    let t = find_task(pid)
    if t == 0 || task(t).pointee.state == TASK_ZOMBIE { return err(ESRCH) }
    if sig != 0 { send_sig(t, sig) }
    return 0
}

/// sys_rt_sigaction(sig, act, oact): struct k_sigaction {handler, flags, restorer, mask}.
func sys_rt_sigaction(_ sig: UInt32, _ act: UInt32, _ oact: UInt32) -> UInt32 {
    if sig == 0 || sig > 31 || sig == SIGKILL || sig == SIGSTOP { return err(EINVAL) }
    let t = Sched.current
    if oact != 0 {
        if !put_user(oact, handler_word(t, sig, 0).pointee) || !put_user(oact &+ 4, handler_word(t, sig, 1).pointee)
            || !put_user(oact &+ 8, handler_word(t, sig, 2).pointee) || !put_user(oact &+ 12, 0) { return err(EFAULT) }
    }
    if act != 0 {
        guard let h = get_user(act), let fl = get_user(act &+ 4), let r = get_user(act &+ 8) else { return err(EFAULT) }
        handler_word(t, sig, 0).pointee = h
        handler_word(t, sig, 1).pointee = fl
        handler_word(t, sig, 2).pointee = r
    }
    return 0
}

/// do_signal(f): deliver the lowest pending unblocked signal: ignore it, take the
/// default action (terminate, except SIGCHLD) or build an rt_sigframe on the user
/// stack and point the frame at the handler (EAX = sig, EDX = &info, ECX = &uc).
func do_signal(_ f: UnsafeMutablePointer<TrapFrame>) {
    let t = Sched.current
    let p = task(t)
    let ready = p.pointee.sigPending & ~p.pointee.sigBlocked
    if ready == 0 { return }
    let sig = UInt32(ready.trailingZeroBitCount) &+ 1
    let bit: UInt32 = 1 << (sig &- 1)
    p.pointee.sigPending &= ~bit
    let h = handler_word(t, sig, 0).pointee
    let flags = handler_word(t, sig, 1).pointee
    if h == SIG_IGN || (h == SIG_DFL && sig == SIGCHLD) { return }
    if h == SIG_DFL || sig == SIGKILL { do_exit(sig) }
    let r = f.pointee
    let sp = ((r.useresp &- RT_FRAME_SIZE &+ 4) & ~15) &- 4
    let k = kmalloc(RT_FRAME_SIZE, GFP_KERNEL)
    if k == 0 { do_exit(SIGSEGV) }
    memset_bytes(k, 0, RT_FRAME_SIZE)
    let w = ptr(k, UInt32.self)
    let restorer = flags & SA_RESTORER != 0 ? handler_word(t, sig, 2).pointee : sp &+ RT_RETCODE
    w[0] = restorer
    w[1] = sig
    w[2] = sp &+ RT_INFO
    w[3] = sp &+ RT_UC
    w[4] = sig                                            // si_signo
    w[6] = sig == SIGSEGV ? p.pointee.sigCode : 0         // si_code
    w[7] = p.pointee.sigAddr                              // si_addr
    let m = Int(RT_MCTX / 4)
    w[m + 0] = r.gs; w[m + 1] = r.fs; w[m + 2] = r.es; w[m + 3] = r.ds
    w[m + 4] = r.edi; w[m + 5] = r.esi; w[m + 6] = r.ebp; w[m + 7] = r.useresp
    w[m + 8] = r.ebx; w[m + 9] = r.edx; w[m + 10] = r.ecx; w[m + 11] = r.eax
    w[m + 12] = r.vector; w[m + 13] = r.error; w[m + 14] = r.eip; w[m + 15] = r.cs
    w[m + 16] = r.eflags; w[m + 17] = r.useresp; w[m + 18] = r.ss; w[m + 19] = 0
    w[m + 20] = p.pointee.sigBlocked; w[m + 21] = p.pointee.sigAddr
    w[Int(RT_MASK / 4)] = p.pointee.sigBlocked
    let rc = ptr(k &+ RT_RETCODE, UInt8.self)                  // movl $173, %eax; int $0x80
    rc[0] = 0xB8; rc[1] = 173; rc[2] = 0; rc[3] = 0; rc[4] = 0; rc[5] = 0xCD; rc[6] = 0x80
    let ok = copy_to_user(sp, k, RT_FRAME_SIZE)
    kfree(k)
    if !ok {
        printk(.info).cstr(comm_addr(t)).s("[").u(p.pointee.pid).s("]: bad frame in signal delivery").end()
        do_exit(SIGSEGV)
    }
    if flags & SA_NODEFER == 0 { p.pointee.sigBlocked |= bit }
    if flags & SA_RESETHAND != 0 { handler_word(t, sig, 0).pointee = SIG_DFL }
    f.pointee.useresp = sp
    f.pointee.eip = h
    f.pointee.eax = sig
    f.pointee.edx = sp &+ RT_INFO
    f.pointee.ecx = sp &+ RT_UC
    f.pointee.eflags &= ~(1 << 8)                              // TF off in the handler
}

/// sys_rt_sigreturn(f) -> the interrupted EAX, after restoring the registers and the
/// signal mask saved in the rt_sigframe (ESP - 4: the handler's ret popped pretcode).
func sys_rt_sigreturn(_ f: UnsafeMutablePointer<TrapFrame>) -> UInt32 {
    let frame = f.pointee.useresp &- 4
    let k = kmalloc(RT_FRAME_SIZE, GFP_KERNEL)
    if k == 0 { do_exit(SIGSEGV) }
    if !copy_from_user(k, frame, RT_FRAME_SIZE) { kfree(k); do_exit(SIGSEGV) }
    let w = ptr(k, UInt32.self)
    let m = Int(RT_MCTX / 4)
    f.pointee.edi = w[m + 4]; f.pointee.esi = w[m + 5]; f.pointee.ebp = w[m + 6]
    f.pointee.ebx = w[m + 8]; f.pointee.edx = w[m + 9]; f.pointee.ecx = w[m + 10]
    let eax = w[m + 11]
    f.pointee.eip = w[m + 14]
    // Only the user-changeable flags (CF PF AF ZF SF TF DF OF AC) come from the frame.
    let fix: UInt32 = 0x40DD5
    f.pointee.eflags = (f.pointee.eflags & ~fix) | (w[m + 16] & fix)
    f.pointee.useresp = w[m + 17]
    current().pointee.sigBlocked = w[Int(RT_MASK / 4)] & ~((1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1)))
    kfree(k)
    return eax
}
