package imagebuild

import (
	"bytes"
	"encoding/base64"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// TestUsersOwnedSD checks the layer's security descriptor against the one
// Windows makes from its SDDL, "O:BUG:BU".
func TestUsersOwnedSD(t *testing.T) {
	sd, err := windows.SecurityDescriptorFromString("O:BUG:BU")
	if err != nil {
		t.Fatal(err)
	}
	want := unsafe.Slice((*byte)(unsafe.Pointer(sd)), sd.Length())
	got, err := base64.StdEncoding.DecodeString(usersOwnedSD)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("descriptor\n got %x\nwant %x", got, want)
	}
}
