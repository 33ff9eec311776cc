// Command gateway is the realtime Socket.IO gateway of the Friends Pizza
// Hut platform: it authenticates sockets, keeps the rooms, handles the
// client events and pushes domain events from Redis to the right sockets.
// See run.go for the lifecycle and config.go for the environment it reads.
// `gateway --conformance` serves the official protocol test suites instead
// (conformance.go).
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "gateway: %v\n", err)
		os.Exit(1)
	}
}
