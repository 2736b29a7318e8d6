package lightgbm

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// transform is the output transformation of an objective, LightGBM's
// ObjectiveFunction::ConvertOutput.
type transform uint8

const (
	transformIdentity transform = iota
	transformSquare             // regression with "sqrt": sign(x)*x*x
	transformSigmoid            // binary, multiclassova: 1/(1+exp(-s*x))
	transformSoftmax            // multiclass
	transformExp                // poisson, gamma, tweedie
	transformLog1pExp           // cross_entropy_lambda: log(1+exp(x))
)

// objective is what the model's "objective=" line says about the output.
type objective struct {
	name       string // canonical LightGBM name; "custom" when there is none
	transform  transform
	sigmoid    float64 // transformSigmoid's scale
	numClass   int     // multiclass, multiclassova: the objective's num_class
	classifier bool
}

// objectiveAliases maps the aliases LightGBM accepts in a model file to the
// canonical name, as ParseObjectiveAlias does.
var objectiveAliases = map[string]string{
	"regression_l2":                  "regression",
	"mean_squared_error":             "regression",
	"mse":                            "regression",
	"l2":                             "regression",
	"l2_root":                        "regression",
	"root_mean_squared_error":        "regression",
	"rmse":                           "regression",
	"mean_absolute_error":            "regression_l1",
	"l1":                             "regression_l1",
	"mae":                            "regression_l1",
	"softmax":                        "multiclass",
	"multiclass_ova":                 "multiclassova",
	"ova":                            "multiclassova",
	"ovr":                            "multiclassova",
	"xentropy":                       "cross_entropy",
	"xentlambda":                     "cross_entropy_lambda",
	"mean_absolute_percentage_error": "mape",
	"xendcg":                         "rank_xendcg",
	"xe_ndcg":                        "rank_xendcg",
	"xe_ndcg_mart":                   "rank_xendcg",
	"xendcg_mart":                    "rank_xendcg",
	"none":                           "custom",
	"null":                           "custom",
	"na":                             "custom",
}

// parseObjective reads the value of an "objective=" line, for example
// "binary sigmoid:1" or "multiclass num_class:3", the way
// ObjectiveFunction::CreateObjectiveFunction does.
func parseObjective(line string) (objective, error) {
	parts := strings.Fields(line)
	if len(parts) == 0 {
		return objective{}, fmt.Errorf("empty objective")
	}
	name := parts[0]
	if canon, ok := objectiveAliases[name]; ok {
		name = canon
	}
	// Parameters are "key:value" tokens; LightGBM ignores tokens it does
	// not know, and so do we.
	params := map[string]string{}
	hasSqrt := false
	for _, p := range parts[1:] {
		if p == "sqrt" {
			hasSqrt = true
			continue
		}
		if k, v, ok := strings.Cut(p, ":"); ok && !strings.Contains(v, ":") {
			params[k] = v
		}
	}
	sigmoid := func() (float64, error) {
		s, ok := params["sigmoid"]
		if !ok {
			return 0, fmt.Errorf("objective %q needs a sigmoid:<value> parameter", name)
		}
		v, ok := lightgbmAtof(s)
		if !ok || !(v > 0) {
			return 0, fmt.Errorf("objective %q: sigmoid %q must be a number greater than zero", name, s)
		}
		return v, nil
	}
	numClass := func() (int, error) {
		s, ok := params["num_class"]
		if !ok {
			return 0, fmt.Errorf("objective %q needs a num_class:<n> parameter", name)
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return 0, fmt.Errorf("objective %q: num_class %q must be a positive integer", name, s)
		}
		return v, nil
	}

	o := objective{name: name}
	var err error
	switch name {
	case "regression", "regression_l1", "quantile", "mape", "fair":
		// These share RegressionL2loss's ConvertOutput, "sqrt" included.
		if hasSqrt {
			o.transform = transformSquare
		}
	case "huber":
		// Huber drops "sqrt" when it is built from a model file.
	case "poisson", "gamma", "tweedie":
		o.transform = transformExp
	case "binary":
		o.transform = transformSigmoid
		o.classifier = true
		o.sigmoid, err = sigmoid()
	case "multiclass":
		o.transform = transformSoftmax
		o.classifier = true
		o.numClass, err = numClass()
	case "multiclassova":
		o.transform = transformSigmoid
		o.classifier = true
		if o.numClass, err = numClass(); err == nil {
			o.sigmoid, err = sigmoid()
		}
	case "cross_entropy":
		o.transform = transformSigmoid
		o.sigmoid = 1
	case "cross_entropy_lambda":
		o.transform = transformLog1pExp
	case "lambdarank", "rank_xendcg", "custom":
		// Ranking scores and custom objectives are raw scores.
	default:
		return objective{}, fmt.Errorf("unknown objective %q", parts[0])
	}
	if err != nil {
		return objective{}, err
	}
	return o, nil
}

