// Command sluice ships container logs from a Kubernetes node to log stores.
//
//	sluice run -config FILE       tail, enrich and ship until SIGTERM
//	sluice validate -config FILE  check a configuration and the files it names, without running
//	sluice service install|uninstall|start|stop -config FILE
//	                              manage the Windows service that runs sluice
//	sluice version                print the version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/internal/hostpath"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

func runMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: sluice run|validate|service|version [-config FILE]")
		return 2
	}
	switch args[0] {
	case "version":
		fmt.Fprintln(stdout, "sluice", version)
		return 0
	case "service":
		return serviceMain(args[1:], stdout, stderr)
	case "validate", "run":
	default:
		fmt.Fprintf(stderr, "sluice: unknown command %q (want run, validate, service or version)\n", args[0])
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	cpuProfile := fs.String("cpuprofile", "", "run: write a CPU profile of the whole run to this file")
	memProfile := fs.String("memprofile", "", "run: write an allocation profile (with what is in use at the end) to this file when the run ends")
	service := fs.String("service", "", "run: run as the Windows service of this name (what `sluice service install` sets)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "sluice: -config FILE is required")
		return 2
	}
	cfgPath := hostpath.Resolve(*path, hostpath.Read)
	cfg, err := config.Load(cfgPath.Path)
	if err == nil {
		err = checkParsers(cfg.Inputs.Files)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 1
	}
	chosen := append([]pathChoice{{"-config", cfgPath}}, resolveConfigPaths(&cfg)...)
	if args[0] == "validate" {
		return validate(cfgPath.Path, cfg, stdout, stderr)
	}
	daemon := func(ctx context.Context, stdout, stderr io.Writer) error {
		logPathChoices(newLogger(cfg.Log, stderr), chosen)
		return run(ctx, cfg, stdout, stderr)
	}
	if code, ok := runAsService(*service, daemon, cfg, stderr); ok {
		return code
	}
	// SIGTERM is also what Go delivers on Windows for the console close and
	// shutdown events, so one path serves both platforms.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := createProfile(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "sluice: cpu profile:", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	err = daemon(ctx, stdout, stderr)
	if *memProfile != "" {
		if perr := writeAllocProfile(*memProfile); perr != nil {
			fmt.Fprintln(stderr, "sluice: allocation profile:", perr)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 1
	}
	return 0
}

// createProfile creates a profile file private to its owner: profiles name
// the code paths and, for allocations, the sizes of what the daemon held.
func createProfile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
}

// writeAllocProfile writes the allocation profile, after a collection so
// its in-use figures are the live heap, not garbage not yet swept.
func writeAllocProfile(path string) error {
	f, err := createProfile(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
