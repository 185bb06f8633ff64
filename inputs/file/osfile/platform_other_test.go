//go:build !windows

package osfile_test

// contrastOpeners is empty: Unix has no share modes, so every opener lets
// others rename and delete a held file.
func contrastOpeners() []opener { return nil }

// underWine is false: Wine runs only Windows binaries.
func underWine() bool { return false }
