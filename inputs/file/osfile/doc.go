// Package osfile is the platform layer the tailer uses to open log files and
// tell them apart.
//
// It guarantees that:
//   - a file opened with [Open] never stands in the way of the writer: on
//     Windows it is opened with FILE_SHARE_READ, FILE_SHARE_WRITE and
//     FILE_SHARE_DELETE, so kubelet and the container runtime can rename,
//     re-create and delete it while the tailer still holds it, and the held
//     handle keeps reading the old file's content to its end;
//   - [IDOf] identifies the file a handle is open on, from the handle itself,
//     so a path that has since been renamed or re-created cannot mislead it;
//     [StatID] identifies the file a path names now, following symlinks;
//   - [Removed] tells when a held file has been deleted (Unix link count
//     zero; Windows delete pending), so the tailer can drain it and close the
//     handle, which on Windows Server 2019 is what lets the file, and a pod
//     waiting on it in Terminating, go away.
//
// Paths: CreateFile follows symlinks itself, including kubelet's links under
// C:\var\log\containers whose targets have no drive letter
// (\var\log\pods\<ns>_<pod>_<uid>\<container>\0.log), so nothing is resolved
// here. Absolute Windows paths of 260 characters or more are given the \\?\
// (or \\?\UNC\) prefix that os adds for itself but a direct CreateFile call
// does not get; relative paths are used as they are.
//
// Known limitations: an [ID] is unique only among files that exist at the
// same time. Once a file is gone its inode (Unix) or file index (NTFS reuses
// MFT records) may be given to a new file, which is why the tailer pairs an
// ID with a fingerprint of the file's head. A Windows volume serial number
// is 32 bits and need not be unique across volumes. Take a held file's ID
// once, when it is opened: see Wine below.
//
// Under Wine 8, where the Windows tests run: share modes and file indexes
// behave as on Windows (the index is the Unix inode), but
//   - IDOf reports volume serial 0 for a handle whose opening path no longer
//     names a file (renamed or deleted by another handle); the index is kept;
//   - a deleted file that is still held stays in its folder until the last
//     handle closes, yet Removed reports false (no delete-pending), and a file
//     created at that path meanwhile is the same file, truncated, and goes
//     away with it;
//   - os.Symlink reports success and creates nothing;
//   - CreateFile accepts paths over 260 characters without \\?\.
package osfile
