package main

import (
	"context"
	"os"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/sluicelog/sluice/internal/private"
	"github.com/sluicelog/sluice/internal/testdir"
)

// TestOpenRefusesAnOpenDataFolder: a data folder whose ACL lets Everyone
// read stops sluice at once (no retry: an operator must act) with the
// icacls commands that fix it. Everyone is the one account Wine can show
// in a file's ACL (it maps "other" mode bits to it).
func TestOpenRefusesAnOpenDataFolder(t *testing.T) {
	ev := &diskErrors{}
	o := testOpener(testdir.New(t), ev)
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	sd, err := windows.SecurityDescriptorFromString("D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;WD)")
	if err != nil {
		t.Fatal(err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(o.dataDir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, o, ev, "icacls")
}

// TestOpenCreatesTheDataFolder: on a fresh node the data folder does not
// exist; sluice creates it (private) and opens the buffer in it.
func TestOpenCreatesTheDataFolder(t *testing.T) {
	o := testOpener(testdir.New(t), &diskErrors{})
	buf, err := o.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	buf.Close()
	if _, err := private.Dir(o.dataDir); err != nil {
		t.Fatalf("the folder sluice created does not pass its own check: %v", err)
	}
}
