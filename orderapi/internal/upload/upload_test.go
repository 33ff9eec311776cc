package upload

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"testing"
)

func encoded(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webpLossless is the header of a 3×2 lossless WebP (VP8L).
func webpLossless() []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f")
	v := uint32(3-1) | uint32(2-1)<<14
	b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	return append(b, make([]byte, 16)...)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	huge := encoded(t, "png", 1, 1)
	// Patch the IHDR width to 20000 (bytes 16..19), so that the header announces a huge image.
	huge = append([]byte{}, huge...)
	huge[16], huge[17], huge[18], huge[19] = 0, 0, 0x4e, 0x20
	binary.BigEndian.PutUint32(huge[29:33], crc32.ChecksumIEEE(huge[12:29])) // a valid IHDR chunk
	if cfg, err := png.DecodeConfig(bytes.NewReader(huge)); err != nil || cfg.Width != 20000 {
		t.Fatalf("patched PNG: got %+v, %v; want a header of width 20000", cfg, err)
	}
	for _, c := range []struct {
		name       string
		data       []byte
		wantFormat string
		w, h       int
	}{
		{"png", encoded(t, "png", 4, 3), "png", 4, 3},
		{"jpeg", encoded(t, "jpg", 5, 2), "jpg", 5, 2},
		{"gif", encoded(t, "gif", 2, 2), "gif", 2, 2},
		{"webp", webpLossless(), "webp", 3, 2},
		{"text", []byte("just some words, not a picture"), "", 0, 0},
		{"html", []byte("<!DOCTYPE html><script>alert(1)</script>"), "", 0, 0},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), "", 0, 0},
		{"truncated png", encoded(t, "png", 4, 3)[:20], "", 0, 0},
		{"announces 20000 px", huge, "", 0, 0},
		{"empty", nil, "", 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			im, err := Check(c.data)
			if c.wantFormat == "" {
				if !errors.Is(err, ErrNotImage) {
					t.Fatalf("got %+v, %v; want ErrNotImage", im, err)
				}
				return
			}
			if err != nil || im.Format != c.wantFormat || im.Width != c.w || im.Height != c.h {
				t.Fatalf("got %+v, %v; want %s %d×%d", im, err, c.wantFormat, c.w, c.h)
			}
		})
	}
}

func TestDir(t *testing.T) {
	t.Parallel()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name := "products-0123456789abcdef01234567.png"
	if err := d.Put(ctx, name, []byte("img")); err != nil {
		t.Fatal(err)
	}
	f, _, err := d.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != "img" {
		t.Fatalf("got %q", got)
	}
	for _, bad := range []string{"../products-0123456789abcdef01234567.png", "x.png", "products-0123456789abcdef01234567.html", ""} {
		if _, _, err := d.Open(ctx, bad); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Open(%q): got %v, want not found", bad, err)
		}
		if err := d.Put(ctx, bad, nil); err == nil {
			t.Errorf("Put(%q) succeeded", bad)
		}
	}
	if err := d.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Open(ctx, name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Delete: got %v", err)
	}
}
