package podmeta

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/record"
)

func TestNewKeys(t *testing.T) {
	tests := []struct {
		name    string
		rename  map[string]string
		check   func(Keys) bool
		wantErr string
	}{
		{"none", nil, func(k Keys) bool { return k == DefaultKeys() }, ""},
		{"fluent bit names", map[string]string{"namespace": "namespace_name", "pod": "pod_name", "container": "container_name", "label.": "labels."},
			func(k Keys) bool {
				return k.Namespace == "namespace_name" && k.Pod == "pod_name" && k.Container == "container_name" && k.LabelPrefix == "labels." && k.Node == "node"
			}, ""},
		{"unknown name", map[string]string{"pod_name": "x"}, nil, `unknown name, want one of namespace, pod`},
		{"empty new name", map[string]string{"pod": ""}, nil, "the new name is empty"},
		{"two names one key", map[string]string{"pod": "namespace"}, nil, `would both be named "namespace"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := NewKeys(tt.rename)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(k) {
				t.Fatalf("NewKeys = %+v, %v", k, err)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	if (Keys{}).WithDefaults() != DefaultKeys() {
		t.Fatal("zero Keys is not the defaults")
	}
	k := Keys{Pod: "pod_name"}.WithDefaults()
	if k.Pod != "pod_name" || k.Namespace != "namespace" || k.LabelPrefix != "label." {
		t.Fatalf("WithDefaults = %+v", k)
	}
}

func TestRecordAttrs(t *testing.T) {
	p := &Pod{
		Namespace: "shop", Name: "web-1", UID: "u1",
		Attrs: []record.Attr{{Key: "node", Value: "n1"}},
		Containers: []Container{
			{Name: "nginx", Image: "nginx:1.27", ID: "abc"},
			{Name: "init", Image: "busybox"}, // not started: no id
		},
	}
	k := DefaultKeys()
	a := func(kv ...string) []record.Attr {
		var out []record.Attr
		for i := 0; i < len(kv); i += 2 {
			out = append(out, record.Attr{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	id := a("namespace", "shop", "pod", "web-1", "pod_uid", "u1")
	tests := []struct {
		name, container, id string
		want                []record.Attr
	}{
		{"status id", "nginx", "", slices.Concat(id, a("container", "nginx", "container_id", "abc", "container_image", "nginx:1.27"), p.Attrs)},
		{"path id wins", "nginx", "def", slices.Concat(id, a("container", "nginx", "container_id", "def", "container_image", "nginx:1.27"), p.Attrs)},
		{"no id yet", "init", "", slices.Concat(id, a("container", "init", "container_image", "busybox"), p.Attrs)},
		{"container the pod does not list", "gone", "123", slices.Concat(id, a("container", "gone", "container_id", "123"), p.Attrs)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.RecordAttrs(k, tt.container, tt.id)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
			if cap(got) != len(got) {
				t.Fatalf("cap %d > len %d", cap(got), len(got))
			}
		})
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
