package capture

import (
	"os"
	"testing"
)

// TestMain maps capture files whatever the host (MapAlways), as the tests
// of the mapped path expect; TestOpenReadsWhereMappingCostly turns the
// probe back on.
func TestMain(m *testing.M) {
	MapAlways = true
	os.Exit(m.Run())
}
