// Package glob decides which log files sluice reads: it matches paths against
// include and exclude patterns and expands include patterns on the
// filesystem. Windows and Unix rules are picked by a Flavor value, not by the
// build, so the Windows rules are tested on Linux too; Native is the running
// system's.
//
// Syntax, in both flavours:
//
//	syntax  matches
//	*       any run of characters within one path element
//	?       one character (a rune) within an element
//	[abc]   one of a, b, c; [a-z] a range; [!a] or [^a] anything but a;
//	        a ']' first in the class is a member
//	{a,b}   either alternative; alternatives nest and may hold wildcards,
//	        as in *.{log,txt}
//	**      as a whole element: zero or more elements
//
// There is no escape character, since "\" is a Windows separator: write a
// literal '*', '?', '[' or '{' as a class such as [*]. Classes and
// alternatives cannot span a separator. "." and ".." are resolved lexically,
// as filepath.Clean does, in patterns and paths alike. A relative pattern
// (no root, no volume) matches the trailing elements of any path, so the
// exclude "*.log.*" drops kubelet's rotated 0.log.20261126-005407 wherever
// it is.
//
// The Windows flavour compares names case-insensitively with Unicode simple
// case folding (strings.EqualFold, rune by rune; classes too), takes "\" and
// "/" as separators, compares drive letters without case, and reads the
// \\?\ prefix (also \\.\ and \??\) as the plain path it stands for:
// \\?\C:\x is C:\x and \\?\UNC\server\share\x is \\server\share\x, in
// patterns and paths, whatever their length. A pattern rooted without a
// drive (\var\log\...) matches that path on any drive. The Unix flavour is
// case-sensitive, "/" is its only separator and "\" an ordinary character.
//
// Guarantees: compiled patterns and sets are immutable and safe for
// concurrent use; Pattern.Match does not allocate (unless the path has a ".."
// to resolve) and never recurses, so no pattern can exhaust the stack; every
// path Set.Expand returns satisfies Set.Match, because the walk uses the same
// element matching.
//
// Known limitations: the volume part (drive, UNC server and share) is
// literal, never a wildcard. Windows' own name rules beyond case are not
// applied: trailing dots and spaces are significant, and 8.3 short names
// (PROGRA~1) do not match their long names. Case folding is Unicode simple
// folding, which is close to, but not exactly, NTFS's upcase table.
package glob
