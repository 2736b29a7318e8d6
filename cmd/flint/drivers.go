package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// memberLine is one driver of flint drivers --format json.
type memberLine struct {
	ID        string `json:"id,omitempty"`
	Address   string `json:"address"`
	State     string `json:"state"`
	Term      uint64 `json:"term"`
	LastIndex uint64 `json:"last_index"`
	Applied   uint64 `json:"applied"`
	// Lag is how many entries the member's log is behind the leader's
	// (unset when no leader or not the member answered).
	Lag   *uint64 `json:"lag,omitempty"`
	Error string  `json:"error,omitempty"`
}

// memberTimeout bounds the question to one driver.
const memberTimeout = 3 * time.Second

func newDriversCmd() *cobra.Command {
	var driver, format string
	cmd := &cobra.Command{
		Use:   "drivers --driver HOST:PORT,...",
		Short: "Show the members of a replicated driver group: leader, followers, raft term and log index",
		Long: `Drivers asks every driver listed in --driver (or $FLINT_DRIVER) about
itself: its raft ID, client address, state (leader, follower, candidate;
unreachable when it does not answer), raft term, last log index and its
lag: how many entries its log is behind the leader's. A driver that is
not replicated shows as the leader of a group of one. --format json
prints a JSON array with one object per driver (id, address, state,
term, last_index, applied: the last log index applied, lag, error). The
exit status
is 1 when no listed driver leads; when fewer than a majority of the
listed drivers answer, the error says that the group has lost its quorum.`,
		Example: `  flint drivers --driver 10.0.0.1:7077,10.0.0.2:7077,10.0.0.3:7077`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := parseListFormat(format)
			if err != nil {
				return err
			}
			addrs := driverclient.SplitAddrs(driver)
			if len(addrs) == 0 {
				return usagef("--driver HOST:PORT,... (or $%s) is required", driverEnv)
			}
			lines := make([]memberLine, len(addrs))
			done := make(chan struct{}, len(addrs))
			for i, a := range addrs {
				go func() {
					defer func() { done <- struct{}{} }()
					lines[i] = askMember(cmd.Context(), a)
				}()
			}
			for range addrs {
				<-done
			}
			setLag(lines)
			if err := printMembers(cmd.OutOrStdout(), lines, asJSON); err != nil {
				return err
			}
			for _, l := range lines {
				if l.State == "leader" {
					return nil
				}
			}
			answering := 0
			for _, l := range lines {
				if l.State != "unreachable" {
					answering++
				}
			}
			if quorum := len(addrs)/2 + 1; answering < quorum && len(addrs) > 1 {
				return fmt.Errorf("no leader among %d drivers: the group has lost its quorum (%d of %d answer, a leader needs %d)",
					len(addrs), answering, len(addrs), quorum)
			}
			return fmt.Errorf("no leader among %d drivers", len(addrs))
		},
	}
	cmd.Flags().StringVar(&driver, "driver", os.Getenv(driverEnv), "the drivers' HOST:PORT, comma-separated (default $"+driverEnv+")")
	cmd.Flags().StringVar(&format, "format", "text", "text or json (an array of objects)")
	cmd.AddCommand(newDriversChangeCmd(true), newDriversChangeCmd(false))
	return cmd
}

// askMember asks one driver (alone, not following a leader) about itself.
func askMember(ctx context.Context, addr string) memberLine {
	line := memberLine{Address: addr, State: "unreachable"}
	c, err := driverclient.Dial(addr)
	if err != nil {
		line.Error = err.Error()
		return line
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	m, err := c.Client.Member(ctx, &pb.MemberRequest{})
	if err != nil {
		line.Error = c.Error("", err).Error()
		return line
	}
	line.ID, line.State, line.Term, line.LastIndex, line.Applied = m.GetId(), m.GetState(), m.GetTerm(), m.GetLastIndex(), m.GetApplied()
	if m.GetAddress() != "" {
		line.Address = m.GetAddress()
	}
	return line
}

// setLag sets each answering member's lag behind the leader's log, when
// one of them leads (a member ahead of it, with entries it will drop,
// lags 0).
func setLag(lines []memberLine) {
	lead := -1
	for i, l := range lines {
		if l.State == "leader" {
			lead = i
		}
	}
	if lead < 0 {
		return
	}
	for i := range lines {
		if lines[i].State == "unreachable" {
			continue
		}
		var lag uint64
		if last := lines[lead].LastIndex; last > lines[i].LastIndex {
			lag = last - lines[i].LastIndex
		}
		lines[i].Lag = &lag
	}
}

func printMembers(w io.Writer, lines []memberLine, asJSON bool) error {
	if asJSON {
		if lines == nil {
			lines = []memberLine{}
		}
		return json.NewEncoder(w).Encode(lines)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tADDRESS\tSTATE\tTERM\tLAST INDEX\tLAG")
	for _, l := range lines {
		id, lag := l.ID, "-"
		if id == "" {
			id = "-"
		}
		if l.Lag != nil {
			lag = strconv.FormatUint(*l.Lag, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", id, l.Address, l.State, l.Term, l.LastIndex, lag)
	}
	return tw.Flush()
}
