package metrics

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Kinds of metric families, as the text format's TYPE line names them.
const (
	kindCounter   = "counter"
	kindGauge     = "gauge"
	kindHistogram = "histogram"
	kindSummary   = "summary"
)

// desc names a metric family: its name, help, kind and label names.
type desc struct {
	name, help, kind string
	labels           []string // as callers pass values
	order            []int    // label indexes sorted by name, the order of the exposition
}

func newDesc(name, help, kind string, labels ...string) *desc {
	if len(labels) > maxLabels {
		panic("metrics: " + name + " has more than two labels")
	}
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return &desc{name: name, help: help, kind: kind, labels: labels, order: order}
}

// series is one labelled value of a family at scrape time.
type series struct {
	values []string // label values in the desc's order
	value  float64
	hist   *histSnapshot // histograms only
	sum    *summary      // summaries only
}

// summary is a summary's quantiles, sum and count as a scrape read them.
type summary struct {
	quantiles, values []float64
	sum               float64
	count             uint64
}

// family is a desc with its series, as a scrape read them.
type family struct {
	*desc
	series []series
}

// collector is a set of families read at scrape time.
type collector interface {
	describe() []*desc
	collect(dst []family) []family
}

// registry gathers the collectors and writes the text exposition.
type registry struct {
	mu         sync.Mutex
	names      map[string]bool
	collectors []collector
}

// register adds collectors; a family name registered twice is a bug of
// the caller, as with client_golang's MustRegister.
func (r *registry) register(cs ...collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names == nil {
		r.names = map[string]bool{}
	}
	for _, c := range cs {
		for _, d := range c.describe() {
			if r.names[d.name] {
				panic("metrics: " + d.name + " registered twice")
			}
			r.names[d.name] = true
		}
		r.collectors = append(r.collectors, c)
	}
}

// write writes every family in the text format 0.0.4, families sorted by
// name and the series of each by label values.
func (r *registry) write(w io.Writer) error {
	r.mu.Lock()
	cs := slices.Clone(r.collectors)
	r.mu.Unlock()
	var fams []family
	for _, c := range cs {
		fams = c.collect(fams)
	}
	slices.SortFunc(fams, func(a, b family) int { return strings.Compare(a.name, b.name) })
	b := make([]byte, 0, 16<<10)
	for _, f := range fams {
		if len(f.series) == 0 {
			continue
		}
		slices.SortFunc(f.series, func(a, b series) int { return slices.Compare(a.values, b.values) })
		b = appendFamily(b, f)
	}
	_, err := w.Write(b)
	return err
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func appendFamily(b []byte, f family) []byte {
	b = append(b, "# HELP "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = append(b, helpEscaper.Replace(f.help)...)
	b = append(b, "\n# TYPE "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = append(b, f.kind...)
	b = append(b, '\n')
	for _, s := range f.series {
		switch {
		case s.hist != nil:
			h := s.hist
			var cum uint64
			for i, ub := range h.bounds {
				cum += h.counts[i]
				b = appendSampleUint(b, f.name, "_bucket", f.desc, s.values, leLabel{"le", formatFloat(ub)}, cum)
			}
			cum += h.counts[len(h.bounds)]
			b = appendSampleUint(b, f.name, "_bucket", f.desc, s.values, leLabel{"le", "+Inf"}, cum)
			b = appendSample(b, f.name, "_sum", f.desc, s.values, leLabel{}, h.sum)
			b = appendSampleUint(b, f.name, "_count", f.desc, s.values, leLabel{}, cum)
		case s.sum != nil:
			for i, q := range s.sum.quantiles {
				b = appendSample(b, f.name, "", f.desc, s.values, leLabel{"quantile", formatFloat(q)}, s.sum.values[i])
			}
			b = appendSample(b, f.name, "_sum", f.desc, s.values, leLabel{}, s.sum.sum)
			b = appendSampleUint(b, f.name, "_count", f.desc, s.values, leLabel{}, s.sum.count)
		default:
			b = appendSample(b, f.name, "", f.desc, s.values, leLabel{}, s.value)
		}
	}
	return b
}

// leLabel is a histogram's bucket label or a summary's quantile label,
// written after the family's labels as client_golang does; none when the
// name is "".
type leLabel struct{ name, value string }

// appendName writes name, suffix and the label set.
func appendName(b []byte, name, suffix string, d *desc, values []string, le leLabel) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if len(values) == 0 && le.name == "" {
		return b
	}
	b = append(b, '{')
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, d.labels[d.order[i]]...)
		b = append(b, `="`...)
		b = append(b, labelEscaper.Replace(v)...)
		b = append(b, '"')
	}
	if le.name != "" {
		if len(values) > 0 {
			b = append(b, ',')
		}
		b = append(b, le.name...)
		b = append(b, `="`...)
		b = append(b, le.value...)
		b = append(b, '"')
	}
	return append(b, '}')
}

func appendSample(b []byte, name, suffix string, d *desc, values []string, le leLabel, v float64) []byte {
	b = appendName(b, name, suffix, d, values, le)
	b = append(b, ' ')
	b = append(b, formatFloat(v)...)
	return append(b, '\n')
}

func appendSampleUint(b []byte, name, suffix string, d *desc, values []string, le leLabel, v uint64) []byte {
	b = appendName(b, name, suffix, d, values, le)
	b = append(b, ' ')
	b = strconv.AppendUint(b, v, 10)
	return append(b, '\n')
}

// formatFloat writes a value as client_golang's text format does.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// counter only ever goes up by whole numbers (records, bytes, events), so
// an atomic integer makes an update one instruction.
type counter struct{ n atomic.Uint64 }

