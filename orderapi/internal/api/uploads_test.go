package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/friendspizzahut/platform/shared/auth"
)

// pngImage encodes a w×h PNG.
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// postFile sends a multipart form with the file under field (and the extra
// fields) as the app's FormData would.
func (e *env) postFile(path, token, field, filename, contentType string, data []byte, extra map[string]string) resp {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range extra {
		_ = mw.WriteField(k, v)
	}
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{`form-data; name="` + field + `"; filename="` + filename + `"`}
	h["Content-Type"] = []string{contentType}
	part, err := mw.CreatePart(h)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = part.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// TestUploads is the round trip of an image: checked by content, stored,
// served back at its URL, set as a product's image by an admin; bad files
// are refused whatever their name and declared type.
func TestUploads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pizza, _, _ := e.mustMenu()
	_, adminTok := e.mustUser(auth.RoleAdmin)
	_, cTok := e.mustUser(auth.RoleCustomer)
	pic := pngImage(t, 64, 48)

	// Refusals.
	e.postFile("/api/v1/upload/product-image", "", "image", "p.png", "image/png", pic, nil).want(t, 401)
	e.postFile("/api/v1/upload/product-image", cTok, "image", "p.png", "image/png", pic, nil).want(t, 403)
	for _, c := range []struct {
		name, field, filename, ctype string
		data                         []byte
		msg                          string
	}{
		{"text named .png", "image", "menu.png", "image/png", []byte("hello, I am not a picture at all"), "Invalid file type"},
		{"html named .jpg", "image", "x.jpg", "image/jpeg", []byte("<html><script>alert(1)</script></html>"), "Invalid file type"},
		{"png signature, broken header", "image", "x.png", "image/png", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 40)...), "Invalid file type"},
		{"too large", "image", "big.png", "image/png", append(append([]byte{}, pic...), make([]byte, 5<<20)...), "too large"},
		{"wrong field name", "file", "p.png", "image/png", pic, "No image file provided"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.postFile("/api/v1/upload/image", cTok, c.field, c.filename, c.ctype, c.data, nil).want(t, 400).wantMessage(t, c.msg)
		})
	}
	e.do("POST", "/api/v1/upload/image", cTok, map[string]any{"image": "x"}).want(t, 400).wantMessage(t, "No image file provided")

	// The admin uploads a product image (declared octet-stream: the bytes decide).
	r := e.postFile("/api/v1/upload/product-image", adminTok, "image", "photo", "application/octet-stream", pic, nil).want(t, 200)
	if r.body["success"] != true || r.body["message"] != "Product image uploaded successfully" {
		t.Fatalf("upload: got %s", r)
	}
	u, publicID := str(r.data(), "url"), str(r.data(), "publicId")
	if !strings.HasPrefix(u, e.srv.URL+"/uploads/products-") || !strings.HasSuffix(u, ".png") || !strings.HasPrefix(publicID, "products-") {
		t.Fatalf("upload: got url %q publicId %q", u, publicID)
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(got, pic) || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET %s: got %d %s (%d bytes), want the image back", u, res.StatusCode, res.Header, len(got))
	}

	// ... and makes it the product's image.
	e.do("PATCH", "/api/v1/products/"+pizza.Hex(), adminTok, map[string]any{"imageUrl": u}).want(t, 200)
	p := e.do("GET", "/api/v1/products/"+pizza.Hex(), "", nil).want(t, 200)
	if !strings.Contains(string(p.raw), `"imageUrl":"`+u+`"`) {
		t.Fatalf("product after the upload: got %s, want imageUrl %s", p, u)
	}

	// /image answers the long form and files the image by type.
	r = e.postFile("/api/v1/upload/image", cTok, "image", "a.png", "image/png", pic, map[string]string{"type": "avatar"}).want(t, 200)
	if d := r.data(); !strings.HasPrefix(str(d, "publicId"), "avatars-") || d["format"] != "png" || num(d, "width") != 64 || num(d, "height") != 48 {
		t.Errorf("image: got %s", r)
	}
	// The base64 route of the original.
	r = e.do("POST", "/api/v1/upload/base64-image", cTok, map[string]any{"image": "data:image/png;base64," + base64.StdEncoding.EncodeToString(pic)}).want(t, 200)
	if !strings.HasPrefix(str(r.data(), "publicId"), "general-") {
		t.Errorf("base64: got %s", r)
	}
	e.do("POST", "/api/v1/upload/base64-image", cTok, map[string]any{"image": "data:text/html;base64,PGh0bWw+"}).want(t, 400)
	e.do("POST", "/api/v1/upload/base64-image", cTok, map[string]any{"image": "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("not a png"))}).want(t, 400).wantMessage(t, "Invalid file type")

	// Deleting is for admins; then the URL is gone.
	e.do("DELETE", "/api/v1/upload/image/"+publicID, cTok, nil).want(t, 403)
	e.do("DELETE", "/api/v1/upload/image/"+publicID, adminTok, nil).want(t, 200)
	e.do("DELETE", "/api/v1/upload/image/"+publicID, adminTok, nil).want(t, 404)
	e.do("GET", strings.TrimPrefix(u, e.srv.URL), "", nil).want(t, 404)
	e.do("GET", "/uploads/..%2f..%2fetc%2fpasswd", "", nil).want(t, 404)
}
