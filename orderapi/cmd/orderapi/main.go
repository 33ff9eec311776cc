// Command orderapi is the REST service of the Friends Pizza Hut platform:
// it owns all state in MongoDB and publishes a domain event for every state
// change through its transactional outbox. See run.go for the lifecycle and
// config.go for the environment it reads.
package main

import (
	"context"
	"fmt"
	"os"
	_ "time/tzdata" // DASHBOARD_TIMEZONE must load on images without a zoneinfo database
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "orderapi: %v\n", err)
		os.Exit(1)
	}
}
