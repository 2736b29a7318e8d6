package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	pb "github.com/flint-engine/flint/proto/flintpb"
)

// newPingCmd is `flint ping`: a health check that needs nothing but the
// flint binary, for images without a shell (deploy/compose.yaml).
func newPingCmd() *cobra.Command {
	var timeout time.Duration
	var tcp bool
	cmd := &cobra.Command{
		Use:   "ping HOST:PORT",
		Short: "Check that a driver answers (or, with --tcp, that a port accepts connections)",
		Long: `Ping exits 0 when the Flint driver at HOST:PORT answers a request for
its settings within --timeout, and 1 otherwise, saying why. With --tcp it
only checks that HOST:PORT accepts a TCP connection: an executor serves on
its --listen port from just before it registers with the driver (its log
says msg="registered with driver" once it has).`,
		Example: `  flint ping 127.0.0.1:7070
  flint ping --tcp 127.0.0.1:7071`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr := args[0]
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return usagef("ping: address %q: %v (want HOST:PORT)", addr, err)
			}
			if timeout <= 0 {
				return usagef("--timeout must be positive")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			if tcp {
				var d net.Dialer
				conn, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					return fmt.Errorf("ping: %s does not accept connections: %w", addr, err)
				}
				conn.Close()
				fmt.Fprintf(cmd.OutOrStdout(), "%s accepts connections\n", addr)
				return nil
			}
			d, err := dialDriver(addr)
			if err != nil {
				return err
			}
			defer d.Close()
			if _, err := d.Client.Info(ctx, &pb.InfoRequest{}); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("ping: driver %s did not answer within %s (--timeout)", addr, timeout)
				}
				return fmt.Errorf("ping: %w", d.rpcError(err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "driver %s answers\n", addr)
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after DURATION")
	cmd.Flags().BoolVar(&tcp, "tcp", false, "only check that HOST:PORT accepts a TCP connection")
	return cmd
}
