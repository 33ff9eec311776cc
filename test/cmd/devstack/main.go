// Command devstack is `make run`: the whole platform on one origin for
// development. It starts embedded FerretDB and an embedded Redis-protocol
// server unless MONGODB_URI / REDIS_URL point at real ones, runs the built
// bin/orderapi and two bin/gateway replicas as child processes, and puts
// the front proxy (test/proxy) on PORT. See run.go for the environment.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "devstack: %v\n", err)
		os.Exit(1)
	}
}
