package config

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/internal/testdir"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParse(t *testing.T) {
	t.Setenv("SLUICE_TEST_DIR", "/tmp/state")
	for _, tc := range []struct {
		name    string
		yaml    string
		wantErr []string // substrings that must all appear
		hidden  []string // substrings the error must not show
		check   func(t *testing.T, c Config)
	}{
		{
			name: "minimal stdout config keeps defaults",
			yaml: "outputs:\n  stdout: {}\n",
			check: func(t *testing.T, c Config) {
				if c.Inputs.Files.MaxLineSize != 1<<20 || c.Inputs.Files.ReadFrom != "head" || c.ShutdownTimeout != 20*time.Second {
					t.Fatalf("defaults not kept: %+v", c)
				}
				if len(c.Inputs.Files.Include) != 1 || c.Inputs.Files.Include[0] != defaultInclude {
					t.Fatalf("default include = %v", c.Inputs.Files.Include)
				}
			},
		},
		{
			name: "memory limit",
			yaml: "memory_limit: 256MiB\noutputs:\n  stdout: {}\n",
			check: func(t *testing.T, c Config) {
				if c.MemoryLimit != 256<<20 {
					t.Fatalf("memory_limit = %d", c.MemoryLimit)
				}
			},
		},
		{
			name:    "memory limit too small",
			yaml:    "memory_limit: 1MiB\noutputs:\n  stdout: {}\n",
			wantErr: []string{"memory_limit", "below the minimum"},
		},
		{
			name: "values and units",
			yaml: "data_dir: ${SLUICE_TEST_DIR}\ninputs:\n  files:\n    include: ['/x/*.log']\n    max_line_size: 64KiB\n    poll_interval: 50ms\n    read_from: tail\noutputs:\n  stdout: {path: out.json}\n",
			check: func(t *testing.T, c Config) {
				f := c.Inputs.Files
				if c.DataDir != "/tmp/state" || f.MaxLineSize != 64<<10 || f.PollInterval != 50*time.Millisecond || f.ReadFrom != "tail" {
					t.Fatalf("values not decoded: %+v", c)
				}
				if c.Outputs.Stdout == nil || c.Outputs.Stdout.Path != "out.json" {
					t.Fatalf("stdout output = %+v", c.Outputs.Stdout)
				}
			},
		},
		{
			name: "loki with only a url gets the defaults",
			yaml: "outputs:\n  loki:\n    url: http://127.0.0.1:9428/insert/loki/api/v1/push\n",
			check: func(t *testing.T, c Config) {
				l := c.Outputs.Loki
				if l == nil || l.Encoding != "protobuf" || l.Timeout != 10*time.Second || l.BatchSize != 1<<20 ||
					l.BatchWait != time.Second || l.MaxInFlight != 1 || strings.Join(l.Labels, ",") != "namespace,pod,container" ||
					l.StaticLabels["job"] != "sluice" || l.DeadLetter.MaxSize != 100<<20 {
					t.Fatalf("loki defaults = %+v", l)
				}
				if c.Outputs.Stdout != nil {
					t.Fatalf("stdout configured without being named: %+v", c.Outputs.Stdout)
				}
			},
		},
		{
			name: "loki values override defaults, zero included",
			yaml: "outputs:\n  loki:\n    url: https://loki:3100/loki/api/v1/push\n    tenant_id: ${SLUICE_TEST_DIR}\n    batch_wait: 0s\n    batch_size: 256KiB\n    max_in_flight: 4\n    labels: [namespace]\n    basic_auth: {username: u, password_file: /run/secrets/p}\n    dead_letter: {path: /var/lib/sluice/dead.jsonl}\n",
			check: func(t *testing.T, c Config) {
				l := c.Outputs.Loki
				if l.TenantID != "/tmp/state" || l.BatchWait != 0 || l.BatchSize != 256<<10 || l.MaxInFlight != 4 ||
					strings.Join(l.Labels, ",") != "namespace" || l.BasicAuth.PasswordFile != "/run/secrets/p" ||
					l.DeadLetter.Path != "/var/lib/sluice/dead.jsonl" || l.DeadLetter.MaxSize != 100<<20 || l.MinBackoff != 500*time.Millisecond {
					t.Fatalf("loki = %+v", l)
				}
			},
		},
		{name: "loki needs a url", yaml: "outputs:\n  loki: {}\n", wantErr: []string{"outputs.loki.url"}},
		{name: "loki url scheme", yaml: "outputs:\n  loki: {url: 'ftp://x/push'}\n", wantErr: []string{"outputs.loki.url", "ftp://x/push"}},
		{name: "loki url error hides credentials", yaml: "outputs:\n  loki: {url: 'ftp://u:s3cret@x/push?token=t0ken'}\n", wantErr: []string{"outputs.loki.url", `"ftp://u:xxxxx@x/push?token=xxxxx"`}, hidden: []string{"s3cret", "t0ken"}},
		{name: "loki url without a scheme hides credentials", yaml: "outputs:\n  loki: {url: 'u:s3cret@loki:3100/push'}\n", wantErr: []string{"outputs.loki.url", "loki:3100/push"}, hidden: []string{"s3cret"}},
		{name: "loki unknown key in delivery", yaml: "outputs:\n  loki:\n    url: http://x/push\n    batch_sise: 1MiB\n", wantErr: []string{"line 4", "batch_sise"}},
		{name: "loki bad batch size", yaml: "outputs:\n  loki:\n    url: http://x/push\n    batch_size: lots\n", wantErr: []string{"line 4", "outputs.loki.batch_size"}},
		{name: "loki bad encoding", yaml: "outputs:\n  loki: {url: 'http://x/push', encoding: xml}\n", wantErr: []string{"outputs.loki.encoding"}},
		{name: "loki bad label", yaml: "outputs:\n  loki: {url: 'http://x/push', labels: [pod.name]}\n", wantErr: []string{"outputs.loki.labels", "pod.name"}},
		{name: "loki no labels at all", yaml: "outputs:\n  loki: {url: 'http://x/push', labels: [], static_labels: {}}\n", wantErr: []string{"at least one label"}},
		{name: "loki password twice", yaml: "outputs:\n  loki: {url: 'http://x/push', basic_auth: {username: u, password: p, password_file: f}}\n", wantErr: []string{"outputs.loki.basic_auth"}},
		{name: "loki two kinds of auth", yaml: "outputs:\n  loki: {url: 'http://x/push', bearer_token_file: /t, basic_auth: {username: u, password: p}}\n", wantErr: []string{"outputs.loki.bearer_token_file"}},
		{name: "loki cert without key", yaml: "outputs:\n  loki: {url: 'http://x/push', tls: {cert_file: c}}\n", wantErr: []string{"outputs.loki.tls"}},
		{name: "loki backoff order", yaml: "outputs:\n  loki: {url: 'http://x/push', min_backoff: 10s, max_backoff: 1s}\n", wantErr: []string{"outputs.loki.max_backoff"}},
		{
			name: "parsers",
			yaml: "inputs:\n  files:\n    parsers:\n      - {match: '/var/log/containers/*_shop_*.log', multiline: dotnet, max_lines: 100, max_bytes: 256KiB, flush_timeout: 2s}\n      - {match: '/var/log/containers/*', multiline: 'start:^\\d{4}-', continue: '^\\s', parse: json}\noutputs:\n  stdout: {}\n",
			check: func(t *testing.T, c Config) {
				p := c.Inputs.Files.Parsers
				if len(p) != 2 || p[0].Multiline != "dotnet" || p[0].MaxLines != 100 || p[0].MaxBytes != 256<<10 || p[0].FlushTimeout != 2*time.Second ||
					p[1].Multiline != `start:^\d{4}-` || p[1].Continue != `^\s` || p[1].Parse != "json" {
					t.Fatalf("parsers = %+v", p)
				}
			},
		},
		{
			name: "bad parsers",
			yaml: "inputs:\n  files:\n    parsers:\n      - {match: '', multiline: dotnet, parse: xml}\n      - {match: '*.log', continue: x}\n      - {match: '*.log', multiline: java, max_lines: -1}\noutputs:\n  stdout: {}\n",
			wantErr: []string{"inputs.files.parsers[0].match", "inputs.files.parsers[0].parse",
				"inputs.files.parsers[1].continue", "inputs.files.parsers[1]: sets neither", "inputs.files.parsers[2].max_lines"},
		},
		{name: "loki in flight bound", yaml: "outputs:\n  loki: {url: 'http://x/push', max_in_flight: 0}\n", wantErr: []string{"outputs.loki.max_in_flight"}},
		{
			name: "kubernetes defaults and values",
			yaml: "outputs:\n  stdout: {}\nkubernetes:\n  node_name: n1\n  annotations: [example.com/team]\n  fields: {namespace: k8s_namespace}\n",
			check: func(t *testing.T, c Config) {
				k := c.Kubernetes
				if k.Enabled != "auto" || k.WaitForPod != 5*time.Second || k.DeleteGrace != 5*time.Minute || k.NodeName != "n1" || k.MaxHeldBytes != 64<<20 ||
					len(k.Annotations) != 1 || k.Fields["namespace"] != "k8s_namespace" || k.NamespaceLabels {
					t.Fatalf("kubernetes = %+v", k)
				}
			},
		},
		{name: "kubernetes enabled value", yaml: "outputs:\n  stdout: {}\nkubernetes: {enabled: yes please}\n", wantErr: []string{"kubernetes.enabled"}},
		{
			name: "kubernetes max_held_bytes with a unit",
			yaml: "outputs:\n  stdout: {}\nkubernetes: {max_held_bytes: 16MiB}\n",
			check: func(t *testing.T, c Config) {
				if c.Kubernetes.MaxHeldBytes != 16<<20 {
					t.Fatalf("max_held_bytes = %d", c.Kubernetes.MaxHeldBytes)
				}
			},
		},
		{name: "kubernetes max_held_bytes zero", yaml: "outputs:\n  stdout: {}\nkubernetes: {max_held_bytes: 0}\n", wantErr: []string{"kubernetes.max_held_bytes"}},
		{name: "kubernetes max_held_bytes not a size", yaml: "outputs:\n  stdout: {}\nkubernetes:\n  max_held_bytes: lots\n", wantErr: []string{"line 4", "kubernetes.max_held_bytes", "lots"}},
		{name: "kubernetes negative wait", yaml: "outputs:\n  stdout: {}\nkubernetes: {wait_for_pod: -1s}\n", wantErr: []string{"kubernetes.wait_for_pod"}},
		{name: "unknown key names key and line", yaml: "outputs:\n  stdout: {}\ninputs:\n  files:\n    inclde: ['/x']\n", wantErr: []string{"line 5", "inclde"}},
		{name: "wrong type names line", yaml: "outputs:\n  stdout: {}\ninputs:\n  files:\n    poll_interval: soon\n", wantErr: []string{"line 5", "inputs.files.poll_interval", "soon"}},
		{name: "wrong type in list names index", yaml: "outputs:\n  stdout: {}\ninputs:\n  files:\n    include:\n      - {a: b}\n", wantErr: []string{"line 6", "inputs.files.include[0]"}},
		{name: "bad size names line", yaml: "outputs:\n  stdout: {}\ninputs:\n  files:\n    max_line_size: lots\n", wantErr: []string{"line 5", "inputs.files.max_line_size", "lots"}},
		{name: "wrong type int names key", yaml: "outputs:\n  stdout: {}\ninputs:\n  files:\n    batch_size: many\n", wantErr: []string{"line 5", "inputs.files.batch_size", "many"}},
		{name: "size too small", yaml: "outputs:\n  stdout: {}\ninputs:\n  files:\n    max_line_size: 10\n", wantErr: []string{"inputs.files.max_line_size"}},
		{name: "bad read_from", yaml: "outputs:\n  stdout: {}\ninputs:\n  files:\n    read_from: middle\n", wantErr: []string{"inputs.files.read_from", "middle"}},
		{name: "bad format", yaml: "outputs:\n  stdout: {}\ninputs:\n  files:\n    format: xml\n", wantErr: []string{"inputs.files.format"}},
		{name: "negative interval", yaml: "outputs:\n  stdout: {}\ninputs:\n  files:\n    poll_interval: -1s\n", wantErr: []string{"inputs.files.poll_interval", "positive"}},
		{name: "no output", yaml: "log:\n  level: debug\n", wantErr: []string{"outputs"}},
		{name: "unset env", yaml: "data_dir: ${SLUICE_NOT_SET_ANYWHERE}\noutputs:\n  stdout: {}\n", wantErr: []string{"SLUICE_NOT_SET_ANYWHERE"}},
		{name: "empty file needs an output", yaml: "", wantErr: []string{"no output"}},
		{name: "buffer values", yaml: "buffer: {max_size: 1GiB, segment_size: 8MiB, fsync: always, on_full: drop_oldest}\noutputs:\n  stdout: {}\n",
			check: func(t *testing.T, c Config) {
				if c.Buffer.MaxSize != 1<<30 || c.Buffer.SegmentSize != 8<<20 || c.Buffer.Fsync != "always" || c.Buffer.OnFull != "drop_oldest" {
					t.Fatalf("buffer = %+v", c.Buffer)
				}
			}},
		{name: "bad on_full", yaml: "buffer: {on_full: panic}\noutputs:\n  stdout: {}\n", wantErr: []string{"buffer.on_full", "panic"}},
		{name: "buffer smaller than two segments", yaml: "buffer: {max_size: 20MiB}\noutputs:\n  stdout: {}\n", wantErr: []string{"buffer.max_size"}},
		{name: "bad fsync", yaml: "buffer: {fsync: never}\noutputs:\n  stdout: {}\n", wantErr: []string{"buffer.fsync"}},
		{name: "bad log level", yaml: "log: {level: loud}\noutputs:\n  stdout: {}\n", wantErr: []string{"log.level"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml))
			if checkErr(t, err, tc.wantErr, tc.hidden) {
				tc.check(t, c)
			}
		})
	}
}

