// Package upload checks and keeps uploaded images (POST /api/v1/upload/*).
//
// Images are judged by their bytes, never by the file name or the client's
// Content-Type: the first bytes must be JPEG, PNG, GIF or WebP, the header
// must decode, and the size and dimensions are bounded. They are stored
// behind Storage; Dir keeps them on disk. (GridFS on FerretDB v1 would work,
// but FerretDB scans the whole chunks collection for every read, so each
// image served would cost a scan of all images.)
package upload

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registers the decoders DecodeConfig uses
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// MaxBytes is the largest image accepted (the original's multer limit).
const MaxBytes = 5 << 20

// MaxSide bounds an image's width and height, so that a small file cannot
// announce a picture that takes gigabytes to decode.
const MaxSide = 10000

// Image is an accepted upload.
type Image struct {
	ContentType   string // image/jpeg, image/png, image/gif, image/webp
	Format        string // jpg, png, gif, webp (Cloudinary's format names)
	Width, Height int
}

// ErrNotImage is returned by Check for anything but a well-formed image of
// an accepted type.
var ErrNotImage = errors.New("Invalid file type. Only JPEG, PNG, GIF, and WebP are allowed.")

// Check sniffs data and returns what image it is, or ErrNotImage.
func Check(data []byte) (Image, error) {
	ct := http.DetectContentType(data)
	var im Image
	switch ct {
	case "image/jpeg":
		im = Image{ContentType: ct, Format: "jpg"}
	case "image/png":
		im = Image{ContentType: ct, Format: "png"}
	case "image/gif":
		im = Image{ContentType: ct, Format: "gif"}
	case "image/webp":
		im = Image{ContentType: ct, Format: "webp"}
		w, h, ok := webpSize(data)
		if !ok {
			return Image{}, ErrNotImage
		}
		im.Width, im.Height = w, h
	default:
		return Image{}, ErrNotImage
	}
	if im.Format != "webp" {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return Image{}, ErrNotImage
		}
		im.Width, im.Height = cfg.Width, cfg.Height
	}
	if im.Width <= 0 || im.Height <= 0 || im.Width > MaxSide || im.Height > MaxSide {
		return Image{}, ErrNotImage
	}
	return im, nil
}

// webpSize reads the canvas size of a WebP file (lossy, lossless or
// extended), which the standard library cannot decode.
func webpSize(b []byte) (int, int, bool) {
	if len(b) < 30 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return 0, 0, false
	}
	switch string(b[12:16]) {
	case "VP8 ":
		if b[23] != 0x9d || b[24] != 0x01 || b[25] != 0x2a {
			return 0, 0, false
		}
		return int(binary.LittleEndian.Uint16(b[26:28]) & 0x3fff), int(binary.LittleEndian.Uint16(b[28:30]) & 0x3fff), true
	case "VP8L":
		if b[20] != 0x2f {
			return 0, 0, false
		}
		v := binary.LittleEndian.Uint32(b[21:25])
		return int(v&0x3fff) + 1, int((v>>14)&0x3fff) + 1, true
	case "VP8X":
		w := int(b[24]) | int(b[25])<<8 | int(b[26])<<16
		h := int(b[27]) | int(b[28])<<8 | int(b[29])<<16
		return w + 1, h + 1, true
	}
	return 0, 0, false
}

// Storage keeps images by name. Names are made by the caller and checked
// with ValidName.
type Storage interface {
	Put(ctx context.Context, name string, data []byte) error
	// Open returns the image for reading; an unknown name gives
	// os.ErrNotExist.
	Open(ctx context.Context, name string) (io.ReadSeekCloser, time.Time, error)
	// Delete removes an image; an unknown name gives os.ErrNotExist.
	Delete(ctx context.Context, name string) error
}

var validName = regexp.MustCompile(`^[a-z]+-[0-9a-f]{24}\.(jpg|png|gif|webp)$`)

// ValidName reports whether name is one Storage accepts: folder-<24 hex>.ext.
func ValidName(name string) bool { return validName.MatchString(name) }

// ContentTypeOf returns the Content-Type of a stored name's extension.
func ContentTypeOf(name string) string {
	switch filepath.Ext(name) {
	case ".jpg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	}
	return "application/octet-stream"
}

// Dir stores images as files in one directory.
type Dir struct{ path string }

var _ Storage = (*Dir)(nil)

// NewDir returns a Dir over path, creating it if needed.
func NewDir(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, fmt.Errorf("upload directory: %w", err)
	}
	return &Dir{path: path}, nil
}

func (d *Dir) file(name string) (string, error) {
	if !ValidName(name) {
		return "", os.ErrNotExist
	}
	return filepath.Join(d.path, name), nil
}

// Put writes the image atomically (temporary file, then rename), so a
// reader never sees half an image.
func (d *Dir) Put(_ context.Context, name string, data []byte) error {
	p, err := d.file(name)
	if err != nil {
		return fmt.Errorf("invalid image name %q", name)
	}
	tmp, err := os.CreateTemp(d.path, ".upload-*")
	if err != nil {
		return fmt.Errorf("store image: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this finds nothing
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("store image: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store image: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return fmt.Errorf("store image: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("store image: %w", err)
	}
	return nil
}

// Open opens a stored image.
func (d *Dir) Open(_ context.Context, name string) (io.ReadSeekCloser, time.Time, error) {
	p, err := d.file(name)
	if err != nil {
		return nil, time.Time{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, time.Time{}, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, time.Time{}, err
	}
	return f, st.ModTime(), nil
}

// Delete removes a stored image.
func (d *Dir) Delete(_ context.Context, name string) error {
	p, err := d.file(name)
	if err != nil {
		return err
	}
	return os.Remove(p)
}
