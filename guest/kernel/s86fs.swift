// s86fs.swift: the read-only s86fs root file system on the ATA disk: mount, the in-memory directory, block reads through the page cache.
//
// The on-disk format is in docs/kernel.md ("s86fs on-disk format"). At mount the
// superblock, inode table and directory are read through the block cache (the page
// cache of the disk itself, mapping BDEV_MAPPING, index = block number) and the
// directory is kept in memory as Inode records (one per name; hard links share `ino`,
// so they share page-cache pages). File data is read page by page by filemap.swift.

let S86FS_MAGIC: UInt32 = 0x4636_3853          // "S86F"
let S86FS_VERSION: UInt32 = 1
let S86FS_INODE_SIZE: UInt32 = 32
let S86FS_DIRENT_SIZE: UInt32 = 64
let S86FS_NAME_MAX: UInt32 = 60                 // bytes of a name field (NUL included)
let SECTORS_PER_BLOCK: UInt32 = PAGE_SIZE / 512
let BDEV_MAPPING: UInt32 = 0                     // page-cache mapping of the disk's own blocks

/// Sb: the mounted superblock (Fs.onDisk) and the in-memory directory.
struct Sb {
    static var onDisk = false       // root is s86fs on the disk (else the initramfs)
    static var nblocks: UInt32 = 0  // blocks in the image
    static var ninodes: UInt32 = 0  // disk inodes
    static var ndirents: UInt32 = 0 // names (the Inode records, 1-based)
    static var dir: UInt32 = 0      // kmalloc'd Inode[ndirents]
    static var swapStart: UInt32 = 0   // first block of the swap area
    static var swapBlocks: UInt32 = 0  // blocks in it (0: no swap)
}

/// s86fs_mount() -> true if the disk holds a valid s86fs: the superblock, inode
/// table and directory are read (through the block cache) into Sb and the directory
/// table, and the root is switched to the disk. Prints Linux's mount line, or why not.
func s86fs_mount() -> Bool {
    if !Ata.present { return false }
    Sb.nblocks = Ata.sectors / SECTORS_PER_BLOCK
    if Sb.nblocks == 0 { return false }
    filemap_init_mapping(BDEV_MAPPING, 1)
    let sbp = bread(0)
    if sbp == NIL_PFN { printk(.err).s("s86fs: cannot read the superblock").end(); return false }
    let s = ptr(kmap(sbp), UInt32.self)
    let magic = s[0], version = s[1], nblocks = s[2], ninodes = s[3], inodeStart = s[4]
    let direntStart = s[5], ndirents = s[6], dataStart = s[7], swapStart = s[8], swapBlocks = s[9]
    kunmap(sbp)
    brelse(sbp)
    if magic != S86FS_MAGIC || version != S86FS_VERSION {
        printk(.info).s("s86fs: no file system on the disk (magic ").hex32(magic).s(")").end()
        return false
    }
    if nblocks > Sb.nblocks || inodeStart == 0 || direntStart <= inodeStart || dataStart < direntStart
        || ndirents == 0 || ndirents > 4096 || ninodes == 0 || ninodes > 4096
        || swapBlocks > nblocks || swapStart > nblocks &- swapBlocks {
        printk(.err).s("s86fs: corrupt superblock").end()
        return false
    }
    filemap_init_mapping(BDEV_MAPPING, dataStart)      // metadata blocks are cached; data goes by inode
    let table = kmalloc(ndirents &* UInt32(MemoryLayout<Inode>.stride), GFP_KERNEL)
    let names = kmalloc(ndirents &* S86FS_NAME_MAX, GFP_KERNEL)
    if table == 0 || names == 0 { panic("s86fs_mount: out of memory") }
    let perBlock = PAGE_SIZE / S86FS_DIRENT_SIZE
    var n: UInt32 = 0
    for d in 0..<ndirents {
        let b = bread(direntStart &+ d / perBlock)
        if b == NIL_PFN { printk(.err).s("s86fs: cannot read the directory").end(); kfree(table); kfree(names); return false }
        let e = kmap(b) &+ (d % perBlock) &* S86FS_DIRENT_SIZE
        let ino = ptr(e, UInt32.self).pointee
        if ino != 0 && ino <= ninodes {
            let name = names &+ n &* S86FS_NAME_MAX
            memcpy_k(name, e &+ 4, S86FS_NAME_MAX)
            ptr(name &+ S86FS_NAME_MAX &- 1, UInt8.self).pointee = 0
            ptr(table, Inode.self)[Int(n)] = Inode(name: name, data: 0, size: 0, ino: ino, start: 0)
            n &+= 1
        }
        kunmap(b)
        brelse(b)
    }
    // The inode of each name.
    let inodesPerBlock = PAGE_SIZE / S86FS_INODE_SIZE
    for k in 0..<Int(n) {
        let ino = ptr(table, Inode.self)[k].ino
        let b = bread(inodeStart &+ (ino &- 1) / inodesPerBlock)
        if b == NIL_PFN { printk(.err).s("s86fs: cannot read the inode table").end(); kfree(table); kfree(names); return false }
        let w = ptr(kmap(b) &+ ((ino &- 1) % inodesPerBlock) &* S86FS_INODE_SIZE, UInt32.self)
        let size = w[0], start = w[1], blocks = w[2]
        kunmap(b)
        brelse(b)
        if blocks != (size &+ PAGE_SIZE &- 1) / PAGE_SIZE || (blocks > 0 && (start < dataStart || start > nblocks &- blocks)) {
            printk(.err).s("s86fs: corrupt inode ").u(ino).end()
            kfree(table); kfree(names)
            return false
        }
        ptr(table, Inode.self)[k].size = size
        ptr(table, Inode.self)[k].start = start
    }
    for k in 0..<Int(n) {
        let r = ptr(table, Inode.self)[k]
        filemap_init_mapping(r.ino, (r.size &+ PAGE_SIZE &- 1) >> PAGE_SHIFT)
    }
    Sb.dir = table
    Sb.ndirents = n
    Sb.ninodes = ninodes
    Sb.swapStart = swapStart
    Sb.swapBlocks = swapBlocks
    Sb.onDisk = true
    printk(.info).s("VFS: Mounted root (s86fs filesystem) readonly on device 3:0: ").u(n).s(" files").end()
    return true
}

