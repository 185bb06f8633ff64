package redact

import "testing"

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://loki:3100/loki/api/v1/push", "http://loki:3100/loki/api/v1/push"},
		{"https://user:s3cret@loki/push", "https://user:xxxxx@loki/push"},
		{"https://tok3n@loki/push", "https://xxxxx@loki/push"},
		{"https://loki/push?token=s3cret&tenant=a", "https://loki/push?tenant=xxxxx&token=xxxxx"},
		{"user:s3cret@loki:3100/push", "user:xxxxx@loki:3100/push"},
		{"ftp://u:s3cret@x/push", "ftp://u:xxxxx@x/push"},
		// Not a URL to url.Parse: masked by position.
		{"http://u:s3cret@lo ki/push?t=s3cret", "http://xxxxx@lo ki/push?xxxxx"},
		{"http://u:s3cret@[::1/push", "http://xxxxx@[::1/push"},
		{"%zz?t=s3cret", "%zz?xxxxx"},
	} {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
