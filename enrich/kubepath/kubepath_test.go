package kubepath

import (
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	id64  = "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
	uid   = "7f5b3c1e-2d4a-4b6c-8e9f-0a1b2c3d4e5f"
	stamp = "20261126-005407"
)

var (
	pod253 = strings.Repeat("p", 61) + "." + strings.Repeat("q", 63) + "." + strings.Repeat("r", 63) + "." + strings.Repeat("s", 63) // 253
	lbl63  = "c" + strings.Repeat("-", 61) + "d"
	lbl64  = lbl63 + "e"
)

// ctr builds the containers layout's expected Meta.
func ctr(ns, pod, container, id string) Meta {
	return Meta{Namespace: ns, Pod: pod, Container: container, ContainerID: id, Restart: -1}
}

// pods builds the pods layout's expected Meta.
func pods(ns, pod, uid, container string, restart int) Meta {
	return Meta{Namespace: ns, Pod: pod, PodUID: uid, Container: container, Restart: restart}
}

var parseTests = []struct {
	name string
	path string
	want Meta
	ok   bool
}{
	// The containers layout.
	{"linux containers", "/var/log/containers/web-7d9f_shop_nginx-" + id64 + ".log", ctr("shop", "web-7d9f", "nginx", id64), true},
	{"windows containers", `C:\var\log\containers\web-7d9f_shop_nginx-` + id64 + ".log", ctr("shop", "web-7d9f", "nginx", id64), true},
	{"long path prefix", `\\?\C:\var\log\containers\web_shop_nginx-` + id64 + ".log", ctr("shop", "web", "nginx", id64), true},
	{"unc share", `\\host\logs\containers\web_shop_nginx-` + id64 + ".log", ctr("shop", "web", "nginx", id64), true},
	{"mixed separators", `C:/var\log/containers\web_shop_nginx-` + id64 + ".log", ctr("shop", "web", "nginx", id64), true},
	{"other root", "/mnt/data/kubelet/containers/web_shop_nginx-" + id64 + ".log", ctr("shop", "web", "nginx", id64), true},
	{"relative", "containers/web_shop_nginx-" + id64 + ".log", ctr("shop", "web", "nginx", id64), true},
	{"rooted at containers", "/containers/web_shop_nginx-" + id64 + ".log", ctr("shop", "web", "nginx", id64), true},
	{"doubled separators", `C:\var\log\containers\\web_shop_nginx-` + id64 + ".log", ctr("shop", "web", "nginx", id64), true},
	{"folder upper case", `C:\VAR\LOG\CONTAINERS\web_shop_nginx-` + id64 + ".log", ctr("shop", "web", "nginx", id64), true},
	{"folder mixed case", `C:\Var\Log\Containers\web_shop_nginx-` + id64 + ".log", ctr("shop", "web", "nginx", id64), true},
	{"extension upper case", `C:\var\log\containers\web_shop_nginx-` + id64 + ".LOG", ctr("shop", "web", "nginx", id64), true},
	{"dots and dashes in pod", "/var/log/containers/api.v2-5c8d-x7k2q_shop_nginx-" + id64 + ".log", ctr("shop", "api.v2-5c8d-x7k2q", "nginx", id64), true},
	{"dash in container", "/var/log/containers/web_shop_istio-proxy-" + id64 + ".log", ctr("shop", "web", "istio-proxy", id64), true},
	{"hex-like container", "/var/log/containers/web_shop_abc-def012-" + id64 + ".log", ctr("shop", "web", "abc-def012", id64), true},
	{"digits everywhere", "/var/log/containers/0_1_2-" + id64 + ".log", ctr("1", "0", "2", id64), true},
	{"short id", "/var/log/containers/web_shop_nginx-4f1c2d3e4f5a.log", ctr("shop", "web", "nginx", "4f1c2d3e4f5a"), true},
	{"upper case id", "/var/log/containers/web_shop_nginx-" + strings.ToUpper(id64) + ".log", ctr("shop", "web", "nginx", strings.ToUpper(id64)), true},
	{"rotated", "/var/log/containers/web_shop_nginx-" + id64 + ".log." + stamp, ctr("shop", "web", "nginx", id64), true},
	{"rotated gz", `C:\var\log\containers\web_shop_nginx-` + id64 + ".log." + stamp + ".gz", ctr("shop", "web", "nginx", id64), true},
	{"rotated GZ", `C:\var\log\containers\web_shop_nginx-` + id64 + ".log." + stamp + ".GZ", ctr("shop", "web", "nginx", id64), true},
	{"pod at 253", "/var/log/containers/" + pod253 + "_shop_nginx-" + id64 + ".log", ctr("shop", pod253, "nginx", id64), true},
	{"namespace at 63", "/var/log/containers/web_" + lbl63 + "_nginx-" + id64 + ".log", ctr(lbl63, "web", "nginx", id64), true},
	{"container at 63", "/var/log/containers/web_shop_" + lbl63 + "-" + id64 + ".log", ctr("shop", "web", lbl63, id64), true},
	{"file name at 255", "/var/log/containers/" + strings.Repeat("w", 255-len("_shop_nginx-.log")-64) + "_shop_nginx-" + id64 + ".log",
		ctr("shop", strings.Repeat("w", 255-len("_shop_nginx-.log")-64), "nginx", id64), true},

	{"pod at 254", "/var/log/containers/" + pod253 + "x_shop_nginx-" + id64 + ".log", Meta{}, false},
	{"namespace at 64", "/var/log/containers/web_" + lbl64 + "_nginx-" + id64 + ".log", Meta{}, false},
	{"container at 64", "/var/log/containers/web_shop_" + lbl64 + "-" + id64 + ".log", Meta{}, false},
	{"id too short", "/var/log/containers/web_shop_nginx-4f1c2d3e4f5.log", Meta{}, false},
	{"id too long", "/var/log/containers/web_shop_nginx-" + id64 + "0.log", Meta{}, false},
	{"id not hex", "/var/log/containers/web_shop_nginx-" + strings.Replace(id64, "4", "g", 1) + ".log", Meta{}, false},
	{"no id", "/var/log/containers/web_shop_nginx.log", Meta{}, false},
	{"empty id", "/var/log/containers/web_shop_nginx-.log", Meta{}, false},
	{"no container", "/var/log/containers/web_shop_-" + id64 + ".log", Meta{}, false},
	{"no namespace", "/var/log/containers/web__nginx-" + id64 + ".log", Meta{}, false},
	{"no pod", "/var/log/containers/_shop_nginx-" + id64 + ".log", Meta{}, false},
	{"two parts", "/var/log/containers/web_nginx-" + id64 + ".log", Meta{}, false},
	{"four parts", "/var/log/containers/web_shop_x_nginx-" + id64 + ".log", Meta{}, false},
	{"dot in namespace", "/var/log/containers/web_sh.op_nginx-" + id64 + ".log", Meta{}, false},
	{"dot in container", "/var/log/containers/web_shop_ng.inx-" + id64 + ".log", Meta{}, false},
	{"upper case pod", "/var/log/containers/Web_shop_nginx-" + id64 + ".log", Meta{}, false},
	{"pod ends in dash", "/var/log/containers/web-_shop_nginx-" + id64 + ".log", Meta{}, false},
	{"pod empty label", "/var/log/containers/web..v2_shop_nginx-" + id64 + ".log", Meta{}, false},
	{"pod ends in dot", "/var/log/containers/web._shop_nginx-" + id64 + ".log", Meta{}, false},
	{"container starts with dash", "/var/log/containers/web_shop_-nginx-" + id64 + ".log", Meta{}, false},
	{"wrong folder", "/var/log/container/web_shop_nginx-" + id64 + ".log", Meta{}, false},
	{"no folder", "web_shop_nginx-" + id64 + ".log", Meta{}, false},
	{"folder as prefix", "/var/log/xcontainers/web_shop_nginx-" + id64 + ".log", Meta{}, false},
	{"not .log", "/var/log/containers/web_shop_nginx-" + id64 + ".txt", Meta{}, false},
	{"no extension", "/var/log/containers/web_shop_nginx-" + id64, Meta{}, false},
	{"gz without stamp", "/var/log/containers/web_shop_nginx-" + id64 + ".log.gz", Meta{}, false},
	{"bad stamp", "/var/log/containers/web_shop_nginx-" + id64 + ".log.20261126_005407", Meta{}, false},
	{"short stamp", "/var/log/containers/web_shop_nginx-" + id64 + ".log.20261126-00540", Meta{}, false},
	{"compressing tmp", "/var/log/containers/web_shop_nginx-" + id64 + ".log." + stamp + ".gz.tmp", Meta{}, false},
	{"trailing separator", "/var/log/containers/web_shop_nginx-" + id64 + ".log/", Meta{}, false},
	{"a folder below", "/var/log/containers/web_shop_nginx-" + id64 + ".log/0.log", Meta{}, false},
	{"space in name", "/var/log/containers/web _shop_nginx-" + id64 + ".log", Meta{}, false},
	{"non-ascii folder", "/var/log/containerſ/web_shop_nginx-" + id64 + ".log", Meta{}, false},

	// The pods layout.
	{"linux pods", "/var/log/pods/shop_web-7d9f_" + uid + "/nginx/0.log", pods("shop", "web-7d9f", uid, "nginx", 0), true},
	{"windows pods", `C:\var\log\pods\shop_web-7d9f_` + uid + `\nginx\0.log`, pods("shop", "web-7d9f", uid, "nginx", 0), true},
	{"pods long path prefix", `\\?\C:\var\log\pods\shop_web_` + uid + `\nginx\3.log`, pods("shop", "web", uid, "nginx", 3), true},
	{"pods mixed separators", `C:\var/log\pods/shop_web_` + uid + `\nginx/0.log`, pods("shop", "web", uid, "nginx", 0), true},
	{"pods symlink target without drive", `\var\log\pods\shop_web_` + uid + `\nginx\0.log`, pods("shop", "web", uid, "nginx", 0), true},
	{"pods relative", "pods/shop_web_" + uid + "/nginx/0.log", pods("shop", "web", uid, "nginx", 0), true},
	{"pods doubled separators", "/var/log//pods//shop_web_" + uid + "//nginx//0.log", pods("shop", "web", uid, "nginx", 0), true},
	{"pods folder upper case", `C:\VAR\LOG\PODS\shop_web_` + uid + `\nginx\0.log`, pods("shop", "web", uid, "nginx", 0), true},
	{"pods restart 12", "/var/log/pods/shop_web_" + uid + "/nginx/12.log", pods("shop", "web", uid, "nginx", 12), true},
	{"pods restart max digits", "/var/log/pods/shop_web_" + uid + "/nginx/999999999.log", pods("shop", "web", uid, "nginx", 999999999), true},
	{"pods rotated", "/var/log/pods/shop_web_" + uid + "/nginx/0.log." + stamp, pods("shop", "web", uid, "nginx", 0), true},
	{"pods rotated gz", `C:\var\log\pods\shop_web_` + uid + `\nginx\1.log.` + stamp + ".gz", pods("shop", "web", uid, "nginx", 1), true},
	{"pods static pod hash uid", "/var/log/pods/kube-system_etcd-node1_d41d8cd98f00b204e9800998ecf8427e/etcd/0.log",
		pods("kube-system", "etcd-node1", "d41d8cd98f00b204e9800998ecf8427e", "etcd", 0), true},
	{"pods upper case uid", "/var/log/pods/shop_web_" + strings.ToUpper(uid) + "/nginx/0.log", pods("shop", "web", strings.ToUpper(uid), "nginx", 0), true},
	{"pods dots in pod", "/var/log/pods/shop_api.v2-5c8d_" + uid + "/nginx/0.log", pods("shop", "api.v2-5c8d", uid, "nginx", 0), true},
	{"pods dash in container", "/var/log/pods/shop_web_" + uid + "/istio-proxy/0.log", pods("shop", "web", uid, "istio-proxy", 0), true},
	{"pods container named containers", "/var/log/pods/shop_web_" + uid + "/containers/0.log", pods("shop", "web", uid, "containers", 0), true},
	{"pods pod named pods", "/var/log/pods/pods_pods_" + uid + "/pods/0.log", pods("pods", "pods", uid, "pods", 0), true},
	{"pods under a containers folder", "/var/log/containers/pods/shop_web_" + uid + "/nginx/0.log", pods("shop", "web", uid, "nginx", 0), true},
	{"pods pod at 253", "/var/log/pods/shop_" + pod253 + "_" + uid + "/nginx/0.log", pods("shop", pod253, uid, "nginx", 0), true},
	{"pods namespace at 63", "/var/log/pods/" + lbl63 + "_web_" + uid + "/nginx/0.log", pods(lbl63, "web", uid, "nginx", 0), true},
	{"pods container at 63", "/var/log/pods/shop_web_" + uid + "/" + lbl63 + "/0.log", pods("shop", "web", uid, lbl63, 0), true},

	{"pods pod at 254", "/var/log/pods/shop_" + pod253 + "x_" + uid + "/nginx/0.log", Meta{}, false},
	{"pods namespace at 64", "/var/log/pods/" + lbl64 + "_web_" + uid + "/nginx/0.log", Meta{}, false},
	{"pods container at 64", "/var/log/pods/shop_web_" + uid + "/" + lbl64 + "/0.log", Meta{}, false},
	{"pods restart too long", "/var/log/pods/shop_web_" + uid + "/nginx/1234567890.log", Meta{}, false},
	{"pods restart leading zero", "/var/log/pods/shop_web_" + uid + "/nginx/01.log", Meta{}, false},
	{"pods restart negative", "/var/log/pods/shop_web_" + uid + "/nginx/-1.log", Meta{}, false},
	{"pods restart not a number", "/var/log/pods/shop_web_" + uid + "/nginx/a.log", Meta{}, false},
	{"pods restart empty", "/var/log/pods/shop_web_" + uid + "/nginx/.log", Meta{}, false},
	{"pods no uid", "/var/log/pods/shop_web/nginx/0.log", Meta{}, false},
	{"pods empty uid", "/var/log/pods/shop_web_/nginx/0.log", Meta{}, false},
	{"pods uid not hex", "/var/log/pods/shop_web_" + strings.Replace(uid, "7", "z", 1) + "/nginx/0.log", Meta{}, false},
	{"pods uid starts with dash", "/var/log/pods/shop_web_-" + uid + "/nginx/0.log", Meta{}, false},
	{"pods uid too long", "/var/log/pods/shop_web_" + uid + uid + "/nginx/0.log", Meta{}, false},
	{"pods four parts", "/var/log/pods/shop_web_x_" + uid + "/nginx/0.log", Meta{}, false},
	{"pods empty namespace", "/var/log/pods/_web_" + uid + "/nginx/0.log", Meta{}, false},
	{"pods empty pod", "/var/log/pods/shop__" + uid + "/nginx/0.log", Meta{}, false},
	{"pods dot in namespace", "/var/log/pods/sh.op_web_" + uid + "/nginx/0.log", Meta{}, false},
	{"pods upper case container", "/var/log/pods/shop_web_" + uid + "/Nginx/0.log", Meta{}, false},
	{"pods no container folder", "/var/log/pods/shop_web_" + uid + "/0.log", Meta{}, false},
	{"pods extra folder", "/var/log/pods/shop_web_" + uid + "/nginx/x/0.log", Meta{}, false},
	{"pods wrong folder", "/var/log/pod/shop_web_" + uid + "/nginx/0.log", Meta{}, false},
	{"pods folder missing", "shop_web_" + uid + "/nginx/0.log", Meta{}, false},
	{"pods old layout uid only", "/var/log/pods/" + uid + "/nginx/0.log", Meta{}, false},
	{"pods old layout flat", "/var/log/pods/" + uid + "/nginx_0.log", Meta{}, false},
	{"pods containers name in pods folder", "/var/log/pods/shop_web_" + uid + "/nginx/web_shop_nginx-" + id64 + ".log", Meta{}, false},
	{"pods rotated bad stamp", "/var/log/pods/shop_web_" + uid + "/nginx/0.log.2026112-0054070", Meta{}, false},
	{"pods not .log", "/var/log/pods/shop_web_" + uid + "/nginx/0.txt", Meta{}, false},

	// Neither.
	{"empty", "", Meta{}, false},
	{"separator", `\`, Meta{}, false},
	{"just .log", ".log", Meta{}, false},
	{"drive only", `C:`, Meta{}, false},
	{"other file", "/var/log/syslog", Meta{}, false},
	{"containers folder itself", "/var/log/containers", Meta{}, false},
	{"pods folder itself", `C:\var\log\pods\`, Meta{}, false},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse(tt.path)
			if ok != tt.ok || got != tt.want {
				t.Errorf("Parse(%q)\n got %+v, %v\nwant %+v, %v", tt.path, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestParseSeparators checks that every accepted path parses the same with
// either separator: the OS the test runs on must not matter.
func TestParseSeparators(t *testing.T) {
	for _, tt := range parseTests {
		if !tt.ok {
			continue
		}
		for _, p := range []string{strings.ReplaceAll(tt.path, `\`, "/"), strings.ReplaceAll(tt.path, "/", `\`)} {
			if got, ok := Parse(p); !ok || got != tt.want {
				t.Errorf("%s: Parse(%q) = %+v, %v; want %+v", tt.name, p, got, ok, tt.want)
			}
		}
	}
}

func TestParseAllocs(t *testing.T) {
	paths := []string{parseTests[0].path, `C:\var\log\pods\shop_web_` + uid + `\nginx\0.log.` + stamp + ".gz", "/var/log/syslog"}
	for _, p := range paths {
		if n := testing.AllocsPerRun(100, func() { Parse(p) }); n != 0 {
			t.Errorf("Parse(%q): %v allocs, want 0", p, n)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.path)
	}
	f.Fuzz(func(t *testing.T, path string) {
		m, ok := Parse(path)
		if !ok {
			if m != (Meta{}) {
				t.Fatalf("Parse(%q) = %+v with ok=false", path, m)
			}
			return
		}
		if m.Namespace == "" || m.Pod == "" || m.Container == "" {
			t.Fatalf("Parse(%q) = %+v: empty name", path, m)
		}
		containers := m.ContainerID != ""
		if containers == (m.PodUID != "") {
			t.Fatalf("Parse(%q) = %+v: want exactly one of ContainerID and PodUID", path, m)
		}
		if containers != (m.Restart == -1) || m.Restart < -1 {
			t.Fatalf("Parse(%q) = %+v: restart does not fit the layout", path, m)
		}
		for _, s := range []string{m.Namespace, m.Pod, m.PodUID, m.Container, m.ContainerID} {
			if strings.ContainsAny(s, `/\_`) || !strings.Contains(path, s) {
				t.Fatalf("Parse(%q) = %+v: field %q holds a separator or is not from the path", path, m, s)
			}
		}
		// What was read back out must rebuild a path that reads the same.
		var again string
		if containers {
			again = `C:\containers\` + m.Pod + "_" + m.Namespace + "_" + m.Container + "-" + m.ContainerID + ".log"
		} else {
			again = "/pods/" + m.Namespace + "_" + m.Pod + "_" + m.PodUID + "/" + m.Container + "/" + strconv.Itoa(m.Restart) + ".log"
		}
		if m2, ok := Parse(again); !ok || m2 != m {
			t.Fatalf("Parse(%q) = %+v, but rebuilt %q gives %+v, %v", path, m, again, m2, ok)
		}
	})
}

// BenchmarkParse measures the two layouts as a Windows node writes them and
// a path that is neither.
func BenchmarkParse(b *testing.B) {
	for _, bb := range []struct{ name, path string }{
		{"containers", `C:\var\log\containers\web-7d9f8c6b5-x7k2q_shop_nginx-` + id64 + ".log"},
		{"pods", `C:\var\log\pods\shop_web-7d9f8c6b5-x7k2q_` + uid + `\nginx\0.log`},
		{"pods_rotated_gz", `C:\var\log\pods\shop_web-7d9f8c6b5-x7k2q_` + uid + `\nginx\0.log.` + stamp + ".gz"},
		{"unparsed", `C:\ProgramData\app\logs\service.log`},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.path)))
			b.ReportAllocs()
			for b.Loop() {
				Parse(bb.path)
			}
		})
	}
}

// TestLimitFixtures keeps the limit rows honest: they test the limits only
// if the names are as long as their row names say.
func TestLimitFixtures(t *testing.T) {
	if len(pod253) != 253 || len(lbl63) != 63 || len(lbl64) != 64 {
		t.Fatalf("fixture lengths %d, %d, %d; want 253, 63, 64", len(pod253), len(lbl63), len(lbl64))
	}
	for _, tt := range parseTests {
		if tt.name == "file name at 255" {
			if _, file := cut(tt.path); len(file) != 255 {
				t.Fatalf("%s: file name is %d bytes", tt.name, len(file))
			}
		}
	}
}
