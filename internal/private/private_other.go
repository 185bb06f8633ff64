//go:build !windows

package private

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Dir creates path 0700 when it is missing. When it exists it must belong
// to the user sluice runs as; group and other permissions on it and on
// the files directly in it are removed, and what was changed is returned
// for the caller to log.
//
// Unix: tighten rather than refuse, because those modes are what earlier
// sluice versions created (0755 folders, 0644 files), not an operator's
// choice: an upgrade is expected to just work, the chmod cannot lock sluice
// out of its own folder, and a refusal would crash-loop the DaemonSet's pod
// on every node until someone fixed each by hand. A folder owned by another
// user is refused: that user could change it back or swap its files at any
// time, and taking it over with chown would hand their files to sluice; it
// is a configuration error (a hostPath shared with something else) to fix
// once.
func Dir(path string) (tightened []string, err error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("create folder %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("check folder %s: %w", path, err)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		me := os.Geteuid()
		return nil, &WeakError{
			Path:   path,
			Reason: fmt.Sprintf("it is owned by uid %d, but sluice runs as uid %d", sys.Uid, me),
			Fix:    fmt.Sprintf("chown -R %d %q && chmod 0700 %q", me, path, path),
		}
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o700); err != nil {
			return nil, fmt.Errorf("make folder %s private: %w", path, err)
		}
		tightened = append(tightened, path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return tightened, fmt.Errorf("list folder %s: %w", path, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue // folders are checked by their own call; links and devices are left alone
		}
		info, err := e.Info()
		if err != nil || info.Mode().Perm()&0o077 == 0 {
			continue // gone since the listing, or private already
		}
		p := filepath.Join(path, e.Name())
		if err := os.Chmod(p, info.Mode().Perm()&^0o077); err != nil {
			return tightened, fmt.Errorf("make file %s private: %w", p, err)
		}
		tightened = append(tightened, p)
	}
	return tightened, nil
}
