package retention

import (
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/erasure"
)

// TestStepsInOrder: every owner's step is run once, in the order retention
// decides; a step the order misses, an order entry no owner has and a table
// two owners claim are refused by name.
func TestStepsInOrder(t *testing.T) {
	if len(steps) != len(erasureOrder) {
		t.Fatalf("%d steps for %d names", len(steps), len(erasureOrder))
	}
	for i, st := range steps {
		if st.Table != erasureOrder[i] || !strings.Contains(st.SQL, "RETURNING") {
			t.Errorf("step %d: %q, want %q with RETURNING", i, st.Table, erasureOrder[i])
		}
	}
	a := erasure.Part{Steps: []erasure.Step{{Table: "a", SQL: "x"}, {Table: "b", SQL: "y"}}}
	for _, c := range []struct {
		order []string
		parts []erasure.Part
		want  string
	}{
		{[]string{"a"}, []erasure.Part{a}, "erasure step for b is not in the order"},
		{[]string{"a", "b", "c"}, []erasure.Part{a}, "no erasure step for c"},
		{[]string{"a", "b"}, []erasure.Part{a, {Steps: []erasure.Step{{Table: "a"}}}}, "two erasure steps for a"},
	} {
		if _, err := stepsInOrder(c.order, c.parts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("order %v: %v, want %q", c.order, err, c.want)
		}
	}
	got, err := stepsInOrder([]string{"b", "a"}, []erasure.Part{a})
	if err != nil || got[0].SQL != "y" || got[1].SQL != "x" {
		t.Errorf("b, a: %v %v", got, err)
	}
}
