package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/connectors/s3"
	"github.com/flint-engine/flint/internal/porttest"
	"github.com/flint-engine/flint/internal/resultcmp"
	"github.com/flint-engine/flint/tpch"
)

// runID names this run's compose project and image tags: concurrent runs
// (and `make image`'s :latest) do not touch one another's.
var (
	runID          = fmt.Sprintf("%d%04d", os.Getpid(), rand.IntN(10000))
	project        = "flinttest" + runID
	flintImage     = "flint:test-" + runID
	versitygwImage = "flint-versitygw:test-" + runID
)

// The S3 credentials the test gives the compose file, and limits.
const (
	accessKey = "FLINTCOMPOSETEST"
	secretKey = "flint-compose-test-secret"
	bucket    = "tpch"
	// maxImageBytes bounds the flint image: a static binary and a CA bundle.
	maxImageBytes = 80 << 20
)

// The TPC-H sample (SF0.01) and DuckDB's answers for it.
const (
	sampleDir  = "../testdata/tpch/sf-sample"
	answersDir = "../testdata/tpch/answers/sample"
)

var registered = regexp.MustCompile(`msg="registered with driver"`)

// TestCompose builds the images, starts deploy/compose.yaml under a
// project name of its own, loads the TPC-H sample into its S3 and runs
// TPC-H queries from this process through the published driver port,
// checking each answer against DuckDB's. Then, round after round
// (FLINT_COMPOSE_ROUNDS, default 5), on alternating executors:
//
//   - an executor container is killed (docker kill: SIGKILL) while a query
//     has work on it: the answer is still right; restarted, it registers
//     with the driver anew and the driver counts two executors;
//   - one is frozen (SIGSTOP) while a query runs, past the driver's
//     heartbeat timeout: the driver declares it lost, the query's tasks run
//     on the other one and the answer is right; thawed, it registers again;
//   - one is killed while a COPY to S3 has write tasks on it: the COPY
//     commits every source row exactly once (checked against the source
//     file read with arrow-go, not Flint) and leaves no object beside the
//     manifest and the files it lists, and no unfinished upload.
//
// The driver is a raft group of three containers. Last, its leader is
// killed mid-query (TPC-H Q9): the query answers right through the new
// leader; the old one, started again, rejoins the group as a follower.
//
// It needs a Docker daemon and docker-compose (or the docker compose
// plugin); without them it is skipped, saying so, unless
// FLINT_REQUIRE_DOCKER is set (CI sets it): then it fails. -short skips it.
func TestCompose(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the container test builds images and runs a compose cluster")
	}
	compose := composeCommand(t)
	start := time.Now()
	// A cold build cache makes the image build the slow part (two minutes
	// on two idle cores: -trimpath shares no compiled package with other
	// builds); with a warm one the whole test takes about 20 seconds.
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 7*time.Minute)
	defer cancelBuild()
	flintBin := buildImages(t, buildCtx)
	checkImage(t, buildCtx)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t.Logf("images built and checked in %v", time.Since(start).Round(time.Millisecond))

	c := up(t, ctx, compose, flintBin)
	s3Endpoint := "http://" + c.port("s3", 7000)
	for _, d := range drivers {
		c.driverAddrs[d] = c.port(d, 7070)
	}
	driver := c.driverList()
	waitHealthy(t, ctx, s3Endpoint+"/health")
	for _, e := range []string{"executor-1", "executor-2"} {
		c.waitRegistered(e, 1)
	}
	// Their health checks (flint ping in the image) pass, and each
	// executor container is limited to the memory of its --memory-limit.
	for _, svc := range append(drivers[:len(drivers):len(drivers)], "executor-1", "executor-2") {
		c.waitHealth(svc)
	}
	c.lead = c.leader(nil).ID
	for _, svc := range []string{"executor-1", "executor-2"} {
		if got := c.inspect(svc, "{{.HostConfig.Memory}} {{.Config.User}}"); got != "1073741824 10001" {
			t.Errorf("%s: memory limit and user %q, want 1073741824 (1GiB, its --memory-limit) and 10001", svc, got)
		}
	}
	if got := c.inspect("s3", "{{.Config.User}}"); got != "10001" {
		t.Errorf("s3 runs as user %q, want 10001", got)
	}
	t.Logf("cluster up in %v (drivers %s, %s leads; S3 %s)", time.Since(start).Round(time.Millisecond), driver, c.lead, s3Endpoint)

	load(t, ctx, s3Endpoint)
	// The session opens the tables here, at the published S3 port; the
	// executors read the same s3:// paths at http://s3:7000 inside the
	// compose network.
	fs.Register("s3", s3.New(s3.Options{Endpoint: s3Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")}))
	t.Cleanup(s3.Register)
	sess, err := flint.NewSession(ctx, flint.WithDriver(driver))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for _, table := range tpch.Tables {
		if err := sess.RegisterTable(ctx, table, "parquet", "s3://"+bucket+"/sf0.01/"+table+".parquet", nil); err != nil {
			t.Fatal(err)
		}
	}

	for _, q := range []int{1, 3, 5, 10, 18} {
		if err := runQuery(ctx, sess, q); err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("queries answered in %v", time.Since(start).Round(time.Millisecond))

	// The faults, round after round (FLINT_COMPOSE_ROUNDS, default 5: CI
	// asks every fault to pass 5 times out of 5), on alternating victims.
	rounds := 5
	if v := os.Getenv("FLINT_COMPOSE_ROUNDS"); v != "" {
		if rounds, err = strconv.Atoi(v); err != nil || rounds < 1 {
			t.Fatalf("FLINT_COMPOSE_ROUNDS=%q: want a positive count", v)
		}
	}
	want := sourceKeys(t)
	for r := 1; r <= rounds; r++ {
		victim, other := "executor-1", "executor-2"
		if r%2 == 0 {
			victim, other = other, victim
		}
		roundStart := time.Now()
		c.killMidQuery(sess, victim, 9)
		c.restart(victim)
		c.pausePastHeartbeat(sess, other, 18)
		c.copyUnderKill(sess, victim, fmt.Sprintf("copies/round-%d", r), want)
		c.restart(victim)
		if t.Failed() {
			t.Fatalf("round %d of %d failed", r, rounds)
		}
		t.Logf("fault round %d of %d passed in %v (killed %s mid-query and mid-COPY, froze %s past the heartbeat timeout)",
			r, rounds, time.Since(roundStart).Round(time.Millisecond), victim, other)
	}
	c.killLeaderMidQuery(sess, 9)
	c.partitionLeaderMidQuery(sess, 18)
	for _, q := range []int{5, 18} {
		if err := runQuery(ctx, sess, q); err != nil {
			t.Errorf("after the faults: %v", err)
		}
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// drivers are the driver services, a raft group; their raft IDs are
// their service names.
var drivers = []string{"driver-1", "driver-2", "driver-3"}

// driverLog is the leading driver container's log so far (the executors
// register with it, it declares them lost).
func (c *cluster) driverLog() string { return c.compose("logs", "--no-color", c.lead) }

// driverList is every driver's published address, comma-separated, as
// clients on the host are given them.
func (c *cluster) driverList() string {
	var addrs []string
	for _, d := range drivers {
		addrs = append(addrs, c.driverAddrs[d])
	}
	return strings.Join(addrs, ",")
}

// member is one line of flint drivers --format json.
type member struct {
	ID, Address, State, Error string
	Term                      uint64
	Applied                   uint64
}

// members runs flint drivers --format json on the host, through the
// published ports.
func (c *cluster) members() []member {
	c.t.Helper()
	cmd := exec.CommandContext(c.ctx, c.flint, "drivers", "--driver", c.driverList(), "--format", "json")
	out, _ := cmd.Output() // exit 1 without a leader: the lines say why
	var ms []member
	if err := json.Unmarshal(out, &ms); err != nil || len(ms) != len(drivers) {
		c.t.Fatalf("flint drivers --format json printed %q", out)
	}
	return ms
}

// leader waits until exactly one driver leads, and ok (when not nil)
// accepts the group, and returns the leader.
func (c *cluster) leader(ok func(lead member, ms []member) bool) member {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ms := c.members()
		var leads []member
		for _, m := range ms {
			if m.State == "leader" {
				leads = append(leads, m)
			}
		}
		if len(leads) == 1 && slices.Contains(drivers, leads[0].ID) && (ok == nil || ok(leads[0], ms)) {
			return leads[0]
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("flint drivers: no single leader as awaited within 60s: %+v", ms)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// killLeaderMidQuery kills (SIGKILL) the leading driver's container while
// TPC-H query q runs — the executors frozen meanwhile, so that q cannot
// end before — and checks q's answer, given by the next leader. Then the
// old leader's container starts again, from its raft log, and rejoins
// the group as a follower.
func (c *cluster) killLeaderMidQuery(sess *flint.Session, q int) {
	c.loseLeaderMidQuery(sess, q, false)
}

// partitionLeaderMidQuery is killLeaderMidQuery with the leader's
// container disconnected from the cluster's network instead (docker
// network disconnect: a network partition; it keeps running, cut off
// from the other drivers, the executors and the clients alike), and
// connected again once q is answered.
func (c *cluster) partitionLeaderMidQuery(sess *flint.Session, q int) {
	c.loseLeaderMidQuery(sess, q, true)
}

func (c *cluster) loseLeaderMidQuery(sess *flint.Session, q int, partition bool) {
	c.t.Helper()
	old := c.leader(nil)
	how := "killed"
	if partition {
		how = "cut off"
	}
	execs := []string{c.container("executor-1"), c.container("executor-2")}
	for _, id := range execs {
		c.freeze(id)
	}
	done := make(chan error, 1)
	go func() { done <- runQuery(c.ctx, sess, q) }()
	// The job is submitted (committed by the group) and waits for the
	// frozen executors.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(c.jobs(), `"state":"running"`) {
		select {
		case err := <-done:
			c.t.Fatalf("Q%d ended with the executors frozen: %v", q, err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("Q%d is not running after 20s: flint jobs %s", q, c.jobs())
		}
	}
	network := c.inspect(old.ID, "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}")
	if partition {
		c.run("network", "disconnect", network, c.container(old.ID))
	} else {
		c.run("kill", c.container(old.ID))
	}
	lost := time.Now()
	for _, id := range execs {
		c.thaw(id)
	}
	lead := c.leader(func(m member, _ []member) bool { return m.ID != old.ID })
	elected := time.Since(lost)
	if lead.Term <= old.Term {
		c.t.Errorf("leader after the loss: %+v; before: %+v", lead, old)
	}
	if err := <-done; err != nil {
		c.t.Fatalf("with the leader %s %s mid-query: %v", old.ID, how, err)
	}
	c.lead = lead.ID
	c.t.Logf("Q%d answered right %v after the leader %s was %s mid-query; %s led in term %d after %v", q,
		time.Since(lost).Round(time.Millisecond), old.ID, how, lead.ID, lead.Term, elected.Round(time.Millisecond))

	started := time.Now()
	if partition {
		// Its service name resolves to it again on the network.
		c.run("network", "connect", "--alias", old.ID, network, c.container(old.ID))
	} else {
		c.compose("start", old.ID)
	}
	if addr := c.port(old.ID, 7070); addr != c.driverAddrs[old.ID] {
		c.t.Errorf("%s is published on %s now, on %s before", old.ID, addr, c.driverAddrs[old.ID])
	}
	c.leader(func(m member, ms []member) bool {
		for _, b := range ms {
			if b.ID == old.ID {
				return m.ID == lead.ID && b.State == "follower" && b.Term == m.Term && b.Applied >= lead.Applied
			}
		}
		return false
	})
	again := "started again (docker-compose start)"
	if partition {
		again = "connected again (docker network connect)"
	}
	c.t.Logf("%s, %s, follows %s, caught up, %v later", old.ID, again, lead.ID, time.Since(started).Round(time.Millisecond))
}

// jobs is what flint jobs --format json prints of the group's jobs.
func (c *cluster) jobs() string {
	c.t.Helper()
	out, err := exec.CommandContext(c.ctx, c.flint, "jobs", "--driver", c.driverList(), "--format", "json").CombinedOutput()
	if err != nil {
		c.t.Fatalf("flint jobs: %v\n%s", err, out)
	}
	return string(out)
}

// count is the number of matches of re in s.
func count(re *regexp.Regexp, s string) int { return len(re.FindAllStringIndex(s, -1)) }

// freeze stops every process of container id (SIGSTOP, from the host: the
// signal reaches its PID 1 too) and thaw lets them go on (SIGCONT). Not
// docker pause: a health check's exec that starts as the cgroup freezes
// is frozen with it, and the daemon then hung on that container — compose
// logs timed out, and neither unpause nor compose down came back.
func (c *cluster) freeze(id string) { c.run("kill", "--signal", "STOP", id) }

func (c *cluster) thaw(id string) { c.run("kill", "--signal", "CONT", id) }

// freezeDuring freezes victim (freeze) and starts work, then waits
// until work has run a while without finishing, so the victim holds some
// of its tasks, and returns the channel work's error arrives on.
func (c *cluster) freezeDuring(victim, what string, work func() error) (<-chan error, string) {
	c.t.Helper()
	id := c.container(victim)
	c.freeze(id)
	done := make(chan error, 1)
	go func() { done <- work() }()
	select {
	case err := <-done:
		c.thaw(id)
		c.t.Fatalf("%s ended while %s was frozen (it got no task there, or failed: %v); the fault would not hit it mid-run", what, victim, err)
	case <-time.After(1500 * time.Millisecond):
	}
	return done, id
}

// lostRe matches the driver's log line declaring victim lost. Whether it
// counts running attempts depends on a race (the attempt whose RunTask
// call broke may be the one that reported the loss); that the victim held
// work is shown by freezeDuring: the job could not finish without it.
func lostRe(victim string) *regexp.Regexp {
	return regexp.MustCompile(`msg="executor lost" .*addr=` + victim + `:7071 `)
}

// killMidQuery freezes victim before TPC-H query q starts, kills it
// (SIGKILL) once q has run a while, and checks q's answer and that the
// driver saw the victim go.
func (c *cluster) killMidQuery(sess *flint.Session, victim string, q int) {
	c.t.Helper()
	lost := lostRe(victim)
	before := count(lost, c.driverLog())
	done, id := c.freezeDuring(victim, fmt.Sprintf("Q%d", q), func() error { return runQuery(c.ctx, sess, q) })
	killed := time.Now()
	c.run("kill", id)
	if err := <-done; err != nil {
		c.t.Fatalf("with %s killed mid-query: %v", victim, err)
	}
	if count(lost, c.driverLog()) <= before {
		c.t.Errorf("the driver's log does not say %s was lost", victim)
	}
	c.t.Logf("Q%d answered right %v after %s was killed mid-query", q, time.Since(killed).Round(time.Millisecond), victim)
}

// restart starts a stopped or killed executor's container again and waits
// until it has registered once more and the driver counts two executors.
func (c *cluster) restart(victim string) {
	c.t.Helper()
	n := count(registered, c.compose("logs", "--no-color", victim))
	c.compose("start", victim)
	c.waitRegistered(victim, n+1)
	c.waitTwoExecutors(victim)
}

// waitTwoExecutors waits until the driver's last registration of victim
// counts two executors.
func (c *cluster) waitTwoExecutors(victim string) {
	c.t.Helper()
	back := regexp.MustCompile(`msg="executor registered" .*addr=` + victim + `:7071 .*executors=(\d+)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := back.FindAllStringSubmatch(c.driverLog(), -1)
		if len(m) > 0 && m[len(m)-1][1] == "2" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the driver did not register %s again next to the other executor: %q", victim, m)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pausePastHeartbeat freezes victim while TPC-H query q runs and keeps it
// frozen until the driver declares it lost for want of heartbeats; q must
// still answer right (its tasks rescheduled on the other executor). Then
// the victim thaws, is told to register again, and rejoins.
func (c *cluster) pausePastHeartbeat(sess *flint.Session, victim string, q int) {
	c.t.Helper()
	silent := regexp.MustCompile(`msg="executor lost" .*addr=` + victim + `:7071 reason="no heartbeat for `)
	before := count(silent, c.driverLog())
	n := count(registered, c.compose("logs", "--no-color", victim))
	paused := time.Now()
	done, id := c.freezeDuring(victim, fmt.Sprintf("Q%d", q), func() error { return runQuery(c.ctx, sess, q) })
	if err := <-done; err != nil {
		c.thaw(id)
		c.t.Fatalf("with %s frozen past the heartbeat timeout: %v", victim, err)
	}
	if count(silent, c.driverLog()) <= before {
		c.t.Errorf("the driver did not declare the frozen %s lost for want of heartbeats", victim)
	}
	c.t.Logf("Q%d answered right %v after %s was frozen", q, time.Since(paused).Round(time.Millisecond), victim)
	c.thaw(id)
	c.waitRegistered(victim, n+1)
	c.waitTwoExecutors(victim)
}

// copyQuery is the COPY of the fault test: a join grouped by a key unique
// per line item (so every row once), so that its write tasks, one per
// hash partition, run on both executors.
const copyQuery = `COPY (SELECT DISTINCT l_orderkey, l_linenumber, o_orderdate FROM lineitem JOIN orders ON l_orderkey = o_orderkey)
TO 's3://%s/%s' (FORMAT parquet, MODE overwrite)`

// copyUnderKill runs copyQuery to prefix while victim is frozen, then
// killed: the COPY must succeed and its target hold exactly the source's
// rows, each once, and no file the manifest does not list.
func (c *cluster) copyUnderKill(sess *flint.Session, victim, prefix string, want keySums) {
	c.t.Helper()
	sql := fmt.Sprintf(copyQuery, bucket, prefix)
	lost := lostRe(victim)
	before := count(lost, c.driverLog())
	done, id := c.freezeDuring(victim, "the COPY", func() error {
		res, err := sess.SQL(c.ctx, sql).Collect(c.ctx)
		for _, b := range res {
			b.Release()
		}
		return err
	})
	c.run("kill", id)
	if err := <-done; err != nil {
		c.t.Fatalf("COPY with %s killed mid-write: %v", victim, err)
	}
	if count(lost, c.driverLog()) <= before {
		c.t.Errorf("the driver's log does not say %s was lost", victim)
	}
	loc := "s3://" + bucket + "/" + prefix
	if err := sess.RegisterTable(c.ctx, "copied", "parquet", loc, nil); err != nil {
		c.t.Fatalf("opening the copy: %v", err)
	}
	got, err := sess.SQL(c.ctx, `SELECT count(*) AS n, count(DISTINCT l_orderkey * 8 + l_linenumber) AS keys,
		sum(l_orderkey * 8 + l_linenumber) AS s, count(o_orderdate) AS dated FROM copied`).Collect(c.ctx)
	if err != nil {
		c.t.Fatalf("reading the copy back: %v", err)
	}
	defer func() {
		for _, b := range got {
			b.Release()
		}
	}()
	var row []int64
	for i := 0; len(got) == 1 && got[0].NumRows() == 1 && i < int(got[0].NumCols()); i++ {
		v, ok := got[0].Column(i).(*array.Int64)
		if !ok {
			c.t.Fatalf("reading the copy back: column %d is %s", i, got[0].Column(i).DataType())
		}
		row = append(row, v.Value(0))
	}
	if wantRow := []int64{want.rows, want.rows, want.sum, want.rows}; !slices.Equal(row, wantRow) {
		c.t.Errorf("copy at %s: rows, distinct keys, key sum, dated rows %v; the source has %v", loc, row, wantRow)
	}
	files := c.onlyManifestFiles(prefix)
	c.t.Logf("COPY committed %d rows in %d files, each row once and no other file, with %s killed mid-write", row[0], files, victim)
}

// onlyManifestFiles checks that the objects under prefix are exactly the
// manifest and the files it lists: nothing a killed attempt wrote is left.
// It returns the number of files.
func (c *cluster) onlyManifestFiles(prefix string) int {
	c.t.Helper()
	client := c.s3()
	obj, err := client.GetObject(c.ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + "/" + connectors.ManifestName)})
	if err != nil {
		c.t.Fatalf("the copy's manifest: %v", err)
	}
	var m connectors.Manifest
	err = json.NewDecoder(obj.Body).Decode(&m)
	obj.Body.Close()
	if err != nil {
		c.t.Fatalf("the copy's manifest: %v", err)
	}
	want := []string{connectors.ManifestName}
	for _, f := range m.Files {
		want = append(want, f.Path)
	}
	var got []string
	p := awss3.NewListObjectsV2Paginator(client, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/")})
	for p.HasMorePages() {
		page, err := p.NextPage(c.ctx)
		if err != nil {
			c.t.Fatalf("listing the copy: %v", err)
		}
		for _, o := range page.Contents {
			got = append(got, strings.TrimPrefix(aws.ToString(o.Key), prefix+"/"))
		}
	}
	uploads, err := client.ListMultipartUploads(c.ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/")})
	if err != nil {
		c.t.Fatalf("listing the copy's uploads: %v", err)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) || len(uploads.Uploads) != 0 {
		c.t.Errorf("objects under %s: %q, %d unfinished uploads; want the manifest and its files %q", prefix, got, len(uploads.Uploads), want)
	}
	return len(m.Files)
}

// keySums describes lineitem's keys: its row count and the sum of
// l_orderkey*8 + l_linenumber, a key unique per row.
type keySums struct{ rows, sum int64 }

// sourceKeys reads lineitem's keys from the sample's Parquet file with
// arrow-go's reader directly, not through Flint.
func sourceKeys(t *testing.T) keySums {
	t.Helper()
	tbl, err := resultcmp.ReadParquet(filepath.Join(sampleDir, "lineitem.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	column := func(name string) []int64 {
		idx := tbl.Schema().FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("lineitem has no column %s", name)
		}
		var out []int64
		for _, chunk := range tbl.Column(idx[0]).Data().Chunks() {
			switch a := chunk.(type) {
			case *array.Int64:
				out = append(out, a.Int64Values()...)
			case *array.Int32:
				for _, v := range a.Int32Values() {
					out = append(out, int64(v))
				}
			default:
				t.Fatalf("lineitem.%s is %s", name, chunk.DataType())
			}
		}
		return out
	}
	orders, lines := column("l_orderkey"), column("l_linenumber")
	k := keySums{rows: int64(len(orders))}
	for i := range orders {
		k.sum += orders[i]*8 + lines[i]
	}
	return k
}

// s3 is a client of the compose cluster's S3.
func (c *cluster) s3() *awss3.Client {
	return awss3.New(awss3.Options{
		BaseEndpoint: aws.String("http://" + c.port("s3", 7000)),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		UsePathStyle: true,
	})
}

// composeCommand returns the compose command line, or skips t saying why
// there is none (fails it under FLINT_REQUIRE_DOCKER).
func composeCommand(t *testing.T) []string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := "docker not available: " + fmt.Sprintf(format, args...)
		if os.Getenv("FLINT_REQUIRE_DOCKER") != "" {
			t.Fatal(msg + " (FLINT_REQUIRE_DOCKER is set: the container test must run)")
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("docker"); err != nil {
		unavailable("no docker command on PATH; the container test needs a Docker daemon and docker-compose")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		unavailable("docker info failed (%v): %s", err, bytes.TrimSpace(out))
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	if err := exec.Command("docker", "compose", "version").Run(); err == nil {
		return []string{"docker", "compose"}
	}
	unavailable("neither docker-compose nor the docker compose plugin is installed")
	return nil
}

// buildImages runs deploy/build-images.sh into a temporary context; the
// images are removed when t ends, so that test runs do not pile up images.
// It returns the static flint binary of the image, which runs on the host
// too.
func buildImages(t *testing.T, ctx context.Context) string {
	t.Helper()
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "rmi", flintImage, versitygwImage).CombinedOutput(); err != nil {
			t.Logf("docker rmi: %v\n%s", err, out)
		}
	})
	buildDir := filepath.Join(t.TempDir(), "context")
	cmd := exec.CommandContext(ctx, "./build-images.sh")
	cmd.Env = append(os.Environ(), "FLINT_IMAGE="+flintImage, "VERSITYGW_IMAGE="+versitygwImage, "BUILD_DIR="+buildDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build-images.sh: %v\n%s", err, out)
	}
	return filepath.Join(buildDir, "flint")
}

// checkImage checks the flint image's size and user, and that it runs.
func checkImage(t *testing.T, ctx context.Context) {
	t.Helper()
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "-f", "{{.Size}} {{.Config.User}}", flintImage).CombinedOutput()
	if err != nil {
		t.Fatalf("docker image inspect %s: %v\n%s", flintImage, err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("docker image inspect %s: %q", flintImage, out)
	}
	if size, err := strconv.ParseInt(f[0], 10, 64); err != nil || size >= maxImageBytes {
		t.Errorf("%s is %s bytes, want under %d MiB", flintImage, f[0], maxImageBytes>>20)
	}
	if f[1] != "10001" {
		t.Errorf("%s runs as user %q, want 10001", flintImage, f[1])
	}
	out, err = exec.CommandContext(ctx, "docker", "run", "--rm", flintImage, "--help").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("flint")) {
		t.Errorf("docker run %s --help: %v\n%s", flintImage, err, out)
	}
}

// cluster is a compose project started by up.
type cluster struct {
	t       *testing.T
	ctx     context.Context
	command []string
	env     []string
	// flint is a flint binary to run on the host (flint drivers).
	flint string
	// driverAddrs are the drivers' published addresses; lead is the
	// service that leads.
	driverAddrs map[string]string
	lead        string
}

// up starts deploy/compose.yaml as a project named for this run, on free
// host ports, and takes it down with its volumes when t ends (after
// logging its output if t failed).
func up(t *testing.T, ctx context.Context, compose []string, flintBin string) *cluster {
	// The drivers' host ports are fixed for the run, as a deployment's
	// addresses are: a driver that restarts or rejoins is where the
	// clients were told it is.
	var ports []string
	for _, name := range []string{"FLINT_DRIVER_PORT", "FLINT_DRIVER_2_PORT", "FLINT_DRIVER_3_PORT"} {
		port, err := porttest.Free("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, fmt.Sprintf("%s=%d", name, port))
	}
	c := &cluster{t: t, ctx: ctx, flint: flintBin, driverAddrs: map[string]string{},
		command: append(append([]string(nil), compose...), "-p", project, "-f", "compose.yaml"),
		env: append(append(os.Environ(), ports...), "FLINT_IMAGE="+flintImage, "VERSITYGW_IMAGE="+versitygwImage,
			"FLINT_S3_PORT=0", "FLINT_BIND=127.0.0.1",
			"FLINT_S3_ACCESS_KEY="+accessKey, "FLINT_S3_SECRET_KEY="+secretKey,
			// docker-compose 1.x gives up on a request to the daemon after
			// 60 s by default; a daemon on a busy 2-core machine has
			// taken longer to answer `logs`.
			"COMPOSE_HTTP_TIMEOUT=300")}
	t.Cleanup(func() {
		// Not ctx: the cluster goes even when the test ran out of time.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if t.Failed() {
			out, _ := c.cmd(ctx, "logs", "--no-color", "--tail", "200").CombinedOutput()
			t.Logf("compose logs:\n%s", out)
		}
		if out, err := c.cmd(ctx, "down", "-v", "--remove-orphans", "-t", "2").CombinedOutput(); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	c.compose("up", "-d")
	return c
}

func (c *cluster) cmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.command[0], append(c.command[1:], args...)...)
	cmd.Env = c.env
	return cmd
}

// compose runs a compose subcommand and returns its stdout; it fails the
// test if the command fails. A command that only reads (logs, port, ps)
// is tried again when the daemon was too slow to answer.
func (c *cluster) compose(args ...string) string {
	c.t.Helper()
	for try := 1; ; try++ {
		var stderr bytes.Buffer
		cmd := c.cmd(c.ctx, args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err == nil {
			return string(out)
		}
		readOnly := len(args) > 0 && (args[0] == "logs" || args[0] == "port" || args[0] == "ps")
		if readOnly && try < 3 && c.ctx.Err() == nil && strings.Contains(stderr.String(), "took too long") {
			c.t.Logf("%s %s: the daemon was slow (%v); trying again", strings.Join(c.command, " "), strings.Join(args, " "), err)
			continue
		}
		c.t.Fatalf("%s %s: %v\n%s", strings.Join(c.command, " "), strings.Join(args, " "), err, stderr.Bytes())
	}
}

// run runs docker with args; it fails the test if that fails.
func (c *cluster) run(args ...string) {
	c.t.Helper()
	if out, err := exec.CommandContext(c.ctx, "docker", args...).CombinedOutput(); err != nil {
		c.t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// port is the host address a service's container port is published on.
func (c *cluster) port(service string, port int) string {
	c.t.Helper()
	addr := strings.TrimSpace(c.compose("port", service, strconv.Itoa(port)))
	if addr == "" || strings.HasSuffix(addr, ":0") {
		c.t.Fatalf("%s's port %d is not published (%q)", service, port, addr)
	}
	return addr
}

// container is the ID of a service's container.
func (c *cluster) container(service string) string {
	c.t.Helper()
	id := strings.TrimSpace(c.compose("ps", "-q", service))
	if id == "" {
		c.t.Fatalf("no container for %s", service)
	}
	return id
}

// waitRegistered waits until the service's log holds n registrations
// with the driver (a container's log spans its restarts).
func (c *cluster) waitRegistered(service string, n int) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out := c.compose("logs", "--no-color", service)
		if len(registered.FindAllStringIndex(out, -1)) >= n {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s has not registered with the driver %d time(s) within 60s:\n%s", service, n, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// inspect formats docker inspect of the service's container.
func (c *cluster) inspect(service, format string) string {
	c.t.Helper()
	out, err := exec.CommandContext(c.ctx, "docker", "inspect", "-f", format, c.container(service)).CombinedOutput()
	if err != nil {
		c.t.Fatalf("docker inspect %s: %v\n%s", service, err, out)
	}
	return strings.TrimSpace(string(out))
}

// waitHealth waits until docker reports the service's container healthy
// (its compose health check passed).
func (c *cluster) waitHealth(service string) {
	c.t.Helper()
	id := c.container(service)
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := exec.CommandContext(c.ctx, "docker", "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}no health check{{end}}", id).CombinedOutput()
		state := strings.TrimSpace(string(out))
		if err == nil && state == "healthy" {
			return
		}
		if err != nil || state == "no health check" || time.Now().After(deadline) {
			c.t.Fatalf("%s not healthy within 60s: %s %v", service, state, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitHealthy polls url until it answers 200.
func waitHealthy(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("answered %s", resp.Status)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("S3 at %s not ready within 30s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// load creates the bucket and uploads the TPC-H sample under sf0.01/.
func load(t *testing.T, ctx context.Context, endpoint string) {
	t.Helper()
	client := awss3.New(awss3.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		UsePathStyle: true,
	})
	if _, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("creating bucket %s: %v", bucket, err)
	}
	for _, table := range tpch.Tables {
		data, err := os.ReadFile(filepath.Join(sampleDir, table+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		key := "sf0.01/" + table + ".parquet"
		if _, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))}); err != nil {
			t.Fatalf("uploading s3://%s/%s: %v", bucket, key, err)
		}
	}
}

// runQuery runs TPC-H query q and compares its result with DuckDB's
// answer.
func runQuery(ctx context.Context, s *flint.Session, q int) error {
	want, err := os.Open(filepath.Join(answersDir, fmt.Sprintf("q%02d.csv", q)))
	if err != nil {
		return err
	}
	defer want.Close()
	got, err := s.SQL(ctx, tpch.Query(q)).Collect(ctx)
	if err != nil {
		return fmt.Errorf("Q%d: %w", q, err)
	}
	defer func() {
		for _, b := range got {
			b.Release()
		}
	}()
	if err := resultcmp.CompareCSV(want, got, resultcmp.Options{Ordered: true, CheckNames: true}); err != nil {
		return fmt.Errorf("Q%d: %w", q, err)
	}
	return nil
}
