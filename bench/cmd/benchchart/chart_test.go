package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"testing"

	"github.com/sluicelog/sluice/bench/internal/results"
)

func testRun() results.Run {
	idle := func(v float64) *float64 { return &v }
	return results.Run{
		Date:    "2026-12-04",
		Machine: results.Machine{CPU: "Test <CPU> & co", Cores: 2},
		Cases:   []results.Case{{Name: "a"}, {Name: "b"}, {Name: "c"}},
		Rows: []results.Row{
			{Case: "a", Agent: "sluice", Expected: 100, Delivered: 100, CPUPerMillion: 1.5, PeakRSSMiB: 60},
			{Case: "a", Agent: "otelcol", Expected: 100, Delivered: 100, CPUPerMillion: 4.5, PeakRSSMiB: 180},
			{Case: "b", Agent: "sluice", Expected: 100, Delivered: 100, CPUPerMillion: 2, PeakRSSMiB: 64},
			{Case: "b", Agent: "otelcol", Expected: 100, Delivered: 90, CPUPerMillion: 3, PeakRSSMiB: 170},
			{Case: "c", Agent: "sluice", Expected: 10, Delivered: 10, CPUPerMillion: 900, PeakRSSMiB: 55, IdleCPUPerSecond: idle(0.004)},
			{Case: "c", Agent: "otelcol", Expected: 10, Delivered: 10, CPUPerMillion: 2000, PeakRSSMiB: 120, IdleCPUPerSecond: idle(0.012)},
		},
	}
}

// drawnBar is a bar as the SVG has it.
type drawnBar struct {
	panel, caseName, agent string
	value, height          float64
}

// parseSVG decodes the whole document, which fails on anything that is not
// well-formed XML, and returns its bars.
func parseSVG(t *testing.T, doc []byte) []drawnBar {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var bars []drawnBar
	var panel string
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root == "" {
			root = el.Name.Local
		}
		attr := map[string]string{}
		for _, a := range el.Attr {
			attr[a.Name.Local] = a.Value
		}
		if el.Name.Local == "g" && attr["class"] == "panel" {
			panel = attr["data-title"]
		}
		if el.Name.Local != "rect" || attr["class"] != "bar" {
			continue
		}
		v, err1 := strconv.ParseFloat(attr["data-value"], 64)
		h, err2 := strconv.ParseFloat(attr["height"], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bar %v: value or height is not a number", attr)
		}
		bars = append(bars, drawnBar{panel: panel, caseName: attr["data-case"], agent: attr["data-agent"], value: v, height: h})
	}
	if root != "svg" {
		t.Fatalf("root element is %q, not svg", root)
	}
	return bars
}

func TestRender(t *testing.T) {
	var b bytes.Buffer
	render(&b, testRun())
	bars := parseSVG(t, b.Bytes())

	const cpu, rss, idle = "CPU seconds per million lines", "peak RSS, MiB", "CPU while idle, ms per second"
	want := map[[3]string]float64{
		{cpu, "a", "sluice"}: 1.5, {cpu, "a", "otelcol"}: 4.5, {cpu, "b", "sluice"}: 2, {cpu, "b", "otelcol"}: 3,
		{rss, "a", "sluice"}: 60, {rss, "a", "otelcol"}: 180, {rss, "b", "sluice"}: 64, {rss, "b", "otelcol"}: 170,
		{rss, "c", "sluice"}: 55, {rss, "c", "otelcol"}: 120,
		{idle, "c", "sluice"}: 4, {idle, "c", "otelcol"}: 12,
	}
	got := map[[3]string]float64{}
	perUnit := map[string]float64{} // height per unit of value, per panel
	for _, bar := range bars {
		key := [3]string{bar.panel, bar.caseName, bar.agent}
		if _, dup := got[key]; dup {
			t.Errorf("bar %v drawn twice", key)
		}
		got[key] = bar.value
		if bar.value <= 0 {
			continue
		}
		scale := bar.height / bar.value
		if p, ok := perUnit[bar.panel]; !ok {
			perUnit[bar.panel] = scale
		} else if math.Abs(scale-p)/p > 1e-3 {
			t.Errorf("%v: height %.2f for %g is out of scale with its panel (%.4f per unit, not %.4f)", key, bar.height, bar.value, scale, p)
		}
	}
	for key, v := range want {
		g, ok := got[key]
		if !ok {
			t.Errorf("no bar for %v", key)
		} else if math.Abs(g-v) > 1e-9 {
			t.Errorf("bar %v has value %g, want %g", key, g, v)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("unexpected bar %v", key)
		}
	}
	// The tallest bar of each panel reaches at most the plot's height, and
	// more than half of it: the axis is rounded up, not far up.
	plotH := float64(panelHeight - plotTop - plotBottom)
	tallest := map[string]float64{}
	for _, bar := range bars {
		tallest[bar.panel] = max(tallest[bar.panel], bar.height)
	}
	for p, h := range tallest {
		if h > plotH+1e-9 || h < plotH/2 {
			t.Errorf("panel %q: tallest bar %.1f high in a plot %.1f high", p, h, plotH)
		}
	}
}

