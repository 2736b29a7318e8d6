package shuffle

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// MaxMessageSize is the gRPC message size limit on both sides of a shuffle
// fetch (one FlightData message carries one IPC record batch).
const MaxMessageSize = 256 << 20

// ServerOptions are the gRPC server options shuffle needs (raised message
// limits and flow-control windows).
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.InitialWindowSize(4 << 20),
		grpc.InitialConnWindowSize(8 << 20),
	}
}

// DialOptions are the gRPC client options shuffle needs: plaintext (the
// cluster network is trusted) and raised message limits and windows.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithInitialWindowSize(4 << 20),
		grpc.WithInitialConnWindowSize(8 << 20),
	}
}

// FlightServer serves committed map outputs under a work dir with Arrow
// Flight DoGet. The ticket is a marshalled Ticket. The server forwards the
// partition's IPC messages from the file as FlightData without decoding or
// recompressing them, one message at a time: gRPC flow control blocks Send
// when the reducer falls behind, so memory stays at about one batch per
// stream (back-pressure). Other Flight methods are unimplemented.
type FlightServer struct {
	flight.BaseFlightServer
	workDir string
	// reencode decodes batches and re-encodes them (LZ4) instead of
	// forwarding the file's messages; kept only to measure the difference
	// in flight_bench_test.go.
	reencode bool

	mu   sync.Mutex
	gs   *grpc.Server
	lis  net.Listener
	done chan struct{}
}

// NewFlightServer returns a server for the map outputs under workDir. Use
// Serve to run it on its own gRPC server, or Register to add it to one.
func NewFlightServer(workDir string) *FlightServer {
	return &FlightServer{workDir: workDir}
}

// Register adds the Flight service to gs (which should be created with
// ServerOptions).
func (s *FlightServer) Register(gs *grpc.Server) {
	flight.RegisterFlightServiceServer(gs, s)
}

// Serve listens on addr (e.g. "127.0.0.1:0") and serves the Flight service
// on a new gRPC server in the background until Stop.
func (s *FlightServer) Serve(addr string) error {
	return s.ServeWith(grpc.NewServer(ServerOptions()...), addr)
}

// ServeWith registers the Flight service on gs (created with
// ServerOptions, possibly hosting other services of the executor), listens
// on addr and serves gs in the background until Stop, which stops gs.
func (s *FlightServer) ServeWith(gs *grpc.Server, addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gs != nil {
		return errors.New("shuffle: flight server already serving")
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("shuffle: flight listen %s: %w", addr, err)
	}
	s.Register(gs)
	s.lis, s.gs, s.done = lis, gs, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		gs.Serve(lis)
	}(s.done)
	return nil
}

// Addr is the address Serve listens on ("" before Serve).
func (s *FlightServer) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lis == nil {
		return ""
	}
	return s.lis.Addr().String()
}

// Stop closes the listener and all streams immediately and waits for the
// serving goroutine. Safe to call more than once.
func (s *FlightServer) Stop() {
	s.mu.Lock()
	gs, done := s.gs, s.done
	s.gs, s.lis = nil, nil
	s.mu.Unlock()
	if gs != nil {
		gs.Stop()
		<-done
	}
}

// DoGet streams one partition of one map output.
func (s *FlightServer) DoGet(tkt *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	var t Ticket
	if err := t.UnmarshalBinary(tkt.GetTicket()); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	f, err := OpenMapOutput(s.workDir, t.MapOutputID)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return status.Error(codes.NotFound, err.Error())
		}
		return status.Error(codes.Internal, err.Error())
	}
	defer f.Close()
	sec, size, err := f.Section(t.Partition)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	r := bufio.NewReaderSize(sec, int(max(16, min(size, 256<<10))))
	if s.reencode {
		return reencodeStream(r, stream)
	}
	for {
		if err := stream.Context().Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		meta, body, err := nextIPCMessage(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return status.Errorf(codes.DataLoss, "shuffle: %s partition %d: %v", t.MapOutputID, t.Partition, err)
		}
		if err := stream.Send(&flight.FlightData{DataHeader: meta, DataBody: body}); err != nil {
			return err
		}
	}
}

