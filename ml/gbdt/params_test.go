package gbdt

import (
	"strings"
	"testing"
)

func TestParamsDefaultsAndAliases(t *testing.T) {
	p, err := ParseParams(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Params{Objective: SquaredError, Rounds: 10, Eta: 0.3, MaxDepth: 6, Lambda: 1, MinChildWeight: 1,
		Subsample: 1, ColsampleTree: 1, MaxBin: 256, BaseScore: 0.5}
	if p.Objective != want.Objective || p.Rounds != want.Rounds || p.Eta != want.Eta || p.MaxDepth != want.MaxDepth ||
		p.Lambda != want.Lambda || p.MinChildWeight != want.MinChildWeight || p.Subsample != want.Subsample ||
		p.ColsampleTree != want.ColsampleTree || p.MaxBin != want.MaxBin || p.BaseScore != want.BaseScore ||
		p.Gamma != 0 || p.Alpha != 0 || p.MaxDeltaStep != 0 || p.Seed != 0 || p.EarlyStoppingRounds != 0 {
		t.Errorf("defaults %+v", p)
	}
	p, err = ParseParams(map[string]string{
		"learning_rate": "0.1", "min_split_loss": "2", "reg_lambda": "3", "reg_alpha": "0.5",
		"n_estimators": "7", "random_state": "42", "objective": "multi:softprob", "num_class": "4",
		"class_weights": "[1, 2, 3, 4]", "tree_method": "hist", "grow_policy": "depthwise", "n_jobs": "2",
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Eta != 0.1 || p.Gamma != 2 || p.Lambda != 3 || p.Alpha != 0.5 || p.Rounds != 7 || p.Seed != 42 ||
		p.NumClass != 4 || len(p.ClassWeights) != 4 || p.ClassWeights[3] != 4 || p.Threads != 2 {
		t.Errorf("aliases: %+v", p)
	}
}

func TestBadParams(t *testing.T) {
	for _, tc := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{"colour": "blue"}, `unknown parameter "colour"`},
		{map[string]string{"max_depth": "deep"}, `parameter max_depth: want an integer, got "deep"`},
		{map[string]string{"eta": "fast"}, `parameter eta: want a number, got "fast"`},
		{map[string]string{"objective": "reg:tweedie"}, `objective = "reg:tweedie": want reg:squarederror, binary:logistic or multi:softprob`},
		{map[string]string{"objective": "multi:softprob"}, "num_class = 0: multi:softprob needs num_class between 2 and 16384"},
		{map[string]string{"num_class": "3"}, "num_class = 3: applies to multi:softprob only"},
		{map[string]string{"eta": "0"}, "eta = 0: must be a positive number"},
		{map[string]string{"max_depth": "0"}, "max_depth = 0: must be between 1 and 30"},
		{map[string]string{"max_depth": "31"}, "max_depth = 31: must be between 1 and 30"},
		{map[string]string{"gamma": "-1"}, "gamma = -1: must be ≥ 0"},
		{map[string]string{"lambda": "-0.5"}, "lambda = -0.5: must be ≥ 0"},
		{map[string]string{"alpha": "NaN"}, "alpha = NaN: must be ≥ 0"},
		{map[string]string{"min_child_weight": "-1"}, "min_child_weight = -1: must be ≥ 0"},
		{map[string]string{"subsample": "0"}, "subsample = 0: must be in (0, 1]"},
		{map[string]string{"colsample_bytree": "1.5"}, "colsample_bytree = 1.5: must be in (0, 1]"},
		{map[string]string{"max_bin": "1"}, "max_bin = 1: must be between 2 and 65535"},
		{map[string]string{"num_boost_round": "0"}, "num_boost_round = 0: must be at least 1"},
		{map[string]string{"objective": "binary:logistic", "base_score": "1"}, "base_score = 1: must be in (0, 1) for binary:logistic"},
		{map[string]string{"early_stopping_rounds": "-2"}, "early_stopping_rounds = -2: must be ≥ 0"},
		{map[string]string{"class_weights": "1,2"}, "class_weights = [1 2]: applies to classifiers only"},
		{map[string]string{"objective": "binary:logistic", "class_weights": "1,2,3"}, "want one weight per class, 2, found 3"},
		{map[string]string{"objective": "binary:logistic", "class_weights": "1,-2"}, "the weight of class 1 must be a finite number ≥ 0"},
		{map[string]string{"class_weights": "one"}, "parameter class_weights: want a list of numbers"},
		{map[string]string{"tree_method": "exact"}, `parameter tree_method: want "hist", got "exact"`},
		{map[string]string{"seed": "-1"}, "parameter seed: want a non-negative integer"},
	} {
		_, err := ParseParams(tc.kv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.kv, err, tc.want)
		}
	}
}
