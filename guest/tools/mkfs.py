#!/usr/bin/env python3
# mkfs.py: build (or list) an s86fs disk image for the guest kernel (format: docs/kernel.md, Part 3).
"""Build an s86fs disk image, or list one.

  mkfs.py -o OUT [--swap-mib N] [--gen-text NAME=BYTES ...] NAME=HOSTFILE ...
  mkfs.py --list IMAGE

Every NAME=HOSTFILE adds the directory entry NAME (an absolute path, at most 59 bytes)
for the contents of HOSTFILE; names given the same HOSTFILE share one inode (hard links).
--gen-text NAME=BYTES adds a generated text file of BYTES bytes (see gen_text). Files are
laid out contiguously, block-aligned, in first-seen order (host files in command-line
order, then generated files); the swap area (N MiB) is the last blocks of the image,
which is written sparse (the swap area is never written). Same inputs, same bytes.
Errors print one line on stderr and exit with status 2.
"""

import argparse
import os
import struct
import sys

BLOCK = 4096                 # bytes per block (8 sectors)
MAGIC = 0x46363853           # "S86F" as bytes, little-endian
VERSION = 1
INODE_SIZE = 32              # bytes per inode
DIRENT_SIZE = 64             # bytes per directory entry
NAME_MAX = 59                # name bytes, without the terminating NUL (field is 60 bytes)
MODE_FILE = 1                # regular file
MODE_EXEC = 2                # executable
MAX_BLOCKS = (1 << 28) // 8  # ATA LBA28 addresses 2^28 sectors
SUPER_FIELDS = ("magic", "version", "nblocks", "ninodes", "inodeStart", "direntStart",
                "ndirents", "dataStart", "swapStart", "swapBlocks")
TEXT_LINE = ": the quick brown fox jumps over the lazy dog\n"


class MkfsError(Exception):
    """A usage or input error: reported on stderr, exit status 2."""


def blocks_for(nbytes):
    """Return the number of whole blocks that hold nbytes bytes."""
    return (nbytes + BLOCK - 1) // BLOCK


def gen_text(name, nbytes):
    """Return the deterministic text of a generated file: nbytes bytes of equal-length
    lines "PREFIX NNNNNN: the quick brown fox jumps over the lazy dog\\n" (PREFIX is the
    last component of name, NNNNNN the line number from 0, zero-padded to as many digits
    as the largest line number needs, at least 6); the last line may be cut."""
    prefix = name.rsplit("/", 1)[-1]
    base = len(prefix) + 1 + len(TEXT_LINE)
    width = 6
    while (nbytes + base + width - 1) // (base + width) > 10 ** width:
        width += 1
    nlines = (nbytes + base + width - 1) // (base + width)
    text = "".join("%s %0*d%s" % (prefix, width, i, TEXT_LINE) for i in range(nlines))
    return text.encode()[:nbytes]


def check_name(name, seen):
    """Check a directory entry name (absolute, 1..59 bytes after '/', no NUL, not given
    before) and return it encoded; raise MkfsError otherwise."""
    raw = name.encode()
    if not name.startswith("/") or name == "/":
        raise MkfsError("name %r is not an absolute file path" % name)
    if len(raw) > NAME_MAX:
        raise MkfsError("name %r is %d bytes long (at most %d)" % (name, len(raw), NAME_MAX))
    if b"\0" in raw:
        raise MkfsError("name %r contains a NUL byte" % name)
    if name in seen:
        raise MkfsError("name %r given twice" % name)
    seen.add(name)
    return raw


def split_spec(spec, what):
    """Split "NAME=VALUE" into (NAME, VALUE); raise MkfsError naming what VALUE is."""
    name, sep, value = spec.partition("=")
    if not sep or not name or not value:
        raise MkfsError("expected NAME=%s, got %r" % (what, spec))
    return name, value


def collect(files, gens):
    """Read the inputs: files are "NAME=HOSTFILE" specs, gens "NAME=BYTES" specs.
    Return (inodes, dirents): inodes a list of (data bytes, mode) in first-seen order,
    dirents a list of (name bytes, inode number) in command-line order."""
    seen = set()
    inodes = []
    by_host = {}                     # real host path -> inode number
    dirents = []
    for spec in files:
        name, host = split_spec(spec, "HOSTFILE")
        raw = check_name(name, seen)
        key = os.path.realpath(host)
        if key not in by_host:
            if not os.path.exists(key):
                raise MkfsError("%s: no such file (for %s)" % (host, name))
            if not os.path.isfile(key):
                raise MkfsError("%s: not a regular file (for %s)" % (host, name))
            with open(key, "rb") as f:
                data = f.read()
            mode = MODE_EXEC if os.stat(key).st_mode & 0o111 else MODE_FILE
            inodes.append((data, mode))
            by_host[key] = len(inodes)
        dirents.append((raw, by_host[key]))
    for spec in gens:
        name, size = split_spec(spec, "BYTES")
        raw = check_name(name, seen)
        if not size.isdigit():
            raise MkfsError("%s: size %r is not a number of bytes" % (name, size))
        inodes.append((gen_text(name, int(size)), MODE_FILE))
        dirents.append((raw, len(inodes)))
    return inodes, dirents


