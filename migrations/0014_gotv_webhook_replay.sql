-- 0014_gotv_webhook_replay: the provider's webhooks are processed once
-- (internal/gotv webhook.go, docs/gotv.md "Webhooks"). A signed webhook
-- captured on the way could otherwise be sent again: an old STOP after the
-- member's START, an old delivery failure flagging a working number.
--
-- One row per event processed: a hash of the hook, the provider's message
-- id (MessageSid) and, for delivery reports, the status (one message has
-- several reports). Kept for the replay window
-- (EBALLOT_WEBHOOK_REPLAY_WINDOW), then deleted: delivery reports older
-- than the window are refused by the send time in their signed URL.
CREATE TABLE gotv_webhook_events (
    event_id    bytea PRIMARY KEY CHECK (length(event_id) = 32),
    received_at timestamptz NOT NULL
);
CREATE INDEX gotv_webhook_events_received ON gotv_webhook_events (received_at);
