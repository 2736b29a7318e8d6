package binder

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/types"
)

// ml.evaluate(MODEL m, (query) | TABLE t) scores the query with m, as
// ml.predict does, and compares the predictions with the labels in m's
// input_label_cols: one row of metrics, defined as scikit-learn 1.2
// defines them on the same predictions (see ClassifierMetrics and
// RegressorMetrics).
//
// The evaluation is plain SQL over the scored rows, which this file
// writes for the model's kind and binds with a binder of its own against
// one CTE, the Predict node: the rows are scored once and everything
// after is the engine's distributed hash aggregates and a window, so the
// same plan runs locally and on a cluster. Exact ROC AUC (ties count one
// half, as the trapezoids of scikit-learn's ROC curve do) never gathers
// the rows themselves in one place: they are grouped by (class, score)
// with the counts of positives and negatives, a window over each class's
// distinct scores sums the negatives below each score, and
//
//	AUC = Σ_score pos·(neg_below + neg/2) / (P·N)
//
// Classifiers sweep one class (class 1) when binary and every class
// (one-vs-rest) otherwise: the scored rows are repeated once per class
// by a cross join with the class numbers, and the confusion counts, the
// log loss and the label check ride along in the same aggregates. The
// window is partitioned by class, so one task sorts a class's distinct
// scores (as many as the rows at worst, and the window operator spills);
// everything before it is partial and final hash aggregation.

// Output columns of ml.evaluate.
var (
	ClassifierMetrics = []string{"precision", "recall", "accuracy", "f1_score", "log_loss", "roc_auc"}
	RegressorMetrics  = []string{"mean_absolute_error", "mean_squared_error", "r2_score"}
)

// logLossEps is where log loss clips probabilities ([eps, 1-eps]):
// scikit-learn 1.2's default eps="auto", the float64 machine epsilon
// (scikit-learn before 1.2 used 1e-15).
const logLossEps = 0x1p-52

func isEvaluate(name []string) bool {
	return len(name) == 2 && strings.EqualFold(name[0], "ml") && strings.EqualFold(name[1], "evaluate")
}

// bindEvaluate binds ml.evaluate(MODEL name, (query) | TABLE t).
func (b *Binder) bindEvaluate(x *ast.TableFunction, parent *scope, env *cteEnv) (plan.Node, *scope, error) {
	ma, ref, in, names, err := b.bindModelInput(x, "ml.evaluate", parent, env)
	if err != nil {
		return nil, nil, err
	}
	if len(ref.LabelColumns) == 0 {
		return nil, nil, b.errf(ma.At, "%v", noLabelsError(ref))
	}
	n, err := NewEvaluate(b.ids, in, names, ref)
	if err != nil {
		return nil, nil, b.errf(x.Args[1].Pos(), "%v", err)
	}
	out := make([]string, len(n.Schema()))
	for i, c := range n.Schema() {
		out[i] = c.Name
	}
	if len(x.ColumnAliases) > len(out) {
		return nil, nil, b.errf(x.At, "ml.evaluate has %d columns but %d column aliases were given", len(out), len(x.ColumnAliases))
	}
	copy(out, x.ColumnAliases)
	return n, namedScope(n, x.Alias, out), nil
}

func noLabelsError(ref *plan.ModelRef) error {
	return fmt.Errorf("model %s has no input_label_cols: ml.evaluate compares the predictions with the label column CREATE MODEL names, e.g. OPTIONS (..., input_label_cols = ['label'])", ref.Name)
}

