package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FileUse is what sluice does with a file a key names.
type FileUse int

const (
	// ReadFile: sluice reads the file (a secret, a certificate, a
	// kubeconfig); it must exist and be readable.
	ReadFile FileUse = iota
	// AppendFile: sluice creates the file or appends to it; its folder
	// must exist and, for a new file, take new files.
	AppendFile
	// Folder: sluice creates the folder and its parents as needed and
	// writes files in it.
	Folder
)

// FileRef is a path the configuration names, by its key.
type FileRef struct {
	Key  string
	Path string
	Use  FileUse
}

// Files lists the paths the configuration names that are set, in a stable
// order, so `sluice validate` can check each before a node runs it.
func (c *Config) Files() []FileRef {
	var refs []FileRef
	c.eachFile(func(r FileRef, _ *string) { refs = append(refs, r) })
	return refs
}

// MapFiles replaces every path Files lists with what f returns for it, as
// when a path is found under another root (see internal/hostpath).
func (c *Config) MapFiles(f func(FileRef) string) {
	c.eachFile(func(r FileRef, p *string) { *p = f(r) })
}

// eachFile calls visit with every set path the configuration names and
// where it is held, in the order Files documents.
func (c *Config) eachFile(visit func(FileRef, *string)) {
	add := func(key string, path *string, use FileUse) {
		if *path != "" {
			visit(FileRef{Key: key, Path: *path, Use: use}, path)
		}
	}
	add("data_dir", &c.DataDir, Folder)
	add("buffer.path", &c.Buffer.Path, Folder)
	add("kubernetes.kubeconfig", &c.Kubernetes.Kubeconfig, ReadFile)
	if s := c.Outputs.Stdout; s != nil {
		add("outputs.stdout.path", &s.Path, AppendFile)
		add("outputs.stdout.dead_letter.path", &s.DeadLetter.Path, AppendFile)
	}
	if l := c.Outputs.Loki; l != nil {
		if l.BasicAuth != nil {
			add("outputs.loki.basic_auth.password_file", &l.BasicAuth.PasswordFile, ReadFile)
		}
		add("outputs.loki.bearer_token_file", &l.BearerTokenFile, ReadFile)
		add("outputs.loki.tls.ca_file", &l.TLS.CAFile, ReadFile)
		add("outputs.loki.tls.cert_file", &l.TLS.CertFile, ReadFile)
		add("outputs.loki.tls.key_file", &l.TLS.KeyFile, ReadFile)
		add("outputs.loki.dead_letter.path", &l.DeadLetter.Path, AppendFile)
	}
	if e := c.Outputs.Elasticsearch; e != nil {
		if e.BasicAuth != nil {
			add("outputs.elasticsearch.basic_auth.password_file", &e.BasicAuth.PasswordFile, ReadFile)
		}
		add("outputs.elasticsearch.api_key_file", &e.APIKeyFile, ReadFile)
		add("outputs.elasticsearch.bearer_token_file", &e.BearerTokenFile, ReadFile)
		add("outputs.elasticsearch.tls.ca_file", &e.TLS.CAFile, ReadFile)
		add("outputs.elasticsearch.tls.cert_file", &e.TLS.CertFile, ReadFile)
		add("outputs.elasticsearch.tls.key_file", &e.TLS.KeyFile, ReadFile)
		add("outputs.elasticsearch.dead_letter.path", &e.DeadLetter.Path, AppendFile)
	}
}

// Check tries the file as sluice will use it, as the user running the
// check: it reads a byte of a file to be read, and creates (and removes) a
// file where sluice would create one. The note says how it went when it
// went well, such as "ok" or "ok, to be created in /var/lib".
func (r FileRef) Check() (note string, err error) {
	switch r.Use {
	case ReadFile:
		return "ok", readable(r.Path)
	case AppendFile:
		return appendable(r.Path)
	default:
		return creatable(r.Path)
	}
}

func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Read(make([]byte, 1)); err != nil && !errors.Is(err, io.EOF) {
		return err // names the path: a folder, for one, opens but cannot be read
	}
	return nil
}

func appendable(path string) (string, error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return "", fmt.Errorf("%s: is a folder, not a file", path)
	case err == nil:
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return "", err
		}
		return "ok", f.Close()
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	dir := filepath.Dir(path)
	if err := takesFiles(dir); err != nil {
		return "", err
	}
	return "ok, to be created in " + dir, nil
}

// creatable checks a folder sluice creates with its parents: the folder if
// it exists, else the nearest existing parent, must take new files.
func creatable(path string) (string, error) {
	dir := path
	for {
		fi, err := os.Stat(dir)
		if err == nil && !fi.IsDir() {
			return "", fmt.Errorf("%s: is a file, not a folder", dir)
		}
		if err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, fs.ErrNotExist) || parent == dir {
			return "", err
		}
		dir = parent
	}
	if err := takesFiles(dir); err != nil {
		return "", err
	}
	if dir != path {
		return "ok, to be created in " + dir, nil
	}
	return "ok", nil
}

// takesFiles creates and removes a file in dir: permission bits, ACLs, a
// read-only mount and a full inode table all show, which no stat would.
func takesFiles(dir string) error {
	f, err := os.CreateTemp(dir, ".sluice-validate-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // its path is a random name
		}
		return fmt.Errorf("create a file in %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
