package train

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"

	"github.com/flint-engine/flint/ml/gbdt"
)

// The data set's requests; the gbdt worker's have their own (ServeWorker's,
// below opScan).
const (
	opScan byte = 0x40 + iota
	opSketch
	opBin
)

// Remote is a Worker in another process, reached through call; Serve
// answers it there.
func Remote(call gbdt.Call) Worker {
	return &remote{call: call, Worker: gbdt.RemoteWorker(call)}
}

type remote struct {
	call gbdt.Call
	gbdt.Worker
}

func (r *remote) do(ctx context.Context, op byte, req, reply any) error {
	var buf bytes.Buffer
	buf.WriteByte(op)
	if err := gob.NewEncoder(&buf).Encode(req); err != nil {
		return fmt.Errorf("train: encoding a request: %w", err)
	}
	b, err := r.call(ctx, buf.Bytes())
	if err != nil {
		return err
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(reply); err != nil {
		return fmt.Errorf("train: corrupt reply: %w", err)
	}
	return nil
}

func (r *remote) Scan(ctx context.Context, req *ScanRequest) (*ScanReply, error) {
	var out ScanReply
	return &out, r.do(ctx, opScan, req, &out)
}

func (r *remote) Sketch(ctx context.Context, req *SketchRequest) (*SketchReply, error) {
	var out SketchReply
	return &out, r.do(ctx, opSketch, req, &out)
}

func (r *remote) Bin(ctx context.Context, req *BinRequest) (*BinReply, error) {
	var out BinReply
	return &out, r.do(ctx, opBin, req, &out)
}

// Serve answers one request of a Remote with d.
func Serve(ctx context.Context, d *DataSet, req []byte) ([]byte, error) {
	if len(req) == 0 {
		return nil, errors.New("train: empty request")
	}
	dec := gob.NewDecoder(bytes.NewReader(req[1:]))
	var reply any
	var err error
	switch req[0] {
	case opScan:
		var r ScanRequest
		if err = dec.Decode(&r); err == nil {
			reply, err = d.Scan(ctx, &r)
		}
	case opSketch:
		var r SketchRequest
		if err = dec.Decode(&r); err == nil {
			reply, err = d.Sketch(ctx, &r)
		}
	case opBin:
		var r BinRequest
		if err = dec.Decode(&r); err == nil {
			reply, err = d.Bin(ctx, &r)
		}
	default:
		w, werr := d.gbdtWorker()
		if werr != nil {
			return nil, werr
		}
		return gbdt.ServeWorker(ctx, w, req)
	}
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(reply); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
