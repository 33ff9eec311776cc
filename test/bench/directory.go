package bench

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// directory answers orderapi's internal lookup API (GET
// /internal/v1/users/{id} and /internal/v1/orders/{id}/parties, see
// orderapi/internal/api/internal.go) from the bench's id scheme instead of
// a database: the bench measures the gateways, not orderapi. Every user
// whose id carries a role prefix exists, is active and approved; order k
// belongs to customer k and is out for delivery with agent k.
type directory struct {
	token   string
	srv     *http.Server
	addr    string
	users   atomic.Int64
	parties atomic.Int64
}

func startDirectory(token string) (*directory, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &directory{token: token, addr: l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /internal/v1/users/{id}", d.user)
	mux.HandleFunc("GET /internal/v1/orders/{id}/parties", d.order)
	d.srv = &http.Server{Handler: d.auth(mux), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = d.srv.Serve(l) }()
	return d, nil
}

// URL is the ORDERAPI_URL both gateways get.
func (d *directory) URL() string { return "http://" + d.addr }

func (d *directory) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = d.srv.Shutdown(ctx)
}

func (d *directory) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Internal-Token") != d.token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Invalid or missing internal token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (d *directory) user(w http.ResponseWriter, r *http.Request) {
	d.users.Add(1)
	id := r.PathValue("id")
	prefix, _, err := parseID(id)
	role := ""
	switch prefix {
	case prefixCustomer:
		role = "customer"
	case prefixAgent:
		role = "delivery"
	case prefixAdmin:
		role = "admin"
	}
	if err != nil || role == "" {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "User not found"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "name": "Bench " + role, "email": id + "@bench.test", "role": role,
		"isActive": true, "isApproved": true,
	})
}

func (d *directory) order(w http.ResponseWriter, r *http.Request) {
	d.parties.Add(1)
	id := r.PathValue("id")
	prefix, k, err := parseID(id)
	if err != nil || prefix != prefixOrder {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Order not found"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"orderId": id, "orderNumber": "B" + strconv.Itoa(k),
		"customerId": makeID(prefixCustomer, k), "deliveryAgentId": makeID(prefixAgent, k),
		"deliveryAgentName": "Agent " + strconv.Itoa(k), "status": "out_for_delivery",
	})
}

// parseID splits a bench id into its prefix and index.
func parseID(id string) (prefix, idx int, err error) {
	if len(id) != 24 || strings.ToLower(id) != id {
		return 0, 0, errors.New("not a bench id")
	}
	p, err := strconv.ParseUint(id[:2], 16, 8)
	if err != nil {
		return 0, 0, err
	}
	n, err := strconv.ParseUint(id[2:], 16, 31)
	if err != nil {
		return 0, 0, err
	}
	return int(p), int(n), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
