package coordinator

// StageRef names one stage of a job.
type StageRef struct {
	Job   string
	Stage int
}

// Proposal is what the scheduler wants to happen next: tasks to start, and
// stages whose task count must be computed (scan stages whose inputs are
// ready) before their tasks can be scheduled.
type Proposal struct {
	Start     []TaskStarted
	NeedTasks []StageRef
	// Stuck lists running jobs that have work but no live executor at all
	// (detached ones do not count).
	Stuck []string
}

// Plan proposes assignments for pending tasks whose stage inputs are
// complete, filling free executor slots. Jobs are served in ID order and
// stages in order, so earlier stages (and earlier jobs) go first. A retried
// task is not placed on the executor its last attempt failed on while
// another executor is alive, even if it has to wait for a slot there (the
// failure may be the machine's: a full disk, a bad library); then a task
// prefers the executor holding most of its stage's input outputs
// (locality), then the one with the most free slots. Plan does not change
// the state.
func Plan(s *State) Proposal {
	var p Proposal
	free := map[string]int{}
	alive := 0
	for _, id := range s.ExecutorIDs() {
		e := s.Executors[id]
		if e.Alive && !e.Detached {
			alive++
			free[id] = e.Free()
		}
	}
	for _, jid := range s.JobIDs() {
		j := s.Jobs[jid]
		if j.Status.Done() {
			continue
		}
		hasWork := false
		for _, st := range j.Stages {
			if !s.inputsComplete(j, st) {
				continue
			}
			if !st.Known {
				p.NeedTasks = append(p.NeedTasks, StageRef{Job: jid, Stage: st.ID})
				hasWork = true
				continue
			}
			var local map[string]int
			for _, t := range st.Tasks {
				if t.Status != Pending {
					continue
				}
				hasWork = true
				if local == nil {
					local = holders(j, st)
				}
				avoid := t.FailedOn
				if e, ok := s.Executors[avoid]; ok && e.Alive && !e.Detached && alive == 1 {
					avoid = "" // the only executor left: better there than nowhere
				}
				best := pick(s, free, local, avoid)
				if best == "" {
					continue
				}
				free[best]--
				p.Start = append(p.Start, TaskStarted{Job: jid, Stage: st.ID, Task: t.Index, Attempt: t.Attempt + 1, Executor: best})
			}
		}
		if hasWork && alive == 0 {
			p.Stuck = append(p.Stuck, jid)
		}
	}
	return p
}

// holders counts, per executor, the finished input map outputs it holds.
func holders(j *Job, st *Stage) map[string]int {
	m := map[string]int{}
	for _, in := range st.Inputs {
		for _, t := range j.Stages[in].Tasks {
			if t.Status == Succeeded && t.Executor != "" {
				m[t.Executor]++
			}
		}
	}
	return m
}

func pick(s *State, free map[string]int, local map[string]int, avoid string) string {
	best := ""
	for _, id := range s.ExecutorIDs() {
		if free[id] <= 0 || id == avoid {
			continue
		}
		if best == "" || local[id] > local[best] || (local[id] == local[best] && free[id] > free[best]) {
			best = id
		}
	}
	return best
}
