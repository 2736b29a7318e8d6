package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flint-engine/flint/internal/clustertest"
)

// TestRESTAPI drives jobs through flint driver --http: submit (with an
// idempotency key), get, list, cancel, and the errors.
func TestRESTAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of OS processes")
	}
	c := clustertest.Start(t, clustertest.Options{Executors: 1, Binary: flintBin, DriverArgs: []string{"--http", "127.0.0.1:0"}})
	line, err := c.Driver().WaitOutput(regexp.MustCompile(`msg="REST API listening" addr=\S+`), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + strings.TrimPrefix(line, `msg="REST API listening" addr=`)
	call := func(method, path, body string, out any) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: content type %q", method, path, ct)
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return resp.StatusCode
	}
	type job struct {
		JobID    string `json:"job_id"`
		Existing bool
		Name     string
		State    string
		Error    string
		Labels   map[string]string
		Stages   []struct{ Stage, Tasks, Succeeded int }
	}

	// The driver resolves paths itself: give them absolute.
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	body := `{"sql": "SELECT dept, count(*) AS n FROM people GROUP BY dept", "tables": {"people": "` + abs(cliData+"people.csv") + `"},
		"name": "headcount", "idempotency_key": "k1", "labels": {"dag": "hr"}}`
	var sub job
	if code := call("POST", "/jobs", body, &sub); code != http.StatusCreated || sub.JobID == "" || sub.Existing {
		t.Fatalf("submit: %d %+v", code, sub)
	}
	var again job
	if code := call("POST", "/jobs", body, &again); code != http.StatusOK || again.JobID != sub.JobID || !again.Existing {
		t.Errorf("resubmit with the key: %d %+v, want 200 and %s", code, again, sub.JobID)
	}
	var got job
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code := call("GET", "/jobs/"+sub.JobID, "", &got); code != http.StatusOK {
			t.Fatalf("get: %d %+v", code, got)
		}
		if got.State != "running" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got.State != "succeeded" || got.Name != "headcount" || got.Labels["dag"] != "hr" || len(got.Stages) == 0 || got.Stages[0].Tasks == 0 {
		t.Errorf("job %+v", got)
	}
	var list struct{ Jobs []job }
	if code := call("GET", "/jobs?limit=1", "", &list); code != http.StatusOK || len(list.Jobs) != 1 || list.Jobs[0].JobID != sub.JobID {
		t.Errorf("list: %d %+v", code, list)
	}

	// A long job, cancelled.
	var long job
	slow := `{"sql": "CREATE EXTERNAL TABLE lineitem STORED AS PARQUET LOCATION '` + abs(filepath.Join(tpchData, "lineitem.parquet")) + `'; ` + endlessJoin + `",
		"idempotency_key": "long", "rerun_failed": true}`
	if code := call("POST", "/jobs", slow, &long); code != http.StatusCreated {
		t.Fatalf("submit the long job: %d %+v", code, long)
	}
	var cancelled job
	if code := call("POST", "/jobs/"+long.JobID+"/cancel", `{"reason": "operator"}`, &cancelled); code != http.StatusOK || cancelled.JobID != long.JobID {
		t.Errorf("cancel: %d %+v", code, cancelled)
	}
	for deadline := time.Now().Add(10 * time.Second); cancelled.State == "running" && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		call("GET", "/jobs/"+long.JobID, "", &cancelled)
	}
	if cancelled.State != "cancelled" || cancelled.Error != "cancelled: operator" {
		t.Errorf("cancelled job %+v", cancelled)
	}
	// With rerun_failed, the key's cancelled job runs again; the new one,
	// running, is returned as it is.
	var rerun, running job
	if code := call("POST", "/jobs", slow, &rerun); code != http.StatusCreated || rerun.JobID == long.JobID || rerun.Existing {
		t.Errorf("resubmit of the cancelled job with rerun_failed: %d %+v, want 201 and a new job", code, rerun)
	}
	if code := call("POST", "/jobs", slow, &running); code != http.StatusOK || running.JobID != rerun.JobID || !running.Existing {
		t.Errorf("resubmit of the running job with rerun_failed: %d %+v, want 200 and %s", code, running, rerun.JobID)
	}
	call("POST", "/jobs/"+rerun.JobID+"/cancel", `{}`, &cancelled)

	var e struct{ Error string }
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/jobs/no-such-job", "", http.StatusNotFound, `unknown job "no-such-job"`},
		{"POST", "/jobs/no-such-job/cancel", "", http.StatusNotFound, `unknown job "no-such-job"`},
		{"POST", "/jobs", `{"sql": ""}`, http.StatusBadRequest, `"sql" is required`},
		{"POST", "/jobs", `{"sql": "SELECT 1", "colour": 1}`, http.StatusBadRequest, `unknown field "colour"`},
		{"POST", "/jobs", `{"sql": "SELECT x FROM nowhere"}`, http.StatusBadRequest, "nowhere"},
		{"GET", "/jobs?limit=-1", "", http.StatusBadRequest, "limit"},
		{"POST", "/jobs", `{"sql": "SELECT 1", "rerun_failed": true}`, http.StatusBadRequest, `need "idempotency_key"`},
	} {
		if code := call(tc.method, tc.path, tc.body, &e); code != tc.code || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s %s %s: %d %q; want %d and %q", tc.method, tc.path, tc.body, code, e.Error, tc.code, tc.want)
		}
	}
}
