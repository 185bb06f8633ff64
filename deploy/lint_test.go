package deploy

import (
	"slices"
	"strings"
	"testing"
)

// TestChartLint runs helm lint --strict (warnings fail too) with the
// default values and each case's.
func TestChartLint(t *testing.T) {
	for _, c := range chartCases {
		args := []string{"lint", "--strict", chartDir}
		for _, f := range c.values {
			args = append(args, "--values", f)
		}
		out, err := runHelm(t, args...)
		if err != nil {
			t.Errorf("%s: helm lint: %v\n%s", c.name, err, out)
		}
	}
}

// TestChartRejectsBadValues wants a wrong value refused before anything
// is rendered, by values.schema.json or the templates, with a message
// that names it.
func TestChartRejectsBadValues(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"resources.limits.memory=256MB", `at '/resources/limits/memory': '256MB' does not match pattern`},
		{"resources.limits=null", `at '/resources': missing property 'limits'`},
		{"goMemLimitPercent=99", `at '/goMemLimitPercent': maximum: got 99, want 95`},
		{"windows.dataDir=/var/lib/sluice", `at '/windows/dataDir': '/var/lib/sluice' does not match pattern`},
		{"linux.include=null", `at '/linux': missing property 'include'`},
		{"image.digest=latest", `at '/image/digest': 'latest' does not match pattern`},
		{"updateStrategy.maxUnavailable=0", `at '/updateStrategy/maxUnavailable'`},
		{"config.outputs=null", `at '/config': missing property 'outputs'`},
		{"config.outputs.loki.url=loki:3100", `at '/config/outputs/loki/url': 'loki:3100' does not match pattern`},
		{"config.outputs.lokii.url=http://x", `additional properties 'lokii' not allowed`},
		{"bogus=1", `additional properties 'bogus' not allowed`},
		{"config.bufer.max_size=1GiB", `at '/config': additional properties 'bufer' not allowed`},
		{"config.log.level=verbose", `at '/config/log/level': value must be one of 'debug', 'info', 'warn', 'error'`},
		{"config.kubernetes.enabled=yes", `at '/config/kubernetes/enabled': value must be one of`},
		{"config.data_dir=/x", "config.data_dir is set by the chart: use windows.dataDir and linux.dataDir"},
		{"config.shutdown_timeout=5s", "config.shutdown_timeout is set by the chart: use shutdownTimeoutSeconds"},
		{"config.metrics.address=:1", "config.metrics is set by the chart: use metrics.port"},
		{"config.inputs.files.include={/x}", "config.inputs.files.include is set by the chart: use windows.include and linux.include"},
		{"terminationGracePeriodSeconds=20", "terminationGracePeriodSeconds (20) must be above shutdownTimeoutSeconds (20)"},
		{"env[0].name=GOMEMLIMIT,env[0].value=1", "env GOMEMLIMIT is set by the chart"},
		{"serviceAccount.create=false", "serviceAccount.name is required when serviceAccount.create is false"},
	} {
		out, err := runHelm(t, append(templateArgs(release, namespace), "--set", tc.set)...)
		if err == nil {
			t.Errorf("--set %s: rendered, want it refused\n%.300s", tc.set, out)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %s: %v\nwant a message with %q", tc.set, err, tc.want)
		}
	}
}

// TestChartNotes renders NOTES.txt, as helm install prints it, and wants
// the commands that check each enabled DaemonSet, and the namespace label
// both need (HostProcess on Windows, hostPath volumes on Linux).
func TestChartNotes(t *testing.T) {
	for _, c := range chartCases {
		args := []string{"install", release, chartDir, "--namespace", namespace, "--dry-run=client"}
		for _, f := range c.values {
			args = append(args, "--values", f)
		}
		out, err := runHelm(t, args...)
		if err != nil {
			t.Fatalf("%s: helm install --dry-run: %v", c.name, err)
		}
		_, notes, ok := strings.Cut(out, "\nNOTES:\n")
		if !ok {
			t.Fatalf("%s: no NOTES in\n%s", c.name, out)
		}
		for _, os := range []string{"windows", "linux"} {
			want := "rollout status daemonset/" + release + "-" + os
			if strings.Contains(notes, want) != slices.Contains(c.oses, os) {
				t.Errorf("%s: NOTES has %q: %v, want %v\n%s", c.name, want, !slices.Contains(c.oses, os), slices.Contains(c.oses, os), notes)
			}
		}
		const label = "pod-security.kubernetes.io/enforce=privileged"
		if !strings.Contains(notes, label) {
			t.Errorf("%s: NOTES do not mention %s, which HostProcess and hostPath need\n%s", c.name, label, notes)
		}
		if !strings.Contains(notes, "/readyz") || !strings.Contains(notes, "logs -l app.kubernetes.io/instance="+release) {
			t.Errorf("%s: NOTES do not say how to check it works\n%s", c.name, notes)
		}
	}
}
