//go:build !linux && !windows

package metrics

import "errors"

// readProcess knows only Linux's and Windows's ways; sluice runs on those.
func readProcess() (processStats, error) {
	return processStats{}, errors.New("process metrics: not supported on this system")
}
