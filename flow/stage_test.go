package flow

import (
	"reflect"
	"testing"

	"github.com/jjflow/jj/decode"
)

// TestPacketHasNoPointers: Stage copies packets and keys with
// non-temporal stores in assembly, which the garbage collector's write
// barrier does not see; a pointer in decode.Packet or Keyed would need the
// barrier.
func TestPacketHasNoPointers(t *testing.T) {
	var walk func(reflect.Type, string)
	var name string
	walk = func(ty reflect.Type, path string) {
		switch ty.Kind() {
		case reflect.Struct:
			for i := range ty.NumField() {
				f := ty.Field(i)
				walk(f.Type, path+"."+f.Name)
			}
		case reflect.Array:
			walk(ty.Elem(), path+"[]")
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		default:
			t.Errorf("%s%s is a %v, which may hold a pointer", name, path, ty.Kind())
		}
	}
	for _, ty := range []reflect.Type{reflect.TypeFor[decode.Packet](), reflect.TypeFor[Keyed]()} {
		name = ty.String()
		walk(ty, "")
	}
}
