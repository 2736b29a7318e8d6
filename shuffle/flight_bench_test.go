package shuffle

// Shuffle throughput between two OS processes on loopback. The server is
// this test binary re-executed with FLINT_SHUFFLE_BENCH_SERVER=1: it
// generates ~200 MB (FLINT_SHUFFLE_BENCH_MB) of synthetic TPC-H lineitem
// batches, writes them as one map output per codec, serves them with a
// FlightServer plus a trivial raw gRPC streaming service, and prints
// "READY <addr> <workdir> <logical bytes>" on stdout. It exits when its
// stdin closes.
//
//	go test ./shuffle -run '^$' -bench Shuffle -benchtime 1x
//
// MB/s is logical (uncompressed Arrow buffer) bytes per second for every
// benchmark, so the Flight, raw gRPC and local figures compare directly;
// wire-MB/s is bytes actually read from the file or socket.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const benchServerEnv = "FLINT_SHUFFLE_BENCH_SERVER"

var benchCodecs = []Codec{CodecLZ4, CodecZstd, CodecNone}

func benchID(c Codec) MapOutputID { return MapOutputID{Job: "bench-" + c.String()} }

// ---- server side (child process) ----

func runBenchServer() int {
	mb := 200
	if v, err := strconv.Atoi(os.Getenv("FLINT_SHUFFLE_BENCH_MB")); err == nil && v > 0 {
		mb = v
	}
	dir, err := os.MkdirTemp("", "flint-shuffle-bench")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	batches, logical := lineitemBatches(int64(mb) << 20)
	for _, c := range benchCodecs {
		start := time.Now()
		x, err := WriteMapOutput(dir, benchID(c), [][]arrow.RecordBatch{batches}, c, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		d := time.Since(start)
		fmt.Fprintf(os.Stderr, "bench server: wrote %s: %d logical bytes -> %d file bytes (ratio %.2f) in %v (%.0f MB/s)\n",
			c, logical, x.Partitions[0].Length(), float64(logical)/float64(x.Partitions[0].Length()), d.Round(time.Millisecond), float64(logical)/1e6/d.Seconds())
	}
	releaseBatches(batches)

	srv := NewFlightServer(dir)
	gs := grpc.NewServer(ServerOptions()...)
	gs.RegisterService(&rawServiceDesc, nil)
	if err := srv.ServeWith(gs, "127.0.0.1:0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	resrv := NewFlightServer(dir)
	resrv.reencode = true
	if err := resrv.Serve("127.0.0.1:0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("READY %s %s %d %s\n", srv.Addr(), dir, logical, resrv.Addr())
	io.Copy(io.Discard, os.Stdin)
	srv.Stop()
	resrv.Stop()
	return 0
}

// lineitemBatches generates TPC-H-like lineitem batches of 8192 rows until
// their Arrow buffers total at least target bytes.
func lineitemBatches(target int64) ([]arrow.RecordBatch, int64) {
	dec := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "l_orderkey", Type: arrow.PrimitiveTypes.Int64},
		{Name: "l_partkey", Type: arrow.PrimitiveTypes.Int64},
		{Name: "l_suppkey", Type: arrow.PrimitiveTypes.Int64},
		{Name: "l_linenumber", Type: arrow.PrimitiveTypes.Int32},
		{Name: "l_quantity", Type: dec},
		{Name: "l_extendedprice", Type: dec},
		{Name: "l_discount", Type: dec},
		{Name: "l_tax", Type: dec},
		{Name: "l_returnflag", Type: arrow.BinaryTypes.String},
		{Name: "l_linestatus", Type: arrow.BinaryTypes.String},
		{Name: "l_shipdate", Type: arrow.FixedWidthTypes.Date32},
		{Name: "l_commitdate", Type: arrow.FixedWidthTypes.Date32},
		{Name: "l_receiptdate", Type: arrow.FixedWidthTypes.Date32},
		{Name: "l_shipinstruct", Type: arrow.BinaryTypes.String},
		{Name: "l_shipmode", Type: arrow.BinaryTypes.String},
		{Name: "l_comment", Type: arrow.BinaryTypes.String},
	}, nil)
	words := strings.Fields("furiously regular deposits sleep quickly final packages among the carefully ironic accounts haggle blithely express requests boost slyly pending theodolites nag")
	instructs := []string{"DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"}
	modes := []string{"AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"}
	rng := uint64(88172645463325252)
	next := func(n int) int {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return int(rng % uint64(n))
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	var out []arrow.RecordBatch
	var total int64
	row := 0
	var comment []byte
	for total < target {
		for i := 0; i < 8192; i++ {
			row++
			b.Field(0).(*array.Int64Builder).Append(int64(row/4 + 1))
			b.Field(1).(*array.Int64Builder).Append(int64(next(200000) + 1))
			b.Field(2).(*array.Int64Builder).Append(int64(next(10000) + 1))
			b.Field(3).(*array.Int32Builder).Append(int32(row%7 + 1))
			qty := next(50) + 1
			b.Field(4).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(qty) * 100))
			b.Field(5).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(qty) * int64(90000+next(10000000)) / 100))
			b.Field(6).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(next(11))))
			b.Field(7).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(next(9))))
			b.Field(8).(*array.StringBuilder).Append([]string{"A", "N", "R"}[next(3)])
			b.Field(9).(*array.StringBuilder).Append([]string{"O", "F"}[next(2)])
			ship := 8035 + next(2500)
			b.Field(10).(*array.Date32Builder).Append(arrow.Date32(ship))
			b.Field(11).(*array.Date32Builder).Append(arrow.Date32(ship - 30 + next(60)))
			b.Field(12).(*array.Date32Builder).Append(arrow.Date32(ship + 1 + next(30)))
			b.Field(13).(*array.StringBuilder).Append(instructs[next(4)])
			b.Field(14).(*array.StringBuilder).Append(modes[next(7)])
			comment = comment[:0]
			n := 10 + next(33)
			for len(comment) < n {
				comment = append(comment, words[next(len(words))]...)
				comment = append(comment, ' ')
			}
			b.Field(15).(*array.StringBuilder).BinaryBuilder.Append(comment[:n])
		}
		rec := b.NewRecordBatch()
		total += recordBytes(rec)
		out = append(out, rec)
	}
	return out, total
}

