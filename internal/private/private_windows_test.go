package private

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/sluicelog/sluice/internal/testdir"
)

// wineNoSD is why parts of these tests skip under Wine.
const wineNoSD = "Wine does not store security descriptors on files: it derives a file's owner and DACL from its Unix uid and mode " +
	"(server/file.c mode_to_sd: SYSTEM, the owner and Everyone only), maps a DACL it is given onto the mode (sd_to_mode) and ignores " +
	"owner changes (file_set_sd: \"FIXME: get Unix uid and call fchown\"), so "

func sid(t *testing.T, s string) *windows.SID {
	t.Helper()
	id, err := windows.StringToSid(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCheck runs the ACL check on descriptors parsed from SDDL, which Wine
// implements: what sluice accepts and what it refuses, and the fix it
// proposes. self is NT AUTHORITY\LocalService, as a HostProcess pod may run.
func TestCheck(t *testing.T) {
	self := sid(t, "S-1-5-19")
	rows := []struct {
		name, sddl string
		edit       func(t *testing.T, sd *windows.SECURITY_DESCRIPTOR) *windows.SECURITY_DESCRIPTOR // what SDDL cannot say (under Wine)
		weak       []string                                                                         // in the reason
		fix        []string                                                                         // in the fix
	}{
		{name: "what Dir creates", sddl: "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;S-1-5-19)"},
		{name: "owned by SYSTEM", sddl: "O:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"},
		{name: "owned by the account sluice runs as", sddl: "O:S-1-5-19D:P(A;OICI;FA;;;S-1-5-19)"},
		{name: "inherited entries of SYSTEM and Administrators", sddl: "O:BAD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)"},
		{name: "deny entries take away only", sddl: "O:BAD:P(D;OICI;FA;;;WD)(D;OICI;FA;;;BU)(A;OICI;FA;;;SY)"},
		{
			name: "Users may read", sddl: "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)",
			weak: []string{"S-1-5-32-545"}, fix: []string{"/remove:g *S-1-5-32-545", "/inheritance:r", "/reset"},
		},
		{
			name: "Everyone and Authenticated Users", sddl: "O:BAD:P(A;OICI;FA;;;SY)(A;;FR;;;WD)(A;OICI;FA;;;AU)",
			weak: []string{"S-1-1-0", "S-1-5-11"}, fix: []string{"*S-1-1-0 *S-1-5-11"},
		},
		{
			name: "Users may create files below (inherit only)", sddl: "O:BAD:P(A;OICI;FA;;;SY)(A;OICIIO;FA;;;BU)",
			weak: []string{"S-1-5-32-545"},
		},
		{
			name: "C:\\ProgramData's ACL, inherited", sddl: "O:SYD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)",
			weak: []string{"S-1-3-0", "S-1-5-32-545"}, fix: []string{"/remove:g *S-1-3-0 *S-1-5-32-545"},
		},
		{
			name: "owned by Users", sddl: "O:BUD:P(A;OICI;FA;;;SY)",
			weak: []string{"owned by", "S-1-5-32-545"}, fix: []string{"/setowner *S-1-5-32-544"},
		},
		{name: "empty DACL: nobody in", sddl: "O:BAD:P"},
		{name: "no DACL: everyone in", sddl: "O:BAD:P", edit: nullDACL, weak: []string{"no DACL"}},
		{
			// An ACCESS_ALLOWED_CALLBACK_ACE starts as an ACCESS_ALLOWED_ACE
			// does; Wine's SDDL parser reads no callback or object entries.
			name: "callback entry", sddl: "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", edit: callbackEntry,
			weak: []string{"type 9"},
		},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			sd, err := windows.SecurityDescriptorFromString(row.sddl)
			if err != nil {
				t.Fatal(err)
			}
			if row.edit != nil {
				sd = row.edit(t, sd)
			}
			err = check(`C:\ProgramData\sluice`, sd, self)
			var weak *WeakError
			if len(row.weak) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &weak) {
				t.Fatalf("check = %v, want a *WeakError", err)
			}
			t.Log(err)
			for _, w := range row.weak {
				if !strings.Contains(weak.Reason, w) {
					t.Errorf("reason %q does not name %q", weak.Reason, w)
				}
			}
			for _, f := range append(row.fix, `icacls "C:\ProgramData\sluice"`, "*S-1-5-19:(OI)(CI)F") {
				if !strings.Contains(weak.Fix, f) {
					t.Errorf("fix %q does not contain %q", weak.Fix, f)
				}
			}
		})
	}
}

// nullDACL gives sd a DACL that is present but NULL: no access check.
func nullDACL(t *testing.T, sd *windows.SECURITY_DESCRIPTOR) *windows.SECURITY_DESCRIPTOR {
	abs, err := sd.ToAbsolute()
	if err != nil {
		t.Fatal(err)
	}
	if err := abs.SetDACL(nil, true, false); err != nil {
		t.Fatal(err)
	}
	return abs
}

