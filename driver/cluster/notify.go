package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	pb "github.com/flint-engine/flint/proto/flintpb"
)

// Notification is the JSON body the driver POSTs to a job's notify URLs.
// Text makes it a Slack incoming-webhook message as it is; the other
// fields are for receivers that read them.
type Notification struct {
	Text  string `json:"text"`
	JobID string `json:"job_id"`
	Name  string `json:"name,omitempty"`
	// State is the job's state as flint status prints it: succeeded,
	// failed, cancelled, timed_out, or running (retry and sla events).
	State string `json:"state"`
	// Event is what happened: the final state, "task_retry" or "sla".
	Event  string            `json:"event"`
	Error  string            `json:"error,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// notifyQueue bounds the notifications waiting to be posted; beyond it
// they are dropped (and logged) rather than slow down scheduling.
const notifyQueue = 1024

type notification struct {
	urls []string
	msg  Notification
}

// notifyURLs checks a job's notify URLs: absolute http or https.
func notifyURLs(urls []string) ([]string, error) {
	for i, u := range urls {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("notify URL %d %q: want an absolute http:// or https:// URL", i+1, u)
		}
	}
	return urls, nil
}

// queueNotifyLocked hands a job's notification to the poster without
// waiting: a full queue drops it.
func (d *Driver) queueNotifyLocked(j *job, event, errText string) {
	if len(j.notify) == 0 {
		return
	}
	state := stateName(j.state)
	var text string
	who := "Flint job " + j.id
	if j.name != "" {
		who += " (" + j.name + ")"
	}
	switch event {
	case "sla":
		text = fmt.Sprintf("%s not finished after %s", who, j.sla)
	case "task_retry":
		text = fmt.Sprintf("%s: %s", who, errText)
	default:
		text = fmt.Sprintf("%s %s after %s", who, stateText(j.state), j.finished.Sub(j.submitted).Round(time.Millisecond))
		if errText != "" {
			text += ": " + errText
		}
	}
	n := notification{urls: j.notify, msg: Notification{Text: text, JobID: j.id, Name: j.name, State: state,
		Event: event, Error: errText, Labels: j.labels}}
	select {
	case d.notes <- n:
	default:
		d.log.Warn("notification dropped: queue full", "job", j.id, "event", event)
	}
}

// stateText is a state in a sentence: "timed out", not "timed_out".
func stateText(s pb.JobState) string {
	if s == pb.JobState_JOB_STATE_TIMED_OUT {
		return "timed out"
	}
	return stateName(s)
}

// notifyEndLocked tells a job's URLs that it has ended.
func (d *Driver) notifyEndLocked(j *job) {
	d.queueNotifyLocked(j, stateName(j.state), j.err)
}

// slaLocked posts the SLA alert of every running job past its SLA, once:
// a replicated driver records the alert in the group first, so that a
// later leader does not post it again.
func (d *Driver) slaLocked(now time.Time) {
	for _, j := range d.jobs {
		if j.sla > 0 && !j.slaAlerted && !j.done() && now.Sub(j.submitted) > j.sla {
			if !d.recordLocked(j, slaAlertedRecordName, []byte{1}) {
				continue // not leading, or not committed: the next tick tries again
			}
			j.slaAlerted = true
			d.log.Warn("job past its SLA", "job", j.id, "name", j.name, "sla", j.sla)
			d.queueNotifyLocked(j, "sla", "")
		}
	}
}

// poster posts queued notifications one at a time, in order, each bounded
// by NotifyTimeout. It returns when the driver stops, after posting what
// was queued by then (the jobs Stop ended), which endCtx cuts short.
func (d *Driver) poster() {
	defer d.wg.Done()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: d.cfg.NotifyTimeout, Transport: transport}
	for {
		select {
		case n := <-d.notes:
			d.post(client, n)
		case <-d.ctx.Done():
			for {
				select {
				case n := <-d.notes:
					d.post(client, n)
				default:
					return
				}
			}
		}
	}
}

func (d *Driver) post(client *http.Client, n notification) {
	body, err := json.Marshal(n.msg)
	if err != nil {
		d.log.Error("internal error: encode notification", "job", n.msg.JobID, "err", err)
		return
	}
	for _, u := range n.urls {
		ctx, cancel := context.WithTimeout(d.endCtx, d.cfg.NotifyTimeout)
		err := func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("HTTP %s", resp.Status)
			}
			return nil
		}()
		cancel()
		if err != nil {
			d.log.Warn("notification failed", "job", n.msg.JobID, "event", n.msg.Event, "url", u, "err", err)
		}
	}
}
