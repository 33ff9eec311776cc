// Command bench runs `make bench`: our gateway against the Node socket.io
// reference, side by side (see test/bench and docs/testing.md).
//
//	go run ./test/bench/cmd/bench -sockets 10000 -json bench-results.json
//
// Every flag has an environment variable (BENCH_SOCKETS, ...); a flag wins.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/friendspizzahut/platform/test/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg bench.Config
	d := bench.Defaults()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
			return v
		}
		return def
	}
	envFloat := func(name string, def float64) float64 {
		if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
			return v
		}
		return def
	}
	envDur := func(name string, def time.Duration) time.Duration {
		if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
			return v
		}
		return def
	}
	envStr := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.IntVar(&cfg.Sockets, "sockets", envInt("BENCH_SOCKETS", d.Sockets), "sockets per gateway (BENCH_SOCKETS)")
	fs.IntVar(&cfg.IdleMax, "idle-max", envInt("BENCH_IDLE_MAX", d.IdleMax), "idle memory also at this many sockets; -1 skips (BENCH_IDLE_MAX)")
	fs.IntVar(&cfg.Admins, "admins", envInt("BENCH_ADMINS", d.Admins), "admin sockets (BENCH_ADMINS)")
	fs.IntVar(&cfg.Agents, "agents", envInt("BENCH_AGENTS", d.Agents), "delivery agents reporting locations at 1 Hz (BENCH_AGENTS)")
	fs.IntVar(&cfg.Concurrency, "concurrency", envInt("BENCH_CONCURRENCY", d.Concurrency), "handshakes in flight (BENCH_CONCURRENCY)")
	fs.IntVar(&cfg.SlowBroadcasts, "broadcasts", envInt("BENCH_BROADCASTS", d.SlowBroadcasts), "broadcasts at 1/s (BENCH_BROADCASTS)")
	fs.Float64Var(&cfg.SteadyRate, "steady-rate", envFloat("BENCH_STEADY_RATE", d.SteadyRate), "broadcasts/s of the steady scenario (BENCH_STEADY_RATE)")
	fs.DurationVar(&cfg.SteadyFor, "steady-for", envDur("BENCH_STEADY_FOR", d.SteadyFor), "steady scenario duration (BENCH_STEADY_FOR)")
	fs.Float64Var(&cfg.SatRate, "sat-rate", envFloat("BENCH_SAT_RATE", d.SatRate), "broadcasts/s offered at saturation, above what the gateways deliver (BENCH_SAT_RATE)")
	fs.DurationVar(&cfg.SatDuration, "sat-for", envDur("BENCH_SAT_FOR", d.SatDuration), "saturation duration (BENCH_SAT_FOR)")
	fs.Float64Var(&cfg.TargetedRate, "targeted-rate", envFloat("BENCH_TARGETED_RATE", d.TargetedRate), "order events + notifications per second (BENCH_TARGETED_RATE)")
	fs.DurationVar(&cfg.TargetedFor, "targeted-for", envDur("BENCH_TARGETED_FOR", d.TargetedFor), "(BENCH_TARGETED_FOR)")
	fs.DurationVar(&cfg.LocationFor, "location-for", envDur("BENCH_LOCATION_FOR", d.LocationFor), "(BENCH_LOCATION_FOR)")
	fs.Float64Var(&cfg.PinnedRate, "pinned-rate", envFloat("BENCH_PINNED_RATE", d.PinnedRate), "broadcasts/s with the gateway pinned to one core (BENCH_PINNED_RATE)")
	fs.DurationVar(&cfg.PinnedFor, "pinned-for", envDur("BENCH_PINNED_FOR", d.PinnedFor), "(BENCH_PINNED_FOR)")
	fs.BoolVar(&cfg.Drain, "drain", os.Getenv("BENCH_DRAIN") != "0", "run the drain scenario when the gateway offers recovery (BENCH_DRAIN=0 skips)")
	noPinned := fs.Bool("no-pinned", os.Getenv("BENCH_NO_PINNED") != "", "skip the pinned scenario (BENCH_NO_PINNED)")
	sides := fs.String("sides", envStr("BENCH_SIDES", strings.Join(d.Sides, ",")), "gateways to run, in order (BENCH_SIDES)")
	jsonPath := fs.String("json", envStr("BENCH_JSON", "bench-results.json"), "JSON results file (BENCH_JSON)")
	fs.StringVar(&cfg.GatewayBin, "gateway-bin", os.Getenv("BENCH_GATEWAY_BIN"), "our gateway binary; default: built from the tree (BENCH_GATEWAY_BIN)")
	fs.StringVar(&cfg.WorkDir, "workdir", os.Getenv("BENCH_WORKDIR"), "logs and Redis files; default a temp dir (BENCH_WORKDIR)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	cfg.NoPinned = *noPinned
	cfg.Sides = strings.Split(*sides, ",")
	cfg.Log = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.Run(ctx, cfg)
	if res != nil {
		res.WriteTable(os.Stdout)
		if werr := res.WriteJSON(*jsonPath); werr != nil {
			return werr
		}
		fmt.Printf("\nJSON: %s\n", *jsonPath)
	}
	return err
}
