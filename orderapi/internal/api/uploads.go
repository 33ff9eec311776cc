package api

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/upload"
	"github.com/friendspizzahut/platform/shared/apperr"
)

// uploadBodyLimit caps the body of /api/v1/upload/* instead of
// MaxBodyBytes: a 5 MiB image, base64-encoded (4/3) plus the multipart or
// JSON around it.
const uploadBodyLimit = 8 << 20

// uploadPrefix is where uploaded images are served back: outside /api/v1,
// so showing the menu's images does not count against the API rate limit.
const uploadPrefix = "/uploads/"

// uploadKind is one POST /upload/* route of the original: the Cloudinary
// folder it used (now the name's prefix), its success message and whether
// it answered the long form {url, publicId, format, width, height}.
type uploadKind struct {
	folder  string // "" means: from the form's type field
	message string
	long    bool
}

// uploadFolders are the original's upload types (cloudinaryFolders.js).
var uploadFolders = map[string]string{
	"product": "products", "avatar": "avatars", "document": "documents", "banner": "banners",
	"store": "stores", "category": "categories", "offer": "offers", "general": "general",
}

func folderOf(typ string) string {
	if f, ok := uploadFolders[typ]; ok {
		return f
	}
	return "general"
}

var errNoUploads = apperr.New(apperr.Unavailable, "Image uploads are not configured on this server")

// handleUpload: POST /upload/{image,product-image,avatar,document-image,
// banner} (multipart/form-data, file field "image"; /image also reads the
// "type" field). 200 {success, message, data: {url, publicId}}.
func handleUpload(store upload.Storage, org origin, k uploadKind) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if store == nil {
			return errNoUploads
		}
		data, typ, err := readMultipartImage(r)
		if err != nil {
			return err
		}
		folder := k.folder
		if folder == "" {
			folder = folderOf(typ)
		}
		return saveImage(w, r, store, org, folder, data, k.message, k.long)
	}
}

// handleUploadBase64: POST /upload/base64-image {image: "data:image/...;base64,...", type?}.
func handleUploadBase64(store upload.Storage, org origin) apiFunc {
	type input struct {
		Image string `json:"image"`
		Type  string `json:"type"`
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		if store == nil {
			return errNoUploads
		}
		in, err := decode[input](r)
		if err != nil {
			return err
		}
		if in.Image == "" {
			return apperr.Invalidf("No base64 image data provided")
		}
		head, b64, ok := strings.Cut(in.Image, ",")
		if !strings.HasPrefix(in.Image, "data:image/") || !ok || !strings.HasSuffix(head, ";base64") {
			return apperr.Invalidf("Invalid base64 image format")
		}
		if base64.StdEncoding.DecodedLen(len(b64)) > upload.MaxBytes+3 {
			return errTooLarge
		}
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return apperr.Invalidf("Invalid base64 image format")
		}
		return saveImage(w, r, store, org, folderOf(in.Type), data, "Image uploaded successfully", false)
	}
}

var errTooLarge = apperr.Invalidf("File too large. The maximum size is 5 MB.")

// readMultipartImage streams the form: the "image" file (at most
// upload.MaxBytes) and the optional "type" field. Other parts are skipped.
func readMultipartImage(r *http.Request) (data []byte, typ string, err error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return nil, "", apperr.Invalidf("No image file provided")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", apperr.Invalidf("No image file provided")
	}
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", bodyError(err, "Malformed multipart body")
		}
		if parts > 20 {
			return nil, "", apperr.Invalidf("Too many form fields")
		}
		switch p.FormName() {
		case "image":
			if data != nil {
				return nil, "", apperr.Invalidf("Send one image per request")
			}
			data, err = io.ReadAll(io.LimitReader(p, upload.MaxBytes+1))
			if err != nil {
				return nil, "", bodyError(err, "Could not read the image")
			}
			if len(data) > upload.MaxBytes {
				return nil, "", errTooLarge
			}
		case "type":
			v, err := io.ReadAll(io.LimitReader(p, 64))
			if err != nil {
				return nil, "", bodyError(err, "Malformed multipart body")
			}
			typ = string(v)
		}
	}
	if len(data) == 0 {
		return nil, "", apperr.Invalidf("No image file provided")
	}
	return data, typ, nil
}

// bodyError reports a body that was cut off by the size limit as too large.
func bodyError(err error, msg string) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	return apperr.Invalidf("%s", msg)
}

// saveImage checks the bytes, stores them and answers with the image's URL.
func saveImage(w http.ResponseWriter, r *http.Request, store upload.Storage, org origin, folder string, data []byte, message string, long bool) error {
	im, err := upload.Check(data)
	if err != nil {
		return apperr.Invalidf("%s", err.Error())
	}
	publicID := folder + "-" + primitive.NewObjectID().Hex()
	name := publicID + "." + im.Format
	if err := store.Put(r.Context(), name, data); err != nil {
		return err
	}
	out := map[string]any{"url": org.base(r) + uploadPrefix + name, "publicId": publicID}
	if long {
		out["format"], out["width"], out["height"] = im.Format, im.Width, im.Height
	}
	respondNoCode(w, http.StatusOK, message, out)
	return nil
}

// origin says where uploaded images are served from: public (PUBLIC_URL)
// when configured, else the origin the client reached, taken from the
// front proxy's X-Forwarded-Proto/-Host when trust (RATE_LIMIT_TRUST_PROXY)
// believes the peer, else from this request.
type origin struct {
	public string
	trust  string
}

func (o origin) base(r *http.Request) string {
	if o.public != "" {
		return strings.TrimRight(o.public, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if fromTrustedProxy(r, o.trust) {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			scheme = p
		}
		if h := r.Header.Get("X-Forwarded-Host"); h != "" && !strings.ContainsAny(h, "/\\ @,") {
			host = h
		}
	}
	return scheme + "://" + host
}

// handleDeleteUpload: DELETE /upload/image/:publicId (A).
func handleDeleteUpload(store upload.Storage) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if store == nil {
			return errNoUploads
		}
		id := urlParam(r, "publicId")
		for _, f := range []string{"jpg", "png", "gif", "webp"} {
			name := strings.TrimSuffix(id, "."+f) + "." + f
			if !upload.ValidName(name) {
				continue
			}
			err := store.Delete(r.Context(), name)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			respondNoCode(w, http.StatusOK, "Image deleted successfully", map[string]any{"result": "ok"})
			return nil
		}
		return apperr.NotFoundf("Image not found")
	}
}

// handleServeUpload: GET /uploads/:name (P). Stored names are unique, so
// responses are cacheable forever; nosniff and a closed CSP make sure the
// bytes are only ever treated as the image type checked at upload.
func handleServeUpload(store upload.Storage) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := urlParam(r, "name")
		if store == nil || !upload.ValidName(name) {
			return apperr.NotFoundf("Image not found")
		}
		f, mod, err := store.Open(r.Context(), name)
		if errors.Is(err, os.ErrNotExist) {
			return apperr.NotFoundf("Image not found")
		}
		if err != nil {
			return err
		}
		defer f.Close()
		h := w.Header()
		h.Set("Content-Type", upload.ContentTypeOf(name))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeContent(w, r, name, mod, f)
		return nil
	}
}
