package fakeposthog

import "fmt"

// flagsBody is the answer both SDK generations read: v2's flags map and the
// legacy featureFlags and featureFlagPayloads (docs/contracts/posthog-capture.md §1.2).
type flagsBody struct {
	Flags                     map[string]flagDetail `json:"flags"`
	FeatureFlags              map[string]any        `json:"featureFlags"`
	FeatureFlagPayloads       map[string]string     `json:"featureFlagPayloads"`
	ErrorsWhileComputingFlags bool                  `json:"errorsWhileComputingFlags"`
	QuotaLimited              []string              `json:"quotaLimited"`
	RequestID                 string                `json:"requestId"`
}

type flagDetail struct {
	Key      string       `json:"key"`
	Enabled  bool         `json:"enabled"`
	Variant  *string      `json:"variant"`
	Reason   flagReason   `json:"reason"`
	Metadata flagMetadata `json:"metadata"`
}

type flagReason struct {
	Code           string `json:"code"`
	ConditionIndex *int   `json:"condition_index"`
	Description    string `json:"description"`
}

type flagMetadata struct {
	ID          int     `json:"id"`
	Version     int     `json:"version"`
	Payload     *string `json:"payload"`
	Description *string `json:"description"`
}

// evaluate answers every flag for distinctID, its override winning; the
// n-th request's id is fixed so answers compare as golden text.
func (b *flagBook) evaluate(distinctID string, n int) flagsBody {
	out := flagsBody{Flags: map[string]flagDetail{}, FeatureFlags: map[string]any{},
		FeatureFlagPayloads: map[string]string{}, QuotaLimited: []string{},
		RequestID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n)}
	for i, key := range b.order {
		v := b.global[key]
		if o, ok := b.person[distinctID][key]; ok {
			v = o
		}
		d := flagDetail{Key: key, Enabled: v.enabled, Reason: reasonFor(v),
			Metadata: flagMetadata{ID: i + 1, Version: 1}}
		if p, ok := b.payloads[key]; ok && v.enabled {
			d.Metadata.Payload = &p
			out.FeatureFlagPayloads[key] = p
		}
		out.FeatureFlags[key] = v.enabled
		if v.variant != "" {
			d.Variant = &v.variant
			out.FeatureFlags[key] = v.variant
		}
		out.Flags[key] = d
	}
	return out
}

func reasonFor(v flagValue) flagReason {
	if !v.enabled {
		return flagReason{Code: "no_condition_match", Description: "No matching condition set"}
	}
	zero := 0
	return flagReason{Code: "condition_match", ConditionIndex: &zero, Description: "Matched condition set 1"}
}
