//go:build !race

package podcache

const raceEnabled = false