// callbackEntry turns sd's second DACL entry into an
// ACCESS_ALLOWED_CALLBACK_ACE (type 9) for the same account.
func callbackEntry(t *testing.T, sd *windows.SECURITY_DESCRIPTOR) *windows.SECURITY_DESCRIPTOR {
	dacl, _, err := sd.DACL()
	if err != nil {
		t.Fatal(err)
	}
	var ace *windows.ACCESS_ALLOWED_ACE
	if err := windows.GetAce(dacl, 1, &ace); err != nil {
		t.Fatal(err)
	}
	ace.Header.AceType = 9
	return sd
}

// readSD reads path's owner and DACL.
func readSD(t *testing.T, path string) *windows.SECURITY_DESCRIPTOR {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

// allowed lists the SIDs path's DACL allows in.
func allowed(t *testing.T, path string) []string {
	t.Helper()
	dacl, _, err := readSD(t, path).DACL()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range uint32(dacl.AceCount) {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			t.Fatal(err)
		}
		if ace.Header.AceType == windows.ACCESS_ALLOWED_ACE_TYPE {
			out = append(out, (*windows.SID)(unsafe.Pointer(&ace.SidStart)).String())
		}
	}
	return out
}

// TestDirCreatesAPrivateFolder: a missing data_dir (and the folders above
// it) is created, and what the platform reports of its ACL passes the
// check, so a fresh node just works. Where the ACL is stored (Windows), it
// is exactly SYSTEM and Administrators, protected, and inherited by files.
func TestDirCreatesAPrivateFolder(t *testing.T) {
	path := filepath.Join(testdir.New(t), "ProgramData", "sluice")
	for range 2 {
		if _, err := Dir(path); err != nil {
			t.Fatalf("Dir: %v", err)
		}
	}
	got := allowed(t, path)
	t.Logf("allowed in: %v", got)
	for _, s := range got {
		if s == "S-1-1-0" || s == "S-1-5-32-545" || s == "S-1-5-11" {
			t.Fatalf("%s is allowed into the new folder: %v", s, got)
		}
	}
	sd := readSD(t, path)
	control, _, err := sd.Control()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(got, " "), "S-1-5-32-544") || control&windows.SE_DACL_PROTECTED == 0 {
		t.Skip(wineNoSD + "the Administrators entry, the protected flag and inheritance by new files cannot be checked (read back: " + sd.String() + ")")
	}
	file := filepath.Join(path, "files.json")
	if err := os.WriteFile(file, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	self, err := processUser()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range allowed(t, file) {
		if !trusted(sid(t, s), self) {
			t.Fatalf("a new file in the folder lets %s in: %s", s, readSD(t, file).String())
		}
	}
}

// TestDirRefusesAWeakFolder: an existing folder whose DACL lets others in
// is refused with the fix, as far as the platform can store such a DACL.
func TestDirRefusesAWeakFolder(t *testing.T) {
	rows := []struct{ name, who string }{
		{"Everyone may read", "WD"},
		{"Users may read", "BU"},
		{"Authenticated Users may change", "AU"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			path := filepath.Join(testdir.New(t), "sluice")
			if _, err := Dir(path); err != nil {
				t.Fatal(err)
			}
			weakSD, err := windows.SecurityDescriptorFromString("D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;" + row.who + ")")
			if err != nil {
				t.Fatal(err)
			}
			dacl, _, err := weakSD.DACL()
			if err != nil {
				t.Fatal(err)
			}
			if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
				windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
				t.Fatal(err)
			}
			who, err := windows.StringToSid(map[string]string{"WD": "S-1-1-0", "BU": "S-1-5-32-545", "AU": "S-1-5-11"}[row.who])
			if err != nil {
				t.Fatal(err)
			}
			if got := allowed(t, path); !strings.Contains(strings.Join(got, " "), who.String()) {
				t.Skip(wineNoSD + "an entry for " + who.String() + " cannot be stored (read back: " + readSD(t, path).String() + ")")
			}
			_, err = Dir(path)
			var weak *WeakError
			if !errors.As(err, &weak) || !strings.Contains(weak.Fix, "/remove:g *"+who.String()) {
				t.Fatalf("Dir of a folder that lets %s in: %v, want a *WeakError that removes it", who, err)
			}
			t.Log(err)
		})
	}
}

// TestDirRefusesAForeignOwner: a folder owned by an account other than
// SYSTEM, Administrators or sluice's is refused.
func TestDirRefusesAForeignOwner(t *testing.T) {
	path := filepath.Join(testdir.New(t), "sluice")
	if _, err := Dir(path); err != nil {
		t.Fatal(err)
	}
	users, err := windows.CreateWellKnownSid(windows.WinBuiltinUsersSid)
	if err != nil {
		t.Fatal(err)
	}
	err = windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION, users, nil, nil, nil)
	if err != nil {
		t.Skipf("cannot give the folder to BUILTIN\\Users (needs SeRestorePrivilege): %v", err)
	}
	owner, _, err := readSD(t, path).Owner()
	if err != nil || !owner.Equals(users) {
		t.Skip(wineNoSD + "the folder's owner cannot be changed (read back: " + readSD(t, path).String() + ")")
	}
	_, err = Dir(path)
	var weak *WeakError
	if !errors.As(err, &weak) || !strings.Contains(weak.Fix, "/setowner") {
		t.Fatalf("Dir of a folder owned by Users: %v, want a *WeakError that sets the owner", err)
	}
}
