package deploy

import (
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