def build(out, inodes, dirents, swap_mib):
    """Write the image to out (through a temporary file, renamed at the end): superblock,
    inode table, directory, file data, then swap_mib MiB of swap left as a hole."""
    inode_blocks = blocks_for(len(inodes) * INODE_SIZE)
    dirent_blocks = blocks_for(len(dirents) * DIRENT_SIZE)
    dirent_start = 1 + inode_blocks
    data_start = dirent_start + dirent_blocks
    table = bytearray()
    next_block = data_start
    for data, mode in inodes:
        nblk = blocks_for(len(data))
        table += struct.pack("<IIII16x", len(data), next_block if nblk else 0, nblk, mode)
        next_block += nblk
    swap_start = next_block
    swap_blocks = swap_mib * (1 << 20) // BLOCK
    nblocks = swap_start + swap_blocks
    if nblocks > MAX_BLOCKS:
        raise MkfsError("image of %d blocks is beyond LBA28 (%d blocks)" % (nblocks, MAX_BLOCKS))
    directory = b"".join(struct.pack("<I60s", ino, raw) for raw, ino in dirents)
    sb = struct.pack("<10I", MAGIC, VERSION, nblocks, len(inodes), 1, dirent_start,
                     len(dirents), data_start, swap_start, swap_blocks)
    tmp = out + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(sb.ljust(BLOCK, b"\0"))
            f.write(bytes(table).ljust(inode_blocks * BLOCK, b"\0"))
            f.write(directory.ljust(dirent_blocks * BLOCK, b"\0"))
            for data, _ in inodes:
                f.write(data.ljust(blocks_for(len(data)) * BLOCK, b"\0"))
            f.truncate(nblocks * BLOCK)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def list_image(path):
    """Print the superblock and the directory of the image at path (one entry a line:
    ino, mode, size, start block, blocks, name); raise MkfsError if it is not s86fs."""
    try:
        with open(path, "rb") as f:
            head = f.read(40)
            if len(head) < 40:
                raise MkfsError("%s: too short for an s86fs superblock" % path)
            sb = dict(zip(SUPER_FIELDS, struct.unpack("<10I", head)))
            if sb["magic"] != MAGIC:
                raise MkfsError("%s: bad magic 0x%08x (not s86fs)" % (path, sb["magic"]))
            f.seek(sb["inodeStart"] * BLOCK)
            table = f.read(sb["ninodes"] * INODE_SIZE)
            f.seek(sb["direntStart"] * BLOCK)
            directory = f.read(sb["ndirents"] * DIRENT_SIZE)
    except (OSError, struct.error) as e:
        raise MkfsError("%s: %s" % (path, e))
    size = os.path.getsize(path)
    for field in SUPER_FIELDS:
        value = sb[field]
        note = ""
        if field == "magic":
            note = ' ("S86F")'
        elif field == "nblocks":
            note = " (%d bytes; file is %d bytes)" % (value * BLOCK, size)
        elif field == "swapBlocks":
            note = " (%d MiB)" % (value * BLOCK >> 20)
        print("%-11s %s%s" % (field, "0x%08x" % value if field == "magic" else value, note))
    print("%5s %4s %10s %8s %7s  %s" % ("ino", "mode", "size", "start", "blocks", "name"))
    for i in range(sb["ndirents"]):
        ino, raw = struct.unpack_from("<I60s", directory, i * DIRENT_SIZE)
        if ino == 0:
            continue
        name = raw.split(b"\0", 1)[0].decode(errors="replace")
        if not 1 <= ino <= sb["ninodes"]:
            print("%5d %4s %10s %8s %7s  %s (bad inode number)" % (ino, "?", "?", "?", "?", name))
            continue
        isize, start, nblk, mode = struct.unpack_from("<IIII", table, (ino - 1) * INODE_SIZE)
        print("%5d %4d %10d %8d %7d  %s" % (ino, mode, isize, start, nblk, name))


def main(argv):
    """Parse the command line and build or list an image; return the exit status."""
    p = argparse.ArgumentParser(
        prog="mkfs.py", description="Build an s86fs disk image (docs/kernel.md, Part 3), or list one.")
    p.add_argument("-o", "--output", metavar="OUT", help="the image to write")
    p.add_argument("--swap-mib", type=int, default=0, metavar="N",
                   help="swap area of N MiB at the end of the image (default 0: none)")
    p.add_argument("--gen-text", action="append", default=[], metavar="NAME=BYTES",
                   help="add NAME, a generated text file of BYTES bytes (repeatable)")
    p.add_argument("--list", metavar="IMAGE", help="print IMAGE's superblock and directory")
    p.add_argument("files", nargs="*", metavar="NAME=HOSTFILE",
                   help="add NAME with HOSTFILE's contents (same HOSTFILE: same inode)")
    args = p.parse_args(argv)
    try:
        if args.list is not None:
            if args.output or args.files or args.gen_text:
                raise MkfsError("--list takes no other arguments")
            list_image(args.list)
            return 0
        if not args.output:
            raise MkfsError("-o OUT is required (or --list IMAGE)")
        if args.swap_mib < 0:
            raise MkfsError("--swap-mib must be >= 0")
        inodes, dirents = collect(args.files, args.gen_text)
        build(args.output, inodes, dirents, args.swap_mib)
        return 0
    except MkfsError as e:
        print("mkfs.py: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("mkfs.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
