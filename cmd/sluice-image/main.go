// Command sluice-image builds and pushes sluice's container images without
// a container engine (see internal/imagebuild). It is a build tool, kept out
// of the daemon's binary.
//
//	sluice-image build -linux BIN -windows EXE [-ca FILE] [-version V] [-windows-base REF] -out DIR
//	sluice-image push [-insecure] -from DIR IMAGE
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sluicelog/sluice/internal/imagebuild"
)

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

func runMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: sluice-image build|push ...")
		return 2
	}
	var err error
	switch args[0] {
	case "build":
		err = build(args[1:], stdout, stderr)
	case "push":
		err = push(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "sluice-image: unknown command %q (want build or push)\n", args[0])
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "sluice-image:", err)
		return 1
	}
	return 0
}

func build(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o imagebuild.Options
	fs.StringVar(&o.LinuxBinary, "linux", "", "static linux/amd64 sluice binary")
	fs.StringVar(&o.WindowsBinary, "windows", "", "windows/amd64 sluice.exe")
	// Debian's bundle, kept current by the ca-certificates package, rather
	// than roots compiled into the binary: it can be updated by rebuilding
	// the image alone, and the daemon does not grow.
	fs.StringVar(&o.CAFile, "ca", "/etc/ssl/certs/ca-certificates.crt", "PEM CA bundle for the Linux image")
	fs.StringVar(&o.Version, "version", "dev", "version label")
	base := fs.String("windows-base", "", "HostProcess base image to build the Windows image on (default: an empty base)")
	out := fs.String("out", "bin/image", "OCI layout folder to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base != "" {
		img, err := imagebuild.PullBase(*base)
		if err != nil {
			return err
		}
		o.WindowsBase = img
	}
	idx, err := imagebuild.Build(o)
	if err != nil {
		return err
	}
	if err := imagebuild.WriteLayout(*out, idx); err != nil {
		return err
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: index %s (linux/amd64, windows/amd64)\n", *out, d)
	return nil
}

func push(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "bin/image", "OCI layout folder that build wrote")
	insecure := fs.Bool("insecure", false, "allow plain HTTP to the registry")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("push: want one image reference, such as registry.example/sluice:1.0, got %d", fs.NArg())
	}
	idx, err := imagebuild.ReadLayout(*from)
	if err != nil {
		return err
	}
	ref, err := imagebuild.Push(fs.Arg(0), idx, *insecure)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, ref)
	return nil
}