// Raw gRPC streaming service: the request is the number of bytes wanted,
// the server answers with 1 MiB BytesValue messages.
var rawServiceDesc = grpc.ServiceDesc{
	ServiceName: "flint.shufflebench.Raw",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    "Stream",
		ServerStreams: true,
		Handler: func(_ any, stream grpc.ServerStream) error {
			var want wrapperspb.Int64Value
			if err := stream.RecvMsg(&want); err != nil {
				return err
			}
			chunk := make([]byte, 1<<20)
			for left := want.Value; left > 0; left -= int64(len(chunk)) {
				msg := &wrapperspb.BytesValue{Value: chunk[:min(int64(len(chunk)), left)]}
				if err := stream.SendMsg(msg); err != nil {
					return err
				}
			}
			return nil
		},
	}},
}

// ---- client side (benchmark process) ----

type benchServer struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  io.Reader
	addr    string
	reAddr  string // server that decodes and re-encodes instead of forwarding
	workDir string
	logical int64
	err     error
}

var (
	benchOnce sync.Once
	benchSrv  *benchServer
)

func startBenchServer(b *testing.B) *benchServer {
	benchOnce.Do(func() {
		s := &benchServer{}
		benchSrv = s
		s.cmd = exec.Command(os.Args[0], "-test.run=^$")
		s.cmd.Env = append(os.Environ(), benchServerEnv+"=1")
		s.cmd.Stderr = os.Stderr
		if s.stdin, s.err = s.cmd.StdinPipe(); s.err != nil {
			return
		}
		out, err := s.cmd.StdoutPipe()
		if err != nil {
			s.err = err
			return
		}
		s.stdout = out
		if s.err = s.cmd.Start(); s.err != nil {
			return
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		f := strings.Fields(line)
		if err != nil || len(f) != 5 || f[0] != "READY" {
			s.err = fmt.Errorf("bench server said %q: %v", line, err)
			return
		}
		s.addr, s.workDir, s.reAddr = f[1], f[2], f[4]
		s.logical, s.err = strconv.ParseInt(f[3], 10, 64)
	})
	if benchSrv.err != nil {
		b.Fatal(benchSrv.err)
	}
	return benchSrv
}

func stopBenchServer() {
	s := benchSrv
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.stdin.Close()
	if s.stdout != nil {
		io.Copy(io.Discard, s.stdout)
	}
	s.cmd.Wait()
}

func BenchmarkShuffleFlightFetch(b *testing.B) {
	s := startBenchServer(b)
	benchFlightFetch(b, s, s.addr)
}

// BenchmarkShuffleFlightFetchReencode measures a server that decodes the
// file and re-encodes each batch (LZ4) instead of forwarding messages.
func BenchmarkShuffleFlightFetchReencode(b *testing.B) {
	s := startBenchServer(b)
	benchFlightFetch(b, s, s.reAddr)
}

func benchFlightFetch(b *testing.B, s *benchServer, addr string) {
	cc, err := grpc.NewClient(addr, DialOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	client := flight.NewFlightServiceClient(cc)
	for _, c := range benchCodecs {
		b.Run(c.String(), func(b *testing.B) {
			x, err := ReadIndex(s.workDir, benchID(c))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(s.logical)
			b.ResetTimer()
			for range b.N {
				st, err := Fetch(context.Background(), client, Ticket{MapOutputID: benchID(c)})
				if err != nil {
					b.Fatal(err)
				}
				var rows int64
				for {
					rec, err := st.Next()
					if err != nil {
						b.Fatal(err)
					}
					if rec == nil {
						break
					}
					rows += rec.NumRows()
					rec.Release()
				}
				st.Close()
				if rows != x.Partitions[0].Rows {
					b.Fatalf("%d rows, want %d", rows, x.Partitions[0].Rows)
				}
			}
			if addr == s.addr {
				b.ReportMetric(float64(x.Partitions[0].Length())*float64(b.N)/1e6/b.Elapsed().Seconds(), "wire-MB/s")
			}
		})
	}
}

func BenchmarkShuffleRawGRPC(b *testing.B) {
	s := startBenchServer(b)
	cc, err := grpc.NewClient(s.addr, DialOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	b.SetBytes(s.logical)
	for range b.N {
		st, err := cc.NewStream(context.Background(), &rawServiceDesc.Streams[0], "/flint.shufflebench.Raw/Stream")
		if err != nil {
			b.Fatal(err)
		}
		if err := st.SendMsg(&wrapperspb.Int64Value{Value: s.logical}); err != nil {
			b.Fatal(err)
		}
		st.CloseSend()
		var got int64
		for {
			var m wrapperspb.BytesValue
			if err := st.RecvMsg(&m); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			got += int64(len(m.Value))
		}
		if got != s.logical {
			b.Fatalf("got %d bytes want %d", got, s.logical)
		}
	}
}

func BenchmarkShuffleLocalRead(b *testing.B) {
	s := startBenchServer(b)
	for _, c := range benchCodecs {
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(s.logical)
			var wire int64
			for range b.N {
				f, err := OpenMapOutput(s.workDir, benchID(c))
				if err != nil {
					b.Fatal(err)
				}
				sec, size, _ := f.Section(0)
				wire += size
				rd, err := ipc.NewReader(bufio.NewReaderSize(sec, 256<<10))
				if err != nil {
					b.Fatal(err)
				}
				var rows int64
				for rd.Next() {
					rows += rd.RecordBatch().NumRows()
				}
				if rd.Err() != nil {
					b.Fatal(rd.Err())
				}
				rd.Release()
				f.Close()
				if rows != f.Index.Partitions[0].Rows {
					b.Fatalf("%d rows", rows)
				}
			}
			b.ReportMetric(float64(wire)/1e6/b.Elapsed().Seconds(), "wire-MB/s")
		})
	}
}

// recordBytes sums the lengths of a batch's Arrow buffers.
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	var walk func(d arrow.ArrayData)
	walk = func(d arrow.ArrayData) {
		for _, buf := range d.Buffers() {
			if buf != nil {
				n += int64(buf.Len())
			}
		}
		for _, c := range d.Children() {
			walk(c)
		}
	}
	for _, c := range rec.Columns() {
		walk(c.Data())
	}
	return n
}