// checkErr fails the test unless err contains every part of want and none
// of hidden; with want empty, unless err is nil. It reports whether the
// caller should go on to check the result.
func checkErr(t *testing.T, err error, want, hidden []string) bool {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatal(err)
		}
		return true
	}
	if err == nil {
		t.Fatalf("want an error containing %q, got none", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	for _, h := range hidden {
		if strings.Contains(err.Error(), h) {
			t.Errorf("error %q shows %q", err, h)
		}
	}
	return false
}

func TestLoadNamesFile(t *testing.T) {
	path := filepath.Join(testdir.New(t), "sluice.yaml")
	if err := os.WriteFile(path, []byte("bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("err = %v, want it to name the file and key", err)
	}
	if _, err := Load(path + ".missing"); err == nil {
		t.Fatal("want error for a missing file")
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{
		"0": 0, "1024": 1024, "1KiB": 1024, "1 MiB": 1 << 20, "2GiB": 2 << 30, "5MB": 5e6, "10B": 10,
		"9223372036854775807": math.MaxInt64, "8589934591GiB": 8589934591 << 30,
	} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, why := range map[string]string{
		"": "not a size", "1TiB": "not a size", "MiB": "not a size", "1e3": "not a size",
		"-1": "negative", "-2MiB": "negative", "-99999999999999999999": "negative",
		"1.5MiB": "whole number of MiB", "0.5": "whole number of B",
		"9999999999GiB": "too large", "8589934592GiB": "too large", "9223372036854775808": "too large", "9223372036854775807KiB": "too large",
	} {
		if _, err := ParseByteSize(in); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseByteSize(%q): error %v, want one saying %q", in, err, why)
		}
	}
}

// A size that does not fit is refused by key, never wrapped into some other
// size.
func TestParseRefusesOverflowingSizes(t *testing.T) {
	for _, key := range []string{"buffer.max_size", "buffer.segment_size", "inputs.files.max_line_size", "kubernetes.max_held_bytes", "outputs.stdout.dead_letter.max_size"} {
		parts := strings.Split(key, ".")
		yaml := "outputs:\n  stdout: {}\n"
		if parts[0] == "outputs" {
			yaml = ""
		}
		for i, p := range parts {
			yaml += strings.Repeat("  ", i) + p + ":"
			if i < len(parts)-1 {
				yaml += "\n"
			}
		}
		yaml += " 9999999999GiB\n"
		_, err := Parse([]byte(yaml))
		if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "too large") {
			t.Errorf("%s: 9999999999GiB gave %v, want an error naming the key", key, err)
		}
	}
}

// FuzzParseByteSize: a size that parses is never negative, and a number of
// bytes reads back as itself.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"0", "1KiB", "9999999999GiB", "-1", "1.5MiB", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseByteSize(s)
		if err == nil && n < 0 {
			t.Fatalf("ParseByteSize(%q) = %d", s, n)
		}
		if err == nil {
			if back, err := ParseByteSize(strconv.FormatInt(int64(n), 10)); err != nil || back != n {
				t.Fatalf("%d read back as %d, %v", n, back, err)
			}
		}
	})
}
