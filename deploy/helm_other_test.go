//go:build !windows

package deploy

// helmSkip is empty: helm runs where the tests run.
const helmSkip = ""