// NewEvaluate evaluates the model ref on the rows of in (the SQL
// binder's ml.evaluate and DataFrame.Evaluate): names are in's visible
// column names, which the model's features and its label columns
// (ref.LabelColumns) bind to by name. The result is one row:
// ClassifierMetrics for a classifier, RegressorMetrics for a regressor.
// Rows whose label is NULL are left out. A classifier's labels must be
// class indices 0..NumClasses-1 (numbers or booleans); a row holding any
// other value fails the query with an error naming the model, the column
// and the value.
func NewEvaluate(ids *plan.IDGen, in plan.Node, names []string, ref *plan.ModelRef) (plan.Node, error) {
	if len(ref.LabelColumns) == 0 {
		return nil, noLabelsError(ref)
	}
	classifier := ref.NumClasses >= 2
	switch {
	case classifier && len(ref.LabelColumns) != 1:
		return nil, fmt.Errorf("model %s: input_label_cols names %d columns (%s); a classifier has one label column",
			ref.Name, len(ref.LabelColumns), strings.Join(ref.LabelColumns, ", "))
	case !classifier && len(ref.LabelColumns) != ref.NumOutputs:
		return nil, fmt.Errorf("model %s: input_label_cols names %d columns (%s) for the model's %d outputs; name one label column per output",
			ref.Name, len(ref.LabelColumns), strings.Join(ref.LabelColumns, ", "), ref.NumOutputs)
	}
	if classifier && len(ref.ClassLabels) > 0 {
		var err error
		if in, err = labelsToClasses(ids, in, names, ref); err != nil {
			return nil, err
		}
	}
	sch := in.Schema()
	// The scored rows, as the evaluation query sees them: label j is yj,
	// the other input columns c0, c1, ... (never read).
	cols := make([]string, len(names))
	for i := range cols {
		cols[i] = "c" + strconv.Itoa(i)
	}
	for j, l := range ref.LabelColumns {
		at := -1
		for i, n := range names {
			if !nameEq(n, l) {
				continue
			}
			if at >= 0 {
				return nil, fmt.Errorf("model %s: label column %s is ambiguous: the input has two columns of that name", ref.Name, l)
			}
			at = i
		}
		if at < 0 {
			return nil, fmt.Errorf("model %s: label column %s (input_label_cols) is missing from the input of ml.evaluate (its columns: %s)%s",
				ref.Name, l, strings.Join(names, ", "), suggest(l, names))
		}
		if cols[at] != "c"+strconv.Itoa(at) {
			return nil, fmt.Errorf("model %s: input_label_cols names column %s twice", ref.Name, l)
		}
		t := sch[at].Type
		switch {
		case types.IsNumeric(t) || types.IsNull(t):
		case classifier && t.ID() == types.Boolean.ID():
		case classifier:
			return nil, fmt.Errorf("model %s: label column %s is %s; the labels of a classifier are its class indices 0 to %d, as numbers or booleans",
				ref.Name, l, types.TypeName(t), ref.NumClasses-1)
		default:
			return nil, fmt.Errorf("model %s: label column %s is %s; the labels of a regressor must be numbers", ref.Name, l, types.TypeName(t))
		}
		cols[at] = "y" + strconv.Itoa(j)
	}

	scored, err := NewPredict(ids, in, names, ref, "")
	if err != nil {
		return nil, err
	}
	cols = append(cols, "pred")
	if len(scored.Kinds) > 1 {
		cols = append(cols, "plabel")
	}
	var sql string
	if classifier {
		sql = classifierSQL(ref)
	} else {
		sql = regressorSQL(ref)
	}
	q, err := parser.ParseQuery(sql)
	if err != nil {
		return nil, fmt.Errorf("ml.evaluate of model %s: %v", ref.Name, err)
	}
	eb := New(noTables{}, ids)
	eb.sql = sql
	n, err := eb.bindQuery(q, nil, &cteEnv{name: "scored", node: scored, names: cols})
	if err != nil {
		return nil, fmt.Errorf("ml.evaluate of model %s: %v", ref.Name, err)
	}
	return n, nil
}

// noTables is the catalog of the evaluation query, which reads only its
// CTE.
type noTables struct{}

func (noTables) LookupTable(string) (*plan.TableSource, plan.Node, bool) { return nil, nil, false }
func (noTables) TableNames() []string                                    { return nil }

// floatLit spells f as a DOUBLE literal, exactly.
func floatLit(f float64) string { return strconv.FormatFloat(f, 'e', -1, 64) }

// strLit spells s as a string literal.
func strLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// clip is x clipped to [eps, 1-eps], as scikit-learn's log_loss clips.
func clip(x string) string {
	return fmt.Sprintf("least(greatest(%s, %s), %s)", x, floatLit(logLossEps), floatLit(1-logLossEps))
}

