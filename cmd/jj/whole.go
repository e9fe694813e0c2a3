package main

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// wholeFlag is an int flag that takes a whole number written as one
// (2.0, 2e3) as a config file does, and says plainly what is wrong with
// anything else (1.5, "two").
type wholeFlag struct{ p *int }

// wholeVar defines an int flag, as pflag's IntVarP, that takes 2.0 for 2.
func wholeVar(fl *pflag.FlagSet, p *int, name, short string, value int, usage string) {
	*p = value
	fl.VarP(wholeFlag{p}, name, short, usage)
}

func (w wholeFlag) String() string { return strconv.Itoa(*w.p) }
func (w wholeFlag) Type() string   { return "int" }

func (w wholeFlag) Set(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		*w.p = n
		return nil
	}
	s = strings.TrimSpace(s)
	if s == "" || strings.Trim(s, "0123456789+-._eE") != "" {
		return errors.New("want a whole number") // 4/2 and 0x2 too, which big.Rat reads
	}
	r, ok := new(big.Rat).SetString(s)
	switch {
	case !ok:
		return errors.New("out of range") // 1e100000000
	case !r.IsInt():
		return errors.New("not a whole number")
	case r.Num().IsInt64() && r.Num().Int64() >= math.MinInt && r.Num().Int64() <= math.MaxInt:
		*w.p = int(r.Num().Int64())
		return nil
	}
	return errors.New("out of range")
}
