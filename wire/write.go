package wire

import (
	"errors"
	"fmt"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/physical"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// EncodeWriteSpec encodes a dataset write's spec.
func EncodeWriteSpec(s *connectors.WriteSpec) *pb.WriteSpec {
	if s == nil {
		return nil
	}
	p := &pb.WriteSpec{Format: string(s.Format), Location: s.Location, Mode: string(s.Mode), WriteId: s.WriteID}
	for _, c := range s.PartitionBy {
		p.PartitionBy = append(p.PartitionBy, &pb.PartitionColumn{Name: c.Name, Type: c.Type})
	}
	if len(s.Options) > 0 {
		p.Options = make(map[string]string, len(s.Options))
		for k, v := range s.Options {
			p.Options[k] = v
		}
	}
	return p
}

// DecodeWriteSpec decodes and checks a write spec (format, options,
// location, write ID).
func DecodeWriteSpec(p *pb.WriteSpec) (*connectors.WriteSpec, error) {
	if p == nil {
		return nil, errors.New("missing write spec")
	}
	s := &connectors.WriteSpec{Format: connectors.Format(p.GetFormat()), Location: p.GetLocation(),
		Mode: connectors.WriteMode(p.GetMode()), WriteID: p.GetWriteId()}
	for _, c := range p.GetPartitionBy() {
		s.PartitionBy = append(s.PartitionBy, connectors.PartitionColumn{Name: c.GetName(), Type: c.GetType()})
	}
	if len(p.GetOptions()) > 0 {
		s.Options = make(map[string]string, len(p.GetOptions()))
		for k, v := range p.GetOptions() {
			s.Options[k] = v
		}
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	return s, nil
}

func (e *nodeEncoder) write(n *physical.Write) (int32, error) {
	i, err := e.node(n.Input)
	if err != nil {
		return 0, err
	}
	return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Write{Write: &pb.PhysWrite{Input: i, Spec: EncodeWriteSpec(&n.Spec)}}}), nil
}

func (d *nodeDecoder) write(p *pb.PhysWrite) (physical.Node, error) {
	in, err := d.ref(p.GetInput())
	if err != nil {
		return nil, fmt.Errorf("Write: %w", err)
	}
	spec, err := DecodeWriteSpec(p.GetSpec())
	if err != nil {
		return nil, fmt.Errorf("Write: %w", err)
	}
	return &physical.Write{Input: in, Spec: *spec}, nil
}