// convert applies the transformation to one row's raw scores in place.
func (o *objective) convert(row []float64) {
	switch o.transform {
	case transformSquare:
		for k, x := range row {
			row[k] = sign(x) * x * x
		}
	case transformSigmoid:
		for k, x := range row {
			row[k] = 1 / (1 + math.Exp(-o.sigmoid*x))
		}
	case transformSoftmax:
		// Common::Softmax, in its order of operations.
		wmax := row[0]
		for _, x := range row[1:] {
			wmax = max(wmax, x)
		}
		wsum := 0.0
		for k, x := range row {
			row[k] = math.Exp(x - wmax)
			wsum += row[k]
		}
		for k := range row {
			row[k] /= wsum
		}
	case transformExp:
		for k, x := range row {
			row[k] = math.Exp(x)
		}
	case transformLog1pExp:
		for k, x := range row {
			row[k] = math.Log1p(math.Exp(x))
		}
	}
}

// sign is Common::Sign: 1, -1 or 0 (also for NaN).
func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// lightgbmAtof parses a number the way LightGBM's Common::Atof does, which
// is how objectives read their parameters (sigmoid:1). It is not correctly
// rounded for every input, so it is reproduced here rather than replaced by
// strconv.ParseFloat. It accepts the whole string or nothing.
func lightgbmAtof(s string) (float64, bool) {
	p := 0
	sign := 1.0
	if p < len(s) && (s[p] == '-' || s[p] == '+') {
		if s[p] == '-' {
			sign = -1
		}
		p++
	}
	if p < len(s) && (isDigit(s[p]) || s[p] == '.' || s[p] == 'e' || s[p] == 'E') {
		value := 0.0
		digits := 0
		for ; p < len(s) && isDigit(s[p]); p++ {
			value = value*10 + float64(s[p]-'0')
			digits++
		}
		if p < len(s) && s[p] == '.' {
			right := 0.0
			nn := 0
			for p++; p < len(s) && isDigit(s[p]); p++ {
				right = float64(s[p]-'0') + right*10
				nn++
			}
			digits += nn
			value += right / lightgbmPow(10, nn)
		}
		if digits == 0 {
			return 0, false
		}
		frac := false
		scale := 1.0
		if p < len(s) && (s[p] == 'e' || s[p] == 'E') {
			p++
			if p < len(s) && (s[p] == '-' || s[p] == '+') {
				frac = s[p] == '-'
				p++
			}
			expon := 0
			expDigits := 0
			for ; p < len(s) && isDigit(s[p]); p++ {
				if expon < 1000 {
					expon = expon*10 + int(s[p]-'0')
				}
				expDigits++
			}
			if expDigits == 0 {
				return 0, false
			}
			expon = min(expon, 308)
			for ; expon >= 50; expon -= 50 {
				scale *= 1e50
			}
			for ; expon >= 8; expon -= 8 {
				scale *= 1e8
			}
			for ; expon > 0; expon-- {
				scale *= 10
			}
		}
		if p != len(s) {
			return 0, false
		}
		if frac {
			return sign * (value / scale), true
		}
		return sign * (value * scale), true
	}
	switch strings.ToLower(s[p:]) {
	case "na", "nan", "null":
		return math.NaN(), true
	case "inf", "infinity":
		return sign * 1e308, true
	}
	return 0, false
}

// lightgbmPow is Common::Pow, whose rounding lightgbmAtof inherits.
func lightgbmPow(base float64, power int) float64 {
	switch {
	case power < 0:
		return 1 / lightgbmPow(base, -power)
	case power == 0:
		return 1
	case power%2 == 0:
		return lightgbmPow(base*base, power/2)
	case power%3 == 0:
		return lightgbmPow(base*base*base, power/3)
	}
	return base * lightgbmPow(base, power-1)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
