package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// A secret that is YAML syntax, a comment marker, a reference of its own
// and a line break arrives byte for byte, wherever the reference stands.
func TestExpandKeepsSecretsIntact(t *testing.T) {
	const secret = "p#ss: &x *y \"z\" ${Q} 'q' \\n\nsecond line"
	t.Setenv("SLUICE_TEST_SECRET", secret)
	t.Setenv("SLUICE_TEST_TEAM", "a: b # c")
	yaml := `# ${SLUICE_TEST_UNSET_IN_COMMENT} is only a comment
outputs:
  loki:
    url: https://loki:3100/loki/api/v1/push   # ${SLUICE_TEST_UNSET_IN_COMMENT}
    tenant_id: ${SLUICE_TEST_SECRET}
    static_labels: {team: "${SLUICE_TEST_TEAM}"}
    headers:
      X-Plain: ${SLUICE_TEST_SECRET}
      X-Quoted: "${SLUICE_TEST_SECRET}"
      X-Single: '[${SLUICE_TEST_SECRET}]'
      X-Block: |
        ${SLUICE_TEST_SECRET}
    basic_auth:
      username: u
      password: ${SLUICE_TEST_SECRET}
`
	c, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Outputs.Loki
	for name, got := range map[string]string{
		"tenant_id": l.TenantID, "password": l.BasicAuth.Password,
		"X-Plain": l.Headers["X-Plain"], "X-Quoted": l.Headers["X-Quoted"],
	} {
		if got != secret {
			t.Errorf("%s = %q, want %q", name, got, secret)
		}
	}
	if got, want := l.Headers["X-Single"], "["+secret+"]"; got != want {
		t.Errorf("X-Single = %q, want %q", got, want)
	}
	if got, want := l.Headers["X-Block"], secret+"\n"; got != want {
		t.Errorf("X-Block = %q, want %q", got, want)
	}
	// The probe that gives a named sink its defaults read the same tree:
	// the defaults are there, and static_labels replaced job.
	if l.Encoding != "protobuf" || l.Timeout != 10*time.Second || strings.Join(l.Labels, ",") != "namespace,pod,container" {
		t.Errorf("loki defaults missing: %+v", l)
	}
	if len(l.StaticLabels) != 1 || l.StaticLabels["team"] != "a: b # c" {
		t.Errorf("static_labels = %v, want only team", l.StaticLabels)
	}
}

func TestExpandRules(t *testing.T) {
	t.Setenv("SLUICE_TEST_N", "4")
	t.Setenv("SLUICE_TEST_WAIT", "250ms")
	t.Setenv("SLUICE_TEST_SIZE", "256KiB")
	t.Setenv("SLUICE_TEST_TRUE", "true")
	t.Setenv("SLUICE_TEST_NULL", "null")
	t.Setenv("SLUICE_TEST_EMPTY", "")
	t.Setenv("SLUICE_TEST_KEY", "X-Expanded")
	for _, tc := range []struct {
		name    string
		loki    string // the keys under outputs.loki besides url
		wantErr []string
		tenant  string                      // the tenant_id wanted, when check is nil
		check   func(t *testing.T, l *Loki) // checks the result when set
	}{
		{name: "numbers, durations, sizes and booleans", loki: "max_in_flight: ${SLUICE_TEST_N}\nbatch_wait: ${SLUICE_TEST_WAIT}\nbatch_size: ${SLUICE_TEST_SIZE}\ntls:\n  insecure_skip_verify: ${SLUICE_TEST_TRUE}",
			check: func(t *testing.T, l *Loki) {
				if l.MaxInFlight != 4 || l.BatchWait != 250*time.Millisecond || l.BatchSize != 256<<10 || !l.TLS.InsecureSkipVerify {
					t.Errorf("loki = %+v", l)
				}
			}},
		{name: "a string that YAML would read as null stays a string", loki: "tenant_id: ${SLUICE_TEST_NULL}", tenant: "null"},
		{name: "a number in a string key is text", loki: "tenant_id: ${SLUICE_TEST_N}", tenant: "4"},
		{name: "empty value is no number", loki: "max_in_flight: ${SLUICE_TEST_EMPTY}",
			wantErr: []string{"line 4", "outputs.loki.max_in_flight"}},
		{name: "$${ is a literal", loki: "tenant_id: a$${SLUICE_TEST_N}b$$c$${", tenant: "a${SLUICE_TEST_N}b$$c${"},
		{name: "not a reference stays", loki: "tenant_id: '${1X} ${ ${A-B} $X'", tenant: "${1X} ${ ${A-B} $X"},
		{name: "keys are not expanded", loki: "headers: {'${SLUICE_TEST_KEY}': v}",
			check: func(t *testing.T, l *Loki) {
				if l.Headers["${SLUICE_TEST_KEY}"] != "v" || len(l.Headers) != 1 {
					t.Errorf("headers = %v", l.Headers)
				}
			}},
		{name: "anchors expand once", loki: "tenant_id: &t ${SLUICE_TEST_N}\nheaders: {X-Tenant: *t}",
			check: func(t *testing.T, l *Loki) {
				if l.TenantID != "4" || l.Headers["X-Tenant"] != "4" {
					t.Errorf("tenant_id %q, header %q", l.TenantID, l.Headers["X-Tenant"])
				}
			}},
		{name: "unset names variable, key and line", loki: "tenant_id: x\nbasic_auth:\n  username: u\n  password: ${SLUICE_TEST_UNSET_PW}\nheaders: {X-H: '${SLUICE_TEST_UNSET_H}'}",
			wantErr: []string{"line 7: key outputs.loki.basic_auth.password: environment variable SLUICE_TEST_UNSET_PW is not set",
				"line 8: key outputs.loki.headers.X-H: environment variable SLUICE_TEST_UNSET_H is not set"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "outputs:\n  loki:\n    url: http://x/push\n    " + strings.ReplaceAll(tc.loki, "\n", "\n    ") + "\n"
			c, err := Parse([]byte(yaml))
			if !checkErr(t, err, tc.wantErr, nil) {
				return
			}
			if tc.check != nil {
				tc.check(t, c.Outputs.Loki)
			} else if c.Outputs.Loki.TenantID != tc.tenant {
				t.Errorf("tenant_id = %q, want %q", c.Outputs.Loki.TenantID, tc.tenant)
			}
		})
	}
}

// FuzzExpand: a value without a reference is left alone, a reference gives
// the variable's text exactly whatever it holds, and $${ is always a
// literal ${.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"", "plain", "${A}", "$${A}", "a${A}b${", "${", "$$", "${A-B}", "${1}"} {
		f.Add(s, "p#ss: &x *y \"z\" ${Q}\n")
	}
	f.Fuzz(func(t *testing.T, s, v string) {
		lookup := func(string) (string, bool) { return v, true }
		expand := func(in string) string {
			n := &yaml.Node{Kind: yaml.ScalarNode, Value: in}
			if err := expandTree(n, lookup); err != nil {
				t.Fatalf("expand %q: %v", in, err)
			}
			return n.Value
		}
		if !strings.Contains(s, "${") && expand(s) != s {
			t.Errorf("%q changed to %q", s, expand(s))
		}
		if got := expand("<${A}>"); got != "<"+v+">" {
			t.Errorf("<${A}> with A=%q gave %q", v, got)
		}
		if got := expand("$${" + s); !strings.HasPrefix(got, "${") {
			t.Errorf("$${%s gave %q", s, got)
		}
	})
}
