package flow

import "syscall"

// mapPopulate makes mapAnon allocate its pages at once.
const mapPopulate = syscall.MAP_POPULATE