// nextIPCMessage reads one encapsulated IPC message (continuation marker,
// metadata length, flatbuffer metadata, body) without decoding the body.
// It returns io.EOF at the end-of-stream marker or the end of input.
func nextIPCMessage(r io.Reader) (meta, body []byte, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		if err == io.EOF {
			return nil, nil, io.EOF
		}
		return nil, nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:4])
	if n == 0xFFFFFFFF {
		if _, err := io.ReadFull(r, hdr[4:]); err != nil {
			return nil, nil, fmt.Errorf("truncated message header: %w", err)
		}
		n = binary.LittleEndian.Uint32(hdr[4:])
	}
	if n == 0 {
		return nil, nil, io.EOF
	}
	if n > MaxMessageSize {
		return nil, nil, fmt.Errorf("message metadata of %d bytes", n)
	}
	meta = make([]byte, n)
	if _, err := io.ReadFull(r, meta); err != nil {
		return nil, nil, fmt.Errorf("truncated message metadata: %w", err)
	}
	bodyLen, err := messageBodyLen(meta)
	if err != nil {
		return nil, nil, err
	}
	if bodyLen < 0 || bodyLen > MaxMessageSize {
		return nil, nil, fmt.Errorf("message body of %d bytes", bodyLen)
	}
	body = make([]byte, bodyLen)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, nil, fmt.Errorf("truncated message body: %w", err)
	}
	return meta, body, nil
}

func messageBodyLen(meta []byte) (n int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt message metadata: %v", r)
		}
	}()
	m := ipc.NewMessage(memory.NewBufferBytes(meta), memory.NewBufferBytes(nil))
	defer m.Release()
	return m.BodyLen(), nil
}

// BatchStream iterates over the batches of one fetched partition.
type BatchStream struct {
	cancel context.CancelFunc
	rdr    *flight.Reader // nil for an empty partition
}

// Fetch starts streaming one partition of a remote map output. Batches are
// decoded with the allocator of ctx (compute.WithAllocator). The caller
// must Close the stream. Errors are returned as they come from gRPC; see
// RemoteReader for errors typed for the scheduler.
func Fetch(ctx context.Context, client flight.FlightServiceClient, t Ticket) (*BatchStream, error) {
	raw, err := t.MarshalBinary()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := client.DoGet(ctx, &flight.Ticket{Ticket: raw})
	if err != nil {
		cancel()
		return nil, err
	}
	first, err := stream.Recv()
	if err == io.EOF {
		return &BatchStream{cancel: cancel}, nil
	}
	if err != nil {
		cancel()
		return nil, err
	}
	rdr, err := flight.NewRecordReader(&peekedStream{first: first, rest: stream}, ipc.WithAllocator(compute.GetAllocator(ctx)))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("shuffle: %s partition %d: %w", t.MapOutputID, t.Partition, err)
	}
	return &BatchStream{cancel: cancel, rdr: rdr}, nil
}

// Schema is the partition's schema, nil for an empty partition.
func (s *BatchStream) Schema() *arrow.Schema {
	if s.rdr == nil {
		return nil
	}
	return s.rdr.Schema()
}

// Next returns the next batch, owned by the caller, or (nil, nil) at the
// end of the stream.
func (s *BatchStream) Next() (arrow.RecordBatch, error) {
	if s.rdr == nil {
		return nil, nil
	}
	if s.rdr.Next() {
		b := s.rdr.RecordBatch()
		b.Retain()
		return b, nil
	}
	if err := s.rdr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return nil, nil
}

// Close ends the stream (cancelling it if unfinished). Idempotent.
func (s *BatchStream) Close() {
	if s.rdr != nil {
		s.rdr.Release()
		s.rdr = nil
	}
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

type peekedStream struct {
	first *flight.FlightData
	rest  flight.DataStreamReader
}

func (p *peekedStream) Recv() (*flight.FlightData, error) {
	if f := p.first; f != nil {
		p.first = nil
		return f, nil
	}
	return p.rest.Recv()
}

func reencodeStream(r io.Reader, stream flight.FlightService_DoGetServer) error {
	rd, err := ipc.NewReader(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	defer rd.Release()
	w := flight.NewRecordWriter(stream, ipc.WithSchema(rd.Schema()), ipc.WithLZ4())
	for rd.Next() {
		if err := w.Write(rd.RecordBatch()); err != nil {
			return err
		}
	}
	if err := rd.Err(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return w.Close()
}
