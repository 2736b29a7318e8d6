package gbdt

import "math"

// kRtEps is XGBoost's kRtEps: a split must reduce the loss by more.
const kRtEps = float32(1e-6)

// gradStats is a sum of gradients and hessians (XGBoost's GradStats).
type gradStats struct{ g, h float64 }

func (a gradStats) sub(b gradStats) gradStats { return gradStats{a.g - b.g, a.h - b.h} }
func (a gradStats) add(b gradStats) gradStats { return gradStats{a.g + b.g, a.h + b.h} }

// splitEntry is the best split found for a node so far (XGBoost's
// SplitEntry).
type splitEntry struct {
	loss        float32 // loss reduction (loss_chg)
	feature     uint32
	defaultLeft bool
	cond        float32 // go left when value < cond
	bin         int32   // go left when bin ≤ bin
	left, right gradStats
}

// needReplace is XGBoost's SplitEntry::NeedReplace: a larger loss
// reduction wins and, on a tie, the lower feature index.
func (s *splitEntry) needReplace(loss float32, feature uint32) bool {
	if math.IsInf(float64(loss), 0) {
		return false
	}
	if s.feature <= feature {
		return loss > s.loss
	}
	return !(s.loss > loss)
}

func (s *splitEntry) update(loss float32, feature uint32, cond float32, bin int32, defaultLeft bool, left, right gradStats) {
	if s.needReplace(loss, feature) {
		*s = splitEntry{loss: loss, feature: feature, defaultLeft: defaultLeft, cond: cond, bin: bin, left: left, right: right}
	}
}

func (s *splitEntry) updateFrom(o *splitEntry) {
	if s.needReplace(o.loss, o.feature) {
		*s = *o
	}
}

// entry is a node that may be split (XGBoost's CPUExpandEntry with the
// evaluator's NodeEntry).
type entry struct {
	nid      int32
	depth    int
	stats    gradStats // the sums of the node's rows
	rootGain float32   // the node's gain unsplit
	split    splitEntry
}

// isValid is CPUExpandEntry::IsValid for depthwise growth.
func (e *entry) isValid(tp *treeParams) bool {
	switch {
	case e.split.loss <= kRtEps,
		e.split.left.h == 0 || e.split.right.h == 0,
		e.split.loss < tp.gamma,
		e.depth == tp.maxDepth:
		return false
	}
	return true
}

// evaluator computes weights and gains as XGBoost's TreeEvaluator without
// monotone or interaction constraints: sums in float64, results in
// float32, the rounding included.
type evaluator struct {
	tp   treeParams
	cuts *Cuts
}

func thresholdL1(w, alpha float64) float64 {
	switch {
	case w > alpha:
		return w - alpha
	case w < -alpha:
		return w + alpha
	}
	return 0
}

// weight is CalcWeight: the optimal leaf weight −T(G, α)/(H + λ), 0 when
// H < min_child_weight, clipped to ±max_delta_step.
func (ev *evaluator) weight(s gradStats) float32 {
	tp := &ev.tp
	if s.h < float64(tp.minChildWeight) || s.h <= 0 {
		return 0
	}
	dw := -thresholdL1(s.g, float64(tp.alpha)) / (s.h + float64(tp.lambda))
	if tp.maxDeltaStep != 0 && math.Abs(dw) > float64(tp.maxDeltaStep) {
		dw = math.Copysign(float64(tp.maxDeltaStep), dw)
	}
	return float32(dw)
}

// gainGivenWeight is the evaluator's CalcGainGivenWeight.
func (ev *evaluator) gainGivenWeight(s gradStats, w float32) float32 {
	tp := &ev.tp
	if s.h <= 0 {
		return 0
	}
	if tp.maxDeltaStep == 0 {
		t := thresholdL1(s.g, float64(tp.alpha))
		return float32(t*t) / float32(s.h+float64(tp.lambda))
	}
	// −(2·G·w + (H + λ)·w²) in float32; the conversions keep Go from
	// fusing a multiply and an add, which XGBoost's build does not do.
	a := float32(float32(2*float32(s.g)) * w)
	b := float32((float32(s.h) + tp.lambda) * float32(w*w))
	return -(a + b)
}

// gain is CalcGain: a node's gain unsplit.
func (ev *evaluator) gain(s gradStats) float32 { return ev.gainGivenWeight(s, ev.weight(s)) }

// splitGain is CalcSplitGain: the gain of the two children. Without
// max_delta_step the gain does not use the weight, which is then not
// computed.
func (ev *evaluator) splitGain(l, r gradStats) float32 {
	if ev.tp.maxDeltaStep == 0 {
		return ev.gainGivenWeight(l, 0) + ev.gainGivenWeight(r, 0)
	}
	return ev.gainGivenWeight(l, ev.weight(l)) + ev.gainGivenWeight(r, ev.weight(r))
}

// evaluate finds e's best split over features, as XGBoost's
// HistEvaluator::EvaluateSplits for numerical features: for each feature,
// a forward scan over the bins with missing values going right, then,
// when the node has rows missing the feature, a backward scan with them
// going left. Features are scanned in ascending order; the best split of
// a scan replaces the best so far by needReplace.
func (ev *evaluator) evaluate(e *entry, h *Histogram, features []int) {
	mcw := float64(ev.tp.minChildWeight)
	parent := e.stats
	for _, f := range features {
		seg := h.feature(f)
		nb := len(seg)/2 - 1
		cuts := ev.cuts.values[f]
		fi := uint32(f)

		var local splitEntry
		var left gradStats
		for i := 0; i < nb; i++ {
			left.g += seg[2*i]
			left.h += seg[2*i+1]
			right := parent.sub(left)
			if left.h >= mcw && right.h >= mcw {
				loss := ev.splitGain(left, right) - e.rootGain
				local.update(loss, fi, cuts[i], int32(i), false, left, right)
			}
		}
		e.split.updateFrom(&local)

		if seg[2*nb] == 0 && seg[2*nb+1] == 0 {
			continue // no row of the node misses f
		}
		local = splitEntry{}
		var right gradStats
		for i := nb - 1; i >= 0; i-- {
			right.g += seg[2*i]
			right.h += seg[2*i+1]
			left := parent.sub(right)
			if left.h >= mcw && right.h >= mcw {
				loss := ev.splitGain(left, right) - e.rootGain
				cond := ev.cuts.minVals[f]
				if i > 0 {
					cond = cuts[i-1]
				}
				local.update(loss, fi, cond, int32(i-1), true, left, right)
			}
		}
		e.split.updateFrom(&local)
	}
}
