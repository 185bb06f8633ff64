// Command flb-sluice is sluice's Loki and Elasticsearch outputs as a Fluent
// Bit Go output plugin, built with -buildmode=c-shared into out_sluice.so
// (Linux) or out_sluice.dll (Windows). One plugin, named sluice, serves
// both sinks (a process can load only one Go library), chosen per [OUTPUT]
// section with the sink key; see the README's "Fluent Bit plugin" section
// for every key, and package plugin for what a flush guarantees.
//
// Fluent Bit calls FLBPluginRegister once, FLBPluginInit once per [OUTPUT]
// section, FLBPluginFlushCtx for each chunk (from several threads at once
// with Workers), and FLBPluginExitCtx per section at shutdown. Each section
// has its own instance, found again through the context Fluent Bit hands
// back; the registry below is the only state shared between them.
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/sluicelog/sluice/cmd/flb-sluice/internal/plugin"
)

// registry holds the running instances, so that FLBPluginExit (called by
// a Fluent Bit that does not know FLBPluginExitCtx) can close them all.
var registry = struct {
	sync.Mutex
	n         int
	instances map[*plugin.Instance]bool
}{instances: map[*plugin.Instance]bool{}}

// FLBPluginRegister names the plugin.
//
//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) int {
	return output.FLBPluginRegister(def, "sluice", "sluice: Loki and Elasticsearch outputs with per-record outcomes")
}

// FLBPluginInit starts one [OUTPUT] instance; its keys can be read only
// now, as the structure they come through is shared by every instance.
//
//export FLBPluginInit
func FLBPluginInit(p unsafe.Pointer) (code int) {
	defer recovered("init", &code, output.FLB_ERROR)
	registry.Lock()
	registry.n++
	name := fmt.Sprintf("sluice.%d", registry.n-1)
	registry.Unlock()
	in, err := plugin.New(name, func(key string) string { return output.FLBPluginConfigKey(p, key) }, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "[output:sluice:%s] cannot start: %v\n", name, err)
		return output.FLB_ERROR
	}
	registry.Lock()
	registry.instances[in] = true
	registry.Unlock()
	output.FLBPluginSetContext(p, in)
	return output.FLB_OK
}

// FLBPluginFlushCtx sends one chunk of the instance ctx names.
//
//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.size_t, tag *C.char) (code int) {
	defer recovered("flush", &code, output.FLB_ERROR)
	in, ok := output.FLBPluginGetContext(ctx).(*plugin.Instance)
	if !ok {
		fmt.Fprintln(os.Stderr, "[output:sluice] flush for an unknown instance")
		return output.FLB_ERROR
	}
	var b []byte
	if length > 0 {
		b = unsafe.Slice((*byte)(data), int(length))
	}
	return int(in.Flush(b, C.GoString(tag)))
}

// FLBPluginExitCtx stops the instance ctx names.
//
//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) (code int) {
	defer recovered("exit", &code, output.FLB_ERROR)
	if in, ok := output.FLBPluginGetContext(ctx).(*plugin.Instance); ok {
		closeInstance(in)
	}
	return output.FLB_OK
}

// FLBPluginExit stops every instance still running.
//
//export FLBPluginExit
func FLBPluginExit() (code int) {
	defer recovered("exit", &code, output.FLB_ERROR)
	registry.Lock()
	var all []*plugin.Instance
	for in := range registry.instances {
		all = append(all, in)
	}
	registry.Unlock()
	for _, in := range all {
		closeInstance(in)
	}
	return output.FLB_OK
}

func closeInstance(in *plugin.Instance) {
	registry.Lock()
	running := registry.instances[in]
	delete(registry.instances, in)
	registry.Unlock()
	if running {
		in.Close()
	}
}

// recovered turns a panic into an error result with a log line: a panic
// must not take Fluent Bit down with it.
func recovered(what string, code *int, fail int) {
	if r := recover(); r != nil {
		fmt.Fprintf(os.Stderr, "[output:sluice] %s panicked: %v\n", what, r)
		*code = fail
	}
}

func main() {}
