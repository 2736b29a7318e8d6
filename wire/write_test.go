package wire_test

import (
	"strings"
	"testing"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/wire"
)

// TestRoundTripWrite: TPC-H queries planned as writes (a physical.Write
// at the root of the final stage) survive the wire as stage plans and as
// tasks, spec included.
func TestRoundTripWrite(t *testing.T) {
	for _, q := range tpchPlans(t)[:6] {
		t.Run(q.name, func(t *testing.T) {
			spec := &connectors.WriteSpec{Format: connectors.CSV, Location: "s3://bucket/out/" + q.name, Mode: connectors.ModeAppend,
				Options: map[string]string{"delimiter": "|", "compression": "gzip"}, WriteID: connectors.NewWriteID()}
			if cols := q.plan.Schema(); len(cols) > 1 {
				spec.PartitionBy = []connectors.PartitionColumn{{Name: cols[0].Name, Type: "VARCHAR"}}
			}
			var ids plan.IDGen
			ids.Reserve(wire.MaxColumnID(q.plan))
			c, err := planner.Compile(q.plan, &ids, planner.Options{Partitions: 3, BroadcastRows: 1000, Write: spec})
			if err != nil {
				t.Fatal(err)
			}
			w := physical.WriteOf(c.Stages.Final())
			if w == nil {
				t.Fatal("no Write at the root of the final stage")
			}
			ps, err := wire.EncodeStagePlan(c.Stages)
			if err != nil {
				t.Fatal(err)
			}
			got, err := wire.DecodeStagePlan(viaBytes(t, ps))
			if err != nil {
				t.Fatal(err)
			}
			if d := structEqual(c.Stages, got); d != "" {
				t.Fatalf("stage plan differs after the wire: %s", d)
			}
			for _, st := range c.Stages.Stages {
				for _, task := range stageTasks(t, c.Stages, st) {
					taskRoundTrip(t, c.Stages, task)
				}
			}
		})
	}
}

func TestDecodeWriteSpecRejects(t *testing.T) {
	ok := &pb.WriteSpec{Format: "parquet", Location: "/tmp/x", Mode: "error", WriteId: "abc123"}
	if _, err := wire.DecodeWriteSpec(ok); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*pb.WriteSpec)
		want string
	}{
		{func(p *pb.WriteSpec) { p.Format = "orc" }, "unknown format"},
		{func(p *pb.WriteSpec) { p.Location = "" }, "no target"},
		{func(p *pb.WriteSpec) { p.Location = "/tmp/*.csv" }, "glob"},
		{func(p *pb.WriteSpec) { p.WriteId = "" }, "write ID"},
		{func(p *pb.WriteSpec) { p.WriteId = "a-b" }, "write ID"},
		{func(p *pb.WriteSpec) { p.Mode = "upsert" }, "mode"},
		{func(p *pb.WriteSpec) { p.Options = map[string]string{"header": "x"} }, "header"},
		{func(p *pb.WriteSpec) {
			p.PartitionBy = []*pb.PartitionColumn{{Name: "a", Type: "INTEGER"}, {Name: "A", Type: "INTEGER"}}
		}, "repeated"},
	} {
		p := &pb.WriteSpec{Format: ok.Format, Location: ok.Location, Mode: ok.Mode, WriteId: ok.WriteId}
		tc.edit(p)
		if _, err := wire.DecodeWriteSpec(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", p, err, tc.want)
		}
	}
	if _, err := wire.DecodeWriteSpec(nil); err == nil {
		t.Error("a missing spec must be refused")
	}
}
