package osfile

import (
	"strings"
	"testing"
)

func TestExtendedPath(t *testing.T) {
	long := strings.Repeat(`abcdefghij\`, 30) + "0.log" // 335 characters
	rows := []struct{ name, in, want string }{
		{name: "short absolute", in: `C:\var\log\pods\ns_pod_uid\c\0.log`, want: `C:\var\log\pods\ns_pod_uid\c\0.log`},
		{name: "long absolute", in: `C:\` + long, want: `\\?\C:\` + long},
		{name: "long with slashes and dot-dot", in: `C:/x/../` + strings.ReplaceAll(long, `\`, "/"), want: `\\?\C:\` + long},
		{name: "long UNC", in: `\\server\share\` + long, want: `\\?\UNC\server\share\` + long},
		{name: "already extended", in: `\\?\C:\` + long, want: `\\?\C:\` + long},
		{name: "NT prefix", in: `\??\C:\` + long, want: `\??\C:\` + long},
		{name: "long relative", in: long, want: long},
		{name: "long rooted without drive letter", in: `\` + long, want: `\` + long},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			if got := extendedPath(row.in); got != row.want {
				t.Fatalf("extendedPath(%q)\n got %q\nwant %q", row.in, got, row.want)
			}
		})
	}
}
