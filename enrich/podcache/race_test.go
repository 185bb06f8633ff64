//go:build race

package podcache

// raceEnabled skips memory budgets: the race detector changes allocation.
const raceEnabled = true
