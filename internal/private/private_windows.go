package private

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Dir creates path with an explicit, protected ACL: full control for
// SYSTEM, BUILTIN\Administrators and the account sluice runs as (when it is
// neither, as with a HostProcess pod run as NT AUTHORITY\LocalService),
// inherited by everything created below it. A folder that exists must have
// an owner and DACL no weaker than that, or Dir returns a *WeakError with
// the icacls commands that fix it. It never changes anything, so it
// returns no paths.
//
// Windows: refuse rather than rewrite, because the ACL of an existing
// folder may hold entries an operator added on purpose (a backup agent's
// account), and replacing it must also reset what its children inherited,
// which icacls does visibly and sluice should not do behind the operator's
// back. A folder created by an earlier sluice inherited C:\ProgramData's
// ACL, which lets BUILTIN\Users read; those nodes need the fix once.
func Dir(path string) ([]string, error) {
	self, err := processUser()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create folder %s: %w", filepath.Dir(path), err)
	}
	created, err := create(path, self)
	if err != nil || created {
		return nil, err
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("check folder %s: not a folder (%v)", path, err)
	}
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return nil, fmt.Errorf("read the owner and ACL of %s: %w", path, err)
	}
	return nil, check(path, sd, self)
}

// processUser is the account sluice runs as.
func processUser() (*windows.SID, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("find the account sluice runs as: %w", err)
	}
	return u.User.Sid.Copy()
}

// builtin reports whether sid is SYSTEM or BUILTIN\Administrators, who
// control the machine anyway.
func builtin(sid *windows.SID) bool {
	return sid.IsWellKnown(windows.WinLocalSystemSid) || sid.IsWellKnown(windows.WinBuiltinAdministratorsSid)
}

// trusted reports whether sid may own the folder or be allowed into it.
func trusted(sid, self *windows.SID) bool { return builtin(sid) || sid.Equals(self) }

// descriptor is the DACL of a folder Dir creates, in SDDL: protected (P),
// so nothing is inherited from above, and inherited by files (OI) and
// folders (CI) below.
func descriptor(self *windows.SID) string {
	s := "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
	if !builtin(self) {
		s += "(A;OICI;FA;;;" + self.String() + ")"
	}
	return s
}

// create makes path with descriptor's DACL; false when it exists already.
func create(path string, self *windows.SID) (bool, error) {
	sd, err := windows.SecurityDescriptorFromString(descriptor(self))
	if err != nil {
		return false, fmt.Errorf("build the ACL for %s: %w", path, err)
	}
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return false, fmt.Errorf("create folder %s: %w", path, err)
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	err = windows.CreateDirectory(p, sa)
	if errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create folder %s: %w", path, err)
	}
	return true, nil
}

// DACL entry types that only take access away.
var denyTypes = []uint8{windows.ACCESS_DENIED_ACE_TYPE, 6, 10, 12} // plain, object, callback, callback object

// check returns a *WeakError when sd lets anyone but SYSTEM,
// Administrators and self own or into the folder at path. Inherit-only
// entries count: they reach every file created later.
func check(path string, sd *windows.SECURITY_DESCRIPTOR, self *windows.SID) error {
	var reasons, remove []string
	owner, _, err := sd.Owner()
	badOwner := err != nil || owner == nil || !trusted(owner, self)
	if badOwner {
		reasons = append(reasons, "it is owned by "+account(owner))
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		reasons = append(reasons, "it has no DACL, which lets everyone in")
	} else {
		for i := range uint32(dacl.AceCount) {
			var ace *windows.ACCESS_ALLOWED_ACE
			if err := windows.GetAce(dacl, i, &ace); err != nil {
				return fmt.Errorf("read entry %d of the ACL of %s: %w", i, path, err)
			}
			switch t := ace.Header.AceType; {
			case slices.Contains(denyTypes, t) || ace.Mask == 0:
			case t != windows.ACCESS_ALLOWED_ACE_TYPE:
				reasons = append(reasons, fmt.Sprintf("it has an allowing entry of type %d, whose account sluice does not check", t))
			default:
				sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
				if !trusted(sid, self) {
					reasons = append(reasons, fmt.Sprintf("%s is allowed in (access mask %#x)", account(sid), ace.Mask))
					if s := "*" + sid.String(); !slices.Contains(remove, s) {
						remove = append(remove, s)
					}
				}
			}
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	return &WeakError{Path: path, Reason: strings.Join(reasons, "; "), Fix: fix(path, self, badOwner, remove)}
}

// fix is the icacls commands that make path private: an owner of
// Administrators, the DACL Dir would have created (protected, the weak
// entries removed), and the files and folders below reset to inherit it.
func fix(path string, self *windows.SID, owner bool, remove []string) string {
	var lines []string
	if owner {
		lines = append(lines, fmt.Sprintf(`icacls "%s" /setowner *S-1-5-32-544 /T /C /Q`, path))
	}
	grant := `/grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F`
	if !builtin(self) {
		grant += fmt.Sprintf(" *%s:(OI)(CI)F", self)
	}
	acl := fmt.Sprintf(`icacls "%s" /inheritance:r %s`, path, grant)
	if len(remove) > 0 {
		acl += " /remove:g " + strings.Join(remove, " ")
	}
	lines = append(lines, acl, fmt.Sprintf(`icacls "%s\*" /reset /T /C /Q`, path))
	return strings.Join(lines, "\n")
}

// account names sid for a message: DOMAIN\name (SID), or the SID alone.
func account(sid *windows.SID) string {
	if sid == nil {
		return "nobody"
	}
	name, domain, _, err := sid.LookupAccount("")
	switch {
	case err != nil:
		return sid.String()
	case domain == "":
		return fmt.Sprintf("%s (%s)", name, sid)
	default:
		return fmt.Sprintf(`%s\%s (%s)`, domain, name, sid)
	}
}
