package flint_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/clustertest"
	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/tpch"
)

// TestSessionOnDriverGroup: a session made with flint.WithDriver and the
// whole list of a replicated driver group runs TPC-H queries with DuckDB's
// answers, before and after its leader is SIGKILLed.
func TestSessionOnDriverGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes")
	}
	c := clustertest.Start(t, clustertest.Options{Drivers: 3, Executors: 2, HeartbeatTimeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := flint.NewSession(ctx, flint.WithDriver(c.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, table := range tpch.Tables {
		if err := s.RegisterTable(ctx, table, "parquet", filepath.Join(sampleDir, table+".parquet"), nil); err != nil {
			t.Fatal(err)
		}
	}
	query := func(q int) {
		t.Helper()
		got, err := s.SQL(ctx, tpch.Query(q)).Collect(ctx)
		if err != nil {
			t.Fatalf("Q%d: %v", q, err)
		}
		defer release(got)
		checkAnswer(t, fmt.Sprintf("testdata/tpch/answers/sample/q%02d.csv", q), got)
	}
	query(1)
	query(3)
	killed := ""
	for _, p := range c.Drivers() {
		conn, err := driverclient.Dial(p.Addr)
		if err != nil {
			t.Fatal(err)
		}
		m, err := conn.Client.Member(ctx, &pb.MemberRequest{})
		conn.Close()
		if err == nil && m.GetState() == "leader" {
			p.Kill()
			killed = p.Addr
			break
		}
	}
	if killed == "" {
		t.Fatal("no driver leads")
	}
	query(6)
	query(18)
}
