//go:build !windows

package glob

// Native is the flavour of the running system: Linux paths are case-sensitive with "/" only.
const Native = Unix
