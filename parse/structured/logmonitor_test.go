package structured

import (
	"bufio"
	"os"
	"testing"
	"time"
)

// fixture returns the lines of testdata/name.
func fixture(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// The Event Log line is the shape LogMonitor's EventMonitor.cpp
// (microsoft/windows-container-tools, LogMonitor/src/LogMonitor/EventMonitor.cpp,
// the JSON branch of its log format) prints: `{"Source": "%s","LogEntry":
// {"EventSource": "%s","Time": "%s","Channel": "%s","Level": "%s","EventId":
// %u,"Message": "%s"}}`, older releases without EventSource. The ETW and
// File lines follow the field names the issue gives (provider, EventId,
// Level, Keyword; Logline, FileName); ETW's XML output is text.
func TestLogMonitor(t *testing.T) {
	lines := fixture(t, "logmonitor.txt")
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	for i, tc := range []struct {
		name string
		opt  Options
		want
	}{
		{name: "EventLog", want: want{outcome: Parsed, body: "The Windows Update service entered the running state.",
			attrs: attrs("windows.logmonitor.source", "EventLog", "windows.event.time", "2026-12-04T04:20:01.000Z",
				"windows.event.channel", "System", "level", "information", "windows.event.id", "7036")}},
		{name: "EventLog with EventSource", opt: Options{Time: true}, want: want{outcome: Parsed,
			body: "Faulting application name: w3wp.exe, version: 10.0.17763.1, faulting module name: KERNELBASE.dll\r\nException code: 0xe0434352",
			attrs: attrs("windows.logmonitor.source", "EventLog", "windows.event.provider", "Application Error",
				"windows.event.channel", "Application", "level", "error", "windows.event.id", "1000"),
			time: at("2026-12-04T04:20:02Z")}},
		{name: "ETW", opt: Options{Time: true}, want: want{outcome: Parsed, body: lines[2],
			attrs: attrs("windows.logmonitor.source", "ETW", "windows.event.provider", "Microsoft-Windows-IIS-Logging",
				"windows.event.provider_guid", "{7E8AD27F-B271-4EA2-A783-A47BDE29143B}",
				"windows.event.DecodingSource", "DecodingSourceXMLFile",
				"windows.event.Execution", `{"ProcessId":4812,"ThreadId":5120}`,
				"level", "information", "windows.event.keywords", "0x8000000000000000", "windows.event.id", "6200",
				"windows.event.EventData", `{"date":"2026-12-04","cs-uri-stem":"/default.aspx","sc-status":"200"}`),
			time: at("2026-12-04T04:20:03Z")}},
		{name: "File", want: want{outcome: Parsed,
			body:  "2026-12-04 04:20:04 10.0.0.5 GET /default.aspx - 80 - 10.0.0.9 Mozilla/5.0 - 200 0 0 15",
			attrs: attrs("windows.logmonitor.source", "File", "log.file.path", `C:\inetpub\logs\LogFiles\W3SVC1\u_ex261204.log`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, newParser(t, tc.opt), LogMonitor, lines[i], tc.want)
			// Auto finds the same.
			check(t, newParser(t, tc.opt), Auto, lines[i], tc.want)
		})
	}
}

func TestLogMonitorOtherLines(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		f          Format
		want       Outcome
	}{
		{"XML format", `<Log><Source>EventLog</Source><LogEntry><Time>2026-12-04T04:20:01.000Z</Time><Channel>System</Channel><Level>Information</Level><EventId>7036</EventId><Message>m</Message></LogEntry></Log>`, LogMonitor, NotThisFormat},
		{"XML format, auto", `<Source>EtwEvent</Source><Time>2026-12-04T04:20:01.000Z</Time>`, Auto, Skipped},
		{"custom format", `EventLog|System|Information|7036|m`, LogMonitor, NotThisFormat},
		{"custom format, auto", `EventLog|System|Information|7036|m`, Auto, Skipped},
		{"app JSON", `{"level":"info","msg":"m"}`, LogMonitor, NotThisFormat},
		{"app JSON, auto", `{"level":"info","msg":"m"}`, Auto, Skipped},
		{"no LogEntry", `{"Source":"EventLog"}`, Auto, NotThisFormat},
		{"LogEntry not an object", `{"Source":"EventLog","LogEntry":"m"}`, LogMonitor, NotThisFormat},
		{"cut", `{"Source": "EventLog","LogEntry": {"Time": "2026-12-04T04:20:01.000Z","Mess`, Auto, Invalid},
		{"trailing text", `{"Source":"File","LogEntry":{"Logline":"x"}} y`, LogMonitor, Invalid},
		{"missing comma", `{"Source":"File" "LogEntry":{"Logline":"x"}}`, LogMonitor, Invalid},
		{"plain text", `Starting w3svc`, LogMonitor, NotThisFormat},
		{"none", `{"Source":"File","LogEntry":{"Logline":"x"}}`, None, Skipped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, newParser(t, Options{}), tc.f, tc.line, want{outcome: tc.want})
		})
	}
}
