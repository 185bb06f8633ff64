package imagebuild

import (
	"bytes"
	"debug/pe"
	"encoding/base64"
	"encoding/binary"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Windows returns the windows/amd64 HostProcess image. A Windows layer
// keeps the container's files under Files/ and registry changes under
// Hives/. Without Options.WindowsBase the layer is also the image's base
// layer, which Windows checks for the registry hive files under
// Files/Windows/System32/config when it unpacks it, so they are there,
// empty, as in the first HostProcess base image. sluice.exe is at the root
// of the container's file system, which a HostProcess container sees at
// $CONTAINER_SANDBOX_MOUNT_POINT and has as its working folder, so the
// entrypoint is the bare name.
//
// Known limitation: Windows Server 2025 refuses empty files as a base
// layer's hives; for those nodes set WindowsBase to a HostProcess base
// image that carries valid ones.
func Windows(o Options) (v1.Image, error) {
	exe, err := readBinary("windows binary", o.WindowsBinary, checkWindows)
	if err != nil {
		return nil, err
	}
	// The owner and group the file gets when the layer is unpacked; without
	// one a non-administrator user of the container cannot run it.
	sd := map[string]string{"MSWINDOWS.rawsd": usersOwnedSD}
	var t tarWriter
	t.init(o.created())
	t.dir("Files", 0o555, nil)
	t.dir("Hives", 0o555, nil)
	if o.WindowsBase == nil {
		for _, dir := range []string{"Files/Windows", "Files/Windows/System32", "Files/Windows/System32/config"} {
			t.dir(dir, 0o555, sd)
		}
		for _, hive := range []string{"DEFAULT", "SAM", "SECURITY", "SOFTWARE", "SYSTEM"} {
			t.file("Files/Windows/System32/config/"+hive, 0o444, nil, sd)
		}
	}
	t.file("Files/"+WindowsExe, 0o555, exe, sd)
	layer, err := t.layer(o.gzipLevel())
	if err != nil {
		return nil, err
	}
	return image(o, o.WindowsBase, layer, v1.Platform{OS: "windows", Architecture: "amd64"}, v1.Config{
		Entrypoint: []string{WindowsExe},
		Cmd:        []string{"run", "-config", ConfigPath},
	})
}

// checkWindows refuses a file that is not a windows/amd64 executable.
func checkWindows(exe []byte) error {
	f, err := pe.NewFile(bytes.NewReader(exe))
	if err != nil {
		return fmt.Errorf("not a Windows executable: %w", err)
	}
	defer f.Close()
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		return fmt.Errorf("built for machine %#x, not amd64", f.Machine)
	}
	return nil
}

// usersOwnedSD is a self-relative security descriptor, base64 as the
// MSWINDOWS.rawsd PAX record carries it, whose owner and group are
// BUILTIN\Users (SDDL "O:BUG:BU") and which has no ACLs.
var usersOwnedSD = func() string {
	users := []byte{1, 2, 0, 0, 0, 0, 0, 5}              // revision 1, 2 sub-authorities, NT authority
	users = binary.LittleEndian.AppendUint32(users, 32)  // BUILTIN
	users = binary.LittleEndian.AppendUint32(users, 545) // Users
	const header = 20
	sd := []byte{1, 0}                                   // revision, padding
	sd = binary.LittleEndian.AppendUint16(sd, 0x8000)    // SE_SELF_RELATIVE
	sd = binary.LittleEndian.AppendUint32(sd, header)    // owner
	sd = binary.LittleEndian.AppendUint32(sd, header+16) // group
	sd = binary.LittleEndian.AppendUint32(sd, 0)         // no SACL
	sd = binary.LittleEndian.AppendUint32(sd, 0)         // no DACL
	sd = append(append(sd, users...), users...)
	return base64.StdEncoding.EncodeToString(sd)
}()