// classifierSQL evaluates a classifier over the CTE scored(y0, pred,
// plabel). The score of class k is the probability of k that log loss
// and ROC AUC read: the prediction of a binary model (the sigmoid of the
// margin for binary:logitraw), element k+1 of the list of a multi-class
// one; models that predict only the class (binary:hinge, multi:softmax)
// have no score, and NULL log loss and AUC.
func classifierSQL(ref *plan.ModelRef) string {
	k := ref.NumClasses
	binary := k == 2
	score := "p" // binary: the probability of class 1
	switch {
	case ref.NumOutputs > 1:
		score = "" // the list: per class below
	case ref.Type == "xgboost" && ref.Objective == "binary:logitraw":
		score = "1 / (1 + exp(-p))"
	case ref.Type == "xgboost" && ref.Objective == "binary:hinge", !binary:
		score = "-"
	}
	hasScore := score != "-"
	// The classes swept: class 1 of a binary model, every class
	// otherwise; first is where per-row sums (hits, loss, the label
	// check) are counted, once per row.
	var classes []string
	first := "0"
	if binary {
		classes, first = []string{"(1)"}, "1"
	} else {
		for c := range k {
			classes = append(classes, fmt.Sprintf("(%d)", c))
		}
	}
	badMsg := fmt.Sprintf("ml.evaluate: model %s: label column %s holds ", ref.Name, ref.LabelColumns[0])
	badMsg2 := fmt.Sprintf(", which is not a class index 0 to %d (the labels of a classifier are integers or booleans)", k-1)

	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("WITH r0 AS (SELECT CAST(y0 AS DOUBLE) AS y, plabel AS l, pred AS p FROM scored WHERE y0 IS NOT NULL),\n")
	// r: the rows with their score (binary) and log loss.
	switch {
	case hasScore && ref.NumOutputs > 1:
		var qs, sel []string
		for c := 1; c <= k; c++ {
			qs = append(qs, fmt.Sprintf("q%d", c))
			sel = append(sel, fmt.Sprintf("%s AS q%d", clip(fmt.Sprintf("p[%d]", c)), c))
		}
		var pick []string
		for c := range k {
			pick = append(pick, fmt.Sprintf("WHEN y = %d THEN q%d", c, c+1))
		}
		w("r1 AS (SELECT y, l, p, %s FROM r0),\n", strings.Join(sel, ", "))
		w("r AS (SELECT y, l, p, -ln(CASE %s END / (%s)) AS lo FROM r1),\n", strings.Join(pick, " "), strings.Join(qs, " + "))
	case hasScore:
		w("r1 AS (SELECT y, l, s, %s AS pc FROM (SELECT y, l, %s AS s FROM r0) t),\n", clip("s"), score)
		w("r AS (SELECT y, l, s, CASE WHEN y = 1 THEN -ln(pc / ((1 - pc) + pc)) ELSE -ln((1 - pc) / ((1 - pc) + pc)) END AS lo FROM r1),\n")
	default:
		w("r AS (SELECT y, l FROM r0),\n")
	}
	// e: each row once per class swept, with its score for that class.
	w("e AS (SELECT c.k AS k, r.y AS y, r.l AS l")
	switch {
	case hasScore && ref.NumOutputs > 1:
		w(", r.p[c.k + 1] AS s, r.lo AS lo")
	case hasScore:
		w(", r.s AS s, r.lo AS lo")
	}
	w(", NOT (r.y >= 0 AND r.y < %d AND r.y = floor(r.y)) AS bad FROM r CROSS JOIN (VALUES %s) AS c(k)),\n", k, strings.Join(classes, ", "))
	// g: per class (and distinct score), the positives and negatives, the
	// confusion counts and the per-row sums.
	w("g AS (SELECT k")
	if hasScore {
		w(", s")
	}
	w(", count(*) FILTER (WHERE y = k) AS pos, count(*) FILTER (WHERE y <> k) AS neg")
	w(", count(*) FILTER (WHERE y = k AND l = k) AS tp, count(*) FILTER (WHERE l = k) AS pp")
	w(", count(*) FILTER (WHERE k = %s AND y = l) AS hit", first)
	if hasScore {
		w(", sum(lo) FILTER (WHERE k = %s) AS lo", first)
	}
	w(", count(*) FILTER (WHERE k = %s AND bad) AS bad, min(y) FILTER (WHERE bad) AS badval FROM e GROUP BY k", first)
	if hasScore {
		w(", s")
	}
	w("),\n")
	src := "g"
	if hasScore {
		// The negatives below each distinct score of the class.
		w("sw AS (SELECT k, pos, neg, tp, pp, hit, lo, bad, badval, coalesce(sum(neg) OVER (PARTITION BY k ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS below FROM g),\n")
		src = "sw"
	}
	// c: per class.
	w("c AS (SELECT k, sum(pos) AS npos, sum(neg) AS nneg, sum(tp) AS tp, sum(pp) AS pp, sum(hit) AS hit, sum(bad) AS bad, min(badval) AS badval")
	if hasScore {
		w(", sum(lo) AS lo, sum(CAST(pos AS DOUBLE) * (CAST(below AS DOUBLE) + CAST(neg AS DOUBLE) / 2)) AS aucnum")
	}
	w(" FROM %s GROUP BY k),\n", src)
	// scikit-learn: precision, recall and F1 are 0 where their
	// denominator is (zero_division=0); F1 from precision and recall.
	w("m AS (SELECT *, CASE WHEN pp > 0 THEN CAST(tp AS DOUBLE) / pp ELSE 0e0 END AS prec, CASE WHEN npos > 0 THEN CAST(tp AS DOUBLE) / npos ELSE 0e0 END AS rec FROM c),\n")
	w("m2 AS (SELECT *, CASE WHEN prec + rec > 0 THEN 2 * prec * rec / (prec + rec) ELSE 0e0 END AS f1, npos + nneg AS n FROM m),\n")
	// f: the metrics. A binary model's precision, recall and F1 are
	// class 1's; a multi-class model's their mean over the classes that
	// occur among the labels or the predictions (average='macro'). AUC
	// needs positives and negatives: of class 1, or of every class.
	var auc, loss string
	if binary {
		w("f AS (SELECT max(prec) AS precision, max(rec) AS recall, max(CAST(hit AS DOUBLE) / n) AS accuracy, max(f1) AS f1_score")
		loss = "max(lo / n)"
		auc = "max(CASE WHEN npos > 0 AND nneg > 0 THEN aucnum / (CAST(npos AS DOUBLE) * nneg) END)"
	} else {
		present := "FILTER (WHERE npos > 0 OR pp > 0)"
		w("f AS (SELECT avg(prec) %s AS precision, avg(rec) %s AS recall, CAST(sum(hit) AS DOUBLE) / max(n) AS accuracy, avg(f1) %s AS f1_score", present, present, present)
		loss = "sum(lo) / max(n)"
		auc = "CASE WHEN count(*) FILTER (WHERE npos = 0 OR nneg = 0) = 0 THEN avg(aucnum / (CAST(npos AS DOUBLE) * nneg)) END"
	}
	if !hasScore {
		loss, auc = "CAST(NULL AS DOUBLE)", "CAST(NULL AS DOUBLE)"
	}
	w(", %s AS log_loss, %s AS roc_auc, sum(bad) AS bad, min(badval) AS badval FROM m2)\n", loss, auc)
	// A label that is no class index fails the query: casting the
	// message to a number is the error SQL has at hand. (The message
	// comes from a join, so that the failing expression the error
	// quotes does not spell it out again.)
	w("SELECT precision, recall, accuracy, f1_score, log_loss, roc_auc FROM f CROSS JOIN (VALUES (%s, %s)) AS t(m1, m2)\n", strLit(badMsg), strLit(badMsg2))
	w("WHERE CAST(CASE WHEN bad > 0 THEN m1 || CAST(badval AS VARCHAR) || m2 ELSE '0' END AS BIGINT) = 0")
	return b.String()
}