// Add adds n; a counter never goes down, so a negative n is ignored.
func (c *counter) Add(n int64) {
	if n > 0 {
		c.n.Add(uint64(n))
	}
}

// Inc adds one.
func (c *counter) Inc() { c.n.Add(1) }

func (c *counter) read(s *series) { s.value = float64(c.n.Load()) }

// gauge is a float64 held as its bits.
type gauge struct{ bits atomic.Uint64 }

// Set sets the value.
func (g *gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Add adds v, which may be negative.
func (g *gauge) Add(v float64) { addFloat(&g.bits, v) }

func (g *gauge) read(s *series) { s.value = math.Float64frombits(g.bits.Load()) }

func addFloat(bits *atomic.Uint64, v float64) {
	for {
		old := bits.Load()
		if bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// histogram counts observations per bucket. The count a scrape reports is
// the sum of the buckets it read, so the +Inf bucket always equals it; the
// sum may lag a concurrent observation.
type histogram struct {
	bounds []float64       // upper bounds, ascending, without +Inf
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // float64 bits
}

// Observe records one value.
func (h *histogram) Observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v) // le: a value equal to a bound is in its bucket
	h.counts[i].Add(1)
	addFloat(&h.sum, v)
}

// histSnapshot is a histogram as a scrape read it.
type histSnapshot struct {
	bounds []float64
	counts []uint64
	sum    float64
}

func (h *histogram) read(s *series) {
	snap := &histSnapshot{bounds: h.bounds, counts: make([]uint64, len(h.counts))}
	for i := range h.counts {
		snap.counts[i] = h.counts[i].Load()
	}
	snap.sum = math.Float64frombits(h.sum.Load())
	s.hist = snap
}

// exponentialBuckets returns count bounds from start, each factor times
// the one before, computed as client_golang computes them.
func exponentialBuckets(start, factor float64, count int) []float64 {
	b := make([]float64, count)
	for i := range b {
		b[i] = start
		start *= factor
	}
	return b
}

// maxLabels bounds the labels of a family: none of sluice's has more than
// two, and a fixed-size key makes a child's look-up allocation-free.
const maxLabels = 2

type labelKey [maxLabels]string

// vec is a family whose children, one per label values, are created on
// first use and kept.
type vec[M any, P interface {
	*M
	read(*series)
}] struct {
	desc     *desc
	init     func(*M)
	mu       sync.RWMutex
	children map[labelKey]*child[M]
}

type child[M any] struct {
	values []string // in the desc's order
	m      M
}

func newVec[M any, P interface {
	*M
	read(*series)
}](d *desc, init func(*M)) *vec[M, P] {
	return &vec[M, P]{desc: d, init: init, children: map[labelKey]*child[M]{}}
}

// with returns the child of the label values, given in the order of the
// label names; callers on a hot path resolve it once and keep it.
func (v *vec[M, P]) with(values ...string) *M {
	if len(values) != len(v.desc.labels) {
		panic("metrics: " + v.desc.name + ": wrong number of label values")
	}
	var k labelKey
	copy(k[:], values)
	v.mu.RLock()
	c := v.children[k]
	v.mu.RUnlock()
	if c != nil {
		return &c.m
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c := v.children[k]; c != nil {
		return &c.m
	}
	c = &child[M]{values: make([]string, len(values))}
	for i, j := range v.desc.order {
		c.values[i] = values[j]
	}
	if v.init != nil {
		v.init(&c.m)
	}
	v.children[k] = c
	return &c.m
}

func (v *vec[M, P]) describe() []*desc { return []*desc{v.desc} }

func (v *vec[M, P]) collect(dst []family) []family {
	v.mu.RLock()
	defer v.mu.RUnlock()
	f := family{desc: v.desc, series: make([]series, 0, len(v.children))}
	for _, c := range v.children {
		s := series{values: c.values}
		P(&c.m).read(&s)
		f.series = append(f.series, s)
	}
	return append(dst, f)
}

type (
	counterVec   = vec[counter, *counter]
	gaugeVec     = vec[gauge, *gauge]
	histogramVec = vec[histogram, *histogram]
)

func newCounterVec(name, help string, labels ...string) *counterVec {
	return newVec[counter, *counter](newDesc(name, help, kindCounter, labels...), nil)
}

func newGaugeVec(name, help string, labels ...string) *gaugeVec {
	return newVec[gauge, *gauge](newDesc(name, help, kindGauge, labels...), nil)
}

func newHistogramVec(name, help string, bounds []float64, labels ...string) *histogramVec {
	return newVec[histogram, *histogram](newDesc(name, help, kindHistogram, labels...), func(h *histogram) {
		h.bounds = bounds
		h.counts = make([]atomic.Uint64, len(bounds)+1)
	})
}

// gaugeFunc is a gauge without labels read at scrape time.
type gaugeFunc struct {
	desc *desc
	f    func() float64
}

func newGaugeFunc(name, help string, f func() float64) *gaugeFunc {
	return &gaugeFunc{desc: newDesc(name, help, kindGauge), f: f}
}

func (g *gaugeFunc) describe() []*desc { return []*desc{g.desc} }

func (g *gaugeFunc) collect(dst []family) []family {
	return append(dst, family{desc: g.desc, series: []series{{value: g.f()}}})
}

// constFamily is a family of one value a collector read at scrape time;
// values are in the order of the desc's sorted label names.
func constFamily(d *desc, value float64, values ...string) family {
	return family{desc: d, series: []series{{values: values, value: value}}}
}
