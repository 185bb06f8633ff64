// Command demoshot checks what `make screenshot` took: that the VictoriaLogs
// web UI address the demo printed answers, through the same query API and
// with the same query, tenant and limit the UI sends, records of every demo
// pod, and that the picture of the page is not blank.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	uiURL := flag.String("url", "", "the web UI address the demo printed")
	pods := flag.String("pods", "", "comma-separated pods whose records must show")
	pic := flag.String("png", "", "the screenshot to check")
	flag.Parse()
	if err := run(*uiURL, strings.Split(*pods, ","), *pic); err != nil {
		fmt.Fprintln(os.Stderr, "demoshot:", err)
		os.Exit(1)
	}
}

func run(uiURL string, pods []string, pic string) error {
	per, err := queryUI(uiURL)
	if err != nil {
		return err
	}
	for _, p := range pods {
		if per[p] == 0 {
			return fmt.Errorf("the page's query returns no record of pod %q (records per pod: %v)", p, per)
		}
	}
	fmt.Printf("demoshot: the page's query returns records per pod %v\n", per)
	sd, err := spread(pic)
	if err != nil {
		return err
	}
	// A blank or single-colour page has a spread of a few levels at most;
	// text on a background has dozens.
	if sd < 10 {
		return fmt.Errorf("%s looks blank: the standard deviation of its grey levels is %.1f", pic, sd)
	}
	fmt.Printf("demoshot: %s grey-level standard deviation %.1f\n", pic, sd)
	return nil
}

// queryUI sends the query in the UI address's fragment to
// /select/logsql/query as the UI does (tenant in the AccountID and
// ProjectID headers) and counts the records per pod.
func queryUI(uiURL string) (map[string]int, error) {
	u, err := url.Parse(uiURL)
	if err != nil {
		return nil, err
	}
	_, frag, ok := strings.Cut(u.Fragment, "?")
	if !ok {
		return nil, fmt.Errorf("%s: no query in the address's fragment", uiURL)
	}
	params, err := url.ParseQuery(frag)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", uiURL, err)
	}
	if params.Get("query") == "" {
		return nil, errors.New("the address names no query")
	}
	form := url.Values{"query": {params.Get("query")}}
	if l := params.Get("limit"); l != "" {
		form.Set("limit", l)
	}
	api := url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/select/logsql/query"}
	req, err := http.NewRequest(http.MethodPost, api.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("AccountID", params.Get("accountID"))
	req.Header.Set("ProjectID", params.Get("projectID"))
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", api.String(), resp.Status)
	}
	per := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var row map[string]string
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s: row %q: %w", api.String(), sc.Text(), err)
		}
		pod := row["pod"]
		if pod == "" {
			pod = row["kubernetes.pod.name"]
		}
		per[pod]++
	}
	return per, sc.Err()
}

// spread is the standard deviation of the grey levels (0-255) of a PNG.
func spread(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return greySpread(img), nil
}

// greySpread is spread of a decoded image.
func greySpread(img image.Image) float64 {
	b := img.Bounds()
	var n, sum, sq float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			v := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			n++
			sum += v
			sq += v * v
		}
	}
	if n == 0 {
		return 0
	}
	mean := sum / n
	return math.Sqrt(math.Max(0, sq/n-mean*mean))
}
