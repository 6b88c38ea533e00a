package exposition

// hogsendFamilies are the proxy's own families; docs/monitoring.md § Metrics
// lists them with their labels. Counters kept by the pipeline are read
// through callback gauges of the library and typed here as the counters they
// are.
var hogsendFamilies = index([]Family{
	// The edge (proxy/metrics.go).
	{"hogsend_http_requests_total", "counter", "HTTP requests answered, by route and status."},
	{"hogsend_http_request_duration_seconds", "histogram", "Time from reading a request to its answer, by route."},
	{"hogsend_events_accepted_total", "counter", "Events accepted and made durable, by API."},
	{"hogsend_events_duplicate_total", "counter", "Events acknowledged as duplicates of an accepted one, by API."},
	{"hogsend_capture_batch_events", "histogram", "Events in an accepted capture request."},
	{"hogsend_capture_rejected_total", "counter", "Capture requests refused, by reason."},
	{"hogsend_capture_warnings_total", "counter", "Warnings given to accepted capture requests, by warning."},
	{"hogsend_edge_refused_total", "counter", "Requests and connections refused at the edge, by reason."},
	{"hogsend_panics_total", "counter", "Handler panics recovered."},
	{"hogsend_inflight_bytes", "gauge", "Request bytes reserved from the in-flight budget."},
	{"hogsend_heavy_lanes_busy", "gauge", "Heavy request lanes taken."},
	{"hogsend_dependency_up", "gauge", "1 when the readiness check of a dependency passed at its last run, else 0."},
	{"hogsend_upstream_requests_total", "counter", "Requests passed through to the Hogsend engine, by outcome."},
	{"hogsend_engine_answers_total", "counter", "Native writes that waited for the engine's answer, by outcome."},
	{"hogsend_posthog_passthrough_total", "counter", "Requests passed through to PostHog, by route and answer."},

	// The spool and the ClickHouse writer (internal/app/app.go).
	{"hogsend_spool_bytes", "gauge", "Bytes of spool segments on disk."},
	{"hogsend_spool_max_bytes", "gauge", "HOGSEND_SPOOL_MAX_BYTES, the cap on spool bytes; 0 = none."},
	{"hogsend_spool_disk_free_bytes", "gauge", "Bytes free on the spool's filesystem."},
	{"hogsend_spool_appends_total", "counter", "Records appended to the spool."},
	{"hogsend_spool_fsyncs_total", "counter", "Spool fsyncs."},
	{"hogsend_spool_commit_seconds", "histogram", "Time of a spool group commit (one write and one fsync): the disk's part of an acknowledgement's latency."},
	{"hogsend_spool_backlog_bytes", "gauge", "Spool bytes a consumer has not read yet, by consumer."},
	{"hogsend_clickhouse_insert_batches_total", "counter", "Batches inserted into ClickHouse."},
	{"hogsend_clickhouse_insert_rows_total", "counter", "Rows inserted into ClickHouse."},
	{"hogsend_clickhouse_insert_errors_total", "counter", "Failed ClickHouse inserts, retried."},
	{"hogsend_clickhouse_dead_lettered_total", "counter", "Records ClickHouse refused for good, set aside."},
	{"hogsend_identity_pending_rows", "gauge", "Identity rows of failed writes not yet written."},
	{"hogsend_identity_pending_bytes", "gauge", "Bytes of identity rows not yet written."},
	{"hogsend_identity_touches_total", "counter", "Resolves of a cached contact sent as touches, by result: fresh (the copy held) or stale (resolved in full)."},

	// Conversions (internal/app/conversions.go).
	{"hogsend_conversions_derived_total", "counter", "Conversions derived and queued."},
	{"hogsend_conversions_skipped_total", "counter", "Conversions refused by consent or for lack of a contact."},
	{"hogsend_conversion_clicks_recorded_total", "counter", "Click ids recorded for attribution."},
	{"hogsend_conversion_history_rows_written_total", "counter", "Conversion history rows written."},
	{"hogsend_conversion_history_rows_dropped_total", "counter", "Conversion history rows given up."},
	{"hogsend_conversions_delivered_total", "counter", "Conversions a destination took, by destination."},
	{"hogsend_conversions_failed_total", "counter", "Conversions a destination refused for good, by destination."},
	{"hogsend_conversion_retries_total", "counter", "Conversion attempts to be made again, by destination."},
	{"hogsend_conversion_requests_total", "counter", "Requests sent to a destination, by destination."},
	{"hogsend_conversion_queue_bytes", "gauge", "Bytes queued for a destination, by destination."},
	{"hogsend_conversion_breaker_open", "gauge", "Breaker of a destination: 1 open, 0.5 half-open, 0 closed."},
	{"hogsend_conversion_destination_halted", "gauge", "1 when a destination has stopped delivering, else 0."},

	// The hand-off to the Hogsend engine (internal/app/handoff.go).
	{"hogsend_handoff_delivered_total", "counter", "Calls the engine took."},
	{"hogsend_handoff_retried_total", "counter", "Hand-off attempts to be made again."},
	{"hogsend_handoff_dead_lettered_total", "counter", "Calls the engine refused for good."},
	{"hogsend_handoff_requests_total", "counter", "Requests sent to the engine."},
	{"hogsend_handoff_lag_records", "gauge", "Calls read from the spool and not yet delivered."},
	{"hogsend_handoff_lag_seconds", "gauge", "Age of the oldest call not yet delivered."},
	{"hogsend_handoff_breaker_open", "gauge", "Hand-off breaker: 1 open, 0.5 half-open, 0 closed."},
	{"hogsend_delivery_limit", "gauge", "Requests the hand-off may have in flight now, by consumer: lower while the process is short of CPU."},
	{"hogsend_delivery_rate_limit", "gauge", "Units a second a consumer may send now (the mirror events, the hand-off exchanges): lower while the process is short of CPU (1e9: unbounded)."},

	// The PostHog mirror (internal/app/mirror.go).
	{"hogsend_posthog_mirror_delivered_total", "counter", "Events PostHog took."},
	{"hogsend_posthog_mirror_batches_total", "counter", "Batches PostHog took."},
	{"hogsend_posthog_mirror_retried_total", "counter", "Mirror attempts to be made again."},
	{"hogsend_posthog_mirror_dead_lettered_total", "counter", "Events PostHog refused for good."},
	{"hogsend_posthog_mirror_requests_total", "counter", "Requests sent to PostHog."},
	{"hogsend_posthog_mirror_lag_events", "gauge", "Events read from the spool and not yet delivered."},
	{"hogsend_posthog_mirror_lag_seconds", "gauge", "Age of the oldest event not yet delivered."},
	{"hogsend_posthog_mirror_breaker_open", "gauge", "Mirror breaker: 1 open, 0.5 half-open, 0 closed."},
})
