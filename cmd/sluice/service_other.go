//go:build !windows

package main

import (
	"fmt"
	"io"

	"github.com/sluicelog/sluice/config"
)

// manageService fails: services are a Windows notion.
func manageService(serviceRequest, io.Writer) error { return errWindowsOnly }

// runAsService refuses -service, which only Windows has a use for.
func runAsService(name string, _ daemonFunc, _ config.Config, stderr io.Writer) (int, bool) {
	if name == "" {
		return 0, false
	}
	fmt.Fprintln(stderr, "sluice: -service:", errWindowsOnly)
	return 2, true
}
