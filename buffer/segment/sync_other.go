//go:build !windows

package segment

import (
	"fmt"
	"os"
)

// syncDir makes a new file's entry in dir durable: on POSIX file systems it
// is only safe once the folder itself is synced.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open folder: %w", err)
	}
	defer d.Close()
	return d.Sync()
}
