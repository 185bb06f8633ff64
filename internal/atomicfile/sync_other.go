//go:build !windows

package atomicfile

import (
	"fmt"
	"os"
)

// SyncDir makes a new or renamed entry of dir durable: on POSIX file systems
// a directory entry is only safe once the directory itself is synced.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}
