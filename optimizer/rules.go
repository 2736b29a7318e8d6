package optimizer

// batch is a list of rules run in order, once or until nothing changes.
type batch struct {
	rules      []Rule
	fixedPoint bool
}

// pipeline is the rule order of Optimize.
//
//  1. Fold constants so later rules see literal TRUE/FALSE; turn ML
//     feature transforms into their fit (aggregations) and apply (joins
//     and projections), so every later rule sees ordinary nodes.
//  2. Decorrelate subqueries into joins (needs the WHERE conjuncts still
//     sitting in the Filter the binder produced).
//  3. Push predicates down: WHERE equalities land in join conditions and
//     turn comma joins into inner joins; outer joins whose nulls a WHERE
//     predicate rejects become inner joins.
//  4. Semi-join reduction of aggregates joined on a group key (needs the
//     scan filters in place; before reordering, which should see the
//     reduced estimates).
//  5. Reorder inner-join graphs by estimated row counts (after pushdown,
//     so scan filters are known), then push again for the conditions the
//     reorder placed.
//  6. Top-N, simplification and column pruning last, on the final shape.
func pipeline() []batch {
	return []batch{
		{rules: []Rule{FoldConstants{}, FitMLTransforms{}, Decorrelate{}}},
		{rules: []Rule{FoldConstants{}, PushDownFilters{}, Simplify{}}, fixedPoint: true},
		{rules: []Rule{ReduceAggregateInput{}}},
		{rules: []Rule{ReorderJoins{}}},
		{rules: []Rule{PushDownFilters{}, TopN{}, Simplify{}}, fixedPoint: true},
		{rules: []Rule{PruneColumns{}, Simplify{}}},
	}
}