func TestAxisMax(t *testing.T) {
	for _, tc := range []struct{ v, top, step float64 }{
		{0, 1, 0.2},
		{1, 1, 0.2},
		{4.5, 5, 1},
		{13, 15, 5},
		{180, 200, 50},
		{61.2, 80, 20},
		{0.0347, 0.04, 0.01},
	} {
		top, step := axisMax(tc.v)
		if math.Abs(top-tc.top) > 1e-9 || math.Abs(step-tc.step) > 1e-9 {
			t.Errorf("axisMax(%g) = %g, %g; want %g, %g", tc.v, top, step, tc.top, tc.step)
		}
	}
}

// A row of several runs gets a whisker over its bar from the lowest run to
// the highest, on the bars' scale, and the axis leaves room for its top.
func TestRenderRanges(t *testing.T) {
	r := testRun()
	r.Rows[0].Runs, r.Rows[0].CPUPerMillionRuns, r.Rows[0].PeakRSSMiBRuns = 3, []float64{1.5, 1.2, 9}, []float64{60, 58, 61}
	var b bytes.Buffer
	render(&b, r)
	bars := parseSVG(t, b.Bytes())
	plotH := float64(panelHeight - plotTop - plotBottom)

	type whisker struct{ min, max, lo, hi float64 }
	got := map[string]whisker{}
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok || el.Name.Local != "path" {
			continue
		}
		attr := map[string]string{}
		for _, a := range el.Attr {
			attr[a.Name.Local] = a.Value
		}
		if attr["class"] != "range" || attr["data-case"] != "a" || attr["data-agent"] != "sluice" {
			t.Fatalf("a whisker on %v: only case a's sluice row has runs", attr)
		}
		var w whisker
		var cx, x1, x2, x3, x4, y1, y2 float64
		if _, err := fmt.Sscanf(attr["d"], "M%g %gH%gM%g %gH%gM%g %gV%g", &x1, &y1, &x2, &x3, &y2, &x4, &cx, &w.lo, &w.hi); err != nil {
			t.Fatalf("whisker path %q: %v", attr["d"], err)
		}
		w.min, _ = strconv.ParseFloat(attr["data-min"], 64)
		w.max, _ = strconv.ParseFloat(attr["data-max"], 64)
		key := "cpu"
		if w.max > 10 {
			key = "rss"
		}
		got[key] = w
	}
	if len(got) != 2 {
		t.Fatalf("whiskers %v: want one in the CPU panel and one in the RSS panel", got)
	}
	if w := got["cpu"]; w.min != 1.2 || w.max != 9 {
		t.Errorf("CPU whisker from %g to %g, want 1.2 to 9", w.min, w.max)
	}
	// The whisker's ends are on the scale of the bars of its panel.
	for _, bar := range bars {
		if bar.caseName != "a" || bar.agent != "sluice" || bar.panel != "CPU seconds per million lines" {
			continue
		}
		w := got["cpu"]
		perUnit := bar.height / bar.value
		if span := w.lo - w.hi; math.Abs(span-(w.max-w.min)*perUnit) > 0.05 {
			t.Errorf("whisker %.2f high for runs %g to %g at %.3f per unit", span, w.min, w.max, perUnit)
		}
		if top := w.max * perUnit; top > plotH+1e-9 {
			t.Errorf("whisker reaches %.1f in a plot %.1f high", top, plotH)
		}
	}
}
