package main

import (
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/flint-engine/flint/internal/metrics"
)

// observeFlags are the logging and metrics flags of the cluster processes
// (flint driver, flint executor).
type observeFlags struct {
	logFormat string
	metrics   string
}

func (o *observeFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.logFormat, "log-format", "text", "log lines on stderr as text (key=value) or json (one object a line)")
	f.StringVar(&o.metrics, "metrics", "", "serve Prometheus /metrics and Go /debug/pprof/ over HTTP on HOST:PORT (port 0: any free port; default: off)")
}

// check validates the flags before anything starts.
func (o *observeFlags) check() error {
	if o.logFormat != "text" && o.logFormat != "json" {
		return usagef("--log-format must be text or json, got %q", o.logFormat)
	}
	return nil
}

// logger is the process's logger, writing to w in the --log-format.
func (o *observeFlags) logger(w io.Writer) *slog.Logger {
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// serveMetrics starts the --metrics listener for reg, logging its
// address; it returns a function stopping it (a no-op without --metrics).
func (o *observeFlags) serveMetrics(log *slog.Logger, reg *prometheus.Registry) (func() error, error) {
	if o.metrics == "" {
		return func() error { return nil }, nil
	}
	addr, stop, err := metrics.Serve(o.metrics, reg)
	if err != nil {
		return nil, err
	}
	log.Info("metrics listening", "addr", addr)
	return stop, nil
}
