package file

import "strings"

// sameName ignores case: NTFS names are case-insensitive.
func sameName(a, b string) bool { return strings.EqualFold(a, b) }
