package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// serviceMonitor is the part of the Prometheus Operator's
// monitoring.coreos.com/v1 ServiceMonitor that the chart renders, for a
// strict decode: k8s.io/api has no type for it, and the module that has
// one is not worth a dependency for one object.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// DeepCopyObject makes serviceMonitor a runtime.Object; the tests only
// read it, so a shallow copy does.
func (s *serviceMonitor) DeepCopyObject() runtime.Object { c := *s; return &c }

// decodeOne decodes one object's JSON strictly: into its k8s.io/api type
// through dec, or into serviceMonitor.
func decodeOne(dec runtime.Decoder, js []byte) (runtime.Object, error) {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, err
	}
	if tm.APIVersion != "monitoring.coreos.com/v1" {
		obj, _, err := dec.Decode(js, nil, nil)
		return obj, err
	}
	if tm.Kind != "ServiceMonitor" {
		return nil, fmt.Errorf("unexpected %s %s", tm.APIVersion, tm.Kind)
	}
	d := json.NewDecoder(bytes.NewReader(js))
	d.DisallowUnknownFields()
	sm := &serviceMonitor{}
	if err := d.Decode(sm); err != nil {
		return nil, fmt.Errorf("ServiceMonitor: %w", err)
	}
	return sm, nil
}
