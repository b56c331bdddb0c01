// swift-tools-version:6.0
// swift86: an i686 system emulator with a real MMU, and the Embedded Swift kernel it boots.
import PackageDescription

// The interpreter's hot path relies on whole-module optimization and no runtime
// exclusivity checks (see docs/performance.md for the measured effect).
let fast: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"]),
]

let package = Package(
    name: "swift86",
    products: [
        .executable(name: "swift86", targets: ["swift86"]),
    ],
    targets: [
        .target(name: "X86Decoder", swiftSettings: fast),
        .target(name: "X86CPU", dependencies: ["X86Decoder"], swiftSettings: fast),
        .target(name: "PCMachine", dependencies: ["X86CPU"], swiftSettings: fast),
        .target(name: "GDBRemote", swiftSettings: fast),
        .target(name: "Debugger", dependencies: ["PCMachine", "X86CPU", "X86Decoder"], swiftSettings: fast),
        .executableTarget(name: "swift86", dependencies: ["PCMachine", "X86CPU", "X86Decoder", "GDBRemote", "Debugger"], swiftSettings: fast),
        .testTarget(name: "X86DecoderTests", dependencies: ["X86Decoder"]),
        .testTarget(name: "X86CPUTests", dependencies: ["X86CPU", "X86Decoder"], exclude: ["Native"]),
        .testTarget(name: "PCMachineTests", dependencies: ["PCMachine", "X86CPU"],
                    exclude: ["Fixtures/probe.asm", "Fixtures/probe.ld", "Fixtures/higherhalf.c.in",
                              "Fixtures/higherhalf.ld", "Fixtures/qemu-probe.sh"]),
        .testTarget(name: "GDBRemoteTests", dependencies: ["GDBRemote"]),
        .testTarget(name: "DebuggerTests", dependencies: ["Debugger", "PCMachine", "X86CPU"]),
        .testTarget(name: "Swift86CLITests", dependencies: []),
    ],
    swiftLanguageModes: [.v5]
)
