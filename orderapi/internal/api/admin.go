package api

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/friendspizzahut/platform/shared/apperr"
)

// handleAdmin serves the admin dashboard's static files from dir at /admin.
// /admin redirects to /admin/ (the page loads its assets by relative URLs),
// /admin/ gets index.html, and so does any extension-less path
// that is not a file (the dashboard routes on the client). With no dir, or
// a dir that does not exist, /admin answers a JSON 404 that says why.
func handleAdmin(dir string) http.Handler {
	missing := apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		return apperr.NotFoundf("Admin dashboard is not installed on this server (ADMIN_DIR is not set or does not exist)")
	})
	if dir == "" {
		return missing
	}
	files := http.FileServer(http.Dir(dir))
	index := filepath.Join(dir, "index.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			missing.ServeHTTP(w, r) // checked per request: the dashboard may be built after start
			return
		}
		if r.URL.Path == "/admin" {
			target := "/admin/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/admin"), "/")
		clean := path.Clean("/" + rel)
		if clean == "/" || clean == "/index.html" {
			http.ServeFile(w, r, index)
			return
		}
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(clean))); err == nil && !st.IsDir() {
			r2 := r.Clone(r.Context())
			r2.URL.Path = clean
			files.ServeHTTP(w, r2)
			return
		}
		if path.Ext(clean) == "" {
			http.ServeFile(w, r, index)
			return
		}
		writeError(w, r, apperr.NotFoundf("File %s not found", r.URL.Path))
	})
}
