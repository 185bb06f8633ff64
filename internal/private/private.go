// Package private makes sure the folders sluice keeps its state in
// (data_dir, the buffer, cursors, checkpoints) can be read only by sluice
// and the machine's administrators: they hold log lines and the head bytes
// of every log file.
//
// Dir creates a missing folder private. For a folder that exists, each
// platform decides what it can safely repair (see private_other.go and
// private_windows.go); what it cannot is a *WeakError, which says how to
// fix it, and sluice refuses to start.
//
// Guarantees: Dir checks the folder itself and, on Unix, the files directly
// in it. It does not check the folders above it, nor files that other
// processes put there later.
package private

import "fmt"

// WeakError is a folder others can read or change, with the reason and the
// commands that fix it. Retrying does not help: an operator must act.
type WeakError struct {
	Path   string
	Reason string
	Fix    string // commands to run, one a line
}

// Error implements error.
func (e *WeakError) Error() string {
	return fmt.Sprintf("folder %s is not private: %s. Fix it with:\n%s\nor remove the folder: sluice creates it again with the right permissions, but starts without its buffer and checkpoints (records in the buffer are lost, log files are read again)",
		e.Path, e.Reason, e.Fix)
}
