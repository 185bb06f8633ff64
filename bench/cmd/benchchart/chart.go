package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"

	"github.com/sluicelog/sluice/bench/internal/results"
)

// Sizes of the drawing, in SVG user units (pixels).
const (
	panelWidth  = 420
	panelHeight = 260
	plotTop     = 40  // below the panel's title
	plotLeft    = 56  // room for the axis labels
	plotBottom  = 36  // room for the case labels
	plotRight   = 12  // margin
	legendH     = 28  // the legend row under the title
	titleH      = 30  // the chart's title
	barGap      = 4   // between the bars of one group
	groupPad    = 0.2 // of a group's width, left empty on each side
	ticks       = 5   // about this many lines across a panel
	maxBarW     = 60  // bars stay this narrow when a group has few
)

// colors are the agents' bar colours, in the order agents first appear.
var colors = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"}

// panel is one bar chart: a value per case and agent.
type panel struct {
	title  string
	groups []group
}

// group is one case's bars.
type group struct {
	label string
	bars  []bar
}

// bar is one agent's value in one case; incomplete runs are drawn, but
// hatched and labelled, since their figures cover only part of the lines.
// A row of several runs also has their range, drawn as a whisker.
type bar struct {
	agent      string
	value      float64
	runs       []float64
	incomplete bool
}

// panels picks what is drawn. CPU per million lines leaves out cases with
// an idle window, whose few lines make the figure meaningless; those get
// a panel of their own, of CPU while idle.
func panels(r results.Run) []panel {
	pick := func(title string, use func(results.Row) (float64, []float64, bool)) panel {
		p := panel{title: title}
		for _, c := range r.Cases {
			g := group{label: c.Name}
			for _, row := range r.Rows {
				if row.Case != c.Name {
					continue
				}
				if v, runs, ok := use(row); ok {
					g.bars = append(g.bars, bar{agent: row.Agent, value: v, runs: runs, incomplete: !row.Complete()})
				}
			}
			if len(g.bars) > 0 {
				p.groups = append(p.groups, g)
			}
		}
		return p
	}
	ps := []panel{
		pick("CPU seconds per million lines", func(row results.Row) (float64, []float64, bool) {
			return row.CPUPerMillion, row.CPUPerMillionRuns, row.IdleCPUPerSecond == nil
		}),
		pick("peak RSS, MiB", func(row results.Row) (float64, []float64, bool) {
			return row.PeakRSSMiB, row.PeakRSSMiBRuns, true
		}),
		pick("CPU while idle, ms per second", func(row results.Row) (float64, []float64, bool) {
			if row.IdleCPUPerSecond == nil {
				return 0, nil, false
			}
			return *row.IdleCPUPerSecond * 1000, nil, true
		}),
	}
	return slices.DeleteFunc(ps, func(p panel) bool { return len(p.groups) == 0 })
}

// agents lists the agents in the order they first appear in the rows.
func agents(r results.Run) []string {
	var names []string
	for _, row := range r.Rows {
		if !slices.Contains(names, row.Agent) {
			names = append(names, row.Agent)
		}
	}
	return names
}

// axisMax rounds v up to 1, 2 or 5 times a power of ten, so ticks fall on
// round numbers; it returns the top and the tick step.
func axisMax(v float64) (top, step float64) {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1, 1.0 / ticks
	}
	raw := v / ticks
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step = m * pow; step*ticks >= v {
			break
		}
	}
	return math.Ceil(v/step) * step, step
}