/// bread(block) -> the frame holding disk block `block` (from the block cache, else
/// read now), with a reference the caller drops with brelse; NIL_PFN on an I/O error.
func bread(_ block: UInt32) -> UInt32 {
    var major = false
    return read_cache_page(BDEV_MAPPING, block, &major)
}

/// brelse(pfn): drop bread's reference (the block stays cached until reclaim).
func brelse(_ pfn: UInt32) { put_cache_page(pfn) }

/// disk_read_page(mapping, index, pfn) -> 0 after filling frame pfn with page `index`
/// of `mapping` from the disk (zeros past a file's end), or an ATA error code.
func disk_read_page(_ mapping: UInt32, _ index: UInt32, _ pfn: UInt32) -> Int32 {
    let k = kmap(pfn)
    defer { kunmap(pfn) }
    var block = index
    var size = UInt32.max                        // the block device: no end inside a page
    if mapping != BDEV_MAPPING {
        let i = disk_inode(mapping)
        if index >= (i.size &+ PAGE_SIZE &- 1) / PAGE_SIZE {
            memset_words(k, 0, PAGE_SIZE)
            return 0
        }
        block = i.start &+ index
        size = i.size
    }
    let r = ata_read(block &* SECTORS_PER_BLOCK, SECTORS_PER_BLOCK, k)
    if r != 0 { return r }
    if mapping != BDEV_MAPPING {
        let end = (index &+ 1) << PAGE_SHIFT
        if end > size { memset_bytes(k &+ (PAGE_SIZE &- (end &- size)), 0, end &- size) }
    }
    Vmstat.pgpgin &+= PAGE_SIZE >> 10
    return 0
}

/// disk_inode(ino) -> the directory record of disk inode ino (size and start).
func disk_inode(_ ino: UInt32) -> Inode {
    let t = ptr(Sb.dir, Inode.self)
    for k in 0..<Int(Sb.ndirents) where t[k].ino == ino { return t[k] }
    panic("disk_inode: no name for inode")
}
