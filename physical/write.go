package physical

import (
	"fmt"
	"strings"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/plan"
)

// Write is the sink of a dataset write (COPY ... TO, DataFrame.Write): it
// sits at the root of the final stage, and every task of that stage
// writes its own rows into files under Spec.Location instead of
// returning them. Tasks report the files they completed; the driver
// commits one attempt per task (connectors.WriteJob). Schema is the
// input's: the columns written (minus the partition columns, which become
// folders).
type Write struct {
	Input Node
	Spec  connectors.WriteSpec
}

func (n *Write) Schema() plan.Schema { return n.Input.Schema() }
func (n *Write) Children() []Node    { return []Node{n.Input} }
func (n *Write) String() string {
	s := fmt.Sprintf("Write %s to %q", n.Spec.Format, n.Spec.Location)
	if n.Spec.Mode != "" {
		s += " mode=" + string(n.Spec.Mode)
	}
	if len(n.Spec.PartitionBy) > 0 {
		names := make([]string, len(n.Spec.PartitionBy))
		for i, c := range n.Spec.PartitionBy {
			names[i] = c.Name
		}
		s += " partition_by=[" + strings.Join(names, ", ") + "]"
	}
	return s
}

// WriteOf returns the Write at the root of stage s, or nil.
func WriteOf(s *Stage) *Write {
	if s == nil {
		return nil
	}
	w, _ := s.Root.(*Write)
	return w
}
