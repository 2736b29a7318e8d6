package physical

import (
	"fmt"
	"strings"

	"github.com/flint-engine/flint/connectors"
)

// Stage is a piece of the physical plan that runs as a set of independent
// tasks, one per partition, without moving data between them. Exchange
// nodes inside Root are leaves: they read the output of the stage with the
// exchange's ID (their Input subtree belongs to that stage).
type Stage struct {
	ID   int
	Root Node
	// Inputs are the IDs of the stages whose exchanges Root reads.
	Inputs []int
	// Output is the exchange this stage writes into; nil for the final
	// stage, whose output is the query result.
	Output *Exchange
	// Scan is the stage's table scan, if it has one; its tasks are then one
	// per group of scan splits, decided when the stage is scheduled.
	Scan *Scan
	// Tasks is the number of tasks for stages without a scan.
	Tasks int
}

// StagePlan is a physical plan cut into stages. Stages are in dependency
// order: every stage comes after the stages it reads.
type StagePlan struct {
	Stages []*Stage
	Root   Node
}

// Final returns the stage that produces the query result.
func (p *StagePlan) Final() *Stage { return p.Stages[len(p.Stages)-1] }

// Cut splits root into stages at its Exchange nodes.
func Cut(root Node) (*StagePlan, error) {
	c := &cutter{made: map[*Exchange]*Stage{}}
	final, err := c.stage(root, nil)
	if err != nil {
		return nil, err
	}
	_ = final
	return &StagePlan{Stages: c.stages, Root: root}, nil
}

type cutter struct {
	stages []*Stage
	made   map[*Exchange]*Stage // the stage producing each exchange
}

// producer returns the stage writing ex, cutting it on first use; an
// exchange whose input is Reused is produced by the stage of the one it
// reuses.
func (c *cutter) producer(ex *Exchange) (*Stage, error) {
	if r, ok := ex.Input.(*Reused); ok {
		return c.producer(r.Of)
	}
	if s, ok := c.made[ex]; ok {
		return s, nil
	}
	s, err := c.stage(ex.Input, ex)
	if err != nil {
		return nil, err
	}
	c.made[ex] = s
	return s, nil
}

func (c *cutter) stage(root Node, out *Exchange) (*Stage, error) {
	s := &Stage{Root: root, Output: out}
	tasks := -1
	setTasks := func(n int) error {
		if tasks >= 0 && tasks != n {
			return fmt.Errorf("physical plan: stage mixes inputs with %d and %d partitions", tasks, n)
		}
		tasks = n
		return nil
	}
	var walk func(n Node) error
	walk = func(n Node) error {
		switch n := n.(type) {
		case *Exchange:
			child, err := c.producer(n)
			if err != nil {
				return err
			}
			n.ID = child.ID
			s.Inputs = append(s.Inputs, child.ID)
			switch n.Kind {
			case ExchangeHash, ExchangeRoundRobin:
				return setTasks(n.Partitions)
			case ExchangeSingle:
				return setTasks(1)
			}
			return nil
		case *Scan:
			if s.Scan != nil {
				return fmt.Errorf("physical plan: stage has two scans (%s, %s)", s.Scan.Source.Name, n.Source.Name)
			}
			s.Scan = n
			return nil
		}
		for _, ch := range n.Children() {
			if err := walk(ch); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	if s.Scan != nil && tasks >= 0 {
		return nil, fmt.Errorf("physical plan: stage scanning %s also reads a partitioned exchange", s.Scan.Source.Name)
	}
	if tasks < 0 {
		tasks = 1
	}
	s.Tasks = tasks
	s.ID = len(c.stages)
	c.stages = append(c.stages, s)
	return s, nil
}

// Format renders the plan as an indented tree.
func Format(n Node) string {
	var b strings.Builder
	var rec func(n Node, depth int)
	rec = func(n Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth) + n.String() + "\n")
		for _, ch := range n.Children() {
			rec(ch, depth+1)
		}
	}
	rec(n, 0)
	return b.String()
}

// Format renders every stage, with exchanges shown as reads of their
// producing stage.
func (p *StagePlan) Format() string { return p.FormatAnnotated(nil) }

// FormatAnnotated is Format with note(n), when not empty, appended to the
// line of every node n (EXPLAIN ANALYZE's figures).
func (p *StagePlan) FormatAnnotated(note func(Node) string) string {
	line := func(n Node, text string) string {
		if note != nil {
			if s := note(n); s != "" {
				return text + "  [" + s + "]"
			}
		}
		return text
	}
	var b strings.Builder
	for _, s := range p.Stages {
		tasks := fmt.Sprint(s.Tasks)
		if s.Scan != nil {
			tasks = "per split"
		}
		out := "result"
		if s.Output != nil {
			out = s.Output.String()
		}
		fmt.Fprintf(&b, "Stage %d (tasks: %s, output: %s)\n", s.ID, tasks, out)
		var rec func(n Node, depth int)
		rec = func(n Node, depth int) {
			if ex, ok := n.(*Exchange); ok && depth > 0 {
				b.WriteString(strings.Repeat("  ", depth+1) + line(n, fmt.Sprintf("Read %s from stage %d", ex.Kind, ex.ID)) + "\n")
				return
			}
			b.WriteString(strings.Repeat("  ", depth+1) + line(n, n.String()) + "\n")
			for _, ch := range n.Children() {
				rec(ch, depth+1)
			}
		}
		root := s.Root
		rec(root, 0)
	}
	return b.String()
}

// Task is one partition of one stage.
type Task struct {
	Stage *Stage
	// Index is the partition this task computes; it selects which
	// partition of hash and round-robin exchanges the task reads.
	Index int
	// Splits are the scan splits of this task (scan stages only).
	Splits []connectors.Split
	// Attempt counts the runs of this task (0 first); a write task puts it
	// in the names of its files.
	Attempt int
}
