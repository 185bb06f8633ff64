package atomicfile

// SyncDir does nothing: Windows cannot open a folder for FlushFileBuffers
// without backup privileges, and NTFS journals the rename's metadata itself.
func SyncDir(string) error { return nil }
