// panic.swift: stop the kernel with a message; the exit-code convention of the debug-exit port.

let DEBUG_EXIT_PORT: UInt16 = 0xF4   // QEMU isa-debug-exit (and swift86's debug-exit)
let EXIT_PANIC: UInt32 = 0x7F        // written on panic: QEMU exits with (0x7F<<1)|1 = 255

/// exit_machine(code): write code to the debug-exit port (QEMU then exits with status
/// (code << 1) | 1); if the machine does not exit, halt forever. Never returns.
func exit_machine(_ code: UInt32) -> Never {
    outl(DEBUG_EXIT_PORT, code)
    halt_forever()
}

var panicking = false   // set on the first panic: a panic inside panic just exits

/// panic(msg): print "panic: msg" on the console and exit with EXIT_PANIC. Never returns.
/// By convention msg reads "function: reason".
func panic(_ msg: StaticString) -> Never {
    if !panicking {
        panicking = true
        Console.newline()
        put("panic: ")
        put(msg)
        Console.putc(0x0A)
    }
    exit_machine(EXIT_PANIC)
}
