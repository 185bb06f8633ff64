package loggen

import (
	"fmt"
	"os"
	"path/filepath"
)

// Container names one container's log as kubelet lays it out.
type Container struct {
	Namespace, Pod, UID, Name string
	ID                        string // the runtime's container id: 64 hex digits
}

// Demo is container i of the demo layout: pod web-<i> in namespace demo,
// container app, with made-up uid and id.
func Demo(i int) Container {
	return Container{
		Namespace: "demo", Pod: fmt.Sprintf("web-%d", i), Name: "app",
		UID: fmt.Sprintf("0000000%d-1111-2222-3333-444444444444", i),
		ID:  fmt.Sprintf("%064d", i),
	}
}

// Dir is the container's folder under root: pods/<ns>_<pod>_<uid>/<name>.
func (c Container) Dir(root string) string {
	return filepath.Join(root, "pods", c.Namespace+"_"+c.Pod+"_"+c.UID, c.Name)
}

// Link is the containers/<pod>_<ns>_<name>-<id>.log symlink under root.
func (c Container) Link(root string) string {
	return filepath.Join(root, "containers", c.Pod+"_"+c.Namespace+"_"+c.Name+"-"+c.ID+".log")
}

// Create makes the container's empty 0.log under root and the symlink to
// it, as kubelet does, and returns the 0.log's path.
func (c Container) Create(root string) (string, error) {
	dir := c.Dir(root)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "0.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return "", err
	}
	link := c.Link(root)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return "", err
	}
	if err := os.Symlink(path, link); err != nil && !os.IsExist(err) {
		return "", fmt.Errorf("symlink %s: %w", link, err)
	}
	return path, nil
}
