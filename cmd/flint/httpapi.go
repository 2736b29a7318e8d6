package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// The REST/JSON endpoint of flint driver --http: a thin client of the
// driver's own gRPC service, for orchestrators that speak HTTP only.
//
//	POST /jobs               submit: {"sql": ..., options} -> {"job_id", "existing"}
//	GET  /jobs               recent jobs, newest first (?limit=N)
//	GET  /jobs/{id}          one job, with stage progress
//	POST /jobs/{id}/cancel   cancel ({"reason"} optional) -> the job
//
// Errors are {"error": message} with a 4xx or 5xx status. SQL is bound
// here, as flint submit binds it: the script's earlier statements (CREATE
// EXTERNAL TABLE, CREATE VIEW) and "tables" name the tables.

// submitBody is the body of POST /jobs.
type submitBody struct {
	SQL string `json:"sql"`
	// Tables registers tables by NAME: PATH (a file, directory or glob,
	// as flint submit --table), readable by the driver and executors.
	Tables         map[string]string `json:"tables,omitempty"`
	Name           string            `json:"name,omitempty"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	Rerun          bool              `json:"rerun,omitempty"`
	RerunFailed    bool              `json:"rerun_failed,omitempty"`
	DeadlineMs     int64             `json:"deadline_ms,omitempty"`
	SlaMs          int64             `json:"sla_ms,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	Notify         []string          `json:"notify,omitempty"`
}

type submitReply struct {
	JobID    string `json:"job_id"`
	Existing bool   `json:"existing"`
}

// jobDetail is GET /jobs/{id}: the job line plus its stages.
type jobDetail struct {
	jobLine
	Stages []stageLine `json:"stages,omitempty"`
}

type stageLine struct {
	Stage     int32 `json:"stage"`
	Tasks     int32 `json:"tasks"`
	Succeeded int32 `json:"succeeded"`
	Running   int32 `json:"running"`
}

// maxSubmitBody bounds a POST /jobs body.
const maxSubmitBody = 1 << 20

// jobsAPI serves the REST endpoint against the driver at addr.
type jobsAPI struct {
	addr string
	conn *driverclient.Conn
}

func newJobsAPI(addr string) (*jobsAPI, http.Handler, error) {
	conn, err := driverclient.Dial(addr)
	if err != nil {
		return nil, nil, err
	}
	a := &jobsAPI{addr: addr, conn: conn}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /jobs", a.submit)
	mux.HandleFunc("GET /jobs", a.list)
	mux.HandleFunc("GET /jobs/{id}", a.get)
	mux.HandleFunc("POST /jobs/{id}/cancel", a.cancel)
	return a, mux, nil
}

func (a *jobsAPI) Close() error { return a.conn.Close() }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

// rpcFailed answers a failed gRPC call with the HTTP status of its code.
func (a *jobsAPI) rpcFailed(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch status.Code(err) {
	case codes.NotFound:
		code = http.StatusNotFound
	case codes.InvalidArgument:
		code = http.StatusBadRequest
	case codes.FailedPrecondition:
		code = http.StatusConflict
	case codes.Unavailable:
		code = http.StatusServiceUnavailable
	}
	writeError(w, code, a.conn.Error("", err))
}

func (a *jobsAPI) submit(w http.ResponseWriter, r *http.Request) {
	var b submitBody
	dec := json.NewDecoder(io.LimitReader(r.Body, maxSubmitBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("request body: %w", err))
		return
	}
	switch {
	case b.SQL == "":
		writeError(w, http.StatusBadRequest, errors.New(`request body: "sql" is required`))
		return
	case b.DeadlineMs < 0 || b.SlaMs < 0:
		writeError(w, http.StatusBadRequest, errors.New(`request body: "deadline_ms" and "sla_ms" must not be negative`))
		return
	case (b.Rerun || b.RerunFailed) && b.IdempotencyKey == "":
		writeError(w, http.StatusBadRequest, errors.New(`request body: "rerun" and "rerun_failed" need "idempotency_key"`))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
	defer cancel()
	s, err := flint.NewSession(ctx, flint.WithDriver(a.addr))
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	defer s.Close()
	for name, path := range b.Tables {
		if err := s.RegisterTable(ctx, name, "", path, nil); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("table %s: %w", name, err))
			return
		}
	}
	id, existing, err := s.SubmitSQL(ctx, b.SQL, flint.SubmitOptions{Name: b.Name, IdempotencyKey: b.IdempotencyKey,
		Rerun: b.Rerun, RerunFailed: b.RerunFailed, Deadline: time.Duration(b.DeadlineMs) * time.Millisecond, SLA: time.Duration(b.SlaMs) * time.Millisecond,
		Labels: b.Labels, Notify: b.Notify})
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	code := http.StatusCreated
	if existing {
		code = http.StatusOK
	}
	w.Header().Set("Location", "/jobs/"+id)
	writeJSON(w, code, submitReply{JobID: id, Existing: existing})
}

func (a *jobsAPI) list(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("limit %q: want a number >= 0", v))
			return
		}
		limit = n
	}
	resp, err := a.conn.Client.ListJobs(r.Context(), &pb.ListJobsRequest{Limit: int32(limit)})
	if err != nil {
		a.rpcFailed(w, err)
		return
	}
	now := time.Now()
	jobs := make([]jobLine, 0, len(resp.GetJobs()))
	for _, st := range resp.GetJobs() {
		jobs = append(jobs, toJobLine(st, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": jobs})
}

func (a *jobsAPI) detail(w http.ResponseWriter, ctx context.Context, id string) {
	st, err := a.conn.Client.Status(ctx, &pb.StatusRequest{JobId: id})
	if err != nil {
		a.rpcFailed(w, err)
		return
	}
	d := jobDetail{jobLine: toJobLine(st, time.Now())}
	for _, s := range st.GetStages() {
		d.Stages = append(d.Stages, stageLine{Stage: s.GetStage(), Tasks: s.GetTasks(), Succeeded: s.GetSucceeded(), Running: s.GetRunning()})
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *jobsAPI) get(w http.ResponseWriter, r *http.Request) {
	a.detail(w, r.Context(), r.PathValue("id"))
}

func (a *jobsAPI) cancel(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Reason string `json:"reason"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxSubmitBody)).Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("request body: %w", err))
		return
	}
	id := r.PathValue("id")
	if _, err := a.conn.Client.Cancel(r.Context(), &pb.CancelRequest{JobId: id, Reason: b.Reason}); err != nil {
		a.rpcFailed(w, err)
		return
	}
	a.detail(w, r.Context(), id)
}

// serveJobsAPI serves the REST endpoint on listen for the driver at addr
// until ctx ends. It returns once listening; errors while serving are
// logged by the caller's stop function's result.
func serveJobsAPI(ctx context.Context, listen, driverAddr string) (string, func() error, error) {
	api, h, err := newJobsAPI(driverAddr)
	if err != nil {
		return "", nil, err
	}
	lis, err := net.Listen("tcp", listen)
	if err != nil {
		api.Close()
		return "", nil, fmt.Errorf("--http %s: %w", listen, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		err := <-done
		api.Close()
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
	return lis.Addr().String(), stop, nil
}
