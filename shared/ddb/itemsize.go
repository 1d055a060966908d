package ddb

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB's limits on what one write may hold.
const (
	maxItemBytes        = 400 * 1024      // one item, attribute names included
	maxTransactionBytes = 4 * 1024 * 1024 // every item of one TransactWriteItems
)

// itemSize is an item's size as DynamoDB counts it against maxItemBytes:
// each attribute's name and value, by the rules in the developer guide
// ("Item sizes and formats").
func itemSize(it map[string]types.AttributeValue) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize is a value's size without its name: UTF-8 bytes for strings,
// raw bytes for binaries, numberSize for numbers, one byte for a boolean or
// null; a list or map is 3 bytes plus a byte and the size of each element
// (and a map its elements' names). Sets, unused here, are counted as lists:
// no less than DynamoDB counts them.
func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for name, e := range v.Value {
			n += 1 + len(name) + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 3
		for _, e := range v.Value {
			n += 1 + len(e)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 3
		for _, e := range v.Value {
			n += 1 + numberSize(e)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 3
		for _, e := range v.Value {
			n += 1 + len(e)
		}
		return n
	}
	return 0
}

// numberSize bounds a number's size from above: its digits as sent (point
// and exponent ignored; DynamoDB also drops leading and trailing zeros), two
// to a byte, plus one, plus one for a minus sign (as DynamoDB Local counts).
func numberSize(s string) int {
	digits := strings.IndexAny(s, "eE")
	if digits < 0 {
		digits = len(s)
	}
	d := 0
	for _, r := range s[:digits] {
		if r >= '0' && r <= '9' {
			d++
		}
	}
	n := (d+1)/2 + 1
	if strings.HasPrefix(s, "-") {
		n++
	}
	return n
}
