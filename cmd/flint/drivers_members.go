package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flint-engine/flint/driver/replica"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// memberChangeWait bounds flint drivers add/remove.
const memberChangeWait = 30 * time.Second

// newDriversChangeCmd is flint drivers add (add) or flint drivers remove.
func newDriversChangeCmd(add bool) *cobra.Command {
	var driver string
	use, short, example := "remove ID", "Remove a driver from a replicated group", "  flint drivers remove d3"
	if add {
		use, short, example = "add ID=RAFTHOST:PORT@HOST:PORT", "Add a driver started with --join to a replicated group",
			"  flint drivers add d4=10.0.0.4:7001@10.0.0.4:7077"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `, through its leader, and print the
members after the change. A driver to add runs flint driver --join with
--peers listing the members and itself; it catches up from the leader
and votes from then on. Clients and executors learn of new members only
from their --driver list: add the new address there too.`,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &pb.ChangeMembersRequest{Remove: args[0]}
			if add {
				peers, err := replica.ParsePeers(args[0])
				if err != nil || len(peers) != 1 {
					return usagef("flint drivers add ID=RAFTHOST:PORT@HOST:PORT: %q: %v", args[0], err)
				}
				p := peers[0]
				req = &pb.ChangeMembersRequest{Add: &pb.GroupMember{Id: p.ID, RaftAddress: p.RaftAddr, ClientAddress: p.ClientAddr}}
			}
			d, err := dialDriver(driver)
			if err != nil {
				return err
			}
			defer d.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), memberChangeWait)
			defer cancel()
			resp, err := d.Client.ChangeMembers(ctx, req)
			if err != nil {
				return d.rpcError(err)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tRAFT ADDRESS\tADDRESS")
			for _, m := range resp.GetMembers() {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", m.GetId(), m.GetRaftAddress(), m.GetClientAddress())
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&driver, "driver", os.Getenv(driverEnv), "the group's drivers, HOST:PORT comma-separated (default $"+driverEnv+")")
	return cmd
}