// regressorSQL evaluates a regressor over the CTE scored(y0, y1, ...,
// pred): label j against output j, each metric the mean of the
// outputs' (scikit-learn's multioutput='uniform_average'). R² is 1 -
// MSE/var_pop(y): var_pop is Welford's (merged with Chan's formula),
// not Σy² - (Σy)²/n, which cancels catastrophically. Constant labels
// give 1 if the predictions are exact and 0 otherwise, and fewer than
// two rows NULL, as scikit-learn's r2_score does.
func regressorSQL(ref *plan.ModelRef) string {
	nout := len(ref.LabelColumns)
	var sel, notNull, aggs, mae, mse, r2 []string
	for j := range nout {
		p := "pred"
		if ref.NumOutputs > 1 {
			p = fmt.Sprintf("pred[%d]", j+1)
		}
		sel = append(sel, fmt.Sprintf("CAST(y%d AS DOUBLE) AS y%d, %s AS p%d", j, j, p, j))
		notNull = append(notNull, fmt.Sprintf("y%d IS NOT NULL", j))
		aggs = append(aggs, fmt.Sprintf("avg(abs(y%d - p%d)) AS mae%d, avg((y%d - p%d) * (y%d - p%d)) AS mse%d, var_pop(y%d) AS v%d",
			j, j, j, j, j, j, j, j, j, j))
		mae = append(mae, fmt.Sprintf("mae%d", j))
		mse = append(mse, fmt.Sprintf("mse%d", j))
		r2 = append(r2, fmt.Sprintf("CASE WHEN v%d > 0 THEN 1 - mse%d / v%d WHEN mse%d = 0 THEN 1e0 ELSE 0e0 END", j, j, j, j))
	}
	mean := func(xs []string) string {
		if len(xs) == 1 {
			return xs[0]
		}
		return fmt.Sprintf("(%s) / %d", strings.Join(xs, " + "), len(xs))
	}
	return fmt.Sprintf("WITH r AS (SELECT %s FROM scored WHERE %s),\n"+
		"a AS (SELECT count(*) AS n, %s FROM r)\n"+
		"SELECT %s AS mean_absolute_error, %s AS mean_squared_error, CASE WHEN n >= 2 THEN %s END AS r2_score FROM a",
		strings.Join(sel, ", "), strings.Join(notNull, " AND "), strings.Join(aggs, ", "),
		mean(mae), mean(mse), mean(r2))
}
