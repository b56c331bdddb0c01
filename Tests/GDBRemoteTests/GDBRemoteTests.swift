// GDBRemoteTests: packet framing and the command set of the GDB remote protocol.
import XCTest
import GDBRemote
