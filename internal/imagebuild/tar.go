package imagebuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tarWriter builds a layer's tar in memory, with fixed times and owner
// root; the first error sticks and layer returns it.
type tarWriter struct {
	buf     bytes.Buffer
	w       *tar.Writer
	modTime time.Time
	err     error
}

func (t *tarWriter) init(modTime time.Time) {
	t.w = tar.NewWriter(&t.buf)
	t.modTime = modTime
}

func (t *tarWriter) dir(name string, mode int64, pax map[string]string) {
	t.header(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: mode, PAXRecords: pax})
}

func (t *tarWriter) file(name string, mode int64, content []byte, pax map[string]string) {
	t.header(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(content)), PAXRecords: pax})
	if t.err == nil {
		_, t.err = t.w.Write(content)
	}
}

func (t *tarWriter) header(h *tar.Header) {
	if t.err != nil {
		return
	}
	h.ModTime, h.Format = t.modTime, tar.FormatPAX
	t.err = t.w.WriteHeader(h)
}

// layer closes the tar and returns it as a gzipped OCI layer, compressed
// at level once here: a layer made from an uncompressed tar is compressed
// again each time its digest or content is asked for.
func (t *tarWriter) layer(level int) (v1.Layer, error) {
	if t.err == nil {
		t.err = t.w.Close()
	}
	if t.err != nil {
		return nil, t.err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, level)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(t.buf.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	b := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
