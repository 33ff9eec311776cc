package compose

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/infra"
	"github.com/friendspizzahut/platform/test/jsclient"
)

// TestNginxInFrontOfTheStack runs the real nginx with deploy/nginx.conf
// (upstream addresses rewritten to a harness stack, since there is no
// Docker DNS here) and drives it with HTTP and the JS client.
func TestNginxInFrontOfTheStack(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx" // not on a non-root PATH
		if _, err := os.Stat(nginx); err != nil {
			t.Fatal("nginx not found: run `make deps` (installs Debian's nginx-light)")
		}
	}
	st := harness.Start(t, harness.Options{Gateways: 2})
	front, err := infra.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	gateways := ""
	for i := range st.Gateways() {
		gateways += "server " + strings.TrimPrefix(st.GatewayURL(i), "http://") + ";\n"
	}
	for old, new := range map[string]string{
		"server gateway:5002;":  gateways,
		"server orderapi:5001;": "server " + strings.TrimPrefix(st.OrderAPIURL(), "http://") + ";",
		"listen 5000;":          "listen " + front + ";",
	} {
		if !strings.Contains(conf, old) {
			t.Fatalf("deploy/nginx.conf no longer contains %q; update this test with it", old)
		}
		conf = strings.Replace(conf, old, new, 1)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	global := "daemon off; master_process on; pid " + dir + "/nginx.pid; error_log stderr warn;"
	cmd := exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", global)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	infra.KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("nginx output:\n%s", out.String())
		}
	})
	base := "http://" + front
	st.WaitHTTP(t, base+"/health", http.StatusOK, 30*time.Second)

	for _, path := range []string{"/internal/v1/users/000000000000000000000000", "/metrics"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "Not found") {
			t.Fatalf("%s through nginx: %d %s, want 404 Not found", path, resp.StatusCode, body)
		}
	}

	uploadThroughNginx(t, base, st)

	d := jsclient.Start(t)
	for _, tr := range jsclient.Transports() {
		t.Run(string(tr), func(t *testing.T) {
			s := d.Connect(t, base, jsclient.Options{Transports: tr})
			c := s.WaitConnect(t)
			if tr == jsclient.Default && c.Transport == "polling" {
				if got := s.WaitUpgrade(t); got != "websocket" {
					t.Fatalf("upgraded to %s through nginx, want websocket", got)
				}
			}
			s.Emit("ping")
			s.WaitEvent(t, "pong", 10*time.Second, nil)
			s.Disconnect()
		})
	}
}

// uploadThroughNginx sends a 3 MB image (above nginx's default body limit
// of 1 MB and the global 2m) to POST /api/v1/upload/product-image through
// the lb and fetches it back from the URL orderapi answers, which must name
// the lb's host and port.
func uploadThroughNginx(t *testing.T, base string, st *harness.Stack) {
	t.Helper()
	email, password := st.AdminCredentials()
	login, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(login))
	if err != nil {
		t.Fatal(err)
	}
	var auth struct {
		Data struct {
			AccessToken string `json:"accessToken"`
		} `json:"data"`
	}
	_ = json.NewDecoder(res.Body).Decode(&auth)
	res.Body.Close()
	if auth.Data.AccessToken == "" {
		t.Fatalf("admin login through nginx: %d", res.StatusCode)
	}

	img := image.NewNRGBA(image.Rect(0, 0, 900, 900))
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(rnd.Uint32())
	}
	var pic bytes.Buffer
	if err := png.Encode(&pic, img); err != nil {
		t.Fatal(err)
	}
	if pic.Len() < 2<<20 || pic.Len() > 5<<20 {
		t.Fatalf("test image is %d bytes, want 2–5 MB", pic.Len())
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	part, _ := mw.CreateFormFile("image", "pizza.png")
	_, _ = part.Write(pic.Bytes())
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/upload/product-image", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+auth.Data.AccessToken)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct {
		Data struct {
			URL string `json:"url"`
		} `json:"data"`
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	_ = json.Unmarshal(raw, &up)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(up.Data.URL, base+"/uploads/products-") {
		t.Fatalf("upload through nginx: %d %s, want 200 with a URL under %s/uploads/", res.StatusCode, raw, base)
	}
	res, err = http.Get(up.Data.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, pic.Bytes()) || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET %s through nginx: %d %s, %d bytes; want the uploaded image", up.Data.URL, res.StatusCode, res.Header.Get("Content-Type"), len(got))
	}
}