// render writes the chart of r as a standalone SVG document.
func render(w io.Writer, r results.Run) {
	ps := panels(r)
	names := agents(r)
	width := panelWidth * max(len(ps), 1)
	height := titleH + legendH + panelHeight + 20
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="white"/><line x1="0" y1="0" x2="0" y2="6" stroke="#555" stroke-width="2"/></pattern></defs>
<rect width="100%%" height="100%%" fill="white"/>
`, width, height, width, height)
	title := fmt.Sprintf("sluice side by side, %s: %s, %d cores", r.Date, r.Machine.CPU, r.Machine.Cores)
	fmt.Fprintf(w, "<text x=\"%d\" y=\"20\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", 10, esc(title))
	for i, name := range names {
		x := 10 + i*150
		y := titleH + 4
		fmt.Fprintf(w, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/>", x, y, colors[i%len(colors)])
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\">%s</text>\n", x+20, y+12, esc(name))
	}
	if slices.ContainsFunc(r.Rows, func(row results.Row) bool { return !row.Complete() }) {
		x := 10 + len(names)*150
		fmt.Fprintf(w, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"url(#hatch)\" stroke=\"#555\"/>", x, titleH+4)
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\">not every line delivered</text>\n", x+20, titleH+16)
	}
	for i, p := range ps {
		drawPanel(w, p, names, i*panelWidth, titleH+legendH)
	}
	fmt.Fprintf(w, "<text x=\"10\" y=\"%d\" fill=\"#444\">%s</text>\n", height-8,
		esc("CPU and RSS are each agent process's own (/proc/<pid>), from its start until the server held every line; idle cases are left out of CPU per million lines. Whiskers: the range of several runs, the bar their median."))
	fmt.Fprintln(w, "</svg>")
}

// drawPanel draws p with its top left corner at (x0, y0).
func drawPanel(w io.Writer, p panel, names []string, x0, y0 int) {
	plotW := float64(panelWidth - plotLeft - plotRight)
	plotH := float64(panelHeight - plotTop - plotBottom)
	left, bottom := float64(x0+plotLeft), float64(y0+panelHeight-plotBottom)
	peak := 0.0
	for _, g := range p.groups {
		for _, b := range g.bars {
			peak = max(peak, b.value)
			if len(b.runs) > 0 {
				peak = max(peak, slices.Max(b.runs))
			}
		}
	}
	top, step := axisMax(peak)
	fmt.Fprintf(w, "<g class=\"panel\" data-title=\"%s\">\n", esc(p.title))
	fmt.Fprintf(w, "<text x=\"%.1f\" y=\"%d\" font-weight=\"bold\">%s</text>\n", left, y0+plotTop-16, esc(p.title))
	for v := 0.0; v <= top+step/2; v += step {
		y := bottom - v/top*plotH
		fmt.Fprintf(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", left, y, left+plotW, y)
		fmt.Fprintf(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#444\">%s</text>\n", left-4, y+4, number(v))
	}
	groupW := plotW / float64(len(p.groups))
	for gi, g := range p.groups {
		gx := left + float64(gi)*groupW
		inner := groupW * (1 - 2*groupPad)
		barW := min(maxBarW, (inner-barGap*float64(len(names)-1))/float64(len(names)))
		first := gx + groupW*groupPad + (inner-(barW*float64(len(names))+barGap*float64(len(names)-1)))/2 // narrowed bars stay centred
		for _, b := range g.bars {
			ai := slices.Index(names, b.agent)
			x := first + float64(ai)*(barW+barGap)
			h := b.value / top * plotH
			fill := colors[ai%len(colors)]
			fmt.Fprintf(w, "<rect class=\"bar\" data-case=\"%s\" data-agent=\"%s\" data-value=\"%g\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
				esc(g.label), esc(b.agent), b.value, x, bottom-h, barW, h, fill)
			if b.incomplete {
				fmt.Fprintf(w, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"url(#hatch)\" opacity=\"0.6\"/>", x, bottom-h, barW, h)
			}
			label := bottom - h - 3
			if len(b.runs) > 1 {
				least, most := slices.Min(b.runs), slices.Max(b.runs)
				lo, hi := bottom-least/top*plotH, bottom-most/top*plotH
				cx, cap := x+barW/2, barW/4
				fmt.Fprintf(w, "<path class=\"range\" data-case=\"%s\" data-agent=\"%s\" data-min=\"%g\" data-max=\"%g\" d=\"M%.2f %.2fH%.2fM%.2f %.2fH%.2fM%.2f %.2fV%.2f\" stroke=\"#222\" fill=\"none\"/>",
					esc(g.label), esc(b.agent), least, most, cx-cap, lo, cx+cap, cx-cap, hi, cx+cap, cx, lo, hi)
				label = min(label, hi-3)
			}
			fmt.Fprintf(w, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"10\">%s</text>\n", x+barW/2, label, number(b.value))
		}
		fmt.Fprintf(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">case %s</text>\n", gx+groupW/2, bottom+16, esc(g.label))
	}
	fmt.Fprintf(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", left, bottom, left+plotW, bottom)
	fmt.Fprintln(w, "</g>")
}

// number prints v with as many decimals as its size needs.
func number(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// esc escapes text for SVG.
func esc(s string) string { return html.EscapeString(s) }
