//go:build !linux

package capture

// mapPopulate is 0: other systems map the pages of a file as they are read.
const mapPopulate = 0

func populate([]byte) {}

func willNeed([]byte) {}

func readsHuge([]byte) bool { return false }

func thpAllowed() bool { return false }

var mappedHuge = func([]byte) bool { return false }

// mapCostly is false: a mapped page costs what its read does.
var mapCostly = func([]byte) bool { return false }
