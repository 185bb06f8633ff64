package osfile_test

import (
	"os"

	"golang.org/x/sys/windows"
)

// contrastOpeners adds os.Open, whose handle lacks FILE_SHARE_DELETE, so
// kubelet's rename and delete of the held file fail.
func contrastOpeners() []opener {
	return []opener{{name: "os.Open", open: os.Open, blockedBy: windows.ERROR_SHARING_VIOLATION}}
}

// underWine reports whether the test runs under Wine, whose ntdll exports
// wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
