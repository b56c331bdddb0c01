// GDBRemote: the GDB remote serial protocol (no emulator knowledge) — see GDBServer.
